#include "ncbocr/parse.h"

#include <chrono>
#include <ctime>

#include <doctest/doctest.h>

using namespace ncbocr;

namespace {
const Date kEarliest{2000, 1, 1};
const Date kToday{2024, 6, 30};

std::vector<Cents> Amounts(const std::string& s) {
  std::vector<Cents> out;
  for (const auto& a : FindAmounts(s)) out.push_back(a.cents);
  return out;
}

std::string OneDate(const std::string& s) {
  auto d = FindDates(s, kEarliest, kToday);
  return d.size() == 1 ? d[0].date.Iso() : (d.empty() ? "none" : "many");
}
}  // namespace

TEST_CASE("parse: amounts in the forms Malaysian receipts print") {
  CHECK(ParseAmount("RM 1,234.50") == 123450);
  CHECK(ParseAmount("RM1234.5") == 123450);
  CHECK(ParseAmount("1,234.50 MYR") == 123450);
  CHECK(ParseAmount("9.00") == 900);
  CHECK(ParseAmount("50") == 5000);
  CHECK(ParseAmount("RM 50") == 5000);
  CHECK(ParseAmount("-0.02") == -2);
  CHECK_FALSE(ParseAmount("abc").has_value());
  CHECK_FALSE(ParseAmount("1.00 2.00").has_value());
  CHECK(FormatCents(123450) == "1234.50");
  CHECK(FormatCents(5) == "0.05");
  CHECK(FormatCents(-2) == "-0.02");
}

TEST_CASE("parse: FindAmounts takes money, not dates, times, codes or quantities") {
  CHECK(Amounts("TOTAL : 9.00") == std::vector<Cents>{900});
  CHECK(Amounts("Rounded Total (RM): 80.95") == std::vector<Cents>{8095});
  CHECK(Amounts("1 PC * 9.000 0.00 9.00") == std::vector<Cents>{0, 900});
  CHECK(Amounts("Date : 25/12/2018 8:13:39 PM").empty());
  CHECK(Amounts("9556939040118 KF MODELLING CLAY").empty());
  CHECK(Amounts("Qty 2").empty());
  CHECK(Amounts("TOTAL 1,234.50") == std::vector<Cents>{123450});
  CHECK(Amounts("TOTAL 12,50") == std::vector<Cents>{1250});     // comma read for the point
  CHECK(Amounts("CASH 50. 00") == std::vector<Cents>{5000});     // stray space from OCR
  CHECK(Amounts("Total RM50") == std::vector<Cents>{5000});
  auto r = FindAmounts("ROUNDING ADJ -0.02");
  REQUIRE(r.size() == 1);
  CHECK(r[0].negative);
  CHECK(r[0].cents == -2);
  auto d = FindAmounts("DISCOUNT 3.00-");
  REQUIRE(d.size() == 1);
  CHECK(d[0].cents == -300);
}

TEST_CASE("parse: numeric dates are day first and must exist") {
  CHECK(OneDate("Date : 25/12/2018 8:13:39 PM") == "2018-12-25");
  CHECK(OneDate("25-12-18") == "2018-12-25");
  CHECK(OneDate("05.03.2019") == "2019-03-05");
  CHECK(OneDate("2019-03-05 10:00") == "2019-03-05");
  CHECK(OneDate("25 / 12 / 2018") == "2018-12-25");
  CHECK(OneDate("31/02/2018") == "none");     // no such day
  CHECK(OneDate("12/25/2018") == "none");     // month 25
  CHECK(OneDate("01/01/2030") == "none");     // future
  CHECK(OneDate("01/01/1995") == "none");     // before the earliest
  CHECK(OneDate("29/02/2020") == "2020-02-29");
  CHECK(OneDate("29/02/2019") == "none");
}

TEST_CASE("parse: amounts on an item line are not a date") {
  // Quantity, price and amount: "5 3.00" must not read as 5 March 2000.
  CHECK(OneDate("100160 5 3.00 3.18 15.90 SR") == "none");
  // A date with one separator misread and a time after it still counts.
  CHECK(OneDate("24 03-18 18:10") == "2018-03-24");
}

TEST_CASE("parse: a labelled date OCR broke up, read leniently") {
  auto lenient = [](const std::string& s) {
    auto d = FindDatesLeniently(s, kEarliest, kToday);
    return d.empty() ? std::string("none") : d[0].date.Iso();
  };
  CHECK(lenient(": : 04/0 4/2017") == "2017-04-04");
  CHECK(lenient(" : 02~ \u201c04 2018 1b: 14:07") == "2018-04-02");
  CHECK(lenient(" : 2018") == "none");            // no day and month
  CHECK(lenient(" : 31~02 2018") == "none");      // no such day
  CHECK(lenient(" : 12 05 2031") == "none");      // future
  CHECK(lenient(" : 1 2 3 2018") == "none");      // three runs: which are day and month?
}

TEST_CASE("parse: dates with English and Malay month names") {
  CHECK(OneDate("25 Dec 2018") == "2018-12-25");
  CHECK(OneDate("25-DEC-18") == "2018-12-25");
  CHECK(OneDate("5 Ogos 2019") == "2019-08-05");
  CHECK(OneDate("12 Mac 2019") == "2019-03-12");
  CHECK(OneDate("1 Mei 2019") == "2019-05-01");
  CHECK(OneDate("24 Dis 2018") == "2018-12-24");
  CHECK(OneDate("3 Disember 2018") == "2018-12-03");
  CHECK(OneDate("Dec 25, 2018") == "2018-12-25");
  CHECK(OneDate("7 Julai 2019") == "2019-07-07");
  CHECK(OneDate("10 Okt 2019") == "2019-10-10");
  CHECK(MonthFromName("Feb.") == 2);
  CHECK(MonthFromName("XYZ") == 0);
  CHECK(ParseDate("25/12/2018")->Iso() == "2018-12-25");
  CHECK(ParseDate("2018-12-25")->Iso() == "2018-12-25");
}

TEST_CASE("parse: normalisation and labels") {
  CHECK(NormalizeForMatch("No.53 55,57 & 59, Jalan Sagu 18.") == "NO 53 55 57 & 59 JALAN SAGU 18");
  CHECK(NormalizeForMatch("  --  ") == "");
  CHECK(HasLabel("Sub-Total : 9.00", "SUB TOTAL"));
  CHECK(HasLabel("TOTAL:", "TOTAL"));
  CHECK_FALSE(HasLabel("SUBTOTAL 9.00", "TOTAL"));
  CHECK_FALSE(HasLabel("TOTALLY", "TOTAL"));
  std::string s = "Invoice No: INV-001";
  size_t e = FindLabelEnd(s, "INVOICE NO");
  REQUIRE(e != std::string::npos);
  CHECK(s.substr(e) == ": INV-001");
  CHECK(CollapseSpaces("  a   b \t c ") == "a b c");
}

TEST_CASE("parse: LocalDateOf is the calendar date in the local time zone") {
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 1;  // February
  tm.tm_mday = 29;
  tm.tm_hour = 23;
  tm.tm_min = 59;
  tm.tm_isdst = -1;
  auto t = std::chrono::system_clock::from_time_t(std::mktime(&tm));
  CHECK(LocalDateOf(t) == Date{2024, 2, 29});
  CHECK(LocalDateOf(t + std::chrono::minutes(2)) == Date{2024, 3, 1});
}
