// Time limits and budgets of OCR (issue 15): a page is cancelled at
// ocr.page_timeout and a file stopped at ocr.claim_timeout, the claim is
// parked as timed out; an email's receipts together stay within
// ocr.max_email_pixels; a claim's attempt is on record exactly while a worker
// is on it.
#include <chrono>
#include <thread>

#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ncbocr/document.h"
#include "ncbocr/ocr_stage.h"
#include "test_util.h"

using namespace ncbocr;

namespace {

const std::filesystem::path kData = std::filesystem::path(NCBOCR_SOURCE_DIR) / "tests/data/ocr";

// An engine that cannot be cancelled: each recognition takes `delay`, and
// the hook (if any) runs first.
class SlowEngine : public OcrEngine {
 public:
  explicit SlowEngine(std::chrono::milliseconds delay, std::function<void()> hook = nullptr)
      : delay_(delay), hook_(std::move(hook)) {}
  std::string Name() const override { return "slow"; }
  Result<OcrText> Recognize(const cv::Mat&) override {
    if (hook_) hook_();
    std::this_thread::sleep_for(delay_);
    OcrText t;
    OcrLine l;
    l.text = "TOTAL 1.00";
    l.confidence = 0.95;
    l.words.push_back({"TOTAL", 0.95, {0, 0, 10, 10}});
    l.words.push_back({"1.00", 0.95, {12, 0, 10, 10}});
    t.lines = {l, l, l};
    t.mean_confidence = 0.95;
    return t;
  }

 private:
  std::chrono::milliseconds delay_;
  std::function<void()> hook_;
};

OcrConfig NoRereads() {
  OcrConfig cfg;
  cfg.reread_lines = false;
  return cfg;
}

bool HaveTesseract() {
  OcrConfig cfg;
  cfg.languages = {"eng"};
  return MakeTesseractEngine(cfg).ok();
}

// Claim ids sort by creation time; these fix the order claims are taken in.
std::string Id(int n) { return "20260101-000000-0000000" + std::to_string(n); }

// Fetch's claims of one email with several receipts.
Claim PutPart(const Spool& spool, const std::string& bytes, int part, int parts) {
  Claim c = testing::PutClaim(spool, ClaimState::kFetched, bytes, nullptr, Id(part));
  c.source.email_id = "mail-multi";
  c.source.part_index = part;
  c.source.part_count = parts;
  REQUIRE(spool.SaveManifest(c).ok());
  return c;
}

}  // namespace

TEST_CASE("ocr limits: a page past ocr.page_timeout is refused, naming the limit") {
  OcrConfig cfg = NoRereads();
  cfg.page_timeout = 1;
  cfg.claim_timeout = 0;
  SlowEngine engine(std::chrono::milliseconds(1200));
  auto r = OcrFile(engine, kData / "receipt.png", cfg, DefaultPreprocessOptions());
  REQUIRE_FALSE(r.ok());
  CHECK(IsOcrTimeout(r.status()));
  CHECK(r.status().kind() == ErrorKind::kPermanent);
  CHECK(r.status().message().find(
            "receipt.png: timed out: page 1 of 1 took more than 1 s (ocr.page_timeout)") !=
        std::string::npos);
  CHECK_FALSE(engine.deadline().has_value());  // the next file starts without the old deadline

  cfg.page_timeout = 0;  // no limit: the same page is read
  CHECK(OcrFile(engine, kData / "receipt.png", cfg, DefaultPreprocessOptions()).ok());
}

TEST_CASE("ocr limits: a file past ocr.claim_timeout is stopped between pages") {
  OcrConfig cfg = NoRereads();
  cfg.page_timeout = 0;
  cfg.claim_timeout = 1;
  SlowEngine engine(std::chrono::milliseconds(700));  // each page within it, two pages not
  auto r = OcrFile(engine, kData / "two_pages.tif", cfg, DefaultPreprocessOptions());
  REQUIRE_FALSE(r.ok());
  CHECK(IsOcrTimeout(r.status()));
  CHECK(r.status().message().find("stopped at page 2 of 2 after 1 s (ocr.claim_timeout)") !=
        std::string::npos);
  CHECK_FALSE(IsOcrTimeout(Status::Permanent("x.png: cannot decode PNG image")));
}

TEST_CASE("ocr limits: Tesseract abandons a page at its deadline") {
  if (!HaveTesseract()) {
    MESSAGE("skipped: Tesseract eng data not installed");
    return;
  }
  OcrConfig cfg;
  cfg.languages = {"eng"};
  auto engine = MakeTesseractEngine(cfg);
  REQUIRE(engine.ok());
  // A dense page of text: far more than the deadline's 50 ms to read.
  cv::Mat page(3000, 2200, CV_8UC1, cv::Scalar(255));
  for (int y = 40; y < page.rows; y += 36) {
    cv::putText(page, "TOTAL RM 45.05 CASH 50.00 CHANGE 4.95 GST 6% 2.55", {20, y},
                cv::FONT_HERSHEY_SIMPLEX, 1.1, cv::Scalar(0), 2);
  }
  (*engine)->set_deadline(std::chrono::steady_clock::now() + std::chrono::milliseconds(50));
  auto cut = (*engine)->Recognize(page);
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.status().message().find("timed out") != std::string::npos);
  (*engine)->set_deadline(std::nullopt);  // the same engine reads the next page in full
  cv::Mat small = page(cv::Rect(0, 0, 2200, 300)).clone();
  auto whole = (*engine)->Recognize(small);
  REQUIRE(whole.ok());
  CHECK_FALSE(whole->lines.empty());
}

TEST_CASE("ocr limits: the stage parks a timed-out claim with the reason, and goes on") {
  testing::TempDir t;
  Config config;
  config.ocr = NoRereads();
  config.ocr.workers = 1;
  config.ocr.page_timeout = 1;
  Spool spool = *Spool::Open(t.path());
  Clock clock;
  StageContext ctx{config, spool, NullLogger(), clock, "ocr"};
  std::string png = ReadFile(kData / "receipt.png").value();
  std::string tif = ReadFile(kData / "two_pages.tif").value();
  Claim slow = testing::PutClaim(spool, ClaimState::kFetched, png, nullptr, Id(1));
  Claim fine = testing::PutClaim(spool, ClaimState::kFetched, tif, nullptr, Id(2));
  int calls = 0;
  StageReport r = RunOcrStageWith(ctx, [&]() -> Result<std::unique_ptr<OcrEngine>> {
    // The first page read (the first claim's) is slow; the others are quick.
    return std::unique_ptr<OcrEngine>(new SlowEngine(std::chrono::milliseconds(0), [&] {
      if (calls++ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    }));
  });
  CHECK(r.status.ok());
  CHECK(r.outcomes["timed_out"] == 1);
  Claim s = *spool.Load(slow.id);
  CHECK(s.state == ClaimState::kFailed);
  CHECK(s.reason.find("email mail-1 attachment receipt.jpg: ") != std::string::npos);
  CHECK(s.reason.find("timed out: page 1 of 1 took more than 1 s (ocr.page_timeout)") !=
        std::string::npos);
  CHECK(s.reason.find("unreadable") == std::string::npos);
  CHECK(spool.Load(fine.id)->state == ClaimState::kOcred);
}

TEST_CASE(
    "ocr limits: an email's receipts are admitted in order while they fit ocr.max_email_pixels") {
  testing::TempDir t;
  Config config;
  config.ocr = NoRereads();
  config.ocr.workers = 2;
  Spool spool = *Spool::Open(t.path());
  Clock clock;
  StageContext ctx{config, spool, NullLogger(), clock, "ocr"};
  std::string png = ReadFile(kData / "receipt.png").value();  // 329 x 394
  const long long page = 329LL * 394;
  config.ocr.max_email_pixels = 2 * page + page / 2;  // two fit, not three
  Claim a = PutPart(spool, png, 0, 3);
  Claim b = PutPart(spool, png + "b", 1, 3);  // distinct files, same pixels
  Claim c = PutPart(spool, png + "c", 2, 3);
  Claim alone =
      testing::PutClaim(spool, ClaimState::kFetched, png + "d", nullptr, Id(3));  // another email
  int recognised = 0;
  std::mutex mu;
  StageReport r = RunOcrStageWith(ctx, [&]() -> Result<std::unique_ptr<OcrEngine>> {
    return std::unique_ptr<OcrEngine>(new SlowEngine(std::chrono::milliseconds(0), [&] {
      std::lock_guard<std::mutex> g(mu);
      ++recognised;
    }));
  });
  CHECK(r.status.ok());
  CHECK(recognised == 3);  // the refused receipt was never decoded
  CHECK(spool.Load(a.id)->state == ClaimState::kOcred);
  CHECK(spool.Load(b.id)->state == ClaimState::kOcred);
  CHECK(spool.Load(alone.id)->state == ClaimState::kOcred);
  Claim refused = *spool.Load(c.id);
  CHECK(refused.state == ClaimState::kFailed);
  CHECK(refused.reason.find("(ocr.max_email_pixels)") != std::string::npos);
  CHECK(refused.reason.find("would bring them to " + std::to_string(3 * page)) !=
        std::string::npos);
  CHECK(r.outcomes["over_budget"] == 1);
}

TEST_CASE("ocr limits: a claim's attempt is on record while a worker reads it, and only then") {
  testing::TempDir t;
  Config config;
  config.ocr = NoRereads();
  config.ocr.workers = 1;
  Spool spool = *Spool::Open(t.path());
  Clock clock;
  StageContext ctx{config, spool, NullLogger(), clock, "ocr"};
  std::string png = ReadFile(kData / "receipt.png").value();
  std::vector<Claim> claims;
  for (int i = 0; i < 3; ++i)
    claims.push_back(testing::PutClaim(spool, ClaimState::kFetched, png + char('a' + i)));
  std::vector<int> open_while_reading;
  StageReport r = RunOcrStageWith(ctx, [&]() -> Result<std::unique_ptr<OcrEngine>> {
    return std::unique_ptr<OcrEngine>(new SlowEngine(std::chrono::milliseconds(0), [&] {
      // What a SIGKILL now would leave: the one claim being read charged.
      int open = 0;
      for (const auto& id : spool.List(ClaimState::kFetched)) {
        auto c = spool.LoadIn(ClaimState::kFetched, id);
        if (c.ok() && c->open_attempt && c->open_attempt->run == ctx.run) ++open;
      }
      open_while_reading.push_back(open);
    }));
  });
  CHECK(r.status.ok());
  CHECK(open_while_reading == std::vector<int>{1, 1, 1});
  for (const auto& c : claims) {
    Claim after = *spool.Load(c.id);
    CHECK(after.state == ClaimState::kOcred);
    CHECK_FALSE(after.open_attempt.has_value());
  }
}

TEST_CASE("ocr limits: budgets over a document's pages are checked before decoding") {
  testing::TempDir t;
  // Small pages and small limits; the sizes (TIFFs of 59.5 MP pages)
  // are in the hostile suite (tests/hostile).
  cv::Mat blank(16, 16, CV_8UC1, cv::Scalar(255));
  std::vector<cv::Mat> pages(2, blank);
  REQUIRE(cv::imwrite((t.path() / "two.tif").string(), pages));
  OcrConfig cfg;
  auto two = DocumentReader::Open(t.path() / "two.tif", cfg);
  REQUIRE(two.ok());
  CHECK(two->total_pixels() == 2 * 16 * 16);
  cfg.max_claim_pixels = 2 * 16 * 16 - 1;
  auto over = DocumentReader::Open(t.path() / "two.tif", cfg);
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().message().find(
            "its 2 pages hold 512 pixels together, more than the limit of 511 "
            "(ocr.max_claim_pixels)") != std::string::npos);

  // The memory a worker would need for a page, from its header.
  CHECK(PageMemoryEstimateMb(60'000'000, 3) > PageMemoryEstimateMb(60'000'000, 1));
  CHECK(PageMemoryEstimateMb(60'000'000, 1) > PageMemoryEstimateMb(8'000'000, 1));
  OcrConfig tight;
  tight.worker_memory_mb = static_cast<int>(PageMemoryEstimateMb(16 * 16, 1)) - 1;
  auto heavy = DocumentReader::Open(t.path() / "two.tif", tight);
  REQUIRE_FALSE(heavy.ok());
  CHECK(heavy.status().message().find("page 1 (256 pixels) would need about") != std::string::npos);
  CHECK(heavy.status().message().find("(ocr.worker_memory_mb)") != std::string::npos);
}
