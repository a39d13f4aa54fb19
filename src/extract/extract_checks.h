// Private to extraction: the arithmetic checks by which ExtractMoney tells
// the receipt's total from its other amounts. Each check takes one
// candidate amount and the receipt's figures and returns its evidence:
// whether the receipt's own arithmetic arrives at the amount, on which
// lines, and how much that raises the candidate's score. A candidate with
// any evidence is chosen with more confidence (0.97 with a total label,
// 0.75 without, against 0.88 and 0.35 with none: see ExtractMoney).
#ifndef NCBOCR_EXTRACT_CHECKS_H_
#define NCBOCR_EXTRACT_CHECKS_H_

#include <optional>
#include <string>
#include <vector>

#include "extract/extract_internal.h"
#include "ncbocr/extract.h"

namespace ncbocr::internal {

// What a money line is, by its label (see kMoneyLabels in extract_money.cc).
enum class MoneyKind {
  kNone,
  kTotal,
  kStrongTotal,
  kSubtotal,
  kTax,
  kRounding,
  kCash,
  kPaid,
  kChange,
  kDiscount,
  kQty
};

// A line with an amount, as ExtractMoney collected it.
struct MoneyLine {
  size_t index;  // into the receipt's lines
  MoneyKind kind;
  Cents amount;  // the rightmost amount on the line (what a label refers to)
  int amount_count;
  double confidence;
  // Every reading of that amount: the first reading's, then the second
  // reading's when it differs (see OcrLine::alt).
  std::vector<Cents> readings;
  bool confirmed = false;  // read twice, both readings the same amount
  bool alt_only = false;   // only the second reading shows an amount

  bool IsTotal() const { return kind == MoneyKind::kTotal || kind == MoneyKind::kStrongTotal; }
};

// The receipt's figures the arithmetic works with: the readings of its
// last cash (or tendered), change, subtotal and rounding lines, the tax (or
// 0 when none), and the discounts as positive amounts. ExtractMoney makes
// two sets: every reading, for amounts a total line shows, and first
// readings only, so that a second reading may confirm an amount but never
// invent one.
struct Figures {
  std::vector<Cents> cash, change, subtotal, rounding;
  std::vector<Cents> tax{0};
  std::vector<Cents> discounts;
  // The lines they are on, for the evidence (npos when there is none).
  size_t cash_at = std::string::npos, change_at = std::string::npos;
  size_t subtotal_at = std::string::npos, rounding_at = std::string::npos;
  std::vector<size_t> tax_at, discount_at;
};

// What one check found for one candidate total.
struct Evidence {
  bool found = false;
  double score = 0;           // what it adds to the candidate's score
  std::string why;            // the note for the clerk ("cash 50.00 - change 2.00 = total")
  std::vector<size_t> lines;  // the lines whose amounts it used
  std::vector<Cents> parts;   // PartsAddUp: the two parts that add up
};

// Scores a check adds: arithmetic that arrives at the amount from other
// lines is the strongest evidence, a witness of the same amount (cash
// tendered exactly, a card payment) a weak one.
inline constexpr double kArithmeticScore = 2.0;
inline constexpr double kWitnessScore = 0.5;
inline constexpr double kZeroRoundingScore =
    1.5;                                      // "Rounding 0.00" arrives at a total printed twice
inline constexpr double kItemsScore = 1.0;    // two items or more add up to it
inline constexpr double kOneItemScore = 0.6;  // a single item "adds up" trivially

// Cash - change = v, for some reading of each (change never negative).
Evidence CashLessChange(Cents v, const Figures& f);
// No change line and the cash line shows the labelled amount v: paid
// exactly. Only for a labelled candidate.
Evidence TenderedExactly(Cents v, bool labelled, const Figures& f);
// A card or e-wallet line of exactly the labelled amount v, read once or
// read the same twice. Only for a labelled candidate.
Evidence PaidByCard(Cents v, bool labelled, const std::vector<MoneyLine>& ml);
// A subtotal, or a smaller labelled total, plus the tax and/or the rounding
// = v. `totals` are the lines labelled as some total; `all` takes every
// reading of them rather than the first.
Evidence SubtotalPlusTax(Cents v, const Figures& f, const std::vector<const MoneyLine*>& totals,
                         bool all);
// Subtotal - a discount (+ tax, + rounding) = v.
Evidence SubtotalLessDiscount(Cents v, const Figures& f);
// Two other labelled totals (+ the first rounding) = v: totals per tax rate
// ("Total 6% supplies" + "Total 0% supplies").
Evidence PartsAddUp(Cents v, const Figures& f, const std::vector<const MoneyLine*>& totals,
                    bool all);
// Another total line's amount + the rounding = v, a multiple of 5 sen (or,
// with a zero rounding, v printed on two total lines). `labelled` counts
// the total lines that show v, `seen` every line, `card` whether a payment
// line shows it.
Evidence TotalPlusRounding(Cents v, int labelled, int seen, bool card, const Figures& f,
                           const std::vector<MoneyLine>& ml, const std::vector<Line>& lines);
// The items' amounts add up to v.
Evidence ItemsAddUp(Cents v, Cents items_sum, size_t item_count);

// Caps on the chosen total's confidence: the receipt contradicts it (a
// clerk must look), or gives a reason to doubt it (a clerk should look).
inline constexpr double kContradicted = 0.6;
inline constexpr double kDoubted = 0.85;

// What the receipt says against a chosen total.
struct Doubt {
  bool found = false;
  double cap = 1.0;           // the most confidence the total may keep
  std::string problem;        // for the clerk
  std::vector<size_t> lines;  // the lines that say it
};

// Cash - change comes to another amount than the chosen total (and the
// cash covers it, so the cash line is not a part payment).
Doubt CashContradicts(Cents chosen, const std::optional<Cents>& cash,
                      const std::optional<Cents>& change);
// A card or e-wallet payment a sen or two off the total: a rounding the
// choice did not account for.
Doubt PaidOffByRounding(Cents chosen, const std::vector<MoneyLine>& ml);
// A total line below the chosen amount's last line (chosen_last) with a
// larger amount ("Total 6% supplies" chosen, "Total payable" further down):
// the chosen amount may be a part of the bill.
Doubt LaterTotalLarger(Cents chosen, size_t chosen_last,
                       const std::vector<const MoneyLine*>& totals);

}  // namespace ncbocr::internal

#endif  // NCBOCR_EXTRACT_CHECKS_H_
