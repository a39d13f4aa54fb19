#include "ncbocr/stage.h"

#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "ncbocr/util.h"
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

TEST_CASE("stage: a claim it cannot read fails the run, after the others went on") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kFetched, "a");
  Claim b = PutClaim(f.spool, ClaimState::kFetched, "b");
  // As a command run by another user leaves it: a manifest the stage cannot
  // parse (a damaged one reads the same to the stage).
  REQUIRE(AtomicWriteFile(f.spool.root() / "fetched" / a.id / "claim.json", "{not json").ok());
  auto report = ForEachClaim(f.ctx, ClaimState::kFetched, 3,
                             [&](Claim&) -> Disposition { return Disposition::To(ClaimState::kOcred); });
  CHECK(report.status.kind() == ErrorKind::kIo);
  CHECK(report.status.exit_code() == 74);
  CHECK(report.status.message().find("1 claim could not be read") != std::string::npos);
  CHECK(report.outcomes["manifest-unreadable"] == 1);
  CHECK(f.spool.Load(b.id)->state == ClaimState::kOcred);  // the other one went on
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

namespace {

// What a run that died on the claim leaves behind: the attempt it began,
// recorded before the work, never closed.
void LeaveOpenAttempt(const Spool& spool, const std::string& id, const std::string& dead_run) {
  Claim c = *spool.Load(id);
  c.open_attempt = OpenAttempt{"ocr", dead_run, "2026-12-01T00:00:00Z"};
  REQUIRE(spool.SaveManifest(c).ok());
}

}  // namespace

TEST_CASE("stage: the attempt is on record before the handler runs, and the move closes it") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kFetched);
  ForEachClaim(f.ctx, ClaimState::kFetched, 3, [&](Claim& c) {
    Claim on_disk = *f.spool.Load(a.id);  // what a SIGKILL now would leave
    REQUIRE(on_disk.open_attempt.has_value());
    CHECK(on_disk.open_attempt->run == f.ctx.run);
    CHECK(on_disk.open_attempt->stage == "ocr");
    CHECK(c.attempts == 0);  // failed attempts before this one
    return Disposition::To(ClaimState::kOcred);
  });
  Claim done = *f.spool.Load(a.id);
  CHECK(done.state == ClaimState::kOcred);
  CHECK_FALSE(done.open_attempt.has_value());
}

TEST_CASE("stage: a claim its runs keep dying on is parked after max attempts, not started again") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kFetched, "poison");
  Claim b = PutClaim(f.spool, ClaimState::kFetched, "good");
  int poison_started = 0;
  // Three runs each die on the poison claim: each begins it (on record) and
  // never ends it. Simulated here by putting back what the dead run leaves.
  for (int run = 1; run <= 3; ++run) {
    Clock clock;
    StageContext ctx{f.config, f.spool, NullLogger(), clock, "ocr"};
    ForEachClaim(ctx, ClaimState::kFetched, 3, [&](Claim& c) {
      if (c.id == a.id) {
        ++poison_started;
        CHECK(c.attempts == run - 1);
        CHECK(c.interrupted == run - 1);
        return Disposition::To(c.state);  // stands in for the run dying here
      }
      return Disposition::To(ClaimState::kOcred);
    });
    LeaveOpenAttempt(f.spool, a.id, "dead-run-" + std::to_string(run));
  }
  CHECK(poison_started == 3);
  CHECK(f.spool.Load(b.id)->state == ClaimState::kOcred);
  Claim mid = *f.spool.Load(a.id);
  CHECK(mid.state == ClaimState::kFetched);

  // The fourth run does not start it again: it parks it with the reason.
  Clock clock;
  StageContext ctx{f.config, f.spool, NullLogger(), clock, "ocr"};
  auto report = ForEachClaim(ctx, ClaimState::kFetched, 3, [&](Claim&) {
    ++poison_started;
    return Disposition::To(ClaimState::kOcred);
  });
  CHECK(poison_started == 3);
  Claim parked = *f.spool.Load(a.id);
  CHECK(parked.state == ClaimState::kFailed);
  CHECK(parked.reason == "gave up after 3 attempts (killed / timed out during ocr)");
  CHECK(IsGaveUpInterrupted(parked.reason));
  CHECK_FALSE(parked.open_attempt.has_value());
  CHECK(report.outcomes["gave_up"] == 1);
}

TEST_CASE("stage: a died attempt and passing failures count together") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kFetched);
  auto retry = [](Claim&) { return Disposition::Retry(std::chrono::seconds(0), "busy"); };
  ForEachClaim(f.ctx, ClaimState::kFetched, 3, retry);  // attempt 1: a passing failure
  {
    Clock clock;
    StageContext ctx{f.config, f.spool, NullLogger(), clock, "ocr"};
    // attempt 2 begins (resumed from deferred) and its run dies
    ForEachClaim(ctx, ClaimState::kFetched, 3, [&](Claim& c) { return Disposition::To(c.state); });
    LeaveOpenAttempt(f.spool, a.id, "dead");
  }
  CHECK(f.spool.Load(a.id)->attempts == 1);
  ForEachClaim(f.ctx, ClaimState::kFetched, 3, [&](Claim& c) {
    CHECK(c.attempts == 2);  // the died one counted
    CHECK(c.interrupted == 1);
    return Disposition::Retry(std::chrono::seconds(0), "busy");  // attempt 3 fails too
  });
  Claim c = *f.spool.Load(a.id);
  CHECK(c.state == ClaimState::kFailed);
  CHECK(c.reason.find("gave up after 3 attempts") != std::string::npos);
}

TEST_CASE("stage: an attempt this run began (a batch) is not taken for a died one") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kFetched);
  Claim loaded = *f.spool.Load(a.id);
  REQUIRE(*BeginAttempt(f.ctx, loaded, 3));
  CHECK(f.spool.Load(a.id)->open_attempt->run == f.ctx.run);
  REQUIRE(*BeginAttempt(f.ctx, loaded, 3));  // again: no change
  ForEachClaim(f.ctx, ClaimState::kFetched, 3, [&](Claim& c) {
    CHECK(c.attempts == 0);
    CHECK(c.interrupted == 0);
    return Disposition::To(ClaimState::kOcred);
  });
  CHECK(f.spool.Load(a.id)->state == ClaimState::kOcred);
}

TEST_CASE("stage: a stop closes the attempt without counting it") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kReady);
  ForEachClaim(f.ctx, ClaimState::kReady, 3, [&](Claim& cl) {
    Disposition d;
    d.next = cl.state;
    d.stop = Status::Credentials("key refused");
    return d;
  });
  Claim c = *f.spool.Load(a.id);
  CHECK_FALSE(c.open_attempt.has_value());
  CHECK(c.attempts == 0);
}

TEST_CASE("stage: runs that share a queue split it claim by claim: each claim handled once, by one of them") {
  Fixture f;
  constexpr int kClaims = 40;
  for (int i = 0; i < kClaims; ++i) PutClaim(f.spool, ClaimState::kFetched, "r" + std::to_string(i));
  std::mutex mu;
  std::map<std::string, int> handled;    // claim id -> times
  std::map<std::string, int> per_run;    // run -> claims
  std::vector<StageReport> reports(3);
  std::vector<std::thread> runs;
  for (int r = 0; r < 3; ++r) {
    runs.emplace_back([&, r] {
      // Each run its own context, as each process (or host) has.
      StageContext ctx{f.config, f.spool, NullLogger(), f.clock, "ocr"};
      ctx.shared_queue = true;
      reports[r] = RunStage(ctx, [&] {
        return ForEachClaim(ctx, ClaimState::kFetched, 3, [&](Claim& c) -> Disposition {
          {
            std::lock_guard<std::mutex> lock(mu);
            handled[c.id]++;
            per_run[ctx.run]++;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          return Disposition::To(ClaimState::kOcred);
        });
      });
    });
  }
  for (auto& t : runs) t.join();
  for (const auto& rep : reports) {
    CHECK(rep.status.ok());
    CHECK_FALSE(rep.skipped_locked);  // none waits for the others' stage lock
  }
  CHECK(handled.size() == kClaims);
  for (const auto& kv : handled) CHECK_MESSAGE(kv.second == 1, kv.first);  // no structured binding: clang 14 cannot capture one
  CHECK(f.spool.List(ClaimState::kOcred).size() == kClaims);
  CHECK(f.spool.List(ClaimState::kFetched).empty());
  CHECK(per_run.size() >= 2);  // the work was shared, not done by the first run alone
  CHECK(testing::LeaseFileCount(f.spool) == 0);
}

TEST_CASE("stage: without a shared queue a second run skips while the first holds the stage") {
  Fixture f;
  PutClaim(f.spool, ClaimState::kFetched, "a");
  StageReport inner;
  StageReport outer = RunStage(f.ctx, [&] {
    StageContext other{f.config, f.spool, NullLogger(), f.clock, "ocr"};
    inner = RunStage(other, [&] { return ForEachClaim(other, ClaimState::kFetched, 3, [](Claim& c) {
                                   return Disposition::To(ClaimState::kOcred);
                                 }); });
    return StageReport{};
  });
  CHECK(inner.skipped_locked);
  CHECK(f.spool.List(ClaimState::kFetched).size() == 1);
}
