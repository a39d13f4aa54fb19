// Status counts: what waits for a clerk, split into receipts and emails with
// nothing to claim (issue 12).
#include "ncbocr/report.h"

#include <doctest/doctest.h>

#include "mail_fixtures.h"
#include "ncbocr/fetch_stage.h"
#include "ncbocr/log.h"
#include "test_util.h"

using namespace ncbocr;
using namespace ncbocr::testing;

namespace {

// An email with no receipt, as fetch parks it: no attachment, in review.
void PutEmailWithNothing(const Spool& spool) {
  auto d = spool.NewDraft(NewClaimId());
  REQUIRE(d.ok());
  d->claim.source.kind = "eml";
  d->claim.source.email_id = "mail-2";
  d->claim.skipped = {"claim-form.docx: not an image or PDF"};
  REQUIRE(spool.Commit(*d, ClaimState::kReview, "fetch", "no receipt attachment").ok());
}

}  // namespace

TEST_CASE("status: emails with nothing to claim are counted apart from receipts for a clerk") {
  TempDir t;
  Spool spool = Spool::Open(t.path() / "spool").value();
  PutClaim(spool, ClaimState::kReview, "r1");
  PutClaim(spool, ClaimState::kFailed, "r2");
  PutClaim(spool, ClaimState::kReady, "r3");
  PutEmailWithNothing(spool);
  PutEmailWithNothing(spool);
  nlohmann::json j = StatusJson(spool, std::chrono::system_clock::now());
  CHECK(j["queues"]["review"] == 3);
  CHECK(j["for_clerk"]["receipts"] == 2);
  CHECK(j["for_clerk"]["nothing_to_claim"] == 2);
  std::string text = StatusText(j);
  CHECK(text.find("2 receipts, 2 emails with nothing to claim") != std::string::npos);
}

TEST_CASE(
    "status: emails with only a claim form, a zip or a logo are each one item with nothing to "
    "claim") {
  TempDir t;
  Config config;
  config.spool = (t.path() / "spool").string();
  config.fetch.source = "eml";
  config.fetch.path = (t.path() / "inbox").string();
  std::filesystem::create_directories(config.fetch.path);
  Spool spool = Spool::Open(config.spool).value();
  const std::string docx = std::string("PK\x03\x04", 4) + std::string(5000, 'd');
  const std::string zip = std::string("PK\x03\x04", 4) + std::string(5000, 'z');
  auto add = [&](const std::string& name, const std::vector<TestPart>& parts) {
    AtomicWriteFile(std::filesystem::path(config.fetch.path) / name,
                    MakeEmail("Please process my claim.", parts, "Claim", name + "@example.test"));
  };
  add("form.eml", {{"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "claim-form.docx", docx}});
  add("zip.eml", {{"application/zip", "receipts.zip", zip}});
  add("logo.eml", {{"image/jpeg", "logo.jpg", FakeJpeg(64, 32, 3000, 1), true}});
  add("none.eml", {});
  add("receipt.eml", {{"image/jpeg", "r.jpg", FakeJpeg(1240, 1754, 6000, 2)}});
  Clock clock;
  StageContext ctx{config, spool, NullLogger(), clock, "fetch"};
  REQUIRE(RunFetchStage(ctx).status.ok());

  std::vector<std::string> review = spool.List(ClaimState::kReview);
  REQUIRE(review.size() == 4);  // one item per email with nothing to claim
  for (const auto& id : review) {
    Claim c = spool.LoadIn(ClaimState::kReview, id).value();
    CHECK_FALSE(c.attachment.has_value());
    CHECK(c.reason.find("no receipt attachment") != std::string::npos);
  }
  nlohmann::json j = StatusJson(spool, std::chrono::system_clock::now());
  CHECK(j["for_clerk"]["nothing_to_claim"] == 4);
  CHECK(j["for_clerk"]["receipts"] == 0);
  CHECK(j["queues"]["fetched"] == 1);
}

TEST_CASE("status: a stage run that only deferred its claims says so, not just ok") {
  TempDir t;
  Spool spool = Spool::Open(t.path() / "spool").value();
  nlohmann::json run = {{"stage", "submit"}, {"started_at", "2026-12-03T01:00:00Z"}, {"duration_s", 1.5},
                        {"result", "ok"}, {"claims", 4}, {"outcomes", {{"deferred", 4}}}};
  REQUIRE(spool.WriteStageRun("submit", run).ok());
  std::string text = StatusText(StatusJson(spool, std::chrono::system_clock::now()));
  CHECK(text.find("ok (4 claims: 4 deferred)") != std::string::npos);
}

namespace {

// A lease as a run on another host holds it.
StageLock WriteLease(const Spool& spool, const std::string& stage, const std::string& renewed_at) {
  nlohmann::json lease = {{"host", "worker-b"}, {"pid", 4242}, {"run", "r1"}, {"started_at", "2025-01-01T10:00:00Z"},
                          {"renewed_at", renewed_at}, {"lease_s", kStageLeaseSeconds}};
  return HoldLease(spool, stage, "r1", lease);
}

TimePoint At(const char* iso) { return *ParseIso(iso); }

}  // namespace

TEST_CASE("status: a stage run on another host is running, then stale once its lease lapses, dead once unlocked") {
  TempDir t;
  auto spool = Spool::Open(t.path());
  REQUIRE(spool.ok());
  CHECK(StageRunJson(*spool, "ocr", At("2025-01-01T10:01:00Z")).empty());

  {
    auto lock = spool->TryLockStage("ocr");  // a backup, say: the lock, no lease
    REQUIRE(lock.ok());
    REQUIRE(lock->held());
    auto r = StageRunJson(*spool, "ocr", At("2025-01-01T10:01:00Z"));
    REQUIRE(r.size() == 1);
    CHECK(r[0]["state"] == "locked");
  }

  StageLock held = WriteLease(*spool, "ocr", "2025-01-01T10:01:00Z");
  auto r = StageRunJson(*spool, "ocr", At("2025-01-01T10:02:00Z"));
  REQUIRE(r.size() == 1);
  CHECK(r[0]["state"] == "running");
  CHECK(r[0]["host"] == "worker-b");
  CHECK(r[0]["renewed_age_s"] == 60);
  std::string text = StatusText(StatusJson(*spool, At("2025-01-01T10:02:00Z")));
  CHECK(text.find("ocr: running on worker-b (pid 4242) since 2025-01-01T10:00:00Z") != std::string::npos);

  // Not renewed for longer than the lease: stale.
  auto late = At("2025-01-01T10:01:00Z") + std::chrono::seconds(kStageLeaseSeconds + 1);
  CHECK(StageRunJson(*spool, "ocr", late)[0]["state"] == "stale");
  text = StatusText(StatusJson(*spool, late));
  CHECK(text.find("ocr: STALE: locked by worker-b (pid 4242)") != std::string::npos);

  // The lock is gone (the host's NFS lease ended, or the process died): the
  // run died, and the next run takes over and clears it.
  held = StageLock();
  CHECK(StageRunJson(*spool, "ocr", late)[0]["state"] == "died");
  text = StatusText(StatusJson(*spool, late));
  CHECK(text.find("ocr: a run on worker-b (pid 4242) started 2025-01-01T10:00:00Z died") != std::string::npos);
  auto next = spool->BeginStageRun("ocr", "r2");
  REQUIRE(next.ok());
  CHECK(next->interrupted());
  r = StageRunJson(*spool, "ocr", late);
  REQUIRE(r.size() == 1);
  CHECK(r[0]["run"] == "r2");
}
