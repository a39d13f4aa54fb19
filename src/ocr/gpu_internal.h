// Between gpu.cc (host logic, always built) and gpu_kernels.cu (the CUDA
// runtime and kernels, built only with NCBOCR_HAVE_CUDA). Plain C++ types
// only, so gpu.cc needs no CUDA headers and gpu_kernels.cu no OpenCV ones.
// The device functions return "" on success, else the CUDA error text.
#ifndef NCBOCR_SRC_GPU_INTERNAL_H_
#define NCBOCR_SRC_GPU_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ocr/gpu_pixel.h"

namespace ncbocr::gpu {

// Source taps of a bicubic resize, as OpenCV's resize computes them.
struct CubicTables {
  int sw = 0, sh = 0, dw = 0, dh = 0;
  std::vector<int> xofs, yofs;      // per destination column / row
  std::vector<short> alpha, beta;   // 4 per destination column / row
};

// Taps of an area resize (computeResizeAreaTab), grouped per destination.
struct AreaTables {
  int sw = 0, sh = 0, dw = 0, dh = 0;
  int fast_x = 0, fast_y = 0;       // whole-number factors: OpenCV's fast path
  std::vector<AreaTap> xtab, ytab;
  std::vector<int> xbegin, ybegin;  // dw+1 / dh+1 offsets into the tabs
};

CubicTables MakeCubicTables(int sw, int sh, double scale);
AreaTables MakeAreaTables(int sw, int sh, double scale);

// An 8-bit single-channel image in device memory, owned by whoever holds it
// until Free.
struct DeviceImage {
  void* ptr = nullptr;
  size_t pitch = 0;
  int w = 0, h = 0;
};

// Defined in gpu_kernels.cu; called only when gpu.cc is built with
// NCBOCR_HAVE_CUDA.
std::string QueryDevice(std::string* description);
// Uploads a 1/3/4-channel 8-bit image and converts it to gray on the device.
std::string UploadGray(const uint8_t* host, size_t step, int w, int h, int channels, DeviceImage* gray);
std::string Download(const DeviceImage& image, uint8_t* host, size_t step);
std::string ResizeCubic(const DeviceImage& src, const CubicTables& t, DeviceImage* dst);
std::string ResizeArea(const DeviceImage& src, const AreaTables& t, DeviceImage* dst);
std::string Histogram(const DeviceImage& image, uint32_t hist[256]);
std::string Threshold(const DeviceImage& image, int threshold);  // in place: > threshold -> 255, else 0
void Free(DeviceImage* image);

}  // namespace ncbocr::gpu

#endif  // NCBOCR_SRC_GPU_INTERNAL_H_
