#include "ncbocr/ocr_paddle.h"

#include <cstdlib>
#include <filesystem>

#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_util.h"

namespace ncbocr {
namespace {

using paddle::CtcChar;

const std::filesystem::path kData = std::filesystem::path(NCBOCR_SOURCE_DIR) / "tests/data/ocr";

// A frames x classes probability matrix whose best class per frame is
// best[t] with probability p[t] (the rest spread evenly).
std::vector<float> Frames(const std::vector<int>& best, const std::vector<float>& p, int classes) {
  std::vector<float> m(best.size() * classes);
  for (size_t t = 0; t < best.size(); ++t) {
    float rest = (1 - p[t]) / (classes - 1);
    for (int c = 0; c < classes; ++c) m[t * classes + c] = c == best[t] ? p[t] : rest;
  }
  return m;
}

// dict[cls - 1]: class 1 "A", 2 "B", ... 26 "Z", 27 "1", 28 " ".
std::vector<std::string> Dict() {
  std::vector<std::string> d;
  for (char c = 'A'; c <= 'Z'; ++c) d.push_back(std::string(1, c));
  d.push_back("1");
  d.push_back(" ");
  return d;
}

// Characters at the given frames (one frame each), classes from text.
std::vector<CtcChar> At(const std::string& text, const std::vector<int>& frames) {
  std::vector<CtcChar> out;
  for (size_t i = 0; i < text.size(); ++i) {
    int cls = text[i] == ' ' ? 28 : text[i] == '1' ? 27 : text[i] - 'A' + 1;
    out.push_back({cls, frames[i], frames[i], 0.9});
  }
  return out;
}

std::string Joined(const std::vector<paddle::DecodedWord>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : "|") + w.text;
  return s;
}

// The models are fetched by scripts/setup.sh, not a build dependency: the
// tests that need them are skipped (reported) without them, unless
// NCBOCR_PADDLE_REQUIRED=1 (scripts/test.sh sets it when setup installed
// them), where their absence fails.
std::unique_ptr<OcrEngine> PaddleOrSkip() {
  OcrConfig cfg;
  cfg.use_gpu = "false";
  auto engine = MakePaddleEngine(cfg);
  if (engine.ok()) return std::move(*engine);
  const char* required = std::getenv("NCBOCR_PADDLE_REQUIRED");
  if (required != nullptr && std::string(required) == "1") {
    FAIL("paddle models missing with NCBOCR_PADDLE_REQUIRED=1: " << engine.status().message());
  }
  MESSAGE("skipped: " << engine.status().message());
  return nullptr;
}

cv::Mat RenderLine(const std::string& text) {
  int baseline = 0;
  cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, 1.0, 2, &baseline);
  cv::Mat img(size.height + baseline + 24, size.width + 24, CV_8UC1, cv::Scalar(255));
  cv::putText(img, text, cv::Point(12, size.height + 12), cv::FONT_HERSHEY_SIMPLEX, 1.0, cv::Scalar(0), 2,
              cv::LINE_AA);
  return img;
}

}  // namespace

TEST_CASE("paddle ctc: blanks dropped, repeats collapsed, a repeat after a blank kept") {
  // frames: A A _ B _ B B _ _ C
  std::vector<int> best = {1, 1, 0, 2, 0, 2, 2, 0, 0, 3};
  std::vector<float> p = {0.9f, 0.7f, 0.99f, 0.6f, 0.99f, 0.8f, 1.0f, 0.99f, 0.99f, 0.5f};
  std::vector<float> m = Frames(best, p, 5);
  auto chars = paddle::CtcGreedyDecode(m.data(), 10, 5);
  REQUIRE(chars.size() == 4);
  CHECK(chars[0].cls == 1);
  CHECK(chars[0].first_frame == 0);
  CHECK(chars[0].last_frame == 1);
  CHECK(chars[0].confidence == doctest::Approx(0.8));  // mean of 0.9 and 0.7
  CHECK(chars[1].cls == 2);
  CHECK(chars[1].confidence == doctest::Approx(0.6));
  CHECK(chars[2].cls == 2);
  CHECK(chars[2].first_frame == 5);
  CHECK(chars[2].last_frame == 6);
  CHECK(chars[2].confidence == doctest::Approx(0.9));
  CHECK(chars[3].cls == 3);
  CHECK(chars[3].first_frame == 9);
  CHECK(paddle::CtcGreedyDecode(m.data(), 0, 5).empty());
}

TEST_CASE("paddle words: split at gaps well above the line's pitch, and at the model's own spaces") {
  std::vector<std::string> dict = Dict();
  // TOTAL at pitch 3, a gap of 8, then RM, a gap of 8, then 11 at pitch 3.
  auto chars = At("TOTALRM11", {0, 3, 6, 9, 12, 20, 23, 31, 34});
  auto words = paddle::SplitWords(chars, dict);
  CHECK(Joined(words) == "TOTAL|RM|11");
  CHECK(words[0].first_frame == 0);
  CHECK(words[0].last_frame == 12);
  CHECK(words[1].first_frame == 20);
  CHECK(words[0].confidence == doctest::Approx(0.9));
  // Even pitch: one word, however wide the pitch.
  CHECK(Joined(paddle::SplitWords(At("ABCD", {0, 5, 10, 15}), dict)) == "ABCD");
  // A slightly wider gap is not a space.
  CHECK(Joined(paddle::SplitWords(At("ABCD", {0, 3, 7, 10}), dict)) == "ABCD");
  // The model's own space separates, and is not a word.
  CHECK(Joined(paddle::SplitWords(At("AB CD", {0, 3, 6, 9, 12}), dict)) == "AB|CD");
  CHECK(Joined(paddle::SplitWords(At(" A ", {0, 3, 6}), dict)) == "A");
  CHECK(paddle::SplitWords({}, dict).empty());
}

TEST_CASE("paddle width buckets: the smallest that holds the line, the widest for longer ones") {
  const auto& w = paddle::RecognitionWidths();
  REQUIRE(w.size() >= 2);
  CHECK(std::is_sorted(w.begin(), w.end()));
  CHECK(paddle::WidthBucket(1) == 0);
  CHECK(paddle::WidthBucket(w[0]) == 0);
  CHECK(paddle::WidthBucket(w[0] + 1) == 1);
  CHECK(paddle::WidthBucket(w.back()) == static_cast<int>(w.size()) - 1);
  CHECK(paddle::WidthBucket(w.back() * 3) == static_cast<int>(w.size()) - 1);
}

TEST_CASE("paddle dictionary: full-width ASCII forms become ASCII, other text stays") {
  CHECK(paddle::AsciiForm("\xEF\xBC\x8C") == ",");   // U+FF0C full-width comma
  CHECK(paddle::AsciiForm("\xEF\xBC\x9A") == ":");   // U+FF1A
  CHECK(paddle::AsciiForm("\xEF\xBC\x88") == "(");   // U+FF08
  CHECK(paddle::AsciiForm("\xEF\xBD\x9E") == "~");   // U+FF5E, the last
  CHECK(paddle::AsciiForm("\xEF\xBC\x81") == "!");   // U+FF01, the first
  CHECK(paddle::AsciiForm("\xE3\x80\x80") == " ");   // ideographic space
  CHECK(paddle::AsciiForm("\xEF\xBD\xA1") == "\xEF\xBD\xA1");  // U+FF61, half-width katakana stop
  CHECK(paddle::AsciiForm("\xE7\x96\x97") == "\xE7\x96\x97");  // a CJK character
  CHECK(paddle::AsciiForm("A") == "A");
}

TEST_CASE("paddle lines: boxes side by side make one line left to right; lines top to bottom") {
  std::vector<OcrBox> boxes = {
      {200, 52, 60, 20},   // 0: amount of line 2, a little lower than its label
      {10, 10, 120, 22},   // 1: line 1
      {10, 50, 80, 20},    // 2: label of line 2
      {10, 90, 100, 20},   // 3: line 3
      {150, 11, 40, 20},   // 4: second box of line 1
  };
  auto lines = paddle::GroupIntoLines(boxes);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == std::vector<int>{1, 4});
  CHECK(lines[1] == std::vector<int>{2, 0});
  CHECK(lines[2] == std::vector<int>{3});
  // Boxes that touch only at their edges stay apart.
  auto apart = paddle::GroupIntoLines({{0, 0, 50, 20}, {60, 15, 50, 20}});
  CHECK(apart.size() == 2);
  CHECK(paddle::GroupIntoLines({}).empty());
}

TEST_CASE("paddle engine: missing models are one config error naming the directory and setup") {
  OcrConfig cfg;
  testing::TempDir t;
  cfg.models_dir = t.path().string();
  auto engine = MakePaddleEngine(cfg);
  REQUIRE_FALSE(engine.ok());
  CHECK(engine.status().kind() == ErrorKind::kConfig);
  CHECK(engine.status().message().find(t.path().string()) != std::string::npos);
  CHECK(engine.status().message().find("scripts/setup.sh") != std::string::npos);
  CHECK(engine.status().message().find('\n') == std::string::npos);
  cfg.engine = "paddle";
  CHECK_FALSE(MakeOcrEngine(cfg).ok());
}

TEST_CASE("ocr.engine auto: both engines where the models are, Tesseract alone with one warning where not") {
  testing::TempDir t;
  OcrConfig cfg;
  cfg.models_dir = t.path().string();
  cfg.engine = "auto";
  std::string note = ResolveAutoEngine(cfg);
  CHECK(cfg.engine == "tesseract");
  CHECK(note.find((t.path() / "det.onnx").string()) != std::string::npos);
  CHECK(note.find("scripts/fetch-models.sh") != std::string::npos);
  CHECK(note.find('\n') == std::string::npos);
  // Every file in place (their contents are for the engine to load).
  for (const char* f : {"det.onnx", "cls.onnx", "keys.txt"}) REQUIRE(AtomicWriteFile(t.path() / f, "x").ok());
  for (int w : paddle::RecognitionWidths()) {
    cfg.engine = "auto";
    CHECK(ResolveAutoEngine(cfg).find("rec_w") != std::string::npos);  // the next missing one
    REQUIRE(AtomicWriteFile(t.path() / ("rec_w" + std::to_string(w) + ".onnx"), "x").ok());
  }
  cfg.engine = "auto";
  CHECK(ResolveAutoEngine(cfg).empty());
  CHECK(cfg.engine == "tesseract+paddle");
  // Any other choice is the user's and stays.
  for (const char* e : {"tesseract", "paddle", "tesseract+paddle"}) {
    cfg.engine = e;
    CHECK(ResolveAutoEngine(cfg).empty());
    CHECK(cfg.engine == e);
  }
  // auto is the default, and MakeOcrEngine settles it the same way.
  CHECK(OcrConfig{}.engine == "auto");
  OcrConfig none;
  none.models_dir = (t.path() / "absent").string();
  auto engine = MakeOcrEngine(none);
  REQUIRE(engine.ok());
  CHECK((*engine)->Name().find("tesseract") == 0);
  CHECK((*engine)->Name().find("paddle") == std::string::npos);
}

TEST_CASE("paddle rows left unread: only those wholly within lines another engine read surely") {
  KnownPage known;
  known.width = 400, known.height = 300;
  known.read_above = 40;  // the header: the first row is read whatever
  known.lines = {
      {{10, 10, 300, 20}, true},   // header, sure
      {{10, 50, 300, 20}, true},   // "THANK YOU FOR SHOPPING", sure
      {{10, 90, 100, 20}, true},   // "SUB-TOTAL", sure, its amount unread
      {{10, 130, 300, 20}, false}, // a line read unsurely (or with digits)
      {{10, 170, 150, 20}, true},  // two lines of the other engine on one row,
      {{170, 170, 140, 20}, true}, //   both sure
      {{10, 210, 300, 20}, true},  // sure, beside an unsure one on the same row
      {{250, 212, 60, 18}, false},
      {{10, 250, 100, 20}, true},  // two sure lines with a gap between them
      {{210, 250, 100, 20}, true}, //   that the other engine did not read
  };
  const std::vector<OcrBox> boxes = {
      {12, 10, 290, 20},   // 0: the header row
      {12, 50, 290, 20},   // 1: within a sure line: left unread
      {12, 90, 95, 20},    // 2: "SUB-TOTAL" ...
      {200, 90, 60, 20},   // 3: ... and its amount, which the sure line misses: the row is read
      {12, 130, 290, 20},  // 4: an unsure line's row
      {12, 170, 140, 20},  // 5: two boxes of one row,
      {175, 170, 130, 20}, // 6:   covered by two sure lines together: unread
      {12, 210, 290, 20},  // 7: a row with an unsure line in it
      {12, 290, 290, 20},  // 8: a row the other engine did not read at all
      {12, 250, 290, 20},  // 9: a row the two sure lines cover but for its middle
  };
  const std::vector<bool> read = paddle::RegionsToRead(boxes, known);
  CHECK(read == std::vector<bool>{true, false, true, true, true, false, false, true, true, true});
  // Nothing known: everything read.
  CHECK(paddle::RegionsToRead(boxes, KnownPage{}) == std::vector<bool>(boxes.size(), true));
}

TEST_CASE("paddle engine: the converted models load and read rendered lines exactly") {
  auto engine = PaddleOrSkip();
  if (!engine) return;
  CHECK(engine->Name().find("paddle") == 0);
  for (std::string line : {"TOTAL RM 12.40", "03/12/2026", "NO 12, JALAN MAWAR 3, TAMAN BUNGA RAYA"}) {
    auto text = engine->RecognizeLine(RenderLine(line));
    REQUIRE_MESSAGE(text.ok(), text.status().ToString());
    REQUIRE(text->lines.size() == 1);
    CHECK(text->lines[0].text == line);
    CHECK(text->lines[0].confidence > 0.8);
  }
  // Upside down, the classifier turns it back.
  cv::Mat flipped;
  cv::rotate(RenderLine("TOTAL RM 12.40"), flipped, cv::ROTATE_180);
  auto text = engine->RecognizeLine(flipped);
  REQUIRE(text.ok());
  REQUIRE(text->lines.size() == 1);
  CHECK(text->lines[0].text == "TOTAL RM 12.40");
}

TEST_CASE("paddle engine: detection finds every line of the generated receipt, in order") {
  auto engine = PaddleOrSkip();
  if (!engine) return;
  OcrConfig cfg;
  auto d = OcrFile(*engine, kData / "receipt.png", cfg, DefaultPreprocessOptions());
  REQUIRE_MESSAGE(d.ok(), d.status().ToString());
  const auto& lines = d->pages[0].lines;
  // The receipt has 16 lines of text (scripts/make-samples.py).
  CHECK(lines.size() == 16);
  std::string text = d->Text();
  INFO(text);
  CHECK(text.find("SEJAHTERA") != std::string::npos);
  CHECK(text.find("05/03/2019") != std::string::npos);
  CHECK(text.find("45.05") != std::string::npos);
  REQUIRE(lines.size() >= 2);
  CHECK(lines[0].text.find("KEDAI") == 0);
  bool total_line = false;
  for (const auto& l : lines) {
    if (l.text.rfind("TOTAL", 0) == 0 && l.text.find("45.05") != std::string::npos) total_line = true;
    CHECK(l.box.w > 0);
    CHECK(l.words.size() >= 1);
    CHECK(l.alt.empty());  // its lines are not read twice (ocr.reread_lines is Tesseract's)
    for (size_t i = 1; i < l.words.size(); ++i) CHECK(l.words[i].box.x >= l.words[i - 1].box.x);
  }
  CHECK(total_line);  // the label and its amount on one line
  CHECK(d->pages[0].mean_confidence > 0.8);
  // Where the time went: each step of the engine, within the page's
  // recognition time.
  const auto& steps = d->pages[0].step_ms;
  double sum = 0;
  for (const char* step : {"detect", "classify", "recognise"}) {
    INFO(step);
    REQUIRE(steps.count(step) == 1);
    CHECK(steps.at(step) > 0);
    sum += steps.at(step);
  }
  CHECK(sum <= d->pages[0].ocr_ms);

  // The receipt upside down: most of its crops are, so all are turned back.
  cv::Mat page = cv::imread((kData / "receipt.png").string(), cv::IMREAD_GRAYSCALE), turned;
  REQUIRE(!page.empty());
  cv::rotate(page, turned, cv::ROTATE_180);
  auto upside_down = engine->Recognize(turned);
  REQUIRE(upside_down.ok());
  std::string turned_text;
  for (const auto& l : upside_down->lines) turned_text += l.text + "\n";
  INFO(turned_text);
  CHECK(turned_text.find("SEJAHTERA") != std::string::npos);
  CHECK(turned_text.find("45.05") != std::string::npos);

  // The same engine on a page of another size, then on the receipt again:
  // each reading is what a fresh engine gives (OpenCV keeps layer sizes
  // from the first pass unless the network is read again).
  auto other = engine->Recognize(RenderLine("TOTAL RM 12.40"));
  REQUIRE(other.ok());
  REQUIRE(other->lines.size() == 1);
  CHECK(other->lines[0].text == "TOTAL RM 12.40");
  auto again = OcrFile(*engine, kData / "receipt.png", cfg, DefaultPreprocessOptions());
  REQUIRE(again.ok());
  CHECK(again->Text() == text);

  // Told that another engine read the total's line surely, the engine
  // leaves that row unread and reads the rest as before.
  const OcrLine* total = nullptr;
  for (const auto& l : lines) {
    if (l.text.rfind("TOTAL", 0) == 0) total = &l;
  }
  REQUIRE(total != nullptr);
  KnownPage known;
  known.width = d->pages[0].width, known.height = d->pages[0].height;
  OcrBox wide = total->box;
  wide.x = 0, wide.w = known.width;
  known.lines = {{wide, true}};
  engine->set_known_lines({known});
  auto partial = OcrFile(*engine, kData / "receipt.png", cfg, DefaultPreprocessOptions());
  engine->set_known_lines({});
  REQUIRE(partial.ok());
  CHECK(partial->pages[0].lines.size() == lines.size() - 1);
  CHECK(partial->Text().find("45.05") == std::string::npos);
  CHECK(partial->Text().find("SEJAHTERA") != std::string::npos);
  // A page of another size than the known one: all of it read.
  known.width += 1;
  engine->set_known_lines({known});
  auto other_size = OcrFile(*engine, kData / "receipt.png", cfg, DefaultPreprocessOptions());
  engine->set_known_lines({});
  REQUIRE(other_size.ok());
  CHECK(other_size->Text() == text);
}

}  // namespace ncbocr
