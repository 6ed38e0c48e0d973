"""Every pass against the unoptimized model, on the benchmark models (issue 5's sweep).

For each model, `kilnc compile -O0` is the baseline; then each fp32 pass alone (--passes=P), the
-O1/-O2/-O3 pipelines, and the precision modes (--quantize fp16 / int8 / int8-dynamic) are
compiled and run on the same seeded inputs with `kiln-run`. The table shows launches, median
latency, the ratio to -O0, and the largest output difference from -O0, absolute and relative to
the largest |output|. fp32 passes must agree to float rounding (the script exits 1 when one
differs by more than --fp32-rtol of the output scale); precision modes are reported, not judged.
Pruning changes the model by design (its accuracy is measured with kiln-train) and is not here.

  build/venv/bin/python scripts/pass_sweep.py --build build/release [--models resnet18,...]
      [--threads 1] [--runs 10] [--warmup 2] [--work DIR]

A benchmark, not a test: it needs kiln-models, kilnc and kiln-run built in --build.
"""
import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_models  # noqa: E402  (seeded inputs, output file names, model list)

ROOT = Path(__file__).resolve().parent.parent
# Passes that need a flag's configuration: covered by the precision rows or not numeric.
FLAG_PASSES = {"prune-magnitude", "prune-channel", "prune-nm", "convert-fp16", "quantize-int8",
               "quantize-int8-dynamic"}
PRECISION = [("fp16", ["--quantize", "fp16"]), ("int8", ["--quantize", "int8"]),
             ("int8-dynamic", ["--quantize", "int8-dynamic"])]


def registered_passes():
    text = (ROOT / "passes" / "passes.def").read_text()
    return [p for p in re.findall(r'KILN_PASS\("([a-z0-9-]+)"', text) if p not in FLAG_PASSES]


def run(cmd, timeout):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        lines = (r.stderr or r.stdout).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else "exit %d" % r.returncode)
    return r.stdout + r.stderr


def compile_model(tools, onnx_path, out, flags, timeout):
    text = run([tools.kilnc, "compile", onnx_path, "-o", out] + flags, timeout)
    m = re.search(r"^launches: (\d+)", text, re.M)
    return int(m.group(1)) if m else -1


def run_model(tools, artifact, inputs, outdir, args):
    shutil.rmtree(outdir, ignore_errors=True)
    cmd = [tools.kiln_run, artifact] + bench_models.input_flags(inputs)
    cmd += ["--output-dir", outdir, "--threads", str(args.threads), "--bench", str(args.runs),
            "--warmup", str(args.warmup)]
    return bench_models.parse_latency(run(cmd, args.timeout))


def output_diff(base_dir, got_dir):
    """(max |got - base|, that over max |base|) across every output."""
    worst_abs, scale = 0.0, 0.0
    for f in sorted(Path(base_dir).glob("*.npy")):
        want = np.load(f).astype(np.float64)
        got = np.load(Path(got_dir) / f.name).astype(np.float64)
        if got.shape != want.shape:
            raise RuntimeError("output %s: shape %s vs %s" % (f.stem, got.shape, want.shape))
        if want.size:
            worst_abs = max(worst_abs, float(np.max(np.abs(got - want))))
            scale = max(scale, float(np.max(np.abs(want))))
    return worst_abs, worst_abs / scale if scale > 0 else worst_abs


def calibration_dir(work, inputs, seed):
    """Four seeded N(0,1) batches shaped like the inputs, as kilnc --calib-data reads them
    (INPUT_N.npy)."""
    d = work / "calib"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    rng = np.random.default_rng(seed + 1)
    for i in range(4):
        for name, path in inputs:
            x = np.load(path)
            v = rng.standard_normal(x.shape).astype(x.dtype) if x.dtype.kind == "f" else x
            np.save(d / ("%s_%d.npy" % (name, i)), v)
    return d


def sweep_model(tools, label, name, batch, args):
    work = Path(args.work) / label
    work.mkdir(parents=True, exist_ok=True)
    onnx_path = work / (label + ".onnx")
    run([tools.kiln_models, name, "-o", onnx_path, "--batch", batch, "--seed", str(args.seed)],
        args.timeout)
    inputs = bench_models.write_inputs(onnx_path, work / "inputs", args.seed)
    base_kiln, base_out = work / "O0.kiln", work / "out_O0"
    launches = compile_model(tools, onnx_path, base_kiln, ["-O0"], args.timeout)
    base_ms = run_model(tools, base_kiln, inputs, base_out, args)
    rows = [(label, "-O0 (baseline)", "fp32", launches, base_ms, 0.0, 0.0, "")]
    configs = [(p, "fp32", ["--passes=" + p]) for p in registered_passes()]
    configs += [(o, "fp32", [o]) for o in ("-O1", "-O2", "-O3")]
    calib = calibration_dir(work, inputs, args.seed)
    for mode, flags in PRECISION:
        extra = ["--calib-data", str(calib)] if mode == "int8" else []
        configs.append(("-O2 --quantize " + mode, mode, flags + extra))
    for title, kind, flags in configs:
        tag = re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")
        art, out = work / (tag + ".kiln"), work / ("out_" + tag)
        try:
            n = compile_model(tools, onnx_path, art, flags, args.timeout)
            ms = run_model(tools, art, inputs, out, args)
            dabs, drel = output_diff(base_out, out)
            rows.append((label, title, kind, n, ms, dabs, drel, ""))
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            rows.append((label, title, kind, -1, float("nan"), float("nan"), float("nan"), str(e)))
        print("  %s %s done" % (label, title), file=sys.stderr, flush=True)
    return rows


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--work", default=None, help="default BUILD/pass_sweep")
    ap.add_argument("--models", default="mnist-cnn,resnet18,mobilenetv2",
                    help="comma list of %s or NAME:BATCH" % ",".join(bench_models.MODELS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--fp32-rtol", type=float, default=1e-4,
                    help="largest fp32 difference allowed, relative to the largest |output|")
    args = ap.parse_args(argv)
    args.work = args.work or str(Path(args.build) / "pass_sweep")
    tools = bench_models.Tools(args.build)
    if not (tools.kilnc and tools.kiln_run and tools.kiln_models):
        sys.exit("pass_sweep: build kilnc, kiln-run and kiln-models in %s first" % args.build)
    rows = []
    for spec in args.models.split(","):
        name, batch = bench_models.MODELS.get(spec, (spec.partition(":")[0], None))
        batch = str(batch or spec.partition(":")[2] or 1)
        rows += sweep_model(tools, spec, name, batch, args)
    print("| model | compiled with | precision | launches | p50 ms | vs -O0 | max abs diff | "
          "max diff / max abs output | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    bad = 0
    base = {}
    for label, title, kind, n, ms, dabs, drel, note in rows:
        if title.startswith("-O0"):
            base[label] = ms
        if kind == "fp32" and not note and not drel <= args.fp32_rtol:
            note, bad = "differs beyond float rounding", bad + 1
        ratio = ms / base[label] if base.get(label) else float("nan")
        print("| %s | %s | %s | %s | %.3f | %.2f | %.2e | %.2e | %s |" %
              (label, title, kind, n if n >= 0 else "-", ms, ratio, dabs, drel, note))
    if bad or any(r[7] for r in rows):
        print("pass_sweep: %d configuration(s) failed or differ" % (bad + sum(1 for r in rows if r[7])))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
