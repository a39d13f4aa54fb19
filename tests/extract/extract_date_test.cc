// ExtractDate on lines written here: which printed date is the service date
// and how sure that is.
#include <doctest/doctest.h>

#include <algorithm>

#include "extract/written_lines.h"
#include "extract/extract_internal.h"
#include "ncbocr/extract.h"

using namespace ncbocr;
using ncbocr::testing::L;
using internal::Line;

namespace {

const Date kToday{2024, 6, 30};

ReceiptFields Dates(const std::vector<Line>& lines) {
  ReceiptFields r;
  internal::ExtractDate(lines, kToday, r);
  return r;
}

bool Mentions(const std::vector<std::string>& v, const std::string& part) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.find(part) != std::string::npos; });
}

}  // namespace

TEST_CASE("date: a labelled date wins over an earlier unlabelled one far from it") {
  ReceiptFields r = Dates({L("Promotion until 31/12/2024", 0.95), L("Date: 02/03/2024", 0.95)});
  // 31/12/2024 is after today: not a candidate at all.
  CHECK(r.service_date.value == "2024-03-02");
  r = Dates({L("Member since 15/08/2019", 0.95), L("Date: 02/03/2024", 0.95)});
  CHECK(r.service_date.value == "2024-03-02");
  CHECK(r.service_date.confidence > 0.9);
  CHECK(Mentions(r.notes, "2019-08-15"));
  CHECK(r.problems.empty());
}

TEST_CASE("date: two dates one digit apart are rivals and lower the confidence") {
  ReceiptFields clear = Dates({L("Date: 02/03/2024", 0.95)});
  ReceiptFields rival = Dates({L("Date: 02/03/2024", 0.95), L("02/05/2024 thank you", 0.95)});
  CHECK(rival.service_date.value == "2024-03-02");
  CHECK(rival.service_date.confidence < clear.service_date.confidence - 0.1);
  CHECK(Mentions(rival.problems, "more than one date"));
}

TEST_CASE("date: a faint reading lowers the confidence; a second reading that agrees restores it") {
  Line faint = L("Date: 02/03/2024", 0.6);
  ReceiptFields r = Dates({faint});
  CHECK(r.service_date.confidence < 0.9);
  faint.alt = "Date: 02/03/2024";
  faint.alt_confidence = 0.6;
  CHECK(Dates({faint}).service_date.confidence > r.service_date.confidence);
}

TEST_CASE("date: a misread year is guessed and goes to review; none at all is a problem") {
  ReceiptFields r = Dates({L("Tarikh 02/03/2084", 0.95)});
  CHECK(r.service_date.value == "2024-03-02");
  CHECK(r.service_date.confidence <= 0.6);
  CHECK(Mentions(r.problems, "year"));
  ReceiptFields none = Dates({L("TOTAL 10.00", 0.95)});
  CHECK_FALSE(none.service_date.present());
  CHECK(Mentions(none.problems, "no date"));
}
