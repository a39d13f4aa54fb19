#include "ncbocr/archive_stage.h"

#include <algorithm>

#include <doctest/doctest.h>

#include "ncbocr/audit.h"
#include "test_util.h"

using namespace ncbocr;
using ncbocr::testing::PutClaim;
using ncbocr::testing::TempDir;

TEST_CASE("archive: a claim is filed once under claims/YYYY/MM/DD and logged once") {
  TempDir t;
  Config config;
  config.archive.dir = (t.path() / "archive").string();
  config.archive.audit_csv = (t.path() / "archive" / "audit.csv").string();
  Spool spool = *Spool::Open(t.path() / "spool");
  Clock clock;
  StageContext ctx{config, spool, NullLogger(), clock, "archive"};
  Claim c = PutClaim(spool, ClaimState::kSubmitted, "jpegbytes",
                     {{"total_amount", "12.50"}, {"service_date", "2024-01-02"}});
  auto r = ArchiveClaims(ctx);
  CHECK(r.status.ok());
  auto done = spool.Load(c.id);
  REQUIRE(done->state == ClaimState::kDone);
  CHECK(done->archived_path.find("/claims/") != std::string::npos);
  CHECK(done->archived_path.find("mail-1_receipt.jpg") != std::string::npos);
  CHECK(*ReadFile(done->archived_path) == "jpegbytes");

  auto csv = ReadFile(config.archive.audit_csv);
  REQUIRE(csv.ok());
  CHECK(csv->rfind("processed_at,claim_id,email_id", 0) == 0);
  CHECK(csv->find(c.id) != std::string::npos);
  CHECK(csv->find("12.50") != std::string::npos);

  // A redo (say after a crash before the move) adds no second row.
  REQUIRE(AppendAuditCsv(config.archive.audit_csv, AuditRow(spool, *done, "submitted", "", clock.Now())).ok());
  auto again = ReadFile(config.archive.audit_csv);
  CHECK(std::count(again->begin(), again->end(), '\n') == 2);
}
