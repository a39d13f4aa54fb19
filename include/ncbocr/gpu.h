// GPU preprocessing: the pixel steps of preprocess.h on an NVIDIA GPU.
//
// Debian's OpenCV has no CUDA modules, so the kernels are our own
// (src/gpu_kernels.cu), built only when CMake is configured with
// -DNCBOCR_CUDA=ON and finds nvcc; gpu.cc is then built with NCBOCR_HAVE_CUDA.
// Without it this unit is a stub that reports "no GPU", so a machine without
// the CUDA toolkit builds and tests everything else unchanged.
//
// On the GPU: grayscale, the resize to the chosen scale (the same
// interpolation as the CPU path: area averaging down, bicubic up) and Otsu
// binarisation. The text-height estimate that picks the scale runs on the
// CPU on the downloaded gray image, so both paths choose the same scale;
// denoise, deskew and adaptive binarisation have no kernels and run on the
// CPU after download. Results match the CPU path up to rounding (the
// parity test measures it after binarisation).
//
// ocr.use_gpu (env OCR_USE_GPU): "auto" uses a GPU when one is present and
// otherwise says once that it uses the CPU; "true" without a usable GPU is a
// configuration error (exit 78); "false" never touches the GPU.
#ifndef NCBOCR_GPU_H_
#define NCBOCR_GPU_H_

#include <array>
#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

#include "ncbocr/log.h"
#include "ncbocr/preprocess.h"
#include "ncbocr/status.h"

namespace ncbocr {

// True when this binary was built with the CUDA kernels.
bool BuiltWithCuda();

struct GpuProbe {
  bool available = false;
  std::string device;  // e.g. "NVIDIA H200 (sm_90, 139 GiB)"
  std::string reason;  // why not, when !available
};

// Asks the CUDA runtime for a device (cudaGetDeviceCount). Cheap after the
// first call; safe from several threads.
GpuProbe ProbeGpu();

// Resolves ocr.use_gpu to "use the GPU or not". kConfig for "true" without a
// usable GPU, or for a value other than auto/true/false. For "auto" without a
// GPU it logs one info line on log (may be null).
Result<bool> ResolveUseGpu(const std::string& setting, const Logger& log);

// Otsu's threshold for a 256-bin histogram, computed as OpenCV's
// THRESH_OTSU does, so GPU and CPU binarise at the same level.
int OtsuThreshold(const std::array<uint32_t, 256>& histogram);

// The preprocessing chain with the pixel steps on the GPU. kUnavailable when
// this build or machine has no GPU; kInternal on a CUDA error.
Result<PreprocessResult> PreprocessOnGpu(const cv::Mat& image, const PreprocessOptions& options);

// The kernels' per-pixel arithmetic run on the CPU (slow; for tests): what
// the GPU computes for the gray conversion and the resize, checked against
// OpenCV on machines without a GPU.
cv::Mat GrayLikeGpu(const cv::Mat& bgr);
cv::Mat ResizeLikeGpu(const cv::Mat& gray, double scale);

}  // namespace ncbocr

#endif  // NCBOCR_GPU_H_
