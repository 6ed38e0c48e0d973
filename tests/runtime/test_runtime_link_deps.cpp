// The runtime and kiln-run must not link the compiler's heavy dependencies: no LLVM, no
// protobuf, neither as shared-library dependencies nor as symbols linked in statically. Device
// libraries (the OpenCL ICD loader, CUDA's) are dlopen'ed on use, never linked, so kiln-run starts
// on a machine that has none of them.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

namespace kiln {
namespace {

std::string command_output(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  *status = pclose(p);
  return out;
}

const std::vector<std::string> kForbiddenLibraries = {"libprotobuf", "libLLVM", "libclang",
                                                      "libonnx", "libOpenCL"};
const std::vector<std::string> kForbiddenSymbols = {"google::protobuf", "llvm::", "onnx::"};

// The first of `needles` found in `haystack`, or "".
std::string find_any(const std::string& haystack, const std::vector<std::string>& needles) {
  for (const std::string& n : needles)
    if (haystack.find(n) != std::string::npos) return n;
  return "";
}

bool have(const char* tool) {
  int status = 0;
  command_output(std::string("command -v ") + tool, &status);
  return status == 0;
}

TEST(RuntimeLinkDeps, KilnRunHasNoCompilerLibraries) {
  if (!have("ldd") || !have("nm")) GTEST_SKIP() << "ldd or nm not found";
  int status = 0;
  const std::string libs = command_output(std::string("ldd ") + KILN_RUN_PATH, &status);
  ASSERT_EQ(status, 0) << libs;
  EXPECT_EQ(find_any(libs, kForbiddenLibraries), "") << libs;
  const std::string syms = command_output(std::string("nm -C ") + KILN_RUN_PATH, &status);
  ASSERT_EQ(status, 0) << syms.substr(0, 500);
  EXPECT_NE(syms.find("kiln_session_run"), std::string::npos) << "nm output looks wrong";
  EXPECT_EQ(find_any(syms, kForbiddenSymbols), "") << "kiln-run contains compiler symbols";
}

TEST(RuntimeLinkDeps, RuntimeLibraryReferencesNoCompilerSymbols) {
  if (!have("nm")) GTEST_SKIP() << "nm not found";
  int status = 0;
  const std::string syms = command_output(std::string("nm -C ") + KILN_RUNTIME_LIB_PATH, &status);
  ASSERT_EQ(status, 0) << syms.substr(0, 500);
  EXPECT_NE(syms.find("kiln_model_load_file"), std::string::npos);
  EXPECT_EQ(find_any(syms, kForbiddenSymbols), "") << "the runtime references compiler symbols";
}

}  // namespace
}  // namespace kiln
