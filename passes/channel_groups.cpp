// plan_channel_pruning: the analysis half of structured channel pruning (prune_channel.h).
// Walks the graph in topological order, giving every Conv/Gemm/MatMul output with constant
// weights a channel space, carrying the space through zero-preserving per-channel ops, and
// uniting the spaces that an elementwise op joins (residual adds). Whatever reads a space in
// a way the rewiring cannot follow marks it unprunable.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "passes/pattern_util.h"
#include "passes/prune_channel.h"

namespace kiln {
namespace {

// How a value's elements map to a space's channels: along `axis`, `block` elements each.
struct Tag {
  int space = -1;
  int axis = 1;
  int64_t block = 1;
};

class Planner {
 public:
  explicit Planner(const Graph& g) : g_(g) {}

  ChannelPlan plan(double ratio, bool l2) {
    for (const auto& n : g_.nodes()) visit(*n);
    for (const Value* v : g_.outputs) {
      auto it = tags_.find(v);
      if (it != tags_.end()) bad(it->second.space, cat("'", v->name(), "' is a graph output"));
    }
    ChannelPlan plan;
    for (size_t s = 0; s < spaces_.size(); ++s) {
      if (find(static_cast<int>(s)) != static_cast<int>(s)) continue;
      ChannelGroup grp = std::move(spaces_[s]);
      grp.keep.resize(static_cast<size_t>(grp.channels));
      std::iota(grp.keep.begin(), grp.keep.end(), 0);
      if (grp.unprunable.empty()) choose(grp, ratio, l2);
      plan.groups.push_back(std::move(grp));
    }
    return plan;
  }

 private:
  int find(int s) {
    while (parent_[static_cast<size_t>(s)] != s) s = parent_[static_cast<size_t>(s)];
    return s;
  }
  ChannelGroup& group(int s) { return spaces_[static_cast<size_t>(find(s))]; }
  void bad(int s, const std::string& why) {
    ChannelGroup& g = group(s);
    if (g.unprunable.empty()) g.unprunable = why;
  }
  int new_space(int64_t channels, const Node& producer) {
    ChannelGroup g;
    g.channels = channels;
    g.producers.push_back(producer.name.empty() ? producer.output(0)->name() : producer.name);
    spaces_.push_back(std::move(g));
    parent_.push_back(static_cast<int>(parent_.size()));
    return parent_.back();
  }
  void unite(int a, int b, const Node& n) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    ChannelGroup& ga = spaces_[static_cast<size_t>(a)];
    ChannelGroup& gb = spaces_[static_cast<size_t>(b)];
    if (ga.channels != gb.channels && ga.unprunable.empty())
      ga.unprunable = cat(n.label(), " joins ", ga.channels, " and ", gb.channels, " channels");
    if (ga.unprunable.empty()) ga.unprunable = gb.unprunable;
    for (auto& x : gb.producers) ga.producers.push_back(std::move(x));
    for (auto& x : gb.sites) ga.sites.push_back(std::move(x));
    for (auto& x : gb.depthwise) ga.depthwise.push_back(std::move(x));
    parent_[static_cast<size_t>(b)] = a;
  }
  void tag(const Value* v, Tag t) {
    t.space = find(t.space);
    tags_[v] = t;
  }
  const Tag* tag_of(const Value* v) const {
    auto it = tags_.find(v);
    return it == tags_.end() ? nullptr : &it->second;
  }
  void site(int s, const Value* v, int axis, int64_t block, bool zero, bool score = false) {
    group(s).sites.push_back({v->name(), axis, block, zero, score});
  }

  // A constant only this node reads, so slicing it changes nothing else.
  const Tensor* own_constant(const Value* v) const {
    const Tensor* t = constant_tensor(g_, v);
    if (!t || v->uses().size() != 1 || is_graph_output(g_, v)) return nullptr;
    return t;
  }
  static bool is_float(const Tensor* t) { return t && t->dtype() == DType::F32; }
  bool unused(const Value* v) const { return !v || (v->uses().empty() && !is_graph_output(g_, v)); }

  void visit(const Node& n) {
    // The node's role as a reader of tagged values.
    std::vector<size_t> tagged;
    for (size_t i = 0; i < n.inputs().size(); ++i)
      if (n.input(i) && tag_of(n.input(i))) tagged.push_back(i);
    bool passes_through = false;
    if (!tagged.empty()) passes_through = read(n, tagged);
    if (!passes_through) produce(n);
  }

  // Handles a node reading tagged inputs; true when its output carries the channels on.
  bool read(const Node& n, const std::vector<size_t>& tagged) {
    const Tag t = *tag_of(n.input(tagged[0]));
    const int s = t.space;
    auto reject = [&](const std::string& why) {
      for (size_t i : tagged) bad(tag_of(n.input(i))->space, why);
      return false;
    };
    const std::string read_by = cat("read by ", n.label());
    const bool first_only = tagged.size() == 1 && tagged[0] == 0;
    switch (n.op) {
      case OpKind::Conv: {
        const Tensor* w = own_constant(n.input(1));
        const int64_t groups = n.attrs.get_int("group", 1);
        if (!first_only || t.axis != 1 || t.block != 1 || !is_float(w)) return reject(read_by);
        if (groups == 1) {
          site(s, n.input(1), 1, 1, false);
          return false;  // may also produce channels of its own
        }
        const Tensor* b = own_constant(n.input(2));
        if (groups != group_channels(s) || w->dim(0) != groups || w->dim(1) != 1 ||
            (n.input(2) && !is_float(b)))
          return reject(cat(read_by, " (grouped, not depthwise)"));
        site(s, n.input(1), 0, 1, true);
        if (b) site(s, n.input(2), 0, 1, true);
        group(s).depthwise.push_back(n.output(0)->name());
        tag(n.output(0), t);
        return true;
      }
      case OpKind::BatchNormalization: {
        if (!first_only || t.axis != 1 || n.attrs.get_int("training_mode", 0) != 0)
          return reject(read_by);
        for (size_t i = 1; i < n.outputs().size(); ++i)
          if (!unused(n.output(i))) return reject(read_by);
        for (size_t i = 1; i <= 4; ++i) {
          const Tensor* p = own_constant(n.input(i));
          if (!is_float(p) || p->rank() != 1 || p->numel() != group_channels(s))
            return reject(cat(read_by, " (statistics not own constants)"));
        }
        for (size_t i = 1; i <= 4; ++i) site(s, n.input(i), 0, t.block, i <= 2);
        tag(n.output(0), t);
        return true;
      }
      case OpKind::Relu: case OpKind::LeakyRelu: case OpKind::HardSwish: case OpKind::Gelu:
      case OpKind::Tanh: case OpKind::Identity: case OpKind::Neg: case OpKind::Abs:
      case OpKind::Elu: case OpKind::Selu: case OpKind::Softsign: case OpKind::Dropout:
      case OpKind::Clip: {
        if (!first_only) return reject(read_by);
        if (n.op == OpKind::Dropout && !unused(n.output(1))) return reject(read_by);
        if (n.op == OpKind::Clip && !clip_keeps_zero(n)) return reject(cat(read_by, " (0 not in range)"));
        tag(n.output(0), t);
        return true;
      }
      case OpKind::MaxPool: case OpKind::AveragePool: case OpKind::GlobalAveragePool:
      case OpKind::GlobalMaxPool: {
        if (!first_only || t.axis != 1 || t.block != 1 || !unused(n.output(1))) return reject(read_by);
        tag(n.output(0), t);
        return true;
      }
      case OpKind::Flatten: case OpKind::Reshape: {
        const Shape& in = n.input(0)->type.shape;
        // The batch dim may be symbolic; the per-channel block needs the others.
        bool inner_static = in.rank_known && in.rank() >= 2;
        for (size_t i = 1; inner_static && i < in.rank(); ++i) inner_static = in.dims[i].is_static();
        if (!first_only || t.axis != 1 || !inner_static) return reject(read_by);
        if (n.op == OpKind::Flatten && n.attrs.get_int("axis", 1) != 1) return reject(read_by);
        if (n.op == OpKind::Reshape) {
          const auto shape = constant_ints(g_, n.input(1));
          if (!shape || shape->size() != 2 || (*shape)[1] != -1 ||
              ((*shape)[0] != 0 && (!in.dims[0].is_static() || (*shape)[0] != in.dims[0].value)))
            return reject(cat(read_by, " (only [N, -1] follows the channels)"));
        }
        int64_t spatial = 1;
        for (size_t i = 2; i < in.rank(); ++i) spatial *= in.dims[i].value;
        tag(n.output(0), Tag{s, 1, t.block * spatial});
        return true;
      }
      case OpKind::Gemm: case OpKind::MatMul: {
        const Tensor* w = own_constant(n.input(1));
        const Shape& in = n.input(0)->type.shape;
        const bool trans_a = n.op == OpKind::Gemm && n.attrs.get_int("transA", 0) != 0;
        if (!first_only || trans_a || !is_float(w) || w->rank() != 2 || !in.rank_known ||
            t.axis != static_cast<int>(in.rank()) - 1)
          return reject(read_by);
        const bool trans_b = n.op == OpKind::Gemm && n.attrs.get_int("transB", 0) != 0;
        site(s, n.input(1), trans_b ? 1 : 0, t.block, false);
        return false;
      }
      case OpKind::Add: case OpKind::Sub: case OpKind::Mul:
        return elementwise(n, tagged, reject, read_by);
      default:
        return reject(read_by);
    }
  }

  template <typename Reject>
  bool elementwise(const Node& n, const std::vector<size_t>& tagged, Reject& reject,
                   const std::string& read_by) {
    const Shape& out = n.output(0)->type.shape;
    if (!out.rank_known || n.inputs().size() != 2) return reject(read_by);
    const int rank = static_cast<int>(out.rank());
    auto out_axis = [&](size_t i) {
      return tag_of(n.input(i))->axis + rank - static_cast<int>(n.input(i)->type.shape.rank());
    };
    const Tag t0 = *tag_of(n.input(tagged[0]));
    const int axis = out_axis(tagged[0]);
    if (tagged.size() == 2) {
      const Tag t1 = *tag_of(n.input(1));
      if (out_axis(1) != axis || t1.block != t0.block ||
          !(n.input(0)->type.shape == out) || !(n.input(1)->type.shape == out))
        return reject(cat(read_by, " (operands laid out differently)"));
      unite(t0.space, t1.space, n);
      tag(n.output(0), Tag{t0.space, axis, t0.block});
      return true;
    }
    const Value* other = n.input(1 - tagged[0]);
    const Tensor* c = constant_tensor(g_, other);
    if (!c) return reject(cat(read_by, " with '", other->name(), "', which is not pruned alike"));
    const int c_axis = axis - (rank - static_cast<int>(c->rank()));
    const bool uniform = c_axis < 0 || c->dim(c_axis) == 1;
    if (uniform) {
      // x * k keeps zeros; x + k does not, unless k is 0.
      if (n.op != OpKind::Mul) {
        for (int64_t i = 0; i < c->numel(); ++i)
          if (c->as_double(i) != 0.0) return reject(cat(read_by, " (adds a constant to every channel)"));
      }
    } else {
      if (!own_constant(other) || !is_float(c) || c->dim(c_axis) != group_channels(t0.space) * t0.block)
        return reject(cat(read_by, " (constant not per channel)"));
      site(t0.space, other, c_axis, t0.block, n.op != OpKind::Mul);
    }
    tag(n.output(0), Tag{t0.space, axis, t0.block});
    return true;
  }

  bool clip_keeps_zero(const Node& n) const {
    double lo = -1, hi = 1;
    if (n.opset < 11) {
      lo = n.attrs.get_float("min", -1.0f);
      hi = n.attrs.get_float("max", 1.0f);
    } else {
      if (n.input(1)) {
        const auto v = scalar_constant(g_, n.input(1));
        if (!v) return false;
        lo = *v;
      }
      if (n.input(2)) {
        const auto v = scalar_constant(g_, n.input(2));
        if (!v) return false;
        hi = *v;
      }
    }
    return lo <= 0 && hi >= 0;
  }

  int64_t group_channels(int s) { return group(s).channels; }

  // Starts a space at a Conv (group 1), Gemm or MatMul with weights of its own.
  void produce(const Node& n) {
    const Value* out = n.output(0);
    if (!out || !out->type.shape.rank_known) return;
    const Tensor* w = own_constant(n.input(1));
    if (!is_float(w)) return;
    if (n.op == OpKind::Conv) {
      const Tensor* b = own_constant(n.input(2));
      if (n.attrs.get_int("group", 1) != 1 || w->rank() < 3 || (n.input(2) && !is_float(b))) return;
      const int s = new_space(w->dim(0), n);
      site(s, n.input(1), 0, 1, true, true);
      if (b) site(s, n.input(2), 0, 1, true);
      tag(out, Tag{s, 1, 1});
    } else if (n.op == OpKind::Gemm || n.op == OpKind::MatMul) {
      if (w->rank() != 2 || out->type.shape.rank() < 2) return;
      const bool trans_b = n.op == OpKind::Gemm && n.attrs.get_int("transB", 0) != 0;
      const int64_t channels = trans_b ? w->dim(0) : w->dim(1);
      const Value* c_in = n.op == OpKind::Gemm ? n.input(2) : nullptr;
      const Tensor* c = own_constant(c_in);
      // A bias shared by all columns cannot be cut per channel.
      if (c_in && (!is_float(c) || c->rank() < 1 || c->dims().back() != channels ||
                   (c->rank() == 2 && c->dim(0) != 1)))
        return;
      const int s = new_space(channels, n);
      site(s, n.input(1), trans_b ? 0 : 1, 1, true, true);
      if (c) site(s, c_in, static_cast<int>(c->rank()) - 1, 1, true);
      tag(out, Tag{s, static_cast<int>(out->type.shape.rank()) - 1, 1});
    }
  }

  // Keeps the channels with the largest summed weight norm over the group's producers.
  void choose(ChannelGroup& grp, double ratio, bool l2) {
    const int64_t c = grp.channels;
    const int64_t keep = std::clamp<int64_t>(c - std::llround(ratio * static_cast<double>(c)), 1, c);
    std::vector<double> score(static_cast<size_t>(c), 0.0);
    for (const ChannelSite& st : grp.sites) {
      if (!st.score) continue;
      const Tensor& t = *g_.find_value(st.value)->constant;
      const Dims& d = t.dims();
      int64_t outer = 1, inner = 1;
      for (int i = 0; i < st.axis; ++i) outer *= d[static_cast<size_t>(i)];
      for (size_t i = static_cast<size_t>(st.axis) + 1; i < d.size(); ++i) inner *= d[i];
      const float* p = t.data<float>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < c; ++k)
          for (int64_t i = 0; i < inner; ++i) {
            const double v = p[(o * c + k) * inner + i];
            score[static_cast<size_t>(k)] += l2 ? v * v : std::fabs(v);
          }
    }
    std::vector<int64_t> order(static_cast<size_t>(c));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)];
    });
    grp.keep.assign(order.begin(), order.begin() + keep);
    std::sort(grp.keep.begin(), grp.keep.end());
  }

  const Graph& g_;
  std::vector<ChannelGroup> spaces_;
  std::vector<int> parent_;
  std::map<const Value*, Tag> tags_;
};

}  // namespace

ChannelPlan plan_channel_pruning(const Graph& g, double ratio, bool l2) {
  return Planner(g).plan(ratio, l2);
}

}  // namespace kiln
