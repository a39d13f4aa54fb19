#include "ncbocr/stage.h"

#include <doctest/doctest.h>

#include "test_util.h"

using namespace ncbocr;
using ncbocr::testing::PutClaim;
using ncbocr::testing::TempDir;

namespace {

struct Fixture {
  TempDir t;
  Config config;
  Spool spool = *Spool::Open(t.path());
  Clock clock;
  StageContext ctx{config, spool, NullLogger(), clock, "ocr"};
};

}  // namespace

TEST_CASE("stage: each claim goes where its handler says; one bad claim does not stop the run") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kFetched, "a");
  Claim b = PutClaim(f.spool, ClaimState::kFetched, "b");
  Claim c = PutClaim(f.spool, ClaimState::kFetched, "c");
  auto report = ForEachClaim(f.ctx, ClaimState::kFetched, 3, [&](Claim& cl) -> Disposition {
    if (cl.id == a.id) return Disposition::To(ClaimState::kOcred);
    if (cl.id == b.id) throw std::runtime_error("decoder blew up");
    return Disposition::Park(ClaimState::kReview, "unreadable", "review");
  });
  CHECK(report.status.ok());
  CHECK(report.claims == 3);
  CHECK(f.spool.Load(a.id)->state == ClaimState::kOcred);
  auto failed = f.spool.Load(b.id);
  CHECK(failed->state == ClaimState::kFailed);
  CHECK(failed->reason.find("decoder blew up") != std::string::npos);
  CHECK(f.spool.Load(c.id)->state == ClaimState::kReview);
  CHECK(report.outcomes["ok"] == 1);
  CHECK(report.outcomes["failed"] == 1);
  CHECK(report.outcomes["review"] == 1);
}

TEST_CASE("stage: deferrals come back when due and fail after max attempts") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kFetched);
  auto retry = [](Claim&) { return Disposition::Retry(std::chrono::seconds(0), "busy"); };
  ForEachClaim(f.ctx, ClaimState::kFetched, 3, retry);
  CHECK(f.spool.Load(a.id)->state == ClaimState::kDeferred);
  CHECK(f.spool.Load(a.id)->attempts == 1);
  ForEachClaim(f.ctx, ClaimState::kFetched, 3, retry);  // due at once: resumed, deferred again
  CHECK(f.spool.Load(a.id)->attempts == 2);
  ForEachClaim(f.ctx, ClaimState::kFetched, 3, retry);  // third failure: give up
  auto c = f.spool.Load(a.id);
  CHECK(c->state == ClaimState::kFailed);
  CHECK(c->reason.find("gave up after 3 attempts") != std::string::npos);
}

TEST_CASE("stage: a stop leaves the claim and later claims where they are") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kReady, "a");
  Claim b = PutClaim(f.spool, ClaimState::kReady, "b");
  auto report = ForEachClaim(f.ctx, ClaimState::kReady, 3, [&](Claim& cl) {
    Disposition d;
    d.next = cl.state;
    d.stop = Status::Credentials("key refused");
    return d;
  });
  CHECK(report.status.kind() == ErrorKind::kCredentials);
  CHECK(f.spool.Load(a.id)->state == ClaimState::kReady);
  CHECK(f.spool.Load(b.id)->state == ClaimState::kReady);
}

TEST_CASE("stage: a run that finds the lock held does nothing and succeeds") {
  Fixture f;
  PutClaim(f.spool, ClaimState::kFetched);
  auto held = f.spool.TryLockStage("ocr");
  REQUIRE(held->held());
  bool ran = false;
  auto report = RunStage(f.ctx, [&] { ran = true; return StageReport{}; });
  CHECK_FALSE(ran);
  CHECK(report.skipped_locked);
  CHECK(report.status.ok());
}

TEST_CASE("stage: each run is recorded with its result and the last success") {
  Fixture f;
  RunStage(f.ctx, [] { StageReport r; r.claims = 2; return r; });
  auto run = f.spool.ReadStageRun("ocr");
  REQUIRE(run);
  CHECK((*run)["result"] == "ok");
  CHECK((*run)["claims"] == 2);
  std::string success = (*run)["last_success_at"];
  RunStage(f.ctx, [] { StageReport r; r.status = Status::Unavailable("down"); return r; });
  run = f.spool.ReadStageRun("ocr");
  CHECK((*run)["exit_code"] == 69);
  CHECK((*run)["last_success_at"] == success);
  CHECK((*run)["consecutive_failures"] == 1);
}

TEST_CASE("stage: backoff doubles, is capped, and jitters within 20%") {
  using std::chrono::seconds;
  for (int i = 0; i < 50; ++i) {
    auto b1 = Backoff(1, seconds(60), seconds(3600)).count();
    auto b3 = Backoff(3, seconds(60), seconds(3600)).count();
    auto b20 = Backoff(20, seconds(60), seconds(3600)).count();
    CHECK(b1 >= 48);
    CHECK(b1 <= 72);
    CHECK(b3 >= 192);
    CHECK(b3 <= 288);
    CHECK(b20 <= 4320);
    CHECK(b20 >= 2880);
  }
}
