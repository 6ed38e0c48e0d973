// prune-channel: structured channel pruning (the plan is made in channel_groups.cpp). Removes
// the fraction R of every prunable group's output channels: the producers' weight rows and
// biases, the BatchNorm statistics, depthwise filters and per-channel constants along the way,
// and the matching input channels of every consumer (Conv input channels, Gemm/MatMul rows,
// H*W rows per channel after a Flatten). The model really shrinks: smaller weights, smaller
// activations, fewer FLOPs.
#include <cstdio>
#include <cstring>

#include "ir/infer.h"
#include "passes/pass.h"
#include "passes/prune_channel.h"
#include "passes/prune_spec.h"
#include "passes/registry.h"

namespace kiln {
namespace {

struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};

AxisView view(const Dims& d, int axis) {
  AxisView v;
  for (int i = 0; i < axis; ++i) v.outer *= d[static_cast<size_t>(i)];
  v.n = d[static_cast<size_t>(axis)];
  for (size_t i = static_cast<size_t>(axis) + 1; i < d.size(); ++i) v.inner *= d[i];
  return v;
}

// The slices [c*block, (c+1)*block) along `axis` for the channels in `keep`, in order.
Tensor take_channels(const Tensor& t, int axis, int64_t block, const std::vector<int64_t>& keep) {
  const AxisView v = view(t.dims(), axis);
  Dims dims = t.dims();
  dims[static_cast<size_t>(axis)] = static_cast<int64_t>(keep.size()) * block;
  Tensor out(t.dtype(), dims);
  const size_t row = static_cast<size_t>(block * v.inner) * dtype_size(t.dtype());
  const auto* src = static_cast<const uint8_t*>(t.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t k : keep) {
      std::memcpy(dst, src + static_cast<size_t>((o * v.n + k * block) * v.inner) * dtype_size(t.dtype()), row);
      dst += row;
    }
  return out;
}

void zero_channels(Tensor& t, int axis, int64_t block, const std::vector<bool>& kept) {
  const AxisView v = view(t.dims(), axis);
  const size_t row = static_cast<size_t>(block * v.inner) * dtype_size(t.dtype());
  auto* p = static_cast<uint8_t*>(t.raw());
  for (int64_t o = 0; o < v.outer; ++o)
    for (size_t k = 0; k < kept.size(); ++k)
      if (!kept[k])
        std::memset(p + static_cast<size_t>((o * v.n + static_cast<int64_t>(k) * block) * v.inner) * dtype_size(t.dtype()), 0, row);
}

class PruneChannel : public Pass {
 public:
  std::string_view name() const override { return "prune-channel"; }

  bool run(Graph& g, PassContext& ctx) override {
    const PruneSpec spec = prune_spec_for_pass(ctx.prune_spec, PruneKind::Channel);
    const int64_t params_before = g.num_parameters();
    g.topo_sort();
    const ChannelPlan plan = plan_channel_pruning(g, spec.ratio, spec.l2);
    int64_t total = 0, removed = 0, pruned_groups = 0;
    std::vector<const ChannelGroup*> whole;
    for (const ChannelGroup& grp : plan.groups) {
      total += grp.channels;
      const int64_t r = grp.channels - static_cast<int64_t>(grp.keep.size());
      removed += r;
      pruned_groups += r > 0;
      if (!grp.unprunable.empty()) whole.push_back(&grp);
    }
    if (removed > 0) apply_channel_plan(g, plan, ChannelApply::Remove);
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", total ? 100.0 * static_cast<double>(removed) / static_cast<double>(total) : 0.0);
    ctx.note(name(), cat("removed ", removed, " of ", total, " output channels (", pct, ") in ",
                         pruned_groups, " of ", plan.groups.size(), " channel groups; params ",
                         params_before, " -> ", g.num_parameters()));
    for (const ChannelGroup* grp : whole) {
      ctx.note(name(), cat("kept whole: ", grp->producers.front(),
                           grp->producers.size() > 1 ? cat(" (+", grp->producers.size() - 1, " joined)") : "",
                           ", ", grp->channels, " channels: ", grp->unprunable));
    }
    return removed > 0;
  }
};

}  // namespace

void apply_channel_plan(Graph& g, const ChannelPlan& plan, ChannelApply how) {
  for (const ChannelGroup& grp : plan.groups) {
    if (static_cast<int64_t>(grp.keep.size()) == grp.channels) continue;
    std::vector<bool> kept(static_cast<size_t>(grp.channels), false);
    for (int64_t k : grp.keep) kept[static_cast<size_t>(k)] = true;
    for (const ChannelSite& st : grp.sites) {
      Value* v = g.find_value(st.value);
      KILN_CHECK(v && v->constant, "prune-channel: constant '", st.value, "' is not in the graph");
      KILN_CHECK(v->constant->dim(st.axis) == grp.channels * st.block, "prune-channel: '", st.value,
                 "' is ", v->constant->describe(), ", expected ", grp.channels * st.block,
                 " along axis ", st.axis);
      if (how == ChannelApply::Remove) {
        v->constant = take_channels(*v->constant, st.axis, st.block, grp.keep);
        v->type.shape = Shape::of(v->constant->dims());
      } else if (st.zero_in_reference) {
        Tensor t = v->constant->clone();  // the old bytes may be shared with a copy
        zero_channels(t, st.axis, st.block, kept);
        v->constant = std::move(t);
      }
    }
    if (how == ChannelApply::Remove) {
      for (const std::string& out : grp.depthwise) {
        Value* v = g.find_value(out);
        KILN_CHECK(v && v->producer(), "prune-channel: depthwise output '", out, "' is not in the graph");
        v->producer()->attrs.set("group", Attribute::of_int(static_cast<int64_t>(grp.keep.size())));
      }
    }
  }
  if (how == ChannelApply::Remove) infer_shapes(g);
}

std::unique_ptr<Pass> create_prune_channel() { return std::make_unique<PruneChannel>(); }

}  // namespace kiln
