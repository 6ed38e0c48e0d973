#include "runtime/kernels/launch/builtins.h"

#include <bit>
#include <cstring>
#include <exception>
#include <memory>
#include <unordered_map>

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

// A launch's op record as decoded, with the plan's output types when they cannot differ from
// what inference would say at run time: every output present and every input floating-point
// (no integer input whose values could decide a shape).
struct DecodedRecord {
  std::vector<uint8_t> bytes;
  OpRecord rec;
  std::vector<ValueType> output_types;  // empty: evaluate_op infers them
};

// Decoding a record (attribute maps, strings) and inferring its output types cost several
// microseconds a launch, as much as a small pool's kernel, so each thread keeps what it decoded.
// Keyed by the record's address and checked byte for byte: a model loaded where another one was
// gets its own records.
std::shared_ptr<const DecodedRecord> decoded_record(const uint8_t* blob) {
  thread_local std::unordered_map<const uint8_t*, std::shared_ptr<const DecodedRecord>> cache;
  uint64_t size = 0;
  std::memcpy(&size, blob, sizeof size);
  const uint8_t* data = blob + kOpRecordPrefixBytes;
  const auto it = cache.find(blob);
  if (it != cache.end() && it->second->bytes.size() == size &&
      std::memcmp(it->second->bytes.data(), data, size) == 0) {
    return it->second;
  }
  auto d = std::make_shared<DecodedRecord>();
  d->rec = decode_op_record(data, size, "op record");
  d->bytes.assign(data, data + size);
  bool plan_types = true;
  for (const auto& out : d->rec.outputs) plan_types = plan_types && out.present;
  for (const auto& in : d->rec.inputs) {
    plan_types = plan_types && (!in.present || is_float(in.dtype));
  }
  for (const auto& out : d->rec.outputs) {
    if (plan_types) d->output_types.push_back(ValueType::of(out.dtype, out.dims));
  }
  if (cache.size() >= 4096) cache.clear();  // bounded when many models come and go
  cache[blob] = d;
  return d;
}

int32_t builtin_op(void* const* buffers, const int64_t*, const kiln_exec_ctx* ctx) {
  return guarded(ctx, [&] {
    const std::shared_ptr<const DecodedRecord> decoded =
        decoded_record(static_cast<const uint8_t*>(buffers[0]));
    const OpRecord& rec = decoded->rec;
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
    if (!decoded->output_types.empty()) call.output_types = &decoded->output_types;
    // Buffers hold the present inputs in order; absent optional inputs stay null in the call.
    size_t b = 1;
    for (const auto& in : rec.inputs) {
      if (in.present) inputs.push_back(Tensor::borrow(in.dtype, in.dims, buffers[b++], nullptr));
    }
    size_t k = 0;
    for (const auto& in : rec.inputs) call.inputs.push_back(in.present ? &inputs[k++] : nullptr);
    // Kernels write straight into the arena slots of outputs that overlap no input (a slot the
    // planner reuses in place must not be written while the inputs are still being read); the
    // others are copied there after the kernel, from memory it allocated.
    call.output_storage.assign(rec.outputs.size(), nullptr);
    for (size_t i = 0, ob = b; i < rec.outputs.size(); ++i) {
      if (!rec.outputs[i].present) continue;
      auto* dst = static_cast<uint8_t*>(buffers[ob++]);
      const size_t bytes = dtype_size(rec.outputs[i].dtype) *
                           static_cast<size_t>(checked_numel(rec.outputs[i].dims));
      bool overlaps = false;
      for (const Tensor& t : inputs) {
        const auto* p = static_cast<const uint8_t*>(t.raw());
        overlaps = overlaps || (p < dst + bytes && dst < p + t.nbytes());
      }
      if (bytes && !overlaps) call.output_storage[i] = dst;
    }
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
      if (outs[i].nbytes() && outs[i].raw() != dst) {
        std::memcpy(dst, outs[i].raw(), outs[i].nbytes());
      }
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
    const KilnGemmEpilogue ep = epilogue_arg(buffers, p[16] & 1, /*bias_per_row=*/true);
    const float* residual = nullptr;
    if (p[16] & 2) {  // (v4) a residual: the launch buffer (the closure) at index p[17]
      residual = static_cast<const float*>(static_cast<void* const*>(buffers[5])[p[17]]);
    }
    kiln_conv2d_residual(&s, buffers[1], static_cast<const float*>(buffers[0]), &ep, residual,
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
    const auto f32 = [](int64_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits)); };
    const float x_scale = f32(p[17]);
    if (p[16] & 2) {  // u8 modes (kernel_abi.h): the extended parameters follow
      KilnGemmEpilogue ep{};
      ep.row_bias = static_cast<const float*>(buffers[2]);
      const int64_t flags = p[19];
      const auto* launch = static_cast<void* const*>(buffers[5]);  // the closure: launch buffers
      const KilnQConvIO io{buffers[0],   static_cast<int32_t>(flags & 1),
                           x_scale,      static_cast<int32_t>(p[18]),
                           buffers[3],   static_cast<int32_t>((flags >> 1) & 1),
                           f32(p[20]),   static_cast<int32_t>(p[21]),
                           p[22] >= 0 ? launch[p[22]] : nullptr,
                           static_cast<int32_t>((flags >> 2) & 1),
                           f32(p[23]),   static_cast<int32_t>(p[24]),
                           f32(p[25]),   f32(p[26])};
      kiln_qconv2d_io(&s, buffers[1], &io, &ep, state_of(ctx).pool);
      return;
    }
    const KilnGemmEpilogue ep = epilogue_arg(buffers, p[16], /*bias_per_row=*/true);
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
