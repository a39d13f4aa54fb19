#include "ncbocr/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "ncbocr/gpu.h"

namespace ncbocr {

namespace {

const char* BinarizeName(Binarize b) {
  switch (b) {
    case Binarize::kOtsu: return "otsu";
    case Binarize::kAdaptive: return "adaptive";
    case Binarize::kNone: break;
  }
  return "none";
}

const char* DenoiseName(Denoise d) {
  switch (d) {
    case Denoise::kMedian: return "median";
    case Denoise::kBilateral: return "bilateral";
    case Denoise::kNone: break;
  }
  return "none";
}

// Text as white on black, which is what the blob and profile measures need.
cv::Mat InkMask(const cv::Mat& gray) {
  cv::Mat ink;
  cv::threshold(gray, ink, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  return ink;
}

// Sharpness of the horizontal projection profile: level text lines give
// alternating full and empty rows, hence large row-to-row differences.
double ProfileScore(const cv::Mat& ink, double degrees) {
  cv::Mat rotated = RotateDegrees(ink, degrees);
  cv::Mat rows;
  cv::reduce(rotated, rows, 1, cv::REDUCE_SUM, CV_64F);
  double score = 0;
  for (int i = 1; i < rows.rows; ++i) {
    double d = rows.at<double>(i) - rows.at<double>(i - 1);
    score += d * d;
  }
  return score;
}

}  // namespace

std::string PreprocessOptions::ToSpec() const {
  std::ostringstream s;
  s << "height=" << target_text_height << ",denoise=" << DenoiseName(denoise)
    << ",binarize=" << BinarizeName(binarize) << ",deskew=" << (deskew ? 1 : 0)
    << ",rotate=" << (rotate ? 1 : 0);
  return s.str();
}

// Chosen by measurement on 50 of the dev receipts (every fifth), PSM 4,
// eng; "total"/"date" = share of receipts whose true value appears verbatim
// in the OCR text, company/address = share of their words found:
//
//   spec                         total  date  company address  ms/receipt*
//   height=0 (no scaling)        0.70   0.90  0.84    0.87     4100
//   height=18                    (not finished)
//   height=22                    0.82   0.94  0.86    0.89     6850
//   height=30                    0.68   0.90  0.88    0.89     8770
//   height=22,deskew=1           0.78   0.94  0.85    0.88     6350
//   height=22,binarize=otsu      0.74   0.90  0.82    0.84     6100
//   (* on a shared, loaded 2-core machine; relative values matter)
//
// Scans of thermal receipts are nearly level, so deskew only costs; global
// binarisation loses faint print that Tesseract's own thresholding keeps.
// Rotation is cheap (tried only on pages that read badly) and rescues
// photos taken sideways.
PreprocessOptions DefaultPreprocessOptions() {
  PreprocessOptions o;
  o.target_text_height = 22;
  o.denoise = Denoise::kNone;
  o.binarize = Binarize::kNone;
  o.deskew = false;
  o.rotate = true;
  return o;
}

Result<PreprocessOptions> ParsePreprocessSpec(const std::string& spec) {
  PreprocessOptions o = DefaultPreprocessOptions();
  std::stringstream in(spec);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos) return Status::Usage("preprocess spec: expected key=value, got '" + item + "'");
    std::string k = item.substr(0, eq), v = item.substr(eq + 1);
    auto flag = [&](bool& out) -> bool {
      if (v == "1" || v == "true" || v == "on") { out = true; return true; }
      if (v == "0" || v == "false" || v == "off") { out = false; return true; }
      return false;
    };
    bool ok = true;
    if (k == "height") {
      try { o.target_text_height = std::stod(v); } catch (...) { ok = false; }
    } else if (k == "denoise") {
      if (v == "none") o.denoise = Denoise::kNone;
      else if (v == "median") o.denoise = Denoise::kMedian;
      else if (v == "bilateral") o.denoise = Denoise::kBilateral;
      else ok = false;
    } else if (k == "binarize") {
      if (v == "none") o.binarize = Binarize::kNone;
      else if (v == "otsu") o.binarize = Binarize::kOtsu;
      else if (v == "adaptive") o.binarize = Binarize::kAdaptive;
      else ok = false;
    } else if (k == "deskew") {
      ok = flag(o.deskew);
    } else if (k == "rotate") {
      ok = flag(o.rotate);
    } else {
      return Status::Usage("preprocess spec: unknown key '" + k + "'");
    }
    if (!ok) return Status::Usage("preprocess spec: bad value for " + k + ": '" + v + "'");
  }
  return o;
}

cv::Mat ToGray(const cv::Mat& image) {
  cv::Mat g;
  if (image.channels() == 3) cv::cvtColor(image, g, cv::COLOR_BGR2GRAY);
  else if (image.channels() == 4) cv::cvtColor(image, g, cv::COLOR_BGRA2GRAY);
  else g = image.clone();
  return g;
}

std::vector<InkBlob> InkBlobs(const cv::Mat& mask) {
  CV_Assert(mask.type() == CV_8UC1);
  // One pass over the rows, in runs of set pixels. A run joins every run of
  // the row above that it touches (8-connected: overlapping or diagonal),
  // through union-find over component ids; each root keeps its component's
  // box and area. Only components are stored, never a label per pixel, so
  // a 35 MP page needs a few MB instead of OpenCV's 140 MB label image
  // (cv::connectedComponentsWithStats, which this replaces; the unit test
  // checks both give the same blobs), and it runs several times faster.
  struct Acc {
    int x0, y0, x1, y1;
    long long area;
  };
  struct Run {
    int xs, xe, id;
  };
  std::vector<int> parent;
  std::vector<Acc> acc;
  auto find = [&](int a) {
    while (parent[a] != a) {
      parent[a] = parent[parent[a]];
      a = parent[a];
    }
    return a;
  };
  auto unite = [&](int a, int b) {
    a = find(a);
    b = find(b);
    if (a == b) return a;
    if (b < a) std::swap(a, b);
    parent[b] = a;
    Acc& x = acc[a];
    const Acc& y = acc[b];
    x.x0 = std::min(x.x0, y.x0);
    x.y0 = std::min(x.y0, y.y0);
    x.x1 = std::max(x.x1, y.x1);
    x.y1 = std::max(x.y1, y.y1);
    x.area += y.area;
    return a;
  };
  std::vector<Run> prev, cur;
  const int w = mask.cols;
  for (int y = 0; y < mask.rows; ++y) {
    const uint8_t* row = mask.ptr<uint8_t>(y);
    cur.clear();
    size_t pi = 0;
    int x = 0;
    while (x < w) {
      // Skip background, eight bytes at a time where it is all zero.
      while (x + 8 <= w) {
        uint64_t word;
        std::memcpy(&word, row + x, 8);
        if (word != 0) break;
        x += 8;
      }
      while (x < w && row[x] == 0) ++x;
      if (x >= w) break;
      const int xs = x;
      while (x < w && row[x] != 0) ++x;
      const int xe = x - 1;
      while (pi < prev.size() && prev[pi].xe < xs - 1) ++pi;
      int id = -1;
      for (size_t k = pi; k < prev.size() && prev[k].xs <= xe + 1; ++k) {
        id = id < 0 ? find(prev[k].id) : unite(id, prev[k].id);
      }
      if (id < 0) {
        id = static_cast<int>(parent.size());
        parent.push_back(id);
        acc.push_back({xs, y, xe, y, 0});
      }
      Acc& a = acc[id];
      a.x0 = std::min(a.x0, xs);
      a.x1 = std::max(a.x1, xe);
      a.y1 = std::max(a.y1, y);
      a.area += xe - xs + 1;
      cur.push_back({xs, xe, id});
    }
    std::swap(prev, cur);
  }
  std::vector<InkBlob> out;
  for (size_t i = 0; i < parent.size(); ++i) {
    if (parent[i] != static_cast<int>(i)) continue;
    const Acc& a = acc[i];
    out.push_back({a.x0, a.y0, a.x1 - a.x0 + 1, a.y1 - a.y0 + 1, a.area});
  }
  return out;
}

// Measured on the full page, however large: on the 600 dpi A4 scans among
// the dev receipts (35 MP) a copy scaled down to 6 MP (or to half) gave a
// different median, a smaller scale, and 4 of 30 totals lost.
double EstimateTextHeight(const cv::Mat& gray) {
  if (gray.empty()) return 0;
  // The ink mask is kept per thread (each OCR worker is one thread) and
  // reused page after page: a fresh 35 MB image for every large page cost
  // more in page faults on this machine than thresholding it.
  thread_local std::vector<uint8_t> scratch;
  scratch.resize(gray.total());
  cv::Mat ink(gray.size(), CV_8U, scratch.data());  // OpenCV writes in place: same size and type
  cv::threshold(gray, ink, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  std::vector<int> heights;
  const int max_h = std::max(8, gray.rows / 8);
  for (const InkBlob& b : InkBlobs(ink)) {
    const int w = b.width, h = b.height;
    // Character-like: not specks, not rules or barcodes, reasonably filled.
    if (h < 5 || h > max_h || w < 2 || w > 3 * h || h > 6 * w) continue;
    if (b.area < 0.15 * w * h) continue;
    heights.push_back(h);
  }
  if (heights.size() < 10) return 0;
  std::nth_element(heights.begin(), heights.begin() + heights.size() / 2, heights.end());
  return heights[heights.size() / 2];
}

cv::Mat RotateDegrees(const cv::Mat& image, double degrees) {
  if (std::abs(degrees) < 1e-6) return image.clone();
  cv::Point2f c(image.cols / 2.0f, image.rows / 2.0f);
  cv::Mat m = cv::getRotationMatrix2D(c, degrees, 1.0);
  cv::Rect2f box = cv::RotatedRect(cv::Point2f(), image.size(), static_cast<float>(degrees)).boundingRect2f();
  m.at<double>(0, 2) += box.width / 2.0 - c.x;
  m.at<double>(1, 2) += box.height / 2.0 - c.y;
  cv::Mat out;
  // Ink masks are white-on-black; pages are black-on-white.
  bool is_mask = image.channels() == 1 && cv::mean(image)[0] < 128;
  cv::Scalar fill = is_mask ? cv::Scalar::all(0) : cv::Scalar::all(255);
  cv::warpAffine(image, out, m, cv::Size(static_cast<int>(std::lround(box.width)),
                                         static_cast<int>(std::lround(box.height))),
                 cv::INTER_LINEAR, cv::BORDER_CONSTANT, fill);
  return out;
}

cv::Mat RotateQuarterTurns(const cv::Mat& image, int quarter_turns) {
  int q = ((quarter_turns % 4) + 4) % 4;
  cv::Mat out;
  switch (q) {
    case 1: cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE); break;
    case 2: cv::rotate(image, out, cv::ROTATE_180); break;
    case 3: cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    default: out = image.clone();
  }
  return out;
}

double EstimateSkew(const cv::Mat& gray, double max_degrees) {
  if (gray.empty()) return 0;
  // Work on a small copy: the profile only needs the line structure.
  cv::Mat small = gray;
  double f = 1000.0 / std::max(gray.cols, gray.rows);
  if (f < 1.0) cv::resize(gray, small, cv::Size(), f, f, cv::INTER_AREA);
  cv::Mat ink = InkMask(small);
  double best = 0, best_score = ProfileScore(ink, 0);
  for (double a = -max_degrees; a <= max_degrees + 1e-9; a += 0.5) {
    double s = ProfileScore(ink, a);
    if (s > best_score) { best_score = s; best = a; }
  }
  double center = best;
  for (double a = center - 0.4; a <= center + 0.4 + 1e-9; a += 0.1) {
    double s = ProfileScore(ink, a);
    if (s > best_score) { best_score = s; best = a; }
  }
  return best;
}

double ChooseScale(double text_height, cv::Size size, const PreprocessOptions& o) {
  if (o.target_text_height <= 0) return 1.0;
  double scale = 1.0;
  if (text_height > 0) scale = std::clamp(o.target_text_height / text_height, o.min_scale, o.max_scale);
  const double pixels = static_cast<double>(size.width) * size.height;
  if (o.max_output_pixels > 0 && pixels * scale * scale > static_cast<double>(o.max_output_pixels)) {
    scale = std::sqrt(static_cast<double>(o.max_output_pixels) / pixels);
  }
  // Below a few percent the resampling costs more than it gains.
  return std::abs(scale - 1.0) > 0.05 ? scale : 1.0;
}

int ResizeInterpolation(double scale) { return scale > 1 ? cv::INTER_CUBIC : cv::INTER_AREA; }

void FinishPreprocess(cv::Mat& g, const PreprocessOptions& o, PreprocessResult& r) {
  switch (o.denoise) {
    case Denoise::kMedian: cv::medianBlur(g, g, 3); break;
    case Denoise::kBilateral: { cv::Mat t; cv::bilateralFilter(g, t, 5, 40, 40); g = t; break; }
    case Denoise::kNone: break;
  }
  if (o.deskew) {
    r.skew = EstimateSkew(g, o.max_skew);
    if (std::abs(r.skew) >= 0.2) g = RotateDegrees(g, r.skew);
    else r.skew = 0;
  }
  switch (o.binarize) {
    case Binarize::kOtsu:
      cv::threshold(g, g, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
      break;
    case Binarize::kAdaptive: {
      // Block of a few character heights evens out shadows across a photo.
      int block = std::max(15, static_cast<int>(o.target_text_height > 0 ? o.target_text_height * 2 : 31)) | 1;
      cv::adaptiveThreshold(g, g, 255, cv::ADAPTIVE_THRESH_GAUSSIAN_C, cv::THRESH_BINARY, block, 15);
      break;
    }
    case Binarize::kNone: break;
  }
}

PreprocessResult Preprocess(const cv::Mat& image, const PreprocessOptions& o) {
  if (o.use_gpu) {
    Result<PreprocessResult> on_gpu = PreprocessOnGpu(image, o);
    if (on_gpu.ok()) return std::move(on_gpu).value();
  }
  PreprocessResult r;
  // A gray page (what DocumentReader gives) is used as it is, not copied:
  // the steps below write new images, except the median filter and
  // binarisation, which work in place (copy made just before them).
  cv::Mat g = image.channels() == 1 && image.depth() == CV_8U ? image : ToGray(image);
  if (o.target_text_height > 0) {
    r.text_height = EstimateTextHeight(g);
    r.scale = ChooseScale(r.text_height, g.size(), o);
    if (r.scale != 1.0) cv::resize(g, g, cv::Size(), r.scale, r.scale, ResizeInterpolation(r.scale));
  }
  if (g.data == image.data && (o.denoise == Denoise::kMedian || o.binarize != Binarize::kNone)) g = g.clone();
  FinishPreprocess(g, o, r);
  r.image = g;
  return r;
}

}  // namespace ncbocr
