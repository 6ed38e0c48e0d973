// Public convolution entry points: shape validation, weight packing (one pre-packed SGEMM A
// operand per group, the direct path's 8-row panels, or the raw taps for depthwise), and the
// per-image / per-group dispatch.
#include "runtime/kernels/cpu/conv.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/conv_direct.h"
#include "runtime/kernels/cpu/conv_fewtaps.h"
#include "runtime/kernels/cpu/conv_im2col_source.h"
#include "runtime/kernels/cpu/conv_outvec.h"
#include "runtime/kernels/cpu/conv_pointwise.h"
#include "runtime/kernels/cpu/conv_winograd.h"
#include "runtime/kernels/cpu/depthwise_conv.h"
#include "runtime/kernels/cpu/half_convert.h"
#include "runtime/kernels/cpu/sgemm_pack.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::cpu {
namespace {

// Stored in packed headers (and so in .kiln files): never renumber.
enum class ConvPath : int32_t {
  Gemm = 1,
  Depthwise = 2,
  Direct = 3,
  OutVec = 4,
  FewTaps = 5,
  Winograd = 6
};

// Precedes the packed weights; 64 bytes keeps what follows 64-byte aligned.
struct alignas(64) ConvPackHeader {
  uint32_t magic;
  int32_t path;
  int32_t isa;
  int64_t C, M, KH, KW, group;
};
constexpr uint32_t kConvPackMagic = 0x4b43504bu;  // "KCPK"
// fp16 layout: the header, then per group its 64-byte SGEMM pack header and its floats as
// fp16 padded to 64 bytes (depthwise, direct: the floats as fp16). Winograd's transformed
// weights are not fp16-exact, so its "half" packing is the f32 one (magic included).
constexpr uint32_t kConvPackHalfMagic = 0x4843504bu;  // "KCPH"
thread_local ScratchBuffer t_widened;
thread_local ScratchBuffer t_residual_copy;
static_assert(sizeof(ConvPackHeader) == 64);

// Below this many multiply-adds per (image, group) GEMM, parallelize over images and groups.
constexpr int64_t kMinMacsPerGemmForInnerThreads = int64_t{1} << 21;

// Adds the residual to a finished block of Y, then the ReLU (as generated code does: v < 0 ? 0 :
// v), then calls the caller's `post`.
struct ResidualPost {
  const float* y;
  const float* residual;
  bool relu;
  void (*post)(void*, float*, int64_t, int64_t, int64_t);
  void* post_closure;

  static void apply(void* closure, float* c, int64_t ldc, int64_t rows, int64_t cols) {
    const auto& self = *static_cast<const ResidualPost*>(closure);
    const float* r = self.residual + (c - self.y);
    for (int64_t i = 0; i < rows; ++i) {
      float* ci = c + i * ldc;
      const float* ri = r + i * ldc;
      for (int64_t j = 0; j < cols; ++j) {
        const float v = ci[j] + ri[j];
        ci[j] = self.relu && v < 0.0f ? 0.0f : v;
      }
    }
    if (self.post) self.post(self.post_closure, c, ldc, rows, cols);
  }
};

[[noreturn]] void bad_shape(const std::string& what) {
  throw std::invalid_argument("kiln_conv2d: " + what);
}

int64_t output_extent(int64_t in, int64_t k, int64_t stride, int64_t pad0, int64_t pad1,
                      int64_t dilation) {
  return (in + pad0 + pad1 - dilation * (k - 1) - 1) / stride + 1;
}

void validate(const KilnConv2dShape& s) {
  if (s.N < 0 || s.C <= 0 || s.H <= 0 || s.W <= 0 || s.M <= 0 || s.KH <= 0 || s.KW <= 0) {
    bad_shape("dimensions must be positive (N may be 0)");
  }
  if (s.stride_h <= 0 || s.stride_w <= 0 || s.dilation_h <= 0 || s.dilation_w <= 0) {
    bad_shape("strides and dilations must be positive");
  }
  if (s.pad_top < 0 || s.pad_left < 0 || s.pad_bottom < 0 || s.pad_right < 0) {
    bad_shape("pads must be non-negative");
  }
  if (s.group <= 0 || s.C % s.group != 0 || s.M % s.group != 0) {
    bad_shape("group " + std::to_string(s.group) + " must divide C " + std::to_string(s.C) +
              " and M " + std::to_string(s.M));
  }
  if (output_extent(s.H, s.KH, s.stride_h, s.pad_top, s.pad_bottom, s.dilation_h) <= 0 ||
      output_extent(s.W, s.KW, s.stride_w, s.pad_left, s.pad_right, s.dilation_w) <= 0) {
    bad_shape("the dilated kernel is larger than the padded input");
  }
}

bool is_depthwise(const KilnConv2dShape& s) { return s.group > 1 && s.group == s.C && s.M == s.C; }

// The path packing picks for this shape on the active ISA.
ConvPath pick_path(const KilnConv2dShape& s) {
  if (is_depthwise(s)) return ConvPath::Depthwise;
  return static_cast<ConvPath>(pick_dense_conv_path(s, active_isa()));
}

// Floats after the header for the paths that store one flat array (all but Gemm), packed
// for `isa`.
size_t flat_payload_floats(const KilnConv2dShape& s, ConvPath path, Isa isa) {
  if (path == ConvPath::Depthwise) return static_cast<size_t>(s.M * s.KH * s.KW);
  if (path == ConvPath::OutVec) return outvec_packed_floats(s, isa);
  if (path == ConvPath::FewTaps) return fewtaps_packed_floats(s);
  if (path == ConvPath::Winograd) return winograd_packed_floats(s);
  return direct_packed_floats(s);
}

bool is_pointwise(const KilnConv2dShape& s) {
  return s.KH == 1 && s.KW == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 &&
         s.pad_left == 0 && s.pad_bottom == 0 && s.pad_right == 0;
}

// Whether the path these weights take may read the residual from Y itself (an in-place Add):
// true where the tiles add it while storing, reading each element's residual just before
// writing that element (AVX-512 outvec; pointwise rows over one K block). `post` on finished
// blocks and K blocks summed in Y would read values Y already overwrote.
bool residual_may_alias_y(const KilnConv2dShape& s, const ConvPackHeader& h, int64_t pixels) {
  if (h.path == static_cast<int32_t>(ConvPath::FewTaps) ||
      h.path == static_cast<int32_t>(ConvPath::Winograd)) {
    return true;  // their tiles read each residual element just before writing it
  }
  if (h.path == static_cast<int32_t>(ConvPath::OutVec)) {
    return h.isa == static_cast<int32_t>(Isa::Avx512);
  }
  if (h.path != static_cast<int32_t>(ConvPath::Gemm) || !is_pointwise(s)) return false;
  const int64_t kg = s.C / s.group;
  return pointwise_rows_preferred(sgemm_kernel(static_cast<Isa>(h.isa)), s.M / s.group, kg,
                                  pixels) &&
         pointwise_k_block(kg) == kg;
}

// Bytes of one group's packed A, rounded to keep every group 64-byte aligned.
size_t group_pack_bytes(const KilnConv2dShape& s) {
  const size_t b = kiln_sgemm_packed_a_size(s.M / s.group, (s.C / s.group) * s.KH * s.KW);
  return (b + 63) / 64 * 64;
}

// The fp16 layout's bytes per group: the 64-byte header, then half the float bytes.
size_t group_half_bytes(const KilnConv2dShape& s) {
  return 64 + ((group_pack_bytes(s) - 64) / 2 + 63) / 64 * 64;
}

const char* payload(const void* header) {
  return static_cast<const char*>(header) + sizeof(ConvPackHeader);
}

// Copied out: callers' buffers need not be 64-byte aligned (the header type is).
ConvPackHeader read_header(const KilnConv2dShape& s, const void* packed) {
  ConvPackHeader h;
  std::memcpy(&h, packed, sizeof h);
  if (h.magic != kConvPackMagic) bad_shape("weights were not packed by kiln_conv2d_pack_weights");
  if (h.path < static_cast<int32_t>(ConvPath::Gemm) ||
      h.path > static_cast<int32_t>(ConvPath::Winograd)) {
    bad_shape("packed weights name an unknown path " + std::to_string(h.path));
  }
  if (h.C != s.C || h.M != s.M || h.KH != s.KH || h.KW != s.KW || h.group != s.group) {
    bad_shape("packed weights were made for another shape");
  }
  return h;
}

}  // namespace
}  // namespace kiln::cpu

using namespace kiln::cpu;

extern "C" {

int64_t kiln_conv2d_output_height(const KilnConv2dShape* s) {
  validate(*s);
  return output_extent(s->H, s->KH, s->stride_h, s->pad_top, s->pad_bottom, s->dilation_h);
}

int64_t kiln_conv2d_output_width(const KilnConv2dShape* s) {
  validate(*s);
  return output_extent(s->W, s->KW, s->stride_w, s->pad_left, s->pad_right, s->dilation_w);
}

size_t kiln_conv2d_packed_weights_size(const KilnConv2dShape* s) {
  validate(*s);
  const ConvPath path = pick_path(*s);
  if (path != ConvPath::Gemm) {
    return sizeof(ConvPackHeader) + sizeof(float) * flat_payload_floats(*s, path, active_isa());
  }
  return sizeof(ConvPackHeader) + static_cast<size_t>(s->group) * group_pack_bytes(*s);
}

void kiln_conv2d_pack_weights(const KilnConv2dShape* s, const float* weights, void* packed) {
  validate(*s);
  const ConvPath path = pick_path(*s);
  ConvPackHeader h{kConvPackMagic,
                   static_cast<int32_t>(path),
                   static_cast<int32_t>(active_isa()),
                   s->C,
                   s->M,
                   s->KH,
                   s->KW,
                   s->group};
  std::memcpy(packed, &h, sizeof h);
  char* out = static_cast<char*>(packed) + sizeof h;
  if (path == ConvPath::Depthwise) {
    std::memcpy(out, weights, sizeof(float) * static_cast<size_t>(s->M * s->KH * s->KW));
    return;
  }
  if (path == ConvPath::Winograd) {
    return pack_winograd_weights(*s, weights, reinterpret_cast<float*>(out));
  }
  if (path == ConvPath::FewTaps) {  // the weights as they are
    std::memcpy(out, weights, sizeof(float) * fewtaps_packed_floats(*s));
    return;
  }
  if (path == ConvPath::Direct) {
    return pack_direct_weights(*s, weights, reinterpret_cast<float*>(out));
  }
  if (path == ConvPath::OutVec) {
    return pack_outvec_weights(*s, active_isa(), weights, reinterpret_cast<float*>(out));
  }
  const int64_t mg = s->M / s->group, kg = (s->C / s->group) * s->KH * s->KW;
  for (int64_t g = 0; g < s->group; ++g) {
    kiln_sgemm_pack_a(0, mg, kg, weights + g * mg * kg, kg,
                      out + static_cast<size_t>(g) * group_pack_bytes(*s));
  }
}

size_t kiln_conv2d_packed_weights_half_size(const KilnConv2dShape* s) {
  validate(*s);
  const ConvPath path = pick_path(*s);
  if (path == ConvPath::Winograd) return kiln_conv2d_packed_weights_size(s);
  if (path != ConvPath::Gemm) {
    return sizeof(ConvPackHeader) + sizeof(uint16_t) * flat_payload_floats(*s, path, active_isa());
  }
  return sizeof(ConvPackHeader) + static_cast<size_t>(s->group) * group_half_bytes(*s);
}

void kiln_conv2d_pack_weights_half(const KilnConv2dShape* s, const float* weights, void* packed) {
  if (pick_path(*s) == ConvPath::Winograd) return kiln_conv2d_pack_weights(s, weights, packed);
  std::vector<char> f32(kiln_conv2d_packed_weights_size(s));
  kiln_conv2d_pack_weights(s, weights, f32.data());
  ConvPackHeader h;
  std::memcpy(&h, f32.data(), sizeof h);
  h.magic = kConvPackHalfMagic;
  std::memcpy(packed, &h, sizeof h);
  char* out = static_cast<char*>(packed) + sizeof h;
  const char* in = f32.data() + sizeof h;
  if (h.path != static_cast<int32_t>(ConvPath::Gemm)) {
    narrow_to_half(reinterpret_cast<const float*>(in), reinterpret_cast<uint16_t*>(out),
                   static_cast<int64_t>(flat_payload_floats(*s, static_cast<ConvPath>(h.path),
                                                            static_cast<Isa>(h.isa))));
    return;
  }
  const size_t gf = group_pack_bytes(*s), gh = group_half_bytes(*s);
  for (int64_t g = 0; g < s->group; ++g) {
    const char* src = in + static_cast<size_t>(g) * gf;
    char* dst = out + static_cast<size_t>(g) * gh;
    std::memset(dst, 0, gh);
    std::memcpy(dst, src, 64);
    narrow_to_half(reinterpret_cast<const float*>(src + 64), reinterpret_cast<uint16_t*>(dst + 64),
                   static_cast<int64_t>((gf - 64) / sizeof(float)));
  }
}

void kiln_conv2d(const KilnConv2dShape* shape, const void* packed_weights, const float* X,
                 const float* bias, int relu, float* Y, kiln::ThreadPool* pool) {
  const KilnGemmEpilogue ep{bias, nullptr, relu, nullptr, nullptr};
  kiln_conv2d_ex(shape, packed_weights, X, &ep, Y, pool);
}

void kiln_conv2d_ex(const KilnConv2dShape* shape, const void* packed_weights, const float* X,
                    const KilnGemmEpilogue* epilogue, float* Y, kiln::ThreadPool* pool) {
  kiln_conv2d_residual(shape, packed_weights, X, epilogue, nullptr, Y, pool);
}

void kiln_conv2d_residual(const KilnConv2dShape* shape, const void* packed_weights,
                          const float* X, const KilnGemmEpilogue* epilogue, const float* residual,
                          float* Y, kiln::ThreadPool* pool) {
  const KilnConv2dShape& s = *shape;
  const KilnGemmEpilogue user_ep = epilogue ? *epilogue : KilnGemmEpilogue{};
  if (user_ep.column_bias) {
    throw std::invalid_argument("kiln_conv2d_ex: column_bias is not supported");
  }
  const float* bias = user_ep.row_bias;
  uint32_t magic;
  std::memcpy(&magic, packed_weights, sizeof magic);
  if (magic == kConvPackHalfMagic) {
    // Widen once into this thread's scratch (pool workers read it while this call waits).
    ConvPackHeader h;
    std::memcpy(&h, packed_weights, sizeof h);
    h.magic = kConvPackMagic;
    validate(s);
    read_header(s, &h);  // checks the shape and the path before sizing anything
    const bool flat = h.path != static_cast<int32_t>(ConvPath::Gemm);
    const size_t bytes =
        sizeof h + (flat ? sizeof(float) * flat_payload_floats(s, static_cast<ConvPath>(h.path),
                                                               static_cast<Isa>(h.isa))
                         : static_cast<size_t>(s.group) * group_pack_bytes(s));
    char* wide = reinterpret_cast<char*>(t_widened.floats(bytes / sizeof(float) + 1));
    std::memcpy(wide, &h, sizeof h);
    const char* in = static_cast<const char*>(packed_weights) + sizeof h;
    if (flat) {
      widen_half(reinterpret_cast<const uint16_t*>(in), reinterpret_cast<float*>(wide + sizeof h),
                 static_cast<int64_t>(flat_payload_floats(s, static_cast<ConvPath>(h.path),
                                                          static_cast<Isa>(h.isa))));
    } else {
      const size_t gf = group_pack_bytes(s), gh = group_half_bytes(s);
      for (int64_t g = 0; g < s.group; ++g) {
        char* dst = wide + sizeof h + static_cast<size_t>(g) * gf;
        const char* src = in + static_cast<size_t>(g) * gh;
        std::memcpy(dst, src, 64);
        widen_half(reinterpret_cast<const uint16_t*>(src + 64), reinterpret_cast<float*>(dst + 64),
                   static_cast<int64_t>((gf - 64) / sizeof(float)));
      }
    }
    return kiln_conv2d_residual(shape, wide, X, epilogue, residual, Y, pool);
  }
  const int64_t oh = kiln_conv2d_output_height(shape), ow = kiln_conv2d_output_width(shape);
  const ConvPackHeader h = read_header(s, packed_weights);
  if (s.N == 0) return;
  if (residual == Y && residual && !residual_may_alias_y(s, h, oh * ow)) {
    const size_t n = static_cast<size_t>(s.N * s.M * oh * ow);
    float* copy = t_residual_copy.floats(n);
    std::memcpy(copy, residual, n * sizeof(float));
    residual = copy;
  }
  // Paths without the residual in their tiles get it (and the ReLU after it) on finished
  // blocks, through a `post` that then calls the caller's.
  ResidualPost block_residual{Y, residual, user_ep.relu != 0, user_ep.post, user_ep.post_closure};
  KilnGemmEpilogue block_ep = user_ep;
  if (residual) {
    block_ep.relu = 0;
    block_ep.post = &ResidualPost::apply;
    block_ep.post_closure = &block_residual;
  }
  const KilnGemmEpilogue& ep = residual ? block_ep : user_ep;
  if (h.path == static_cast<int32_t>(ConvPath::Depthwise)) {
    depthwise_conv(s, oh, ow, static_cast<Isa>(h.isa),
                   reinterpret_cast<const float*>(payload(packed_weights)), X, ep, Y, pool);
    return;
  }
  if (h.path == static_cast<int32_t>(ConvPath::Direct)) {
    if (!isa_supported(Isa::Avx512)) {
      bad_shape("weights were packed for AVX-512, which this CPU lacks");
    }
    direct_conv(s, oh, ow, reinterpret_cast<const float*>(payload(packed_weights)), X, ep, Y, pool);
    return;
  }
  if (h.path == static_cast<int32_t>(ConvPath::Winograd)) {
    if (!isa_supported(Isa::Avx512)) {
      bad_shape("weights were packed for AVX-512, which this CPU lacks");
    }
    if (!winograd_conv_supported(s)) {
      bad_shape("packed weights name the Winograd path for this shape");
    }
    winograd_conv(s, oh, ow, reinterpret_cast<const float*>(payload(packed_weights)), X, user_ep,
                  residual, Y, pool);
    return;
  }
  if (h.path == static_cast<int32_t>(ConvPath::FewTaps)) {
    if (!isa_supported(Isa::Avx512)) {
      bad_shape("weights were packed for AVX-512, which this CPU lacks");
    }
    if (!fewtaps_conv_supported(s)) {
      bad_shape("packed weights name the few-taps path for this shape");
    }
    fewtaps_conv(s, oh, ow, reinterpret_cast<const float*>(payload(packed_weights)), X, user_ep,
                 residual, Y, pool);
    return;
  }
  if (h.path == static_cast<int32_t>(ConvPath::OutVec)) {
    const Isa isa = static_cast<Isa>(h.isa);
    if ((isa != Isa::Avx512 && isa != Isa::Avx2) || !outvec_conv_supported(s, isa)) {
      bad_shape("packed weights name an unknown ISA " + std::to_string(h.isa));
    }
    if (!isa_supported(isa)) {
      bad_shape(std::string("weights were packed for ") + isa_name(isa) + ", which this CPU lacks");
    }
    const bool in_tile = residual && isa == Isa::Avx512;
    outvec_conv(s, isa, oh, ow, reinterpret_cast<const float*>(payload(packed_weights)), X,
                in_tile ? user_ep : ep, in_tile ? residual : nullptr, Y, pool);
    return;
  }
  // The packed A buffers carry their own header; the SGEMM kernel is the one that packed them.
  const SgemmKernel& kern = sgemm_kernel(static_cast<Isa>(h.isa));
  const int64_t cg = s.C / s.group, mg = s.M / s.group, kg = cg * s.KH * s.KW, p = oh * ow;
  const bool pointwise = is_pointwise(s);
  const size_t group_bytes = group_pack_bytes(s);
  auto run_gemm = [&](int64_t n, int64_t g, kiln::ThreadPool* inner_pool) {
    const float* x = X + (n * s.C + g * cg) * s.H * s.W;
    Isa packed_isa = kern.isa;
    const float* a = packed_a_payload(
        payload(packed_weights) + static_cast<size_t>(g) * group_bytes, mg, kg, &packed_isa);
    const GemmOutput out{1.0f, 0.0f, Y + (n * s.M + g * mg) * p, p,
                         KilnGemmEpilogue{bias ? bias + g * mg : nullptr, nullptr, ep.relu, ep.post,
                                          ep.post_closure}};
    if (pointwise && pointwise_rows_preferred(kern, mg, kg, p)) {
      const KilnGemmEpilogue tile_ep{out.epilogue.row_bias, nullptr, user_ep.relu, user_ep.post,
                                     user_ep.post_closure};
      pointwise_rows_conv(mg, kg, p, a, x, residual ? tile_ep : out.epilogue,
                          residual ? residual + (n * s.M + g * mg) * p : nullptr, out.c,
                          inner_pool);
    } else if (pointwise) {
      run_packed_sgemm(kern, mg, p, kg, a, MatrixBSource(false, x, s.H * s.W), out, inner_pool);
    } else {
      run_packed_sgemm(kern, mg, p, kg, a, Im2colBSource(s, ow, x), out, inner_pool);
    }
  };
  const int64_t gemms = s.N * s.group;
  const bool outer_parallel = pool && gemms > 1 && mg * p * kg < kMinMacsPerGemmForInnerThreads;
  if (outer_parallel) {
    pool->parallel_for(gemms, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) run_gemm(i / s.group, i % s.group, nullptr);
    });
    return;
  }
  for (int64_t i = 0; i < gemms; ++i) run_gemm(i / s.group, i % s.group, pool);
}

}  // extern "C"
