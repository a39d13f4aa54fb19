// The money lines of a receipt.
//
// The total is chosen among every amount on the receipt by evidence: the
// label on its line (TOTAL, ROUNDED TOTAL, AMOUNT DUE, JUMLAH...), whether the
// receipt's arithmetic arrives at it (subtotal + tax + rounding, cash -
// change, the items' sum), and how often it is printed. The confidence says
// how much of that evidence agreed, so a total read from a single faded line
// with nothing to check it against goes to review.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "extract/extract_checks.h"
#include "extract/extract_internal.h"
#include "ncbocr/extract.h"
#include "ncbocr/util.h"

namespace ncbocr::internal {

namespace {

using Kind = MoneyKind;

// The label words of each kind of money line. A line may carry labels of
// several kinds ("TOTAL QTY", "ROUNDING ADJ", "TOTAL INCL GST", "CASH
// CHANGE"): kPrecedence below decides which kind it is. A new label is one
// row here and a test in tests/extract_money_test.cc.
struct MoneyLabel {
  const char* label;
  Kind kind;
};
// clang-format off
const MoneyLabel kMoneyLabels[] = {
    {"TOTAL QTY", Kind::kQty}, {"TOTAL QUANTITY", Kind::kQty}, {"QTY", Kind::kQty},
    {"TOTAL ITEM", Kind::kQty}, {"TOTAL ITEMS", Kind::kQty}, {"NO OF ITEM", Kind::kQty},
    {"ITEM S", Kind::kQty},
    {"CHANGE", Kind::kChange}, {"BAKI", Kind::kChange}, {"CHANGE DUE", Kind::kChange},
    {"KEMBALI", Kind::kChange},
    {"ROUNDING", Kind::kRounding}, {"ROUND ADJ", Kind::kRounding}, {"ROUNDING ADJ", Kind::kRounding},
    {"ROUNDING ADJUSTMENT", Kind::kRounding}, {"ADJUSTMENT", Kind::kRounding},
    {"RND ADJ", Kind::kRounding}, {"PEMBUNDARAN", Kind::kRounding},
    {"SUBTOTAL", Kind::kSubtotal}, {"SUB TOTAL", Kind::kSubtotal}, {"TOTAL EXCL", Kind::kSubtotal},
    {"TOTAL EXCLUDING", Kind::kSubtotal}, {"TOTAL BEFORE", Kind::kSubtotal},
    {"AMOUNT BEFORE", Kind::kSubtotal}, {"EXCL GST", Kind::kSubtotal},
    {"EXCLUDING GST", Kind::kSubtotal}, {"TOTAL EX GST", Kind::kSubtotal},
    {"SUB JUMLAH", Kind::kSubtotal}, {"NET SALES", Kind::kSubtotal}, {"GROSS AMT", Kind::kSubtotal},
    {"GROSS AMOUNT", Kind::kSubtotal}, {"GROSS TOTAL", Kind::kSubtotal}, {"GROSS", Kind::kSubtotal},
    {"DISCOUNT", Kind::kDiscount}, {"DISC", Kind::kDiscount}, {"DISKAUN", Kind::kDiscount},
    {"SAVINGS", Kind::kDiscount}, {"VOUCHER", Kind::kDiscount},
    {"GST", Kind::kTax}, {"SST", Kind::kTax}, {"TAX", Kind::kTax}, {"CUKAI", Kind::kTax},
    {"SERVICE TAX", Kind::kTax}, {"SERVICE CHARGE", Kind::kTax}, {"SRV CHG", Kind::kTax},
    {"SVC CHG", Kind::kTax}, {"SERV CHARGE", Kind::kTax},
    {"SERVICE CHG", Kind::kTax}, {"SVC CHARGE", Kind::kTax},
    // "Accepted": what a parking or vending machine took in.
    {"CASH", Kind::kCash}, {"TUNAI", Kind::kCash}, {"TENDER", Kind::kCash},
    {"TENDERED", Kind::kCash}, {"ACCEPTED", Kind::kCash},
    {"GRAND TOTAL", Kind::kStrongTotal}, {"NETT TOTAL", Kind::kStrongTotal},
    {"NET TOTAL", Kind::kStrongTotal}, {"TOTAL PAYABLE", Kind::kStrongTotal},
    {"AMOUNT DUE", Kind::kStrongTotal}, {"AMT DUE", Kind::kStrongTotal},
    {"TOTAL DUE", Kind::kStrongTotal}, {"BALANCE DUE", Kind::kStrongTotal},
    {"NETT", Kind::kStrongTotal}, {"TOTAL RM", Kind::kStrongTotal}, {"JUMLAH", Kind::kStrongTotal},
    {"AMOUNT PAYABLE", Kind::kStrongTotal}, {"TOTAL INCL", Kind::kStrongTotal},
    {"ROUNDED TOTAL", Kind::kStrongTotal}, {"TOTAL ROUNDED", Kind::kStrongTotal},
    {"NET AMT", Kind::kStrongTotal}, {"NET AMOUNT", Kind::kStrongTotal},
    {"NETT AMT", Kind::kStrongTotal}, {"NETT AMOUNT", Kind::kStrongTotal},
    {"TOTAL", Kind::kTotal}, {"TOTAL MYR", Kind::kTotal}, {"AMOUNT", Kind::kTotal},
    {"VISA", Kind::kPaid}, {"MASTER", Kind::kPaid}, {"MASTERCARD", Kind::kPaid}, {"CARD", Kind::kPaid},
    {"CREDIT", Kind::kPaid}, {"DEBIT", Kind::kPaid}, {"PAID", Kind::kPaid}, {"PAYMENT", Kind::kPaid},
    {"BOOST", Kind::kPaid}, {"GRABPAY", Kind::kPaid}, {"TOUCH N GO", Kind::kPaid},
    {"EWALLET", Kind::kPaid}, {"E WALLET", Kind::kPaid},
};
// clang-format on

// Which kind wins when a line carries labels of several: the more specific
// label is the one that says what the amount is ("TOTAL QTY" is a count,
// "ROUNDING ADJ" on a "TOTAL" line is the rounding, "SUB TOTAL" is not the
// total, "TOTAL GST" is tax), so the kinds whose labels often contain TOTAL
// or AMOUNT come before the totals.
const Kind kPrecedence[] = {Kind::kQty,  Kind::kChange, Kind::kRounding,    Kind::kSubtotal, Kind::kDiscount,
                            Kind::kTax,  Kind::kCash,   Kind::kStrongTotal, Kind::kTotal,    Kind::kPaid};

bool HasLabelOf(const std::string& t, Kind k) {
  for (const MoneyLabel& l : kMoneyLabels) {
    if (l.kind == k && HasLabel(t, l.label)) return true;
  }
  return false;
}

// The kind of a line whose labels include one of kind k, where the other
// words of the line may say otherwise; nullopt when the line is not of kind
// k after all and the next kind in kPrecedence decides.
std::optional<Kind> Refine(const std::string& t, Kind k) {
  auto has = [&](const char* l) { return HasLabel(t, l); };
  switch (k) {
    case Kind::kQty:
      // "Qty 2 Amount RM 12.00": a count beside the amount of money.
      if (has("AMOUNT") || has("RM")) return std::nullopt;
      return k;
    case Kind::kRounding: {
      if (has("TOTAL") && !has("ADJUSTMENT") && !has("ADJ")) return Kind::kStrongTotal;
      // "Rounding RM 45.35": a rounding is a few sen, so a line labelled
      // rounding alone (no "Adj", however misread) that shows ringgit and sen
      // is the rounded total.
      std::vector<AmountToken> a = FindAmounts(t);
      if (!a.empty() && a.back().has_decimals && a.back().cents >= 100 &&
          ToUpper(t).find(" AD") == std::string::npos) {
        return Kind::kStrongTotal;
      }
      return k;
    }
    case Kind::kTax:
      // "TOTAL INCL GST", "TOTAL SALES (INCLUSIVE OF GST)" and "AMOUNT INCL.
      // GST" are totals.
      if ((has("TOTAL") || has("AMOUNT")) &&
          (has("INCL") || has("INCLUSIVE") || has("INC") || has("INCLUDING") || has("INCL GST"))) {
        return Kind::kStrongTotal;
      }
      if (has("TOTAL") && (has("AMOUNT") || has("SALES")) && !has("GST AMOUNT") && !has("TAX AMOUNT") &&
          !has("TOTAL GST") && !has("TOTAL TAX") && !has("TOTAL SST")) {
        return Kind::kTotal;
      }
      return k;
    default:
      return k;
  }
}

// What kind of money line this is, by its label words.
Kind Classify(const std::string& t) {
  auto has = [&](const char* l) { return HasLabel(t, l); };
  // A column heading ("Item Qty Price Amount", "Description Qty U.Price
  // Total") names no amount of its own: the line under it is an item.
  if ((has("ITEM") || has("QTY") || has("QUANTITY") || has("PRICE") || has("DESCRIPTION") ||
       has("DESC") || has("U PRICE") || has("UNIT PRICE")) &&
      (has("AMOUNT") || has("AMT") || has("TOTAL")) && FindAmounts(t).empty()) {
    return Kind::kNone;
  }
  for (Kind k : kPrecedence) {
    if (!HasLabelOf(t, k)) continue;
    if (std::optional<Kind> refined = Refine(t, k)) return *refined;
  }
  return Kind::kNone;
}

// A total per tax rate ("Total 6% supplies (Inc. GST)", "Total 0%
// supplies"): a part of the bill on a GST tax invoice.
bool IsPartialTotal(const std::string& t) {
  return HasLabel(t, "SUPPLIES") || HasLabel(t, "SUPPLY");
}

std::optional<Cents> LastOf(const std::vector<MoneyLine>& ml, Kind k) {
  std::optional<Cents> v;
  for (const auto& m : ml) {
    if (m.kind == k) v = m.amount;
  }
  return v;
}

// The index of the last line of kind k; npos when there is none.
size_t LastLineOf(const std::vector<MoneyLine>& ml, Kind k) {
  size_t at = std::string::npos;
  for (const auto& m : ml) {
    if (m.kind == k) at = m.index;
  }
  return at;
}

// The readings of the last line of kind k; {} when there is none.
std::vector<Cents> ReadingsOf(const std::vector<MoneyLine>& ml, Kind k) {
  std::vector<Cents> v;
  for (const auto& m : ml) {
    if (m.kind == k) v = m.readings;
  }
  return v;
}

// A line's amount as its second reading has it.
std::optional<Cents> AltAmount(const Line& l) {
  if (l.alt.empty()) return std::nullopt;
  std::vector<AmountToken> a = FindAmounts(l.alt);
  if (a.empty()) return std::nullopt;
  return a.back().cents;
}

MoneyLine MakeMoneyLine(size_t index, Kind k, const Line& amount_line, const std::vector<AmountToken>& a) {
  MoneyLine m{index, k, a.back().cents, static_cast<int>(a.size()), amount_line.confidence, {a.back().cents}};
  if (std::optional<Cents> alt = AltAmount(amount_line)) {
    if (*alt == m.amount) m.confirmed = true;
    else m.readings.push_back(*alt);
  }
  return m;
}

// The score a line's label gives each of its amounts as the total.
constexpr double kStrongTotalLabel = 3.5;   // GRAND TOTAL, AMOUNT DUE, JUMLAH...
constexpr double kTotalLabel = 3.0;         // TOTAL, AMOUNT
constexpr double kPartialTotalLabel = 2.0;  // a total per tax rate: a part of the bill
constexpr double kSubtotalAlone = 2.0;      // a subtotal on a receipt with no total line
constexpr double kPaidLabel = 1.0;          // a card or e-wallet payment
constexpr double kCashLabel = 0.5;          // cash tendered, often more than the bill
constexpr double kNoLabel = 0.2;            // an item or an unlabelled amount
constexpr double kOtherLabel = -0.5;        // tax, change, rounding, discount, a count
// The first reading of a line is the more often right one.
constexpr double kSecondReadingPenalty = 0.3;
// What a candidate loses when it is a part of another's sum.
constexpr double kPartOfTheBill = 1.5;

// The total's confidence by the evidence for it (see ExtractMoney).
constexpr double kLabelAndArithmetic = 0.97;
constexpr double kLabelReadTwice = 0.93;
constexpr double kLabelAlone = 0.88;
constexpr double kArithmeticAlone = 0.75;
constexpr double kGuess = 0.35;

// The lines with an amount, each with its kind; myr is set when the
// receipt names ringgit anywhere.
std::vector<MoneyLine> CollectMoneyLines(const std::vector<Line>& lines, bool& myr) {
  std::vector<MoneyLine> ml;
  int tax_summary = 0;  // lines left of a "GST SUMMARY" table (a few rows)
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& t = lines[i].text;
    std::string up = ToUpper(t);
    if (up.find("RM") != std::string::npos || up.find("MYR") != std::string::npos) myr = true;
    std::vector<AmountToken> a = FindAmounts(t);
    // A label word one letter off ("Tatal Sales (Inclusive of GST)") is
    // read as the label it was meant to be.
    const std::string repaired = RepairMoneyLabelWords(t);
    Kind k = Classify(repaired);
    // The label may be legible in one reading only.
    if (k == Kind::kNone && !lines[i].alt.empty())
      k = Classify(RepairMoneyLabelWords(lines[i].alt));
    // The tax summary table repeats "TOTAL" with the taxable amount and the
    // tax in columns: its rows are tax, not the receipt's total. So is any
    // total row whose last column is a small share of the first.
    if (tax_summary > 0) --tax_summary;
    if (HasLabel(t, "SUMMARY") && (HasLabel(t, "GST") || HasLabel(t, "TAX") || HasLabel(t, "SST"))) tax_summary = 5;
    if (k == Kind::kTotal || k == Kind::kStrongTotal) {
      if (tax_summary > 0 || (a.size() >= 2 && a.back().cents > 0 && a.back().cents * 5 < a.front().cents)) k = Kind::kTax;
    }
    if (a.empty() && !lines[i].alt.empty() && k != Kind::kNone) {
      // Only the second reading made out the amount ("TOMAL 112. 35" read
      // again as "TOTAL: 112.35"): a candidate, never a confirmed one.
      std::vector<AmountToken> b = FindAmounts(lines[i].alt);
      if (!b.empty()) {
        ml.push_back({i, k, b.back().cents, static_cast<int>(b.size()), lines[i].alt_confidence, {b.back().cents}});
        ml.back().alt_only = true;
        continue;
      }
    }
    if (a.empty()) {
      // A label alone on its line, its amount on the next one (some layouts
      // and some OCR line splits).
      if (k != Kind::kNone && i + 1 < lines.size() && Classify(lines[i + 1].text) == Kind::kNone) {
        std::vector<AmountToken> b = FindAmounts(lines[i + 1].text);
        if (b.size() == 1 && CountAlphaChars(lines[i + 1].text) <= 3) {
          ml.push_back(MakeMoneyLine(i, k, lines[i + 1], b));
        }
      }
      continue;
    }
    ml.push_back(MakeMoneyLine(i, k, lines[i], a));
  }
  return ml;
}

// Puts the likelier reading of each cash and change line first.
void RepairCashReadings(std::vector<MoneyLine>& ml) {
  // Notes and coins come in multiples of 5 sen (the 1 sen coin went in
  // 2008): of two readings of a cash or change line, one that is not such a
  // multiple ("CASH 100.06" read again as "100.00") is the misread one.
  for (auto& m : ml) {
    if ((m.kind != Kind::kCash && m.kind != Kind::kChange) || m.readings.size() < 2 ||
        m.readings[0] % 5 == 0)
      continue;
    auto whole =
        std::find_if(m.readings.begin() + 1, m.readings.end(), [](Cents v) { return v % 5 == 0; });
    if (whole == m.readings.end()) continue;
    std::iter_swap(m.readings.begin(), whole);
    m.amount = m.readings[0];
  }
}

// The subtotal, rounding, cash, change and tax lines' amounts and the
// SST/GST fields. Returns whether a payment line stands for the cash
// tendered (no cash line, but a change line).
bool PickFields(const std::vector<MoneyLine>& ml, const std::vector<Line>& lines, ReceiptFields& r) {
  r.subtotal = LastOf(ml, Kind::kSubtotal);
  r.rounding = LastOf(ml, Kind::kRounding);
  r.cash = LastOf(ml, Kind::kCash);
  r.change = LastOf(ml, Kind::kChange);
  // "Payment : 50.00" over "Change Due : 34.10": what was tendered, when no
  // line says cash.
  const bool tendered_is_paid = !r.cash && r.change && LastOf(ml, Kind::kPaid);
  if (tendered_is_paid) r.cash = LastOf(ml, Kind::kPaid);
  r.tax = LastOf(ml, Kind::kTax);
  if (r.rounding && std::llabs(*r.rounding) > 10) r.rounding.reset();  // not a rounding (sen)

  // Tax: the amount on a GST/SST line; prefer the last such line, which is
  // usually "Total GST" under a per-rate breakdown.
  for (const auto& m : ml) {
    if (m.kind != Kind::kTax || m.amount <= 0) continue;
    std::string up = ToUpper(lines[m.index].text);
    Field f{FormatCents(m.amount), 0.6 * m.confidence, "ocr"};
    f.AddPage(lines[m.index].page + 1);
    if (HasLabel(up, "SST") || HasLabel(up, "SERVICE TAX")) r.sst_amount = f;
    else if (HasLabel(up, "GST")) r.gst_amount = f;
  }
  return tendered_is_paid;
}

// The items: lines above the first subtotal or total with an amount and a
// description. Returns the sum of their amounts.
Cents PickItems(const std::vector<MoneyLine>& ml, const std::vector<Line>& lines, ReceiptFields& r) {
  // Items: lines above the first subtotal/total with an amount and words.
  size_t first_sum = lines.size();
  for (const auto& m : ml) {
    if (m.kind == Kind::kSubtotal || m.kind == Kind::kTotal || m.kind == Kind::kStrongTotal) {
      first_sum = m.index;
      break;
    }
  }
  Cents items_sum = 0;
  for (const auto& m : ml) {
    if (m.index >= first_sum || m.kind != Kind::kNone || m.amount <= 0) continue;
    const std::string& t = lines[m.index].text;
    std::vector<AmountToken> a = FindAmounts(t);
    std::string desc = Trim(t.substr(0, a.front().begin));
    if (CountAlphaChars(desc) < 2) {
      // Description on the line above (two-line item layouts).
      if (m.index > 0 && FindAmounts(lines[m.index - 1].text).empty()) desc = lines[m.index - 1].text;
    }
    if (CountAlphaChars(desc) < 2) continue;
    r.items.push_back({CollapseSpaces(desc), FormatCents(m.amount)});
    items_sum += m.amount;
  }
  return items_sum;
}

// A candidate for the total: every distinct amount on the receipt. Each
// reading of a line is a candidate; a second reading that differs from the
// first competes with it, and the arithmetic decides between them.
struct Cand {
  double score = 0, conf = 0;
  int labelled = 0, seen = 0;
  bool confirmed = false;  // a total line read twice gave this amount both times
  bool card = false;       // a payment line (card, e-wallet) shows it
  bool summed = false;     // other amounts on the receipt add up to it
  size_t last = 0;         // lowest line it is on: later totals are more final
  std::vector<std::string> why;
};

// Every amount on the money lines as a candidate, scored by the label of
// the best line it is on. max_amount is set to the largest amount a line
// other than cash or change shows in its first reading.
std::map<Cents, Cand> ScoreByLabel(const std::vector<MoneyLine>& ml, const std::vector<Line>& lines,
                                   bool any_total_label, Cents& max_amount) {
  std::map<Cents, Cand> cands;
  for (const auto& m : ml) {
    for (size_t j = 0; j < m.readings.size(); ++j) {
      Cents v = m.readings[j];
      if (v <= 0) continue;
      Cand& c = cands[v];
      c.seen++;
      c.conf = std::max(c.conf, m.confidence);
      c.last = std::max(c.last, m.index);
      if (m.kind == Kind::kPaid && j == 0) c.card = true;
      double s = 0;
      switch (m.kind) {
        case Kind::kStrongTotal: s = kStrongTotalLabel; c.labelled++; break;
        case Kind::kTotal: s = kTotalLabel; c.labelled++; break;
        case Kind::kPaid: s = kPaidLabel; break;
        case Kind::kCash: s = kCashLabel; break;
        case Kind::kNone: s = kNoLabel; break;
        // Without any total line, the subtotal is what was paid.
        case Kind::kSubtotal: s = any_total_label ? kOtherLabel : kSubtotalAlone; break;
        default: s = kOtherLabel;
      }
      // "Total 6% supplies", "Total 0% supplies": a GST tax invoice's total
      // per tax rate is a part of the bill, below a plain total.
      if ((m.kind == Kind::kTotal || m.kind == Kind::kStrongTotal) &&
          IsPartialTotal(lines[m.index].text)) {
        s = kPartialTotalLabel;
      }
      if (j > 0 || m.alt_only) s -= kSecondReadingPenalty;  // the first reading is the more often right one
      c.score = std::max(c.score, s);
      if ((m.kind == Kind::kTotal || m.kind == Kind::kStrongTotal) && m.confirmed) c.confirmed = true;
      if (j == 0 && m.kind != Kind::kCash && m.kind != Kind::kChange) max_amount = std::max(max_amount, v);
    }
  }
  return cands;
}

// Several charges between the subtotal and the total (service charge and
// GST): their sum is one more way to arrive at the total. None unless
// there are two or more (a "Total GST" or a tax summary row is no charge).
std::optional<Cents> ChargesSum(const std::vector<MoneyLine>& ml, const std::vector<Line>& lines) {
  Cents tax_sum = 0;
  int tax_lines = 0;
  for (const auto& m : ml) {
    if (m.kind != Kind::kTax || m.amount <= 0) continue;
    if (HasLabel(lines[m.index].text, "TOTAL") || HasLabel(lines[m.index].text, "SUMMARY"))
      continue;
    tax_sum += m.amount;
    ++tax_lines;
  }
  if (tax_lines >= 2) return tax_sum;
  return std::nullopt;
}

// The lines of the figures, and the discounts as positive amounts, whether
// printed "-9.20" or "9.20".
void AddLinesAndDiscounts(const std::vector<MoneyLine>& ml, bool tendered_is_paid, Figures& f) {
  for (const auto& m : ml) {
    if (m.kind == Kind::kDiscount && m.amount != 0) f.discounts.push_back(std::llabs(m.amount));
  }
  f.cash_at = LastLineOf(ml, tendered_is_paid ? Kind::kPaid : Kind::kCash);
  f.change_at = LastLineOf(ml, Kind::kChange);
  f.subtotal_at = LastLineOf(ml, Kind::kSubtotal);
  f.rounding_at = LastLineOf(ml, Kind::kRounding);
  for (const auto& m : ml) {
    if (m.kind == Kind::kTax && m.amount > 0) f.tax_at.push_back(m.index);
    if (m.kind == Kind::kDiscount && m.amount != 0) f.discount_at.push_back(m.index);
  }
}

// Every reading of the cash (or tendered), change, subtotal, tax and
// rounding lines: for amounts a total line shows.
Figures EveryReading(const std::vector<MoneyLine>& ml, const std::vector<Line>& lines, bool tendered_is_paid) {
  Figures f;
  f.cash = ReadingsOf(ml, tendered_is_paid ? Kind::kPaid : Kind::kCash);
  f.change = ReadingsOf(ml, Kind::kChange);
  f.subtotal = ReadingsOf(ml, Kind::kSubtotal);
  f.tax = ReadingsOf(ml, Kind::kTax);
  if (std::optional<Cents> sum = ChargesSum(ml, lines)) f.tax.push_back(*sum);
  if (f.tax.empty()) f.tax.push_back(0);
  for (Cents v : ReadingsOf(ml, Kind::kRounding)) {
    if (std::llabs(v) <= 10) f.rounding.push_back(v);  // else not a rounding (sen)
  }
  // A rounding line whose minus sign the print or the OCR lost: either sign.
  for (size_t i = 0, n = f.rounding.size(); i < n; ++i) {
    if (f.rounding[i] > 0) f.rounding.push_back(-f.rounding[i]);
  }
  AddLinesAndDiscounts(ml, tendered_is_paid, f);
  return f;
}

// The fields' first readings (as PickFields chose them): for amounts no
// total line shows, which a second reading may confirm but never invent.
Figures FirstReadings(const std::vector<MoneyLine>& ml, const std::vector<Line>& lines,
                      const ReceiptFields& r, bool tendered_is_paid) {
  auto first_only = [](const std::optional<Cents>& v) { return v ? std::vector<Cents>{*v} : std::vector<Cents>{}; };
  Figures f;
  f.cash = first_only(r.cash);
  f.change = first_only(r.change);
  f.subtotal = first_only(r.subtotal);
  f.rounding = first_only(r.rounding);
  f.tax = r.tax ? std::vector<Cents>{*r.tax} : std::vector<Cents>{0};
  if (std::optional<Cents> sum = ChargesSum(ml, lines)) f.tax.push_back(*sum);
  AddLinesAndDiscounts(ml, tendered_is_paid, f);
  return f;
}

// Amounts the receipt implies without printing legibly: cash - change,
// and a total plus a non-zero rounding. OCR often loses the one line that
// shows them; the arithmetic decides whether they hold.
void AddImpliedAmounts(const std::vector<Line>& lines, const ReceiptFields& r,
                       const std::vector<const MoneyLine*>& labelled, std::map<Cents, Cand>& cands) {
  auto implied = [&](Cents v) {
    if (v <= 0 || cands.count(v)) return;
    Cand& c = cands[v];
    c.score = 1.0;
    c.conf = 0.6;
  };
  // Only first readings imply amounts: a second reading may confirm an
  // amount printed on the receipt, not invent one.
  if (r.cash && r.change && *r.change > 0) implied(*r.cash - *r.change);
  // Totals per tax rate on two lines imply their sum, the bill, when the
  // line that prints it ("Total Payable") is unreadable.
  {
    std::set<Cents> parts;
    for (const MoneyLine* m : labelled) {
      if (IsPartialTotal(lines[m->index].text)) parts.insert(m->amount);
    }
    if (parts.size() == 2) implied(*parts.begin() + *parts.rbegin());
  }
  if (r.rounding && *r.rounding != 0) {
    for (const MoneyLine* m : labelled) implied(m->amount + *r.rounding);
  }
}

// Each candidate's score raised by the receipt's arithmetic (see
// extract_checks.h) and by being printed more than once or on the last
// total line. part_of gets the totals per tax rate that add up to another.
void ScoreByArithmetic(const Figures& every, const Figures& first, const std::vector<MoneyLine>& ml,
                       const std::vector<Line>& lines, const std::vector<const MoneyLine*>& labelled,
                       Cents items_sum, size_t item_count, std::map<Cents, Cand>& cands,
                       std::map<Cents, Cents>& part_of) {
  const size_t last_labelled = labelled.empty() ? 0 : labelled.back()->index;
  auto take = [](Cand& c, const Evidence& e) {
    if (!e.found) return false;
    c.score += e.score;
    c.why.push_back(e.why);
    return true;
  };
  for (auto& [v, c] : cands) {
    if (c.seen > 1) c.score += std::min(1.0, 0.3 * (c.seen - 1));
    if (c.labelled && c.last == last_labelled) c.score += 0.25;
    // Second readings take part in the arithmetic only for amounts a total
    // line shows; an amount nobody labelled needs first readings to add up.
    const bool all = c.labelled > 0;
    const Figures& f = all ? every : first;
    // Paid: cash - change, or a witness of the amount (one of them).
    take(c, CashLessChange(v, f)) || take(c, TenderedExactly(v, c.labelled, f)) ||
        take(c, PaidByCard(v, c.labelled, ml));
    // Summed: the receipt's sums arrive at it (one of them). Parts only for
    // a labelled total or one the parts imply: two equal totals ("Total
    // 10.00", "Total incl. GST 10.00") do not make cash 20.00 the bill.
    Evidence sum = SubtotalPlusTax(v, f, labelled, all);
    if (!sum.found) sum = SubtotalLessDiscount(v, f);
    if (!sum.found && (c.labelled || c.seen == 0)) {
      sum = PartsAddUp(v, f, labelled, all);
      if (sum.found) part_of[sum.parts[0]] = part_of[sum.parts[1]] = v;
    }
    if (take(c, sum)) c.summed = true;
    // A total before rounding plus the rounding line gives the amount paid,
    // when that amount is printed on another total line too.
    take(c, TotalPlusRounding(v, c.labelled, c.seen, c.card, f, ml, lines));
    take(c, ItemsAddUp(v, items_sum, item_count));
  }
}

// Lowers the candidates that are a part of another's sum: a total before
// rounding, a total per tax rate, a subtotal that a later amount adds tax to.
void LowerPartsOfTheBill(std::map<Cents, Cand>& cands, const std::vector<Cents>& rnd_all,
                         const std::vector<Cents>& sub_all, const std::map<Cents, Cents>& part_of,
                         bool any_total_label) {
  // A total that the rounding line turns into another labelled amount is
  // the total before rounding: the rounded one is what was paid.
  for (auto& [v, c] : cands) {
    for (Cents rnd : rnd_all) {
      auto it = rnd != 0 && (v + rnd) % 5 == 0 ? cands.find(v + rnd) : cands.end();
      if (it != cands.end() && (it->second.labelled || it->second.card) &&
          std::any_of(it->second.why.begin(), it->second.why.end(), [](const std::string& w) {
            return w.find("rounding adjustment") != std::string::npos;
          })) {
        c.score -= kPartOfTheBill;
        break;
      }
    }
  }
  // A total per tax rate that adds up with another to a total is a part.
  for (const auto& [part, whole] : part_of) {
    auto it = cands.find(part);
    if (it != cands.end() && cands.count(whole)) it->second.score -= kPartOfTheBill;
  }
  // A subtotal that a printed amount further down adds tax to is a part of
  // the bill, even when OCR lost the label of the line that shows the sum.
  for (Cents sub : sub_all) {
    auto it = cands.find(sub);
    if (it == cands.end() || any_total_label) continue;
    for (const auto& [v, c] : cands) {
      if (v > sub && c.seen > 0 && c.last > it->second.last && c.summed) {
        it->second.score -= kPartOfTheBill;
        break;
      }
    }
  }
}

}  // namespace

void ExtractMoney(const std::vector<Line>& lines, ReceiptFields& r) {
  bool myr = false;
  std::vector<MoneyLine> ml = CollectMoneyLines(lines, myr);
  r.currency = {"MYR", myr ? 0.95 : 0.7, "ocr"};
  RepairCashReadings(ml);
  const bool tendered_is_paid = PickFields(ml, lines, r);
  const Cents items_sum = PickItems(ml, lines, r);

  // Score every distinct amount as the total, by label, then by the
  // receipt's arithmetic (extract_checks.h).
  bool any_total_label = false;
  std::vector<const MoneyLine*> labelled;  // lines labelled as some total
  for (const auto& m : ml) {
    if (m.kind == Kind::kTotal || m.kind == Kind::kStrongTotal) {
      any_total_label = true;
      if (m.amount > 0) labelled.push_back(&m);
    }
  }
  Cents max_amount = 0;
  std::map<Cents, Cand> cands = ScoreByLabel(ml, lines, any_total_label, max_amount);
  if (cands.empty()) {
    r.problems.push_back("no total amount found on the receipt");
    return;
  }
  const Figures every = EveryReading(ml, lines, tendered_is_paid);
  const Figures first = FirstReadings(ml, lines, r, tendered_is_paid);
  AddImpliedAmounts(lines, r, labelled, cands);
  std::map<Cents, Cents> part_of;  // an amount that, with another, adds up to a total
  ScoreByArithmetic(every, first, ml, lines, labelled, items_sum, r.items.size(), cands, part_of);
  for (auto& [v, c] : cands) {
    if (v == max_amount) c.score += 0.3;
  }
  LowerPartsOfTheBill(cands, every.rounding, every.subtotal, part_of, any_total_label);
  auto best = std::max_element(cands.begin(), cands.end(), [](const auto& a, const auto& b) {
    return a.second.score < b.second.score || (a.second.score == b.second.score && a.second.last < b.second.last);
  });
  double second = 0;
  for (const auto& [v, c] : cands) {
    if (v != best->first) second = std::max(second, c.score);
  }
  const Cand& b = best->second;
  // Another total line none of whose readings is the chosen amount.
  bool disagree = false;
  for (const MoneyLine* m : labelled) {
    disagree |= std::find(m->readings.begin(), m->readings.end(), best->first) == m->readings.end();
  }
  // Confidence from the evidence: a label and an arithmetic check agreeing
  // is as sure as this gets; a label whose line read the same twice comes
  // next; a label alone is good unless another labelled amount competes; no
  // label at all is a guess.
  double conf;
  if (b.labelled && !b.why.empty()) conf = kLabelAndArithmetic;
  else if (b.labelled && b.confirmed && !disagree) conf = kLabelReadTwice;
  else if (b.labelled) conf = kLabelAlone;
  else if (!b.why.empty()) conf = kArithmeticAlone;
  else conf = kGuess;
  // Another total line with another amount, and no arithmetic to say which
  // is right: a clerk must look.
  if (disagree && b.why.empty()) {
    conf = std::min(conf, kContradicted);
    r.problems.push_back("total lines show different amounts");
  }
  // The line that shows the chosen total read differently the second time:
  // even when the arithmetic picks one reading, a clerk should look.
  bool disputed = false;
  for (const auto& m : ml) {
    bool carries = std::find(m.readings.begin(), m.readings.end(), best->first) != m.readings.end();
    if (carries && (m.kind == Kind::kTotal || m.kind == Kind::kStrongTotal) && (m.readings.size() > 1 || m.alt_only)) {
      disputed = true;
    }
  }
  // It is settled when another total line read the chosen amount both
  // times, or when two of the receipt's own sums arrive at it.
  bool settled = b.why.size() >= 2;
  for (const auto& m : ml) {
    if ((m.kind == Kind::kTotal || m.kind == Kind::kStrongTotal) && m.confirmed &&
        m.amount == best->first)
      settled = true;
  }
  if (disputed && settled) {
    r.notes.push_back("one reading of a total line differs; other lines settle the total");
  } else if (disputed) {
    conf = std::min(conf, kDoubted);
    r.problems.push_back("the two readings of the total line differ");
  }
  // The receipt's own arithmetic against the chosen total: cash - change
  // that comes to another amount, or a card payment a sen or two off (a
  // rounding the choice did not account for), contradicts it.
  const Cents chosen = best->first;
  for (const Doubt& d : {CashContradicts(chosen, r.cash, r.change), PaidOffByRounding(chosen, ml),
                         LaterTotalLarger(chosen, b.last, labelled)}) {
    if (!d.found) continue;
    conf = std::min(conf, d.cap);
    r.problems.push_back(d.problem);
  }
  double margin = b.score - second;
  if (margin < 1.0) conf = std::min(conf, 0.6 + 0.3 * std::max(0.0, margin));
  conf *= std::min(1.0, b.conf + 0.2);
  r.total_amount = {FormatCents(best->first), conf, "ocr"};
  for (const auto& m : ml) {
    if (m.amount == best->first || std::find(m.readings.begin(), m.readings.end(), best->first) != m.readings.end())
      r.total_amount.AddPage(lines[m.index].page + 1);
  }
  for (const auto& w : b.why) r.notes.push_back(w);
  if (!b.labelled) r.problems.push_back("no line labelled TOTAL carries the chosen amount");
  if (margin < 1.0) r.problems.push_back("several amounts compete for the total");
}

bool IsTotalLine(const std::string& text) {
  if (FindAmounts(text).empty()) return false;
  const Kind k = Classify(RepairMoneyLabelWords(text));
  return (k == Kind::kTotal || k == Kind::kStrongTotal) && !IsPartialTotal(text);
}

bool HasMoneyLabel(const std::string& text) {
  const Kind k = Classify(RepairMoneyLabelWords(text));
  return k != Kind::kNone && k != Kind::kQty;
}

}  // namespace ncbocr::internal
