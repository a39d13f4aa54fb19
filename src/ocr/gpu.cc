// GPU preprocessing, host side: choosing the GPU, the resize tables, Otsu,
// and the chain that drives the kernels of gpu_kernels.cu. Without
// NCBOCR_HAVE_CUDA the device half is a stub that reports no GPU.
#include "ncbocr/gpu.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "ocr/gpu_internal.h"

namespace ncbocr {

namespace gpu {

namespace {

// OpenCV's bicubic kernel (a = -0.75) for a fractional offset x.
void CubicCoefficients(float x, float* c) {
  const float a = -0.75f;
  c[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
  c[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
  c[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = 1.f - c[0] - c[1] - c[2];
}

void CubicAxis(int dsize, double inv_scale, std::vector<int>& ofs, std::vector<short>& coef) {
  ofs.resize(dsize);
  coef.resize(static_cast<size_t>(dsize) * 4);
  for (int d = 0; d < dsize; ++d) {
    float f = static_cast<float>((d + 0.5) * inv_scale - 0.5);
    int s = cvFloor(f);
    f -= s;
    float c[4];
    CubicCoefficients(f, c);
    ofs[d] = s;
    for (int k = 0; k < 4; ++k) coef[d * 4 + k] = cv::saturate_cast<short>(c[k] * 2048);
  }
}

// computeResizeAreaTab, grouped by destination index.
void AreaAxis(int ssize, int dsize, double scale, std::vector<AreaTap>& tab, std::vector<int>& begin) {
  tab.clear();
  begin.assign(static_cast<size_t>(dsize) + 1, 0);
  for (int d = 0; d < dsize; ++d) {
    begin[d] = static_cast<int>(tab.size());
    double f1 = d * scale, f2 = f1 + scale;
    double cell = std::min(scale, ssize - f1);
    int s1 = cvCeil(f1), s2 = cvFloor(f2);
    s2 = std::min(s2, ssize - 1);
    s1 = std::min(s1, s2);
    if (s1 - f1 > 1e-3) tab.push_back({d, s1 - 1, static_cast<float>((s1 - f1) / cell)});
    for (int s = s1; s < s2; ++s) tab.push_back({d, s, static_cast<float>(1.0 / cell)});
    if (f2 - s2 > 1e-3) tab.push_back({d, s2, static_cast<float>(std::min(std::min(f2 - s2, 1.), cell) / cell)});
  }
  begin[dsize] = static_cast<int>(tab.size());
}

}  // namespace

CubicTables MakeCubicTables(int sw, int sh, double scale) {
  CubicTables t;
  t.sw = sw;
  t.sh = sh;
  t.dw = cv::saturate_cast<int>(sw * scale);
  t.dh = cv::saturate_cast<int>(sh * scale);
  CubicAxis(t.dw, 1.0 / scale, t.xofs, t.alpha);
  CubicAxis(t.dh, 1.0 / scale, t.yofs, t.beta);
  return t;
}

AreaTables MakeAreaTables(int sw, int sh, double scale) {
  AreaTables t;
  t.sw = sw;
  t.sh = sh;
  t.dw = cv::saturate_cast<int>(sw * scale);
  t.dh = cv::saturate_cast<int>(sh * scale);
  const double inv = 1.0 / scale;
  const int whole = cv::saturate_cast<int>(inv);
  if (std::abs(inv - whole) < DBL_EPSILON) {
    t.fast_x = t.fast_y = whole;
    return t;
  }
  AreaAxis(sw, t.dw, inv, t.xtab, t.xbegin);
  AreaAxis(sh, t.dh, inv, t.ytab, t.ybegin);
  return t;
}

}  // namespace gpu

// The kernels' arithmetic run on the host: what the GPU computes, checked
// against OpenCV by the unit tests on any machine.
cv::Mat GrayLikeGpu(const cv::Mat& bgr) {
  if (bgr.channels() == 1) return bgr.clone();
  cv::Mat g(bgr.size(), CV_8UC1);
  for (int y = 0; y < bgr.rows; ++y) {
    const uint8_t* s = bgr.ptr<uint8_t>(y);
    for (int x = 0; x < bgr.cols; ++x) g.at<uint8_t>(y, x) = gpu::GrayPixel(s + x * bgr.channels());
  }
  return g;
}

cv::Mat ResizeLikeGpu(const cv::Mat& gray, double scale) {
  if (scale > 1) {
    gpu::CubicTables t = gpu::MakeCubicTables(gray.cols, gray.rows, scale);
    cv::Mat out(t.dh, t.dw, CV_8UC1);
    for (int y = 0; y < t.dh; ++y) {
      for (int x = 0; x < t.dw; ++x) {
        out.at<uint8_t>(y, x) = gpu::CubicPixel(gray.data, gray.step, t.sw, t.sh, x, y, t.xofs.data(),
                                                t.alpha.data(), t.yofs.data(), t.beta.data());
      }
    }
    return out;
  }
  gpu::AreaTables t = gpu::MakeAreaTables(gray.cols, gray.rows, scale);
  cv::Mat out(t.dh, t.dw, CV_8UC1);
  for (int y = 0; y < t.dh; ++y) {
    for (int x = 0; x < t.dw; ++x) {
      out.at<uint8_t>(y, x) =
          t.fast_x ? gpu::AreaFastPixel(gray.data, gray.step, t.sw, t.sh, x, y, t.fast_x, t.fast_y)
                   : gpu::AreaPixel(gray.data, gray.step, x, y, t.xtab.data(), t.xbegin.data(), t.ytab.data(),
                                    t.ybegin.data());
    }
  }
  return out;
}

int OtsuThreshold(const std::array<uint32_t, 256>& h) {
  // The same sums in the same order as OpenCV's getThreshVal_Otsu_8u.
  double total = 0, mu = 0;
  for (int i = 0; i < 256; ++i) {
    total += h[i];
    mu += i * static_cast<double>(h[i]);
  }
  if (total == 0) return 0;
  const double scale = 1. / total;
  mu *= scale;
  double mu1 = 0, q1 = 0, max_sigma = 0;
  int best = 0;
  for (int i = 0; i < 256; ++i) {
    double p = h[i] * scale;
    mu1 *= q1;
    q1 += p;
    double q2 = 1. - q1;
    if (std::min(q1, q2) < FLT_EPSILON || std::max(q1, q2) > 1. - FLT_EPSILON) continue;
    mu1 = (mu1 + i * p) / q1;
    double mu2 = (mu - q1 * mu1) / q2;
    double sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
    if (sigma > max_sigma) {
      max_sigma = sigma;
      best = i;
    }
  }
  return best;
}

Result<bool> ResolveUseGpu(const std::string& setting, const Logger& log) {
  if (setting == "false") return false;
  if (setting != "auto" && setting != "true") {
    return Status::Config("ocr.use_gpu (OCR_USE_GPU) must be auto, true or false, not '" + setting + "'");
  }
  GpuProbe p = ProbeGpu();
  if (p.available) {
    if (log) log->info("preprocessing on the GPU: {}", p.device);
    return true;
  }
  if (setting == "true") {
    return Status::Config("ocr.use_gpu (OCR_USE_GPU) is true but no GPU can be used: " + p.reason +
                          "; set it to auto or false");
  }
  if (log) log->info("preprocessing on the CPU: no GPU: {}", p.reason);
  return false;
}

#if !defined(NCBOCR_HAVE_CUDA)

bool BuiltWithCuda() { return false; }

GpuProbe ProbeGpu() {
  GpuProbe p;
  p.reason = "this ncbocr was built without CUDA; build with cmake -DNCBOCR_CUDA=ON where nvcc is installed";
  return p;
}

Result<PreprocessResult> PreprocessOnGpu(const cv::Mat&, const PreprocessOptions&) {
  return Status::Unavailable(ProbeGpu().reason);
}

#else

bool BuiltWithCuda() { return true; }

GpuProbe ProbeGpu() {
  // The CUDA runtime initialises once per process; the answer cannot change.
  static const GpuProbe probe = [] {
    GpuProbe p;
    std::string error = gpu::QueryDevice(&p.device);
    p.available = error.empty();
    p.reason = error;
    return p;
  }();
  return probe;
}

namespace {

// Device images freed on every path out of PreprocessOnGpu.
struct DeviceImages {
  gpu::DeviceImage gray, scaled;
  ~DeviceImages() {
    gpu::Free(&gray);
    gpu::Free(&scaled);
  }
};

Status CudaError(const std::string& step, const std::string& error) {
  return Status::Internal("GPU preprocessing: " + step + ": " + error);
}

}  // namespace

Result<PreprocessResult> PreprocessOnGpu(const cv::Mat& image, const PreprocessOptions& o) {
  GpuProbe probe = ProbeGpu();
  if (!probe.available) return Status::Unavailable(probe.reason);
  if (image.empty() || image.depth() != CV_8U) return Status::Internal("GPU preprocessing needs an 8-bit image");
  cv::Mat src = image.isContinuous() ? image : image.clone();
  DeviceImages d;
  std::string e = gpu::UploadGray(src.data, src.step, src.cols, src.rows, src.channels(), &d.gray);
  if (!e.empty()) return CudaError("upload", e);
  PreprocessResult r;
  const gpu::DeviceImage* current = &d.gray;
  if (o.target_text_height > 0) {
    // The scale is chosen on the CPU from the same gray image, so both paths
    // pick the same one.
    cv::Mat g(src.rows, src.cols, CV_8UC1);
    e = gpu::Download(d.gray, g.data, g.step);
    if (!e.empty()) return CudaError("download", e);
    r.text_height = EstimateTextHeight(g);
    r.scale = ChooseScale(r.text_height, g.size(), o);
    if (r.scale > 1) e = gpu::ResizeCubic(d.gray, gpu::MakeCubicTables(src.cols, src.rows, r.scale), &d.scaled);
    else if (r.scale < 1) e = gpu::ResizeArea(d.gray, gpu::MakeAreaTables(src.cols, src.rows, r.scale), &d.scaled);
    if (!e.empty()) return CudaError("resize", e);
    if (r.scale != 1) current = &d.scaled;
  }
  // Otsu on the device only when nothing needs to run between scaling and
  // binarisation; otherwise the CPU finishes the chain.
  const bool otsu_here = o.binarize == Binarize::kOtsu && o.denoise == Denoise::kNone && !o.deskew;
  if (otsu_here) {
    uint32_t hist[256];
    e = gpu::Histogram(*current, hist);
    if (!e.empty()) return CudaError("histogram", e);
    std::array<uint32_t, 256> h;
    std::copy(hist, hist + 256, h.begin());
    e = gpu::Threshold(*current, OtsuThreshold(h));
    if (!e.empty()) return CudaError("threshold", e);
  }
  r.image.create(current->h, current->w, CV_8UC1);
  e = gpu::Download(*current, r.image.data, r.image.step);
  if (!e.empty()) return CudaError("download", e);
  if (!otsu_here) FinishPreprocess(r.image, o, r);
  return r;
}

#endif

}  // namespace ncbocr
