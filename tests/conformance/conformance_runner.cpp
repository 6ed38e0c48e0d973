// Runs the ONNX backend node test suite (onnx/backend/test/data/node/*) through a Kiln backend.
// Each case runs in a forked child with a time limit, so a crash or hang is a reported failure,
// not the end of the run. Prints a per-op table and `conformance: N passed, M failed, K unsupported`.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "codegen/artifact/artifact_writer.h"
#include "codegen/cpu/run_compiled.h"
#include "codegen/ref/interpreter.h"
#include "frontend/onnx_loader.h"
#include "frontend/onnx_tensor.h"
#include "kiln/kiln.h"
#ifdef KILN_HAVE_CUDA_CODEGEN
#include "codegen/cuda/cuda_compiler.h"
#endif
#ifdef KILN_HAVE_OPENCL_CODEGEN
#include "codegen/opencl/opencl_compiler.h"
#endif

namespace fs = std::filesystem;
using namespace kiln;

namespace {

enum class Outcome { Pass, Fail, Unsupported };

// The message of a case that passed with integer inputs bound at compile time (cpu backend).
constexpr const char* kBoundInputsNote = "passed with shape-deciding inputs bound at compile time";

struct CaseResult {
  std::string name;
  std::string group;  // the op the case tests
  Outcome outcome = Outcome::Fail;
  std::string message;
};

struct Options {
  fs::path data;
  std::string backend = "ref";
  std::string cuda_arch = "sm_90";  // --backend cuda: the cubin built (PTX covers newer GPUs)
  // --export-dir: compile each case and write DIR/<case>/model.kiln with its data sets and a
  // kiln-run argument line per set, instead of running (for a machine with the device but no
  // compiler: scripts/cuda_conformance.sh runs them with kiln-run).
  fs::path export_dir;
  std::vector<std::string> filters;
  fs::path expected, write_expected;
  int jobs = 2;
  int timeout_s = 60;
  bool verbose = false;
};

// Compares with ONNX's tolerances: rtol 1e-3, atol 1e-7 for floats; exact otherwise.
std::string compare(const Tensor& got, const Tensor& want, const std::string& name) {
  if (got.dtype() != want.dtype()) {
    return cat("output '", name, "': dtype ", dtype_name(got.dtype()), ", expected ",
               dtype_name(want.dtype()));
  }
  if (got.dims() != want.dims()) {
    return cat("output '", name, "': shape ", dims_to_string(got.dims()), ", expected ",
               dims_to_string(want.dims()));
  }
  int64_t bad = 0, first = -1;
  double worst = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    bool ok;
    if (is_float(got.dtype())) {
      const double a = got.as_double(i), b = want.as_double(i);
      if (std::isnan(b)) ok = std::isnan(a);
      else if (std::isinf(b)) ok = a == b;
      else {
        const double err = std::fabs(a - b);
        ok = err <= 1e-7 + 1e-3 * std::fabs(b);
        if (!ok) worst = std::max(worst, err);
      }
    } else {
      ok = got.as_int64(i) == want.as_int64(i) &&
           (got.dtype() != DType::U64 ||
            got.data<uint64_t>()[i] == want.data<uint64_t>()[i]);
    }
    if (!ok) {
      if (first < 0) first = i;
      ++bad;
    }
  }
  if (bad == 0) return {};
  return cat("output '", name, "': ", bad, " of ", got.numel(), " elements differ (first at ",
             first, ": got ", got.as_double(first), ", expected ", want.as_double(first),
             is_float(got.dtype()) ? cat(", worst abs error ", worst) : std::string(), ")");
}

std::string group_of(const fs::path& dir, const std::string& name) {
  onnx::ModelProto m;
  try {
    frontend::parse_model_file(dir / "model.onnx", &m);
  } catch (const Error&) {
    return "(unreadable)";
  }
  std::set<std::string> ops;
  for (const auto& n : m.graph().node()) {
    if (n.op_type() != "Constant" || m.graph().node_size() == 1) {
      ops.insert(n.domain().empty() || n.domain() == "ai.onnx" ? n.op_type()
                                                                 : n.domain() + ":" + n.op_type());
    }
  }
  if (ops.size() == 1) return *ops.begin();
  // Function-expanded cases: name them after the test's op (test_<op>_..._expanded).
  std::string s = name.substr(5);
  const size_t e = s.find("_expanded");
  return "expanded:" + (e == std::string::npos ? s : s.substr(0, e));
}

// Compiles for the compiled backends (cpu, cuda) with the shapes and bound inputs in `co`.
cpu_codegen::CompiledModel compile_backend(Graph& g, const cpu_codegen::CpuCompileOptions& co,
                                           const Options& opt) {
  if (opt.backend == "cuda") {
#ifdef KILN_HAVE_CUDA_CODEGEN
    cuda_codegen::CudaCompileOptions o;
    o.arch = opt.cuda_arch;
    o.input_shapes = co.input_shapes;
    o.constant_inputs = co.constant_inputs;
    return cuda_codegen::compile_for_cuda(g, o);
#else
    fail("this kiln_conformance was built without CUDA (reconfigure with -DKILN_CUDA=ON)");
#endif
  }
  if (opt.backend == "opencl" || opt.backend == "opencl-fpga") {
#ifdef KILN_HAVE_OPENCL_CODEGEN
    opencl_codegen::OpenClCompileOptions o;
    o.fpga = opt.backend == "opencl-fpga";
    o.input_shapes = co.input_shapes;
    o.constant_inputs = co.constant_inputs;
    return opencl_codegen::compile_for_opencl(g, o);  // runs on OpenCL: the artifact says so
#else
    fail("this kiln_conformance was built without OpenCL (reconfigure with -DKILN_OPENCL=ON)");
#endif
  }
  return cpu_codegen::compile_for_cpu(g, co);
}

// Why `device` ("cuda", "opencl") cannot be opened ("" when it can), asked in a forked child: a
// parent that initialized CUDA (or PoCL's threads) could not fork working children.
std::string device_unavailable(const char* device) {
  int fds[2];
  if (pipe(fds) != 0) fail("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) {
    close(fds[0]);
    kiln_context* ctx = nullptr;
    kiln_status* s = kiln_context_create_for_device(nullptr, device, &ctx);
    const std::string why = s ? kiln_status_message(s) : "";
    if (!why.empty() && write(fds[1], why.data(), why.size()) < 0) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  std::string why;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) why.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (why.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
    why = cat("the ", device, " probe crashed");
  return why;
}

// --export-dir: the artifact once, then per data set its input/output .pb files and `args.txt`,
// the kiln-run arguments that run it (inputs in order, outputs by name; relative paths).
void export_set(const fs::path& dir, const cpu_codegen::CompiledModel& m, const Graph& g,
                const fs::path& set_dir, const std::map<std::string, Tensor>& frozen) {
  fs::create_directories(dir / set_dir.filename());
  if (!fs::exists(dir / "model.kiln"))
    artifact::write_artifact(dir / "model.kiln", m.meta, m.weights, m.code);
  const std::string set = set_dir.filename().string();
  std::string args = "--input";
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    if (frozen.count(g.inputs[i]->name())) continue;
    const std::string f = "input_" + std::to_string(i) + ".pb";
    fs::copy_file(set_dir / f, dir / set / f, fs::copy_options::overwrite_existing);
    args += " " + set + "/" + f;
  }
  if (args == "--input") args.clear();
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const std::string f = "output_" + std::to_string(i) + ".pb";
    if (!fs::exists(set_dir / f)) continue;
    fs::copy_file(set_dir / f, dir / set / f, fs::copy_options::overwrite_existing);
    args += " --expected " + g.outputs[i]->name() + "=" + set + "/" + f;
  }
  std::ofstream(dir / set / "args.txt") << args << "\n";
}

// Runs one case in this process; returns the outcome and a one-line message.
CaseResult run_case(const fs::path& dir, const Options& opt) {
  CaseResult r;
  r.name = dir.filename().string();
  try {
    frontend::LoadedModel lm = frontend::load_onnx(dir / "model.onnx");
    Graph& g = *lm.graph;
    if (opt.backend != "ref" && opt.backend != "cpu" && opt.backend != "cuda" &&
        opt.backend != "opencl" && opt.backend != "opencl-fpga")
      fail("unknown backend '", opt.backend, "'");
    Interpreter interp(g);
    // The CPU backend compiles once, for the first data set's input shapes.
    std::optional<cpu_codegen::CompiledModel> compiled;
    std::map<std::string, Tensor> frozen;  // inputs bound at compile time
    std::optional<frontend::LoadedModel> fresh;
    int sets = 0;
    std::vector<fs::path> set_dirs;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) {
        set_dirs.push_back(e.path());
      }
    }
    std::sort(set_dirs.begin(), set_dirs.end());
    for (const fs::path& sd : set_dirs) {
      std::map<std::string, Tensor> feeds;
      for (size_t i = 0; i < g.inputs.size(); ++i) {
        const fs::path p = sd / ("input_" + std::to_string(i) + ".pb");
        if (!fs::exists(p)) fail(sd.filename().string(), ": missing ", p.filename().string());
        feeds[g.inputs[i]->name()] = frontend::read_tensor_pb(p);
      }
      std::map<std::string, Tensor> outs;
      if (opt.backend == "ref") {
        outs = interp.run(feeds);
      } else {
        if (!compiled) {
          cpu_codegen::CpuCompileOptions co;
          for (const auto& [name, t] : feeds) co.input_shapes[name] = t.dims();
          try {
            compiled = compile_backend(g, co, opt);
          } catch (const Error& e) {
            // Shapes that depend on input values (Reshape targets, Range limits, axes given
            // as inputs) need those inputs bound at compile time, as `kilnc compile
            // --bind-input` does: retry with every integer input frozen to this set's value.
            if (std::string(e.what()).find("needs static shapes") == std::string::npos) throw;
            fresh.emplace(frontend::load_onnx(dir / "model.onnx"));
            co.input_shapes.clear();
            for (const auto& [name, t] : feeds) {
              if (is_float(t.dtype())) co.input_shapes[name] = t.dims();
              else co.constant_inputs[name] = t;
            }
            if (co.constant_inputs.empty()) throw;
            compiled = compile_backend(*fresh->graph, co, opt);
            frozen = co.constant_inputs;
          }
        }
        for (const auto& [name, t] : frozen) {
          const std::string diff = compare(feeds.at(name), t, name);
          if (!diff.empty()) fail("input '", name, "' was bound at compile time and differs");
          feeds.erase(name);
        }
        if (!opt.export_dir.empty()) {
          export_set(opt.export_dir / r.name, *compiled, g, sd, frozen);
          ++sets;
          continue;
        }
        outs = cpu_codegen::run_compiled(*compiled, feeds, 1);
      }
      for (size_t i = 0; i < g.outputs.size(); ++i) {
        const fs::path p = sd / ("output_" + std::to_string(i) + ".pb");
        if (!fs::exists(p)) continue;
        const Tensor want = frontend::read_tensor_pb(p);
        const std::string diff = compare(outs.at(g.outputs[i]->name()), want, g.outputs[i]->name());
        if (!diff.empty()) {
          r.outcome = Outcome::Fail;
          r.message = sd.filename().string() + ": " + diff;
          return r;
        }
      }
      ++sets;
    }
    if (sets == 0) fail("no test data sets");
    r.outcome = Outcome::Pass;
    if (!frozen.empty()) r.message = kBoundInputsNote;
  } catch (const Unsupported& e) {
    r.outcome = Outcome::Unsupported;
    r.message = e.what();
  } catch (const std::exception& e) {
    r.outcome = Outcome::Fail;
    r.message = e.what();
  }
  return r;
}

// Forks, runs the case with a time limit, and reads back "outcome\tmessage".
struct Child {
  pid_t pid;
  int fd;
  size_t index;
};

Child start_case(const fs::path& dir, size_t index, const Options& opt) {
  int fds[2];
  if (pipe(fds) != 0) fail("pipe failed");
  fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) {
    close(fds[0]);
    alarm(static_cast<unsigned>(opt.timeout_s));
    CaseResult r = run_case(dir, opt);
    std::string msg = r.message.substr(0, 600);
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    const std::string line = std::to_string(static_cast<int>(r.outcome)) + "\t" + msg;
    [[maybe_unused]] ssize_t w = write(fds[1], line.data(), line.size());
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  return {pid, fds[0], index};
}

// Reads the exited child's one-line result; a signal means a crash or the time limit.
CaseResult collect_case(const Child& c, int status, const std::string& name) {
  std::string data;
  char buf[4096];
  ssize_t n;
  while ((n = read(c.fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
  close(c.fd);
  CaseResult r;
  r.name = name;
  r.outcome = Outcome::Fail;
  const size_t tab = data.find('\t');
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    r.message = sig == SIGALRM ? "timed out" : cat("crashed with signal ", sig, " (", strsignal(sig), ")");
  } else if (tab == std::string::npos || WEXITSTATUS(status) != 0) {
    r.message = cat("child exited with status ", WEXITSTATUS(status), " and no result");
  } else {
    r.outcome = static_cast<Outcome>(std::stoi(data.substr(0, tab)));
    r.message = data.substr(tab + 1);
  }
  return r;
}

std::set<std::string> read_list(const fs::path& p) {
  std::set<std::string> s;
  std::ifstream in(p);
  if (!in) fail("cannot read '", p.string(), "'");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') s.insert(line);
  }
  return s;
}

int run(const Options& opt) {
  if (!opt.export_dir.empty() && (opt.backend == "ref" || opt.backend == "cpu"))
    fail("--export-dir is for device backends (cuda, opencl)");
  if (opt.backend == "cuda" && opt.export_dir.empty()) {
    if (const std::string why = device_unavailable("cuda"); !why.empty()) {
      std::printf("conformance: skipped: --backend cuda needs a CUDA GPU (%s)\n", why.c_str());
      return 77;
    }
  }
  if (opt.backend == "opencl" || opt.backend == "opencl-fpga") {
    if (const std::string why = device_unavailable("opencl"); !why.empty()) {
      std::printf("conformance: skipped: --backend %s needs an OpenCL device (%s)\n",
                  opt.backend.c_str(), why.c_str());
      return 77;
    }
  }
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(opt.data)) {
    const std::string n = e.path().filename().string();
    if (!e.is_directory() || n.rfind("test_", 0) != 0) continue;
    bool keep = opt.filters.empty();
    for (const auto& f : opt.filters) keep |= n.find(f) != std::string::npos;
    if (keep) cases.push_back(e.path());
  }
  std::sort(cases.begin(), cases.end());
  if (cases.empty()) fail("no test cases under '", opt.data.string(), "'");

  std::vector<CaseResult> results(cases.size());
  std::vector<Child> running;
  size_t next = 0;
  while (next < cases.size() || !running.empty()) {
    while (next < cases.size() && static_cast<int>(running.size()) < opt.jobs) {
      running.push_back(start_case(cases[next], next, opt));
      ++next;
    }
    int status = 0;
    const pid_t done = waitpid(-1, &status, 0);
    if (done < 0) fail("waitpid failed: ", std::strerror(errno));
    for (size_t i = 0; i < running.size(); ++i) {
      if (running[i].pid != done) continue;
      const Child c = running[i];
      running.erase(running.begin() + static_cast<long>(i));
      results[c.index] = collect_case(c, status, cases[c.index].filename().string());
      break;
    }
  }
  for (size_t i = 0; i < cases.size(); ++i) results[i].group = group_of(cases[i], results[i].name);

  struct Row { int pass = 0, fail = 0, unsupported = 0; };
  std::map<std::string, Row> table;
  int pass = 0, failed = 0, unsupported = 0;
  for (const auto& r : results) {
    Row& row = table[r.group];
    if (r.outcome == Outcome::Pass) { ++row.pass; ++pass; }
    else if (r.outcome == Outcome::Fail) { ++row.fail; ++failed; }
    else { ++row.unsupported; ++unsupported; }
  }
  std::printf("%-44s %6s %6s %6s\n", "op", "pass", "fail", "unsup");
  for (const auto& [op, row] : table) {
    std::printf("%-44s %6d %6d %6d\n", op.c_str(), row.pass, row.fail, row.unsupported);
  }
  if (opt.verbose) {
    for (const auto& r : results) {
      if (r.outcome != Outcome::Pass) {
        std::printf("%s %s: %s\n", r.outcome == Outcome::Fail ? "FAIL" : "UNSUPPORTED",
                    r.name.c_str(), r.message.c_str());
      }
    }
  }
  int rc = 0;
  if (!opt.write_expected.empty()) {
    std::ofstream out(opt.write_expected);
    out << "# ONNX node-suite cases expected to pass on the '" << opt.backend << "' backend.\n"
        << "# Regenerate: kiln_conformance --data DIR --write-expected FILE\n";
    for (const auto& r : results)
      if (r.outcome == Outcome::Pass) out << r.name << "\n";
  }
  if (!opt.expected.empty()) {
    const std::set<std::string> expected = read_list(opt.expected);
    int regressions = 0, new_passes = 0;
    for (const auto& r : results) {
      if (expected.count(r.name) && r.outcome != Outcome::Pass) {
        std::printf("REGRESSION %s: %s\n", r.name.c_str(), r.message.c_str());
        ++regressions;
      } else if (!expected.count(r.name) && r.outcome == Outcome::Pass) {
        ++new_passes;
      }
    }
    if (new_passes) std::printf("%d cases pass that are not in the expected list\n", new_passes);
    if (regressions) {
      std::printf("%d expected-pass cases no longer pass\n", regressions);
      rc = 1;
    }
  }
  int bound = 0;
  for (const auto& r : results) bound += r.outcome == Outcome::Pass && r.message == kBoundInputsNote;
  if (bound)
    std::printf("(%d of the passed cases had integer inputs that decide output shapes bound at "
                "compile time)\n", bound);
  std::printf("conformance: %d passed, %d failed, %d unsupported\n", pass, failed, unsupported);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) fail("flag ", a, " needs a value");
        return argv[++i];
      };
      if (a == "--data") opt.data = value();
      else if (a == "--backend") opt.backend = value();
      else if (a == "--cuda-arch") opt.cuda_arch = value();
      else if (a == "--export-dir") opt.export_dir = value();
      else if (a == "--filter") opt.filters.push_back(value());
      else if (a == "--expected") opt.expected = value();
      else if (a == "--write-expected") opt.write_expected = value();
      else if (a == "--jobs" || a == "-j") opt.jobs = std::max(1, std::stoi(value()));
      else if (a == "--timeout") opt.timeout_s = std::max(1, std::stoi(value()));
      else if (a == "-v" || a == "--verbose") opt.verbose = true;
      else fail("unknown flag '", a, "'");
    }
    if (opt.data.empty()) fail("usage: kiln_conformance --data DIR [--backend ref|cpu|cuda|opencl|opencl-fpga] [--cuda-arch sm_90] [--export-dir DIR] "
                               "[--filter S]... "
                               "[--expected FILE] [--write-expected FILE] [-j N] [-v]");
    return run(opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln_conformance: error: %s\n", e.what());
    return 2;
  }
}
