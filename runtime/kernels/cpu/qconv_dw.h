// int8 depthwise convolution (group == C == M, one input channel per group), the direct path of
// kiln_qconv2d / kiln_qconv2d_io (qgemm.h). Per channel plane: X (u8, already quantized) minus
// x_zero_point is laid out once as a zero-padded f32 plane split by column phase (so strided taps
// read contiguous runs), then every output row accumulates its KH x KW taps in registers, 16
// (AVX-512) or 8 (AVX2) pixels at a time. Exact: see qconv_dw_kernel.h.
#pragma once

#include <cstdint>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/qconv_dw_kernel.h"

namespace kiln {
class ThreadPool;
}

namespace kiln::cpu {

struct QEpilogue;
struct QFinish;

// Taps at most this many (exactness bound of qconv_dw_kernel.h).
constexpr int64_t kQDwMaxTaps = 512;

// True when `s` takes the depthwise path.
bool qconv_dw_applies(const KilnConv2dShape& s);

// The convolution of u8 X (N x C x H x W) with the packed rows of qconv.cpp (`rows`, K bytes per
// channel, tap t's weight at t * Cp): dequantized with e (w_scale, bias, relu) and stored as f32
// into Y (post applied per plane) or finished by e.fin.
void qconv_dw(const KilnConv2dShape& s, const uint8_t* x, int32_t x_zero_point,
              const int8_t* rows, int64_t K, int64_t Cp, const QEpilogue& e, float* Y,
              ThreadPool* pool);

// The 3x3 fast path (qconv_dw3_avx512vbmi2.cpp): kernel 3x3, stride 1 or 2 (both ways), padding
// 1 on every side, dilation 1, on a CPU with AVX-512 VNNI, VBMI and VBMI2 at the Avx512 level.
bool qconv_dw3_applies(const KilnConv2dShape& s);
// AVX-512 VBMI and VBMI2 (byte permutes and compress), with the OS's AVX-512 state.
bool cpu_has_avx512_vbmi2();

// The planes [t0, t1) (image * C + channel) of the 3x3 path: groups of up to 4 taps, each one
// vpdpbusd (see the kernel file). Results go to Y (f32, e.post applied per plane) or through e.fin.
struct Dw3Args {
  int64_t H, W, OH, OW, C, stride;
  int64_t wq, sub_bytes;  // sub-plane row pitch and size in bytes (with slack)
  uint8_t zero_point;
  int64_t off[6];          // byte offset of each group's first tap, from the sub-planes' start
  const int32_t* words;    // per channel: the groups' s8 weights as words (byte i: the tap i
                           // bytes on), then -zero_point * sum(w); kDw3Words per channel
  const uint64_t* valid;   // bit L: linear index L = oy * wq + ox is an output pixel
  const uint64_t* data;    // stride 1: bit i: sub-plane byte i is an image byte (not padding)
  int64_t data_words;      // stride 1: 64-byte chunks the fill writes
  const QEpilogue* e;
};
constexpr int64_t kDw3Words = 7;
void qdw3_planes_avx512vbmi2(const Dw3Args& a, const uint8_t* x, int64_t t0, int64_t t1,
                             float* Y);

// One plane: u8 x (H x W) to dequantized f32 out (OH x OW) using xp as the padded-plane scratch
// (Hp * sw * wq floats).
void qdw_plane_scalar(const qdw::Args& a, const uint8_t* x, float* xp, float* out);
void qdw_plane_avx2(const qdw::Args& a, const uint8_t* x, float* xp, float* out);
void qdw_plane_avx512(const qdw::Args& a, const uint8_t* x, float* xp, float* out);

// finish_rows (qgemm_util.h) 16 lanes at a time, bit-identical to the portable loop.
void finish_rows_avx512(const float* t, int64_t ldt, int64_t rows, int64_t cols,
                        const QFinish& f, int64_t off, int64_t ld);

}  // namespace kiln::cpu
