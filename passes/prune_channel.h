// Structured channel pruning: find the groups of output channels that can be removed together
// (a Conv/Gemm/MatMul's channels, joined through per-channel ops and residual adds with the
// other producers that must agree), rank each group's channels by weight norm, and either
// remove the weakest (the model shrinks) or zero them in place (the reference that the removal
// is checked against: both give the same outputs to float rounding).
//
// A group is prunable only when every op its channels flow through maps a zero channel to a
// zero channel (Relu, Clip with min <= 0 <= max, BatchNormalization, depthwise Conv, pooling,
// Add/Sub/Mul of group members or per-channel constants, ...) and it ends in consumers whose
// input channels can be cut (Conv input channels, Gemm/MatMul rows, also after Flatten).
// A group reaching a graph output, Concat, Softmax, Sigmoid or any other op stays whole and
// the plan says why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln {

// A constant sliced along `axis` by channel: elements [c*block, (c+1)*block) belong to
// channel c (block > 1 after a Flatten: one channel is H*W features).
struct ChannelSite {
  std::string value;
  int axis = 0;
  int64_t block = 1;
  bool zero_in_reference = false;  // zeroing the slice zeroes the channel (producer side)
  bool score = false;              // a producer's weights: the channel's importance
};

struct ChannelGroup {
  int64_t channels = 0;
  std::vector<std::string> producers;  // labels of the Conv/Gemm/MatMul nodes writing them
  std::vector<ChannelSite> sites;
  std::vector<std::string> depthwise;  // outputs of depthwise Convs whose `group` follows
  std::string unprunable;              // why the group stays whole; "" = prunable
  std::vector<int64_t> keep;           // kept channels, ascending (all when unprunable)
};

struct ChannelPlan {
  std::vector<ChannelGroup> groups;
};

// Groups of `g` (topologically sorted, types inferred) with the fraction `ratio` of each
// prunable group's channels, lowest L1 (or L2) norm first, marked for removal.
ChannelPlan plan_channel_pruning(const Graph& g, double ratio, bool l2);

enum class ChannelApply { Remove, Zero };

// Applies `plan` (made on `g` or on an identical copy: it refers to values by name). Remove
// slices every site and re-infers shapes; Zero only zeroes the producer-side slices.
void apply_channel_plan(Graph& g, const ChannelPlan& plan, ChannelApply how);

}  // namespace kiln
