#include "ncbocr/preprocess.h"

#include <array>
#include <cmath>

#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

using namespace ncbocr;

namespace {

// A page of text lines drawn with OpenCV's font at a known size.
cv::Mat TextPage(double font_scale, int lines = 12) {
  cv::Mat m(60 + lines * static_cast<int>(40 * font_scale), static_cast<int>(700 * font_scale), CV_8UC1,
            cv::Scalar(255));
  for (int i = 0; i < lines; ++i) {
    cv::putText(m, "TOTAL RM 12.50 JALAN MAWAR 43000", cv::Point(20, static_cast<int>(40 + i * 40 * font_scale)),
                cv::FONT_HERSHEY_SIMPLEX, font_scale, cv::Scalar(0), std::max(1, static_cast<int>(font_scale * 2)));
  }
  return m;
}

}  // namespace

TEST_CASE("preprocess: text height is measured and scaled to the target") {
  cv::Mat small = TextPage(0.5);
  double h = EstimateTextHeight(small);
  CHECK(h > 5);
  CHECK(h < 20);
  double h2 = EstimateTextHeight(TextPage(1.0));
  CHECK(h2 == doctest::Approx(2 * h).epsilon(0.3));
  PreprocessOptions o;
  o.target_text_height = 30;
  PreprocessResult r = Preprocess(small, o);
  CHECK(r.scale > 1.5);
  CHECK(EstimateTextHeight(r.image) == doctest::Approx(30).epsilon(0.2));
  CHECK(r.image.type() == CV_8UC1);
}

TEST_CASE("preprocess: skew is found and removed") {
  cv::Mat page = TextPage(0.8, 15);
  cv::Mat tilted = RotateDegrees(page, 4.0);
  double skew = EstimateSkew(tilted, 8);
  CHECK(skew == doctest::Approx(-4.0).epsilon(0.15));
  CHECK(std::abs(EstimateSkew(page, 8)) < 0.3);
  PreprocessOptions o;
  o.deskew = true;
  PreprocessResult r = Preprocess(tilted, o);
  CHECK(r.skew == doctest::Approx(-4.0).epsilon(0.15));
}

TEST_CASE("preprocess: quarter turns and binarisation") {
  cv::Mat m(10, 20, CV_8UC1, cv::Scalar(255));
  CHECK(RotateQuarterTurns(m, 1).size() == cv::Size(10, 20));
  CHECK(RotateQuarterTurns(m, 2).size() == cv::Size(20, 10));
  CHECK(RotateQuarterTurns(m, -1).size() == cv::Size(10, 20));
  PreprocessOptions o;
  o.binarize = Binarize::kOtsu;
  cv::Mat page = TextPage(0.6);
  cv::Mat gray = page.clone();
  cv::GaussianBlur(gray, gray, cv::Size(3, 3), 0);
  PreprocessResult r = Preprocess(gray, o);
  std::vector<uchar> values(r.image.begin<uchar>(), r.image.end<uchar>());
  CHECK(std::all_of(values.begin(), values.end(), [](uchar v) { return v == 0 || v == 255; }));
}

TEST_CASE("preprocess: specs parse over the defaults and reject nonsense") {
  auto o = ParsePreprocessSpec("height=24,binarize=adaptive,deskew=0");
  REQUIRE(o.ok());
  CHECK(o->target_text_height == 24);
  CHECK(o->binarize == Binarize::kAdaptive);
  CHECK_FALSE(o->deskew);
  CHECK(ParsePreprocessSpec(o->ToSpec())->ToSpec() == o->ToSpec());
  CHECK(ParsePreprocessSpec("colour=1").status().kind() == ErrorKind::kUsage);
  CHECK(ParsePreprocessSpec("binarize=magic").status().kind() == ErrorKind::kUsage);
  CHECK(ParsePreprocessSpec("height").status().kind() == ErrorKind::kUsage);
  CHECK(ParsePreprocessSpec("").ok());
}

TEST_CASE("preprocess: a gray page is not changed by steps that work in place") {
  // Gray pages are used without a copy; binarising or a median filter at
  // scale 1 must still leave the caller's page as it was.
  cv::Mat page = TextPage(0.7);
  cv::Mat before = page.clone();
  PreprocessOptions o;
  o.target_text_height = 0;  // scale 1: the page itself reaches the in-place steps
  o.binarize = Binarize::kOtsu;
  o.denoise = Denoise::kMedian;
  PreprocessResult r = Preprocess(page, o);
  CHECK(cv::norm(page, before, cv::NORM_INF) == 0);
  CHECK(cv::norm(r.image, before, cv::NORM_INF) > 0);

  // Pages of different sizes one after another (scratch memory reused):
  // each measure is what a fresh page gives.
  const double big = EstimateTextHeight(TextPage(1.2, 20));
  const double small = EstimateTextHeight(TextPage(0.5));
  CHECK(EstimateTextHeight(TextPage(1.2, 20)) == big);
  CHECK(EstimateTextHeight(TextPage(0.5)) == small);
  CHECK(big > small);
}

namespace {

std::vector<std::array<long long, 5>> Sorted(const std::vector<InkBlob>& blobs) {
  std::vector<std::array<long long, 5>> v;
  for (const auto& b : blobs) v.push_back({b.x, b.y, b.width, b.height, b.area});
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::array<long long, 5>> OpenCvBlobs(const cv::Mat& mask) {
  cv::Mat labels, stats, centroids;
  int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  std::vector<InkBlob> blobs;
  for (int i = 1; i < n; ++i) {
    blobs.push_back({stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                     stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT),
                     stats.at<int>(i, cv::CC_STAT_AREA)});
  }
  return Sorted(blobs);
}

}  // namespace

TEST_CASE("preprocess: ink blobs are OpenCV's 8-connected components, box and area") {
  // Shapes that need a merge: a U (two arms joined below), a diagonal chain,
  // a W, runs touching only at a corner, and marks at the image edges.
  cv::Mat m(40, 50, CV_8UC1, cv::Scalar(0));
  m(cv::Rect(2, 2, 2, 10)).setTo(255);
  m(cv::Rect(8, 2, 2, 10)).setTo(255);
  m(cv::Rect(2, 11, 8, 2)).setTo(255);  // the U
  for (int i = 0; i < 10; ++i) m.at<uint8_t>(20 + i, 20 + i) = 255;  // diagonal
  for (int i = 0; i < 12; ++i) m.at<uint8_t>(30 + (i % 2 ? 0 : 3), 30 + i) = 255;  // broken zigzag
  m.at<uint8_t>(0, 49) = 255;
  m.at<uint8_t>(39, 0) = 255;
  m(cv::Rect(40, 5, 10, 1)).setTo(255);
  m(cv::Rect(40, 6, 1, 5)).setTo(255);
  CHECK(Sorted(InkBlobs(m)) == OpenCvBlobs(m));
  CHECK(InkBlobs(cv::Mat(7, 9, CV_8UC1, cv::Scalar(0))).empty());
  auto full = InkBlobs(cv::Mat(7, 9, CV_8UC1, cv::Scalar(1)));
  REQUIRE(full.size() == 1);
  CHECK(full[0].area == 63);

  // Random masks from sparse to dense, odd widths (the eight-byte skip).
  cv::RNG rng(20261129);
  for (int round = 0; round < 40; ++round) {
    const int rows = 1 + rng.uniform(0, 120), cols = 1 + rng.uniform(0, 130);
    const double density = rng.uniform(0.01, 0.7);
    cv::Mat r(rows, cols, CV_8UC1);
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < cols; ++x) r.at<uint8_t>(y, x) = rng.uniform(0.0, 1.0) < density ? 255 : 0;
    INFO("round " << round << " " << rows << "x" << cols << " density " << density);
    CHECK(Sorted(InkBlobs(r)) == OpenCvBlobs(r));
  }
  // A view into a larger image (rows not contiguous).
  cv::Mat page = TextPage(0.8);
  cv::Mat ink;
  cv::threshold(page, ink, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  cv::Mat view = ink(cv::Rect(7, 5, ink.cols - 20, ink.rows - 9));
  CHECK(Sorted(InkBlobs(view)) == OpenCvBlobs(view));
}
