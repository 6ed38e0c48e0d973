// kiln-run's command line: what to run, with which inputs, what to compare, time and write.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::tools {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;    // FILE or NAME=FILE
  std::vector<std::string> expected;  // FILE or NAME=FILE, against outputs
  std::string output_dir;
  std::string profile_path;
  bool random_inputs = false;
  uint64_t seed = 0;
  double rtol = 1e-4, atol = 1e-5;
  int32_t threads = 0;
  int64_t bench_runs = 0, warmup_runs = 0;
  std::string device;                    // --device: "", "auto", "cpu" or "opencl"
  std::vector<std::string> devices;      // --devices cpu,opencl: split the batch across them
  std::vector<std::string> model_for;    // --model-for DEV=FILE: that device's artifact
  bool help = false;
};

// Parses argv[1..]; fails (kiln::Error) naming the flag and what it needs. A flag may be
// repeated or take several values (`--input a.npy b.npy`).
RunOptions parse_run_options(const std::vector<std::string>& args);

extern const char* const kRunUsage;

}  // namespace kiln::tools
