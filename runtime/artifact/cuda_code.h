// The CODE section of a CUDA artifact: PTX for one virtual architecture (JIT-compiled by the
// driver on GPUs newer than every cubin) plus one cubin per requested real architecture. The
// runtime loads the cubin whose architecture matches the device, else the PTX.
//
// Layout (little-endian): magic "KILNCUDA", u32 version, u32 entry count, then per entry
// {u32 kind, u32 arch (e.g. 90 for sm_90 / compute_90), u64 offset, u64 bytes} with offsets from
// the section start, then the blobs. PTX blobs end with a NUL byte (cuModuleLoadData wants one).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::artifact {

inline constexpr char kCudaTriple[] = "cuda";

enum class CudaBlobKind : uint32_t { Ptx = 1, Cubin = 2 };

struct CudaBlob {
  CudaBlobKind kind = CudaBlobKind::Ptx;
  uint32_t arch = 0;  // 80, 86, 90, ...
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
};

struct CudaBlobData {
  CudaBlobKind kind = CudaBlobKind::Ptx;
  uint32_t arch = 0;
  std::vector<uint8_t> bytes;
};

std::vector<uint8_t> encode_cuda_code(const std::vector<CudaBlobData>& blobs);

// Validates the container (magic, version, bounds, no overlap with the table, known kinds,
// NUL-terminated PTX, at least one blob); fails with one line naming `what`. The blobs point
// into `data`.
std::vector<CudaBlob> decode_cuda_code(const uint8_t* data, uint64_t size, const std::string& what);

// "sm_90" -> 90; fails naming the flag value for anything else (sm_50..sm_121 accepted).
uint32_t parse_cuda_arch(const std::string& name);

}  // namespace kiln::artifact
