/* The one contract between code that Kiln's code generators emit and the Kiln runtime.
 *
 * A `.kiln` artifact's CPU code section is a shared object. The runtime loads it, checks that it
 * exports `kiln_kernel_abi_version` equal to KILN_KERNEL_ABI_VERSION, and resolves every kernel
 * symbol named in the artifact's launch list once, at load time. A run then calls the kernels in
 * launch-list order. Plain C so that any code generator (LLVM IR, C source, hand-written tests)
 * can implement it. Bump the version on any change to this file's types or their meaning.
 */
#ifndef KILN_KERNEL_ABI_H_
#define KILN_KERNEL_ABI_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_KERNEL_ABI_VERSION 4u

/* The symbol a code section must export: `const uint32_t kiln_kernel_abi_version = 1;`. */
#define KILN_KERNEL_ABI_VERSION_SYMBOL "kiln_kernel_abi_version"

typedef struct kiln_exec_ctx kiln_exec_ctx;

/* A body for parallel_for: processes indices [begin, end). `closure` is the kernel's own data. */
typedef void (*kiln_range_fn)(void* closure, int64_t begin, int64_t end);

/* What the runtime gives each kernel call. Valid only for the duration of that call. */
struct kiln_exec_ctx {
  uint32_t abi_version; /* KILN_KERNEL_ABI_VERSION */
  int32_t num_threads;  /* how many chunks parallel_for may split work into (>= 1) */
  /* Calls fn(closure, b, e) on disjoint contiguous chunks covering [0, n) and returns when all
   * are done; chunks may run on other threads. The partition depends only on (n, num_threads),
   * so a kernel whose per-index work is chunk-independent is deterministic. n <= 0 does nothing. */
  void (*parallel_for)(const kiln_exec_ctx* ctx, int64_t n, kiln_range_fn fn, void* closure);
  void* runtime; /* opaque to kernels */
  /* The runtime's kernel library (see kiln_builtin_id), so generated code calls it through this
   * table instead of resolving runtime symbols: the runtime may be linked with hidden symbols. */
  const struct kiln_builtin_table* builtins;
  /* Records why a kernel is about to fail (one line); the run reports it with the node name. */
  void (*report_error)(const kiln_exec_ctx* ctx, const char* message);
};

/* A kernel. `buffers[i]` is the address of the launch entry's i-th argument (arena, weights,
 * input or output region, already offset). Arena, weight and output regions are 64-byte
 * aligned; inputs are aligned to at least their element size. `params` are the launch entry's
 * constant int64 parameters (may be NULL when there are none). Returns 0 on success; any other
 * value aborts the run and is reported with the kernel's node name. */
typedef int32_t (*kiln_kernel_fn)(void* const* buffers, const int64_t* params,
                                  const kiln_exec_ctx* ctx);

/* Called by the GEMM and convolution builtins on each finished block of the output, while it is
 * still in cache: rows x cols floats at `c`, row stride `ldc` floats. `closure` is the caller's.
 * Generated code uses it to apply a fused epilogue (residual add, activation) in the kernel. */
typedef void (*kiln_epilogue_fn)(void* closure, float* c, int64_t ldc, int64_t rows,
                                 int64_t cols);

/* The runtime's kernel library. Every entry has the kernel signature; its buffer and parameter
 * layout is documented at the entry. Absent optional buffers are NULL. */
struct kiln_builtin_table {
  uint32_t count; /* number of entries below */
  /* Any op through the runtime's kernels (optimized where one exists, else reference).
   *   buffers: [op record (runtime/kernels/launch/op_record.h), present inputs..., outputs...]
   *   params: none. */
  kiln_kernel_fn op;
  /* 2-D f32 convolution, NCHW, weights packed at compile time (runtime/kernels/cpu/conv.h).
   *   buffers: [X, packed W, bias|NULL, Y, epilogue fn|NULL, epilogue closure]
   *   params: N C H W M KH KW stride_h stride_w pad_t pad_l pad_b pad_r dil_h dil_w group relu
   * (v4) With bit 1 of relu set, one more parameter follows: the index in the launch buffers
   * (the closure) of a residual of Y's shape, added after the bias and before the ReLU (bit 0,
   * as `v < 0 ? 0 : v`), which the kernels then apply while storing Y, before `post`. */
  kiln_kernel_fn conv2d;
  /* f32 Y[M,N] = alpha * A[M,K] * B + bias[N], B packed at compile time (kiln_sgemm_pack_b).
   *   buffers: [A, packed B, bias|NULL, Y, epilogue fn|NULL, epilogue closure]
   *   params: M N K trans_a relu alpha_bits (the f32 alpha's bit pattern) */
  kiln_kernel_fn sgemm_packed_b;
  /* f32 batched Y[b] = alpha * op(A[b]) * op(B[b]) with both operands in memory.
   *   buffers: [A, B, Y]   params: batch M N K trans_a trans_b a_batch_stride b_batch_stride
   *   alpha_bits (strides in elements; 0 broadcasts the operand over the batch) */
  kiln_kernel_fn sgemm_batched;
  /* (v3) int8 2-D convolution, f32 X quantized to u8 inside, s8 weights packed at compile time
   * with per-channel scales (runtime/kernels/cpu/qgemm.h); f32 Y.
   *   buffers: [X, packed W, bias|NULL, Y, epilogue fn|NULL, epilogue closure]
   *   params: conv2d's first 16, relu, x_scale_bits (f32 bit pattern), x_zero_point
   * With bit 1 of the relu parameter set (KilnQConv's u8 modes, kiln_qconv2d_io), X and Y may be
   * u8, a residual is read from the launch buffers and the activation is a clamp; relu's bit 0,
   * the epilogue fn and post are then unused, and eight parameters follow: flags (bit 0 X u8,
   * bit 1 Y u8, bit 2 residual u8), y_scale_bits, y_zero_point, the residual's index in the
   * launch buffers (the closure; -1: none), z_scale_bits, z_zero_point, clamp lo_bits, hi_bits.
   * Without that bit the 19 parameters above are all there is, so earlier artifacts still run. */
  kiln_kernel_fn qconv2d;
  /* (v3) int8 Y[M,N] = dq(q(A[M,K]) * B) + bias[N], s8 B packed at compile time (qgemm.h).
   *   buffers: [A, packed B, bias|NULL, Y, epilogue fn|NULL, epilogue closure]
   *   params: M N K relu x_scale_bits (0 = quantize A dynamically) x_zero_point */
  kiln_kernel_fn qgemm_packed_b;
};

#ifdef __cplusplus
}
#endif

#endif /* KILN_KERNEL_ABI_H_ */
