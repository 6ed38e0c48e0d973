#include "codegen/llvm/native_code.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <lld/Common/Driver.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/TargetParser/Host.h>

#include "ir/error.h"
#include "runtime/artifact/cpu_features.h"

LLD_HAS_DRIVER(elf)

namespace kiln::llvm_codegen {
namespace {

void init_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

llvm::OptimizationLevel pass_level(int opt_level) {
  switch (opt_level) {
    case 0: return llvm::OptimizationLevel::O0;
    case 1: return llvm::OptimizationLevel::O1;
    case 2: return llvm::OptimizationLevel::O2;
    default: return llvm::OptimizationLevel::O3;
  }
}

// A private temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kilnc-XXXXXX").string();
    if (!mkdtemp(pattern.data())) fail("codegen: cannot create a temporary directory");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::vector<uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail("codegen: cannot read '", p.string(), "'");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

NativeTarget make_native_target(const std::string& cpu_name, int opt_level) {
  init_llvm();
  NativeTarget t;
  t.triple = llvm::sys::getDefaultTargetTriple();
  std::string err;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(t.triple, err);
  if (!target) fail("codegen: no LLVM target for '", t.triple, "': ", err);
  if (cpu_name.empty() || cpu_name == "native") {
    t.cpu = llvm::sys::getHostCPUName().str();
    std::string features;
    for (const auto& f : llvm::sys::getHostCPUFeatures()) {
      features += (features.empty() ? "" : ",");
      features += (f.second ? "+" : "-") + f.first().str();
    }
    t.features = features;
  } else {
    t.cpu = cpu_name;
  }
  // Validate the name on a generic subtarget first: LLVM warns on stderr for unknown names.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      target->createMCSubtargetInfo(t.triple, "generic", ""));
  if (!generic || !generic->isCPUStringValid(t.cpu)) {
    fail("codegen: unknown CPU '", cpu_name,
         "' (use native, or an LLVM CPU name such as x86-64-v3, x86-64-v4, skylake-avx512, "
         "znver4)");
  }
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(t.triple, t.cpu, t.features));
  for (uint32_t i = 0; i < artifact::kNumCpuFeatures; ++i) {
    const auto f = static_cast<artifact::CpuFeature>(i);
    if (sti->checkFeatures("+" + std::string(artifact::cpu_feature_name(f))))
      t.cpu_feature_bits |= artifact::feature_bit(f);
  }
  llvm::TargetOptions options;
  const auto level = opt_level <= 0   ? llvm::CodeGenOptLevel::None
                     : opt_level == 1 ? llvm::CodeGenOptLevel::Less
                     : opt_level == 2 ? llvm::CodeGenOptLevel::Default
                                      : llvm::CodeGenOptLevel::Aggressive;
  t.machine.reset(target->createTargetMachine(t.triple, t.cpu, t.features, options,
                                              llvm::Reloc::PIC_, std::nullopt, level));
  if (!t.machine) fail("codegen: LLVM cannot create a target machine for CPU '", t.cpu, "'");
  return t;
}

std::vector<uint8_t> compile_shared_object(llvm::Module& module, const NativeTarget& target,
                                           int opt_level) {
  module.setTargetTriple(target.triple);
  module.setDataLayout(target.machine->createDataLayout());
  for (llvm::Function& fn : module) {
    if (fn.isDeclaration()) continue;
    fn.addFnAttr("target-cpu", target.cpu);
    if (!target.features.empty()) fn.addFnAttr("target-features", target.features);
    // LLVM's tuning for AVX-512 CPUs prefers 256-bit vectors; the generated loops (elementwise
    // programs and epilogues) are throughput-bound, and whole zmm registers won: BERT-base's
    // 128 x 3072 GELU epilogue, 1 thread, ~4.4 -> ~4.1 ms per FFN matmul launch.
    if (target.cpu_feature_bits & artifact::feature_bit(artifact::CpuFeature::Avx512f))
      fn.addFnAttr("prefer-vector-width", "512");
  }
  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(target.machine.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm = opt_level <= 0
                                      ? pb.buildO0DefaultPipeline(llvm::OptimizationLevel::O0)
                                      : pb.buildPerModuleDefaultPipeline(pass_level(opt_level));
    mpm.run(module, mam);
  }
  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager pm;
    if (target.machine->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
      fail("codegen: LLVM cannot emit object code for '", target.triple, "'");
    pm.run(module);
  }
  TempDir dir;
  const auto obj_path = dir.path() / "kernels.o", so_path = dir.path() / "kernels.so";
  {
    std::ofstream out(obj_path, std::ios::binary);
    out.write(object.data(), static_cast<std::streamsize>(object.size()));
    if (!out) fail("codegen: cannot write '", obj_path.string(), "'");
  }
  // LLD keeps global state: one link at a time per process.
  static std::mutex link_mutex;
  std::lock_guard<std::mutex> lock(link_mutex);
  const std::string obj = obj_path.string(), so = so_path.string();
  const char* args[] = {"ld.lld", "-shared", "--hash-style=gnu", "-z", "noexecstack",
                        "-z",     "relro",   "-z",               "now", "-o",
                        so.c_str(), obj.c_str()};
  std::string out_text, err_text;
  llvm::raw_string_ostream out_os(out_text), err_os(err_text);
  const lld::Result r = lld::lldMain(args, out_os, err_os, {{lld::Gnu, &lld::elf::link}});
  if (r.retCode != 0) fail("codegen: linking the kernels failed: ", err_os.str());
  return read_file(so_path);
}

}  // namespace kiln::llvm_codegen
