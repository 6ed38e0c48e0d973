// Pieces of kiln-run shared by the one-device run (main.cpp) and the batch split across
// devices (multi_device.cpp): inputs, outputs, comparison.
#pragma once

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ir/tensor.h"
#include "kiln/kiln.h"
#include "tools/kiln-run/latency_stats.h"
#include "tools/kiln-run/run_options.h"

namespace kiln::tools {

inline constexpr int kExitError = 1, kExitUsage = 2, kExitMismatch = 3;

Dims dims_of(const kiln_tensor_info& info);
Tensor random_tensor(const kiln_tensor_info& info, std::mt19937_64& rng);
double elapsed_ms(std::chrono::steady_clock::time_point since);

// The --input files (and --random-inputs for the rest) for inputs `infos`; fails naming any
// input left without data.
std::map<std::string, Tensor> gather_inputs(const RunOptions& o,
                                            const std::vector<kiln_tensor_info>& infos);

// Writes (--output-dir) or prints every output, compares with --expected; returns 0 or
// kExitMismatch.
int report_outputs(const RunOptions& o, const std::map<std::string, Tensor>& outputs,
                   const std::vector<std::string>& output_names);

// "mean ..., p50 ..." and, last, "latency_ms: p50=X p90=Y p99=Z" (scripts read it).
void print_bench(const LatencyStats& s);
void print_latency_line(const LatencyStats& s);

}  // namespace kiln::tools
