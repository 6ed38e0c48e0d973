#!/usr/bin/env python3
"""Kiln's CUDA target vs PyTorch (cuDNN) and, where installed, ONNX Runtime's CUDA provider.

Two steps, because the GPU machine has no LLVM/protobuf to build kilnc:
  prepare (here):  generates each model with kiln-models, compiles it with
                   `kilnc compile --target cuda --cuda-arch ARCH` (timed), writes seeded .npy
                   inputs, and copies kiln-run next to them, all under DIR.
  run (GPU):       `kiln-run MODEL.kiln --device cuda --bench N --warmup W` (median latency; the
                   launch list replays as a CUDA graph) against the torchvision model of the same
                   architecture (random weights, eval, fp32, cudnn.benchmark) and, when
                   onnxruntime has CUDAExecutionProvider and the .onnx was kept, ORT on the GPU
                   with max |Kiln - ORT| over the outputs. Prints one markdown table.

  python3 scripts/bench_cuda.py prepare --build build-hcuda --dir .cuda_run/bench \
      [--models mnist-cnn:1,mnist-cnn:64,mobilenetv2:1,resnet18:1] [--arch sm_90] [--keep-onnx]
  python3 scripts/bench_cuda.py run --dir .cuda_run/bench [--runs 100] [--warmup 10]
A benchmark, not a test: it never fails on time.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

TORCHVISION = {"resnet18": "resnet18", "resnet50": "resnet50", "mobilenetv2": "mobilenet_v2"}


def run(cmd, timeout=900):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        lines = [l for l in (p.stderr + p.stdout).splitlines() if l.strip()]
        raise RuntimeError((lines[-1] if lines else "exit %d" % p.returncode)[:200])
    return p.stdout


def prepare(a):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_models import write_inputs
    build, out = Path(a.build), Path(a.dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(build / "tools/kiln-run", out / "kiln-run")
    manifest = []
    for spec in a.models.split(","):
        name, batch = spec.split(":")
        label = "%s-b%s" % (name, batch)
        onnx_path = out / (label + ".onnx")
        run([build / "tools/kiln-models/kiln-models", name, "-o", onnx_path, "--batch", batch, "--seed", "1"])
        inputs = write_inputs(onnx_path, out / (label + "_inputs"), 1)
        t0 = time.perf_counter()
        run([build / "tools/kilnc", "compile", onnx_path, "-o", out / (label + ".kiln"), "--target", "cuda",
             "--cuda-arch", a.arch, "-q"])
        compile_s = time.perf_counter() - t0
        if not a.keep_onnx:
            onnx_path.unlink()
        manifest.append({"label": label, "name": name, "batch": int(batch), "compile_s": compile_s,
                         "inputs": [[n, str(Path(p).relative_to(out))] for n, p in inputs]})
        print("prepared %s (compile %.2f s)" % (label, compile_s))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


def child_ort(a):
    import numpy as np
    import onnxruntime as ort
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        raise SystemExit("onnxruntime has no CUDAExecutionProvider")
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(a.model, so, providers=["CUDAExecutionProvider"])
    feeds = {i.name: np.load(os.path.join(a.inputs, i.name + ".npy")) for i in s.get_inputs()}
    names = [o.name for o in s.get_outputs()]
    for n, v in zip(names, s.run(names, feeds)):
        np.save(os.path.join(a.outputs, n + ".npy"), v)
    return time_it(lambda: s.run(names, feeds), a, lambda: None)


def child_torch(a):
    import torch
    import torchvision
    torch.backends.cudnn.benchmark = True
    model = getattr(torchvision.models, a.arch)(weights=None).eval().cuda()
    x = torch.randn(a.batch, 3, 224, 224, device="cuda")
    with torch.inference_mode():
        return time_it(lambda: model(x), a, torch.cuda.synchronize)


def time_it(fn, a, sync):
    for _ in range(a.warmup):
        fn()
    sync()
    samples = []
    for _ in range(a.runs):
        t = time.perf_counter()
        fn()
        sync()
        samples.append((time.perf_counter() - t) * 1e3)
    samples.sort()
    print(json.dumps({"p50_ms": samples[len(samples) // 2]}))


def peer(args):
    try:
        return json.loads(run([sys.executable, __file__] + args).strip().splitlines()[-1])["p50_ms"]
    except Exception as e:  # a missing peer is a column of n/a, not a failed benchmark
        print("  peer %s: %s" % (args[0], str(e)[:120]), file=sys.stderr)
        return None


def bench(a):
    import numpy as np
    d = Path(a.dir).resolve()
    fmt = lambda v, f="%.3f": "n/a" if v is None else f % v
    rows = ["| model | Kiln CUDA p50 ms | PyTorch p50 ms | ORT CUDA p50 ms | Kiln compile s | max abs diff vs ORT |",
            "|---|---|---|---|---|---|"]
    for m in json.loads((d / "manifest.json").read_text()):
        label = m["label"]
        flags = [x for n, p in m["inputs"] for x in ("--input", "%s=%s" % (n, d / p))]
        kout = d / (label + "_kiln_out")
        try:
            out = run([d / "kiln-run", d / (label + ".kiln"), "--device", "cuda", *flags, "--output-dir", kout,
                       "--bench", a.runs, "--warmup", a.warmup])
            kiln = float(re.search(r"latency_ms: p50=([\d.]+)", out).group(1))
        except Exception as e:
            rows.append("| %s | error: %s | | | | |" % (label, str(e)[:120]))
            continue
        torch_ms = peer(["torch", "--arch", TORCHVISION[m["name"]], "--batch", str(m["batch"]),
                         "--runs", str(a.runs), "--warmup", str(a.warmup)]) if m["name"] in TORCHVISION else None
        ort_ms, diff = None, None
        if (d / (label + ".onnx")).exists():
            oout = d / (label + "_ort_out")
            oout.mkdir(exist_ok=True)
            ort_ms = peer(["ort", "--model", str(d / (label + ".onnx")), "--inputs", str(d / (label + "_inputs")),
                           "--outputs", str(oout), "--runs", str(a.runs), "--warmup", str(a.warmup)])
            if ort_ms is not None:
                diff = max(float(np.max(np.abs(np.load(f).astype(np.float64) -
                                               np.load(kout / f.name).astype(np.float64))))
                           for f in oout.glob("*.npy"))
        rows.append("| %s | %s | %s | %s | %.2f | %s |" % (label, fmt(kiln), fmt(torch_ms), fmt(ort_ms),
                                                            m["compile_s"], fmt(diff, "%.2e")))
    print("\n".join(rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["prepare", "run", "torch", "ort"])
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--dir", default=".cuda_run/bench")
    ap.add_argument("--models", default="mnist-cnn:1,mnist-cnn:64,mobilenetv2:1,resnet18:1")
    ap.add_argument("--arch", default="sm_90")
    ap.add_argument("--keep-onnx", action="store_true")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--model"), ap.add_argument("--inputs"), ap.add_argument("--outputs")
    a = ap.parse_args()  # "torch" reads --arch as the torchvision model name
    {"prepare": prepare, "run": bench, "torch": child_torch, "ort": child_ort}[a.step](a)


if __name__ == "__main__":
    main()
