"""int8 vs fp32 latency: Kiln (kilnc --quantize int8) and ORT (quantize_static, QDQ, per-channel
s8 weights, u8 activations) on the same model and calibration data. Run once:
  build/venv/bin/python scripts/bench_int8.py BUILD_DIR OUT_DIR mnist-cnn:64 resnet18 mobilenetv2
THREADS (default 2) and RUNS (default 30) come from the environment. Calibration: 4 seeded
N(0, 1) inputs, shared by both sides. A benchmark, not a test.
"""
import os, re, subprocess, sys, time
import numpy as np

build, out = sys.argv[1], sys.argv[2]
models = sys.argv[3:]
threads = int(os.environ.get("THREADS", "2"))
runs = int(os.environ.get("RUNS", "30"))
os.makedirs(out, exist_ok=True)
tools = os.path.join(build, "tools")


def sh(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def kiln_p50(kiln):
    o = sh([f"{tools}/kiln-run", kiln, "--random-inputs", "--bench", str(runs), "--warmup", "5",
            "--threads", str(threads)])
    return float(re.search(r"latency_ms: p50=([0-9.]+)", o).group(1))


def ort_p50(model, x, name):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    for _ in range(5):
        s.run(None, {name: x})
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        s.run(None, {name: x})
        t.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(t))


print(f"threads={threads} runs={runs}")
print("| model | Kiln fp32 ms | Kiln int8 ms | int8/fp32 | ORT fp32 ms | ORT int8 (quantize_static) ms | Kiln int8 / ORT int8 |")
print("|---|---|---|---|---|---|---|")
for spec in models:
    name, _, batch = spec.partition(":")
    batch = int(batch or 1)
    tag = f"{name}-b{batch}"
    onnx_path = os.path.join(out, tag + ".onnx")
    sh([f"{tools}/kiln-models/kiln-models", name, "-o", onnx_path, "--batch", str(batch)])
    import onnx
    m = onnx.load(onnx_path)
    inp = m.graph.input[0]
    dims = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    calib = os.path.join(out, tag + "_calib")
    os.makedirs(calib, exist_ok=True)
    rng = np.random.default_rng(0)
    samples = [rng.standard_normal(dims).astype(np.float32) for _ in range(4)]
    for i, s in enumerate(samples):
        np.save(os.path.join(calib, f"{inp.name}_{i}.npy"), s)
    k32 = os.path.join(out, tag + ".kiln")
    k8 = os.path.join(out, tag + ".int8.kiln")
    sh([f"{tools}/kilnc", "compile", onnx_path, "-o", k32, "-q"])
    sh([f"{tools}/kilnc", "compile", onnx_path, "-o", k8, "-q", "--quantize", "int8",
        "--calib-data", calib])
    from onnxruntime.quantization import quantize_static, CalibrationDataReader, QuantFormat, QuantType

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{inp.name: s} for s in samples])

        def get_next(self):
            return next(self.it, None)

    ort8 = os.path.join(out, tag + ".ort_int8.onnx")
    quantize_static(onnx_path, ort8, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    x = samples[0]
    kf, ki = kiln_p50(k32), kiln_p50(k8)
    of, oi = ort_p50(onnx_path, x, inp.name), ort_p50(ort8, x, inp.name)
    print(f"| {tag} | {kf:.3f} | {ki:.3f} | {ki/kf:.2f} | {of:.3f} | {oi:.3f} | {ki/oi:.2f} |", flush=True)
