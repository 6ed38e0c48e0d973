// The kernel renderer: a kernel family writes its body once against this class, which spells it
// in a Dialect (OpenCL C or CUDA C++) and a Profile (data-parallel GPU kernels, or FPGA-style
// single-work-item kernels with compile-time loops and unroll pragmas).
//
// Parameters follow the device launch contract: launch argument i is two kernel parameters,
// `T* base<i>` (the whole buffer) and `ulong off<i>` (byte offset of the region), and the kernel
// uses `p<i> = (T*)((uchar*)base<i> + off<i>)`. Shapes and scalars are baked into the text.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "codegen/gpu/dialect.h"

namespace kiln::gpu {

enum class Profile { Gpu, Fpga };

// How a rendered kernel is launched: {global0..2, local0..2} (the contract's launch params).
using LaunchGeometry = std::array<int64_t, 6>;

inline constexpr int64_t kGroupSize = 64;  // 1-D work-group size of data-parallel kernels

class KernelWriter {
 public:
  KernelWriter(const Dialect& dialect, Profile profile, std::string name);

  const Dialect& dialect() const { return d_; }
  Profile profile() const { return profile_; }
  bool fpga() const { return profile_ == Profile::Fpga; }
  const std::string& name() const { return name_; }

  // Declares the next launch argument (index = number declared so far); returns its pointer
  // variable "p<i>".
  std::string buffer(Scalar type);
  std::string ptr(int arg) const;  // "p<arg>"
  int num_buffers() const { return static_cast<int>(buffers_.size()); }

  // A work-group-memory array, declared at kernel scope (OpenCL requires it there).
  std::string local_array(Scalar type, const std::string& name, int64_t count);

  // Body text. open("for (...)") writes "for (...) {" and indents until close().
  void line(const std::string& text);
  void open(const std::string& header);
  void close();

  // A counted loop `for (long var = 0; var < trip; ++var)` with a compile-time trip count.
  // `unroll`: 0 none, -1 full, n > 1 by n; the pragma is written only in the FPGA profile.
  void loop(const std::string& var, int64_t trip, int unroll = 0);
  // The data-parallel index space [0, n) of the kernel (at most once): one work item per index
  // on GPUs (1-D NDRange, guarded), a counted loop in the FPGA profile. close() ends it.
  void parallel(const std::string& var, int64_t n);
  // An explicit NDRange for kernels that use work-group memory (GEMM tiles); the FPGA profile
  // always launches a single work item.
  void set_geometry(const LaunchGeometry& g);
  LaunchGeometry geometry() const;

  // Spellings.
  std::string type(Scalar s) const;
  std::string idx() const { return type(Scalar::I64); }  // index type
  std::string math(const std::string& fn, const std::string& a) const;
  std::string math(const std::string& fn, const std::string& a, const std::string& b) const;
  std::string f32(float v) const;
  // An fp16 element as f32, and the statement storing f32 `v` as fp16 (dialect spellings).
  std::string load_half(const std::string& p, const std::string& i) const;
  std::string store_half(const std::string& p, const std::string& i, const std::string& v) const;  // exact literal (hex float), inf/nan spelled by the dialect
  static std::string i64(int64_t v);
  std::string global_id(int dim) const { return d_.global_id.at(dim); }
  std::string local_id(int dim) const { return d_.local_id.at(dim); }
  std::string group_id(int dim) const { return d_.group_id.at(dim); }
  void barrier() { line(d_.barrier); }
  // A fresh variable name with the given prefix.
  std::string fresh(const std::string& prefix);

  // The whole __kernel function.
  std::string render() const;

 private:
  const Dialect& d_;
  Profile profile_;
  std::string name_;
  std::vector<Scalar> buffers_;
  std::vector<std::string> locals_;
  std::string body_;
  int indent_ = 1;
  int counter_ = 0;
  bool has_parallel_ = false;
  int64_t parallel_n_ = 0;
  bool has_geometry_ = false;
  LaunchGeometry geometry_{};
};

// One rendered kernel: source text of the function, its symbol and its launch geometry.
struct RenderedKernel {
  std::string symbol;
  std::string source;
  LaunchGeometry geometry{};
};
RenderedKernel finish(const KernelWriter& k);

// A program: the dialect's prelude followed by every kernel.
std::string render_program(const Dialect& d, const std::vector<RenderedKernel>& kernels);

}  // namespace kiln::gpu
