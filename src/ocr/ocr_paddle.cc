// The PaddleOCR v4 engine (see include/ncbocr/ocr_paddle.h).
//
// Pre- and post-processing follow the models' training setup: detection
// takes the page normalised with the ImageNet mean and deviation at a side
// that is a multiple of 32, and gives a text probability per pixel;
// recognition and the classifier take crops 48 pixels high scaled to
// [-1, 1], padded on the right.
//
// Measured on 30 tuning receipts (bench/paddle_eval.py, one thread):
// detection at 1536 pixels on the long side against 960: total found in the
// text 28 / 29 of 30, company 11 / 14, peak RSS 848 / 564 MB, time alike
// (3.6 / 3.8 s a receipt on a shared machine), so 960. Word splitting
// against Tesseract's word boundaries on the lines both read alike: gap
// factor 1.6 and at least 4.5 frames, recall 0.83 precision 0.98; 1.4 and 4
// frames, 0.89 and 0.99; 1.25 and 3.5 frames, 0.93 and 0.76 (and the date
// found verbatim in 22 of 30 instead of 29), so 1.4 and 4.
//
// Speed (issue 13; CPU time, user + sys, of `ncbocr ocr --workers 2` on 20
// tuning receipts spread over the set, paddle alone; the machine shared, so
// CPU rather than wall time). Recognition took 86% of the engine's time,
// detection 6%, the classifier 7%, and of recognition a sixth went on
// second readings of money and date lines.
//   * Depthwise 5x5 convolutions split into four 3x3 ones in the models
//     (scripts/convert-paddle-models.py): 6.11 -> 4.75 s a receipt, the
//     same text on all 20.
//   * The classifier decides per page (see Classify): on the 20 upright
//     receipts it had turned 7 page crops upside down, each one a misread
//     ("GST Summary" read as "h Ew#nS IS9", "GST 6%" as "x9 1S9"); now
//     none, and 3 of 4 classifier batches are skipped (its time 650 -> 450
//     ms a receipt, the rest being line re-reads, classified one by one).
//   * No second readings of money and date lines (OcrFile's line re-reads,
//     ocr.reread_lines, are Tesseract's): they took 16% of the engine's
//     time, and the classifier turned 31 of 216 of those binarised line
//     crops upside down. `ncbocr eval --limit 60` (tuning and hold-out),
//     paddle alone: total 0.917 with them, 0.950 without, date, company
//     and address alike (0.983, 0.717, 0.333), 39 against 42 routed to
//     submit, none wrong; tesseract+paddle, always and unsettled: the same
//     figures either way (0.933, 1.000, 0.750, 0.550; 31 to submit, none
//     wrong).
//   * Tried, not kept: OpenCV's threads (its TBB backend runs one worker's
//     parallel loops at a time; cv::setNumThreads(1) gave the same CPU
//     time, 6.15 against 6.11 s, and the same text); several short crops
//     side by side in one 640-wide network (2% less CPU, but the text of 18
//     of 20 receipts changed, digits included: "11:07" read "1l:07");
//     finer width buckets (at most 10% less padding on 5 receipts' 314
//     crops, each network about 30 MB more per worker).
//   * Tried on 2026-12-03, not kept (one thread, CPU time of a 320-wide
//     line, the least of 12 rounds of 8): recognition pinned to a batch of
//     4 does not run in OpenCV 4.6 (a shape assertion in the attention
//     blocks); its convolutional part alone at a batch of 4 took 71 ms a
//     line against 54 one at a time. Rewriting the graph: each Conv's
//     following scalar Mul/Add folded into its weights, the one before a
//     Conv folded too, x*clip(x+3,0,6)/6 as one HardSwish node, the final
//     Softmax dropped: the same outputs (1.6e-6) but 67 to 75 ms against
//     66 (OpenCV already fuses the scalar affines into the convolutions,
//     and a fused HardSwish takes its convolution off the fast path:
//     convolutions 27 -> 41 ms). Loading networks on demand to hold fewer:
//     a recognition network costs 40 to 48 ms to read and 13 to 20 ms more
//     on its first run, each one held is 30 to 40 MB (the seven, 250 MB),
//     and the detection network holds about 160 MB after a page; wide
//     buckets are used by most receipts (960: 155 of 250, 1280: 69), so
//     reading them per receipt would cost more time than the memory is
//     worth.
//   * Kept (2026-12-03, later; `ncbocr ocr --workers 2`, 40 receipts of the
//     bench, eng, unsettled+header, peak RSS of the process): detection's
//     network dropped after each page (ShapeKeyedNet::Release), since the
//     next page is seldom the same size and would read it again anyway:
//     1414 -> 1229 MB; with malloc's mmap threshold fixed as well
//     (cli/malloc_tuning.cc), 1096 MB, 548 a worker. The same text (the
//     paddle readings of 12 receipts compared with the eval cache's), the
//     same time (58 to 60 s wall). A malloc arena limit (MALLOC_ARENA_MAX
//     1 or 2) gained nothing more.
//   * Tried on 2026-12-04, not kept: no 160-wide bucket (its crops padded
//     into the 320 network). 40 receipts of the bench, eng+msa,
//     unsettled+header, 2 workers, two runs each: wall 74.8 to 79.5 s
//     against 69.3 to 70.1, CPU 145 s against 133 to 137, peak RSS 1058 to
//     1181 MB against 1198 to 1225; the same eval figures on all 250. About
//     70 MB a worker for 8% more time: the bucket stays.
//   * Kept (2026-12-04, later): rows Tesseract read surely are left to it
//     on the receipts paddle reads whole (RegionsToRead; which rows,
//     extraction's SecondReadingFor decides). Simulated first on the eval
//     cache's full paddle readings: a row covered by sure lines across 90%
//     of its width (so that a row whose amount Tesseract missed is read:
//     with the vertical overlap alone two tuning totals were lost; 80%
//     gave the same figures as 90%). Then measured: the same eval figures and
//     receipts on all 250, and bench/run.sh --skip-baselines --repeat 1,
//     unsettled+header, 40 receipts, 2 workers, before and after on one
//     machine: eng 1.80 -> 1.58 s a receipt (paddle recognise 2110 -> 1847
//     ms a receipt), eng+msa 2.00 -> 1.72 s, with rows without a digit
//     alone; with digit rows that settle no field too, 1.40 s (1608 ms)
//     and 1.78 s (single runs, about 10% apart from run to run).
#include "ncbocr/ocr_paddle.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

#include <opencv2/core/cuda.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

namespace ncbocr {

namespace fs = std::filesystem;

namespace paddle {

const std::vector<int>& RecognitionWidths() {
  // Must match REC_WIDTHS in scripts/convert-paddle-models.py.
  static const std::vector<int> widths = {160, 320, 480, 640, 800, 960, 1280};
  return widths;
}

int WidthBucket(int width) {
  const auto& w = RecognitionWidths();
  for (size_t i = 0; i < w.size(); ++i) {
    if (width <= w[i]) return static_cast<int>(i);
  }
  return static_cast<int>(w.size()) - 1;
}

std::vector<CtcChar> CtcGreedyDecode(const float* probs, int frames, int classes) {
  std::vector<CtcChar> out;
  int prev = 0;
  double sum = 0;
  for (int t = 0; t < frames; ++t) {
    const float* row = probs + static_cast<size_t>(t) * classes;
    int best = static_cast<int>(std::max_element(row, row + classes) - row);
    if (best != 0 && best == prev) {
      out.back().last_frame = t;
      sum += row[best];
      out.back().confidence = sum / (t - out.back().first_frame + 1);
    } else if (best != 0) {
      sum = row[best];
      out.push_back({best, t, t, row[best]});
    }
    prev = best;
  }
  return out;
}

std::vector<DecodedWord> SplitWords(const std::vector<CtcChar>& chars, const std::vector<std::string>& dict,
                                    double gap_factor, double min_gap_frames) {
  auto text_of = [&](int cls) -> const std::string& {
    static const std::string unknown = "?";
    return cls >= 1 && cls <= static_cast<int>(dict.size()) ? dict[cls - 1] : unknown;
  };
  auto centre = [](const CtcChar& c) { return (c.first_frame + c.last_frame) / 2.0; };
  // The line's usual pitch: the median distance between consecutive
  // characters that are not the model's own spaces.
  std::vector<double> pitches;
  for (size_t i = 1; i < chars.size(); ++i) {
    if (text_of(chars[i].cls) != " " && text_of(chars[i - 1].cls) != " ") {
      pitches.push_back(centre(chars[i]) - centre(chars[i - 1]));
    }
  }
  double median = 0;
  if (!pitches.empty()) {
    std::nth_element(pitches.begin(), pitches.begin() + pitches.size() / 2, pitches.end());
    median = pitches[pitches.size() / 2];
  }
  const double threshold = std::max(min_gap_frames, gap_factor * median);

  std::vector<DecodedWord> words;
  std::vector<double> confidences;
  auto finish = [&] {
    if (words.empty() || words.back().text.empty()) return;
    DecodedWord& w = words.back();
    w.confidence = std::accumulate(confidences.begin(), confidences.end(), 0.0) / confidences.size();
    confidences.clear();
  };
  bool open = false;
  for (size_t i = 0; i < chars.size(); ++i) {
    const std::string& t = text_of(chars[i].cls);
    if (t == " ") {
      if (open) finish();
      open = false;
      continue;
    }
    bool gap = i > 0 && open && centre(chars[i]) - centre(chars[i - 1]) > threshold;
    if (gap) finish();
    if (!open || gap) {
      words.push_back({"", 0, chars[i].first_frame, chars[i].last_frame});
      open = true;
    }
    words.back().text += t;
    words.back().last_frame = chars[i].last_frame;
    confidences.push_back(chars[i].confidence);
  }
  if (open) finish();
  return words;
}

std::string AsciiForm(const std::string& entry) {
  // Three-byte UTF-8: EF BC 81..EF BD 9E is U+FF01..U+FF5E.
  if (entry.size() == 3) {
    unsigned char a = entry[0], b = entry[1], c = entry[2];
    unsigned cp = ((a & 0x0Fu) << 12) | ((b & 0x3Fu) << 6) | (c & 0x3Fu);
    if ((a & 0xF0u) == 0xE0u && cp >= 0xFF01 && cp <= 0xFF5E) return std::string(1, static_cast<char>(cp - 0xFEE0));
    if ((a & 0xF0u) == 0xE0u && cp == 0x3000) return " ";
  }
  return entry;
}

std::vector<std::vector<int>> GroupIntoLines(const std::vector<OcrBox>& boxes) {
  std::vector<int> order(boxes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return boxes[a].y + boxes[a].h / 2.0 < boxes[b].y + boxes[b].h / 2.0;
  });
  struct Line {
    int top, bottom;
    std::vector<int> members;
  };
  std::vector<Line> lines;
  for (int i : order) {
    const OcrBox& b = boxes[i];
    Line* best = nullptr;
    int best_overlap = 0;
    for (Line& l : lines) {
      int overlap = std::min(l.bottom, b.y + b.h) - std::max(l.top, b.y);
      int lower = std::min(l.bottom - l.top, b.h);
      if (overlap * 2 >= lower && overlap > best_overlap) {
        best = &l;
        best_overlap = overlap;
      }
    }
    if (best == nullptr) {
      lines.push_back({b.y, b.y + b.h, {i}});
    } else {
      // The line keeps the extent of its first box, so a tall box cannot
      // draw the lines above and below into one.
      best->members.push_back(i);
    }
  }
  std::vector<std::vector<int>> out;
  for (Line& l : lines) {
    std::sort(l.members.begin(), l.members.end(), [&](int a, int b) { return boxes[a].x < boxes[b].x; });
    out.push_back(std::move(l.members));
  }
  return out;
}

std::vector<bool> RegionsToRead(const std::vector<OcrBox>& boxes, const KnownPage& known) {
  std::vector<bool> read(boxes.size(), true);
  constexpr double kCovered = 0.9;  // measured: see the top of the file
  for (const auto& row : GroupIntoLines(boxes)) {
    int x0 = INT_MAX, y0 = INT_MAX, x1 = INT_MIN, y1 = INT_MIN;
    for (int m : row) {
      const OcrBox& b = boxes[static_cast<size_t>(m)];
      x0 = std::min(x0, b.x), y0 = std::min(y0, b.y);
      x1 = std::max(x1, b.x + b.w), y1 = std::max(y1, b.y + b.h);
    }
    if ((y0 + y1) / 2 < known.read_above || x1 <= x0) continue;
    bool all_sure = true;
    std::vector<std::pair<int, int>> spans;  // the known lines' extents across the row
    for (const KnownPage::Line& l : known.lines) {
      const int overlap = std::min(y1, l.box.y + l.box.h) - std::max(y0, l.box.y);
      if (overlap * 2 <= std::min(y1 - y0, l.box.h)) continue;
      all_sure = all_sure && l.sure;
      spans.push_back({std::max(x0, l.box.x), std::min(x1, l.box.x + l.box.w)});
    }
    if (spans.empty() || !all_sure) continue;
    // How much of the row the spans cover together (a gap between two lines
    // may hold what the first engine missed).
    std::sort(spans.begin(), spans.end());
    int covered = 0, reach = x0;
    for (const auto& [b, e] : spans) {
      if (e > std::max(b, reach)) covered += e - std::max(b, reach);
      reach = std::max(reach, e);
    }
    if (covered < kCovered * (x1 - x0)) continue;
    for (int m : row) read[static_cast<size_t>(m)] = false;
  }
  return read;
}

}  // namespace paddle

namespace {

using paddle::CtcChar;
using paddle::DecodedWord;

constexpr double kBinaryThreshold = 0.3;   // DB probability that counts as text
constexpr double kBoxThreshold = 0.6;      // mean probability a region needs
constexpr double kUnclipRatio = 1.5;       // DB's shrink ratio undone
constexpr double kFlipConfidence = 0.9;    // classifier's "upside down" taken above this
constexpr int kDetectionMaxSide = 960;     // detection runs at most this large (measured: top of file)
constexpr int kMaxCandidates = 2000;

const std::array<const char*, 3> kFixedFiles = {"det.onnx", "cls.onnx", "keys.txt"};

std::string RecFile(int width) { return "rec_w" + std::to_string(width) + ".onnx"; }

// The first of the engine's model files missing from dir, by name.
std::optional<std::string> FirstMissingModel(const fs::path& dir) {
  std::error_code ec;
  for (const char* f : kFixedFiles) {
    if (!fs::exists(dir / f, ec)) return std::string(f);
  }
  for (int w : paddle::RecognitionWidths()) {
    if (!fs::exists(dir / RecFile(w), ec)) return RecFile(w);
  }
  return std::nullopt;
}

// A detected text region: its corners in page coordinates (top-left,
// top-right, bottom-right, bottom-left, along the text) and the crop.
struct Region {
  std::array<cv::Point2f, 4> corners;
  OcrBox box;  // axis-aligned bounds
  cv::Mat crop;
  std::vector<DecodedWord> words;
  int resized_width = 0;  // crop's width at height 48 (before padding)
};

// Orders a rectangle's corners along the text: the two leftmost are the
// left side, each side's upper point first.
std::array<cv::Point2f, 4> OrderCorners(const cv::RotatedRect& r) {
  cv::Point2f p[4];
  r.points(p);
  std::sort(p, p + 4, [](const cv::Point2f& a, const cv::Point2f& b) { return a.x < b.x; });
  cv::Point2f tl = p[0].y <= p[1].y ? p[0] : p[1], bl = p[0].y <= p[1].y ? p[1] : p[0];
  cv::Point2f tr = p[2].y <= p[3].y ? p[2] : p[3], br = p[2].y <= p[3].y ? p[3] : p[2];
  return {tl, tr, br, bl};
}

cv::Mat CropRegion(const cv::Mat& page, const std::array<cv::Point2f, 4>& c) {
  auto dist = [](cv::Point2f a, cv::Point2f b) { return std::hypot(a.x - b.x, a.y - b.y); };
  int w = std::max(1, static_cast<int>(std::max(dist(c[0], c[1]), dist(c[3], c[2]))));
  int h = std::max(1, static_cast<int>(std::max(dist(c[0], c[3]), dist(c[1], c[2]))));
  std::array<cv::Point2f, 4> dst = {cv::Point2f(0, 0), cv::Point2f(w, 0), cv::Point2f(w, h), cv::Point2f(0, h)};
  cv::Mat m = cv::getPerspectiveTransform(c.data(), dst.data());
  cv::Mat crop;
  cv::warpPerspective(page, crop, m, cv::Size(w, h), cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  // Text standing on end (a column of characters) is read turned.
  if (crop.rows >= crop.cols * 1.5) cv::rotate(crop, crop, cv::ROTATE_90_COUNTERCLOCKWISE);
  return crop;
}

// A crop 48 high, `width` wide (its own aspect up to max_width), normalised
// to [-1, 1] and padded with 0 to `pad_to`, as a 3x48xpad_to float blob.
cv::Mat LineBlob(const cv::Mat& crop, int max_width, int pad_to, int* resized_width) {
  double ratio = static_cast<double>(crop.cols) / std::max(1, crop.rows);
  int w = std::clamp(static_cast<int>(std::ceil(48 * ratio)), 1, max_width);
  if (resized_width != nullptr) *resized_width = w;
  cv::Mat resized;
  cv::resize(crop, resized, cv::Size(w, 48), 0, 0, cv::INTER_LINEAR);
  cv::Mat f;
  resized.convertTo(f, CV_32F, 1 / 127.5, -1.0);
  std::vector<cv::Mat> channels;
  cv::split(f, channels);
  int dims[] = {1, 3, 48, pad_to};
  cv::Mat blob(4, dims, CV_32F, cv::Scalar(0));
  for (int c = 0; c < 3; ++c) {
    cv::Mat plane(48, pad_to, CV_32F, blob.ptr<float>(0, c));
    channels[channels.size() == 3 ? c : 0].copyTo(plane(cv::Rect(0, 0, w, 48)));
  }
  return blob;
}

// Adds the milliseconds of its own lifetime to *sum.
class StepTimer {
 public:
  explicit StepTimer(double* sum) : sum_(sum), start_(std::chrono::steady_clock::now()) {}
  ~StepTimer() {
    *sum_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }
  StepTimer(const StepTimer&) = delete;
  StepTimer& operator=(const StepTimer&) = delete;

 private:
  double* sum_;
  std::chrono::steady_clock::time_point start_;
};

// A network for inputs whose shape changes from call to call. OpenCV 4.6
// sizes some layers on the first forward pass and keeps those sizes: the
// detection network run on a second page of another size gave an empty
// probability map. So the network is read again from the model's bytes
// (kept in memory; about 15 ms) whenever the input shape changes.
class ShapeKeyedNet {
 public:
  Status Load(const fs::path& file, bool cuda) {
    std::ifstream in(file, std::ios::binary);
    bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return Status::Config("cannot read " + file.string());
    file_ = file;
    cuda_ = cuda;
    return Read();
  }

  // Runs the network; the time spent reading it again, if the shape
  // changed, is added to *load_ms.
  cv::Mat Forward(const cv::Mat& blob, double* load_ms) {
    std::vector<int> shape(blob.size.p, blob.size.p + blob.dims);
    if (released_ || (!shape_.empty() && shape != shape_)) {
      StepTimer t(load_ms);
      Status s = Read();
      if (!s.ok()) throw cv::Exception(cv::Error::StsError, s.message(), __func__, __FILE__, __LINE__);
    }
    shape_ = shape;
    released_ = false;
    net_.setInput(blob);
    return net_.forward();
  }

  // Drops the network and the buffers it sized for the last input; the
  // next Forward reads it again. Detection's buffers for a page are some
  // 160 MB, and a page's successor is seldom the same size, so holding them
  // until then saves no read (see the top of this file).
  void Release() {
    net_ = cv::dnn::Net();
    released_ = true;
  }

 private:
  Status Read() {
    try {
      net_ = cv::dnn::readNetFromONNX(bytes_.data(), bytes_.size());
    } catch (const cv::Exception& e) {
      return Status::Config("cannot load " + file_.string() + " (run scripts/setup.sh): " + e.msg);
    }
    if (cuda_) {
      net_.setPreferableBackend(cv::dnn::DNN_BACKEND_CUDA);
      net_.setPreferableTarget(cv::dnn::DNN_TARGET_CUDA);
    }
    return Status::Ok();
  }

  fs::path file_;
  bool cuda_ = false;
  std::vector<char> bytes_;
  cv::dnn::Net net_;
  std::vector<int> shape_;
  bool released_ = false;
};

class PaddleEngine : public OcrEngine {
 public:
  PaddleEngine(fs::path dir, bool cuda) : dir_(std::move(dir)), cuda_(cuda) {}

  Status Init() {
    if (auto missing = FirstMissingModel(dir_)) return Missing(*missing);
    std::ifstream keys(dir_ / "keys.txt");
    std::string line;
    while (std::getline(keys, line)) dict_.push_back(paddle::AsciiForm(line));
    dict_.push_back(" ");  // the model's last class
    Status s = det_.Load(dir_ / "det.onnx", cuda_);
    if (!s.ok()) return s;
    s = cls_.Load(dir_ / "cls.onnx", cuda_);
    if (!s.ok()) return s;
    rec_.resize(paddle::RecognitionWidths().size());
    return Status::Ok();
  }

  std::string Name() const override {
    return std::string("paddle PP-OCRv4 (opencv dnn ") + CV_VERSION + (cuda_ ? ", cuda)" : ", cpu)");
  }

  Result<OcrText> Recognize(const cv::Mat& gray) override {
    try {
      return RecognizePage(gray);
    } catch (const cv::Exception& e) {
      return Status::Internal(std::string("paddle engine: OpenCV failed: ") + e.what());
    }
  }

  // Its second readings of money and date lines (a line's crop binarised)
  // cost a sixth of its time and made it worse (see the top of the file).
  bool WantsLineRereads() const override { return false; }

  std::map<std::string, double> TakeStepTimes() override {
    std::map<std::string, double> out;
    if (load_ms_ > 0) out["load"] = load_ms_;
    if (detect_ms_ > 0) out["detect"] = detect_ms_;
    if (classify_ms_ > 0) out["classify"] = classify_ms_;
    if (recognise_ms_ > 0) out["recognise"] = recognise_ms_;
    load_ms_ = detect_ms_ = classify_ms_ = recognise_ms_ = 0;
    return out;
  }

  // A single line: no detection, the whole image is the region.
  Result<OcrText> RecognizeLine(const cv::Mat& gray) override {
    try {
      if (gray.empty()) return OcrText{};
      Region r;
      r.box = {0, 0, gray.cols, gray.rows};
      if (gray.channels() == 1) {
        cv::cvtColor(gray, r.crop, cv::COLOR_GRAY2BGR);
      } else {
        r.crop = gray.clone();
      }
      std::vector<Region> regions{std::move(r)};
      Classify(regions, /*page=*/false);
      Status s = RecognizeRegions(regions);
      if (!s.ok()) return s;
      return Assemble(regions);
    } catch (const cv::Exception& e) {
      return Status::Internal(std::string("paddle engine: OpenCV failed: ") + e.what());
    }
  }

 private:
  Status Missing(const std::string& file) const {
    return Status::Config("paddle OCR models not found: " + (dir_ / file).string() +
                          " is missing (run scripts/setup.sh, or set ocr.models_dir)");
  }

  Status Load(const std::string& file, cv::dnn::Net& net) {
    try {
      net = cv::dnn::readNetFromONNX((dir_ / file).string());
    } catch (const cv::Exception& e) {
      return Status::Config("cannot load " + (dir_ / file).string() + " (run scripts/setup.sh): " + e.msg);
    }
    if (cuda_) {
      net.setPreferableBackend(cv::dnn::DNN_BACKEND_CUDA);
      net.setPreferableTarget(cv::dnn::DNN_TARGET_CUDA);
    }
    return Status::Ok();
  }

  Status TimedOut() const {
    if (deadline_ && std::chrono::steady_clock::now() > *deadline_) {
      return Status::Permanent("paddle recognition timed out");
    }
    return Status::Ok();
  }

  Result<OcrText> RecognizePage(const cv::Mat& gray) {
    cv::Mat page;
    if (gray.channels() == 1) {
      cv::cvtColor(gray, page, cv::COLOR_GRAY2BGR);
    } else {
      page = gray;
    }
    std::vector<Region> regions;
    double reload_ms = 0;  // counted as load, not as detection
    {
      StepTimer t(&detect_ms_);
      regions = Detect(page, &reload_ms);
    }
    load_ms_ += reload_ms;
    detect_ms_ -= reload_ms;
    if (const KnownPage* known = KnownFor(gray.cols, gray.rows)) {
      // Rows the first engine read surely are left to it.
      std::vector<OcrBox> boxes;
      for (const Region& r : regions) boxes.push_back(r.box);
      const std::vector<bool> read = paddle::RegionsToRead(boxes, *known);
      std::vector<Region> kept;
      for (size_t i = 0; i < regions.size(); ++i) {
        if (read[i]) kept.push_back(std::move(regions[i]));
      }
      regions = std::move(kept);
    }
    Status s = TimedOut();
    if (!s.ok()) return s;
    Classify(regions, /*page=*/true);
    s = RecognizeRegions(regions);
    if (!s.ok()) return s;
    return Assemble(regions);
  }

  std::vector<Region> Detect(const cv::Mat& page, double* reload_ms) {
    double scale = std::min(1.0, static_cast<double>(kDetectionMaxSide) / std::max(page.cols, page.rows));
    int w = std::max(32, static_cast<int>(std::round(page.cols * scale / 32)) * 32);
    int h = std::max(32, static_cast<int>(std::round(page.rows * scale / 32)) * 32);
    cv::Mat resized;
    cv::resize(page, resized, cv::Size(w, h), 0, 0, cv::INTER_AREA);
    cv::Mat blob = cv::dnn::blobFromImage(resized, 1 / 255.0, cv::Size(), cv::Scalar(), /*swapRB=*/true);
    const float mean[3] = {0.485f, 0.456f, 0.406f}, dev[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; ++c) {
      cv::Mat plane(h, w, CV_32F, blob.ptr<float>(0, c));
      plane = (plane - mean[c]) / dev[c];
    }
    cv::Mat out = det_.Forward(blob, reload_ms);
    cv::Mat prob(h, w, CV_32F, out.ptr<float>(0, 0));
    cv::Mat mask = prob > kBinaryThreshold;
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(mask, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
    if (contours.size() > kMaxCandidates) contours.resize(kMaxCandidates);

    const double sx = static_cast<double>(page.cols) / w, sy = static_cast<double>(page.rows) / h;
    std::vector<Region> regions;
    for (const auto& c : contours) {
      cv::RotatedRect r = cv::minAreaRect(c);
      if (std::min(r.size.width, r.size.height) < 3) continue;
      // The region's mean probability inside the contour.
      cv::Rect bounds = cv::boundingRect(c) & cv::Rect(0, 0, w, h);
      cv::Mat inside = cv::Mat::zeros(bounds.size(), CV_8U);
      std::vector<std::vector<cv::Point>> shifted = {c};
      for (auto& p : shifted[0]) p -= bounds.tl();
      cv::fillPoly(inside, shifted, cv::Scalar(1));
      if (cv::mean(prob(bounds), inside)[0] < kBoxThreshold) continue;
      // DB's map is the text shrunk by (1 - r^2) * area / perimeter; grow it
      // back by area * ratio / perimeter on every side.
      double area = r.size.area(), perimeter = 2 * (r.size.width + r.size.height);
      double d = area * kUnclipRatio / perimeter;
      cv::RotatedRect grown(r.center, cv::Size2f(r.size.width + 2 * d, r.size.height + 2 * d), r.angle);
      if (std::min(grown.size.width, grown.size.height) < 5) continue;
      Region reg;
      cv::Point2f p[4];
      grown.points(p);
      for (auto& q : p) {
        q.x = std::clamp(static_cast<float>(q.x * sx), 0.f, static_cast<float>(page.cols - 1));
        q.y = std::clamp(static_cast<float>(q.y * sy), 0.f, static_cast<float>(page.rows - 1));
      }
      cv::RotatedRect on_page = cv::minAreaRect(std::vector<cv::Point2f>(p, p + 4));
      reg.corners = OrderCorners(on_page);
      cv::Rect b = cv::boundingRect(std::vector<cv::Point2f>(reg.corners.begin(), reg.corners.end())) &
                   cv::Rect(0, 0, page.cols, page.rows);
      if (b.width < 2 || b.height < 2) continue;
      reg.box = {b.x, b.y, b.width, b.height};
      reg.crop = CropRegion(page, reg.corners);
      regions.push_back(std::move(reg));
    }
    det_.Release();
    return regions;
  }

  // The classifier's "upside down" probability for each of regions[which].
  std::vector<float> UpsideDown(const std::vector<Region>& regions, const std::vector<size_t>& which,
                                double* reload_ms) {
    constexpr size_t kBatch = 16;
    std::vector<float> p;
    for (size_t start = 0; start < which.size(); start += kBatch) {
      size_t n = std::min(kBatch, which.size() - start);
      int dims[] = {static_cast<int>(n), 3, 48, 192};
      cv::Mat blob(4, dims, CV_32F, cv::Scalar(0));
      for (size_t i = 0; i < n; ++i) {
        cv::Mat one = LineBlob(regions[which[start + i]].crop, 192, 192, nullptr);
        std::memcpy(blob.ptr<float>(static_cast<int>(i)), one.ptr<float>(0), one.total() * sizeof(float));
      }
      cv::Mat out = cls_.Forward(blob, reload_ms);  // n x 2: upright, upside down
      for (size_t i = 0; i < n; ++i) p.push_back(out.at<float>(static_cast<int>(i), 1));
    }
    return p;
  }

  // Turns the crops the classifier calls upside down. A page's crops are
  // turned only where the page is: the classifier first reads its 16
  // widest crops, and unless most of those are upside down the page is
  // taken as upright, nothing is turned and the other crops are not
  // classified (measured at the top of the file).
  void Classify(std::vector<Region>& regions, bool page) {
    if (regions.empty()) return;
    double reload_ms = 0;  // counted as load, not as classification
    StepTimer t(&classify_ms_);
    std::vector<size_t> all(regions.size());
    std::iota(all.begin(), all.end(), 0);
    std::vector<size_t> which = all;
    if (page) {
      constexpr size_t kSample = 16;
      std::vector<size_t> widest = all;
      auto width = [&](size_t i) {
        return static_cast<double>(regions[i].crop.cols) / std::max(1, regions[i].crop.rows);
      };
      std::stable_sort(widest.begin(), widest.end(), [&](size_t a, size_t b) { return width(a) > width(b); });
      widest.resize(std::min(kSample, widest.size()));
      std::vector<float> p = UpsideDown(regions, widest, &reload_ms);
      size_t down = std::count_if(p.begin(), p.end(), [](float v) { return v > kFlipConfidence; });
      if (down * 2 <= widest.size()) which.clear();  // upright
    }
    std::vector<float> p = UpsideDown(regions, which, &reload_ms);
    for (size_t k = 0; k < which.size(); ++k) {
      if (p[k] > kFlipConfidence) cv::rotate(regions[which[k]].crop, regions[which[k]].crop, cv::ROTATE_180);
    }
    load_ms_ += reload_ms;
    classify_ms_ -= reload_ms;
  }

  Status RecognizeRegions(std::vector<Region>& regions) {
    const auto& widths = paddle::RecognitionWidths();
    // Bucket by bucket, so each network reads all its crops in a row.
    std::vector<std::vector<size_t>> buckets(widths.size());
    for (size_t i = 0; i < regions.size(); ++i) {
      const cv::Mat& c = regions[i].crop;
      int w = static_cast<int>(std::ceil(48.0 * c.cols / std::max(1, c.rows)));
      buckets[paddle::WidthBucket(w)].push_back(i);
    }
    for (size_t b = 0; b < widths.size(); ++b) {
      if (buckets[b].empty()) continue;
      if (rec_[b].empty()) {
        StepTimer t(&load_ms_);
        Status s = Load(RecFile(widths[b]), rec_[b]);
        if (!s.ok()) return s;
      }
      StepTimer t(&recognise_ms_);
      for (size_t i : buckets[b]) {
        Status s = TimedOut();
        if (!s.ok()) return s;
        Region& r = regions[i];
        rec_[b].setInput(LineBlob(r.crop, widths[b], widths[b], &r.resized_width));
        cv::Mat out = rec_[b].forward();  // 1 x frames x classes
        std::vector<CtcChar> chars = paddle::CtcGreedyDecode(out.ptr<float>(0), out.size[1], out.size[2]);
        r.words = paddle::SplitWords(chars, dict_);
      }
    }
    return Status::Ok();
  }

  // Words' boxes from their frames: a frame is 8 pixels of the crop scaled
  // to height 48, laid along the region's axis-aligned bounds.
  OcrText Assemble(const std::vector<Region>& regions) {
    std::vector<OcrBox> boxes;
    std::vector<size_t> index;
    for (size_t i = 0; i < regions.size(); ++i) {
      if (regions[i].words.empty()) continue;
      boxes.push_back(regions[i].box);
      index.push_back(i);
    }
    OcrText text;
    double sum = 0;
    int count = 0;
    for (const auto& members : paddle::GroupIntoLines(boxes)) {
      OcrLine line;
      int x0 = INT_MAX, y0 = INT_MAX, x1 = 0, y1 = 0;
      double line_sum = 0;
      for (int m : members) {
        const Region& r = regions[index[m]];
        double px = static_cast<double>(r.box.w) / std::max(1, r.resized_width);
        for (const DecodedWord& dw : r.words) {
          OcrWord w;
          w.text = dw.text;
          w.confidence = dw.confidence;
          int wx0 = r.box.x + static_cast<int>(dw.first_frame * paddle::kFramePixels * px);
          int wx1 = r.box.x + static_cast<int>((dw.last_frame + 1) * paddle::kFramePixels * px);
          wx1 = std::min(wx1, r.box.x + r.box.w);
          w.box = {wx0, r.box.y, std::max(1, wx1 - wx0), r.box.h};
          if (!line.text.empty()) line.text += ' ';
          line.text += w.text;
          line_sum += w.confidence;
          line.words.push_back(std::move(w));
        }
        x0 = std::min(x0, r.box.x);
        y0 = std::min(y0, r.box.y);
        x1 = std::max(x1, r.box.x + r.box.w);
        y1 = std::max(y1, r.box.y + r.box.h);
      }
      if (line.words.empty()) continue;
      line.box = {x0, y0, x1 - x0, y1 - y0};
      line.confidence = line_sum / line.words.size();
      sum += line_sum;
      count += static_cast<int>(line.words.size());
      text.lines.push_back(std::move(line));
    }
    text.mean_confidence = count > 0 ? sum / count : 0;
    return text;
  }

  fs::path dir_;
  bool cuda_;
  // Milliseconds per step since TakeStepTimes: reading networks (a
  // recognition bucket's first use, the detector or classifier read again
  // for a new input shape), detection (network, boxes and crops; less
  // its reloads), the classifier, recognition (networks and decoding).
  double load_ms_ = 0, detect_ms_ = 0, classify_ms_ = 0, recognise_ms_ = 0;
  std::vector<std::string> dict_;
  ShapeKeyedNet det_, cls_;
  std::vector<cv::dnn::Net> rec_;  // per width bucket, loaded on first use
};

bool HaveCudaDnn() {
  try {
    if (cv::cuda::getCudaEnabledDeviceCount() <= 0) return false;
    for (const auto& [backend, target] : cv::dnn::getAvailableBackends()) {
      if (backend == cv::dnn::DNN_BACKEND_CUDA) return true;
    }
  } catch (const cv::Exception&) {
  }
  return false;
}

fs::path ExecutableDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

}  // namespace

std::string DefaultPaddleModelsDir() {
  std::vector<fs::path> candidates;
  fs::path exe = ExecutableDir();
  if (!exe.empty()) {
    candidates.push_back(exe / "models");
    candidates.push_back((exe / ".." / "share" / "ncbocr" / "models").lexically_normal());
  }
  candidates.push_back("/usr/share/ncbocr/models");
  std::error_code ec;
  for (const auto& c : candidates) {
    if (fs::exists(c / "det.onnx", ec)) return c.string();
  }
  return candidates.front().string();
}

Result<std::unique_ptr<OcrEngine>> MakePaddleEngine(const OcrConfig& config) {
  std::string dir = config.models_dir.empty() ? DefaultPaddleModelsDir() : config.models_dir;
  bool cuda = config.use_gpu != "false" && HaveCudaDnn();
  auto engine = std::make_unique<PaddleEngine>(dir, cuda);
  Status s = engine->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<OcrEngine>(std::move(engine));
}

std::optional<std::string> MissingPaddleModel(const OcrConfig& config) {
  fs::path dir = config.models_dir.empty() ? DefaultPaddleModelsDir() : config.models_dir;
  if (auto missing = FirstMissingModel(dir)) return (dir / *missing).string();
  return std::nullopt;
}

std::string ResolveAutoEngine(OcrConfig& config) {
  if (config.engine != "auto") return "";
  if (auto missing = MissingPaddleModel(config)) {
    config.engine = "tesseract";
    return "ocr.engine auto: the paddle engine's models are not installed (no " + *missing +
           "; scripts/fetch-models.sh installs them): Tesseract alone reads the receipts";
  }
  config.engine = "tesseract+paddle";
  return "";
}

Result<std::unique_ptr<OcrEngine>> MakeOcrEngine(const OcrConfig& given, SecondReadingWanted wanted) {
  OcrConfig config = given;
  ResolveAutoEngine(config);
  if (config.engine == "paddle") return MakePaddleEngine(config);
  if (config.engine == "tesseract+paddle") {
    Result<std::unique_ptr<OcrEngine>> first = MakeTesseractEngine(config);
    if (!first.ok()) return first;
    Result<std::unique_ptr<OcrEngine>> second = MakePaddleEngine(config);
    if (!second.ok()) return second;
    return std::unique_ptr<OcrEngine>(
        new TwoEngines(std::move(first).value(), std::move(second).value(), std::move(wanted)));
  }
  return MakeTesseractEngine(config);
}

std::vector<std::string> EngineNames(const std::string& engine) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t plus = engine.find('+', start);
    out.push_back(engine.substr(start, plus == std::string::npos ? std::string::npos : plus - start));
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  return out;
}

}  // namespace ncbocr
