#include "ncbocr/ocr_stage.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include <doctest/doctest.h>

#include "ncbocr/ocr_batch.h"
#include "test_util.h"

using namespace ncbocr;

namespace {

const std::filesystem::path kData = std::filesystem::path(NCBOCR_SOURCE_DIR) / "tests/data/ocr";

// Returns canned lines; remembers the images and threads it saw.
class FakeEngine : public OcrEngine {
 public:
  explicit FakeEngine(std::vector<std::string> lines, std::optional<Orientation> o = std::nullopt)
      : lines_(std::move(lines)), orientation_(o) {}
  std::string Name() const override { return "fake"; }
  Result<OcrText> Recognize(const cv::Mat& gray) override {
    sizes.push_back(gray.size());
    OcrText t;
    // Reads well only when the page is taller than wide (as an upright receipt).
    double conf = gray.rows >= gray.cols ? 0.95 : 0.3;
    for (const auto& s : lines_) {
      OcrLine l;
      l.text = s;
      l.confidence = conf;
      l.words.push_back({s, conf, {0, 0, 10, 10}});
      t.lines.push_back(l);
    }
    t.mean_confidence = conf;
    return t;
  }
  std::optional<Orientation> DetectOrientation(const cv::Mat&) override { return orientation_; }
  std::vector<cv::Size> sizes;

 private:
  std::vector<std::string> lines_;
  std::optional<Orientation> orientation_;
};

// Tesseract and its English data are build dependencies (scripts/setup.sh
// installs them), so a test that needs them fails without them rather than
// passing unseen; a developer without them may set
// NCBOCR_TESSERACT_OPTIONAL=1 to skip those tests instead (reported).
bool HaveTesseract() {
  OcrConfig cfg;
  cfg.languages = {"eng"};
  if (MakeTesseractEngine(cfg).ok()) return true;
  const char* optional = std::getenv("NCBOCR_TESSERACT_OPTIONAL");
  if (optional != nullptr && std::string(optional) == "1") return false;
  FAIL("Tesseract's eng data is not installed (scripts/setup.sh installs it; "
       "NCBOCR_TESSERACT_OPTIONAL=1 skips the tests that need it)");
  return false;
}

}  // namespace

TEST_CASE("ocr: JSON round trip keeps pages, lines, words and boxes") {
  OcrDocument d;
  d.file = "x.png";
  d.format = "PNG";
  d.engine = "fake";
  OcrPage p;
  p.width = 100;
  p.height = 200;
  p.rotation = 90;
  OcrLine l;
  l.text = "TOTAL 9.00";
  l.confidence = 0.9;
  l.box = {1, 2, 3, 4};
  l.words = {{"TOTAL", 0.91, {1, 2, 1, 4}}, {"9.00", 0.89, {3, 2, 1, 4}}};
  p.lines.push_back(l);
  d.pages.push_back(p);
  nlohmann::json j = d.ToJson();
  CHECK(j["pages"][0]["text"] == "TOTAL 9.00\n");
  auto back = OcrDocument::FromJson(j);
  REQUIRE(back.ok());
  CHECK(back->pages[0].rotation == 90);
  CHECK(back->pages[0].lines[0].words[1].text == "9.00");
  CHECK(back->pages[0].lines[0].words[1].box.x == 3);
  CHECK(back->ToJson() == j);
  CHECK(OcrDocument::FromJson(nlohmann::json{{"nope", 1}}).status().kind() == ErrorKind::kPermanent);
}

TEST_CASE("ocr: a sideways page is turned when the turn reads better") {
  FakeEngine e({"TOTAL 9.00", "CASH 10.00", "CHANGE 1.00"}, Orientation{3, 5.0});
  PreprocessOptions o;
  o.rotate = true;
  auto d = OcrFile(e, kData / "receipt_rot90.png", OcrConfig{}, o);
  REQUIRE(d.ok());
  CHECK(d->pages[0].rotation == 270);
  CHECK(d->pages[0].height > d->pages[0].width);
  CHECK(d->pages[0].mean_confidence > 0.9);
  // An upright page is left alone.
  FakeEngine upright({"TOTAL 9.00", "CASH 10.00", "CHANGE 1.00"}, Orientation{1, 5.0});
  auto u = OcrFile(upright, kData / "receipt.png", OcrConfig{}, o);
  REQUIRE(u.ok());
  CHECK(u->pages[0].rotation == 0);
}

TEST_CASE("ocr: two engines: the second reads where wanted, its failure leaves the first reading") {
  class Failing : public OcrEngine {
   public:
    std::string Name() const override { return "failing"; }
    Result<OcrText> Recognize(const cv::Mat&) override { return Status::Permanent("model missing a layer"); }
  };
  OcrConfig config;
  config.reread_lines = false;
  auto make = [](bool want) {
    return TwoEngines(std::make_unique<FakeEngine>(std::vector<std::string>{"TOTAL 9.00"}),
                      std::make_unique<FakeEngine>(std::vector<std::string>{"TOTAL 9.50"}),
                      [want](const OcrDocument& first) {
                        CHECK(first.pages.at(0).Text() == "TOTAL 9.00\n");  // judged on the first reading
                        SecondReading r;
                        r.whole = want;
                        return r;
                      });
  };
  TwoEngines both = make(true);
  auto d = OcrFile(both, kData / "receipt.png", config, PreprocessOptions{});
  REQUIRE(d.ok());
  CHECK(d->engine == "fake");
  CHECK(d->pages.at(0).Text() == "TOTAL 9.00\n");
  REQUIRE(d->second.size() == 1);
  CHECK(d->second[0].pages.at(0).Text() == "TOTAL 9.50\n");
  CHECK(d->second[0].second.empty());

  TwoEngines settled = make(false);
  auto s = OcrFile(settled, kData / "receipt.png", config, PreprocessOptions{});
  REQUIRE(s.ok());
  CHECK(s->second.empty());
  CHECK(s->second_error.empty());

  TwoEngines broken(std::make_unique<FakeEngine>(std::vector<std::string>{"TOTAL 9.00"}),
                    std::make_unique<Failing>(), {});
  auto b = OcrFile(broken, kData / "receipt.png", config, PreprocessOptions{});
  REQUIRE(b.ok());
  CHECK(b->pages.at(0).Text() == "TOTAL 9.00\n");
  CHECK(b->second.empty());
  CHECK(b->second_error.find("model missing a layer") != std::string::npos);
}

TEST_CASE("ocr: two engines: the second reads again only the lines asked for, cut out by their boxes") {
  // Two lines with boxes; read again, a line says the size of its crop.
  class Boxed : public OcrEngine {
   public:
    std::string Name() const override { return "boxed"; }
    Result<OcrText> Recognize(const cv::Mat& gray) override {
      page = gray.size();
      OcrText t;
      for (int i = 0; i < 2; ++i) {
        OcrLine l;
        l.text = i == 0 ? "KLINIK MAWAR" : "TOTAL 9.00";
        l.confidence = 0.9;
        l.box = {10, 10 + 30 * i, 60, 16};
        l.words.push_back({l.text, 0.9, l.box});
        t.lines.push_back(l);
      }
      return t;
    }
    Result<OcrText> RecognizeLine(const cv::Mat& gray) override {
      OcrText t;
      OcrLine l;
      l.text = "LINE " + std::to_string(gray.cols) + "x" + std::to_string(gray.rows);
      l.confidence = 0.8;
      l.words.push_back({l.text, 0.8, {1, 2, 3, 4}});
      t.lines.push_back(l);
      return t;
    }
    cv::Size page;
  };
  OcrConfig config;
  config.reread_lines = false;
  TwoEngines two(std::make_unique<Boxed>(), std::make_unique<Boxed>(), [](const OcrDocument& first) {
    SecondReading r;
    r.whole = false;
    r.lines.resize(first.pages.size());
    r.lines[0] = {0, 7};  // line 7 does not exist: skipped
    return r;
  });
  auto d = OcrFile(two, kData / "receipt.png", config, PreprocessOptions{});
  REQUIRE(d.ok());
  REQUIRE(d->second.size() == 1);
  const OcrDocument& again = d->second[0];
  CHECK(again.scope == "lines");
  REQUIRE(again.pages.size() == 1);
  CHECK(again.pages[0].width == d->pages[0].width);
  REQUIRE(again.pages[0].lines.size() == 1);
  const OcrLine& l = again.pages[0].lines[0];
  CHECK(l.text == "LINE 68x24");  // the box with a margin of a quarter of its height (4) all round
  CHECK(l.box.x == 10);
  CHECK(l.box.w == 60);
  CHECK(l.words.at(0).box.x == 1 + 6);  // the word's box placed on the page (crop at x 6)
  CHECK(l.confidence == doctest::Approx(0.8));
  // The scope survives JSON; a whole reading has none.
  auto back = OcrDocument::FromJson(d->ToJson());
  REQUIRE(back.ok());
  CHECK(back->second.at(0).scope == "lines");
  CHECK(back->scope.empty());
  CHECK_FALSE(d->ToJson().contains("scope"));
  CHECK(d->ToJson()["second"]["scope"] == "lines");

  // Nothing asked for: no second reading at all.
  TwoEngines none(std::make_unique<Boxed>(), std::make_unique<Boxed>(), [](const OcrDocument&) {
    SecondReading r;
    r.whole = false;
    return r;
  });
  auto n = OcrFile(none, kData / "receipt.png", config, PreprocessOptions{});
  REQUIRE(n.ok());
  CHECK(n->second.empty());
}

TEST_CASE("ocr: an engine's own step timings land in its page's timings, the second reading's too, and in the stats") {
  // Reports 2.5 ms of "detect" and 1 of "recognise" per page it reads.
  class Steps : public FakeEngine {
   public:
    Steps() : FakeEngine({"TOTAL 9.50"}) {}
    Result<OcrText> Recognize(const cv::Mat& gray) override {
      steps_["detect"] += 2.5;
      steps_["recognise"] += 1;
      return FakeEngine::Recognize(gray);
    }
    std::map<std::string, double> TakeStepTimes() override { return std::exchange(steps_, {}); }
    std::map<std::string, double> steps_;
  };
  auto second = std::make_unique<Steps>();
  second->steps_["detect"] = 100;  // before this file: not its page's
  TwoEngines both(std::make_unique<FakeEngine>(std::vector<std::string>{"TOTAL 9.00"}), std::move(second), {});
  OcrConfig config;
  config.reread_lines = false;
  auto d = OcrFile(both, kData / "receipt.png", config, PreprocessOptions{});
  REQUIRE(d.ok());
  CHECK(d->pages.at(0).step_ms.empty());  // the fake first engine does not report
  REQUIRE(d->second.size() == 1);
  const auto& steps = d->second[0].pages.at(0).step_ms;
  CHECK(steps == std::map<std::string, double>{{"detect", 2.5}, {"recognise", 1.0}});

  nlohmann::json j = d->ToJson();
  CHECK(j["second"]["pages"][0]["timings"]["detect_ms"] == 2.5);
  CHECK(j["second"]["pages"][0]["timings"]["recognise_ms"] == 1.0);
  CHECK_FALSE(j["pages"][0]["timings"].contains("detect_ms"));
  auto back = OcrDocument::FromJson(j);
  REQUIRE(back.ok());
  CHECK(back->second.at(0).pages.at(0).step_ms == steps);
  CHECK(back->pages.at(0).step_ms.empty());  // ocr_ms and preprocess_ms are not steps

  OcrRunStats stats;
  stats.Add(*d);
  stats.Add(*d);
  CHECK(stats.files == 2);
  CHECK(stats.step_ms.empty());
  CHECK(stats.second.files == 2);
  CHECK(stats.second.step_ms.at("detect") == doctest::Approx(5.0));
  CHECK(stats.second.ocr_ms == doctest::Approx(2 * d->second[0].pages[0].ocr_ms));
  nlohmann::json sj = stats.ToJson();
  CHECK(sj["second"]["files"] == 2);
  CHECK(sj["second"]["ms"]["steps"]["recognise"] == 2.0);
  CHECK(sj["ms"]["steps"].empty());
}

TEST_CASE("ocr: money and date lines are read again only for an engine that wants it") {
  // One money line with a box on the page (what RereadKeyLines reads again).
  class Boxed : public FakeEngine {
   public:
    explicit Boxed(bool wants) : FakeEngine({"TOTAL 9.00"}), wants_(wants) {}
    bool WantsLineRereads() const override { return wants_; }
    Result<OcrText> Recognize(const cv::Mat& gray) override {
      Result<OcrText> t = FakeEngine::Recognize(gray);
      for (auto& l : t->lines) l.box = {10, 10, 100, 20};
      return t;
    }
    Result<OcrText> RecognizeLine(const cv::Mat& gray) override {
      ++line_calls;
      return FakeEngine::Recognize(gray);
    }
    int line_calls = 0;

   private:
    bool wants_;
  };
  OcrConfig config;  // reread_lines on
  PreprocessOptions o;
  o.rotate = false;
  Boxed wants(true);
  auto d = OcrFile(wants, kData / "receipt.png", config, o);
  REQUIRE(d.ok());
  CHECK(wants.line_calls == 1);
  CHECK(d->pages.at(0).lines.at(0).alt == "TOTAL 9.00");
  Boxed not_wanted(false);
  auto n = OcrFile(not_wanted, kData / "receipt.png", config, o);
  REQUIRE(n.ok());
  CHECK(n->pages.at(0).lines.at(0).alt.empty());
  CHECK(n->pages.at(0).reread_ms == 0);
  CHECK(not_wanted.line_calls == 0);
}

TEST_CASE("ocr: the orientation check is recorded, and an unsure OSD costs no second reading") {
  PreprocessOptions o;
  o.rotate = true;
  OcrConfig cfg;
  cfg.reread_lines = false;
  cfg.upside_down_min_confidence = 1.5;
  // A quarter turn is tried whatever OSD's confidence, and kept when it reads better.
  FakeEngine sure({"TOTAL 9.00", "CASH 10.00", "CHANGE 1.00"}, Orientation{3, 0.4});
  auto d = OcrFile(sure, kData / "receipt_rot90.png", cfg, o);
  REQUIRE(d.ok());
  const auto& c = d->pages[0].orientation_check;
  CHECK(c.done);
  CHECK(c.osd_turns == 3);
  CHECK(c.osd_confidence == doctest::Approx(0.4));
  CHECK(c.reread);
  CHECK(c.kept);
  CHECK(sure.sizes.size() == 2);
  CHECK(d->pages[0].orientation_ms > 0);
  CHECK(d->pages[0].orientation_ms <= d->pages[0].ocr_ms);
  nlohmann::json j = d->ToJson();
  CHECK(j["pages"][0]["orientation_check"]["kept"] == true);
  CHECK(j["pages"][0]["orientation_check"]["osd_turns"] == 3);
  auto back = OcrDocument::FromJson(j);
  REQUIRE(back.ok());
  CHECK(back->pages[0].orientation_check.kept);
  CHECK(back->pages[0].orientation_check.osd_turns == 3);
  CHECK(back->ToJson() == j);

  // Upside down below the threshold: checked, not read again, the page as it was.
  FakeEngine unsure({"TOTAL 9.00", "CASH 10.00", "CHANGE 1.00"}, Orientation{2, 1.2});
  auto u = OcrFile(unsure, kData / "receipt_rot90.png", cfg, o);
  REQUIRE(u.ok());
  CHECK(u->pages[0].orientation_check.done);
  CHECK_FALSE(u->pages[0].orientation_check.reread);
  CHECK(u->pages[0].rotation == 0);
  CHECK(unsure.sizes.size() == 1);
  // ... and at the threshold it is read again (and, reading no better, not kept).
  FakeEngine sure_half({"TOTAL 9.00", "CASH 10.00", "CHANGE 1.00"}, Orientation{2, 1.5});
  auto h = OcrFile(sure_half, kData / "receipt_rot90.png", cfg, o);
  REQUIRE(h.ok());
  CHECK(h->pages[0].orientation_check.reread);
  CHECK_FALSE(h->pages[0].orientation_check.kept);
  CHECK(sure_half.sizes.size() == 2);

  // A page that reads well is not checked at all, and its JSON says nothing of it.
  FakeEngine upright({"TOTAL 9.00", "CASH 10.00", "CHANGE 1.00"}, Orientation{1, 9.0});
  auto up = OcrFile(upright, kData / "receipt.png", cfg, o);
  REQUIRE(up.ok());
  CHECK_FALSE(up->pages[0].orientation_check.done);
  CHECK_FALSE(up->ToJson()["pages"][0].contains("orientation_check"));
}

TEST_CASE("ocr: the pool runs every item once, each engine on one thread") {
  std::atomic<int> made{0};
  auto pool = OcrPool::Create(3, [&]() -> Result<std::unique_ptr<OcrEngine>> {
    made++;
    return std::unique_ptr<OcrEngine>(new FakeEngine({"x"}));
  });
  REQUIRE(pool.ok());
  CHECK(made == 3);
  std::vector<int> seen(50, 0);
  std::mutex mu;
  std::map<OcrEngine*, std::set<std::thread::id>> threads;
  pool->Run(seen.size(), [&](OcrEngine& e, size_t i) {
    std::lock_guard<std::mutex> g(mu);
    seen[i]++;
    threads[&e].insert(std::this_thread::get_id());
  });
  CHECK(std::all_of(seen.begin(), seen.end(), [](int v) { return v == 1; }));
  for (const auto& [e, ids] : threads) CHECK(ids.size() == 1);

  auto failing = OcrPool::Create(2, []() -> Result<std::unique_ptr<OcrEngine>> {
    return Status::Config("no traineddata");
  });
  CHECK(failing.status().kind() == ErrorKind::kConfig);
}

TEST_CASE("ocr: OcrFiles keeps order and reports bad files by name") {
  auto pool = OcrPool::Create(2, []() -> Result<std::unique_ptr<OcrEngine>> {
    return std::unique_ptr<OcrEngine>(new FakeEngine({"TOTAL 1.00"}));
  });
  REQUIRE(pool.ok());
  auto r = OcrFiles(*pool, {kData / "receipt.png", kData / "nonexistent.png", kData / "two_pages.tif"},
                    OcrConfig{}, DefaultPreprocessOptions());
  REQUIRE(r.size() == 3);
  CHECK(r[0].ok());
  CHECK(r[1].status().message().find("nonexistent.png") != std::string::npos);
  REQUIRE(r[2].ok());
  CHECK(r[2]->pages.size() == 2);
  CHECK(r[2]->format == "TIFF");
}

TEST_CASE("ocr: Tesseract reads the rendered receipt, upright and sideways") {
  if (!HaveTesseract()) {
    MESSAGE("skipped: Tesseract eng data not installed (NCBOCR_TESSERACT_OPTIONAL=1)");
    return;
  }
  OcrConfig cfg;
  cfg.languages = {"eng"};
  auto engine = MakeTesseractEngine(cfg);
  REQUIRE(engine.ok());
  CHECK((*engine)->Name().find("tesseract") == 0);
  auto d = OcrFile(**engine, kData / "receipt.png", cfg, DefaultPreprocessOptions());
  REQUIRE(d.ok());
  std::string text = d->Text();
  CHECK(text.find("SEJAHTERA") != std::string::npos);
  CHECK(text.find("45.05") != std::string::npos);
  CHECK(d->pages[0].mean_confidence > 0.8);
  CHECK(d->pages[0].lines.size() >= 12);
  CHECK(d->pages[0].lines[0].words[0].box.w > 0);

  auto s = OcrFile(**engine, kData / "receipt_rot90.png", cfg, DefaultPreprocessOptions());
  REQUIRE(s.ok());
  CHECK(s->pages[0].rotation == 270);
  CHECK(s->Text().find("45.05") != std::string::npos);
}

TEST_CASE("ocr stage: fetched claims become ocred with ocr.json, bad ones fail with a reason") {
  testing::TempDir t;
  Config config;
  config.ocr.workers = 2;
  Spool spool = *Spool::Open(t.path());
  Clock clock;
  StageContext ctx{config, spool, NullLogger(), clock, "ocr"};
  std::string png = ReadFile(kData / "receipt.png").value();
  Claim good = testing::PutClaim(spool, ClaimState::kFetched, png);
  Claim bad = testing::PutClaim(spool, ClaimState::kFetched, "not an image at all");
  auto draft = spool.NewDraft(NewClaimId());
  REQUIRE(draft.ok());
  draft->claim.source.email_id = "mail-9";
  REQUIRE(spool.Commit(*draft, ClaimState::kFetched, "test", "").ok());
  std::string none_id = draft->claim.id;

  StageReport r = RunOcrStageWith(ctx, []() -> Result<std::unique_ptr<OcrEngine>> {
    return std::unique_ptr<OcrEngine>(new FakeEngine({"TOTAL 45.05"}));
  });
  CHECK_MESSAGE(r.status.ok(), r.status.ToString());
  CHECK(r.claims == 3);
  Claim g = *spool.Load(good.id);
  CHECK(g.state == ClaimState::kOcred);
  auto ocr = spool.ReadClaimFile(g, "ocr.json");
  REQUIRE(ocr.ok());
  CHECK(ocr->find("TOTAL 45.05") != std::string::npos);
  Claim b = *spool.Load(bad.id);
  CHECK(b.state == ClaimState::kFailed);
  CHECK(b.reason.find("email mail-1 attachment receipt.jpg") != std::string::npos);
  Claim n = *spool.Load(none_id);
  CHECK(n.state == ClaimState::kFailed);
  CHECK(n.reason.find("mail-9") != std::string::npos);
  CHECK(n.reason.find("no receipt attachment") != std::string::npos);
}
