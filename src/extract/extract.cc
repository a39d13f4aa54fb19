// ExtractReceipt, the merge of receipt and email, confidence and routing,
// and the JSON of an extraction.
#include "ncbocr/extract.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "extract/extract_internal.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace internal {

double Line::ConfidenceOf(size_t b, size_t e) const {
  double c = 1.0;
  bool any = false;
  for (const auto& w : words) {
    if (w.begin < e && w.end > b) {
      c = std::min(c, w.confidence);
      any = true;
    }
  }
  return any ? c : confidence;
}

int CountAlphaChars(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += std::isalpha(c) != 0;
  return n;
}

std::string FixDigitConfusions(const std::string& s) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  auto sep = [](char c) { return c == '.' || c == ',' || c == '/' || c == '-' || c == ':'; };
  std::string out = s;
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    char to = 0;
    if (c == 'O' || c == 'o' || c == 'Q' || c == 'D') to = '0';
    else if (c == 'l' || c == 'I' || c == '|' || c == '!') to = '1';
    if (!to) continue;
    char l = i > 0 ? out[i - 1] : ' ', r = i + 1 < out.size() ? out[i + 1] : ' ';
    if ((digit(l) && (digit(r) || sep(r))) || (digit(r) && sep(l) && i > 1 && digit(out[i - 2]))) {
      out[i] = to;
    }
  }
  return out;
}

std::vector<Line> BuildLines(const OcrDocument& doc) {
  std::vector<Line> out;
  for (const auto& page : doc.pages) {
    // Rows: Tesseract sometimes returns a label and its amount, printed on
    // one row, as two lines; boxes tell us they share the row.
    struct Row {
      std::vector<const OcrWord*> words;
      OcrBox box;
      const OcrLine* only = nullptr;
      std::vector<const OcrLine*> members;
    };
    std::vector<Row> rows;
    for (const auto& l : page.lines) {
      bool boxed = l.box.h > 0 && !l.words.empty();
      Row* target = nullptr;
      if (boxed) {
        for (size_t k = rows.size(); k-- > 0 && k + 3 >= rows.size();) {
          Row& r = rows[k];
          if (r.box.h <= 0) continue;
          int top = std::max(r.box.y, l.box.y), bot = std::min(r.box.y + r.box.h, l.box.y + l.box.h);
          int overlap = bot - top;
          bool hdisjoint = l.box.x >= r.box.x + r.box.w - 2 || l.box.x + l.box.w <= r.box.x + 2;
          if (overlap * 10 >= std::min(r.box.h, l.box.h) * 6 && hdisjoint) {
            target = &r;
            break;
          }
        }
      }
      if (!target) {
        rows.push_back({});
        rows.back().members.push_back(&l);
        target = &rows.back();
        target->box = l.box;
        target->only = &l;
      } else {
        target->members.push_back(&l);
        int x0 = std::min(target->box.x, l.box.x), y0 = std::min(target->box.y, l.box.y);
        int x1 = std::max(target->box.x + target->box.w, l.box.x + l.box.w);
        int y1 = std::max(target->box.y + target->box.h, l.box.y + l.box.h);
        target->box = {x0, y0, x1 - x0, y1 - y0};
        if (target->only) {
          for (const auto& w : target->only->words) target->words.push_back(&w);
          target->only = nullptr;
        }
      }
      if (!target->only) {
        for (const auto& w : l.words) target->words.push_back(&w);
      }
    }
    for (auto& r : rows) {
      Line line;
      line.page = page.index;
      if (r.only && r.only->words.empty()) {
        line.text = r.only->text;
        line.confidence = r.only->confidence;
      } else {
        if (r.only) {
          for (const auto& w : r.only->words) r.words.push_back(&w);
        }
        std::stable_sort(r.words.begin(), r.words.end(),
                         [](const OcrWord* a, const OcrWord* b) { return a->box.x < b->box.x; });
        double s = 0;
        for (const OcrWord* w : r.words) {
          if (!line.text.empty()) line.text += ' ';
          size_t b = line.text.size();
          line.text += w->text;
          line.words.push_back({b, line.text.size(), w->confidence});
          s += w->confidence;
        }
        line.confidence = r.words.empty() ? 0 : s / r.words.size();
      }
      line.text = FixDigitConfusions(line.text);
      // The second reading of the row: its lines' alternates, left to right;
      // only when every part that has an amount was read twice.
      std::vector<const OcrLine*> parts = r.members;
      std::stable_sort(parts.begin(), parts.end(),
                       [](const OcrLine* a, const OcrLine* b) { return a->box.x < b->box.x; });
      std::string alt;
      double alt_conf = 1.0;
      bool whole = true;
      for (const OcrLine* m : parts) {
        if (m->alt.empty()) {
          whole &= FindAmounts(m->text).empty();
          if (!alt.empty()) alt += ' ';
          alt += m->text;
          continue;
        }
        if (!alt.empty()) alt += ' ';
        alt += m->alt;
        alt_conf = std::min(alt_conf, m->alt_confidence);
      }
      bool any_alt = std::any_of(parts.begin(), parts.end(), [](const OcrLine* m) { return !m->alt.empty(); });
      if (any_alt && whole) {
        line.alt = FixDigitConfusions(alt);
        line.alt_confidence = alt_conf;
      }
      if (!Trim(line.text).empty()) out.push_back(std::move(line));
    }
  }
  return out;
}

}  // namespace internal

void Field::AddPage(int page) {
  auto at = std::lower_bound(pages.begin(), pages.end(), page);
  if (at == pages.end() || *at != page) pages.insert(at, page);
}

ReceiptFields ExtractReceipt(const OcrDocument& doc, const Date& today) {
  ReceiptFields r;
  std::vector<internal::Line> lines = internal::BuildLines(doc);
  internal::ExtractHeader(lines, r);
  internal::ExtractReceiptNumber(lines, r);
  internal::ExtractDate(lines, today, r);
  internal::ExtractMoney(lines, r);
  return r;
}

double SampleValue(const std::string& claim_id) {
  // FNV-1a: stable across platforms and runs, unlike std::hash.
  unsigned long long h = 1469598103934665603ULL;
  for (unsigned char c : claim_id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);
}

namespace {

// Loose comparison of provider names: one's words mostly inside the other's.
bool NamesAgree(const std::string& a, const std::string& b) {
  std::string na = NormalizeForMatch(a), nb = NormalizeForMatch(b);
  if (na.empty() || nb.empty()) return false;
  return na.find(nb) != std::string::npos || nb.find(na) != std::string::npos;
}

// A value the member stated in the email, set against the receipt's.
struct Statement {
  std::string value;          // the stated value, written as the field holds it
  bool agrees;                // the receipt's value says the same
  double agreed_confidence;   // the field's confidence when they agree
  std::string email_only;     // noted when only the email gives it; "" for no note
  std::string contradiction;  // the blocking reason when they differ
};

// The email's word on a field: fills it when the receipt lacks it, raises
// its confidence when they agree, and leaves a disagreement for a clerk.
constexpr double kEmailOnlyConfidence = 0.6;     // the member's word alone
constexpr double kContradictedConfidence = 0.5;  // receipt and email differ

void Reconcile(const Statement& s, Field& field, std::vector<std::string>& why,
               std::vector<std::string>& blocking) {
  if (!field.present()) {
    field = {s.value, kEmailOnlyConfidence, "email"};
    if (!s.email_only.empty()) why.push_back(s.email_only);
  } else if (s.agrees) {
    field.confidence = s.agreed_confidence;
    field.source = "both";
  } else {
    field.confidence = std::min(field.confidence, kContradictedConfidence);
    blocking.push_back(s.contradiction);
  }
}

// Two independent sources agreeing on a number or a date: half the doubt
// left goes, and a little more.
double Corroborated(double confidence) {
  return std::min(1.0, confidence + 0.5 * (1 - confidence) + 0.05);
}

}  // namespace

Extraction Combine(const ReceiptFields& r, const std::optional<EmailFields>& e,
                   const ExtractConfig& config, const ExtractOptions& options) {
  Extraction x;
  x.items = r.items;
  x.notes = r.notes;
  auto& f = x.fields;
  f["provider_name"] = r.provider_name;
  f["provider_address"] = r.provider_address;
  f["service_date"] = r.service_date;
  f["receipt_number"] = r.receipt_number;
  f["total_amount"] = r.total_amount;
  f["currency"] = r.currency;
  f["sst_amount"] = r.sst_amount;
  f["gst_amount"] = r.gst_amount;
  f["member_id"] = e ? e->member_id : Field{};
  f["member_name"] = e ? e->member_name : Field{};
  f["policy_number"] = e ? e->policy_number : Field{};
  std::vector<std::string> why(r.problems);     // soft: lowered confidence
  std::vector<std::string> blocking(r.conflicts);  // hard: the claim needs a clerk

  // Values the member stated: agreement raises confidence, disagreement is
  // for a clerk to settle.
  if (e) {
    for (const auto& p : e->problems) blocking.push_back(p);
    for (const auto& r : e->remarks) why.push_back(r);
    Field& total = f["total_amount"];
    if (e->total) {
      Reconcile({FormatCents(*e->total), ParseAmount(total.value) == e->total,
                 Corroborated(total.confidence),
                 "total taken from the email only (not found on the receipt)",
                 "the email states total " + FormatCents(*e->total) +
                     " but the receipt shows " + total.value},
                total, why, blocking);
    }
    Field& date = f["service_date"];
    if (e->service_date) {
      Reconcile({e->service_date->Iso(), date.value == e->service_date->Iso(),
                 Corroborated(date.confidence),
                 "service date taken from the email only (not found on the receipt)",
                 "the email states service date " + e->service_date->Iso() +
                     " but the receipt shows " + date.value},
                date, why, blocking);
    }
    Field& prov = f["provider_name"];
    if (!e->provider.empty()) {
      // Names are written many ways: agreement is weaker evidence than for
      // a number, and a name the email alone gives goes without a note.
      Reconcile({e->provider, prov.present() && NamesAgree(prov.value, e->provider),
                 std::min(1.0, prov.confidence + 0.1), "",
                 "the email names provider '" + e->provider + "' but the receipt shows '" +
                     prov.value + "'"},
                prov, why, blocking);
    }
  }

  // Required by NCB: service date, a positive total, the receipt number
  // (unless allowed empty), and a policy number or member id.
  std::vector<std::string> missing;
  std::optional<Cents> total = ParseAmount(f["total_amount"].value);
  if (!f["service_date"].present()) missing.push_back("service date");
  if (!total || *total <= 0) missing.push_back("total amount");
  if (!f["receipt_number"].present() && !config.allow_empty_invoice_number) missing.push_back("receipt number");
  bool member = f["member_id"].present() || f["policy_number"].present();
  if (!member && !options.assume_member_present) missing.push_back("member id or policy number");
  for (const auto& m : missing) blocking.push_back("missing " + m);

  // Overall confidence: the weakest of the fields NCB acts on.
  double conf = 1.0;
  std::string weakest;
  std::vector<std::string> used = {"service_date", "total_amount"};
  if (!config.allow_empty_invoice_number || f["receipt_number"].present()) used.push_back("receipt_number");
  for (const auto& k : used) {
    if (f[k].confidence < conf) {
      conf = f[k].confidence;
      weakest = k;
    }
  }
  if (!options.assume_member_present) {
    double m = std::max(f["member_id"].confidence, f["policy_number"].confidence);
    if (m < conf) {
      conf = m;
      weakest = "member_id";
    }
  }
  x.confidence = std::round(conf * 1000) / 1000;

  if (options.check_service_age && f["service_date"].present()) {
    std::optional<Date> d = ParseDate(f["service_date"].value);
    if (d) {
      auto days = [](const Date& v) {
        // Days since a fixed epoch (civil-from-days inverse), for a difference.
        int y = v.year - (v.month <= 2), era = (y >= 0 ? y : y - 399) / 400;
        int yoe = y - era * 400, mp = (v.month + 9) % 12;
        int doy = (153 * mp + 2) / 5 + v.day - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe;
      };
      int age = days(options.today) - days(*d);
      if (age > config.max_service_age_days) {
        blocking.push_back("service date " + d->Iso() + " is more than " +
                      std::to_string(config.max_service_age_days) + " days ago");
      }
    }
  }

  bool confident = x.confidence >= config.high_confidence_threshold;
  if (!confident) {
    char buf[96];
    // Rounded down, so that 0.895 does not read as the threshold 0.90.
    std::snprintf(buf, sizeof buf, "confidence %.2f is below the threshold %.2f (weakest: %s)",
                  std::floor(x.confidence * 100 + 1e-9) / 100, config.high_confidence_threshold, weakest.c_str());
    blocking.push_back(buf);
  }
  if (blocking.empty()) {
    if (config.review_sample_rate > 0 && SampleValue(options.claim_id) < config.review_sample_rate) {
      x.decision = "review";
      x.reasons.push_back("random quality-check sample (review_sample_rate)");
    } else {
      x.decision = "submit";
    }
  } else {
    x.decision = "review";
    // Blocking reasons first: they are what the clerk must act on.
    std::vector<std::string> all = blocking;
    for (const auto& w : why) {
      if (std::find(all.begin(), all.end(), w) == all.end()) all.push_back(w);
    }
    x.reasons = std::move(all);
    return x;
  }
  // Soft problems of a confident claim stay on record as notes.
  for (const auto& w : why) x.notes.push_back(w);
  return x;
}

Extraction ExtractClaim(const OcrDocument& doc, const std::optional<EmailInfo>& email,
                        const ExtractConfig& config, const ExtractOptions& options) {
  ReceiptFields r = ExtractReceiptReadings(doc, options.today, config.high_confidence_threshold);
  std::optional<EmailFields> e;
  if (email) e = ExtractEmail(*email, options.today, config);
  return Combine(r, e, config, options);
}

nlohmann::json Extraction::ToJson() const {
  nlohmann::json fj = nlohmann::json::object();
  auto field = [](const Field& v) {
    nlohmann::json j{{"value", v.present() ? nlohmann::json(v.value) : nlohmann::json(nullptr)},
                     {"confidence", std::round(v.confidence * 1000) / 1000},
                     {"source", v.source.empty() ? "ocr" : v.source}};
    if (v.present() && !v.pages.empty()) j["pages"] = v.pages;
    return j;
  };
  for (const auto& [k, v] : fields) fj[k] = field(v);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& i : this->items) items.push_back({{"description", i.description}, {"amount", i.amount}});
  fj["itemized_charges"] = {{"value", items}, {"confidence", items.empty() ? 0.0 : 0.6}, {"source", "ocr"}};
  return {{"fields", fj},
          {"confidence", confidence},
          {"decision", decision},
          {"reasons", reasons},
          {"notes", notes}};
}

}  // namespace ncbocr
