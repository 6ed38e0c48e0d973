// A model quantized by ONNX Runtime itself (onnxruntime.quantization.quantize_static: QDQ
// format, per-channel s8 weights, u8 activations), generated here with the build venv's Python,
// imported by import-qdq onto KilnQConv / KilnQMatMul and compared with ONNX Runtime's own run
// of the quantized model: on the reference interpreter and compiled for the CPU (-O2, where
// import-qdq runs first). ORT requantizes with its own rounding of the output scale, so a u8
// intermediate can differ by one step: allowed error 2% of max |y|. Skips without the venv.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "codegen/cpu/run_compiled.h"
#include "codegen/ref/interpreter.h"
#include "frontend/onnx_loader.h"
#include "passes/pass_manager.h"
#include "runtime/io/npy.h"
#include "tests/passes/quantize_test_util.h"

namespace kiln::cpu_codegen {
namespace {

namespace fs = std::filesystem;

fs::path repo_root() { return fs::path(__FILE__).parent_path().parent_path().parent_path(); }

constexpr const char* kScript = R"(import sys, numpy as np, onnx, onnxruntime as ort
from onnx import helper as h, TensorProto as T
from onnxruntime.quantization import quantize_static, CalibrationDataReader, QuantFormat, QuantType
d = sys.argv[1]
r = np.random.default_rng(0)
def w(name, *shape, s=0.3): return onnx.numpy_helper.from_array((r.standard_normal(shape) * s).astype(np.float32), name)
g = h.make_graph([
    h.make_node('Conv', ['x', 'w1', 'b1'], ['c1'], pads=[1, 1, 1, 1]),
    h.make_node('Relu', ['c1'], ['r1']),
    h.make_node('Conv', ['r1', 'w2', 'b2'], ['c2'], pads=[1, 1, 1, 1], strides=[2, 2]),
    h.make_node('Relu', ['c2'], ['r2']),
    h.make_node('Flatten', ['r2'], ['f']),
    h.make_node('Gemm', ['f', 'w3', 'b3'], ['y'], transB=1)],
  'g', [h.make_tensor_value_info('x', T.FLOAT, [2, 3, 8, 8])],
  [h.make_tensor_value_info('y', T.FLOAT, [2, 10])],
  [w('w1', 8, 3, 3, 3), w('b1', 8, s=0.1), w('w2', 8, 8, 3, 3, s=0.15), w('b2', 8, s=0.1),
   w('w3', 10, 128, s=0.1), w('b3', 10, s=0.1)])
m = h.make_model(g, opset_imports=[h.make_opsetid('', 17)])
onnx.save(m, d + '/f32.onnx')
samples = [r.standard_normal((2, 3, 8, 8)).astype(np.float32) for _ in range(4)]
class Reader(CalibrationDataReader):
    def __init__(self): self.it = iter([{'x': s} for s in samples])
    def get_next(self): return next(self.it, None)
quantize_static(d + '/f32.onnx', d + '/qdq.onnx', Reader(), quant_format=QuantFormat.QDQ,
                per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
x = r.standard_normal((2, 3, 8, 8)).astype(np.float32)
s = ort.InferenceSession(d + '/qdq.onnx', providers=['CPUExecutionProvider'])
np.save(d + '/x.npy', x)
np.save(d + '/y.npy', s.run(None, {'x': x})[0].astype(np.float32))
)";

void expect_close_to_ort(const Tensor& got, const Tensor& want, const char* what) {
  ASSERT_EQ(got.dims(), want.dims()) << what;
  double m = 0, worst = 0;
  for (int64_t i = 0; i < want.numel(); ++i) m = std::max(m, std::fabs(want.as_double(i)));
  for (int64_t i = 0; i < want.numel(); ++i)
    worst = std::max(worst, std::fabs(got.as_double(i) - want.as_double(i)));
  EXPECT_LE(worst, 0.02 * m) << what << ": max |Kiln - ORT| " << worst << ", max |y| " << m;
}

TEST(QdqOrt, ImportedModelMatchesOnnxRuntime) {
  const fs::path python = repo_root() / "build" / "venv" / "bin" / "python";
  if (!fs::exists(python)) GTEST_SKIP() << "no " << python << ": ONNX Runtime comparison skipped";
  const fs::path dir = test::quant_temp_dir("qdq_ort");
  std::ofstream(dir / "make.py") << kScript;
  const std::string cmd = python.string() + " " + (dir / "make.py").string() + " " + dir.string() +
                          " >" + (dir / "py.log").string() + " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream err(dir / "py.log");
    const std::string msg((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    if (msg.find("No module named") != std::string::npos) GTEST_SKIP() << msg;
    FAIL() << "quantize_static / ORT failed: " << msg;
  }
  std::map<std::string, Tensor> in;
  in.emplace("x", read_npy(dir / "x.npy"));
  const Tensor want = read_npy(dir / "y.npy");

  frontend::LoadedModel ref = frontend::load_onnx(dir / "qdq.onnx");
  PassContext ctx;
  ctx.verify_after_each = true;
  ASSERT_TRUE(run_passes(*ref.graph, {"import-qdq"}, ctx));
  int qconv = 0, qmatmul = 0;
  for (const auto& n : ref.graph->nodes()) {
    qconv += n->op == OpKind::KilnQConv;
    qmatmul += n->op == OpKind::KilnQMatMul;
  }
  EXPECT_EQ(qconv, 2);
  EXPECT_EQ(qmatmul, 1);
  expect_close_to_ort(Interpreter(*ref.graph).run(in).at("y"), want, "reference");

  frontend::LoadedModel lm = frontend::load_onnx(dir / "qdq.onnx");
  const CompiledModel m = compile_for_cpu(*lm.graph, CpuCompileOptions{});
  expect_close_to_ort(run_compiled(m, in, 2).at("y"), want, "compiled");
}

}  // namespace
}  // namespace kiln::cpu_codegen
