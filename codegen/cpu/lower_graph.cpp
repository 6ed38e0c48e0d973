#include "codegen/cpu/lower_graph.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>

#include "codegen/cpu/elementwise_groups.h"
#include "codegen/launch_buffers.h"
#include "ir/infer/conv_shape.h"
#include "ir/infer/fused_activation.h"
#include "runtime/kernels/cpu/conv.h"
#include "runtime/kernels/cpu/qgemm.h"
#include "runtime/kernels/cpu/sgemm.h"
#include "runtime/kernels/launch/builtins.h"
#include "runtime/kernels/launch/op_record.h"

namespace kiln::cpu_codegen {
namespace {

using artifact::BufferKind;
using artifact::LaunchArg;

bool is_f32(const Value* v) { return v && v->type.dtype == DType::F32; }

constexpr auto dims_of = codegen::static_dims_of;
constexpr auto bytes_of = codegen::static_bytes_of;

class Lowering {
 public:
  Lowering(const Graph& g, const LowerOptions& options) : g_(g), options_(options) {}

  LoweredGraph run() {
    check_static();
    groups_ = options_.fuse_elementwise ? find_elementwise_groups(g_) : ElementwiseGroups{};
    const auto& nodes = g_.nodes();
    // Conv -> depthwise pairs run interleaved (see lower_conv_depthwise_pair): for the memory
    // plan both run at the first one's step, so nothing either of them reads is reused for what
    // either writes.
    PlanSchedule schedule = groups_.schedule;
    // Residual convs add the residual while storing each output element, so their output may
    // take over the residual's buffer when nothing reads it afterwards (kiln_conv2d_residual
    // copies it first on paths that would read it late).
    for (const auto& n : nodes)
      if (const Value* z = in_place_residual(*n)) schedule.in_place[n.get()] = z;
    for (size_t i = 0; i + 1 < nodes.size(); ++i) {
      const int64_t chunk = pair_chunk(*nodes[i], *nodes[i + 1]);
      if (!chunk) continue;
      pair_chunk_[nodes[i].get()] = chunk;
      if (schedule.step.empty())
        for (size_t j = 0; j < nodes.size(); ++j) schedule.step.push_back(static_cast<int>(j));
      schedule.step[i + 1] = schedule.step[i];
      ++i;
    }
    out_.plan = plan_memory(g_, schedule.step.empty() && schedule.in_place.empty() ? nullptr
                                                                                   : &schedule);
    buffers_.emplace(g_, out_.plan, out_.weights);
    for (size_t i = 0; i < nodes.size(); ++i) {
      const Node* n = nodes[i].get();
      if (groups_.member_of.count(n)) continue;  // emitted with its group's root
      if (auto it = pair_chunk_.find(n); it != pair_chunk_.end()) {
        lower_conv_depthwise_pair(*n, *nodes[i + 1], it->second);
        ++i;
        continue;
      }
      lower_node(*n);
    }
    copy_passthrough_outputs();
    for (const Value* v : g_.inputs) out_.inputs.push_back({v->name(), v->type.dtype, dims_of(v)});
    for (const Value* v : g_.outputs)
      out_.outputs.push_back({v->name(), v->type.dtype, dims_of(v)});
    for (const auto& n : nodes) {
      for (const Value* v : n->outputs()) {
        if (v && out_.plan.in_arena(v)) out_.planned_values.push_back({v, out_.plan.slot(v).offset});
      }
    }
    return std::move(out_);
  }

 private:
  void check_static() const {
    for (const auto& n : g_.nodes()) {
      for (const Value* v : n->outputs()) {
        if (v && !v->type.shape.is_static()) {
          fail("compile: ", n->label(), " output '", v->name(), "' has shape ",
               v->type.shape.to_string(),
               "; compiled code needs static shapes (bind symbolic inputs with --input-shape, or "
               "the op's output size depends on input values)");
        }
      }
    }
    for (const Value* v : g_.inputs) {
      if (!v->type.shape.is_static()) {
        fail("compile: input '", v->name(), "' has shape ", v->type.shape.to_string(),
             "; bind it with --input-shape ", v->name(), "=DIMS");
      }
    }
  }

  LaunchArg weight_arg(const void* data, size_t bytes) { return buffers_->weight_arg(data, bytes); }
  LaunchArg value_arg(const Value* v) { return buffers_->value_arg(v); }

  PlannedKernel start(const Node& n, KernelKind kind) {
    PlannedKernel k;
    k.kind = kind;
    k.symbol = cat("kiln_k", out_.kernels.size());
    k.node_name = n.name;
    k.op = std::string(op_name(n.op));
    return k;
  }

  int add_arg(PlannedKernel& k, LaunchArg a) {
    k.args.push_back(a);
    return static_cast<int>(k.args.size()) - 1;
  }

  void lower_node(const Node& n) {
    if (auto it = groups_.root_of.find(&n); it != groups_.root_of.end()) {
      lower_elementwise(n, it->second);
      return;
    }
    if (op_may_alias_input(n.op) && n.output(0) && out_.plan.in_arena(n.output(0)) &&
        out_.plan.slot(n.output(0)).alias_of) {
      return;  // a view: shares its input's bytes, nothing to run
    }
    if ((n.op == OpKind::Conv || n.op == OpKind::KilnFusedConv) && lower_conv(n)) return;
    if ((n.op == OpKind::Gemm || n.op == OpKind::MatMul || n.op == OpKind::KilnFusedMatMul) &&
        lower_gemm_packed(n))
      return;
    if (n.op == OpKind::MatMul && lower_matmul_batched(n)) return;
    if (n.op == OpKind::KilnQConv && lower_qconv(n)) return;
    if (n.op == OpKind::KilnQMatMul && lower_qgemm(n)) return;
    lower_op(n);
  }

  // The runtime's kernels, described by an op record in the weights.
  void lower_op(const Node& n) {
    PlannedKernel k = start(n, KernelKind::Op);
    std::vector<LaunchArg> buffers;
    const launch::OpRecord rec = buffers_->node_record(n, buffers);
    add_arg(k, buffers_->record_arg(rec));
    for (const auto& b : buffers) add_arg(k, b);
    out_.kernels.push_back(std::move(k));
  }

  // Fused-op epilogue: Y (+ Z) then the activation; empty when there is nothing to do.
  void fused_epilogue(const Node& n, PlannedKernel& k, const Value* residual, bool* relu_flag) {
    std::optional<OpKind> act;
    if (n.op == OpKind::KilnFusedConv || n.op == OpKind::KilnFusedMatMul ||
        n.op == OpKind::KilnQConv || n.op == OpKind::KilnQMatMul)
      act = fused_activation_op(n.attrs.get_string("activation", ""), n.label());
    *relu_flag = false;
    if (!residual && (!act || *act == OpKind::Relu)) {
      *relu_flag = act.has_value();
      return;
    }
    EwProgram& p = k.program;
    const Value* y = n.output(0);
    p.out_dims = dims_of(y);
    p.out_buffer = k.y;
    p.inputs.push_back({k.y, contiguous_strides(p.out_dims)});
    int last = 0;
    if (residual) {
      p.inputs.push_back({add_arg(k, value_arg(residual)),
                          broadcast_strides(dims_of(residual), p.out_dims)});
      p.steps.push_back({OpKind::Add, {0, 1}});
      last = static_cast<int>(p.inputs.size() + p.steps.size()) - 1;
    }
    if (act) {
      EwStep s = activation_step(*act, n.attrs);
      s.operands = {last};
      p.steps.push_back(s);
    }
    if (p.steps.empty()) p.steps.push_back({OpKind::Identity, {0}});
    k.has_epilogue = true;
  }

  // Whether a conv's fused activation (KilnFusedConv's attribute) is none or ReLU; `relu`:
  // which.
  static bool conv_act_is_none_or_relu(const Node& n, bool* relu) {
    *relu = false;
    if (n.op != OpKind::KilnFusedConv) return true;
    const std::optional<OpKind> act =
        fused_activation_op(n.attrs.get_string("activation", ""), n.label());
    *relu = act.has_value();
    return !act || *act == OpKind::Relu;
  }

  // The 2-D convolution builtins' shape of a Conv-like node `n` (NCHW, static); none when the
  // node has no plain window (e.g. auto_pad shapes that are not resolved).
  static std::optional<KilnConv2dShape> conv2d_shape(const Node& n, const Value* x, const Value* w) {
    const Dims xd = dims_of(x), wd = dims_of(w);
    const ConvShape cs = conv_shape(n.attrs, x->type.shape, w->type.shape, n.label());
    if (!cs.window) return std::nullopt;
    const Window& win = *cs.window;
    const WindowAxis ah = window_axis(win, 0, xd[2], n.label());
    const WindowAxis aw = window_axis(win, 1, xd[3], n.label());
    return KilnConv2dShape{xd[0],           xd[1],           xd[2],         xd[3],        wd[0],
                           wd[2],           wd[3],           win.strides[0], win.strides[1],
                           ah.pad_begin,    aw.pad_begin,    ah.pad_end,    aw.pad_end,
                           win.dilations[0], win.dilations[1], cs.group};
  }

  // The shape of a conv the conv builtin runs (Conv or KilnFusedConv, f32 X and constant W,
  // a constant bias, an f32 residual if any), else none.
  static std::optional<KilnConv2dShape> builtin_conv_shape(const Node& n) {
    if (n.op != OpKind::Conv && n.op != OpKind::KilnFusedConv) return std::nullopt;
    const Value *x = n.input(0), *w = n.input(1), *b = n.input(2);
    const Value* z = n.op == OpKind::KilnFusedConv ? n.input(3) : nullptr;
    if (!is_f32(x) || !is_f32(w) || !w->is_constant() || (b && !b->is_constant()) ||
        x->type.shape.dims.size() != 4 || (z && !is_f32(z)))
      return std::nullopt;
    return conv2d_shape(n, x, w);
  }

  // The residual the builtin adds while storing Y (one of Y's shape, then at most a ReLU:
  // `relu` says whether), else null (then a generated epilogue adds it).
  static const Value* kernel_residual(const Node& n, bool* relu) {
    *relu = false;
    const Value* z = n.op == OpKind::KilnFusedConv ? n.input(3) : nullptr;
    if (!z || dims_of(z) != dims_of(n.output(0)) || !conv_act_is_none_or_relu(n, relu))
      return nullptr;
    return z;
  }

  // The conv builtin's weights argument: `weights` (W's rows for the shape `s`) packed at
  // compile time, as fp16 when W is.
  int conv_weights_arg(PlannedKernel& k, const Value* w, const KilnConv2dShape& s,
                       const float* weights) {
    const bool half_w = options_.half_weights.count(w) > 0;
    std::vector<uint8_t> packed(half_w ? kiln_conv2d_packed_weights_half_size(&s)
                                       : kiln_conv2d_packed_weights_size(&s));
    (half_w ? kiln_conv2d_pack_weights_half : kiln_conv2d_pack_weights)(&s, weights,
                                                                         packed.data());
    return add_arg(k, weight_arg(packed.data(), packed.size()));
  }

  // The conv builtin's parameters: the shape, then the flags (bit 0 ReLU, bit 1 residual).
  static std::vector<int64_t> conv_params(const KilnConv2dShape& s, int64_t flags) {
    return {s.N,        s.C,         s.H,          s.W,           s.M,        s.KH,
            s.KW,       s.stride_h,  s.stride_w,   s.pad_top,     s.pad_left, s.pad_bottom,
            s.pad_right, s.dilation_h, s.dilation_w, s.group,      flags};
  }

  bool lower_conv(const Node& n) {
    const std::optional<KilnConv2dShape> shape = builtin_conv_shape(n);
    if (!shape) return false;
    const KilnConv2dShape& s = *shape;
    const Value *x = n.input(0), *w = n.input(1), *b = n.input(2), *y = n.output(0);
    const Value* z = n.op == OpKind::KilnFusedConv ? n.input(3) : nullptr;
    PlannedKernel k = start(n, KernelKind::Conv2d);
    k.x = add_arg(k, value_arg(x));
    k.w = conv_weights_arg(k, w, s, w->constant->data<float>());
    if (b) k.bias = add_arg(k, value_arg(b));
    k.y = add_arg(k, value_arg(y));
    bool relu = false;
    int64_t residual_arg = -1;
    if (const Value* kz = kernel_residual(n, &relu)) {
      residual_arg = add_arg(k, value_arg(kz));  // the kernels add it while storing Y
    } else {
      fused_epilogue(n, k, z, &relu);
    }
    k.params = conv_params(s, (relu ? 1 : 0) | (residual_arg >= 0 ? 2 : 0));
    if (residual_arg >= 0) k.params.push_back(residual_arg);
    out_.kernels.push_back(std::move(k));
    return true;
  }

  // A 1x1 conv whose large output only feeds the depthwise conv right after it (MobileNet's
  // expansion -> depthwise) runs as interleaved channel groups: conv for
  // channels [m0, m1), then the depthwise conv of those channels while they are still in L2,
  // instead of the whole intermediate going out to L3 and back (4.8 MB at MobileNetV2's
  // features.2). Both are ordinary conv launches on channel slices of the same values.
  // Intermediates below kPairMinBytes run as is. 256 KiB takes in MobileNetV2's 28x28 blocks
  // (192 channels, 602 KB; 2 groups): 1 thread 2.0%, 2 threads 1.7% faster than with 1 MiB;
  // pairing its 14x14 blocks too (2 groups each) was 1.4% slower at 2 threads.
  static constexpr uint64_t kPairMinBytes = uint64_t{1} << 18;
  static constexpr uint64_t kPairGroupBytes = uint64_t{1} << 19;  // per group at most (or 16 ch)

  // Whether `n` is a plain f32 conv the slice lowering takes (constant weights and bias, no
  // residual, an activation of none / ReLU / one-input program), with its shape.
  std::optional<KilnConv2dShape> sliceable_conv(const Node& n) {
    const std::optional<KilnConv2dShape> s = builtin_conv_shape(n);
    if (!s || s->N != 1 || (n.op == OpKind::KilnFusedConv && n.input(3)) ||
        !is_f32(n.output(0)) || groups_.member_of.count(&n) || groups_.root_of.count(&n))
      return std::nullopt;
    return s;
  }

  // The residual of a conv that lower_conv gives the builtin's in-kernel residual, else null.
  static const Value* in_place_residual(const Node& n) {
    bool relu = false;
    if (!builtin_conv_shape(n) || !is_f32(n.output(0))) return nullptr;
    return kernel_residual(n, &relu);
  }

  // The channels per group when `a` then `b` run as an interleaved pair, else 0. Decided from
  // the graph alone (before the memory plan).
  int64_t pair_chunk(const Node& a, const Node& b) {
    const std::optional<KilnConv2dShape> sa = sliceable_conv(a), sb = sliceable_conv(b);
    // The first conv 1x1: a KxK conv (MobileNet's RGB stem) slowed down more on channel groups
    // than its depthwise reader gained.
    if (!sa || !sb || sa->group != 1 || sa->KH != 1 || sa->KW != 1) return 0;
    const Value* mid = a.output(0);
    if (b.input(0) != mid || mid->uses().size() != 1 || mid->is_constant()) return 0;
    for (const Value* o : g_.outputs)
      if (o == mid) return 0;
    if (!(sb->group == sb->C && sb->M == sb->C)) return 0;  // depthwise, multiplier 1
    if (bytes_of(mid) < kPairMinBytes) return 0;
    const Dims md = dims_of(mid);
    const int64_t per16 = 16 * md[2] * md[3] * static_cast<int64_t>(sizeof(float));
    const int64_t chunk = 16 * std::max<int64_t>(1, static_cast<int64_t>(kPairGroupBytes) / per16);
    if (chunk >= sa->M) return 0;
    // An even number of equal groups (rounded to 4 channels), so two threads get equal shares
    // of the chains: 144 channels in 6 groups of 24, not 5 of 32 (3 + 2 at 2 threads).
    int64_t groups = (sa->M + chunk - 1) / chunk;
    groups += groups % 2;
    return (sa->M + 4 * groups - 1) / (4 * groups) * 4;
  }

  // The groups are one launch section, a chain per group (conv then its depthwise slice): with
  // several threads, each runs whole groups on one core, so a depthwise slice reads only what
  // its own core wrote (split within each launch, the expansion's pixel ranges and the depthwise
  // planes fell on different cores: MobileNetV2's features.2 at 2 threads, 445 -> ~300 us).
  void lower_conv_depthwise_pair(const Node& a, const Node& b, int64_t chunk) {
    const KilnConv2dShape sa = *sliceable_conv(a), sb = *sliceable_conv(b);
    const uint32_t section = ++sections_;
    uint32_t chain = 0;
    for (int64_t m0 = 0; m0 < sa.M; m0 += chunk, ++chain) {
      const int64_t m1 = std::min(sa.M, m0 + chunk);
      lower_conv_channels(a, sa, m0, m1);
      lower_conv_channels(b, sb, m0, m1);
      for (size_t k = out_.kernels.size() - 2; k < out_.kernels.size(); ++k) {
        out_.kernels[k].section = section;
        out_.kernels[k].chain = chain;
      }
    }
  }

  static LaunchArg slice(LaunchArg a, uint64_t offset, uint64_t bytes) {
    a.offset += offset;
    a.bytes = bytes;
    return a;
  }

  // Output channels [m0, m1) of a sliceable conv (group 1: all input channels; depthwise: the
  // same input channels) as one Conv2d launch on slices of its values.
  void lower_conv_channels(const Node& n, const KilnConv2dShape& full, int64_t m0, int64_t m1) {
    const Value *x = n.input(0), *w = n.input(1), *b = n.input(2), *y = n.output(0);
    const bool depthwise = full.group > 1;
    KilnConv2dShape s = full;
    s.M = m1 - m0;
    if (depthwise) s.C = s.group = s.M;
    const int64_t oh = kiln_conv2d_output_height(&s), ow = kiln_conv2d_output_width(&s);
    const uint64_t f = sizeof(float), in_plane = static_cast<uint64_t>(s.H * s.W);
    const uint64_t out_plane = static_cast<uint64_t>(oh * ow), ch = static_cast<uint64_t>(s.M);
    PlannedKernel k = start(n, KernelKind::Conv2d);
    const LaunchArg xa = value_arg(x);
    k.x = add_arg(k, depthwise ? slice(xa, m0 * in_plane * f, ch * in_plane * f) : xa);
    const int64_t per_channel = (full.C / full.group) * s.KH * s.KW;
    k.w = conv_weights_arg(k, w, s, w->constant->data<float>() + m0 * per_channel);
    if (b) k.bias = add_arg(k, slice(value_arg(b), m0 * f, ch * f));
    k.y = add_arg(k, slice(value_arg(y), m0 * out_plane * f, ch * out_plane * f));
    bool relu = false;
    fused_epilogue(n, k, nullptr, &relu);
    if (k.has_epilogue) {  // an activation only: its one input is the slice itself
      k.program.out_dims = {1, s.M, oh, ow};
      k.program.inputs.at(0).strides = contiguous_strides(k.program.out_dims);
    }
    k.params = conv_params(s, relu ? 1 : 0);
    out_.kernels.push_back(std::move(k));
  }

  // Gemm / MatMul / KilnFusedMatMul with a constant 2-D B: one GEMM over all rows of A.
  bool lower_gemm_packed(const Node& n) {
    const Value *a = n.input(0), *bv = n.input(1), *y = n.output(0);
    if (!is_f32(a) || !is_f32(bv) || !bv->is_constant() || bv->type.shape.dims.size() != 2 ||
        a->type.shape.dims.size() < 2)
      return false;
    const Dims ad = dims_of(a), bd = dims_of(bv);
    int64_t trans_a = 0, trans_b = 0;
    float alpha = 1.0f;
    const Value* residual = nullptr;
    std::vector<float> bias;
    if (n.op == OpKind::Gemm) {
      trans_a = n.attrs.get_int("transA", 0);
      trans_b = n.attrs.get_int("transB", 0);
      alpha = n.attrs.get_float("alpha", 1.0f);
      const float beta = n.attrs.get_float("beta", 1.0f);
      if (const Value* c = n.input(2)) {
        const int64_t N = trans_b ? bd[0] : bd[1];
        if (!c->is_constant() || !is_f32(c)) return false;
        const int64_t cn = c->constant->numel();
        const Dims cd = dims_of(c);
        const bool row_vector = cn == N && (cd.size() == 1 || (cd.size() == 2 && cd[0] == 1));
        if (!row_vector && cn != 1) return false;
        const float* cp = c->constant->data<float>();
        bias.resize(static_cast<size_t>(N));
        for (int64_t j = 0; j < N; ++j) bias[static_cast<size_t>(j)] = beta * cp[cn == 1 ? 0 : j];
      }
    } else if (n.op == OpKind::KilnFusedMatMul) {
      trans_b = n.attrs.get_int("trans_b", 0);
      alpha = n.attrs.get_float("alpha", 1.0f);
      if (const Value* c = n.input(2)) {
        if (!c->is_constant() || !is_f32(c)) return false;
        bias.assign(c->constant->data<float>(), c->constant->data<float>() + c->constant->numel());
      }
      residual = n.input(3);
      if (residual && !is_f32(residual)) return false;
    }
    if (trans_a && ad.size() != 2) return false;
    const int64_t K = trans_b ? bd[1] : bd[0], N = trans_b ? bd[0] : bd[1];
    const int64_t M = trans_a ? ad[1] : checked_numel(ad) / ad.back();
    if ((trans_a ? ad[0] : ad.back()) != K) return false;
    PlannedKernel k = start(n, KernelKind::SgemmPackedB);
    k.x = add_arg(k, value_arg(a));
    const bool half_b = options_.half_weights.count(bv) > 0;
    std::vector<uint8_t> packed(half_b ? kiln_sgemm_packed_b_half_size(N, K)
                                       : kiln_sgemm_packed_b_size(N, K));
    (half_b ? kiln_sgemm_pack_b_half : kiln_sgemm_pack_b)(static_cast<int>(trans_b), N, K,
                                                          bv->constant->data<float>(),
                                                          trans_b ? K : N, packed.data());
    k.w = add_arg(k, weight_arg(packed.data(), packed.size()));
    if (!bias.empty()) k.bias = add_arg(k, weight_arg(bias.data(), bias.size() * sizeof(float)));
    k.y = add_arg(k, value_arg(y));
    bool relu = false;
    fused_epilogue(n, k, residual, &relu);
    k.params = {M, N, K, trans_a, relu ? 1 : 0,
                static_cast<int64_t>(std::bit_cast<uint32_t>(alpha))};
    out_.kernels.push_back(std::move(k));
    return true;
  }

  // KilnQConv with constant s8 weights, scales and bias: the int8 convolution builtin.
  bool lower_qconv(const Node& n) {
    const Value *x = n.input(0), *w = n.input(1), *ws = n.input(2), *b = n.input(3);
    const Value *z = n.input(4), *y = n.output(0);
    const auto u8 = [](const Value* v) { return v && v->type.dtype == DType::U8; };
    if (!(is_f32(x) || u8(x)) || !w->is_constant() || !ws->is_constant() ||
        (b && !b->is_constant()) || x->type.shape.dims.size() != 4)
      return false;
    const std::optional<KilnConv2dShape> shape = conv2d_shape(n, x, w);
    if (!shape) return false;
    const KilnConv2dShape& s = *shape;
    if (u8(x) || u8(y) || u8(z)) return lower_qconv_u8(n, s);
    PlannedKernel k = start_qconv(n, s);
    bool relu = false;
    fused_epilogue(n, k, z, &relu);
    const float x_scale = n.attrs.get_float("x_scale", 0.0f);
    k.params = {s.N,       s.C,        s.H,          s.W,           s.M,          s.KH,
                s.KW,      s.stride_h, s.stride_w,   s.pad_top,     s.pad_left,   s.pad_bottom,
                s.pad_right, s.dilation_h, s.dilation_w, s.group, relu ? 1 : 0,
                static_cast<int64_t>(std::bit_cast<uint32_t>(x_scale)),
                n.attrs.get_int("x_zero_point", 0)};
    out_.kernels.push_back(std::move(k));
    return true;
  }

  // A qconv2d kernel with X, the weights packed for `s` (s8 with their per-channel scales),
  // the bias if present, and Y.
  PlannedKernel start_qconv(const Node& n, const KilnConv2dShape& s) {
    const Value *w = n.input(1), *ws = n.input(2), *b = n.input(3);
    PlannedKernel k = start(n, KernelKind::QConv2d);
    k.x = add_arg(k, value_arg(n.input(0)));
    std::vector<uint8_t> packed(kiln_qconv2d_packed_weights_size(&s));
    kiln_qconv2d_pack_weights(&s, w->constant->data<int8_t>(), ws->constant->data<float>(),
                              packed.data());
    k.w = add_arg(k, weight_arg(packed.data(), packed.size()));
    if (b) k.bias = add_arg(k, value_arg(b));
    k.y = add_arg(k, value_arg(n.output(0)));
    return k;
  }

  // KilnQConv with a u8 input, output or residual: the qconv2d builtin's extended parameters
  // (kernel_abi.h); the residual and the activation (none, Relu or Clip) run in the kernel.
  bool lower_qconv_u8(const Node& n, const KilnConv2dShape& s) {
    const Value *x = n.input(0), *z = n.input(4), *y = n.output(0);
    float lo = -std::numeric_limits<float>::infinity(), hi = -lo;
    if (const std::optional<OpKind> act =
            fused_activation_op(n.attrs.get_string("activation", ""), n.label())) {
      if (*act == OpKind::Relu) {
        lo = 0.0f;
      } else if (*act == OpKind::Clip) {
        const ActivationCall call = fused_activation_call(*act, n.attrs);
        lo = call.attrs.get_float("min", lo);
        hi = call.attrs.get_float("max", hi);
      } else {
        return false;  // other activations: the reference kernel
      }
    }
    PlannedKernel k = start_qconv(n, s);
    const int64_t zi = z ? add_arg(k, value_arg(z)) : -1;
    const auto bits = [](float f) { return static_cast<int64_t>(std::bit_cast<uint32_t>(f)); };
    const auto is_u8 = [](const Value* v) { return v && v->type.dtype == DType::U8; };
    const int64_t flags = (is_u8(x) ? 1 : 0) | (is_u8(y) ? 2 : 0) | (is_u8(z) ? 4 : 0);
    k.params = {s.N,         s.C,          s.H,          s.W,          s.M,
                s.KH,        s.KW,         s.stride_h,   s.stride_w,   s.pad_top,
                s.pad_left,  s.pad_bottom, s.pad_right,  s.dilation_h, s.dilation_w,
                s.group,     2,            bits(n.attrs.get_float("x_scale", 0.0f)),
                n.attrs.get_int("x_zero_point", 0),  flags,
                bits(n.attrs.get_float("y_scale", 1.0f)), n.attrs.get_int("y_zero_point", 0), zi,
                bits(n.attrs.get_float("z_scale", 1.0f)), n.attrs.get_int("z_zero_point", 0),
                bits(lo),    bits(hi)};
    out_.kernels.push_back(std::move(k));
    return true;
  }

  // KilnQMatMul with constant s8 B [K, N]: one int8 GEMM over all rows of A.
  bool lower_qgemm(const Node& n) {
    const Value *a = n.input(0), *bv = n.input(1), *ws = n.input(2), *bias = n.input(3);
    const Value *z = n.input(4), *y = n.output(0);
    if (!is_f32(a) || !bv->is_constant() || !ws->is_constant() ||
        (bias && !bias->is_constant()) || bv->type.shape.dims.size() != 2 ||
        a->type.shape.dims.size() < 2)
      return false;
    const Dims ad = dims_of(a), bd = dims_of(bv);
    const int64_t K = bd[0], N = bd[1], M = checked_numel(ad) / ad.back();
    if (ad.back() != K) return false;
    PlannedKernel k = start(n, KernelKind::QGemmPackedB);
    k.x = add_arg(k, value_arg(a));
    std::vector<uint8_t> packed(kiln_qgemm_packed_b_size(N, K));
    kiln_qgemm_pack_b(0, N, K, bv->constant->data<int8_t>(), ws->constant->data<float>(),
                      packed.data());
    k.w = add_arg(k, weight_arg(packed.data(), packed.size()));
    if (bias) k.bias = add_arg(k, value_arg(bias));
    k.y = add_arg(k, value_arg(y));
    bool relu = false;
    fused_epilogue(n, k, z, &relu);
    // No x_scale attribute: dynamic quantization (the builtin reads scale 0 as "compute it").
    const float x_scale = n.attrs.get_float("x_scale", 0.0f);
    k.params = {M, N, K, relu ? 1 : 0, static_cast<int64_t>(std::bit_cast<uint32_t>(x_scale)),
                n.attrs.get_int("x_zero_point", 0)};
    out_.kernels.push_back(std::move(k));
    return true;
  }

  // MatMul of two computed f32 operands whose batch dims are equal or absent (attention).
  bool lower_matmul_batched(const Node& n) {
    const Value *a = n.input(0), *b = n.input(1), *y = n.output(0);
    if (!is_f32(a) || !is_f32(b) || a->type.shape.dims.size() < 2 ||
        b->type.shape.dims.size() < 2)
      return false;
    const Dims ad = dims_of(a), bd = dims_of(b), yd = dims_of(y);
    const int64_t M = ad[ad.size() - 2], K = ad.back(), N = bd.back();
    const int64_t batch = checked_numel(yd) / (M * N == 0 ? 1 : M * N);
    auto batch_stride = [&](const Dims& d, int64_t matrix) -> std::optional<int64_t> {
      const int64_t nb = checked_numel(d) / (matrix == 0 ? 1 : matrix);
      if (nb == 1) return 0;
      if (nb != batch) return std::nullopt;
      // Equal batch counts must also be equal batch shapes (no partial broadcasting).
      if (d.size() != yd.size()) return std::nullopt;
      for (size_t i = 0; i + 2 < d.size(); ++i)
        if (d[i] != yd[i]) return std::nullopt;
      return matrix;
    };
    const auto sa = batch_stride(ad, M * K), sb = batch_stride(bd, K * N);
    if (!sa || !sb || M * N == 0) return false;
    PlannedKernel k = start(n, KernelKind::SgemmBatched);
    add_arg(k, value_arg(a));
    add_arg(k, value_arg(b));
    add_arg(k, value_arg(y));
    k.params = {batch, M, N, K, 0, 0, *sa, *sb,
                static_cast<int64_t>(std::bit_cast<uint32_t>(1.0f))};
    out_.kernels.push_back(std::move(k));
    return true;
  }

  void lower_elementwise(const Node& root, const GroupSpec& spec) {
    PlannedKernel k = start(root, KernelKind::Elementwise);
    EwProgram& p = k.program;
    const Value* y = root.output(0);
    p.out_dims = dims_of(y);
    for (const Value* in : spec.inputs)
      p.inputs.push_back({add_arg(k, value_arg(in)), broadcast_strides(dims_of(in), p.out_dims),
                          in->type.dtype == DType::F16});
    p.out_buffer = add_arg(k, value_arg(y));
    p.out_half = y->type.dtype == DType::F16;
    p.steps = spec.steps;
    if (spec.nodes > 1) k.op = cat("Fused", spec.nodes, "(", k.op, ")");
    out_.kernels.push_back(std::move(k));
  }

  // A graph output that no node writes (it is a model input or a constant) is copied.
  void copy_passthrough_outputs() {
    for (const Value* v : g_.outputs) {
      if (v->producer()) continue;
      const launch::OpRecord rec = codegen::LaunchBuffers::output_copy_record(v);
      PlannedKernel k;
      k.kind = KernelKind::Op;
      k.symbol = cat("kiln_k", out_.kernels.size());
      k.node_name = rec.node_name;
      k.op = "Identity";
      add_arg(k, buffers_->record_arg(rec));
      add_arg(k, value_arg(v));  // the model input or the constant
      add_arg(k, buffers_->output_arg(v));
      out_.kernels.push_back(std::move(k));
    }
  }

  const Graph& g_;
  LowerOptions options_;
  ElementwiseGroups groups_;
  LoweredGraph out_;
  std::optional<codegen::LaunchBuffers> buffers_;  // once the memory plan exists
  std::unordered_map<const Node*, int64_t> pair_chunk_;  // first conv of a pair -> channels
  uint32_t sections_ = 0;                                 // launch sections so far
};

}  // namespace

LoweredGraph lower_graph(const Graph& g, const LowerOptions& options) {
  return Lowering(g, options).run();
}

}  // namespace kiln::cpu_codegen
