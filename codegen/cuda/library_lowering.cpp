#include "codegen/cuda/library_lowering.h"

#include <bit>

#include "ir/infer/conv_shape.h"
#include "runtime/devices/cuda/library_launch.h"

namespace kiln::cuda_codegen {
namespace {

namespace G = cuda_launch::gemm;
namespace C = cuda_launch::conv;
using artifact::LaunchArg;

Dims dims_of(const Value* v) { return v->type.shape.static_dims(); }

int64_t numel(const Dims& d) {
  int64_t n = 1;
  for (int64_t x : d) n *= x;
  return n;
}

// The ONNX dtype code every value of the node shares (f32 or f16), or nullopt.
std::optional<int64_t> common_dtype(const Node& n) {
  std::optional<DType> t;
  auto same = [&](const Value* v) {
    if (!v) return true;
    if (!t) t = v->type.dtype;
    return v->type.dtype == *t;
  };
  for (const Value* v : n.inputs())
    if (!same(v)) return std::nullopt;
  for (const Value* v : n.outputs())
    if (!same(v)) return std::nullopt;
  if (t == DType::F32) return 1;
  if (t == DType::F16) return 10;
  return std::nullopt;
}

std::optional<int64_t> activation_of(const Node& n) {
  if (n.op != OpKind::KilnFusedConv && n.op != OpKind::KilnFusedMatMul) return cuda_launch::kNone;
  const std::string act = n.attrs.get_string("activation", "");
  if (act.empty()) return cuda_launch::kNone;
  if (act == "Relu") return cuda_launch::kRelu;
  return std::nullopt;
}

int64_t float_bits(float f) { return static_cast<int64_t>(std::bit_cast<uint32_t>(f)); }

// Where each present input / output of the node was placed.
struct Placed {
  std::vector<const Value*> values;
  std::vector<LaunchArg> args;
  const LaunchArg* of(const Value* v) const {
    for (size_t i = 0; i < values.size(); ++i)
      if (values[i] == v) return &args[i];
    return nullptr;
  }
};

std::optional<LibraryLaunch> gemm_launch(const Node& n, const Placed& at, int64_t dtype,
                                         int64_t act) {
  const Value *a = n.input(0), *b = n.input(1), *y = n.output(0);
  Dims ad = dims_of(a), bd = dims_of(b);
  const Dims yd = dims_of(y);
  int64_t ta = 0, tb = 0;
  float alpha = 1.0f;
  std::vector<std::pair<const Value*, float>> adds;
  if (n.op == OpKind::Gemm) {
    if (ad.size() != 2 || bd.size() != 2) return std::nullopt;
    ta = n.attrs.get_int("transA", 0);
    tb = n.attrs.get_int("transB", 0);
    alpha = n.attrs.get_float("alpha", 1.0f);
    if (n.input(2)) adds.push_back({n.input(2), n.attrs.get_float("beta", 1.0f)});
  } else {
    if (n.op == OpKind::KilnFusedMatMul) {
      tb = n.attrs.get_int("trans_b", 0);
      alpha = n.attrs.get_float("alpha", 1.0f);
      if (tb && bd.size() != 2) return std::nullopt;
      for (size_t i : {size_t{2}, size_t{3}})
        if (n.input(i)) adds.push_back({n.input(i), 1.0f});
    }
    if (ad.size() == 1) ad.insert(ad.begin(), 1);
    if (bd.size() == 1) bd.push_back(1);
  }
  if (ad.size() < 2 || bd.size() < 2) return std::nullopt;
  const size_t ar = ad.size(), br = bd.size();
  const int64_t M = ta ? ad[ar - 1] : ad[ar - 2], K = ta ? ad[ar - 2] : ad[ar - 1];
  const int64_t N = tb ? bd[br - 2] : bd[br - 1];
  if ((tb ? bd[br - 1] : bd[br - 2]) != K || M < 1 || N < 1 || K < 1) return std::nullopt;
  const int64_t batch = numel(yd) / (M * N);
  if (batch < 1 || batch * M * N != numel(yd) || batch > (int64_t{1} << 31) - 1)
    return std::nullopt;
  // Each operand is either one matrix per output matrix or one matrix for all of them.
  auto stride = [&](const Dims& d, int64_t matrix) -> std::optional<int64_t> {
    const int64_t count = numel(d) / matrix;
    if (count == batch) return batch == 1 ? 0 : matrix;
    if (count == 1) return 0;
    return std::nullopt;
  };
  const auto sa = stride(ad, M * K), sb = stride(bd, K * N);
  if (!sa || !sb) return std::nullopt;
  const LaunchArg *pa = at.of(a), *pb = at.of(b), *py = at.of(y);
  if (!pa || !pb || !py) return std::nullopt;
  LibraryLaunch l;
  l.symbol = cuda_launch::kGemmSymbol;
  l.args = {*pa, *pb, *py};
  const Value *bias = nullptr, *c = nullptr;
  for (const auto& [v, beta] : adds) {
    const Dims vd = dims_of(v);
    if (beta != 1.0f) return std::nullopt;
    if (!bias && !vd.empty() && vd.back() == N && numel(vd) == N) {
      bias = v;
    } else if (!c && vd == yd) {
      c = v;
    } else {
      return std::nullopt;
    }
  }
  for (const Value* v : {bias, c}) {
    if (!v) continue;
    const LaunchArg* p = at.of(v);
    if (!p) return std::nullopt;
    l.args.push_back(*p);
  }
  l.params.assign(G::kCount, 0);
  l.params[G::kBatch] = batch;
  l.params[G::kM] = M;
  l.params[G::kN] = N;
  l.params[G::kK] = K;
  l.params[G::kTransA] = ta;
  l.params[G::kTransB] = tb;
  l.params[G::kStrideA] = *sa;
  l.params[G::kStrideB] = *sb;
  l.params[G::kStrideY] = batch == 1 ? 0 : M * N;
  l.params[G::kDType] = dtype;
  l.params[G::kAlphaBits] = float_bits(alpha);
  l.params[G::kHasBias] = bias != nullptr;
  l.params[G::kHasC] = c != nullptr;
  l.params[G::kActivation] = act;
  return l;
}

std::optional<LibraryLaunch> conv_launch(const Node& n, const Placed& at, int64_t dtype,
                                         int64_t act) {
  const Value *x = n.input(0), *w = n.input(1), *b = n.input(2), *y = n.output(0);
  const Value* z = n.op == OpKind::KilnFusedConv ? n.input(3) : nullptr;
  const Dims xd = dims_of(x), wd = dims_of(w), yd = dims_of(y);
  if (xd.size() != 4 || wd.size() != 4 || yd.size() != 4) return std::nullopt;
  const ConvShape cs = conv_shape(n.attrs, x->type.shape, w->type.shape, n.label());
  if (!cs.window) return std::nullopt;
  const Window& win = *cs.window;
  int64_t pads[2] = {0, 0};
  for (size_t i = 0; i < 2; ++i) {
    const WindowAxis ax = window_axis(win, i, xd[2 + i], n.label());
    if (ax.pad_begin != ax.pad_end || ax.out != yd[2 + i]) return std::nullopt;
    pads[i] = ax.pad_begin;
  }
  if (b && dims_of(b) != Dims{wd[0]}) return std::nullopt;
  if (z && dims_of(z) != yd) return std::nullopt;
  LibraryLaunch l;
  l.symbol = cuda_launch::kConvSymbol;
  for (const Value* v : {x, w, y, b, z}) {
    if (!v) continue;
    const LaunchArg* p = at.of(v);
    if (!p) return std::nullopt;
    l.args.push_back(*p);
  }
  l.params.assign(C::kCount, 0);
  l.params[C::kN] = xd[0];
  l.params[C::kC] = xd[1];
  l.params[C::kH] = xd[2];
  l.params[C::kW] = xd[3];
  l.params[C::kK] = wd[0];
  l.params[C::kR] = wd[2];
  l.params[C::kS] = wd[3];
  l.params[C::kPadH] = pads[0];
  l.params[C::kPadW] = pads[1];
  l.params[C::kStrideH] = win.strides[0];
  l.params[C::kStrideW] = win.strides[1];
  l.params[C::kDilationH] = win.dilations[0];
  l.params[C::kDilationW] = win.dilations[1];
  l.params[C::kGroups] = cs.group;
  l.params[C::kOutH] = yd[2];
  l.params[C::kOutW] = yd[3];
  l.params[C::kDType] = dtype;
  l.params[C::kHasBias] = b != nullptr;
  l.params[C::kHasZ] = z != nullptr;
  l.params[C::kActivation] = act;
  return l;
}

}  // namespace

std::optional<LibraryLaunch> library_launch_for(const Node& n,
                                                const std::vector<LaunchArg>& values) {
  const bool gemm =
      n.op == OpKind::Gemm || n.op == OpKind::MatMul || n.op == OpKind::KilnFusedMatMul;
  const bool conv = n.op == OpKind::Conv || n.op == OpKind::KilnFusedConv;
  if (!gemm && !conv) return std::nullopt;
  Placed at;
  for (const Value* v : n.inputs())
    if (v) at.values.push_back(v);
  for (const Value* v : n.outputs())
    if (v) at.values.push_back(v);
  if (at.values.size() != values.size() || n.outputs().size() != 1) return std::nullopt;
  at.args = values;
  for (const Value* v : at.values)
    if (!v->type.shape.is_static() || numel(dims_of(v)) == 0) return std::nullopt;
  const auto dtype = common_dtype(n);
  const auto act = activation_of(n);
  if (!dtype || !act) return std::nullopt;
  return gemm ? gemm_launch(n, at, *dtype, *act) : conv_launch(n, at, *dtype, *act);
}

}  // namespace kiln::cuda_codegen
