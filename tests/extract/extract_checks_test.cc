// Each arithmetic check of ExtractMoney on its own, on figures and lines
// written here: what it finds, on which lines, and what it adds.
#include "extract/written_lines.h"
#include "extract/extract_checks.h"

#include <doctest/doctest.h>

using namespace ncbocr;
using ncbocr::testing::L;
using namespace ncbocr::internal;
using ncbocr::internal::Line;

namespace {

MoneyLine Money(size_t index, MoneyKind kind, std::vector<Cents> readings) {
  MoneyLine m{index, kind, readings.front(), 1, 0.95, readings};
  return m;
}

}  // namespace

TEST_CASE("check: cash - change") {
  Figures f;
  f.cash = {5000};
  f.change = {660};
  f.cash_at = 7;
  f.change_at = 8;
  Evidence e = CashLessChange(4340, f);
  CHECK(e.found);
  CHECK(e.score == kArithmeticScore);
  CHECK(e.why == "cash 50.00 - change 6.60 = total");
  CHECK(e.lines == std::vector<size_t>{7, 8});
  CHECK_FALSE(CashLessChange(4300, f).found);
  // Either reading of each line: the second reading of the change is 0.60.
  f.change = {660, 60};
  CHECK(CashLessChange(4940, f).found);
  // A negative change is a misread, never a payment.
  f.change = {-100};
  CHECK_FALSE(CashLessChange(5100, f).found);
}

TEST_CASE("check: cash tendered exactly, only for a labelled amount and with no change line") {
  Figures f;
  f.cash = {2000};
  f.cash_at = 3;
  Evidence e = TenderedExactly(2000, true, f);
  CHECK(e.found);
  CHECK(e.score == kWitnessScore);
  CHECK(e.lines == std::vector<size_t>{3});
  CHECK_FALSE(TenderedExactly(2000, false, f).found);
  CHECK_FALSE(TenderedExactly(1990, true, f).found);
  f.change = {0};
  CHECK_FALSE(TenderedExactly(2000, true, f).found);
}

TEST_CASE("check: paid by card, only from a line whose readings agree") {
  std::vector<MoneyLine> ml = {Money(2, MoneyKind::kTotal, {1590}),
                               Money(4, MoneyKind::kPaid, {1590})};
  Evidence e = PaidByCard(1590, true, ml);
  CHECK(e.found);
  CHECK(e.score == kWitnessScore);
  CHECK(e.why == "paid 15.90 by card = total");
  CHECK(e.lines == std::vector<size_t>{4});
  CHECK_FALSE(PaidByCard(1590, false, ml).found);
  ml[1].readings.push_back(1580);  // read again as 15.80
  CHECK_FALSE(PaidByCard(1590, true, ml).found);
}

TEST_CASE("check: subtotal + tax + rounding") {
  Figures f;
  f.subtotal = {5000};
  f.subtotal_at = 5;
  f.tax = {300};
  f.tax_at = {6};
  f.rounding = {-2, 2};
  f.rounding_at = 7;
  Evidence e = SubtotalPlusTax(5298, f, {}, false);
  CHECK(e.found);
  CHECK(e.score == kArithmeticScore);
  CHECK(e.lines == std::vector<size_t>{5, 6, 7});
  CHECK(SubtotalPlusTax(5300, f, {}, false).found);        // no rounding
  CHECK(SubtotalPlusTax(5002, f, {}, false).found);        // no tax
  CHECK_FALSE(SubtotalPlusTax(5000, f, {}, false).found);  // the subtotal itself
  CHECK_FALSE(SubtotalPlusTax(5400, f, {}, false).found);
  // A total line below the amount is a base too, in its second reading only
  // when `all` says so.
  MoneyLine before = Money(4, MoneyKind::kTotal, {4000, 4900});
  Figures t;
  t.tax = {100};
  CHECK(SubtotalPlusTax(4100, t, {&before}, false).found);
  CHECK_FALSE(SubtotalPlusTax(5000, t, {&before}, false).found);
  CHECK(SubtotalPlusTax(5000, t, {&before}, true).found);
}

TEST_CASE("check: subtotal - discount") {
  Figures f;
  f.subtotal = {2160};
  f.subtotal_at = 3;
  f.discounts = {920};
  f.discount_at = {4};
  Evidence e = SubtotalLessDiscount(1240, f);
  CHECK(e.found);
  CHECK(e.why == "subtotal - discount (+ tax, rounding) = total");
  CHECK(e.lines == std::vector<size_t>{3, 4});
  CHECK_FALSE(SubtotalLessDiscount(2160, f).found);
  f.tax = {74};
  CHECK(SubtotalLessDiscount(1314, f).found);
}

TEST_CASE("check: totals per tax rate add up, two equal totals do not") {
  MoneyLine six = Money(8, MoneyKind::kTotal, {3180}), zero = Money(9, MoneyKind::kTotal, {1250});
  Figures f;
  Evidence e = PartsAddUp(4430, f, {&six, &zero}, false);
  CHECK(e.found);
  CHECK(e.lines == std::vector<size_t>{8, 9});
  CHECK(e.parts == std::vector<Cents>{3180, 1250});
  MoneyLine again = Money(10, MoneyKind::kStrongTotal, {3180});
  CHECK_FALSE(PartsAddUp(6360, f, {&six, &again}, false).found);
  f.rounding = {-5};
  CHECK(PartsAddUp(4425, f, {&six, &zero}, false).found);
}

TEST_CASE("check: total + rounding adjustment") {
  std::vector<Line> lines = {L("TOTAL 10.02", 0.95), L("ROUNDING ADJ -0.02", 0.95),
                             L("ROUNDED TOTAL 10.00", 0.95)};
  std::vector<MoneyLine> ml = {Money(0, MoneyKind::kTotal, {1002}),
                               Money(1, MoneyKind::kRounding, {-2}),
                               Money(2, MoneyKind::kStrongTotal, {1000})};
  Figures f;
  f.rounding = {-2, 2};
  f.rounding_at = 1;
  Evidence e = TotalPlusRounding(1000, 1, 1, false, f, ml, lines);
  CHECK(e.found);
  CHECK(e.score == kArithmeticScore);
  CHECK(e.why == "total + rounding adjustment = 10.00");
  CHECK(e.lines == std::vector<size_t>{0, 1});
  // Not a multiple of 5 sen: no ringgit rounding arrives there.
  CHECK_FALSE(TotalPlusRounding(1004, 1, 1, false, f, ml, lines).found);
  // An amount no total line shows and that some line does show.
  CHECK_FALSE(TotalPlusRounding(1000, 0, 1, false, f, ml, lines).found);
  // A zero rounding proves something only for an amount two total lines show.
  f.rounding = {0};
  CHECK_FALSE(TotalPlusRounding(1002, 1, 1, false, f, ml, lines).found);
  Evidence zero = TotalPlusRounding(1002, 2, 2, false, f, ml, lines);
  CHECK(zero.found);
  CHECK(zero.score == kZeroRoundingScore);
}

TEST_CASE("check: items add up") {
  CHECK(ItemsAddUp(5000, 5000, 2).score == kItemsScore);
  CHECK(ItemsAddUp(5000, 5000, 1).score == kOneItemScore);
  CHECK_FALSE(ItemsAddUp(5000, 4990, 2).found);
  CHECK_FALSE(ItemsAddUp(0, 0, 0).found);
}

TEST_CASE("doubt: cash - change that comes to another amount") {
  Doubt d = CashContradicts(2000, Cents{5000}, Cents{2500});
  CHECK(d.found);
  CHECK(d.cap == kContradicted);
  CHECK(d.problem == "cash 50.00 - change 25.00 does not equal the total 20.00");
  CHECK_FALSE(CashContradicts(2500, Cents{5000}, Cents{2500}).found);
  // Cash below the total is a part payment, not a contradiction.
  CHECK_FALSE(CashContradicts(6000, Cents{5000}, Cents{0}).found);
  CHECK_FALSE(CashContradicts(2000, Cents{5000}, std::nullopt).found);
}

TEST_CASE("doubt: a card payment a sen or two off the total") {
  std::vector<MoneyLine> ml = {Money(3, MoneyKind::kPaid, {1002})};
  Doubt d = PaidOffByRounding(1000, ml);
  CHECK(d.found);
  CHECK(d.cap == kContradicted);
  CHECK(d.lines == std::vector<size_t>{3});
  CHECK_FALSE(PaidOffByRounding(1002, ml).found);
  CHECK_FALSE(PaidOffByRounding(1005, ml).found);
}

TEST_CASE("doubt: a larger total further down") {
  MoneyLine part = Money(4, MoneyKind::kTotal, {3180}),
            payable = Money(9, MoneyKind::kStrongTotal, {4430});
  Doubt d = LaterTotalLarger(3180, 4, {&part, &payable});
  CHECK(d.found);
  CHECK(d.cap == kDoubted);
  CHECK(d.problem == "a later total line shows 44.30");
  CHECK(d.lines == std::vector<size_t>{9});
  CHECK_FALSE(LaterTotalLarger(4430, 9, {&part, &payable}).found);
  // Above the chosen line it is no doubt: a total before a discount.
  CHECK_FALSE(LaterTotalLarger(3180, 10, {&part, &payable}).found);
}
