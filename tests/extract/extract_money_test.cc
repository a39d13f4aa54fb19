// ExtractMoney on lines written here: the total chosen by label and by the
// receipt's own arithmetic, and the confidence that evidence earns.
#include <doctest/doctest.h>

#include <algorithm>

#include "extract/written_lines.h"
#include "extract/extract_internal.h"
#include "ncbocr/extract.h"

using namespace ncbocr;
using ncbocr::testing::L;
using internal::Line;

namespace {

ReceiptFields Money(const std::vector<Line>& lines) {
  ReceiptFields r;
  internal::ExtractMoney(lines, r);
  return r;
}

std::vector<Line> Lines(const std::vector<std::string>& texts) {
  std::vector<Line> lines;
  for (const auto& t : texts) lines.push_back(L(t, 0.95));
  return lines;
}

bool Mentions(const std::vector<std::string>& v, const std::string& part) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.find(part) != std::string::npos; });
}

}  // namespace

TEST_CASE("money: subtotal + tax = the labelled total, with items and the tax line") {
  ReceiptFields r = Money(Lines({"CONSULTATION 40.00", "MEDICINE 10.00", "SUBTOTAL 50.00",
                                 "SST 6% 3.00", "TOTAL 53.00", "CASH 100.00", "CHANGE 47.00"}));
  CHECK(r.total_amount.value == "53.00");
  CHECK(r.total_amount.confidence > 0.9);
  CHECK(r.subtotal == 5000);
  CHECK(r.cash == 10000);
  CHECK(r.change == 4700);
  CHECK(r.sst_amount.value == "3.00");
  REQUIRE(r.items.size() == 2);
  CHECK(r.items[0].description == "CONSULTATION");
  CHECK(r.items[1].amount == "10.00");
  CHECK(Mentions(r.notes, "subtotal + tax + rounding = total"));
  CHECK(Mentions(r.notes, "cash 100.00 - change 47.00 = total"));
  CHECK(r.problems.empty());
}

TEST_CASE("money: a label alone is good; a rival total line with no arithmetic goes to a clerk") {
  ReceiptFields one = Money(Lines({"PANADOL 12.50", "TOTAL 12.50"}));
  CHECK(one.total_amount.value == "12.50");
  ReceiptFields two = Money(Lines({"TOTAL 12.50", "AMOUNT DUE 21.50"}));
  CHECK(two.total_amount.confidence <= 0.6);
  CHECK(Mentions(two.problems, "total lines show different amounts"));
}

TEST_CASE("money: cash - change decides between two readings of the total line") {
  Line total = L("TOTAL 18.30", 0.9);
  total.alt = "TOTAL 18.80";
  total.alt_confidence = 0.9;
  std::vector<Line> lines = {total, L("CASH 20.00", 0.95), L("CHANGE 1.20", 0.95)};
  ReceiptFields r = Money(lines);
  CHECK(r.total_amount.value == "18.80");
  CHECK(Mentions(r.problems, "the two readings of the total line differ"));
  CHECK(r.total_amount.confidence <= 0.85);
}

TEST_CASE("money: a total plus the rounding line is the amount paid") {
  ReceiptFields r = Money(Lines({"TOTAL 10.02", "ROUNDING ADJ -0.02", "ROUNDED TOTAL 10.00"}));
  CHECK(r.rounding == -2);
  CHECK(r.total_amount.value == "10.00");
  CHECK(Mentions(r.notes, "total + rounding adjustment = 10.00"));
}

TEST_CASE("money: cash that does not come to the total less the change lowers confidence") {
  ReceiptFields r = Money(Lines({"SUBTOTAL 20.00", "TOTAL 20.00", "CASH 50.00", "CHANGE 25.00"}));
  CHECK(r.total_amount.value == "20.00");
  CHECK(r.total_amount.confidence <= 0.6);
  CHECK(Mentions(r.problems, "cash 50.00 - change 25.00 does not equal the total 20.00"));
}

TEST_CASE("money: nothing labelled is a guess") {
  ReceiptFields r = Money(Lines({"PANADOL 12.50", "VITAMIN C 30.00"}));
  CHECK(r.total_amount.confidence < 0.5);
  CHECK(Mentions(r.problems, "no line labelled TOTAL"));
}

TEST_CASE("money labels: one letter off is put right, real words one letter away are not") {
  CHECK(internal::RepairMoneyLabelWords("Tatal 12.50") == "TOTAL 12.50");
  CHECK(internal::RepairMoneyLabelWords("CHANGI 1.50") == "CHANGE 1.50");
  // Read as AMOUNT or CHANGE these would make an address, an item or a
  // lucky-draw line a money line.
  CHECK(internal::RepairMoneyLabelWords("Jalan Mount Austin 81100") == "Jalan Mount Austin 81100");
  CHECK(internal::RepairMoneyLabelWords("TV WALL MOUNT 89.00") == "TV WALL MOUNT 89.00");
  CHECK(internal::RepairMoneyLabelWords("1 CHANCE 50.00") == "1 CHANCE 50.00");
  CHECK(internal::RepairMoneyLabelWords("Service Charge 6% 1.20") == "Service Charge 6% 1.20");
  CHECK_FALSE(internal::IsTotalLine("TV WALL MOUNT 89.00"));
  CHECK(internal::IsTotalLine("Tatal 89.00"));
}

TEST_CASE("money labels: a label word split by a stray space is joined; words that stand alone are not") {
  CHECK(internal::RepairMoneyLabelWords("Total Payal e 8.40") == "Total PAYABLE 8.40");
  CHECK(internal::RepairMoneyLabelWords("TOT AL: 8.40") == "TOTAL: 8.40");
  CHECK(internal::RepairMoneyLabelWords("Ro unding -0.02") == "Rounding -0.02");
  CHECK(internal::IsTotalLine("Amount Payab le 8.40"));
  // Two words, or a label beside a short word, stay apart.
  CHECK(internal::RepairMoneyLabelWords("SUB TOTAL 8.40") == "SUB TOTAL 8.40");
  CHECK(internal::RepairMoneyLabelWords("TOTAL RM 8.40") == "TOTAL RM 8.40");
  CHECK(internal::RepairMoneyLabelWords("CHANGE IS 0.60") == "CHANGE IS 0.60");
  CHECK(internal::RepairMoneyLabelWords("NO CHARGE 0.00") == "NO CHARGE 0.00");
}

TEST_CASE("money labels: two label words run together are split; other words stay whole") {
  CHECK(internal::RepairMoneyLabelWords("TotalPayable: 68.63") == "Total Payable: 68.63");
  CHECK(internal::RepairMoneyLabelWords("GRANDTOTAL 12.40") == "GRAND TOTAL 12.40");
  CHECK(internal::RepairMoneyLabelWords("AmountDue RM12.40") == "Amount Due RM12.40");
  CHECK(internal::IsTotalLine("TotalPayable: 68.63"));
  CHECK(internal::RepairMoneyLabelWords("SUBTOTAL 8.40") == "SUBTOTAL 8.40");
  CHECK(internal::RepairMoneyLabelWords("CASHIER TOTALLY 2") == "CASHIER TOTALLY 2");
  CHECK(internal::RepairMoneyLabelWords("NETTLE TEA 3.20") == "NETTLE TEA 3.20");
}

TEST_CASE("money labels: each kind by its label words, the more specific label first") {
  // Which line is a total (IsTotalLine uses the same table as ExtractMoney).
  for (const char* t : {"TOTAL 10.60", "JUMLAH 10.60", "GRAND TOTAL 10.60", "TOTAL INCL GST 10.60",
                        "Amount Due RM 10.60", "Rounded Total 10.60",
                        "Total Sales (Inclusive of GST) 10.60", "ROUNDING RM 10.60"}) {
    INFO(t);
    CHECK(internal::IsTotalLine(t));
  }
  for (const char* t : {"SUB TOTAL 10.00", "TOTAL EXCL GST 10.00", "TOTAL GST 0.60", "TOTAL QTY 3",
                        "ROUNDING ADJ -0.02", "CASH 20.00", "CHANGE 9.40", "Item Qty Price Amount",
                        "VISA 10.60", "Total 6% supplies (Inc. GST) 10.60"}) {
    INFO(t);
    CHECK_FALSE(internal::IsTotalLine(t));
  }
  // Which field each other kind fills.
  ReceiptFields r = Money(Lines({"SUB JUMLAH 10.00", "CUKAI 0.60", "PEMBUNDARAN 0.00",
                                 "JUMLAH 10.60", "TUNAI 20.00", "BAKI 9.40"}));
  CHECK(r.subtotal == 1000);
  CHECK(r.tax == 60);
  CHECK(r.rounding == 0);
  CHECK(r.cash == 2000);
  CHECK(r.change == 940);
  CHECK(r.total_amount.value == "10.60");
  // "Payment" stands for cash tendered when no line says cash.
  ReceiptFields p = Money(Lines({"TOTAL 15.90", "PAYMENT 50.00", "CHANGE DUE 34.10"}));
  CHECK(p.cash == 5000);
}
