// An op record: everything the runtime needs to run one node through its kernel library, written
// by codegen into the artifact's WEIGHTS section and read back by the `op` builtin at run time
// (kiln/kernel_abi.h). The op is stored by name, not by enum value, so reordering ops.def cannot
// silently change what an old artifact runs; a name this runtime does not know is refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/attribute.h"
#include "ir/op_kind.h"
#include "ir/value_type.h"

namespace kiln::launch {

struct OpRecordTensor {
  bool present = false;  // false: an absent optional input / an unused optional output
  DType dtype = DType::Undefined;
  Dims dims;
};

struct OpRecord {
  OpKind op = OpKind::Identity;
  int opset = 0;
  std::string node_name;
  Attributes attrs;
  std::vector<OpRecordTensor> inputs;
  std::vector<OpRecordTensor> outputs;

  size_t present_inputs() const;
  size_t present_outputs() const;
};

// Fails (kiln::Unsupported) for attributes a record cannot carry (subgraphs).
std::vector<uint8_t> encode_op_record(const OpRecord& record);
// Validates everything (bounds, dtypes, dims, known op); fails with one line naming `what`.
OpRecord decode_op_record(const uint8_t* data, uint64_t size, const std::string& what);

}  // namespace kiln::launch
