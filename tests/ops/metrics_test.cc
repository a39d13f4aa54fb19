#include "ncbocr/metrics.h"

#include <sys/stat.h>

#include <sstream>

#include <doctest/doctest.h>

#include "ncbocr/stage.h"
#include "test_util.h"

using namespace ncbocr;
using ncbocr::testing::PutClaim;
using ncbocr::testing::TempDir;

namespace {

// The value of the sample whose name and labels are exactly `series`.
std::optional<double> Value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

void Move(const Spool& spool, Claim& c, ClaimState to, const std::string& actor, const std::string& reason = "") {
  Status s = spool.Move(c, to, actor, reason);
  REQUIRE(s.ok());
}

void WriteOcr(const Spool& spool, const Claim& c, double total_ms) {
  nlohmann::json j = {{"pages", nlohmann::json::array()}, {"timings", {{"decode_ms", 1}, {"total_ms", total_ms}}}};
  REQUIRE(spool.WriteClaimFile(c, "ocr.json", j.dump()).ok());
}

}  // namespace

TEST_CASE("metrics: stage counters and NCB outcomes come from the journal") {
  TempDir t;
  Spool spool = *Spool::Open(t.path());
  Claim a = PutClaim(spool, ClaimState::kFetched, "a");
  Claim b = PutClaim(spool, ClaimState::kFetched, "b");
  Claim c = PutClaim(spool, ClaimState::kFetched, "c");
  for (Claim* x : {&a, &b, &c}) Move(spool, *x, ClaimState::kOcred, "ocr");
  Move(spool, a, ClaimState::kReady, "extract");
  Move(spool, b, ClaimState::kReady, "extract");
  Move(spool, c, ClaimState::kReview, "extract", "total unreadable");
  Move(spool, a, ClaimState::kSubmitted, "submit");
  REQUIRE(spool.Defer(b, ClaimState::kReady, std::chrono::seconds(60), "submit", "NCB unreachable: reset").ok());
  Move(spool, c, ClaimState::kRejected, "user:aisyah", "not a receipt");

  std::string m = RenderMetrics(spool, std::chrono::system_clock::now(), false);
  CHECK(Value(m, R"(ncbocr_claims_processed_total{stage="ocr",to="ocred"})") == 3);
  CHECK(Value(m, R"(ncbocr_claims_processed_total{stage="extract",to="ready"})") == 2);
  CHECK(Value(m, R"(ncbocr_claims_processed_total{stage="extract",to="review"})") == 1);
  CHECK(Value(m, R"(ncbocr_claims_processed_total{stage="test",to="fetched"})") == 3);
  // A clerk's name is not a label.
  CHECK(Value(m, R"(ncbocr_claims_processed_total{stage="user",to="rejected"})") == 1);
  CHECK(m.find("aisyah") == std::string::npos);
  CHECK(Value(m, R"(ncbocr_ncb_submissions_total{outcome="accepted"})") == 1);
  CHECK(Value(m, R"(ncbocr_ncb_submissions_total{outcome="retry"})") == 1);
  CHECK(Value(m, R"(ncbocr_ncb_submissions_total{outcome="refused"})") == 0);
  CHECK(Value(m, R"(ncbocr_claims{state="submitted"})") == 1);
  CHECK(Value(m, R"(ncbocr_claims{state="deferred"})") == 1);
  CHECK(Value(m, R"(ncbocr_claims{state="fetched"})") == 0);
  CHECK(Value(m, R"(ncbocr_claims{state="rejected"})") == 1);
  CHECK(m.find("# TYPE ncbocr_claims_processed_total counter") != std::string::npos);

  // The counters are read back from disk: a second process sees the same.
  Spool again = *Spool::Open(t.path());
  std::string m2 = RenderMetrics(again, std::chrono::system_clock::now(), false);
  CHECK(Value(m2, R"(ncbocr_claims_processed_total{stage="ocr",to="ocred"})") == 3);
}

TEST_CASE("metrics: the oldest waiting claim's age per state") {
  TempDir t;
  Spool spool = *Spool::Open(t.path());
  PutClaim(spool, ClaimState::kReview, "r");
  auto later = std::chrono::system_clock::now() + std::chrono::hours(1);
  std::string m = RenderMetrics(spool, later, false);
  auto age = Value(m, R"(ncbocr_claims_oldest_age_seconds{state="review"})");
  REQUIRE(age);
  CHECK(*age >= 3599);
  CHECK(*age < 3700);
  CHECK(Value(m, R"(ncbocr_claims_oldest_age_seconds{state="fetched"})") == 0);
  CHECK_FALSE(Value(m, R"(ncbocr_claims_oldest_age_seconds{state="done"})"));
}

TEST_CASE("metrics: stage gauges come from the stage run records") {
  TempDir t;
  Spool spool = *Spool::Open(t.path());
  nlohmann::json run = {{"stage", "submit"}, {"started_at", "2024-12-18T02:42:00Z"},
                        {"duration_s", 1.5}, {"exit_code", 77}, {"claims", 4},
                        {"consecutive_failures", 2}, {"last_success_at", "2024-12-18T02:00:00Z"}};
  REQUIRE(spool.WriteStageRun("submit", run).ok());
  std::string m = RenderMetrics(spool, std::chrono::system_clock::now(), false);
  CHECK(Value(m, R"(ncbocr_stage_last_run_timestamp_seconds{stage="submit"})") == 1734489720);
  CHECK(Value(m, R"(ncbocr_stage_last_success_timestamp_seconds{stage="submit"})") == 1734487200);
  CHECK(Value(m, R"(ncbocr_stage_last_duration_seconds{stage="submit"})") == 1.5);
  CHECK(Value(m, R"(ncbocr_stage_last_exit_code{stage="submit"})") == 77);
  CHECK(Value(m, R"(ncbocr_stage_consecutive_failures{stage="submit"})") == 2);
  CHECK(Value(m, R"(ncbocr_stage_last_run_claims{stage="submit"})") == 4);
  // Stages that never ran have no series (not a misleading 0 timestamp).
  CHECK_FALSE(Value(m, R"(ncbocr_stage_last_run_timestamp_seconds{stage="ocr"})"));
}

TEST_CASE("metrics: OCR time and confidence histograms, kept after claims leave the spool") {
  TempDir t;
  Spool spool = *Spool::Open(t.path());
  Claim a = PutClaim(spool, ClaimState::kOcred, "a");
  Claim b = PutClaim(spool, ClaimState::kOcred, "b");
  WriteOcr(spool, a, 1500);
  WriteOcr(spool, b, 25000);
  a.confidence = 0.95;
  b.confidence = 0.5;
  REQUIRE(spool.SaveManifest(a).ok());
  REQUIRE(spool.SaveManifest(b).ok());
  Move(spool, a, ClaimState::kDone, "archive");

  auto now = std::chrono::system_clock::now();
  std::string m = RenderMetrics(spool, now, true);
  CHECK(Value(m, R"(ncbocr_ocr_duration_seconds_bucket{le="1"})") == 0);
  CHECK(Value(m, R"(ncbocr_ocr_duration_seconds_bucket{le="2"})") == 1);
  CHECK(Value(m, R"(ncbocr_ocr_duration_seconds_bucket{le="30"})") == 2);
  CHECK(Value(m, R"(ncbocr_ocr_duration_seconds_bucket{le="+Inf"})") == 2);
  CHECK(Value(m, "ncbocr_ocr_duration_seconds_sum") == doctest::Approx(26.5));
  CHECK(Value(m, "ncbocr_ocr_duration_seconds_count") == 2);
  CHECK(Value(m, R"(ncbocr_extraction_confidence_bucket{le="0.4"})") == 0);
  CHECK(Value(m, R"(ncbocr_extraction_confidence_bucket{le="0.5"})") == 1);
  CHECK(Value(m, R"(ncbocr_extraction_confidence_bucket{le="0.9"})") == 1);
  CHECK(Value(m, R"(ncbocr_extraction_confidence_bucket{le="0.95"})") == 2);
  CHECK(Value(m, "ncbocr_extraction_confidence_count") == 2);

  // A purged claim stays counted: histograms must not go backwards.
  std::filesystem::remove_all(spool.StateDir(ClaimState::kDone) / a.id);
  std::string m2 = RenderMetrics(spool, now, true);
  CHECK(Value(m2, "ncbocr_ocr_duration_seconds_count") == 2);
  CHECK(Value(m2, "ncbocr_extraction_confidence_count") == 2);
}

TEST_CASE("metrics: without update_cache nothing is written to the spool") {
  TempDir t;
  Spool spool = *Spool::Open(t.path());
  Claim a = PutClaim(spool, ClaimState::kOcred, "a");
  WriteOcr(spool, a, 800);
  std::string m = RenderMetrics(spool, std::chrono::system_clock::now(), false);
  CHECK(Value(m, "ncbocr_ocr_duration_seconds_count") == 1);
  CHECK_FALSE(std::filesystem::exists(t.path() / "metrics" / "observed.json"));
}

TEST_CASE("metrics: the file is written whole, world-readable, and skipped while another writer holds the lock") {
  TempDir t;
  Spool spool = *Spool::Open(t.path() / "spool");
  PutClaim(spool, ClaimState::kReview, "r");
  MetricsConfig mc;
  mc.enabled = true;
  mc.textfile_dir = (t.path() / "textfile").string();

  Status missing = WriteMetricsFile(mc, spool, std::chrono::system_clock::now());
  CHECK(missing.kind() == ErrorKind::kIo);

  std::filesystem::create_directory(mc.textfile_dir);
  std::string path = MetricsFilePath(mc);
  {
    auto held = spool.TryLockStage("metrics");
    REQUIRE(held->held());
    CHECK(WriteMetricsFile(mc, spool, std::chrono::system_clock::now()).ok());
    CHECK_FALSE(std::filesystem::exists(path));
  }
  REQUIRE(WriteMetricsFile(mc, spool, std::chrono::system_clock::now()).ok());
  auto text = ReadFile(path);
  REQUIRE(text.ok());
  CHECK(Value(*text, R"(ncbocr_claims{state="review"})") == 1);
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  // Only the finished file is in the directory (the collector reads *.prom).
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(mc.textfile_dir)) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("metrics: every stage run rewrites the file when metrics are enabled") {
  TempDir t;
  Config config;
  config.metrics.enabled = true;
  config.metrics.textfile_dir = t.path().string();
  Spool spool = *Spool::Open(t.path() / "spool");
  Clock clock;
  StageContext ctx{config, spool, NullLogger(), clock, "archive"};
  ctx.after_run = WriteMetricsAfterRun;
  RunStage(ctx, [] {
    StageReport r;
    r.claims = 3;
    return r;
  });
  auto text = ReadFile(t.path() / "ncbocr.prom");
  REQUIRE(text.ok());
  CHECK(Value(*text, R"(ncbocr_stage_last_run_claims{stage="archive"})") == 3);
  CHECK(Value(*text, R"(ncbocr_stage_last_exit_code{stage="archive"})") == 0);

  config.metrics.enabled = false;
  std::filesystem::remove(t.path() / "ncbocr.prom");
  RunStage(ctx, [] { return StageReport(); });
  CHECK_FALSE(std::filesystem::exists(t.path() / "ncbocr.prom"));
}

TEST_CASE("metrics: a stage's own series, with their HELP and TYPE lines, for a push") {
  const std::string rendered =
      "# HELP ncbocr_stage_last_run_claims Claims handled by the stage's last run.\n"
      "# TYPE ncbocr_stage_last_run_claims gauge\n"
      "ncbocr_stage_last_run_claims{stage=\"fetch\"} 3\n"
      "ncbocr_stage_last_run_claims{stage=\"ocr\"} 2\n"
      "# HELP ncbocr_claims Claims per state.\n"
      "# TYPE ncbocr_claims gauge\n"
      "ncbocr_claims{state=\"done\"} 7\n"
      "# HELP ncbocr_moves_total Moves.\n"
      "# TYPE ncbocr_moves_total counter\n"
      "ncbocr_moves_total{stage=\"ocr\",to=\"ocred\"} 5\n";
  CHECK(StageMetrics(rendered, "fetch") ==
        "# HELP ncbocr_stage_last_run_claims Claims handled by the stage's last run.\n"
        "# TYPE ncbocr_stage_last_run_claims gauge\n"
        "ncbocr_stage_last_run_claims{stage=\"fetch\"} 3\n");
  std::string ocr = StageMetrics(rendered, "ocr");
  CHECK(ocr.find("stage=\"ocr\"} 2") != std::string::npos);
  CHECK(ocr.find("# TYPE ncbocr_moves_total counter\nncbocr_moves_total{stage=\"ocr\",to=\"ocred\"} 5") !=
        std::string::npos);
  CHECK(ocr.find("ncbocr_claims") == std::string::npos);  // not labelled with a stage
  CHECK(StageMetrics(rendered, "archive").empty());
}
