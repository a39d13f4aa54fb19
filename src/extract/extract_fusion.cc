// Fusion of two engines' readings of one receipt (ocr.engine
// "tesseract+paddle"): the receipt fields are extracted from each reading
// on its own (ExtractReceipt) and then settled field by field. See
// FuseReceipts in extract.h for the rules.
#include <algorithm>
#include <cctype>

#include "ncbocr/extract.h"
#include "ncbocr/ocr_paddle.h"

namespace ncbocr {

namespace {

// Two engines reading the same value: half the doubt left goes. The two
// engines see the same pixels, so their agreement is weaker evidence than
// two independent sources (extract.cc's Corroborated adds 0.05 more): a
// field read with a total label alone by both (0.88) reaches 0.94, above
// the default submit threshold (0.90); a value only the arithmetic points
// at (0.75) stays below it (0.875).
constexpr double kEnginesAgreeShare = 0.5;

// A value the two engines read differently, settled without the receipt's
// arithmetic taking a side: kept below the default submit threshold, so
// that a clerk sees it unless the email confirms it.
constexpr double kDisputedConfidence = 0.85;

double Agreed(double a, double b) {
  double best = std::max(a, b);
  return std::min(1.0, best + kEnginesAgreeShare * (1 - best));
}

std::string AlnumUpper(const std::string& v) {
  std::string n;
  for (unsigned char c : v) {
    if (std::isalnum(c)) n += static_cast<char>(std::toupper(c));
  }
  return n;
}

// How many of the receipt's sums arrive at `total`, with the figures of
// either reading: subtotal + tax + rounding, cash - change, the items.
int ArithmeticSupport(Cents total, const ReceiptFields& a, const ReceiptFields& b) {
  auto items_sum = [](const ReceiptFields& r) -> std::optional<Cents> {
    if (r.items.size() < 2) return std::nullopt;  // one item "sums" to anything it is read as
    Cents s = 0;
    for (const auto& i : r.items) {
      std::optional<Cents> c = ParseAmount(i.amount);
      if (!c) return std::nullopt;
      s += *c;
    }
    return s;
  };
  bool by_subtotal = false, by_cash = false, by_items = false;
  for (const ReceiptFields* r : {&a, &b}) {
    if (r->subtotal && r->subtotal != total) {
      Cents s = *r->subtotal + r->tax.value_or(0) + r->rounding.value_or(0);
      by_subtotal |= s == total;
    }
    if (r->cash && r->change && *r->change > 0) by_cash |= *r->cash - *r->change == total;
    std::optional<Cents> items = items_sum(*r);
    by_items |= items && *items == total;
  }
  return by_subtotal + by_cash + by_items;
}

// The name extraction uses for an engine: the first word of OcrDocument::engine.
std::string EngineWord(const std::string& engine, const std::string& fallback) {
  std::string w = engine.substr(0, engine.find(' '));
  return w.empty() ? fallback : w;
}

}  // namespace

ReceiptFields FuseReceipts(const ReceiptFields& a, const ReceiptFields& b, const FusionNames& names,
                           double confident) {
  ReceiptFields out = a;
  const std::string& na = names.first;
  const std::string& nb = names.second;
  auto only_second = [&](Field& f, const Field& from, const std::string& what) {
    f = from;
    out.notes.push_back(what + " read by " + nb + " only");
  };

  // The total: the receipt's arithmetic is the evidence.
  {
    const Field &fa = a.total_amount, &fb = b.total_amount;
    std::optional<Cents> va = ParseAmount(fa.value), vb = ParseAmount(fb.value);
    if (!va && vb) {
      only_second(out.total_amount, fb, "total");
      out.subtotal = b.subtotal, out.tax = b.tax, out.rounding = b.rounding;
      out.cash = b.cash, out.change = b.change;
      if (out.items.empty()) out.items = b.items;
    } else if (va && vb && *va == *vb) {
      out.total_amount.confidence = Agreed(fa.confidence, fb.confidence);
      out.notes.push_back("total " + fa.value + " read alike by " + na + " and " + nb);
    } else if (va && vb) {
      int sa = ArithmeticSupport(*va, a, b), sb = ArithmeticSupport(*vb, a, b);
      bool take_b = sb > sa || (sb == sa && fb.confidence > fa.confidence);
      const Field& win = take_b ? fb : fa;
      out.total_amount = win;
      if (take_b) {
        out.subtotal = b.subtotal, out.tax = b.tax, out.rounding = b.rounding;
        out.cash = b.cash, out.change = b.change;
      }
      const std::string reason = "total: " + na + " read " + fa.value + ", " + nb + " " + fb.value;
      if (fa.confidence >= confident && fb.confidence >= confident) {
        out.conflicts.push_back(reason);
      } else if (sa == sb) {
        out.total_amount.confidence = std::min(win.confidence, kDisputedConfidence);
        out.problems.push_back(reason);
      } else {
        out.notes.push_back(reason + "; the receipt's arithmetic supports " + win.value);
      }
    }
  }

  // The date: no arithmetic to weigh, so the surer reading wins, and a
  // disagreement leaves doubt.
  {
    const Field &fa = a.service_date, &fb = b.service_date;
    if (!fa.present() && fb.present()) {
      only_second(out.service_date, fb, "service date");
    } else if (fa.present() && fb.present() && fa.value == fb.value) {
      out.service_date.confidence = Agreed(fa.confidence, fb.confidence);
    } else if (fa.present() && fb.present()) {
      const std::string reason = "service date: " + na + " read " + fa.value + ", " + nb + " " + fb.value;
      if (fb.confidence > fa.confidence) out.service_date = fb;
      if (fa.confidence >= confident && fb.confidence >= confident) {
        out.conflicts.push_back(reason);
      } else {
        out.service_date.confidence = std::min(out.service_date.confidence, kDisputedConfidence);
        out.problems.push_back(reason);
      }
    }
  }

  // The receipt number: compared on letters and digits (one engine drops
  // the spaces and dashes another keeps).
  {
    const Field &fa = a.receipt_number, &fb = b.receipt_number;
    if (!fa.present() && fb.present()) {
      only_second(out.receipt_number, fb, "receipt number");
    } else if (fa.present() && fb.present() && AlnumUpper(fa.value) == AlnumUpper(fb.value)) {
      out.receipt_number.confidence = Agreed(fa.confidence, fb.confidence);
    } else if (fa.present() && fb.present()) {
      if (fb.confidence > fa.confidence) out.receipt_number = fb;
      out.receipt_number.confidence = std::min(out.receipt_number.confidence, kDisputedConfidence);
      out.problems.push_back("receipt number: " + na + " read " + fa.value + ", " + nb + " " + fb.value);
    }
  }

  // Name and address: the first engine keeps word spaces the second often
  // drops, so its text stands when it has one; agreement (ignoring spaces)
  // raises confidence, and a name only the second read fills the gap.
  for (auto [fa, fb, fo, what] :
       {std::tuple{&a.provider_name, &b.provider_name, &out.provider_name, "provider name"},
        std::tuple{&a.provider_address, &b.provider_address, &out.provider_address, "provider address"}}) {
    if (!fa->present() && fb->present()) {
      only_second(*fo, *fb, what);
    } else if (fa->present() && fb->present() && AlnumUpper(fa->value) == AlnumUpper(fb->value)) {
      fo->confidence = Agreed(fa->confidence, fb->confidence);
    }
  }

  // The tax fields and currency: the first reading's, else the second's.
  if (!out.sst_amount.present()) out.sst_amount = b.sst_amount;
  if (!out.gst_amount.present()) out.gst_amount = b.gst_amount;
  if (!out.currency.present()) out.currency = b.currency;
  return out;
}

bool ReceiptUnsettled(const ReceiptFields& r, double confident) {
  return !r.total_amount.present() || r.total_amount.confidence < confident || !r.service_date.present() ||
         r.service_date.confidence < confident;
}

bool FirstReadingUnsettled(const OcrDocument& first, const ExtractConfig& config, const Date& today) {
  return ReceiptUnsettled(ExtractReceipt(first, today), config.high_confidence_threshold);
}

EngineFactory ConfiguredEngineFactory(const Config& config) {
  const OcrConfig ocr = config.ocr;
  SecondReadingWanted wanted;
  if (ocr.second_reading == "unsettled") {
    wanted = [x = config.extract](const OcrDocument& d) { return FirstReadingUnsettled(d, x, Today()); };
  }
  return [ocr, wanted] { return MakeOcrEngine(ocr, wanted); };
}

ReceiptFields ExtractReceiptReadings(const OcrDocument& doc, const Date& today, double confident) {
  ReceiptFields first = ExtractReceipt(doc, today);
  if (doc.second.empty()) return first;
  const OcrDocument& other = doc.second.front();
  ReceiptFields second = ExtractReceipt(other, today);
  FusionNames names{EngineWord(doc.engine, "first engine"), EngineWord(other.engine, "second engine")};
  return FuseReceipts(first, second, names, confident);
}

}  // namespace ncbocr
