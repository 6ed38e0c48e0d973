#include "runtime/artifact/artifact_reader.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "kiln/kernel_abi.h"
#include "runtime/artifact/byte_codec.h"
#include "runtime/artifact/cpu_features.h"
#include "runtime/artifact/cuda_code.h"

namespace kiln::artifact {

namespace {

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// a + b <= limit without overflow.
bool fits(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

struct Section {
  uint64_t offset = 0, bytes = 0;
  bool present = false;
};

void check_header(const uint8_t* d, uint64_t size, const std::string& what) {
  if (size < kHeaderBytes) {
    fail(what, ": truncated: ", size, " bytes, a .kiln header alone needs ", kHeaderBytes);
  }
  if (std::memcmp(d, kMagic, sizeof(kMagic)) != 0) fail(what, ": not a .kiln file (bad magic)");
  const uint32_t version = load<uint32_t>(d + header_field::kVersion);
  if (version != kFormatVersion) {
    fail_unsupported(what, ": .kiln format version ", version, ", this runtime reads version ",
                     kFormatVersion, version > kFormatVersion ? " (recompile with this Kiln)" : "");
  }
  const uint32_t header_bytes = load<uint32_t>(d + header_field::kHeaderBytes);
  if (header_bytes != kHeaderBytes)
    fail(what, ": header size ", header_bytes, ", expected ", kHeaderBytes);
  const uint64_t file_bytes = load<uint64_t>(d + header_field::kFileBytes);
  if (file_bytes != size) {
    fail(what, ": ", file_bytes > size ? "truncated" : "trailing bytes", ": the header says ",
         file_bytes, " bytes, the file has ", size);
  }
  const uint32_t stored = load<uint32_t>(d + header_field::kChecksum);
  const uint32_t actual = artifact_checksum(d, size);
  if (stored != actual) {
    fail(what, ": checksum mismatch (stored 0x", std::hex, stored, ", computed 0x", actual,
         "): the file is corrupt");
  }
  if (load<uint32_t>(d + 44) != 0 || load<uint64_t>(d + 56) != 0) {
    fail(what, ": reserved header fields are not zero");
  }
  const uint32_t abi = load<uint32_t>(d + header_field::kKernelAbi);
  if (abi != KILN_KERNEL_ABI_VERSION) {
    fail_unsupported(what, ": code built for kernel ABI version ", abi,
                     ", this runtime implements ", KILN_KERNEL_ABI_VERSION);
  }
}

void check_features(uint64_t required, uint64_t host, const std::string& what) {
  if (required & ~kKnownCpuFeatureMask) {
    fail_unsupported(what, ": requires CPU features unknown to this runtime (",
                     cpu_features_to_string(required & ~kKnownCpuFeatureMask), ")");
  }
  const uint64_t missing = required & ~host;
  if (missing) {
    fail_unsupported(
        what, ": built for CPU features this machine lacks: ", cpu_features_to_string(missing),
        " (recompile for this CPU, e.g. --cpu=native)");
  }
}

std::vector<Section> read_section_table(const uint8_t* d, uint64_t size, const std::string& what) {
  const uint64_t table = load<uint64_t>(d + header_field::kSectionTable);
  const uint32_t count = load<uint32_t>(d + header_field::kSectionCount);
  if (count != kNumSectionKinds) {
    fail(what, ": section table lists ", count, " sections, expected ", kNumSectionKinds);
  }
  const uint64_t table_bytes = uint64_t{count} * kSectionEntryBytes;
  if (table < kHeaderBytes || !fits(table, table_bytes, size)) {
    fail(what, ": section table at byte ", table, " lies outside the file");
  }
  std::vector<Section> sections(kNumSectionKinds + 1);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* e = d + table + uint64_t{i} * kSectionEntryBytes;
    const uint32_t kind = load<uint32_t>(e);
    const uint64_t offset = load<uint64_t>(e + 8), bytes = load<uint64_t>(e + 16);
    if (kind < 1 || kind > kNumSectionKinds) fail(what, ": unknown section kind ", kind);
    const char* name = section_name(static_cast<SectionKind>(kind));
    if (load<uint32_t>(e + 4) != 0) fail(what, ": ", name, " section entry has reserved bits set");
    if (sections[kind].present) fail(what, ": section ", name, " appears twice");
    if (offset % kAlignment != 0)
      fail(what, ": section ", name, " at byte ", offset, " is not ", kAlignment, "-byte aligned");
    if (offset < table + table_bytes || !fits(offset, bytes, size)) {
      fail(what, ": section ", name, " (bytes ", offset, "+", bytes, ") lies outside the file (",
           size, " bytes)");
    }
    sections[kind] = {offset, bytes, true};
    ranges.push_back({offset, bytes});
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i - 1].first + ranges[i - 1].second > ranges[i].first)
      fail(what, ": sections overlap");
  }
  return sections;
}

TensorSignature read_tensor(ByteReader& r, std::set<std::string>& names) {
  TensorSignature t;
  t.name = r.str(kMaxStringBytes);
  if (t.name.empty()) fail(r.what(), ": a tensor with an empty name");
  if (!names.insert(t.name).second) fail(r.what(), ": tensor '", t.name, "' is declared twice");
  const int32_t code = r.i32();
  if (!dtype_is_valid(code) || dtype_size(static_cast<DType>(code)) == 0) {
    fail(r.what(), ": tensor '", t.name, "' has invalid dtype code ", code);
  }
  t.dtype = static_cast<DType>(code);
  const uint32_t rank = r.u32();
  if (rank > kMaxRank)
    fail(r.what(), ": tensor '", t.name, "' has rank ", rank, " (limit ", kMaxRank, ")");
  for (uint32_t i = 0; i < rank; ++i) {
    const int64_t d = r.i64();
    if (d < 0) fail(r.what(), ": tensor '", t.name, "' has negative dim ", d);
    t.dims.push_back(d);
  }
  signature_bytes(t, r.what());
  return t;
}

void read_signature(ByteReader r, ArtifactMeta& m) {
  std::set<std::string> names;
  const uint32_t ni = r.count(12, "inputs");
  for (uint32_t i = 0; i < ni; ++i) m.inputs.push_back(read_tensor(r, names));
  const uint32_t no = r.count(12, "outputs");
  if (no == 0) fail(r.what(), ": the model has no outputs");
  // A model input may also be a model output (ONNX allows it): separate name sets.
  std::set<std::string> output_names;
  for (uint32_t i = 0; i < no; ++i) m.outputs.push_back(read_tensor(r, output_names));
  r.expect_end();
}

void read_plan(ByteReader r, ArtifactMeta& m) {
  m.arena_bytes = r.u64();
  if (m.arena_bytes > kMaxArenaBytes)
    fail(r.what(), ": arena of ", m.arena_bytes, " bytes is absurd");
  const uint32_t n = r.count(20, "plan entries");
  for (uint32_t i = 0; i < n; ++i) {
    PlanEntry e;
    e.value_name = r.str(kMaxStringBytes);
    e.offset = r.u64();
    e.bytes = r.u64();
    if (e.offset % kAlignment != 0 || !fits(e.offset, e.bytes, m.arena_bytes)) {
      fail(r.what(), ": value '", e.value_name, "' at arena bytes ", e.offset, "+", e.bytes,
           " is misaligned or outside the ", m.arena_bytes, "-byte arena");
    }
    m.plan.push_back(std::move(e));
  }
  r.expect_end();
}

void check_arg(const ByteReader& r, const Launch& l, const LaunchArg& a, const ArtifactMeta& m,
               uint64_t weights_bytes) {
  uint64_t limit = 0;
  switch (a.kind) {
    case BufferKind::Arena:
      limit = m.arena_bytes;
      break;
    case BufferKind::Weights:
      limit = weights_bytes;
      break;
    case BufferKind::Input:
    case BufferKind::Output: {
      const auto& list = a.kind == BufferKind::Input ? m.inputs : m.outputs;
      if (a.index >= list.size()) {
        fail(r.what(), ": kernel '", l.symbol, "' (node '", l.node_name, "') uses ",
             buffer_kind_name(a.kind), " ", a.index, " of ", list.size());
      }
      limit = signature_bytes(list[a.index], r.what());
      break;
    }
  }
  if ((a.kind == BufferKind::Arena || a.kind == BufferKind::Weights) && a.index != 0) {
    fail(r.what(), ": kernel '", l.symbol, "' has a ", buffer_kind_name(a.kind),
         " argument with index ", a.index);
  }
  if (!fits(a.offset, a.bytes, limit)) {
    fail(r.what(), ": kernel '", l.symbol, "' (node '", l.node_name, "') reads ",
         buffer_kind_name(a.kind), " bytes ", a.offset, "+", a.bytes, " beyond its ", limit,
         " bytes");
  }
}

// A section's launches are consecutive (a closed section id may not come back), and chains
// number from 0 within it, each at most one past the highest so far.
struct SectionCheck {
  uint32_t open = 0, chains = 0;
  std::set<uint32_t> closed;

  void next(const ByteReader& r, const Launch& l, uint32_t i) {
    if (l.section != open && open != 0) closed.insert(open);
    if (l.section == 0) {
      open = 0;
      if (l.chain != 0) fail(r.what(), ": launch ", i, " has chain ", l.chain, " but no section");
      return;
    }
    if (l.section != open) {
      if (closed.count(l.section)) {
        fail(r.what(), ": launch ", i, " reopens section ", l.section, " after other launches");
      }
      open = l.section;
      chains = 0;
    }
    if (l.chain > chains) {
      fail(r.what(), ": launch ", i, " has chain ", l.chain, " in section ", l.section,
           ", whose chains so far number ", chains);
    }
    chains = std::max(chains, l.chain + 1);
  }
};

void read_launches(ByteReader r, ArtifactMeta& m, uint64_t weights_bytes) {
  const uint32_t n = r.count(20, "launches");
  std::vector<bool> output_written(m.outputs.size(), false);
  SectionCheck sections;
  for (uint32_t i = 0; i < n; ++i) {
    Launch l;
    l.symbol = r.str(kMaxStringBytes);
    if (l.symbol.empty()) fail(r.what(), ": launch ", i, " has no kernel symbol");
    l.node_name = r.str(kMaxStringBytes);
    l.op = r.str(kMaxStringBytes);
    const uint32_t na = r.count(24, "kernel arguments");
    for (uint32_t j = 0; j < na; ++j) {
      LaunchArg a;
      const uint32_t kind = r.u32();
      if (kind > static_cast<uint32_t>(BufferKind::Output)) {
        fail(r.what(), ": kernel '", l.symbol, "' argument ", j, " has unknown buffer kind ", kind);
      }
      a.kind = static_cast<BufferKind>(kind);
      a.index = r.u32();
      a.offset = r.u64();
      a.bytes = r.u64();
      check_arg(r, l, a, m, weights_bytes);
      if (a.kind == BufferKind::Output) output_written[a.index] = true;
      l.args.push_back(a);
    }
    const uint32_t np = r.count(8, "kernel parameters");
    for (uint32_t j = 0; j < np; ++j) l.params.push_back(r.i64());
    l.section = r.u32();
    l.chain = r.u32();
    sections.next(r, l, i);
    m.launches.push_back(std::move(l));
  }
  r.expect_end();
  for (size_t i = 0; i < output_written.size(); ++i) {
    if (!output_written[i])
      fail(r.what(), ": output '", m.outputs[i].name, "' is written by no kernel");
  }
}

CodeFormat read_code_format(uint32_t format, const std::string& what) {
  switch (static_cast<CodeFormat>(format)) {
    case CodeFormat::ElfSharedObject:
    case CodeFormat::OpenClSource:
    case CodeFormat::OpenClBinary:
    case CodeFormat::CudaPtx:
    case CodeFormat::CudaCubin:
      return static_cast<CodeFormat>(format);
  }
  fail_unsupported(what, ": code format ", format, " is not supported by this runtime");
}

// The target triple and the code format must agree: an OpenCL program in a CPU artifact (or an
// ELF object in an OpenCL one) would otherwise reach the wrong loader.
void check_target(const ArtifactMeta& m, const std::string& what) {
  const bool opencl_triple = m.target_triple == kOpenClTriple;
  if (is_opencl_format(m.code_format)) {
    if (!opencl_triple) {
      fail(what, ": code format ", code_format_name(m.code_format), " needs target '",
           kOpenClTriple, "', the artifact says '", m.target_triple, "'");
    }
    if (m.cpu_name != "gpu" && m.cpu_name != "fpga")
      fail(what, ": OpenCL profile '", m.cpu_name, "' is neither 'gpu' nor 'fpga'");
    if (m.cpu_features != 0) fail(what, ": an OpenCL artifact requires CPU features");
  } else if (opencl_triple) {
    fail(what, ": target '", kOpenClTriple, "' with code format ",
         code_format_name(m.code_format), " (expected OpenCL source or binary)");
  }
  // CUDA: cpu_name lists the architectures the cubins were built for ("sm_90,sm_80").
  const bool cuda_triple = m.target_triple == kCudaTriple;
  if (is_cuda_format(m.code_format) != cuda_triple) {
    fail(what, ": target '", m.target_triple, "' with code format ",
         code_format_name(m.code_format), " (CUDA code needs target '", kCudaTriple, "')");
  }
  if (cuda_triple) {
    if (m.cpu_features != 0) fail(what, ": a CUDA artifact requires CPU features");
    size_t start = 0;
    while (start <= m.cpu_name.size()) {
      const size_t comma = std::min(m.cpu_name.find(',', start), m.cpu_name.size());
      try {
        parse_cuda_arch(m.cpu_name.substr(start, comma - start));
      } catch (const Error&) {
        fail(what, ": CUDA architecture list '", m.cpu_name, "' is malformed");
      }
      start = comma + 1;
    }
  }
}

void check_code(CodeFormat format, const uint8_t* code, uint64_t bytes, const std::string& what) {
  switch (format) {
    case CodeFormat::ElfSharedObject:
      if (bytes < 4 || std::memcmp(code, "\x7f" "ELF", 4) != 0)
        fail(what, ": CODE section is not an ELF shared object");
      return;
    case CodeFormat::OpenClSource:
      if (bytes == 0) fail(what, ": CODE section holds no OpenCL source");
      if (std::memchr(code, 0, bytes) != nullptr)
        fail(what, ": CODE section's OpenCL source contains a NUL byte");
      return;
    case CodeFormat::OpenClBinary:
      if (bytes == 0) fail(what, ": CODE section holds no OpenCL program binary");
      return;
    case CodeFormat::CudaPtx:
    case CodeFormat::CudaCubin: {
      bool cubin = false;
      for (const CudaBlob& b : decode_cuda_code(code, bytes, what))
        cubin = cubin || b.kind == CudaBlobKind::Cubin;
      if (cubin != (format == CodeFormat::CudaCubin))
        fail(what, ": code format ", code_format_name(format), " but the container ",
             cubin ? "holds" : "lacks", " cubins");
      return;
    }
  }
}

// Device kernels carry the work sizes; host fallbacks start with their op record in WEIGHTS.
// CUDA library launches (cuBLASLt, cuDNN) have their own params, checked by the CUDA driver.
void check_opencl_launches(const ArtifactMeta& m, const std::string& what) {
  for (const Launch& l : m.launches) {
    if (is_cuda_format(m.code_format) &&
        (l.symbol.starts_with("kiln_cublas_") || l.symbol.starts_with("kiln_cudnn_")))
      continue;
    if (l.symbol == kOpenClHostOpSymbol) {
      if (!l.params.empty() || l.args.empty() || l.args[0].kind != BufferKind::Weights) {
        fail(what, ": host op launch for node '", l.node_name,
             "' must have no params and its op record (a weights region) first");
      }
      continue;
    }
    if (l.params.size() != kOpenClLaunchParams) {
      fail(what, ": OpenCL kernel '", l.symbol, "' has ", l.params.size(),
           " params, expected 6 (global0..2, local0..2)");
    }
    const bool driver_local = l.params[3] == 0 && l.params[4] == 0 && l.params[5] == 0;
    for (int d = 0; d < 3; ++d) {
      const int64_t g = l.params[d], loc = l.params[3 + d];
      if (g < 1 || g > (int64_t{1} << 40) || (!driver_local && (loc < 1 || g % loc != 0))) {
        fail(what, ": OpenCL kernel '", l.symbol, "' has invalid work size: global ", l.params[0],
             "x", l.params[1], "x", l.params[2], ", local ", l.params[3], "x", l.params[4], "x",
             l.params[5]);
      }
    }
  }
}

}  // namespace

uint64_t signature_bytes(const TensorSignature& t, const std::string& what) {
  uint64_t n = dtype_size(t.dtype);
  for (int64_t d : t.dims) {
    if (d < 0 || (d != 0 && n > kMaxTensorBytes / static_cast<uint64_t>(d))) {
      fail(what, ": tensor '", t.name, "' of shape ", dims_to_string(t.dims), " is absurdly large");
    }
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

ParsedArtifact parse_artifact(const uint8_t* d, uint64_t size, const std::string& what,
                              uint64_t host_features) {
  check_header(d, size, what);
  const std::vector<Section> s = read_section_table(d, size, what);
  ParsedArtifact p;
  ArtifactMeta& m = p.meta;
  m.cpu_features = load<uint64_t>(d + header_field::kCpuFeatures);
  auto reader = [&](SectionKind k) {
    const Section& sec = s[static_cast<uint32_t>(k)];
    return ByteReader(d + sec.offset, sec.bytes, what + ": " + section_name(k) + " section");
  };
  {
    ByteReader r = reader(SectionKind::Target);
    m.target_triple = r.str(kMaxStringBytes);
    m.cpu_name = r.str(kMaxStringBytes);
    m.code_format = read_code_format(r.u32(), what);
    r.expect_end();
  }
  check_target(m, what);
  check_features(m.cpu_features, host_features, what);
  read_signature(reader(SectionKind::Signature), m);
  read_plan(reader(SectionKind::MemoryPlan), m);
  const Section& w = s[static_cast<uint32_t>(SectionKind::Weights)];
  p.weights = d + w.offset;
  p.weights_bytes = w.bytes;
  const Section& c = s[static_cast<uint32_t>(SectionKind::Code)];
  p.code = d + c.offset;
  p.code_bytes = c.bytes;
  check_code(m.code_format, p.code, p.code_bytes, what);
  read_launches(reader(SectionKind::Launches), m, w.bytes);
  if (is_opencl_format(m.code_format) || is_cuda_format(m.code_format))
    check_opencl_launches(m, what);
  return p;
}

}  // namespace kiln::artifact
