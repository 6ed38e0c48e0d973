// The `.kiln` file format: constants of the on-disk layout and the in-memory description that
// codegen/artifact/artifact_writer writes and runtime/artifact/artifact_reader reads back.
//
// Layout (all integers little-endian; every section starts 64-byte aligned):
//   header (64 B)   magic, format version, file size, required CPU features, kernel ABI version,
//                   CRC-32 of the whole file with the checksum field zeroed, section table place
//   section table   one {kind u32, reserved u32, offset u64, bytes u64} per section
//   TARGET          target triple, CPU name, code format
//   SIGNATURE       inputs and outputs: name, dtype, dims
//   MEMORY_PLAN     arena bytes, and per planned value: name, offset, bytes (for inspection)
//   WEIGHTS         raw constant bytes; launch arguments address them by offset (mmap-able)
//   CODE            the code section (CPU: ELF shared object implementing kiln/kernel_abi.h;
//                   OpenCL: program source or binary, see CodeFormat)
//   LAUNCHES        kernels in execution order: symbol, node name, op, buffer args, int64 params
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "ir/tensor.h"

namespace kiln::artifact {

inline constexpr char kMagic[8] = {'\x89', 'K', 'I', 'L', 'N', '\r', '\n', '\x1a'};
inline constexpr uint32_t kFormatVersion = 2;  // 2: launches carry a section and chain
inline constexpr uint32_t kHeaderBytes = 64;
inline constexpr uint64_t kAlignment = 64;     // sections, weights, arena offsets
inline constexpr size_t kChecksumOffset = 40;  // u32 in the header, zero while hashing

// Byte offsets of the header fields.
namespace header_field {
inline constexpr size_t kMagic = 0;                   // 8 bytes
inline constexpr size_t kVersion = 8;                 // u32
inline constexpr size_t kHeaderBytes = 12;            // u32
inline constexpr size_t kFileBytes = 16;              // u64
inline constexpr size_t kCpuFeatures = 24;            // u64: CpuFeature bits the code needs
inline constexpr size_t kKernelAbi = 32;              // u32: KILN_KERNEL_ABI_VERSION of the code
inline constexpr size_t kSectionCount = 36;           // u32
inline constexpr size_t kChecksum = kChecksumOffset;  // u32: zlib crc32
inline constexpr size_t kSectionTable = 48;           // u64: offset of the section table
// 44..47 and 56..63 are reserved and must be zero.
}  // namespace header_field

enum class SectionKind : uint32_t {
  Target = 1,
  Signature = 2,
  MemoryPlan = 3,
  Weights = 4,
  Code = 5,
  Launches = 6,
};
inline constexpr uint32_t kNumSectionKinds = 6;
inline constexpr uint32_t kSectionEntryBytes = 24;
const char* section_name(SectionKind kind);

// What the CODE section holds. OpenCL artifacts have target_triple kOpenClTriple and cpu_name
// "gpu" or "fpga" (the kernel profile); CUDA formats are reserved for the CUDA target.
enum class CodeFormat : uint32_t {
  ElfSharedObject = 1,
  OpenClSource = 2,  // UTF-8 OpenCL C source
  OpenClBinary = 3,  // a program binary as given to `kilnc compile --opencl-binary`
  CudaPtx = 4,       // CUDA: a container (cuda_code.h) with PTX only
  CudaCubin = 5,     // CUDA: a container with PTX and a cubin per architecture
};
const char* code_format_name(CodeFormat format);
inline bool is_opencl_format(CodeFormat f) {
  return f == CodeFormat::OpenClSource || f == CodeFormat::OpenClBinary;
}
inline bool is_cuda_format(CodeFormat f) {
  return f == CodeFormat::CudaPtx || f == CodeFormat::CudaCubin;
}
inline constexpr char kOpenClTriple[] = "opencl";
// The launch symbol of an op the OpenCL renderer does not generate: the runtime runs it on the
// host through its kernel library (args and record exactly like the CPU `op` builtin).
inline constexpr char kOpenClHostOpSymbol[] = "kiln_host_op";
// A device kernel launch's params: global0..2, local0..2 (all locals 0: the driver chooses).
inline constexpr size_t kOpenClLaunchParams = 6;

// Where a kernel argument lives. Input/output arguments also name which input/output.
enum class BufferKind : uint32_t { Arena = 0, Weights = 1, Input = 2, Output = 3 };
const char* buffer_kind_name(BufferKind kind);

struct TensorSignature {
  std::string name;
  DType dtype = DType::F32;
  Dims dims;
  bool operator==(const TensorSignature&) const = default;
};

struct PlanEntry {  // where one intermediate value lives in the arena
  std::string value_name;
  uint64_t offset = 0;
  uint64_t bytes = 0;
  bool operator==(const PlanEntry&) const = default;
};

struct LaunchArg {
  BufferKind kind = BufferKind::Arena;
  uint32_t index = 0;  // which input/output; 0 for arena and weights
  uint64_t offset = 0;
  uint64_t bytes = 0;
  bool operator==(const LaunchArg&) const = default;
};

struct Launch {
  std::string symbol;     // exported by the code section
  std::string node_name;  // for profiles and errors
  std::string op;
  std::vector<LaunchArg> args;
  std::vector<int64_t> params;
  // Launches run in list order, except that consecutive launches with the same non-zero
  // `section` form independent chains: those of one `chain` run in order, different chains may
  // run at the same time (each on one thread), and the section ends when all are done. The
  // compiler makes chains touch disjoint outputs (MobileNet's expansion -> depthwise channel
  // groups), so any interleaving gives the same bits. Section 0: an ordinary launch (chain 0).
  uint32_t section = 0;
  uint32_t chain = 0;
  bool operator==(const Launch&) const = default;
};

// Everything in a `.kiln` file except the weight and code bytes.
struct ArtifactMeta {
  std::string target_triple;  // "x86_64-unknown-linux-gnu"
  std::string cpu_name;       // "skylake-avx512", "generic"
  uint64_t cpu_features = 0;  // CpuFeature bits the code requires
  CodeFormat code_format = CodeFormat::ElfSharedObject;
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;
  uint64_t arena_bytes = 0;
  std::vector<PlanEntry> plan;
  std::vector<Launch> launches;
  bool operator==(const ArtifactMeta&) const = default;
};

// Sanity bounds the reader enforces so absurd files fail cleanly instead of exhausting memory.
inline constexpr uint64_t kMaxArenaBytes = uint64_t{1} << 40;
inline constexpr uint64_t kMaxTensorBytes = uint64_t{1} << 40;
inline constexpr uint32_t kMaxRank = 64;
inline constexpr uint32_t kMaxStringBytes = 4096;

// zlib CRC-32 of a whole file image with the header's checksum field read as zero.
uint32_t artifact_checksum(const uint8_t* data, uint64_t size);

}  // namespace kiln::artifact
