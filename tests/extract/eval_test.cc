#include "ncbocr/eval.h"

#include <fstream>
#include <set>

#include <doctest/doctest.h>

#include "test_util.h"

using namespace ncbocr;

namespace {

const std::filesystem::path kData = std::filesystem::path(NCBOCR_SOURCE_DIR) / "tests/data/ocr";

class CannedEngine : public OcrEngine {
 public:
  explicit CannedEngine(int* calls) : calls_(calls) {}
  std::string Name() const override { return "canned"; }
  Result<OcrText> Recognize(const cv::Mat&) override {
    if (calls_) ++*calls_;
    OcrText t;
    for (const char* s : {"KEDAI UBAT SEJAHTERA SDN BHD", "NO 12, JALAN MAWAR 3,", "43000 KAJANG, SELANGOR.",
                          "Receipt No : R00012345", "Date : 05/03/2019", "SUBTOTAL 42.50", "SST 6% 2.55",
                          "TOTAL 45.05", "CASH 50.00", "CHANGE 4.95"}) {
      OcrLine l;
      l.text = s;
      l.confidence = 0.95;
      l.words.push_back({s, 0.95, {}});
      t.lines.push_back(l);
    }
    t.mean_confidence = 0.95;
    return t;
  }

 private:
  int* calls_;
};

}  // namespace

TEST_CASE("eval: field comparisons as the evaluation defines them") {
  CHECK(SameText("BOOK TA .K (TAMAN DAYA) SDN BHD", "book ta k taman daya sdn bhd"));
  CHECK_FALSE(SameText("ABC SDN BHD", "ABC SDN BHD 2"));
  CHECK(SameDate("25/12/2018", "2018-12-25"));
  CHECK(SameDate("25-12-18", "2018-12-25"));
  CHECK_FALSE(SameDate("12/11/2018", "2018-12-11"));
  CHECK(SameAmount("9.00", "9.00"));
  CHECK(SameAmount("RM9.00", "9.00"));
  CHECK(SameAmount("1,234.5", "1234.50"));
  CHECK_FALSE(SameAmount("9.00", "9.01"));
  CHECK_FALSE(SameAmount("9.00", ""));
}

TEST_CASE("eval: scores receipts, routes them and caches OCR") {
  testing::TempDir t;
  auto images = t.path() / "img", keys = t.path() / "key", cache = t.path() / "cache";
  std::filesystem::create_directories(images);
  std::filesystem::create_directories(keys);
  std::filesystem::copy_file(kData / "receipt.png", images / "a.png");
  std::filesystem::copy_file(kData / "receipt.png", images / "b.png");
  std::filesystem::copy_file(kData / "receipt.png", images / "nokey.png");
  std::ofstream(keys / "a.json") << R"({"company": "KEDAI UBAT SEJAHTERA SDN BHD", "date": "05/03/2019",
    "address": "NO 12, JALAN MAWAR 3, 43000 KAJANG, SELANGOR.", "total": "45.05"})";
  std::ofstream(keys / "b.json") << R"({"company": "OTHER SHOP", "date": "06/03/2019",
    "address": "ELSEWHERE", "total": "45.50"})";
  EvalOptions o;
  o.images = images;
  o.keys = keys;
  o.ocr_cache = cache;
  Config config;
  config.ocr.workers = 2;
  int calls = 0;
  auto factory = [&]() -> Result<std::unique_ptr<OcrEngine>> {
    return std::unique_ptr<OcrEngine>(new CannedEngine(&calls));
  };
  auto r = RunEval(o, config, factory);
  REQUIRE(r.ok());
  CHECK(r->n == 2);
  CHECK(r->company == 1);
  CHECK(r->address == 1);
  CHECK(r->date == 1);
  CHECK(r->total == 1);
  CHECK(r->submitted == 2);
  CHECK(r->submitted_wrong == 1);
  CHECK(r->ocr_computed == 2);
  nlohmann::json j = r->ToJson();
  CHECK(j["accuracy"]["total"] == 0.5);
  CHECK(j["misses"].size() == 1);
  CHECK(j["misses"][0]["total"]["expected"] == "45.50");
  CHECK(r->ToText().find("b total: 45.50 | 45.05") != std::string::npos);

  int before = calls;
  auto again = RunEval(o, config, factory);
  REQUIRE(again.ok());
  CHECK(again->ocr_cached == 2);
  CHECK(calls == before);  // nothing recognised the second time
}

TEST_CASE("eval: receipts read right but sent to a clerk are listed with their reasons, the hold-out's not") {
  auto right = [](const std::string& id, const std::string& decision, bool holdout) {
    EvalReceipt r;
    r.id = id;
    r.decision = decision;
    r.holdout = holdout;
    for (EvalField* f : {&r.company, &r.date, &r.address, &r.total}) f->correct = true;
    r.number_found = "R000110133";
    r.number_confidence = 0.8;
    r.reasons = {"confidence 0.80 is below the threshold 0.90 (weakest: receipt_number)"};
    return r;
  };
  EvalReport rep;
  rep.receipts = {right("a", "submit", false), right("b", "review", false), right("c", "review", true)};
  rep.receipts[0].reasons.clear();
  nlohmann::json held = rep.ToJson()["held_back_correct"];
  REQUIRE(held.size() == 1);
  CHECK(held[0]["id"] == "b");
  CHECK(held[0]["receipt_number"] == "R000110133");
  CHECK(held[0]["reasons"][0] == "confidence 0.80 is below the threshold 0.90 (weakest: receipt_number)");
  CHECK(rep.ToJson()["misses"].empty());
  rep.show_holdout_misses = true;
  CHECK(rep.ToJson()["held_back_correct"].size() == 2);
}

TEST_CASE("eval: a hold-out list scores the two sets apart and keeps the hold-out's misses out of sight") {
  testing::TempDir t;
  auto images = t.path() / "img", keys = t.path() / "key";
  std::filesystem::create_directories(images);
  std::filesystem::create_directories(keys);
  std::filesystem::copy_file(kData / "receipt.png", images / "a.png");
  std::filesystem::copy_file(kData / "receipt.png", images / "b.png");
  std::ofstream(keys / "a.json") << R"({"company": "KEDAI UBAT SEJAHTERA SDN BHD", "date": "05/03/2019",
    "address": "NO 12, JALAN MAWAR 3, 43000 KAJANG, SELANGOR.", "total": "45.05"})";
  std::ofstream(keys / "b.json") << R"({"company": "OTHER SHOP", "date": "06/03/2019",
    "address": "ELSEWHERE", "total": "45.50"})";
  std::ofstream(t.path() / "holdout.txt") << "# kept out of tuning\n\nb\n";
  auto list = ReadHoldoutList(t.path() / "holdout.txt");
  REQUIRE(list.ok());
  CHECK(*list == std::set<std::string>{"b"});
  std::ofstream(t.path() / "empty.txt") << "# nothing\n";
  CHECK(ReadHoldoutList(t.path() / "empty.txt").status().kind() == ErrorKind::kUsage);
  CHECK(ReadHoldoutList(t.path() / "absent.txt").status().kind() == ErrorKind::kUsage);

  EvalOptions o;
  o.images = images;
  o.keys = keys;
  o.holdout = *list;
  Config config;
  auto factory = []() -> Result<std::unique_ptr<OcrEngine>> {
    return std::unique_ptr<OcrEngine>(new CannedEngine(nullptr));
  };
  auto r = RunEval(o, config, factory);
  REQUIRE(r.ok());
  CHECK(r->n == 2);
  CHECK(r->tuning.n == 1);
  CHECK(r->tuning.total == 1);
  CHECK(r->holdout.n == 1);
  CHECK(r->holdout.total == 0);
  CHECK(r->holdout.submitted_wrong == 1);
  nlohmann::json j = r->ToJson();
  CHECK(j["holdout"]["accuracy"]["total"] == 0.0);
  CHECK(j["tuning"]["accuracy"]["total"] == 1.0);
  CHECK(j["misses"].empty());  // b's miss is in the hold-out
  CHECK(r->ToText().find("b total") == std::string::npos);

  o.show_holdout_misses = true;
  auto shown = RunEval(o, config, factory);
  REQUIRE(shown.ok());
  CHECK(shown->ToJson()["misses"].size() == 1);
  CHECK(shown->ToText().find("b total: 45.50 | 45.05") != std::string::npos);
}

TEST_CASE("eval: the OCR cache's signature names an engine other than Tesseract, Tesseract's stays as it was") {
  OcrConfig tesseract;
  tesseract.engine = "tesseract";  // eval's first engine, as cmd_eval settles it
  OcrConfig paddle;
  paddle.engine = "paddle";
  PreprocessOptions pre = DefaultPreprocessOptions();
  CHECK(OcrSignature(tesseract, pre).find("engine") == std::string::npos);
  CHECK(OcrSignature(paddle, pre) != OcrSignature(tesseract, pre));
  CHECK(OcrSignature(paddle, pre).find("engine=paddle") != std::string::npos);
}

TEST_CASE("eval: the report counts why receipts went to a clerk, by kind, the hold-out's kept out of sight") {
  EvalReport r;
  auto add = [&](const std::string& id, const std::string& decision, std::vector<std::string> reasons,
                 bool holdout = false) {
    EvalReceipt e;
    e.id = id;
    e.decision = decision;
    e.reasons = std::move(reasons);
    e.holdout = holdout;
    r.receipts.push_back(e);
  };
  add("a", "review", {"missing receipt number", "confidence 0.00 is below the threshold 0.90 (weakest: receipt_number)"});
  add("b", "review", {"missing receipt number", "confidence 0.80 is below the threshold 0.90 (weakest: receipt_number)"});
  add("c", "review", {"total: tesseract read 12.40, paddle 12.90", "total: tesseract read 1.00, paddle 7.00"});
  add("d", "submit", {"missing receipt number"});                     // sent on: not counted
  add("e", "review", {"missing receipt number"}, /*holdout=*/true);  // out of sight
  r.has_holdout = true;
  nlohmann::json j = r.ToJson();
  REQUIRE(j["review_reasons"].size() == 3);
  CHECK(j["review_reasons"][0]["receipts"] == 2);
  CHECK(j["review_reasons"][1]["receipts"] == 2);
  CHECK(j["review_reasons"][2] == nlohmann::json{{"reason", "total: tesseract read N, paddle N"}, {"receipts", 1}});
  std::set<std::string> top = {j["review_reasons"][0]["reason"], j["review_reasons"][1]["reason"]};
  CHECK(top == std::set<std::string>{"missing receipt number",
                                     "confidence N is below the threshold N (weakest: receipt_number)"});
  const std::string text = r.ToText();
  CHECK(text.find("why the others went to a clerk (receipts of the tuning set, numbers as N)") != std::string::npos);
  CHECK(text.find("     2  missing receipt number") != std::string::npos);
  r.show_holdout_misses = true;
  CHECK(r.ToJson()["review_reasons"][0]["receipts"] == 3);
}
