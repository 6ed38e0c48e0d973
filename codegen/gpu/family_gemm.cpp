// Tiled GEMM (batched, any strides, broadcast batch dims) and direct convolution, both with the
// fused epilogue (alpha, bias / C / residual adds, activation). GPU profile: GEMM work groups of
// kTile x kTile work items share A and B tiles in local memory. FPGA profile: one work item walks
// the tiles in compile-time loops, keeps A/B tiles (GEMM) or the output channel's filter (conv)
// in local memory, and unrolls the inner products.
#include "codegen/cpu/elementwise_groups.h"
#include "codegen/gpu/families.h"
#include "ir/error.h"

namespace kiln::gpu {
namespace {

constexpr int64_t kTile = 16;      // GPU GEMM tile (work group kTile x kTile)
constexpr int64_t kFpgaTile = 8;   // FPGA GEMM tile
constexpr int64_t kFpgaFilterFloats = 8192;  // conv filter cached in local memory up to this

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// v = activation(acc + sum beta_j * X_j[o]) for output element `o`; returns the variable.
std::string epilogue(KernelWriter& k, const std::string& acc, const std::string& o,
                     const std::vector<EpilogueInput>& adds, const Dims& out_dims,
                     const std::optional<EwStep>& act) {
  std::string v = acc;
  if (!adds.empty()) {
    const auto c = decompose(k, o, out_dims);
    for (const auto& a : adds) {
      const std::string term = cat(k.ptr(a.buffer), "[", offset_of(c, a.strides), "]");
      const std::string nv = k.fresh("e");
      k.line(cat("const float ", nv, " = ", v, " + ",
                 a.beta == 1.0f ? term : cat(k.f32(a.beta), " * ", term), ";"));
      v = nv;
    }
  }
  if (act) {
    const std::string nv = k.fresh("e");
    k.line(cat("const float ", nv, " = ", step_expr(k, *act, {v}), ";"));
    v = nv;
  }
  return v;
}

std::string alpha_times(const KernelWriter& k, float alpha, const std::string& acc) {
  return alpha == 1.0f ? acc : cat(k.f32(alpha), " * ", acc);
}

}  // namespace

void emit_gemm(KernelWriter& k, const GemmDesc& d) {
  const int64_t batch = checked_numel(d.batch);
  const std::string A = k.ptr(d.a), B = k.ptr(d.b), Y = k.ptr(d.y);
  const std::string M = KernelWriter::i64(d.M), N = KernelWriter::i64(d.N),
                    K = KernelWriter::i64(d.K);
  auto a_at = [&](const std::string& m, const std::string& kk) {
    return cat(A, "[abase + ", m, " * ", KernelWriter::i64(d.a_m), " + ", kk, " * ",
               KernelWriter::i64(d.a_k), "]");
  };
  auto b_at = [&](const std::string& kk, const std::string& n) {
    return cat(B, "[bbase + ", kk, " * ", KernelWriter::i64(d.b_k), " + ", n, " * ",
               KernelWriter::i64(d.b_n), "]");
  };
  auto batch_bases = [&](const std::string& bt) {
    const auto bc = decompose(k, bt, d.batch);
    k.line(cat("const ", k.idx(), " abase = ", offset_of(bc, d.a_batch), ";"));
    k.line(cat("const ", k.idx(), " bbase = ", offset_of(bc, d.b_batch), ";"));
  };
  auto store = [&](const std::string& bt, const std::string& m, const std::string& n,
                   const std::string& acc) {
    k.line(cat("const ", k.idx(), " o = (", bt, " * ", M, " + ", m, ") * ", N, " + ", n, ";"));
    k.line(cat("const float s = ", alpha_times(k, d.alpha, acc), ";"));
    k.line(cat(Y, "[o] = ", epilogue(k, "s", "o", d.adds, d.out_dims, d.activation), ";"));
  };
  if (!k.fpga()) {
    const int64_t T = kTile;
    const std::string Ts = KernelWriter::i64(T);
    k.set_geometry({ceil_div(d.N, T) * T, ceil_div(d.M, T) * T, batch, T, T, 1});
    k.local_array(Scalar::F32, "As", T * T);
    k.local_array(Scalar::F32, "Bs", T * T);
    k.line(cat("const ", k.idx(), " col = ", k.global_id(0), ", row = ", k.global_id(1),
               ", bt = ", k.global_id(2), ";"));
    k.line(cat("const ", k.idx(), " tx = ", k.local_id(0), ", ty = ", k.local_id(1), ";"));
    batch_bases("bt");
    k.line("float acc = 0.0f;");
    k.loop("t", ceil_div(d.K, T));
    k.line(cat("const ", k.idx(), " ka = t * ", Ts, " + tx, kb = t * ", Ts, " + ty;"));
    k.line(cat("As[ty * ", Ts, " + tx] = (row < ", M, " && ka < ", K, ") ? ", a_at("row", "ka"),
               " : 0.0f;"));
    k.line(cat("Bs[ty * ", Ts, " + tx] = (kb < ", K, " && col < ", N, ") ? ", b_at("kb", "col"),
               " : 0.0f;"));
    k.barrier();
    k.loop("kk", T);
    k.line(cat("acc += As[ty * ", Ts, " + kk] * Bs[kk * ", Ts, " + tx];"));
    k.close();
    k.barrier();
    k.close();
    k.open(cat("if (row < ", M, " && col < ", N, ")"));
    store("bt", "row", "col", "acc");
    k.close();
    return;
  }
  // FPGA: tiles walked by one work item; A/B tiles in local memory, accumulators in registers.
  const int64_t T = kFpgaTile;
  const std::string Ts = KernelWriter::i64(T);
  k.local_array(Scalar::F32, "As", T * T);
  k.local_array(Scalar::F32, "Bs", T * T);
  k.loop("bt", batch);
  batch_bases("bt");
  k.loop("mt", ceil_div(d.M, T));
  k.loop("nt", ceil_div(d.N, T));
  k.line(cat("float acc[", Ts, " * ", Ts, "];"));
  k.loop("z", T * T, -1);
  k.line("acc[z] = 0.0f;");
  k.close();
  k.loop("t", ceil_div(d.K, T));
  k.loop("ii", T, -1);
  k.loop("jj", T, -1);
  k.line(cat("const ", k.idx(), " m = mt * ", Ts, " + ii, n = nt * ", Ts, " + ii, ka = t * ", Ts,
             " + jj;"));
  k.line(cat("As[ii * ", Ts, " + jj] = (m < ", M, " && ka < ", K, ") ? ", a_at("m", "ka"),
             " : 0.0f;"));
  k.line(cat("Bs[jj * ", Ts, " + ii] = (ka < ", K, " && n < ", N, ") ? ", b_at("ka", "n"),
             " : 0.0f;"));
  k.close();
  k.close();
  k.loop("ii", T);
  k.loop("jj", T);
  k.line("float s = 0.0f;");
  k.loop("kk", T, -1);
  k.line(cat("s += As[ii * ", Ts, " + kk] * Bs[kk * ", Ts, " + jj];"));
  k.close();
  k.line(cat("acc[ii * ", Ts, " + jj] += s;"));
  k.close();
  k.close();
  k.close();  // t
  k.loop("ii", T);
  k.loop("jj", T);
  k.line(cat("const ", k.idx(), " m = mt * ", Ts, " + ii, n = nt * ", Ts, " + jj;"));
  k.open(cat("if (m < ", M, " && n < ", N, ")"));
  store("bt", "m", "n", cat("acc[ii * ", Ts, " + jj]"));
  k.close();
  k.close();
  k.close();
  k.close();  // nt
  k.close();  // mt
  k.close();  // bt
}

void emit_conv(KernelWriter& k, const ConvDesc& d) {
  const size_t r = d.kernel.size();
  KILN_CHECK(r >= 1 && d.in_spatial.size() == r && d.out_spatial.size() == r &&
                 d.C % d.group == 0 && d.M % d.group == 0,
             "conv: inconsistent geometry");
  const int64_t cpg = d.C / d.group, mpg = d.M / d.group;
  const int64_t in_plane = checked_numel(d.in_spatial), out_plane = checked_numel(d.out_spatial);
  const int64_t kplane = checked_numel(d.kernel), filter = cpg * kplane;
  const std::vector<int64_t> in_s = cpu_codegen::contiguous_strides(d.in_spatial);
  const std::vector<int64_t> k_s = cpu_codegen::contiguous_strides(d.kernel);
  const std::string X = k.ptr(d.x), W = k.ptr(d.w), Y = k.ptr(d.y);
  const bool cache_filter = k.fpga() && filter <= kFpgaFilterFloats;
  // Accumulates output (n, m, oc) into `acc`; `w_at(c, tap)` reads the filter.
  auto accumulate = [&](const std::vector<std::string>& oc, auto&& w_at) {
    k.line(cat("const ", k.idx(), " g = m / ", KernelWriter::i64(mpg), ";"));
    k.line(d.bias >= 0 ? cat("float acc = ", k.ptr(d.bias), "[m];") : "float acc = 0.0f;");
    k.loop("c", cpg);
    k.line(cat("const ", k.idx(), " xbase = (n * ", KernelWriter::i64(d.C), " + g * ",
               KernelWriter::i64(cpg), " + c) * ", KernelWriter::i64(in_plane), ";"));
    std::vector<std::string> pos(r), taps(r);
    for (size_t i = 0; i < r; ++i) {
      taps[i] = cat("t", i);
      k.loop(taps[i], d.kernel[i], -1);
      pos[i] = cat("q", i);
      k.line(cat("const ", k.idx(), " ", pos[i], " = ", oc[i], " * ",
                 KernelWriter::i64(d.strides[i]), " - ", KernelWriter::i64(d.pad_begin[i]), " + ",
                 taps[i], " * ", KernelWriter::i64(d.dilations[i]), ";"));
    }
    std::string inside;
    for (size_t i = 0; i < r; ++i)
      inside += cat(i ? " && " : "", pos[i], " >= 0 && ", pos[i], " < ",
                    KernelWriter::i64(d.in_spatial[i]));
    k.line(cat("if (", inside, ") acc += ", X, "[xbase + ", offset_of(pos, in_s), "] * ",
               w_at("c", offset_of(taps, k_s)), ";"));
    for (size_t i = 0; i < r; ++i) k.close();
    k.close();
  };
  auto finish_out = [&](const std::string& o) {
    k.line(cat(Y, "[", o, "] = ", epilogue(k, "acc", o, d.adds, d.out_dims, d.activation), ";"));
  };
  if (!cache_filter) {
    k.parallel("o", d.N * d.M * out_plane);
    k.line(cat("const ", k.idx(), " n = o / ", KernelWriter::i64(d.M * out_plane), ";"));
    k.line(cat("const ", k.idx(), " m = (o / ", KernelWriter::i64(out_plane), ") % ",
               KernelWriter::i64(d.M), ";"));
    const auto oc = decompose(k, cat("(o % ", KernelWriter::i64(out_plane), ")"), d.out_spatial);
    accumulate(oc, [&](const std::string& c, const std::string& tap) {
      return cat(W, "[(m * ", KernelWriter::i64(cpg), " + ", c, ") * ", KernelWriter::i64(kplane),
                 " + ", tap, "]");
    });
    finish_out("o");
    k.close();
    return;
  }
  // FPGA: the output channel's filter is loaded once into local memory, then reused for every
  // output position of every image.
  k.local_array(Scalar::F32, "wt", filter);
  k.loop("m", d.M);
  k.loop("z", filter, 8);
  k.line(cat("wt[z] = ", W, "[m * ", KernelWriter::i64(filter), " + z];"));
  k.close();
  k.loop("n", d.N);
  k.loop("p", out_plane);
  const auto oc = decompose(k, "p", d.out_spatial);
  accumulate(oc, [&](const std::string& c, const std::string& tap) {
    return cat("wt[", c, " * ", KernelWriter::i64(kplane), " + ", tap, "]");
  });
  k.line(cat("const ", k.idx(), " o = (n * ", KernelWriter::i64(d.M), " + m) * ",
             KernelWriter::i64(out_plane), " + p;"));
  finish_out("o");
  k.close();
  k.close();
  k.close();
}

}  // namespace kiln::gpu
