// The .kiln format: writer/reader round trip, and every way a file can be bad.
#include <gtest/gtest.h>

#include <cstring>

#include "codegen/artifact/artifact_writer.h"
#include "runtime/artifact/artifact_reader.h"
#include "runtime/artifact/cpu_features.h"
#include "tests/runtime/runtime_test_fixture.h"

namespace kiln::artifact {
namespace {

const std::vector<uint8_t> kFakeCode = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 1, 2, 3, 4};

struct Built {
  ArtifactMeta meta;
  std::vector<uint8_t> weights;
  std::vector<uint8_t> file;
};

Built build(uint64_t features = 0) {
  Built b;
  WeightsBuilder wb;
  const std::vector<uint8_t> a(10, 1), w(64 * 4, 2);
  wb.add(a.data(), a.size());
  const uint64_t off = wb.add(w.data(), w.size());
  EXPECT_EQ(off, 64u);
  b.weights = wb.bytes();
  b.meta = test::test_model_meta(off);
  b.meta.cpu_features = features;
  b.file = serialize_artifact(b.meta, b.weights, kFakeCode);
  return b;
}

ParsedArtifact parse(const std::vector<uint8_t>& f) {
  return parse_artifact(f.data(), f.size(), "'t.kiln'", host_cpu_features());
}

// The error parse() throws, checked to be one line that names the file.
std::string parse_error(const std::vector<uint8_t>& f) {
  try {
    parse(f);
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.rfind("'t.kiln'", 0), 0u) << m;
    return m;
  }
  ADD_FAILURE() << "parse accepted a bad file";
  return {};
}

template <typename T>
void store(std::vector<uint8_t>& f, size_t at, T v) {
  std::memcpy(f.data() + at, &v, sizeof v);
}
template <typename T>
T load(const std::vector<uint8_t>& f, size_t at) {
  T v;
  std::memcpy(&v, f.data() + at, sizeof v);
  return v;
}
void reseal(std::vector<uint8_t>& f) {
  store<uint32_t>(f, kChecksumOffset, artifact_checksum(f.data(), f.size()));
}

// File offset of a section, from the section table.
uint64_t section_offset(const std::vector<uint8_t>& f, SectionKind kind, size_t* entry = nullptr) {
  const uint64_t table = load<uint64_t>(f, header_field::kSectionTable);
  for (uint32_t i = 0; i < kNumSectionKinds; ++i) {
    const size_t e = table + i * kSectionEntryBytes;
    if (load<uint32_t>(f, e) == static_cast<uint32_t>(kind)) {
      if (entry) *entry = e;
      return load<uint64_t>(f, e + 8);
    }
  }
  return 0;
}

TEST(ArtifactFormat, RoundTrip) {
  const Built b = build();
  const ParsedArtifact p = parse(b.file);
  EXPECT_EQ(p.meta, b.meta);
  ASSERT_EQ(p.weights_bytes, b.weights.size());
  EXPECT_EQ(std::memcmp(p.weights, b.weights.data(), b.weights.size()), 0);
  EXPECT_EQ((p.weights - b.file.data()) % 64, 0) << "weights must be 64-byte aligned in the file";
  ASSERT_EQ(p.code_bytes, kFakeCode.size());
  EXPECT_EQ(std::memcmp(p.code, kFakeCode.data(), kFakeCode.size()), 0);
  EXPECT_EQ(load<uint32_t>(b.file, header_field::kVersion), kFormatVersion);
}

TEST(ArtifactFormat, WriteIsAtomicAndReadable) {
  const auto dir = test::fresh_test_dir("artifact_write");
  const Built b = build();
  write_artifact(dir / "m.kiln", b.meta, b.weights, kFakeCode);
  EXPECT_EQ(test::read_bytes(dir / "m.kiln"), b.file);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u) << "no temporary file left behind";
}

TEST(ArtifactFormat, WriterRefusesWhatTheReaderWould) {
  Built b = build();
  b.meta.launches[0].args[2].offset = 320;  // past the 320-byte arena
  EXPECT_THROW(serialize_artifact(b.meta, b.weights, kFakeCode), Error);
  b = build();
  b.meta.launches[2].args.pop_back();  // output z written by nobody
  EXPECT_THROW(serialize_artifact(b.meta, b.weights, kFakeCode), Error);
  b = build();
  b.meta.launches[0].args[0].index = 1;  // input 1 of 1
  EXPECT_THROW(serialize_artifact(b.meta, b.weights, kFakeCode), Error);
  b = build();
  b.meta.plan[0].offset = 32;  // misaligned
  EXPECT_THROW(serialize_artifact(b.meta, b.weights, kFakeCode), Error);
}

TEST(ArtifactFormat, EveryFlippedByteIsCaught) {
  const Built b = build();
  for (size_t i = 0; i < b.file.size(); ++i) {
    std::vector<uint8_t> f = b.file;
    f[i] ^= 0x5a;
    parse_error(f);
  }
  std::vector<uint8_t> f = b.file;
  f[b.file.size() - 3] ^= 1;
  EXPECT_NE(parse_error(f).find("checksum mismatch"), std::string::npos);
}

TEST(ArtifactFormat, TruncatedAnywhere) {
  const Built b = build();
  for (size_t n = 0; n < b.file.size(); ++n) {
    const std::vector<uint8_t> f(b.file.begin(), b.file.begin() + static_cast<ptrdiff_t>(n));
    const std::string m = parse_error(f);
    EXPECT_NE(m.find("truncated"), std::string::npos) << "at " << n << ": " << m;
  }
}

TEST(ArtifactFormat, WrongMagic) {
  std::vector<uint8_t> f = build().file;
  f[1] = 'X';
  EXPECT_NE(parse_error(f).find("not a .kiln file (bad magic)"), std::string::npos);
  EXPECT_NE(parse_error(std::vector<uint8_t>(200, 0)).find("bad magic"), std::string::npos);
}

TEST(ArtifactFormat, FutureVersionIsUnsupported) {
  std::vector<uint8_t> f = build().file;
  store<uint32_t>(f, header_field::kVersion, kFormatVersion + 1);
  reseal(f);
  EXPECT_THROW(parse(f), Unsupported);
  EXPECT_NE(parse_error(f).find("format version " + std::to_string(kFormatVersion + 1) +
                                ", this runtime reads version " + std::to_string(kFormatVersion)),
            std::string::npos);
}

// Launch sections (independent chains) survive the round trip; a chain outside a section, a
// chain number that skips one, and a section that comes back after other launches are refused
// by the writer and the reader alike.
TEST(ArtifactFormat, LaunchSections) {
  Built b = build();
  b.meta.launches[1].section = b.meta.launches[2].section = 7;
  b.meta.launches[2].chain = 1;
  const std::vector<uint8_t> file = serialize_artifact(b.meta, b.weights, kFakeCode);
  const ParsedArtifact p = parse(file);
  EXPECT_EQ(p.meta, b.meta);
  EXPECT_EQ(p.meta.launches[2].section, 7u);
  EXPECT_EQ(p.meta.launches[2].chain, 1u);

  // The writer checks what it writes with the reader, so each bad variant's error is the
  // reader's.
  auto refused = [&](void (*edit)(ArtifactMeta&), const char* message) {
    Built bad = build();
    edit(bad.meta);
    try {
      serialize_artifact(bad.meta, bad.weights, kFakeCode);
      ADD_FAILURE() << "writer accepted: " << message;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  };
  refused([](ArtifactMeta& m) { m.launches[1].chain = 1; }, "has chain 1 but no section");
  refused(
      [](ArtifactMeta& m) {
        m.launches[1].section = m.launches[2].section = 3;
        m.launches[2].chain = 2;
      },
      "has chain 2 in section 3, whose chains so far number 1");
  refused(
      [](ArtifactMeta& m) {
        m.launches[0].section = m.launches[2].section = 4;
      },
      "reopens section 4 after other launches");
}

TEST(ArtifactFormat, OtherKernelAbiIsUnsupported) {
  std::vector<uint8_t> f = build().file;
  store<uint32_t>(f, header_field::kKernelAbi, 99);
  reseal(f);
  EXPECT_NE(parse_error(f).find("kernel ABI version 99"), std::string::npos);
}

TEST(ArtifactFormat, CpuFeaturesTheMachineLacks) {
  // The reader takes the host's features as a parameter: simulate a machine without AVX-512.
  const uint64_t needs = feature_bit(CpuFeature::Avx512f) | feature_bit(CpuFeature::Avx512vnni) |
                         feature_bit(CpuFeature::Avx2);
  const std::vector<uint8_t> f = build(needs).file;
  const uint64_t host = feature_bit(CpuFeature::Avx2) | feature_bit(CpuFeature::Fma);
  try {
    parse_artifact(f.data(), f.size(), "'t.kiln'", host);
    FAIL() << "accepted code for CPU features the host lacks";
  } catch (const Unsupported& e) {
    EXPECT_STREQ(e.what(),
                 "'t.kiln': built for CPU features this machine lacks: avx512f, avx512vnni "
                 "(recompile for this CPU, e.g. --cpu=native)");
  }
  EXPECT_NO_THROW(parse_artifact(f.data(), f.size(), "'t.kiln'", host | needs));
  // And against the real CPU, when it lacks one of the known features.
  const uint64_t real = host_cpu_features();
  for (uint32_t i = 0; i < kNumCpuFeatures; ++i) {
    const uint64_t bit = uint64_t{1} << i;
    if (real & bit) continue;
    EXPECT_NE(parse_error(build(bit).file).find("lacks: " + cpu_features_to_string(bit)),
              std::string::npos);
    break;
  }
}

TEST(ArtifactFormat, UnknownCpuFeatureBits) {
  std::vector<uint8_t> f = build().file;
  store<uint64_t>(f, header_field::kCpuFeatures, uint64_t{1} << 40);
  reseal(f);
  EXPECT_THROW(parse(f), Unsupported);
  EXPECT_NE(parse_error(f).find("unknown to this runtime (bit 40)"), std::string::npos);
}

TEST(ArtifactFormat, HostFeaturesAreConsistent) {
  const uint64_t host = host_cpu_features();
  EXPECT_EQ(host & ~kKnownCpuFeatureMask, 0u);
  if (host & feature_bit(CpuFeature::Avx512f)) {
    EXPECT_TRUE(host & feature_bit(CpuFeature::Avx2));
  }
  EXPECT_EQ(cpu_feature_from_name("avx512vnni"), CpuFeature::Avx512vnni);
  EXPECT_EQ(cpu_feature_name(CpuFeature::AmxInt8), "amx-int8");
  EXPECT_EQ(cpu_features_to_string(feature_bit(CpuFeature::Avx2) | feature_bit(CpuFeature::Fma)),
            "avx2, fma");
}

TEST(ArtifactFormat, SectionPastTheEnd) {
  std::vector<uint8_t> f = build().file;
  size_t entry = 0;
  section_offset(f, SectionKind::Code, &entry);
  store<uint64_t>(f, entry + 8, (f.size() / 64 + 2) * 64);
  reseal(f);
  EXPECT_NE(parse_error(f).find("CODE (bytes"), std::string::npos);
  f = build().file;
  section_offset(f, SectionKind::Weights, &entry);
  store<uint64_t>(f, entry + 16, ~uint64_t{0} - 8);  // offset + bytes overflows
  reseal(f);
  EXPECT_NE(parse_error(f).find("lies outside the file"), std::string::npos);
  f = build().file;
  section_offset(f, SectionKind::Signature, &entry);
  store<uint64_t>(f, entry + 8, load<uint64_t>(f, entry + 8) + 8);  // misaligned
  reseal(f);
  EXPECT_NE(parse_error(f).find("not 64-byte aligned"), std::string::npos);
}

TEST(ArtifactFormat, AbsurdDims) {
  std::vector<uint8_t> f = build().file;
  // SIGNATURE: u32 count, then input "x": u32 len, "x", i32 dtype, u32 rank, dims...
  const uint64_t dims_at = section_offset(f, SectionKind::Signature) + 4 + 4 + 1 + 4 + 4;
  ASSERT_EQ(load<int64_t>(f, dims_at), test::kRows);
  store<int64_t>(f, dims_at, int64_t{1} << 40);
  store<int64_t>(f, dims_at + 8, int64_t{1} << 40);
  reseal(f);
  EXPECT_NE(parse_error(f).find("absurdly large"), std::string::npos);
  store<int64_t>(f, dims_at, -3);
  reseal(f);
  EXPECT_NE(parse_error(f).find("negative dim -3"), std::string::npos);
}

TEST(ArtifactFormat, HugeCountsDoNotAllocate) {
  std::vector<uint8_t> f = build().file;
  store<uint32_t>(f, section_offset(f, SectionKind::Launches), 0xffffffffu);
  reseal(f);
  EXPECT_NE(parse_error(f).find("cannot fit"), std::string::npos);
}

}  // namespace
}  // namespace kiln::artifact
