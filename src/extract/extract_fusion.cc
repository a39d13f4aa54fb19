// Fusion of two engines' readings of one receipt (ocr.engine
// "tesseract+paddle"): the receipt fields are extracted from each reading
// on its own (ExtractReceipt) and then settled field by field. See
// FuseReceipts in extract.h for the rules.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <vector>

#include "extract_internal.h"
#include "ncbocr/extract.h"
#include "ncbocr/ocr_paddle.h"
#include "ncbocr/parse.h"
#include "ncbocr/util.h"

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
// A total both engines read alike and the receipt's arithmetic arrives at.
constexpr double kAgreedAndSummed = 0.95;

double Agreed(double a, double b) {
  double best = std::max(a, b);
  // To three places, as confidences are reported: two readings at 0.8
  // agreeing make 0.9, the default threshold, not 0.8999999999999999.
  return std::min(1.0, std::round((best + kEnginesAgreeShare * (1 - best)) * 1000) / 1000);
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


// One reading's characters other than spaces, each with whether a space
// came before it and the word it is in.
struct Glyph {
  char c;
  bool space_before;
  int word;
};

std::vector<Glyph> Glyphs(const std::string& s) {
  std::vector<Glyph> g;
  bool space = false;
  int word = 0;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !g.empty();
      continue;
    }
    if (space) ++word;
    g.push_back({c, space, word});
    space = false;
  }
  return g;
}

enum class CharClass { kLetter, kDigit, kOther };

CharClass ClassOf(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (std::isalpha(u)) return CharClass::kLetter;
  if (std::isdigit(u)) return CharClass::kDigit;
  return CharClass::kOther;
}

// Where the readings differ in one character: the second's, except a
// letter against a digit, which the rest of the first's word decides
// ("C0" among letters is CO, "5O0" among digits 500), a sign (&, -)
// against a letter or digit (the sign stands: one engine's is the other's
// blur), and an I against an l.
char ChooseChar(const std::vector<Glyph>& a, size_t i, char b) {
  char c = a[i].c;
  if (std::toupper(static_cast<unsigned char>(c)) == std::toupper(static_cast<unsigned char>(b))) return c;
  if ((c == 'I' && b == 'l') || (c == 'l' && b == 'I')) return c;
  CharClass ca = ClassOf(c), cb = ClassOf(b);
  if (ca == cb) return b;
  if (ca == CharClass::kOther) return c;
  if (cb == CharClass::kOther) return b;
  int letters = 0, digits = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    if (k == i || a[k].word != a[i].word) continue;
    letters += ClassOf(a[k].c) == CharClass::kLetter;
    digits += ClassOf(a[k].c) == CharClass::kDigit;
  }
  if (letters == digits) return b;
  CharClass want = letters > digits ? CharClass::kLetter : CharClass::kDigit;
  return ca == want ? c : b;
}

// The name extraction uses for an engine: the first word of OcrDocument::engine.
std::string EngineWord(const std::string& engine, const std::string& fallback) {
  std::string w = engine.substr(0, engine.find(' '));
  return w.empty() ? fallback : w;
}

}  // namespace

namespace internal {

std::optional<std::string> MergeReadings(const std::string& first, const std::string& second) {
  if (first.size() > kMergeMaxChars || second.size() > kMergeMaxChars) return std::nullopt;
  const std::vector<Glyph> a = Glyphs(first), b = Glyphs(second);
  const size_t n = a.size(), m = b.size();
  if (n == 0 || m == 0) return std::nullopt;
  auto same = [](char x, char y) {
    return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
  };
  // d[i][j]: edits between a's first i glyphs and b's first j, where what
  // b reads before a's text starts costs nothing (semi-global alignment:
  // b's reading may run over into a line before or after the field).
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      d[i][j] = std::min({d[i - 1][j - 1] + (same(a[i - 1].c, b[j - 1].c) ? 0 : 1), d[i - 1][j] + 1,
                          d[i][j - 1] + 1});
    }
  }
  // ... nor what b reads after a's text ends.
  size_t end = 0;
  for (size_t j = 1; j <= m; ++j) {
    if (d[n][j] < d[n][end]) end = j;
  }
  if (4 * static_cast<size_t>(d[n][end]) > n) return std::nullopt;

  // Back from the end of a: each step a pair, a glyph of a alone or of b alone.
  struct Step {
    int i, j;  // -1: none
  };
  std::vector<Step> steps;
  size_t i = n, j = end;
  while (i > 0) {
    if (j > 0 && d[i][j] == d[i - 1][j - 1] + (same(a[i - 1].c, b[j - 1].c) ? 0 : 1)) {
      steps.push_back({static_cast<int>(--i), static_cast<int>(--j)});
    } else if (d[i][j] == d[i - 1][j] + 1) {
      steps.push_back({static_cast<int>(--i), -1});
    } else {
      steps.push_back({-1, static_cast<int>(--j)});
    }
  }
  std::reverse(steps.begin(), steps.end());

  // The words of a that are known words stand as a read them.
  std::vector<bool> known;
  for (size_t k = 0; k < n; ++k) {
    if (k == 0 || a[k].word != a[k - 1].word) {
      std::string w;
      for (size_t e = k; e < n && a[e].word == a[k].word; ++e) w += a[e].c;
      known.push_back(IsKnownWord(w));
    }
  }
  std::string out;
  int last_a = -1;
  for (size_t k = 0; k < steps.size(); ++k) {
    const Step& s = steps[k];
    char c;
    bool space;
    if (s.i < 0 && last_a >= 0) {
      // A glyph of b alone inside a known word of a is dropped.
      size_t next_a = k + 1;
      while (next_a < steps.size() && steps[next_a].i < 0) ++next_a;
      int word = a[static_cast<size_t>(last_a)].word;
      if (next_a < steps.size() && a[static_cast<size_t>(steps[next_a].i)].word == word &&
          known[static_cast<size_t>(word)]) {
        continue;
      }
    }
    if (s.i >= 0 && s.j >= 0 && known[static_cast<size_t>(a[static_cast<size_t>(s.i)].word)]) {
      c = a[static_cast<size_t>(s.i)].c;
      space = a[static_cast<size_t>(s.i)].space_before;
    } else if (s.i >= 0) {
      c = s.j >= 0 ? ChooseChar(a, static_cast<size_t>(s.i), b[static_cast<size_t>(s.j)].c) : a[static_cast<size_t>(s.i)].c;
      space = a[static_cast<size_t>(s.i)].space_before;
    } else {
      c = b[static_cast<size_t>(s.j)].c;
      space = b[static_cast<size_t>(s.j)].space_before;
    }
    if (s.i >= 0) last_a = s.i;
    if (space && !out.empty()) out += ' ';
    out += c;
  }
  return out;
}

}  // namespace internal

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
      // Two engines that read the same amount, which one of the receipt's
      // sums arrives at too: settled, however faint the line each read it
      // on (a smudged TOTAL line is why either was unsure). Not where a
      // rounding adjustment leaves two totals, before and after it: which
      // one the claim is for stays a clerk's call.
      auto rounded = [](const ReceiptFields& r) { return r.rounding && *r.rounding != 0; };
      if (!rounded(a) && !rounded(b) && ArithmeticSupport(*va, a, b) > 0) {
        out.total_amount.confidence = std::max(out.total_amount.confidence, kAgreedAndSummed);
        out.notes.push_back("the receipt's arithmetic arrives at " + fa.value);
      }
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
    } else if (std::optional<std::string> kept = fa.present() && fb.present()
                                                     ? internal::SameNumberButPrefix(fa.value, fb.value)
                                                     : std::nullopt) {
      // Alike, or one engine lost the letters in front (or read junk
      // letters there): the number both read, as sure as the two together.
      if (*kept != fa.value) out.receipt_number = fb;
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
    } else if (fa->present() && fb->present() && internal::AlnumUpper(fa->value) == internal::AlnumUpper(fb->value)) {
      fo->confidence = Agreed(fa->confidence, fb->confidence);
    } else if (fa->present() && fb->present()) {
      if (std::optional<std::string> merged = internal::MergeReadings(fa->value, fb->value)) {
        fo->value = fo == &out.provider_address ? internal::TidyAddressWords(*merged) : *merged;
        fo->confidence = std::max(fa->confidence, fb->confidence);
        out.notes.push_back(std::string(what) + ": " + na + "'s and " + nb + "'s readings merged");
      }
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

// At most this many of a page's first lines are read again for the name
// and address. Measured with eval (unsettled+header, 250 dev receipts, whose
// headers hold 9.5 lines on average): 15, 10 and 8 lines gave the same
// figures; 6 one more company and address right on the tuning 200, the
// hold-out alike (measured again on 2026-12-03, with the receipt-number
// line added: again one more of each), for a quarter fewer lines than 8
// (bench: 1.52 s a receipt with 8, see README). A logo line, a name over
// two lines and three address lines fit.
constexpr size_t kHeaderLinesReadAgain = 6;

// What the second engine may leave unread of a whole page (KnownLines):
// rows below the first 8 lines that the first engine read at a confidence
// of 0.8 or more and that settle no field (SettlesNothing). Measured with
// eval on the 250 dev receipts' cached readings (unsettled+header; rows
// dropped from paddle's full readings as RegionsToRead would), lines
// without a digit alone: 8 lines and 0.8, 14.5% less recognition width and
// the same figures on the tuning 200 and the hold-out 50; 0.6, 18% less and
// one total lost on the tuning set; any confidence, 21% less and three
// totals lost. With digit lines that hold no amount, date or number label
// too: 20% less, the same figures (tuning company one more right); at 6
// lines 22%, but tuning address 0.665 to 0.655; at 0.7, 24%, but a tuning
// total and date and a hold-out date lost.
constexpr int kKnownHeaderLines = 8;
constexpr double kKnownLineConfidence = 0.8;

std::vector<std::vector<int>> HeaderLines(const OcrDocument& first) {
  std::vector<std::vector<int>> out(first.pages.size());
  for (size_t p = 0; p < first.pages.size(); ++p) {
    const auto& lines = first.pages[p].lines;
    for (size_t i = 0; i < lines.size() && i < kHeaderLinesReadAgain; ++i) {
      if (internal::EndsHeader(lines[i].text)) break;
      if (lines[i].box.w > 0 && lines[i].box.h > 0) out[p].push_back(static_cast<int>(i));
    }
  }
  return out;
}

namespace {

// Letters and digits, capitals, an O as a 0: how a number is looked for
// in a line (the engines read a 0 as an O and back).
std::string NumberKey(const std::string& v) {
  std::string n = internal::AlnumUpper(v);
  std::replace(n.begin(), n.end(), 'O', '0');
  return n;
}

// Shorter numbers are found in too many lines by chance.
constexpr size_t kNumberLineMinChars = 5;

}  // namespace

std::optional<std::pair<size_t, size_t>> NumberLine(const OcrDocument& doc, const std::string& number) {
  const std::string key = NumberKey(number);
  if (key.size() < kNumberLineMinChars) return std::nullopt;
  for (size_t p = 0; p < doc.pages.size(); ++p) {
    const auto& lines = doc.pages[p].lines;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (NumberKey(lines[i].text).find(key) != std::string::npos) return std::pair{p, i};
    }
  }
  return std::nullopt;
}

namespace {

// A line no field is read from: no digit, or digits but no amount, no date,
// no receipt number and no money label ("Tel: 03-4100 2200", "Total Qty
// 2"; but "Total Sales (Inclusive of GST) 64. a" is a total whose amount
// was misread).
bool SettlesNothing(const std::string& text) {
  if (std::none_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) return true;
  if (!FindAmounts(text).empty() || !FindDates(text, Date{1990, 1, 1}, Date{2100, 1, 1}).empty() ||
      internal::HasMoneyLabel(text)) {
    return false;
  }
  internal::Line line;
  line.text = internal::FixDigitConfusions(text);
  line.confidence = 1;
  ReceiptFields r;
  internal::ExtractReceiptNumber({line}, r);
  return !r.receipt_number.present();
}

// Per page of the first reading, its lines for the second engine
// (OcrEngine::set_known_lines): sure where read at kKnownLineConfidence
// and SettlesNothing; the first kKnownHeaderLines read whatever.
std::vector<KnownPage> KnownLines(const OcrDocument& first) {
  std::vector<KnownPage> out;
  for (const OcrPage& page : first.pages) {
    KnownPage k;
    k.width = page.width;
    k.height = page.height;
    int seen = 0;
    for (const OcrLine& l : page.lines) {
      if (Trim(l.text).empty() || l.box.w <= 0 || l.box.h <= 0) continue;
      if (seen++ < kKnownHeaderLines) k.read_above = std::max(k.read_above, l.box.y + l.box.h);
      const bool sure = l.confidence >= kKnownLineConfidence && SettlesNothing(l.text);
      k.lines.push_back({l.box, sure});
    }
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace

SecondReading SecondReadingFor(const OcrDocument& first, const std::string& mode, const ExtractConfig& config,
                               const Date& today) {
  SecondReading r;
  const ReceiptFields fields = ExtractReceipt(first, today);
  const double confident = config.high_confidence_threshold;
  if (mode == "always") return r;
  if (ReceiptUnsettled(fields, confident)) {
    r.known = KnownLines(first);
    return r;
  }
  r.whole = false;
  if (mode != "unsettled+header") return r;
  r.lines = HeaderLines(first);
  // A receipt number the first reading is unsure of: its line too, so
  // that the second engine can confirm it.
  const Field& number = fields.receipt_number;
  if (number.present() && number.confidence < confident) {
    if (auto at = NumberLine(first, number.value); at && first.pages[at->first].lines[at->second].box.w > 0) {
      auto& page = r.lines[at->first];
      const int i = static_cast<int>(at->second);
      if (std::find(page.begin(), page.end(), i) == page.end()) page.insert(std::upper_bound(page.begin(), page.end(), i), i);
    }
  }
  return r;
}

EngineFactory ConfiguredEngineFactory(const Config& config) {
  const OcrConfig ocr = config.ocr;
  SecondReadingWanted wanted;
  if (ocr.second_reading != "always") {
    wanted = [x = config.extract, mode = ocr.second_reading](const OcrDocument& d) {
      return SecondReadingFor(d, mode, x, Today());
    };
  }
  return [ocr, wanted] { return MakeOcrEngine(ocr, wanted); };
}

namespace {

// A receipt number `found` in one engine's reading that the other's text
// holds too, the same letters and digits (NumberLine): the other read it,
// so `missing`, when empty, becomes it, as sure as the surer of the two.
void ConfirmNumber(const Field& found, const OcrDocument& in, Field& missing) {
  if (!found.present() || missing.present()) return;
  auto at = NumberLine(in, found.value);
  // The other engine lost the capitals in front ("R000110133" read
  // "000110133"): its digits confirm the number.
  if (!at) {
    if (auto rest = internal::NumberWithoutLetterPrefix(found.value)) at = NumberLine(in, *rest);
  }
  if (at) {
    missing = found;
    missing.confidence = std::max(found.confidence, in.pages[at->first].lines[at->second].confidence);
  }
}

}  // namespace

ReceiptFields ExtractReceiptReadings(const OcrDocument& doc, const Date& today, double confident) {
  ReceiptFields first = ExtractReceipt(doc, today);
  if (doc.second.empty()) return first;
  const OcrDocument& other = doc.second.front();
  ReceiptFields second = ExtractReceipt(other, today);
  if (other.scope == "lines") {
    // Some lines read again: the header's, whose name and address count,
    // and the line of a receipt number the first reading was unsure of
    // (SecondReadingFor), which confirms the number. A date or number the
    // header lines happen to hold was read in full by the first engine's
    // settled reading, and is left to it.
    ReceiptFields lines;
    ConfirmNumber(first.receipt_number, other, lines.receipt_number);
    // The number's line is no part of the name and address, unless it is
    // one of the header's own lines (a number an address line also holds).
    std::optional<std::pair<size_t, size_t>> at;
    if (first.receipt_number.present()) at = NumberLine(doc, first.receipt_number.value);
    if (at && at->first < other.pages.size()) {
      const std::vector<int> head = HeaderLines(doc)[at->first];
      const OcrBox& box = doc.pages[at->first].lines[at->second].box;
      OcrDocument header = other;
      auto& again = header.pages[at->first].lines;
      auto it = std::find_if(again.begin(), again.end(), [&box](const OcrLine& l) {
        return l.box.x == box.x && l.box.y == box.y && l.box.w == box.w && l.box.h == box.h;
      });
      if (it != again.end() && std::find(head.begin(), head.end(), static_cast<int>(at->second)) == head.end()) {
        again.erase(it);
        second = ExtractReceipt(header, today);
      }
    }
    lines.provider_name = second.provider_name;
    lines.provider_address = second.provider_address;
    second = std::move(lines);
  } else {
    // A number one engine found and the other did not: its label or the
    // date beside it misread, the number itself perhaps read alike.
    ConfirmNumber(first.receipt_number, other, second.receipt_number);
    ConfirmNumber(second.receipt_number, doc, first.receipt_number);
  }
  FusionNames names{EngineWord(doc.engine, "first engine"), EngineWord(other.engine, "second engine")};
  return FuseReceipts(first, second, names, confident);
}

}  // namespace ncbocr
