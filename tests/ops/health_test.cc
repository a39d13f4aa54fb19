// Tests of health.h on real temporary spools, at fixed points in time.
#include "ncbocr/health.h"

#include <doctest/doctest.h>

#include "ncbocr/submit_stage.h"
#include "spool_fixture.h"
#include "test_util.h"

namespace ncbocr {
namespace {

using nlohmann::json;
using testing::CompleteExtract;
using testing::SpoolFixture;

TimePoint At(const char* iso) { return *ParseIso(iso); }

// The checks that fired, in order.
std::vector<std::string> Checks(const HealthReport& r) {
  std::vector<std::string> out;
  for (const auto& p : r.problems) out.push_back(p.check);
  return out;
}

std::string Text(const HealthReport& r) { return r.ToText(); }

void RecordRun(SpoolFixture& f, const std::string& stage, const std::string& last_success, int failures) {
  json run = {{"stage", stage},
              {"started_at", "2025-01-01T09:59:00Z"},
              {"result", failures ? "unavailable: NCB answered 503" : "ok"},
              {"last_success_at", last_success},
              {"consecutive_failures", failures}};
  REQUIRE(f.spool.WriteStageRun(stage, run).ok());
}

TEST_CASE("health: a new spool is healthy before its stages are due") {
  SpoolFixture f;
  HealthReport r = CheckHealth(f.spool, f.config, At("2025-01-01T10:00:00Z"), 50.0);
  CHECK(r.healthy());
  CHECK(Text(r) == "healthy\n");
  CHECK(r.ToJson() == json({{"healthy", true}, {"problems", json::array()}}));
}

TEST_CASE("health: a stage that never ran within its interval of the spool's making is a problem") {
  SpoolFixture f;
  // Two hours after the spool was made, nothing has ever run: not scheduled.
  const TimePoint later = std::chrono::system_clock::now() + std::chrono::hours(2);
  HealthReport r = CheckHealth(f.spool, f.config, later, 50.0);
  CHECK_FALSE(r.healthy());
  CHECK(Checks(r) == std::vector<std::string>(5, "stage"));
  CHECK(Text(r).find("fetch has never run, ") != std::string::npos);
  CHECK(Text(r).find("after the spool was made") != std::string::npos);
  // Once each has succeeded recently, it is healthy again.
  for (const char* s : {"fetch", "ocr", "extract", "submit", "archive"}) {
    RecordRun(f, s, IsoUtc(later - std::chrono::minutes(1)), 0);
  }
  CHECK(CheckHealth(f.spool, f.config, later, 50.0).healthy());
}

TEST_CASE("health: a stage that never ran counts once work waits for it") {
  SpoolFixture f;
  f.Add(ClaimState::kReady, CompleteExtract());
  HealthReport r = CheckHealth(f.spool, f.config, At("2025-01-01T10:00:00Z"), 50.0);
  CHECK(Checks(r) == std::vector<std::string>{"stage"});
  CHECK(Text(r).find("submit has never run and 1 claims wait") != std::string::npos);
}

TEST_CASE("health: a stage is stale once its last success is older than its interval") {
  SpoolFixture f;
  RecordRun(f, "fetch", "2025-01-01T09:55:00Z", 0);
  RecordRun(f, "archive", "2025-01-01T09:40:00Z", 0);
  CHECK(CheckHealth(f.spool, f.config, At("2025-01-01T10:00:00Z"), 50.0).healthy());

  HealthReport late = CheckHealth(f.spool, f.config, At("2025-01-01T10:06:00Z"), 50.0);
  REQUIRE(Checks(late) == std::vector<std::string>{"stage"});  // fetch: 11 min > 10; archive: 26 min < 30
  CHECK(late.problems[0].message.find("fetch last succeeded 11m ago") != std::string::npos);

  f.config.health.stage_interval["fetch"] = 3600;
  CHECK(CheckHealth(f.spool, f.config, At("2025-01-01T10:06:00Z"), 50.0).healthy());
  HealthReport archive_late = CheckHealth(f.spool, f.config, At("2025-01-01T10:11:00Z"), 50.0);
  REQUIRE(Checks(archive_late) == std::vector<std::string>{"stage"});
  CHECK(archive_late.problems[0].message.find("archive last succeeded 31m ago") != std::string::npos);
}

TEST_CASE("health: repeated stage failures") {
  SpoolFixture f;
  RecordRun(f, "submit", "2025-01-01T09:58:00Z", 2);
  CHECK(CheckHealth(f.spool, f.config, At("2025-01-01T10:00:00Z"), 50.0).healthy());
  RecordRun(f, "submit", "2025-01-01T09:58:00Z", 3);
  HealthReport r = CheckHealth(f.spool, f.config, At("2025-01-01T10:00:00Z"), 50.0);
  CHECK(Checks(r) == std::vector<std::string>{"failing"});
  CHECK(Text(r).find("submit failed 3 runs in a row") != std::string::npos);
  RecordRun(f, "ocr", "", 1);
  CHECK(Text(CheckHealth(f.spool, f.config, At("2025-01-01T10:00:00Z"), 50.0)).find("ocr has never succeeded") !=
        std::string::npos);
}

TEST_CASE("health: backlog and review thresholds") {
  SpoolFixture f;
  f.config.health.max_backlog = 1;
  f.config.health.max_review = 1;
  RecordRun(f, "archive", "2025-01-01T09:59:00Z", 0);
  f.Add(ClaimState::kSubmitted, CompleteExtract());
  f.Add(ClaimState::kReview, CompleteExtract());
  TimePoint now = At("2025-01-01T10:00:00Z");
  CHECK(CheckHealth(f.spool, f.config, now, 50.0).healthy());
  f.Add(ClaimState::kSubmitted, CompleteExtract());
  f.Add(ClaimState::kFailed, CompleteExtract());
  HealthReport r = CheckHealth(f.spool, f.config, now, 50.0);
  CHECK(Checks(r) == std::vector<std::string>{"backlog", "review"});
  CHECK(Text(r).find("2 claims wait in the pipeline (limit 1)") != std::string::npos);
}

TEST_CASE("health: claims retried often, and NCB down for longer than alert_after") {
  SpoolFixture f;
  // The stages' records (and their absence) are not under test.
  for (const char* s : {"fetch", "ocr", "extract", "submit", "archive"}) f.config.health.stage_interval[s] = 1000000000;
  RecordRun(f, "submit", "2025-01-01T09:59:00Z", 0);
  Claim c = f.Add(ClaimState::kReady, CompleteExtract());
  REQUIRE(f.spool.Defer(c, ClaimState::kReady, std::chrono::seconds(60), "submit",
                        "NCB unreachable: connection refused").ok());
  TimePoint deferred_at = *ParseIso(c.history.back().at);

  HealthReport soon = CheckHealth(f.spool, f.config, deferred_at + std::chrono::seconds(60), 50.0);
  CHECK(soon.healthy());
  HealthReport later = CheckHealth(f.spool, f.config, deferred_at + std::chrono::seconds(901), 50.0);
  CHECK(Checks(later) == std::vector<std::string>{"ncb"});
  CHECK(Text(later).find(c.id) != std::string::npos);
  CHECK(Text(later).find("connection refused") == std::string::npos);  // ids and counts only

  f.config.health.max_claim_attempts = 1;
  CHECK(Checks(CheckHealth(f.spool, f.config, deferred_at, 50.0)) == std::vector<std::string>{"retrying"});
}

TEST_CASE("health: claims a stage keeps dying on, waiting or parked, are named") {
  SpoolFixture f;
  for (const auto& stage : {"fetch", "ocr", "extract", "submit", "archive"})
    RecordRun(f, stage, "2025-01-01T09:59:00Z", 0);
  for (const auto& stage : {"fetch", "ocr", "extract", "submit", "archive"}) {
    f.config.health.stage_interval[stage] = 1000000000;  // the records' age is not under test
  }
  const TimePoint now = At("2025-01-01T10:00:00Z");
  Claim waiting = f.Add(ClaimState::kFetched, CompleteExtract());
  CHECK(CheckHealth(f.spool, f.config, now, 50.0).healthy());
  waiting.attempts = waiting.interrupted = 2;  // two ocr runs died on it
  REQUIRE(f.spool.SaveManifest(waiting).ok());
  HealthReport r = CheckHealth(f.spool, f.config, now, 50.0);
  CHECK(Checks(r) == std::vector<std::string>{"poison"});
  CHECK(Text(r).find("ocr died on claim " + waiting.id + " 2 times") != std::string::npos);

  Claim parked = f.Add(ClaimState::kFetched, CompleteExtract());
  REQUIRE(f.spool
              .Move(parked, ClaimState::kFailed, "ocr",
                    "gave up after 3 attempts (killed / timed out during ocr)")
              .ok());
  Claim other = f.Add(ClaimState::kFetched, CompleteExtract());
  REQUIRE(f.spool.Move(other, ClaimState::kFailed, "ocr", "email x: unreadable: corrupt").ok());
  r = CheckHealth(f.spool, f.config, now, 50.0);
  CHECK(Checks(r) == std::vector<std::string>{"poison", "poison"});
  CHECK(Text(r).find(
            "1 claims parked in failed after their stage died on them (killed / timed out): " +
            parked.id) != std::string::npos);
  CHECK(Text(r).find(other.id) == std::string::npos);
}

struct FixedClock : Clock {
  TimePoint now;
  TimePoint Now() const override { return now; }
};

TEST_CASE("health: NCB down per the submit stage's outage record") {
  SpoolFixture f;
  FixedClock clock;
  clock.now = At("2025-01-01T10:00:00Z");
  FileOutboxClient unused("/nonexistent");
  NcbOutageWatch watch(unused, f.spool, std::chrono::seconds(900), clock, NullLogger());
  NcbResponse down;
  down.http_status = 503;
  watch.Note(down);
  CHECK(CheckHealth(f.spool, f.config, At("2025-01-01T10:10:00Z"), 50.0).healthy());
  HealthReport r = CheckHealth(f.spool, f.config, At("2025-01-01T10:20:00Z"), 50.0);
  REQUIRE(Checks(r) == std::vector<std::string>{"ncb"});
  CHECK(r.problems[0].message.find("NCB unreachable for 20m since 2025-01-01T10:00:00Z") != std::string::npos);

  NcbResponse up;
  up.http_status = 201;
  watch.Note(up);
  CHECK(CheckHealth(f.spool, f.config, At("2025-01-01T10:20:00Z"), 50.0).healthy());
}

TEST_CASE("health: a stage locked by a run whose lease lapsed is stale, until the lock goes") {
  SpoolFixture f;
  for (const char* s : {"fetch", "ocr", "extract", "submit", "archive"}) RecordRun(f, s, "2025-01-01T09:59:00Z", 0);
  json lease = {{"host", "worker-b"}, {"pid", 4242}, {"run", "r1"}, {"started_at", "2025-01-01T09:59:00Z"},
                {"renewed_at", "2025-01-01T09:59:30Z"}, {"lease_s", 120}};
  StageLock lock = testing::HoldLease(f.spool, "ocr", "r1", lease);  // the run of another host
  CHECK(CheckHealth(f.spool, f.config, At("2025-01-01T10:01:00Z"), 50.0).healthy());
  HealthReport r = CheckHealth(f.spool, f.config, At("2025-01-01T10:02:00Z"), 50.0);
  REQUIRE(Checks(r) == std::vector<std::string>{"stale"});
  CHECK(r.problems[0].message.find("ocr is locked by worker-b (pid 4242)") != std::string::npos);
  CHECK(r.problems[0].message.find("for 2m") != std::string::npos);
  // Once the lock is gone the next run takes over: nothing stale remains.
  lock = StageLock();
  CHECK(CheckHealth(f.spool, f.config, At("2025-01-01T10:02:00Z"), 50.0).healthy());
}

TEST_CASE("health: disk space") {
  SpoolFixture f;
  CHECK(Checks(CheckHealth(f.spool, f.config, At("2025-01-01T10:00:00Z"), 5.0)) ==
        std::vector<std::string>{"disk"});
  auto free = FreeSpacePercent(f.spool.root());
  REQUIRE(free.has_value());
  CHECK(*free >= 0);
  CHECK(*free <= 100);
  f.config.health.min_free_percent = 0;
  CHECK(CheckHealth(f.spool, f.config, At("2025-01-01T10:00:00Z")).healthy());
}

}  // namespace
}  // namespace ncbocr
