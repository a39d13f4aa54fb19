// GPU preprocessing. The kernels' arithmetic is checked against OpenCV on
// every machine (it is shared with a host re-run); the CPU-vs-GPU parity
// case needs a GPU, is marked skip, and is run with --no-skip by
// tests/cli/gpu_parity.sh only where a GPU answers (scripts/gpu-check.sh).
#include "ncbocr/gpu.h"

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

using namespace ncbocr;

namespace {

// A receipt-like page: text lines on a slightly uneven, noisy background.
cv::Mat NoisyPage(int rows, int cols, uint64_t seed) {
  cv::Mat m(rows, cols, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, cv::Scalar::all(180), cv::Scalar::all(256));
  for (int y = 30; y < rows - 10; y += 28) {
    cv::putText(m, "TOTAL RM 45.90 TARIKH 12/03/2019", cv::Point(8, y), cv::FONT_HERSHEY_SIMPLEX, 0.6,
                cv::Scalar(20, 30, 40), 1);
  }
  return m;
}

int Differing(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  return cv::countNonZero(d);
}

double MaxDiff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  double mx = 0;
  cv::minMaxLoc(d, nullptr, &mx);
  return mx;
}

}  // namespace

TEST_CASE("gpu: the kernels' gray conversion is OpenCV's") {
  for (int channels : {3, 4}) {
    cv::Mat img(97, 131, CV_8UC(channels));
    cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(256));
    cv::Mat want;
    cv::cvtColor(img, want, channels == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY);
    CHECK(Differing(GrayLikeGpu(img), want) == 0);
  }
}

TEST_CASE("gpu: the kernels' resize is OpenCV's at the scales preprocessing picks") {
  cv::Mat gray;
  cv::cvtColor(NoisyPage(301, 257, 7), gray, cv::COLOR_BGR2GRAY);
  // Scales seen on the dev receipts (0.564 .. 3.667), the clamp limits and
  // whole-number factors, which OpenCV resizes by another path.
  for (double scale : {0.5, 0.564, 0.733, 0.25, 1.1, 1.833, 2.0, 2.444, 3.143, 3.667, 4.0}) {
    CAPTURE(scale);
    cv::Mat want;
    cv::resize(gray, want, cv::Size(), scale, scale, ResizeInterpolation(scale));
    cv::Mat got = ResizeLikeGpu(gray, scale);
    REQUIRE(got.size() == want.size());
    // Same arithmetic: equal but for float rounding in rare pixels.
    CHECK(MaxDiff(got, want) <= 1);
    CHECK(Differing(got, want) <= static_cast<int>(want.total() / 10000));
  }
}

TEST_CASE("gpu: Otsu's threshold is OpenCV's") {
  cv::RNG rng(11);
  for (int i = 0; i < 6; ++i) {
    cv::Mat gray;
    cv::cvtColor(NoisyPage(120 + 40 * i, 200, rng.next()), gray, cv::COLOR_BGR2GRAY);
    if (i % 2) gray = gray / 2 + 40;  // a darker, lower-contrast page
    std::array<uint32_t, 256> hist{};
    for (auto it = gray.begin<uint8_t>(); it != gray.end<uint8_t>(); ++it) hist[*it]++;
    cv::Mat out;
    double want = cv::threshold(gray, out, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
    CHECK(OtsuThreshold(hist) == static_cast<int>(want));
  }
  CHECK(OtsuThreshold({}) == 0);
}

TEST_CASE("gpu: ocr.use_gpu: auto falls back, true without a GPU is a config error") {
  CHECK(ResolveUseGpu("false", NullLogger()).value() == false);
  Result<bool> bad = ResolveUseGpu("yes", NullLogger());
  REQUIRE(!bad.ok());
  CHECK(bad.status().exit_code() == 78);
  GpuProbe probe = ProbeGpu();
  if (!BuiltWithCuda()) CHECK(!probe.available);
  CHECK(ResolveUseGpu("auto", NullLogger()).value() == probe.available);
  Result<bool> forced = ResolveUseGpu("true", NullLogger());
  if (probe.available) {
    CHECK(forced.value() == true);
  } else {
    REQUIRE(!forced.ok());
    CHECK(forced.status().exit_code() == 78);
    CHECK(forced.status().message().find("no GPU") != std::string::npos);
    // Asked for the GPU where there is none, Preprocess still answers (CPU).
    PreprocessOptions o = DefaultPreprocessOptions();
    o.use_gpu = true;
    CHECK(!PreprocessOnGpu(NoisyPage(60, 80, 3), o).ok());
    CHECK(Preprocess(NoisyPage(60, 80, 3), o).image.type() == CV_8UC1);
  }
}

// Needs a GPU: run by tests/cli/gpu_parity.sh with --no-skip. Images: the
// test pages, synthetic pages, and every image in $NCBOCR_PARITY_IMAGES (the
// dev receipts, from scripts/gpu-check.sh). Prints the preprocessing time of
// both paths.
TEST_CASE("gpu parity: CPU and GPU preprocessing agree after binarisation" * doctest::skip(true)) {
  REQUIRE_MESSAGE(ProbeGpu().available, "no GPU: " << ProbeGpu().reason);
  std::vector<cv::Mat> pages;
  for (int i = 0; i < 4; ++i) pages.push_back(NoisyPage(400 + 150 * i, 300 + 60 * i, 100 + i));
  pages.push_back(cv::imread(NCBOCR_SOURCE_DIR "/tests/data/ocr/receipt.png"));
  if (const char* dir = std::getenv("NCBOCR_PARITY_IMAGES")) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      cv::Mat m = cv::imread(f.string());
      if (!m.empty()) pages.push_back(m);
    }
  }
  PreprocessOptions o = DefaultPreprocessOptions();
  o.binarize = Binarize::kOtsu;
  PreprocessOptions cpu = o;
  cpu.use_gpu = false;
  REQUIRE(PreprocessOnGpu(pages[0], o).ok());  // warm-up: CUDA context
  double cpu_ms = 0, gpu_ms = 0, worst = 0;
  for (size_t i = 0; i < pages.size(); ++i) {
    CAPTURE(i);
    auto t0 = std::chrono::steady_clock::now();
    PreprocessResult c = Preprocess(pages[i], cpu);
    auto t1 = std::chrono::steady_clock::now();
    Result<PreprocessResult> g = PreprocessOnGpu(pages[i], o);
    auto t2 = std::chrono::steady_clock::now();
    cpu_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
    gpu_ms += std::chrono::duration<double, std::milli>(t2 - t1).count();
    REQUIRE(g.ok());
    CHECK(g->scale == c.scale);
    REQUIRE(g->image.size() == c.image.size());
    double share = static_cast<double>(Differing(g->image, c.image)) / c.image.total();
    worst = std::max(worst, share);
    CHECK(share <= 0.005);
  }
  MESSAGE("parity: " << pages.size() << " pages, worst " << worst * 100 << "% of pixels differ after Otsu");
  MESSAGE("preprocessing: CPU " << cpu_ms << " ms, GPU " << gpu_ms << " ms (" << cpu_ms / std::max(gpu_ms, 1e-3)
                                << "x), " << pages.size() << " pages, device " << ProbeGpu().device);
}
