// CUDA kernels and device memory for GPU preprocessing (see gpu.h). Built
// only when CMake is configured with -DNCBOCR_CUDA=ON and finds nvcc. The
// per-pixel arithmetic is in gpu_pixel.h, shared with the host re-run that
// the unit tests compare with OpenCV.
//
// Every call runs on the calling thread's default stream (the build uses
// --default-stream per-thread), so OCR workers preprocess concurrently.
#include <cuda_runtime.h>

#include <cstdio>

#include "ocr/gpu_internal.h"

namespace ncbocr::gpu {

namespace {

constexpr int kBlock = 16;

std::string Err(cudaError_t e) { return e == cudaSuccess ? std::string() : std::string(cudaGetErrorString(e)); }

dim3 GridFor(int w, int h) { return dim3((w + kBlock - 1) / kBlock, (h + kBlock - 1) / kBlock); }

__global__ void GrayKernel(const uint8_t* src, size_t sstep, int channels, uint8_t* dst, size_t dstep, int w,
                           int h) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  const uint8_t* px = src + y * sstep + static_cast<size_t>(x) * channels;
  dst[y * dstep + x] = channels == 1 ? px[0] : GrayPixel(px);
}

__global__ void CubicKernel(const uint8_t* src, size_t sstep, int sw, int sh, uint8_t* dst, size_t dstep, int dw,
                            int dh, const int* xofs, const short* alpha, const int* yofs, const short* beta) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dw || y >= dh) return;
  dst[y * dstep + x] = CubicPixel(src, sstep, sw, sh, x, y, xofs, alpha, yofs, beta);
}

__global__ void AreaKernel(const uint8_t* src, size_t sstep, uint8_t* dst, size_t dstep, int dw, int dh,
                           const AreaTap* xtab, const int* xbegin, const AreaTap* ytab, const int* ybegin) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dw || y >= dh) return;
  dst[y * dstep + x] = AreaPixel(src, sstep, x, y, xtab, xbegin, ytab, ybegin);
}

__global__ void AreaFastKernel(const uint8_t* src, size_t sstep, int sw, int sh, uint8_t* dst, size_t dstep,
                               int dw, int dh, int fx, int fy) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dw || y >= dh) return;
  dst[y * dstep + x] = AreaFastPixel(src, sstep, sw, sh, x, y, fx, fy);
}

// One histogram per block in shared memory, then added to the global one.
__global__ void HistogramKernel(const uint8_t* img, size_t step, int w, int h, unsigned int* hist) {
  __shared__ unsigned int local[256];
  int t = threadIdx.y * blockDim.x + threadIdx.x;
  for (int i = t; i < 256; i += blockDim.x * blockDim.y) local[i] = 0;
  __syncthreads();
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x < w && y < h) atomicAdd(&local[img[y * step + x]], 1u);
  __syncthreads();
  for (int i = t; i < 256; i += blockDim.x * blockDim.y) {
    if (local[i]) atomicAdd(&hist[i], local[i]);
  }
}

__global__ void ThresholdKernel(uint8_t* img, size_t step, int w, int h, int threshold) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  uint8_t& p = img[y * step + x];
  p = p > threshold ? 255 : 0;
}

std::string Alloc(int w, int h, DeviceImage* out) {
  Free(out);
  out->w = w;
  out->h = h;
  return Err(cudaMallocPitch(&out->ptr, &out->pitch, static_cast<size_t>(w), static_cast<size_t>(h)));
}

// A vector copied to the device, freed when this goes out of scope.
template <typename T>
struct DeviceVector {
  T* ptr = nullptr;
  std::string error;
  explicit DeviceVector(const std::vector<T>& v) {
    if (v.empty()) return;
    error = Err(cudaMalloc(&ptr, v.size() * sizeof(T)));
    if (error.empty()) error = Err(cudaMemcpy(ptr, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~DeviceVector() { if (ptr) cudaFree(ptr); }
};

std::string Finish() {
  std::string e = Err(cudaGetLastError());
  if (e.empty()) e = Err(cudaStreamSynchronize(cudaStreamPerThread));
  return e;
}

}  // namespace

std::string QueryDevice(std::string* description) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) return std::string("no CUDA device: ") + cudaGetErrorString(e);
  if (n <= 0) return "no CUDA device";
  cudaDeviceProp prop{};
  if ((e = cudaGetDeviceProperties(&prop, 0)) != cudaSuccess) return Err(e);
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.0f GiB)", prop.name, prop.major, prop.minor,
                prop.totalGlobalMem / 1073741824.0);
  *description = buf;
  return "";
}

void Free(DeviceImage* image) {
  if (image->ptr) cudaFree(image->ptr);
  *image = DeviceImage{};
}

std::string UploadGray(const uint8_t* host, size_t step, int w, int h, int channels, DeviceImage* gray) {
  std::string e = Alloc(w, h, gray);
  if (!e.empty()) return e;
  if (channels == 1) {
    return Err(cudaMemcpy2D(gray->ptr, gray->pitch, host, step, w, h, cudaMemcpyHostToDevice));
  }
  DeviceImage color;
  color.w = w * channels;
  color.h = h;
  e = Err(cudaMallocPitch(&color.ptr, &color.pitch, static_cast<size_t>(w) * channels, h));
  if (e.empty()) {
    e = Err(cudaMemcpy2D(color.ptr, color.pitch, host, step, static_cast<size_t>(w) * channels, h,
                         cudaMemcpyHostToDevice));
  }
  if (e.empty()) {
    GrayKernel<<<GridFor(w, h), dim3(kBlock, kBlock)>>>(static_cast<const uint8_t*>(color.ptr), color.pitch,
                                                         channels, static_cast<uint8_t*>(gray->ptr), gray->pitch,
                                                         w, h);
    e = Finish();
  }
  Free(&color);
  return e;
}

std::string Download(const DeviceImage& image, uint8_t* host, size_t step) {
  return Err(cudaMemcpy2D(host, step, image.ptr, image.pitch, image.w, image.h, cudaMemcpyDeviceToHost));
}

std::string ResizeCubic(const DeviceImage& src, const CubicTables& t, DeviceImage* dst) {
  std::string e = Alloc(t.dw, t.dh, dst);
  if (!e.empty()) return e;
  DeviceVector<int> xofs(t.xofs), yofs(t.yofs);
  DeviceVector<short> alpha(t.alpha), beta(t.beta);
  for (const std::string* err : {&xofs.error, &yofs.error, &alpha.error, &beta.error}) {
    if (!err->empty()) return *err;
  }
  CubicKernel<<<GridFor(t.dw, t.dh), dim3(kBlock, kBlock)>>>(
      static_cast<const uint8_t*>(src.ptr), src.pitch, t.sw, t.sh, static_cast<uint8_t*>(dst->ptr), dst->pitch,
      t.dw, t.dh, xofs.ptr, alpha.ptr, yofs.ptr, beta.ptr);
  return Finish();
}

std::string ResizeArea(const DeviceImage& src, const AreaTables& t, DeviceImage* dst) {
  std::string e = Alloc(t.dw, t.dh, dst);
  if (!e.empty()) return e;
  if (t.fast_x) {
    AreaFastKernel<<<GridFor(t.dw, t.dh), dim3(kBlock, kBlock)>>>(static_cast<const uint8_t*>(src.ptr), src.pitch,
                                                                  t.sw, t.sh, static_cast<uint8_t*>(dst->ptr),
                                                                  dst->pitch, t.dw, t.dh, t.fast_x, t.fast_y);
    return Finish();
  }
  DeviceVector<AreaTap> xtab(t.xtab), ytab(t.ytab);
  DeviceVector<int> xbegin(t.xbegin), ybegin(t.ybegin);
  for (const std::string* err : {&xtab.error, &ytab.error, &xbegin.error, &ybegin.error}) {
    if (!err->empty()) return *err;
  }
  AreaKernel<<<GridFor(t.dw, t.dh), dim3(kBlock, kBlock)>>>(static_cast<const uint8_t*>(src.ptr), src.pitch,
                                                            static_cast<uint8_t*>(dst->ptr), dst->pitch, t.dw, t.dh,
                                                            xtab.ptr, xbegin.ptr, ytab.ptr, ybegin.ptr);
  return Finish();
}

std::string Histogram(const DeviceImage& image, uint32_t hist[256]) {
  unsigned int* d = nullptr;
  std::string e = Err(cudaMalloc(&d, 256 * sizeof(unsigned int)));
  if (!e.empty()) return e;
  e = Err(cudaMemset(d, 0, 256 * sizeof(unsigned int)));
  if (e.empty()) {
    HistogramKernel<<<GridFor(image.w, image.h), dim3(kBlock, kBlock)>>>(static_cast<const uint8_t*>(image.ptr),
                                                                          image.pitch, image.w, image.h, d);
    e = Finish();
  }
  if (e.empty()) e = Err(cudaMemcpy(hist, d, 256 * sizeof(unsigned int), cudaMemcpyDeviceToHost));
  cudaFree(d);
  return e;
}

std::string Threshold(const DeviceImage& image, int threshold) {
  ThresholdKernel<<<GridFor(image.w, image.h), dim3(kBlock, kBlock)>>>(static_cast<uint8_t*>(image.ptr),
                                                                        image.pitch, image.w, image.h, threshold);
  return Finish();
}

}  // namespace ncbocr::gpu
