// The OCR pipeline, its JSON form and the worker pool. The Tesseract engine
// itself is in ocr_tesseract.cc.
#include "ncbocr/ocr.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <thread>

#include "ncbocr/document.h"

namespace ncbocr {

namespace {

using Json = nlohmann::json;

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

Json BoxJson(const OcrBox& b) { return Json::array({b.x, b.y, b.w, b.h}); }

// v as an int; def for a number outside int's range (1e300 in a hand-made
// file), whose conversion would be undefined behaviour. Other types convert
// (or throw) as Json::get<int> does.
int IntFrom(const Json& v, int def) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    return d >= INT_MIN && d <= INT_MAX ? static_cast<int>(d) : def;  // NaN: def
  }
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    return u <= static_cast<std::uint64_t>(INT_MAX) ? static_cast<int>(u) : def;
  }
  if (v.is_number_integer()) {
    auto i = v.get<std::int64_t>();
    return i >= INT_MIN && i <= INT_MAX ? static_cast<int>(i) : def;
  }
  return v.get<int>();
}

// obj.value(key, def) for ints, with IntFrom's range check.
int IntValue(const Json& obj, const char* key, int def) {
  if (!obj.is_object()) return obj.value(key, def);  // throws, as before
  auto it = obj.find(key);
  return it == obj.end() ? def : IntFrom(*it, def);
}

OcrBox BoxFrom(const Json& j) {
  OcrBox b;
  if (j.is_array() && j.size() == 4) {
    b.x = IntFrom(j[0], 0); b.y = IntFrom(j[1], 0); b.w = IntFrom(j[2], 0); b.h = IntFrom(j[3], 0);
  }
  return b;
}

// How good a recognition looks: confident words, and enough of them. Used to
// decide whether a turned page reads better than the original.
double ReadingScore(const OcrText& t) {
  double score = 0;
  for (const auto& l : t.lines) {
    for (const auto& w : l.words) {
      int alnum = 0;
      for (unsigned char c : w.text) alnum += std::isalnum(c) != 0;
      if (alnum >= 2) score += w.confidence;
    }
  }
  return score;
}

// A first pass this poor suggests the page is sideways or upside down.
bool LooksMisoriented(const OcrText& t, const cv::Mat& image) {
  if (image.cols > image.rows * 1.2) return true;  // receipts are tall
  return t.mean_confidence < 0.70 || t.lines.size() < 3;
}

OcrPage PageFromText(OcrText t) {
  OcrPage p;
  p.lines = std::move(t.lines);
  p.mean_confidence = t.mean_confidence;
  return p;
}

using Steady = std::chrono::steady_clock;

// The time limits of one file (ocr.page_timeout, ocr.claim_timeout).
class Limits {
 public:
  Limits(const OcrConfig& config, const std::string& file, int pages)
      : config_(config), file_(file), pages_(pages), start_(Steady::now()) {}

  // Starts page i: the engine's deadline becomes the nearer of the two.
  void BeginPage(OcrEngine& engine, int i) {
    page_ = i;
    page_start_ = Steady::now();
    OcrEngine::Deadline d;
    if (config_.page_timeout > 0) d = page_start_ + std::chrono::seconds(config_.page_timeout);
    if (config_.claim_timeout > 0) {
      auto c = start_ + std::chrono::seconds(config_.claim_timeout);
      if (!d || c < *d) d = c;
    }
    engine.set_deadline(d);
  }

  // Ok while both limits hold; else the error that names the one passed.
  Status Check() const {
    auto now = Steady::now();
    std::string where = "page " + std::to_string(page_ + 1) + " of " + std::to_string(pages_);
    if (config_.claim_timeout > 0 && now - start_ >= std::chrono::seconds(config_.claim_timeout)) {
      return Status::Permanent(file_ + ": timed out: stopped at " + where + " after " +
                               std::to_string(config_.claim_timeout) + " s (ocr.claim_timeout)");
    }
    if (config_.page_timeout > 0 &&
        now - page_start_ >= std::chrono::seconds(config_.page_timeout)) {
      return Status::Permanent(file_ + ": timed out: " + where + " took more than " +
                               std::to_string(config_.page_timeout) + " s (ocr.page_timeout)");
    }
    return Status::Ok();
  }

 private:
  const OcrConfig& config_;
  const std::string& file_;
  int pages_;
  int page_ = 0;
  Steady::time_point start_, page_start_;
};

// A file's document before any page is read: what it is and who reads it.
OcrDocument DescribeDocument(const DocumentReader& doc, const std::filesystem::path& path, const OcrEngine& engine,
                             const PreprocessOptions& options) {
  OcrDocument out;
  out.file = path.string();
  out.format = DocumentFormatName(doc.format());
  out.engine = engine.Name();
  out.preprocess = options.ToSpec();
  return out;
}

// Clears the engine's deadline when a file is done: the engine serves the
// next file too.
struct ClearDeadline {
  OcrEngine& e;
  ~ClearDeadline() { e.set_deadline(std::nullopt); }
};

}  // namespace

bool IsOcrTimeout(const Status& s) {
  return s.message().find(": timed out: ") != std::string::npos &&
         (s.message().find("(ocr.claim_timeout)") != std::string::npos ||
          s.message().find("(ocr.page_timeout)") != std::string::npos);
}

std::string OcrPage::Text() const {
  std::string s;
  for (const auto& l : lines) {
    s += l.text;
    s += '\n';
  }
  return s;
}

std::string OcrDocument::Text() const {
  std::string s;
  for (size_t i = 0; i < pages.size(); ++i) {
    if (i) s += '\f';
    s += pages[i].Text();
  }
  return s;
}

Json OcrDocument::ToJson() const {
  Json pj = Json::array();
  for (const auto& p : pages) {
    Json lines = Json::array();
    for (const auto& l : p.lines) {
      Json words = Json::array();
      for (const auto& w : l.words) {
        words.push_back({{"text", w.text}, {"confidence", Round3(w.confidence)}, {"box", BoxJson(w.box)}});
      }
      Json lj{{"text", l.text}, {"confidence", Round3(l.confidence)},
              {"box", BoxJson(l.box)}, {"words", std::move(words)}};
      if (!l.alt.empty()) lj["alt"] = {{"text", l.alt}, {"confidence", Round3(l.alt_confidence)}};
      lines.push_back(std::move(lj));
    }
    Json timings{{"preprocess_ms", Round3(p.preprocess_ms)}, {"ocr_ms", Round3(p.ocr_ms)}};
    if (p.orientation_ms > 0) timings["orientation_ms"] = Round3(p.orientation_ms);
    if (p.reread_ms > 0) timings["reread_ms"] = Round3(p.reread_ms);
    for (const auto& [step, ms] : p.step_ms) timings[step + "_ms"] = Round3(ms);
    pj.push_back({{"index", p.index},
                  {"source", p.source},
                  {"width", p.width},
                  {"height", p.height},
                  {"rotation", p.rotation},
                  {"skew", Round3(p.skew)},
                  {"scale", Round3(p.scale)},
                  {"mean_confidence", Round3(p.mean_confidence)},
                  {"text", p.Text()},
                  {"lines", std::move(lines)},
                  {"timings", std::move(timings)}});
    if (p.orientation_check.done) {
      const auto& oc = p.orientation_check;
      pj.back()["orientation_check"] = {{"osd_turns", oc.osd_turns},
                                        {"osd_confidence", Round3(oc.osd_confidence)},
                                        {"reread", oc.reread},
                                        {"kept", oc.kept}};
    }
  }
  Json out{{"file", file},
           {"format", format},
           {"engine", engine},
           {"preprocess", preprocess},
           {"pages", std::move(pj)},
           {"timings", {{"decode_ms", Round3(decode_ms)}, {"total_ms", Round3(total_ms)}}}};
  if (!second.empty()) out["second"] = second.front().ToJson();
  if (!second_error.empty()) out["second_error"] = second_error;
  if (!scope.empty()) out["scope"] = scope;
  return out;
}

Result<OcrDocument> OcrDocument::FromJson(const Json& j) {
  try {
    OcrDocument d;
    d.file = j.value("file", "");
    d.format = j.value("format", "");
    d.engine = j.value("engine", "");
    d.preprocess = j.value("preprocess", "");
    if (!j.contains("pages") || !j["pages"].is_array()) {
      return Status::Permanent("OCR JSON has no \"pages\" array");
    }
    for (const auto& pj : j["pages"]) {
      OcrPage p;
      p.index = IntValue(pj, "index", 0);
      p.source = pj.value("source", "ocr");
      p.width = IntValue(pj, "width", 0);
      p.height = IntValue(pj, "height", 0);
      p.rotation = IntValue(pj, "rotation", 0);
      p.skew = pj.value("skew", 0.0);
      p.scale = pj.value("scale", 1.0);
      p.mean_confidence = pj.value("mean_confidence", 0.0);
      if (pj.contains("lines")) {
        for (const auto& lj : pj["lines"]) {
          OcrLine l;
          l.text = lj.value("text", "");
          l.confidence = lj.value("confidence", 0.0);
          if (lj.contains("box")) l.box = BoxFrom(lj["box"]);
          if (lj.contains("alt") && lj["alt"].is_object()) {
            l.alt = lj["alt"].value("text", "");
            l.alt_confidence = lj["alt"].value("confidence", 0.0);
          }
          if (lj.contains("words")) {
            for (const auto& wj : lj["words"]) {
              OcrWord w;
              w.text = wj.value("text", "");
              w.confidence = wj.value("confidence", 0.0);
              if (wj.contains("box")) w.box = BoxFrom(wj["box"]);
              l.words.push_back(std::move(w));
            }
          }
          p.lines.push_back(std::move(l));
        }
      } else if (pj.contains("text")) {
        // Hand-written fixtures may give only text: one line per text line.
        std::string text = pj["text"].get<std::string>();
        size_t start = 0;
        while (start <= text.size()) {
          size_t nl = text.find('\n', start);
          std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
          if (!line.empty()) {
            OcrLine l;
            l.text = line;
            l.confidence = p.source == "pdf-text" ? 1.0 : 0.9;
            p.lines.push_back(std::move(l));
          }
          if (nl == std::string::npos) break;
          start = nl + 1;
        }
      }
      if (pj.contains("timings")) {
        p.preprocess_ms = pj["timings"].value("preprocess_ms", 0.0);
        p.ocr_ms = pj["timings"].value("ocr_ms", 0.0);
        p.orientation_ms = pj["timings"].value("orientation_ms", 0.0);
        p.reread_ms = pj["timings"].value("reread_ms", 0.0);
        for (const auto& [key, value] : pj["timings"].items()) {
          static const char* const kOwn[] = {"preprocess_ms", "ocr_ms", "orientation_ms", "reread_ms"};
          bool own = std::find(std::begin(kOwn), std::end(kOwn), key) != std::end(kOwn);
          if (!own && value.is_number() && key.size() > 3 && key.compare(key.size() - 3, 3, "_ms") == 0) {
            p.step_ms[key.substr(0, key.size() - 3)] = value.get<double>();
          }
        }
      }
      if (pj.contains("orientation_check") && pj["orientation_check"].is_object()) {
        const Json& oc = pj["orientation_check"];
        p.orientation_check.done = true;
        p.orientation_check.osd_turns = IntValue(oc, "osd_turns", -1);
        p.orientation_check.osd_confidence = oc.value("osd_confidence", 0.0);
        p.orientation_check.reread = oc.value("reread", false);
        p.orientation_check.kept = oc.value("kept", false);
      }
      d.pages.push_back(std::move(p));
    }
    if (j.contains("timings")) {
      d.decode_ms = j["timings"].value("decode_ms", 0.0);
      d.total_ms = j["timings"].value("total_ms", 0.0);
    }
    if (j.contains("second") && j["second"].is_object()) {
      Result<OcrDocument> s = FromJson(j["second"]);
      if (!s.ok()) return s.status().WithContext("second reading");
      s->second.clear();  // one level only
      d.second.push_back(std::move(s).value());
    }
    d.second_error = j.value("second_error", "");
    d.scope = j.value("scope", "");
    return d;
  } catch (const Json::exception& e) {
    return Status::Permanent(std::string("malformed OCR JSON: ") + e.what());
  }
}

Result<OcrDocument> OcrFile(OcrEngine& engine, const std::filesystem::path& path,
                            const OcrConfig& config, const PreprocessOptions& options) {
  if (auto* two = dynamic_cast<TwoEngines*>(&engine)) {
    Result<OcrDocument> first = OcrFile(two->first(), path, config, options);
    if (!first.ok()) return first;
    const SecondReading want = two->Wants(*first);
    if (!want.any()) return first;
    two->second().set_known_lines(want.known);
    Result<OcrDocument> second = want.whole
                                     ? OcrFile(two->second(), path, config, options)
                                     : ReadLinesAgain(two->second(), path, config, options, *first, want.lines);
    two->second().set_known_lines({});
    if (second.ok()) {
      first->total_ms += second->total_ms;
      first->second.push_back(std::move(second).value());
    } else {
      first->second_error = second.status().message();
    }
    return first;
  }
  const auto t0 = std::chrono::steady_clock::now();
  // Page by page: a 50-page scan decoded at once would hold gigabytes.
  Result<DocumentReader> doc = DocumentReader::Open(path, config);
  if (!doc.ok()) return doc.status();
  OcrDocument out = DescribeDocument(*doc, path, engine, options);
  out.decode_ms = MsSince(t0);
  Limits limits(config, out.file, doc->page_count());
  ClearDeadline clear_deadline{engine};

  for (int i = 0; i < doc->page_count(); ++i) {
    limits.BeginPage(engine, i);
    const auto td = std::chrono::steady_clock::now();
    Result<DocumentPage> next = doc->ReadPage(i);
    out.decode_ms += MsSince(td);  // pages are decoded here, one at a time
    if (!next.ok()) return next.status();
    // Decoding or rendering cannot be cancelled: a page that took too long
    // is refused once it is done.
    if (Status t = limits.Check(); !t.ok()) return t;
    DocumentPage& dp = *next;
    OcrPage page;
    if (dp.has_text_layer) {
      OcrDocument tmp = OcrDocument::FromJson(
          Json{{"pages", Json::array({{{"source", "pdf-text"}, {"text", dp.text_layer}}})}}).value();
      page = std::move(tmp.pages[0]);
      page.mean_confidence = 1.0;
    } else {
      auto tp = std::chrono::steady_clock::now();
      PreprocessResult pre = Preprocess(dp.image, options);
      dp.image.release();  // pages of a long PDF need not all stay in memory
      double pre_ms = MsSince(tp);
      auto to = std::chrono::steady_clock::now();
      if (Status t = limits.Check(); !t.ok()) return t;
      engine.TakeStepTimes();  // this page's steps count from here
      engine.set_page(i);
      Result<OcrText> text = engine.Recognize(pre.image);
      engine.set_page(-1);  // a turned page is not the one another engine read
      if (Status t = limits.Check(); !t.ok()) return t;  // cancelled, or an engine that cannot be
      if (!text.ok()) return text.status().WithContext(out.file + " page " + std::to_string(i + 1));
      int turns = 0;
      OcrPage::OrientationCheck check;
      double orientation_ms = 0, reread_ms = 0;
      if (options.rotate && LooksMisoriented(*text, pre.image)) {
        const auto tc = std::chrono::steady_clock::now();
        check.done = true;
        std::optional<Orientation> o = engine.DetectOrientation(pre.image);
        if (o) {
          check.osd_turns = o->quarter_turns;
          check.osd_confidence = o->confidence;
        }
        const bool half_turn = o && o->quarter_turns % 4 == 2;
        if (o && o->quarter_turns % 4 != 0 &&
            (!half_turn || o->confidence >= config.upside_down_min_confidence)) {
          cv::Mat turned = RotateQuarterTurns(pre.image, o->quarter_turns);
          Result<OcrText> again = engine.Recognize(turned);
          check.reread = true;
          // Keep the turn only if it actually reads better: OSD guesses wrong
          // on pages with little text.
          if (again.ok() && ReadingScore(*again) > ReadingScore(*text)) {
            text = std::move(again);
            pre.image = turned;
            turns = o->quarter_turns;
            check.kept = true;
          }
        }
        orientation_ms = MsSince(tc);
      }
      if (Status t = limits.Check(); !t.ok()) return t;
      if (config.reread_lines && engine.WantsLineRereads()) {
        const auto tr = std::chrono::steady_clock::now();
        RereadKeyLines(engine, pre.image, *text);
        reread_ms = MsSince(tr);
      }
      if (Status t = limits.Check(); !t.ok()) return t;
      page = PageFromText(std::move(text).value());
      page.width = pre.image.cols;
      page.height = pre.image.rows;
      page.rotation = (((turns % 4) + 4) % 4) * 90;
      page.skew = pre.skew;
      page.scale = pre.scale;
      page.preprocess_ms = pre_ms;
      page.ocr_ms = MsSince(to);
      page.orientation_ms = orientation_ms;
      page.reread_ms = reread_ms;
      page.step_ms = engine.TakeStepTimes();
      page.orientation_check = check;
    }
    page.index = static_cast<int>(i);
    out.pages.push_back(std::move(page));
  }
  out.total_ms = MsSince(t0);
  return out;
}

bool SecondReading::any() const {
  if (whole) return true;
  for (const auto& page : lines) {
    if (!page.empty()) return true;
  }
  return false;
}

Result<OcrDocument> ReadLinesAgain(OcrEngine& engine, const std::filesystem::path& path,
                                  const OcrConfig& config, const PreprocessOptions& options,
                                  const OcrDocument& first, const std::vector<std::vector<int>>& lines) {
  const auto t0 = std::chrono::steady_clock::now();
  Result<DocumentReader> doc = DocumentReader::Open(path, config);
  if (!doc.ok()) return doc.status();
  OcrDocument out = DescribeDocument(*doc, path, engine, options);
  out.scope = "lines";
  Limits limits(config, out.file, doc->page_count());
  ClearDeadline clear_deadline{engine};
  for (size_t p = 0; p < first.pages.size(); ++p) {
    const OcrPage& fp = first.pages[p];
    OcrPage page;
    page.index = fp.index;
    page.width = fp.width;
    page.height = fp.height;
    page.rotation = fp.rotation;
    if (p < lines.size() && !lines[p].empty() && fp.source != "pdf-text" && fp.index >= 0 &&
        fp.index < doc->page_count()) {
      limits.BeginPage(engine, fp.index);
      const auto td = std::chrono::steady_clock::now();
      Result<DocumentPage> next = doc->ReadPage(fp.index);
      out.decode_ms += MsSince(td);
      if (!next.ok()) return next.status();
      if (Status t = limits.Check(); !t.ok()) return t;
      auto tp = std::chrono::steady_clock::now();
      PreprocessResult pre = Preprocess(next->image, options);
      next->image.release();
      cv::Mat image = fp.rotation ? RotateQuarterTurns(pre.image, fp.rotation / 90) : pre.image;
      page.preprocess_ms = MsSince(tp);
      auto to = std::chrono::steady_clock::now();
      engine.TakeStepTimes();  // this page's steps count from here
      if (!next->has_text_layer && image.cols == fp.width && image.rows == fp.height) {
        for (int i : lines[p]) {
          if (i < 0 || i >= static_cast<int>(fp.lines.size())) continue;
          const OcrLine& fl = fp.lines[static_cast<size_t>(i)];
          std::optional<cv::Rect> r = LineCrop(fl.box, image);
          if (!r) continue;
          if (Status t = limits.Check(); !t.ok()) return t;
          Result<OcrText> again = engine.RecognizeLine(image(*r).clone());
          if (!again.ok()) return again.status().WithContext(out.file + " page " + std::to_string(fp.index + 1));
          OcrLine l = JoinedLine(*again);
          if (l.text.empty()) continue;
          l.box = fl.box;
          // The words' boxes are the crop's: placed on the page.
          for (auto& w : l.words) w.box.x += r->x, w.box.y += r->y;
          page.lines.push_back(std::move(l));
        }
      }
      page.ocr_ms = MsSince(to);
      page.step_ms = engine.TakeStepTimes();
      double sum = 0;
      for (const auto& l : page.lines) sum += l.confidence;
      page.mean_confidence = page.lines.empty() ? 0 : sum / page.lines.size();
    }
    out.pages.push_back(std::move(page));
  }
  out.total_ms = MsSince(t0);
  return out;
}

int ResolveWorkers(int configured) {
  if (configured > 0) return configured;
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

Result<OcrPool> OcrPool::Create(int workers, const EngineFactory& factory) {
  OcrPool pool;
  for (int i = 0; i < std::max(1, workers); ++i) {
    Result<std::unique_ptr<OcrEngine>> e = factory();
    if (!e.ok()) return e.status();
    pool.engines_.push_back(std::move(e).value());
  }
  return pool;
}

void OcrPool::Run(size_t n, const std::function<void(OcrEngine&, size_t)>& fn) {
  if (n == 0) return;
  std::atomic<size_t> next{0};
  auto work = [&](OcrEngine& engine) {
    for (size_t i = next++; i < n; i = next++) fn(engine, i);
  };
  const size_t threads = std::min(engines_.size(), n);
  if (threads <= 1) {
    work(*engines_[0]);
    return;
  }
  std::vector<std::thread> ts;
  for (size_t t = 1; t < threads; ++t) ts.emplace_back(work, std::ref(*engines_[t]));
  work(*engines_[0]);
  for (auto& t : ts) t.join();
}

std::vector<Result<OcrDocument>> OcrFiles(OcrPool& pool, const std::vector<std::filesystem::path>& files,
                                          const OcrConfig& config, const PreprocessOptions& options) {
  std::vector<Result<OcrDocument>> out(files.size(), Result<OcrDocument>(Status::Internal("not run")));
  pool.Run(files.size(), [&](OcrEngine& engine, size_t i) {
    try {
      out[i] = OcrFile(engine, files[i], config, options);
    } catch (const std::exception& e) {
      // OpenCV or poppler may throw on hostile input; one file never stops the rest.
      out[i] = Status::Permanent(files[i].string() + ": " + e.what());
    }
  });
  return out;
}

}  // namespace ncbocr
