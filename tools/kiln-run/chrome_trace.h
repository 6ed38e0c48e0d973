// Per-kernel timings as Chrome trace JSON (chrome://tracing, Perfetto): one complete ("X")
// event per launch, in microseconds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kiln::tools {

struct TraceEvent {
  std::string name;  // the node
  std::string op;    // its op type, the event category
  std::string symbol;
  uint64_t start_ns = 0;
  uint64_t duration_ns = 0;
};

std::string chrome_trace_json(const std::vector<TraceEvent>& events);
// Writes atomically; fails naming the path.
void write_chrome_trace(const std::filesystem::path& path, const std::vector<TraceEvent>& events);

}  // namespace kiln::tools
