#include "codegen/launch_buffers.h"

#include <cstring>

#include "runtime/kernels/launch/builtins.h"

namespace kiln::codegen {

using artifact::BufferKind;
using artifact::LaunchArg;

Dims static_dims_of(const Value* v) { return v->type.shape.static_dims(); }

uint64_t static_bytes_of(const Value* v) {
  return static_cast<uint64_t>(checked_numel(static_dims_of(v))) * dtype_size(v->type.dtype);
}

LaunchBuffers::LaunchBuffers(const Graph& g, const MemoryPlan& plan, std::vector<uint8_t>& weights)
    : plan_(plan), weights_(weights) {
  for (size_t i = 0; i < g.inputs.size(); ++i) input_index_[g.inputs[i]] = i;
  for (size_t i = 0; i < g.outputs.size(); ++i) output_index_[g.outputs[i]] = i;
}

uint64_t LaunchBuffers::add_weight(const void* data, size_t bytes) {
  const uint64_t off = (weights_.size() + 63) / 64 * 64;
  weights_.resize(off + bytes);
  if (bytes) std::memcpy(weights_.data() + off, data, bytes);
  return off;
}

LaunchArg LaunchBuffers::weight_arg(const void* data, size_t bytes) {
  return {BufferKind::Weights, 0, add_weight(data, bytes), bytes};
}

LaunchArg LaunchBuffers::value_arg(const Value* v) {
  const uint64_t bytes = static_bytes_of(v);
  if (v->is_constant()) {
    auto it = constant_offset_.find(v);
    if (it == constant_offset_.end())
      it = constant_offset_.emplace(v, add_weight(v->constant->raw(), bytes)).first;
    return {BufferKind::Weights, 0, it->second, bytes};
  }
  if (auto it = input_index_.find(v); it != input_index_.end())
    return {BufferKind::Input, static_cast<uint32_t>(it->second), 0, bytes};
  if (auto it = output_index_.find(v); it != output_index_.end())
    return {BufferKind::Output, static_cast<uint32_t>(it->second), 0, bytes};
  return {BufferKind::Arena, 0, plan_.slot(v).offset, bytes};
}

LaunchArg LaunchBuffers::output_arg(const Value* v) const {
  return {BufferKind::Output, static_cast<uint32_t>(output_index_.at(v)), 0, static_bytes_of(v)};
}

LaunchArg LaunchBuffers::record_arg(const launch::OpRecord& rec) {
  const std::vector<uint8_t> bytes = launch::encode_op_record(rec);
  std::vector<uint8_t> blob(launch::kOpRecordPrefixBytes + bytes.size());
  const uint64_t size = bytes.size();
  std::memcpy(blob.data(), &size, sizeof size);
  std::memcpy(blob.data() + launch::kOpRecordPrefixBytes, bytes.data(), bytes.size());
  return weight_arg(blob.data(), blob.size());
}

launch::OpRecord LaunchBuffers::node_record(const Node& n, std::vector<LaunchArg>& buffers) {
  launch::OpRecord rec;
  rec.op = n.op;
  rec.opset = n.opset;
  rec.node_name = n.name;
  rec.attrs = n.attrs;
  auto describe = [&](const Value* v, std::vector<launch::OpRecordTensor>& out) {
    out.push_back(v ? launch::OpRecordTensor{true, v->type.dtype, static_dims_of(v)}
                    : launch::OpRecordTensor{});
    if (v) buffers.push_back(value_arg(v));
  };
  for (const Value* v : n.inputs()) describe(v, rec.inputs);
  for (const Value* v : n.outputs()) describe(v, rec.outputs);
  return rec;
}

launch::OpRecord LaunchBuffers::output_copy_record(const Value* v) {
  launch::OpRecord rec;
  rec.op = OpKind::Identity;
  rec.opset = 21;
  rec.node_name = cat("copy to output '", v->name(), "'");
  rec.inputs.push_back({true, v->type.dtype, static_dims_of(v)});
  rec.outputs.push_back({true, v->type.dtype, static_dims_of(v)});
  return rec;
}

}  // namespace kiln::codegen
