// The pass interface: a pass has a stable name (its registry key, passes/passes.def) and
// rewrites a Graph in place, returning whether it changed anything.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

class Graph;

// What one pass run changed, one line per kind of change ("folded 3 nodes"), and the net
// effect the pass manager measured: nodes removed and constant (parameter) bytes saved, each
// negative when the pass added some. Feeds kilnc opt's output and the compile report.
struct PassReport {
  std::string pass;
  std::vector<std::string> changes;
  int64_t nodes_removed = 0;
  int64_t bytes_saved = 0;
};

struct PassContext {
  int opt_level = 0;
  bool verify_after_each = false;             // verify_graph + type consistency after every pass
  bool print_after_all = false;               // dump the IR after every pass
  std::set<std::string, std::less<>> print_after;  // dump the IR after these passes only
  std::ostream* dump = nullptr;               // where dumps go; nullptr = std::cerr
  // Constant folding does not materialize a result larger than this unless it is no larger than
  // the constants it replaces (so ConstantOfShape/Expand/Tile cannot blow up the model).
  int64_t max_folded_bytes = int64_t{4} << 20;
  // The prune-* passes' parameters (kilnc --prune, passes/prune_spec.h); "" = their defaults.
  std::string prune_spec;
  // convert-fp16: op names kept in fp32 on top of the op table's Never policy (--fp16-block),
  // and whether model inputs/outputs stay fp32 (Casts at the boundary) or become fp16.
  std::set<std::string, std::less<>> fp16_block_ops;
  bool fp16_keep_io_fp32 = true;
  // quantize-int8: the calibration inputs (kilnc --calib-data, a folder of .npy files, see
  // passes/calibration_data.h) and the range method (--calib-method: minmax, percentile, entropy).
  std::string calib_data_dir;
  std::string calib_method = "minmax";
  std::vector<PassReport> report;

  // Appends a change line to `pass`'s entry (a new entry unless the last one is that pass's).
  void note(std::string_view pass, std::string line);
  // Adds the measured net effect of a run of `pass` to its entry (the same entry rule).
  void account(std::string_view pass, int64_t nodes_removed, int64_t bytes_saved);
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;
  virtual bool run(Graph& g, PassContext& ctx) = 0;  // true = the graph changed
};

}  // namespace kiln
