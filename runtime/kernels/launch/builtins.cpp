#include "runtime/kernels/launch/builtins.h"

#include <bit>
#include <cstring>
#include <exception>

#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/kernel_table.h"
#include "runtime/kernels/cpu/qgemm.h"
#include "runtime/kernels/cpu/sgemm.h"
#include "runtime/kernels/launch/op_record.h"
#include "runtime/kernels/ref/evaluate.h"
#include "runtime/threadpool/thread_pool.h"

namespace kiln::launch {
namespace {

RunState& state_of(const kiln_exec_ctx* ctx) { return *static_cast<RunState*>(ctx->runtime); }

void report_error(const kiln_exec_ctx* ctx, const char* message) {
  state_of(ctx).error = message ? message : "unknown error";
}

// Runs `body`, turning an exception into a reported error and a non-zero return.
template <typename Body>
int32_t guarded(const kiln_exec_ctx* ctx, Body&& body) noexcept {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    report_error(ctx, e.what());
  } catch (...) {
    report_error(ctx, "unknown exception");
  }
  return 1;
}

int32_t builtin_op(void* const* buffers, const int64_t*, const kiln_exec_ctx* ctx) {
  return guarded(ctx, [&] {
    const auto* blob = static_cast<const uint8_t*>(buffers[0]);
    uint64_t size = 0;
    std::memcpy(&size, blob, sizeof size);
    const OpRecord rec = decode_op_record(blob + kOpRecordPrefixBytes, size, "op record");
    std::vector<Tensor> inputs;
    inputs.reserve(rec.inputs.size());
    OpCall call;
    call.op = rec.op;
    call.opset = rec.opset;
    call.attrs = &rec.attrs;
    call.node_name = rec.node_name;
    call.num_outputs = rec.outputs.size();
    call.kernel = cpu_kernel(rec.op);  // optimized where one exists, else the reference kernel
    call.pool = state_of(ctx).pool;
    // Buffers hold the present inputs in order; absent optional inputs stay null in the call.
    size_t b = 1;
    for (const auto& in : rec.inputs) {
      if (in.present) inputs.push_back(Tensor::borrow(in.dtype, in.dims, buffers[b++], nullptr));
    }
    size_t k = 0;
    for (const auto& in : rec.inputs) call.inputs.push_back(in.present ? &inputs[k++] : nullptr);
    const std::vector<Tensor> outs = evaluate_op(call);
    for (size_t i = 0; i < rec.outputs.size(); ++i) {
      const auto& want = rec.outputs[i];
      if (!want.present) continue;
      void* dst = buffers[b++];
      if (i >= outs.size() || !outs[i].defined())
        fail(rec.node_name, ": output ", i, " was not produced");
      if (outs[i].dtype() != want.dtype || outs[i].dims() != want.dims) {
        fail(rec.node_name, ": output ", i, " is ", dtype_name(outs[i].dtype()), "[",
             dims_to_string(outs[i].dims()), "] but the compiled plan has ", dtype_name(want.dtype),
             "[", dims_to_string(want.dims), "]");
      }
      if (outs[i].nbytes()) std::memcpy(dst, outs[i].raw(), outs[i].nbytes());
    }
  });
}

// params[0..15] of the conv builtins: N C H W M KH KW strides pads dilations group.
KilnConv2dShape conv2d_shape_param(const int64_t* p) {
  return {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7],
          p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]};
}

// The conv/GEMM builtins' shared buffers: [2] bias (per output row for conv, per column for GEMM),
// [4] generated epilogue callback, [5] its closure.
KilnGemmEpilogue epilogue_arg(void* const* buffers, int64_t relu, bool bias_per_row) {
  KilnGemmEpilogue ep{};
  (bias_per_row ? ep.row_bias : ep.column_bias) = static_cast<const float*>(buffers[2]);
  ep.relu = static_cast<int>(relu);
  ep.post = reinterpret_cast<kiln_epilogue_fn>(buffers[4]);
  ep.post_closure = buffers[5];
  return ep;
}

int32_t builtin_conv2d(void* const* buffers, const int64_t* p, const kiln_exec_ctx* ctx) {
  return guarded(ctx, [&] {
    const KilnConv2dShape s = conv2d_shape_param(p);
    const KilnGemmEpilogue ep = epilogue_arg(buffers, p[16], /*bias_per_row=*/true);
    kiln_conv2d_ex(&s, buffers[1], static_cast<const float*>(buffers[0]), &ep,
                   static_cast<float*>(buffers[3]), state_of(ctx).pool);
  });
}

int32_t builtin_sgemm_packed_b(void* const* buffers, const int64_t* p, const kiln_exec_ctx* ctx) {
  return guarded(ctx, [&] {
    const int64_t M = p[0], N = p[1], K = p[2], trans_a = p[3];
    const KilnGemmEpilogue ep = epilogue_arg(buffers, p[4], /*bias_per_row=*/false);
    const float alpha = std::bit_cast<float>(static_cast<uint32_t>(p[5]));
    kiln_sgemm_packed_b(static_cast<int>(trans_a), M, N, K, alpha,
                        static_cast<const float*>(buffers[0]), trans_a ? M : K, buffers[1], 0.0f,
                        static_cast<float*>(buffers[3]), N, &ep, state_of(ctx).pool);
  });
}

int32_t builtin_sgemm_batched(void* const* buffers, const int64_t* p, const kiln_exec_ctx* ctx) {
  return guarded(ctx, [&] {
    const int64_t batch = p[0], M = p[1], N = p[2], K = p[3], ta = p[4], tb = p[5];
    const int64_t a_stride = p[6], b_stride = p[7];
    const float alpha = std::bit_cast<float>(static_cast<uint32_t>(p[8]));
    const auto* A = static_cast<const float*>(buffers[0]);
    const auto* B = static_cast<const float*>(buffers[1]);
    auto* Y = static_cast<float*>(buffers[2]);
    ThreadPool* pool = state_of(ctx).pool;
    auto one = [&](int64_t b, ThreadPool* inner) {
      kiln_sgemm(static_cast<int>(ta), static_cast<int>(tb), M, N, K, alpha, A + b * a_stride,
                 ta ? M : K, B + b * b_stride, tb ? K : N, 0.0f, Y + b * M * N, N, nullptr, inner);
    };
    // Many small products (attention heads) split over the batch; big ones inside the GEMM.
    if (batch > 1 && M * N * K < (int64_t{1} << 21)) {
      pool->parallel_for(batch, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) one(b, nullptr);
      });
    } else {
      for (int64_t b = 0; b < batch; ++b) one(b, pool);
    }
  });
}

int32_t builtin_qconv2d(void* const* buffers, const int64_t* p, const kiln_exec_ctx* ctx) {
  return guarded(ctx, [&] {
    const KilnConv2dShape s = conv2d_shape_param(p);
    const KilnGemmEpilogue ep = epilogue_arg(buffers, p[16], /*bias_per_row=*/true);
    const float x_scale = std::bit_cast<float>(static_cast<uint32_t>(p[17]));
    kiln_qconv2d(&s, buffers[1], static_cast<const float*>(buffers[0]), x_scale,
                 static_cast<int32_t>(p[18]), &ep, static_cast<float*>(buffers[3]),
                 state_of(ctx).pool);
  });
}

int32_t builtin_qgemm_packed_b(void* const* buffers, const int64_t* p, const kiln_exec_ctx* ctx) {
  return guarded(ctx, [&] {
    const int64_t M = p[0], N = p[1], K = p[2];
    const KilnGemmEpilogue ep = epilogue_arg(buffers, p[3], /*bias_per_row=*/false);
    const float x_scale = std::bit_cast<float>(static_cast<uint32_t>(p[4]));
    kiln_qgemm_packed_b(M, N, K, static_cast<const float*>(buffers[0]), K, x_scale,
                        static_cast<int32_t>(p[5]), buffers[1], static_cast<float*>(buffers[3]), N,
                        &ep, state_of(ctx).pool);
  });
}

const kiln_builtin_table kTable{6,
                                &builtin_op,
                                &builtin_conv2d,
                                &builtin_sgemm_packed_b,
                                &builtin_sgemm_batched,
                                &builtin_qconv2d,
                                &builtin_qgemm_packed_b};

}  // namespace

const kiln_builtin_table* builtin_table() { return &kTable; }

kiln_exec_ctx make_exec_ctx(RunState* state) {
  kiln_exec_ctx ctx{};
  ctx.abi_version = KILN_KERNEL_ABI_VERSION;
  ctx.num_threads = state->pool->num_threads();
  ctx.parallel_for = [](const kiln_exec_ctx* c, int64_t n, kiln_range_fn fn, void* closure) {
    if (n <= 0) return;
    ThreadPool* pool = state_of(c).pool;
    if (n == 1 || pool->num_threads() == 1) {
      fn(closure, 0, n);
      return;
    }
    pool->parallel_for(n, [&](int64_t begin, int64_t end) { fn(closure, begin, end); });
  };
  ctx.runtime = state;
  ctx.builtins = &kTable;
  ctx.report_error = &report_error;
  return ctx;
}

}  // namespace kiln::launch
