// Row-wise families: reductions over any set of axes (one work item per output element looping
// over the reduced elements), Softmax/LogSoftmax and LayerNormalization (one work item per row,
// passes over the row). Accumulation is f32; the FPGA profile unrolls the inner loops by 4.
#include <numeric>

#include "codegen/cpu/elementwise_groups.h"
#include "codegen/gpu/families.h"
#include "ir/error.h"

namespace kiln::gpu {
namespace {

constexpr int kInnerUnroll = 4;

}  // namespace

void emit_reduce(KernelWriter& k, const ReduceDesc& d) {
  KILN_CHECK(d.reduced.size() == d.in_dims.size(), "reduce: mask rank");
  const std::vector<int64_t> strides = cpu_codegen::contiguous_strides(d.in_dims);
  Dims kept, red;
  std::vector<int64_t> kept_s, red_s;
  for (size_t i = 0; i < d.in_dims.size(); ++i) {
    (d.reduced[i] ? red : kept).push_back(d.in_dims[i]);
    (d.reduced[i] ? red_s : kept_s).push_back(strides[i]);
  }
  const int64_t outputs = checked_numel(kept), count = checked_numel(red);
  KILN_CHECK(count > 0, "reduce: empty reduction");
  const std::string in = k.ptr(d.in), out = k.ptr(d.out);
  k.parallel("o", outputs);
  const auto kc = decompose(k, "o", kept);
  k.line(cat("const ", k.idx(), " base = ", offset_of(kc, kept_s), ";"));
  auto for_each = [&](const std::string& body_var, auto&& body) {
    k.loop("r", count, kInnerUnroll);
    const auto rc = decompose(k, "r", red);
    k.line(cat("const float ", body_var, " = ", in, "[base + ", offset_of(rc, red_s), "];"));
    body();
    k.close();
  };
  const bool is_max = d.kind == ReduceKind::Max || d.kind == ReduceKind::LogSumExp;
  if (is_max || d.kind == ReduceKind::Min) {
    k.line(cat("float m = ", is_max ? "-" + k.dialect().infinity : k.dialect().infinity, ";"));
    for_each("x", [&] {
      // NaN propagates: once m is NaN no comparison replaces it.
      k.line(cat("if (x != x || x ", is_max ? ">" : "<", " m) m = x;"));
    });
  }
  if (d.kind == ReduceKind::Max || d.kind == ReduceKind::Min) {
    k.line(cat(out, "[o] = m;"));
    k.close();
    return;
  }
  k.line(d.kind == ReduceKind::Prod ? "float acc = 1.0f;" : "float acc = 0.0f;");
  for_each("x", [&] {
    switch (d.kind) {
      case ReduceKind::Prod: k.line("acc *= x;"); break;
      case ReduceKind::L1: k.line(cat("acc += ", k.math("fabs", "x"), ";")); break;
      case ReduceKind::L2:
      case ReduceKind::SumSquare: k.line("acc += x * x;"); break;
      case ReduceKind::LogSumExp: k.line(cat("acc += ", k.math("exp", "x - m"), ";")); break;
      default: k.line("acc += x;"); break;
    }
  });
  std::string result = "acc";
  switch (d.kind) {
    case ReduceKind::Mean: result = cat("acc / ", k.f32(static_cast<float>(count))); break;
    case ReduceKind::L2: result = k.math("sqrt", "acc"); break;
    case ReduceKind::LogSum: result = k.math("log", "acc"); break;
    case ReduceKind::LogSumExp:  // an infinite max (all -inf, or +inf) is the answer itself
      result = cat("(m == ", k.dialect().infinity, " || m == -", k.dialect().infinity,
                   ") ? m : m + ", k.math("log", "acc"));
      break;
    default: break;
  }
  k.line(cat(out, "[o] = ", result, ";"));
  k.close();
}

void emit_softmax(KernelWriter& k, const SoftmaxDesc& d) {
  KILN_CHECK(d.n > 0, "softmax: empty axis");
  const std::string in = k.ptr(d.in), out = k.ptr(d.out);
  k.parallel("row", d.outer * d.inner);
  const std::string inner = KernelWriter::i64(d.inner);
  k.line(cat("const ", k.idx(), " base = (row / ", inner, ") * ", KernelWriter::i64(d.n * d.inner),
             " + row % ", inner, ";"));
  const std::string at = cat("[base + j * ", inner, "]");
  k.line(cat("float m = -", k.dialect().infinity, ";"));
  k.loop("j", d.n, kInnerUnroll);
  k.line(cat("m = ", k.math("fmax", "m", in + at), ";"));
  k.close();
  k.line("float sum = 0.0f;");
  k.loop("j", d.n, kInnerUnroll);
  k.line(cat("sum += ", k.math("exp", cat(in, at, " - m")), ";"));
  k.close();
  if (d.log) {
    k.line(cat("const float shift = m + ", k.math("log", "sum"), ";"));
    k.loop("j", d.n, kInnerUnroll);
    k.line(cat(out, at, " = ", in, at, " - shift;"));
  } else {
    k.line("const float inv = 1.0f / sum;");
    k.loop("j", d.n, kInnerUnroll);
    k.line(cat(out, at, " = ", k.math("exp", cat(in, at, " - m")), " * inv;"));
  }
  k.close();
  k.close();
}

void emit_layer_norm(KernelWriter& k, const LayerNormDesc& d) {
  KILN_CHECK(d.cols > 0, "layer norm: empty row");
  const std::string x = k.ptr(d.x);
  k.parallel("row", d.rows);
  k.line(cat("const ", k.idx(), " base = row * ", KernelWriter::i64(d.cols), ";"));
  k.line("float sum = 0.0f;");
  k.loop("j", d.cols, kInnerUnroll);
  k.line(cat("sum += ", x, "[base + j];"));
  k.close();
  k.line(cat("const float mean = sum / ", k.f32(static_cast<float>(d.cols)), ";"));
  k.line("float var = 0.0f;");
  k.loop("j", d.cols, kInnerUnroll);
  k.line(cat("const float t = ", x, "[base + j] - mean;"));
  k.line("var += t * t;");
  k.close();
  k.line(cat("const float inv = 1.0f / ",
             k.math("sqrt", cat("var / ", k.f32(static_cast<float>(d.cols)), " + ",
                                k.f32(d.epsilon))),
             ";"));
  if (d.y >= 0) {
    k.loop("j", d.cols, kInnerUnroll);
    std::string v = cat("(", x, "[base + j] - mean) * inv");
    if (d.scale >= 0)
      v = cat(v, " * ", k.ptr(d.scale), "[", d.scale_stride ? "j" : "0", "]");
    if (d.bias >= 0) v = cat(v, " + ", k.ptr(d.bias), "[", d.bias_stride ? "j" : "0", "]");
    k.line(cat(k.ptr(d.y), "[base + j] = ", v, ";"));
    k.close();
  }
  if (d.mean >= 0) k.line(cat(k.ptr(d.mean), "[row] = mean;"));
  if (d.inv_std >= 0) k.line(cat(k.ptr(d.inv_std), "[row] = inv;"));
  k.close();
}

}  // namespace kiln::gpu
