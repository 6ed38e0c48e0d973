#include "codegen/gpu/lower_device.h"

#include <cstring>
#include <optional>
#include <unordered_map>

#include "codegen/cpu/elementwise_groups.h"
#include "codegen/gpu/families.h"
#include "codegen/launch_buffers.h"
#include "ir/infer/conv_shape.h"
#include "ir/infer/fused_activation.h"
#include "ir/infer/reduce_axes.h"
#include "ir/infer/shape_args.h"
#include "ir/infer/window.h"
#include "runtime/kernels/launch/builtins.h"
#include "runtime/kernels/launch/op_record.h"

namespace kiln::gpu {

std::vector<int64_t> DeviceLaunch::params() const {
  if (host) return {};
  return {kernel.geometry.begin(), kernel.geometry.end()};
}

namespace {

using artifact::BufferKind;
using artifact::LaunchArg;
using cpu_codegen::broadcast_strides;
using cpu_codegen::contiguous_strides;

constexpr auto dims_of = codegen::static_dims_of;
constexpr auto bytes_of = codegen::static_bytes_of;
bool is_f32(const Value* v) { return v && v->type.dtype == DType::F32; }

// Elements moved without arithmetic travel as unsigned integers of their size.
std::optional<Scalar> bits_type(DType t) {
  if (t == DType::String) return std::nullopt;
  switch (dtype_size(t)) {
    case 1: return Scalar::U8;
    case 2: return Scalar::U16;
    case 4: return Scalar::U32;
    case 8: return Scalar::U64;
    default: return std::nullopt;
  }
}

// Types Cast converts with a C conversion that matches the reference.
std::optional<Scalar> arith_type(DType t) {
  switch (t) {
    case DType::F32: return Scalar::F32;
    case DType::I8: return Scalar::I8;
    case DType::I16: return Scalar::I16;
    case DType::I32: return Scalar::I32;
    case DType::I64: return Scalar::I64;
    case DType::U8: case DType::Bool: return Scalar::U8;
    case DType::U16: return Scalar::U16;
    case DType::U32: return Scalar::U32;
    case DType::U64: return Scalar::U64;
    default: return std::nullopt;
  }
}

OpArgs args_of(const Node& n) {
  OpArgs a;
  a.opset = n.opset;
  a.attrs = &n.attrs;
  a.where = n.label() + ": ";
  for (const Value* v : n.inputs()) {
    a.present.push_back(v != nullptr);
    a.values.push_back(v && v->is_constant() ? &*v->constant : nullptr);
  }
  return a;
}

class Lowering {
 public:
  Lowering(const Graph& g, const DeviceLowerOptions& o)
      : g_(g), d_(o.dialect ? *o.dialect : opencl_dialect()), profile_(o.profile), options_(o) {}

  DeviceProgram run() {
    for (const auto& n : g_.nodes())
      for (const Value* v : n->outputs())
        if (v && !v->type.shape.is_static())
          fail("compile: ", n->label(), " output '", v->name(), "' has shape ",
               v->type.shape.to_string(), "; device code needs static shapes");
    groups_ = options_.fuse_elementwise ? cpu_codegen::find_elementwise_groups(g_)
                                        : cpu_codegen::ElementwiseGroups{};
    out_.plan = plan_memory(g_, groups_.schedule.step.empty() ? nullptr : &groups_.schedule);
    buffers_.emplace(g_, out_.plan, out_.weights);
    for (const auto& n : g_.nodes()) {
      if (groups_.member_of.count(n.get())) continue;
      lower_node(*n);
    }
    copy_passthrough_outputs();
    for (const Value* v : g_.inputs) out_.inputs.push_back({v->name(), v->type.dtype, dims_of(v)});
    for (const Value* v : g_.outputs) out_.outputs.push_back({v->name(), v->type.dtype, dims_of(v)});
    for (const auto& n : g_.nodes())
      for (const Value* v : n->outputs())
        if (v && out_.plan.in_arena(v)) out_.planned_values.push_back({v, out_.plan.slot(v).offset});
    std::vector<RenderedKernel> kernels;
    for (const auto& l : out_.launches)
      if (!l.host) kernels.push_back(l.kernel);
    out_.source = render_program(d_, kernels);
    return std::move(out_);
  }

 private:
  // ---- buffers
  LaunchArg value_arg(const Value* v) { return buffers_->value_arg(v); }

  // A device kernel under construction: its writer and its launch arguments.
  struct Kernel {
    KernelWriter w;
    DeviceLaunch launch;
    int arg(Lowering& l, const Value* v, Scalar t) {
      launch.args.push_back(l.value_arg(v));
      w.buffer(t);
      return static_cast<int>(launch.args.size()) - 1;
    }
  };

  Kernel begin(const Node& n) {
    const std::string symbol = cat("kiln_k", out_.launches.size());
    Kernel k{KernelWriter(d_, profile_, symbol), {}};
    k.launch.symbol = symbol;
    k.launch.node_name = n.name;
    k.launch.op = std::string(op_name(n.op));
    return k;
  }

  void commit(Kernel& k, const char* family) {
    k.launch.kernel = finish(k.w);
    ++out_.device_kinds[family];
    out_.launches.push_back(std::move(k.launch));
  }

  // ---- dispatch
  void lower_node(const Node& n) {
    if (auto it = groups_.root_of.find(&n); it != groups_.root_of.end()) {
      lower_elementwise(n, it->second);
      return;
    }
    const Value* y = n.output(0);
    if (op_may_alias_input(n.op) && y && out_.plan.in_arena(y) && out_.plan.slot(y).alias_of)
      return;  // a view: shares its input's bytes
    bool empty = false;
    for (const Value* v : n.outputs()) empty = empty || (v && checked_numel(dims_of(v)) == 0);
    if (!empty && try_device(n)) return;
    lower_host(n);
  }

  bool try_device(const Node& n) {
    switch (n.op) {
      case OpKind::Identity: case OpKind::Reshape: case OpKind::Flatten: case OpKind::Squeeze:
      case OpKind::Unsqueeze:
        return lower_copy(n);
      case OpKind::Cast: return lower_cast(n);
      case OpKind::Transpose: case OpKind::Slice: case OpKind::Expand: case OpKind::Tile:
      case OpKind::Pad: case OpKind::Concat: case OpKind::Gather:
        return lower_move(n);
      case OpKind::ReduceSum: case OpKind::ReduceMean: case OpKind::ReduceMax:
      case OpKind::ReduceMin: case OpKind::ReduceProd: case OpKind::ReduceL1:
      case OpKind::ReduceL2: case OpKind::ReduceLogSum: case OpKind::ReduceLogSumExp:
      case OpKind::ReduceSumSquare:
        return lower_reduce(n);
      case OpKind::GlobalAveragePool: case OpKind::GlobalMaxPool: return lower_global_pool(n);
      case OpKind::MaxPool: case OpKind::AveragePool: return lower_pool(n);
      case OpKind::Softmax: case OpKind::LogSoftmax: return lower_softmax(n);
      case OpKind::LayerNormalization: return lower_layer_norm(n);
      case OpKind::Gemm: case OpKind::MatMul: case OpKind::KilnFusedMatMul: return lower_gemm(n);
      case OpKind::Conv: case OpKind::KilnFusedConv: return lower_conv(n);
      default: return false;
    }
  }

  // The runtime runs the node on the host: [op record, present inputs..., present outputs...].
  void lower_host(const Node& n) {
    DeviceLaunch l;
    l.symbol = kHostOpSymbol;
    l.node_name = n.name;
    l.op = std::string(op_name(n.op));
    l.host = true;
    std::vector<LaunchArg> buffers;
    const launch::OpRecord rec = buffers_->node_record(n, buffers);
    l.args.push_back(buffers_->record_arg(rec));
    l.args.insert(l.args.end(), buffers.begin(), buffers.end());
    ++out_.fallback_ops[l.op];
    out_.launches.push_back(std::move(l));
  }

  // ---- families
  void lower_elementwise(const Node& root, const cpu_codegen::GroupSpec& spec) {
    Kernel k = begin(root);
    EwProgram p;
    p.out_dims = dims_of(root.output(0));
    auto type_of = [](const Value* v) { return is_f32(v) ? Scalar::F32 : Scalar::F16; };
    for (const Value* in : spec.inputs) {
      const int b = k.arg(*this, in, type_of(in));
      p.inputs.push_back({b, broadcast_strides(dims_of(in), p.out_dims), !is_f32(in)});
    }
    p.out_buffer = k.arg(*this, root.output(0), type_of(root.output(0)));
    p.out_half = !is_f32(root.output(0));
    p.steps = spec.steps;
    if (spec.nodes > 1) k.launch.op = cat("Fused", spec.nodes, "(", k.launch.op, ")");
    emit_elementwise(k.w, p);
    commit(k, "elementwise");
  }

  bool lower_copy(const Node& n) {
    const Value *x = n.input(0), *y = n.output(0);
    const auto t = bits_type(y->type.dtype);
    if (!x || !t || n.outputs().size() != 1) return false;
    Kernel k = begin(n);
    MoveDesc d;
    d.kind = MoveKind::Copy;
    d.elem = *t;
    d.out_dims = dims_of(y);
    d.in = {k.arg(*this, x, *t)};
    d.out = k.arg(*this, y, *t);
    emit_move(k.w, d);
    commit(k, "data movement");
    return true;
  }

  bool lower_cast(const Node& n) {
    const Value *x = n.input(0), *y = n.output(0);
    const auto from = arith_type(x->type.dtype), to = arith_type(y->type.dtype);
    if (!from || !to) return false;
    const bool float_src = x->type.dtype == DType::F32;
    const bool to_bool = y->type.dtype == DType::Bool;
    // float -> integer saturates in the reference; a C conversion does not.
    if (float_src && y->type.dtype != DType::F32 && !to_bool) return false;
    Kernel k = begin(n);
    MoveDesc d;
    d.kind = MoveKind::Cast;
    d.elem = *to;
    d.from = *from;
    d.cast_to_bool = to_bool;
    d.out_dims = dims_of(y);
    d.in = {k.arg(*this, x, *from)};
    d.out = k.arg(*this, y, *to);
    emit_move(k.w, d);
    commit(k, "data movement");
    return true;
  }

  bool lower_move(const Node& n) {
    const Value *x = n.input(0), *y = n.output(0);
    if (!x || n.outputs().size() != 1) return false;
    const auto t = bits_type(y->type.dtype);
    if (!t) return false;
    const Dims xd = dims_of(x), yd = dims_of(y);
    const int64_t rank = static_cast<int64_t>(xd.size());
    const OpArgs a = args_of(n);
    MoveDesc d;
    d.elem = *t;
    d.out_dims = yd;
    d.in_dims = xd;
    switch (n.op) {
      case OpKind::Transpose: {
        d.kind = MoveKind::Transpose;
        std::vector<int64_t> perm = n.attrs.get_ints("perm", {});
        if (perm.empty())
          for (int64_t i = rank; i-- > 0;) perm.push_back(i);
        d.perm = norm_axes(a, perm, rank);
        if (static_cast<int64_t>(d.perm.size()) != rank) return false;
        break;
      }
      case OpKind::Slice: {
        d.kind = MoveKind::Slice;
        const auto spec = slice_spec(a, rank);
        if (!spec) return false;
        d.starts.assign(xd.size(), 0);
        d.steps.assign(xd.size(), 1);
        for (const auto& s : *spec) {
          const SliceRange r = clamp_slice(s.start, s.end, s.step, xd[static_cast<size_t>(s.axis)]);
          d.starts[static_cast<size_t>(s.axis)] = r.start;
          d.steps[static_cast<size_t>(s.axis)] = r.step;
        }
        break;
      }
      case OpKind::Expand:
        d.kind = MoveKind::Broadcast;
        d.in_strides = broadcast_strides(xd, yd);
        break;
      case OpKind::Tile:
        if (xd.size() != yd.size()) return false;
        d.kind = MoveKind::Tile;
        break;
      case OpKind::Pad: {
        if (pad_mode(a) != PadMode::Constant || xd.size() != yd.size()) return false;
        const auto pads = pad_amounts(a, rank);
        if (!pads) return false;
        d.kind = MoveKind::Pad;
        d.starts.assign(pads->begin(), pads->begin() + rank);
        uint64_t bits = 0;
        if (n.opset < 11) {
          const float v = n.attrs.get_float("value", 0.0f);
          if (y->type.dtype != DType::F32) return false;
          std::memcpy(&bits, &v, sizeof v);
        } else if (const Value* cv = n.input(2)) {
          if (!cv->is_constant() || cv->constant->numel() != 1) return false;
          std::memcpy(&bits, cv->constant->raw(), dtype_size(cv->type.dtype));
        }
        d.pad_value = cat("((", d_.types.at(*t), ")", bits, "UL)");
        break;
      }
      case OpKind::Concat: {
        d.kind = MoveKind::Concat;
        d.axis = norm_axis(a, n.attrs.get_int("axis", 0), static_cast<int64_t>(yd.size()));
        break;
      }
      case OpKind::Gather: {
        const Value* idx = n.input(1);
        if (!idx || (idx->type.dtype != DType::I64 && idx->type.dtype != DType::I32)) return false;
        d.kind = MoveKind::Gather;
        d.axis = norm_axis(a, n.attrs.get_int("axis", 0), rank);
        d.index_dims = dims_of(idx);
        d.index_type = idx->type.dtype == DType::I64 ? Scalar::I64 : Scalar::I32;
        break;
      }
      default:
        return false;
    }
    if (d.kind == MoveKind::Concat)
      for (const Value* v : n.inputs())
        if (!v || v->type.dtype != y->type.dtype) return false;
    Kernel k = begin(n);
    if (d.kind == MoveKind::Concat) {
      for (const Value* v : n.inputs()) {
        d.parts.push_back(dims_of(v));
        d.in.push_back(k.arg(*this, v, *t));
      }
    } else {
      d.in = {k.arg(*this, x, *t)};
      if (d.kind == MoveKind::Gather) d.in.push_back(k.arg(*this, n.input(1), d.index_type));
    }
    d.out = k.arg(*this, y, *t);
    emit_move(k.w, d);
    commit(k, "data movement");
    return true;
  }

  bool lower_reduce(const Node& n) {
    const Value *x = n.input(0), *y = n.output(0);
    if (!is_f32(x) || !is_f32(y)) return false;
    const Value* axes_in = n.input(1);
    const bool has_axes_input = n.opset >= reduce_axes_input_opset(n.op) && axes_in;
    if (has_axes_input && !axes_in->is_constant()) return false;
    const ReduceAxes ra = read_reduce_axes(n.op, n.opset, n.attrs, has_axes_input,
                                           has_axes_input ? &*axes_in->constant : nullptr,
                                           n.label() + ": ");
    if (!ra.known || ra.reduces_nothing()) return false;
    const Dims xd = dims_of(x);
    ReduceDesc d;
    d.in_dims = xd;
    d.reduced = reduce_mask(ra, static_cast<int64_t>(xd.size()), n.label() + ": ");
    int64_t count = 1;
    for (size_t i = 0; i < xd.size(); ++i)
      if (d.reduced[i]) count *= xd[i];
    if (count == 0) return false;
    static const std::map<OpKind, ReduceKind> kinds = {
        {OpKind::ReduceSum, ReduceKind::Sum},       {OpKind::ReduceMean, ReduceKind::Mean},
        {OpKind::ReduceMax, ReduceKind::Max},       {OpKind::ReduceMin, ReduceKind::Min},
        {OpKind::ReduceProd, ReduceKind::Prod},     {OpKind::ReduceL1, ReduceKind::L1},
        {OpKind::ReduceL2, ReduceKind::L2},         {OpKind::ReduceLogSum, ReduceKind::LogSum},
        {OpKind::ReduceLogSumExp, ReduceKind::LogSumExp},
        {OpKind::ReduceSumSquare, ReduceKind::SumSquare}};
    d.kind = kinds.at(n.op);
    Kernel k = begin(n);
    d.in = k.arg(*this, x, Scalar::F32);
    d.out = k.arg(*this, y, Scalar::F32);
    emit_reduce(k.w, d);
    commit(k, "reduction");
    return true;
  }

  bool lower_global_pool(const Node& n) {
    const Value *x = n.input(0), *y = n.output(0);
    if (!is_f32(x) || x->type.shape.dims.size() < 3) return false;
    ReduceDesc d;
    d.in_dims = dims_of(x);
    d.reduced.assign(d.in_dims.size(), true);
    d.reduced[0] = d.reduced[1] = false;
    d.kind = n.op == OpKind::GlobalMaxPool ? ReduceKind::Max : ReduceKind::Mean;
    Kernel k = begin(n);
    d.in = k.arg(*this, x, Scalar::F32);
    d.out = k.arg(*this, y, Scalar::F32);
    emit_reduce(k.w, d);
    commit(k, "pooling");
    return true;
  }

  bool lower_pool(const Node& n) {
    const Value *x = n.input(0), *y = n.output(0);
    if (!is_f32(x) || !is_f32(y) || n.output(1)) return false;
    const Dims xd = dims_of(x), yd = dims_of(y);
    if (xd.size() < 3 || xd.size() > 5) return false;
    const Window w = read_window(n.attrs, n.attrs.get_ints("kernel_shape", {}), n.label() + ": ");
    if (w.rank() != xd.size() - 2) return false;
    PoolDesc d;
    d.planes = xd[0] * xd[1];
    d.in_spatial.assign(xd.begin() + 2, xd.end());
    d.out_spatial.assign(yd.begin() + 2, yd.end());
    d.kernel = w.kernel;
    d.strides = w.strides;
    d.dilations = w.dilations;
    for (size_t i = 0; i < w.rank(); ++i) {
      const WindowAxis ax = window_axis(w, i, d.in_spatial[i], n.label() + ": ");
      if (ax.out != d.out_spatial[i]) return false;
      d.pad_begin.push_back(ax.pad_begin);
      d.pad_end.push_back(ax.pad_end);
    }
    d.max = n.op == OpKind::MaxPool;
    d.count_include_pad = n.attrs.get_int("count_include_pad", 0) == 1;
    Kernel k = begin(n);
    d.in = k.arg(*this, x, Scalar::F32);
    d.out = k.arg(*this, y, Scalar::F32);
    emit_pool(k.w, d);
    commit(k, "pooling");
    return true;
  }

  bool lower_softmax(const Node& n) {
    const Value *x = n.input(0), *y = n.output(0);
    if (!is_f32(x)) return false;
    const Dims xd = dims_of(x);
    const int64_t rank = static_cast<int64_t>(xd.size());
    if (rank == 0) return false;
    const OpArgs a = args_of(n);
    const size_t axis = static_cast<size_t>(
        norm_axis(a, n.attrs.get_int("axis", n.opset < 13 ? 1 : -1), rank));
    SoftmaxDesc d;
    d.log = n.op == OpKind::LogSoftmax;
    for (size_t i = 0; i < axis; ++i) d.outer *= xd[i];
    if (n.opset < 13) {  // the input is coerced to 2-D at `axis`
      for (size_t i = axis; i < xd.size(); ++i) d.n *= xd[i];
    } else {
      d.n = xd[axis];
      for (size_t i = axis + 1; i < xd.size(); ++i) d.inner *= xd[i];
    }
    Kernel k = begin(n);
    d.in = k.arg(*this, x, Scalar::F32);
    d.out = k.arg(*this, y, Scalar::F32);
    emit_softmax(k.w, d);
    commit(k, "softmax");
    return true;
  }

  bool lower_layer_norm(const Node& n) {
    const Value *x = n.input(0), *scale = n.input(1), *bias = n.input(2);
    if (!is_f32(x) || !is_f32(scale) || (bias && !is_f32(bias))) return false;
    for (const Value* v : n.outputs())
      if (v && !is_f32(v)) return false;
    const Dims xd = dims_of(x);
    const int64_t rank = static_cast<int64_t>(xd.size());
    if (rank == 0) return false;
    const size_t axis = static_cast<size_t>(norm_axis(args_of(n), n.attrs.get_int("axis", -1), rank));
    LayerNormDesc d;
    for (size_t i = 0; i < axis; ++i) d.rows *= xd[i];
    for (size_t i = axis; i < xd.size(); ++i) d.cols *= xd[i];
    d.epsilon = n.attrs.get_float("epsilon", 1e-5f);
    // Scale and bias: one value per normalized element, or a single broadcast value.
    auto stride_of = [&](const Value* v, int64_t* s) {
      const int64_t c = checked_numel(dims_of(v));
      if (c != d.cols && c != 1) return false;
      if (c == d.cols && dims_of(v).size() > xd.size() - axis) return false;
      *s = c == 1 && d.cols != 1 ? 0 : 1;
      return true;
    };
    if (!stride_of(scale, &d.scale_stride) || (bias && !stride_of(bias, &d.bias_stride)))
      return false;
    Kernel k = begin(n);
    d.x = k.arg(*this, x, Scalar::F32);
    d.scale = k.arg(*this, scale, Scalar::F32);
    if (bias) d.bias = k.arg(*this, bias, Scalar::F32);
    if (n.output(0)) d.y = k.arg(*this, n.output(0), Scalar::F32);
    if (n.output(1)) d.mean = k.arg(*this, n.output(1), Scalar::F32);
    if (n.output(2)) d.inv_std = k.arg(*this, n.output(2), Scalar::F32);
    emit_layer_norm(k.w, d);
    commit(k, "layer norm");
    return true;
  }

  // Activation of a fused op, as an elementwise step.
  std::optional<EwStep> activation_of(const Node& n) {
    if (n.op != OpKind::KilnFusedConv && n.op != OpKind::KilnFusedMatMul) return std::nullopt;
    const auto act = fused_activation_op(n.attrs.get_string("activation", ""), n.label());
    if (!act) return std::nullopt;
    EwStep s = cpu_codegen::activation_step(*act, n.attrs);
    if (*act == OpKind::Gelu) s.approximate_tanh = false;
    s.operands = {0};
    return s;
  }

  bool lower_gemm(const Node& n) {
    const Value *a = n.input(0), *b = n.input(1), *y = n.output(0);
    if (!is_f32(a) || !is_f32(b) || !is_f32(y)) return false;
    Dims ad = dims_of(a), bd = dims_of(b);
    const Dims yd = dims_of(y);
    GemmDesc d;
    d.out_dims = yd;
    int64_t trans_a = 0, trans_b = 0;
    std::vector<std::pair<const Value*, float>> adds;
    if (n.op == OpKind::Gemm) {
      if (ad.size() != 2 || bd.size() != 2) return false;
      trans_a = n.attrs.get_int("transA", 0);
      trans_b = n.attrs.get_int("transB", 0);
      d.alpha = n.attrs.get_float("alpha", 1.0f);
      if (const Value* c = n.input(2)) {
        if (!is_f32(c)) return false;
        adds.push_back({c, n.attrs.get_float("beta", 1.0f)});
      }
    } else {
      if (n.op == OpKind::KilnFusedMatMul) {
        trans_b = n.attrs.get_int("trans_b", 0);
        d.alpha = n.attrs.get_float("alpha", 1.0f);
        if (trans_b && bd.size() != 2) return false;
        for (size_t i : {size_t{2}, size_t{3}}) {
          if (!n.input(i)) continue;
          if (!is_f32(n.input(i))) return false;
          adds.push_back({n.input(i), 1.0f});
        }
      }
      // 1-D operands: A [K] is [1, K]; B [K] is [K, 1] (the dims drop from the output).
      if (ad.size() == 1) ad.insert(ad.begin(), 1);
      if (bd.size() == 1) bd.push_back(1);
    }
    const size_t ar = ad.size(), br = bd.size();
    d.M = trans_a ? ad[ar - 1] : ad[ar - 2];
    d.K = trans_a ? ad[ar - 2] : ad[ar - 1];
    d.N = trans_b ? bd[br - 2] : bd[br - 1];
    const int64_t kb = trans_b ? bd[br - 1] : bd[br - 2];
    if (kb != d.K || d.K == 0) return false;
    // A [.., M, K] (or [K, M] with transA), B [.., K, N] (or [N, K]).
    d.a_m = trans_a ? 1 : ad[ar - 1];
    d.a_k = trans_a ? ad[ar - 1] : 1;
    d.b_k = trans_b ? 1 : bd[br - 1];
    d.b_n = trans_b ? bd[br - 1] : 1;
    // Batch dims of the output broadcast over both operands' batch dims.
    const Dims ab(ad.begin(), ad.end() - 2), bb(bd.begin(), bd.end() - 2);
    const size_t nb = std::max(ab.size(), bb.size());
    d.batch.assign(nb, 1);
    for (size_t i = 0; i < nb; ++i) {
      const int64_t x = i + ab.size() >= nb ? ab[i + ab.size() - nb] : 1;
      const int64_t z = i + bb.size() >= nb ? bb[i + bb.size() - nb] : 1;
      if (x != z && x != 1 && z != 1) return false;
      d.batch[i] = std::max(x, z);
    }
    if (checked_numel(d.batch) * d.M * d.N != checked_numel(yd)) return false;
    auto batch_strides = [&](const Dims& own) {
      Dims padded(nb - own.size(), 1);
      padded.insert(padded.end(), own.begin(), own.end());
      std::vector<int64_t> s = broadcast_strides(padded, d.batch);
      return s;
    };
    const int64_t a_mat = d.M * d.K, b_mat = d.K * d.N;
    d.a_batch = batch_strides(ab);
    d.b_batch = batch_strides(bb);
    for (auto& s : d.a_batch) s *= a_mat;
    for (auto& s : d.b_batch) s *= b_mat;
    d.activation = activation_of(n);
    for (const auto& add : adds)
      if (dims_of(add.first).size() > yd.size()) return false;
    Kernel k = begin(n);
    d.a = k.arg(*this, a, Scalar::F32);
    d.b = k.arg(*this, b, Scalar::F32);
    for (const auto& [v, beta] : adds) {
      d.adds.push_back({k.arg(*this, v, Scalar::F32), broadcast_strides(dims_of(v), yd), beta});
    }
    d.y = k.arg(*this, y, Scalar::F32);
    emit_gemm(k.w, d);
    commit(k, "gemm");
    return true;
  }

  bool lower_conv(const Node& n) {
    const Value *x = n.input(0), *w = n.input(1), *b = n.input(2), *y = n.output(0);
    const Value* z = n.op == OpKind::KilnFusedConv ? n.input(3) : nullptr;
    if (!is_f32(x) || !is_f32(w) || (b && !is_f32(b)) || (z && !is_f32(z))) return false;
    const Dims xd = dims_of(x), wd = dims_of(w), yd = dims_of(y);
    if (xd.size() < 3 || xd.size() > 5) return false;
    const ConvShape cs = conv_shape(n.attrs, x->type.shape, w->type.shape, n.label());
    if (!cs.window) return false;
    const Window& win = *cs.window;
    ConvDesc d;
    d.N = xd[0];
    d.C = xd[1];
    d.M = wd[0];
    d.group = cs.group;
    d.in_spatial.assign(xd.begin() + 2, xd.end());
    d.out_spatial.assign(yd.begin() + 2, yd.end());
    d.kernel = win.kernel;
    d.strides = win.strides;
    d.dilations = win.dilations;
    for (size_t i = 0; i < win.rank(); ++i)
      d.pad_begin.push_back(window_axis(win, i, d.in_spatial[i], n.label()).pad_begin);
    d.out_dims = yd;
    d.activation = activation_of(n);
    if (z && dims_of(z).size() > yd.size()) return false;
    Kernel k = begin(n);
    d.x = k.arg(*this, x, Scalar::F32);
    d.w = k.arg(*this, w, Scalar::F32);
    if (b) d.bias = k.arg(*this, b, Scalar::F32);
    if (z) {
      d.adds.push_back({k.arg(*this, z, Scalar::F32), broadcast_strides(dims_of(z), yd), 1.0f});
    }
    d.y = k.arg(*this, y, Scalar::F32);
    emit_conv(k.w, d);
    commit(k, "convolution");
    return true;
  }

  // A graph output no node writes (a model input or a constant) is copied into place.
  void copy_passthrough_outputs() {
    for (const Value* v : g_.outputs) {
      if (v->producer()) continue;
      const std::string symbol = cat("kiln_k", out_.launches.size());
      const LaunchArg dst = buffers_->output_arg(v);
      const auto t = bits_type(v->type.dtype);
      if (!t || checked_numel(dims_of(v)) == 0) {
        const launch::OpRecord rec = codegen::LaunchBuffers::output_copy_record(v);
        DeviceLaunch l;
        l.symbol = kHostOpSymbol;
        l.node_name = rec.node_name;
        l.op = "Identity";
        l.host = true;
        l.args = {buffers_->record_arg(rec), value_arg(v), dst};
        ++out_.fallback_ops[l.op];
        out_.launches.push_back(std::move(l));
        continue;
      }
      Kernel k{KernelWriter(d_, profile_, symbol), {}};
      k.launch.symbol = symbol;
      k.launch.node_name = cat("copy to output '", v->name(), "'");
      k.launch.op = "Identity";
      MoveDesc d;
      d.kind = MoveKind::Copy;
      d.elem = *t;
      d.out_dims = dims_of(v);
      d.in = {k.arg(*this, v, *t)};
      k.launch.args.push_back(dst);
      k.w.buffer(*t);
      d.out = 1;
      emit_move(k.w, d);
      commit(k, "data movement");
    }
  }

  const Graph& g_;
  const Dialect& d_;
  Profile profile_;
  DeviceLowerOptions options_;
  cpu_codegen::ElementwiseGroups groups_;
  DeviceProgram out_;
  std::optional<codegen::LaunchBuffers> buffers_;  // once the memory plan exists
};

}  // namespace

DeviceProgram lower_for_device(const Graph& g, const DeviceLowerOptions& options) {
  return Lowering(g, options).run();
}

}  // namespace kiln::gpu
