// Per-pixel arithmetic of the GPU preprocessing kernels, shared by the CUDA
// kernels (gpu_kernels.cu) and a host re-run of the same code (gpu.cc,
// ResizeLikeGpu), so that a machine without a GPU still tests that the
// kernels compute what OpenCV computes.
//
// The formulas follow OpenCV's 8-bit paths so the two agree to the bit where
// possible: cvtColor's fixed-point BGR->gray (15-bit coefficients), resize's
// INTER_CUBIC (11-bit fixed-point coefficients, edge pixels replicated) and
// INTER_AREA (float weights from the same table as computeResizeAreaTab,
// summed in the same order, rounded half to even). Float products and sums
// go through helpers that forbid fused multiply-add on the device, because
// the CPU path does not fuse them either.
#ifndef NCBOCR_SRC_GPU_PIXEL_H_
#define NCBOCR_SRC_GPU_PIXEL_H_

#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define NCBOCR_HD __host__ __device__
#else
#define NCBOCR_HD
#include <cmath>
#endif

namespace ncbocr::gpu {

// One weight of an area-resize table: destination index di takes alpha of
// source index si (rows or columns).
struct AreaTap {
  int di = 0, si = 0;
  float alpha = 0;
};

NCBOCR_HD inline float MulRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

NCBOCR_HD inline float AddRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

// Rounds half to even, like cvRound, and saturates to 0..255.
NCBOCR_HD inline uint8_t SaturateRound(float v) {
#if defined(__CUDA_ARCH__)
  int i = __float2int_rn(v);
#else
  int i = static_cast<int>(std::nearbyint(v));
#endif
  return static_cast<uint8_t>(i < 0 ? 0 : (i > 255 ? 255 : i));
}

NCBOCR_HD inline int Clamp(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// OpenCV's BGR->gray for 8 bits: 0.114 B + 0.587 G + 0.299 R in 15-bit
// fixed point, rounded.
NCBOCR_HD inline uint8_t GrayPixel(const uint8_t* px) {
  constexpr int kB = 3735, kG = 19235, kR = 9798, kShift = 15;
  return static_cast<uint8_t>((px[0] * kB + px[1] * kG + px[2] * kR + (1 << (kShift - 1))) >> kShift);
}

// Bicubic sample at destination (dx, dy): xofs/yofs hold the source index of
// the second of the four taps, alpha/beta four 11-bit coefficients each.
NCBOCR_HD inline uint8_t CubicPixel(const uint8_t* src, size_t step, int sw, int sh, int dx, int dy,
                                    const int* xofs, const short* alpha, const int* yofs, const short* beta) {
  long long v = 0;
  const int sx = xofs[dx], sy = yofs[dy];
  for (int j = 0; j < 4; ++j) {
    const uint8_t* row = src + static_cast<size_t>(Clamp(sy + j - 1, 0, sh - 1)) * step;
    int h = 0;
    for (int k = 0; k < 4; ++k) h += row[Clamp(sx + k - 1, 0, sw - 1)] * alpha[dx * 4 + k];
    v += static_cast<long long>(h) * beta[dy * 4 + j];
  }
  // Both passes carry 11 fractional bits: round away 22.
  long long r = (v + (1LL << 21)) >> 22;
  return static_cast<uint8_t>(r < 0 ? 0 : (r > 255 ? 255 : r));
}

// Area average at destination (dx, dy). xtab[xbegin[dx]..xbegin[dx+1]) are
// the column taps of dx, likewise ytab/ybegin for rows.
NCBOCR_HD inline uint8_t AreaPixel(const uint8_t* src, size_t step, int dx, int dy, const AreaTap* xtab,
                                   const int* xbegin, const AreaTap* ytab, const int* ybegin) {
  float sum = 0;
  for (int j = ybegin[dy]; j < ybegin[dy + 1]; ++j) {
    const uint8_t* row = src + static_cast<size_t>(ytab[j].si) * step;
    float buf = 0;
    for (int k = xbegin[dx]; k < xbegin[dx + 1]; ++k) buf = AddRn(buf, MulRn(static_cast<float>(row[xtab[k].si]), xtab[k].alpha));
    sum = j == ybegin[dy] ? MulRn(ytab[j].alpha, buf) : AddRn(sum, MulRn(ytab[j].alpha, buf));
  }
  return SaturateRound(sum);
}

// Area average for a whole-number factor (OpenCV's fast path): the mean of a
// factor x factor block, fewer pixels at the right and bottom edges.
NCBOCR_HD inline uint8_t AreaFastPixel(const uint8_t* src, size_t step, int sw, int sh, int dx, int dy, int fx,
                                       int fy) {
  const int x0 = dx * fx, y0 = dy * fy;
  int sum = 0, count = 0;
  for (int y = y0; y < y0 + fy && y < sh; ++y) {
    for (int x = x0; x < x0 + fx && x < sw; ++x) {
      sum += src[static_cast<size_t>(y) * step + x];
      ++count;
    }
  }
  if (count == 4 && fx == 2 && fy == 2) return static_cast<uint8_t>((sum + 2) >> 2);
  if (count == fx * fy) return SaturateRound(MulRn(static_cast<float>(sum), 1.f / static_cast<float>(fx * fy)));
  return SaturateRound(static_cast<float>(sum) / static_cast<float>(count));
}

}  // namespace ncbocr::gpu

#endif  // NCBOCR_SRC_GPU_PIXEL_H_
