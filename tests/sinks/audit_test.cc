#include "ncbocr/audit.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "test_util.h"

using namespace ncbocr;
using ncbocr::testing::PutClaim;
using ncbocr::testing::TempDir;

namespace {

// Records what it was given; fails on demand.
class RecordingSink : public AuditSink {
 public:
  explicit RecordingSink(bool replaces) : replaces_(replaces) {}
  Status Record(const Claim& c, const std::vector<std::string>& row) override {
    if (fail) return Status::Transient("sheet busy");
    rows.push_back(c.id + ":" + row.at(10));  // column K: status
    return Status::Ok();
  }
  bool ReplacesRows() const override { return replaces_; }
  std::vector<std::string> rows;
  bool fail = false;

 private:
  bool replaces_;
};

}  // namespace

TEST_CASE("audit: CSV fields are quoted and never become formulas") {
  CHECK(CsvField("plain") == "plain");
  CHECK(CsvField("a,b") == "\"a,b\"");
  CHECK(CsvField("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(CsvField("=HYPERLINK(1)") == "'=HYPERLINK(1)");
  CHECK(CsvField("+60123") == "'+60123");
  CHECK(CsvField("00123") == "00123");
}

TEST_CASE("audit: a status on the way goes only where the row can change; the final one everywhere") {
  TempDir t;
  Spool spool = *Spool::Open(t.path() / "spool");
  Claim c = PutClaim(spool, ClaimState::kReady, "jpegbytes", {{"total_amount", "12.50"}});
  RecordingSink sheet(true), csv(false);
  AuditLog log(spool);
  log.Add(&sheet);
  log.Add(&csv);
  log.Add(nullptr);
  Clock clock;
  REQUIRE(log.RecordProgress(c, "ready", clock.Now()).ok());
  CHECK(sheet.rows == std::vector<std::string>{c.id + ":ready"});
  CHECK(csv.rows.empty());
  REQUIRE(log.RecordFinal(c, "submitted", "https://drive/x", clock.Now()).ok());
  CHECK(sheet.rows.back() == c.id + ":submitted");
  CHECK(csv.rows == std::vector<std::string>{c.id + ":submitted"});

  sheet.fail = true;
  Status s = log.RecordFinal(c, "submitted", "", clock.Now());
  CHECK(s.kind() == ErrorKind::kTransient);
  CHECK(csv.rows.size() == 1);  // stops at the first sink that fails
}

TEST_CASE("audit: the CSV sink writes the row once and keeps the first") {
  TempDir t;
  Spool spool = *Spool::Open(t.path() / "spool");
  Claim c = PutClaim(spool, ClaimState::kSubmitted, "jpegbytes", {{"total_amount", "12.50"}});
  std::string path = (t.path() / "audit" / "audit.csv").string();
  auto sink = MakeCsvAuditSink(path);
  CHECK_FALSE(sink->ReplacesRows());
  AuditLog log(spool);
  log.Add(sink.get());
  Clock clock;
  REQUIRE(log.RecordFinal(c, "submitted", "", clock.Now()).ok());
  REQUIRE(log.RecordFinal(c, "rejected", "", clock.Now()).ok());
  auto csv = ReadFile(path);
  REQUIRE(csv.ok());
  CHECK(csv->find(",submitted,") != std::string::npos);
  CHECK(csv->find(",rejected,") == std::string::npos);
  CHECK(csv->find("12.50") != std::string::npos);
}
