#!/usr/bin/env python3
"""Kiln vs ONNX Runtime on the benchmark model set, same machine, same run.

For each model (generated on demand by kiln-models) and each thread count:
  Kiln: `kilnc compile MODEL.onnx -o MODEL.kiln` (timed: compile time), then
        `kiln-run MODEL.kiln --input ... --threads T --bench N --warmup W` (median latency).
  ORT:  a child Python process with an InferenceSession (all graph optimizations, intra-op
        threads T, inter-op threads 1) timing N runs after W warmups (median latency).
Each side runs as its own child process, --rounds times, alternating (ORT, Kiln, ORT, ...), so
the machine's drift reaches both; a row shows each side's median of its rounds' medians, and
its peak memory, the largest child max RSS (os.wait4).
Both sides get the same .npy inputs; the table shows max |Kiln - ORT| over the outputs.
Then single-thread SGEMM (1024^3, 256x1024x1024) as a fraction of the measured FMA peak,
from kiln_bench_kernels. A benchmark, not a test: it never fails on time.

Uses the venv's numpy and onnxruntime: build/venv/bin/python scripts/bench_models.py --help
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent

# label -> (kiln-models name, batch). "NAME:B" on the command line adds any other batch.
MODELS = {
    "mnist-cnn": ("mnist-cnn", 1),
    "mnist-cnn-b64": ("mnist-cnn", 64),
    "resnet18": ("resnet18", 1),
    "resnet50": ("resnet50", 1),
    "mobilenetv2": ("mobilenetv2", 1),
    "bert-base": ("bert-base", 1),
}
QUICK_MODELS = ["mnist-cnn", "mnist-cnn-b64", "mobilenetv2", "resnet18"]


class Fail(Exception):
    """One step of one model failed; the row shows the message and the run goes on."""


# ---------------------------------------------------------------------------------------------
# Child processes with their own peak memory
#
# A child's max RSS (ru_maxrss) includes the memory of the process that forked it: Linux
# records the old address space's high-water mark at exec. This driver grows (numpy, reading
# models), so it starts a small launcher first (Python without site, ~9 MiB, less than any
# measured tool) that forks every child and reports that child's own wait4 resource usage.

LAUNCHER = r"""
import os, signal, sys, time
for line in sys.stdin:
    timeout, out, err, *cmd = line.rstrip("\n").split("\0")
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 1)
            os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    # Block in wait4 (no polling: a launcher waking every few ms would steal the core from
    # the measured tool's spinning threads); a timer kills the child at the deadline.
    signal.signal(signal.SIGALRM, lambda *_: os.killpg(pid, signal.SIGKILL))
    signal.setitimer(signal.ITIMER_REAL, float(timeout))
    p, status, usage = os.wait4(pid, 0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    sys.stdout.write("%d %d %.6f\n" % (os.waitstatus_to_exitcode(status), usage.ru_maxrss,
                                        time.perf_counter() - t0))
    sys.stdout.flush()
"""


class Launcher:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", LAUNCHER], text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.scratch = Path(tempfile.mkdtemp(prefix="kiln_bench_"))

    def run(self, cmd, timeout_s):
        """Runs cmd; returns (rc, stdout, stderr, max_rss_bytes, wall_s). rc -9: time limit."""
        out, err = self.scratch / "stdout", self.scratch / "stderr"
        self.proc.stdin.write("\0".join([str(timeout_s), str(out), str(err)] + [str(c) for c in cmd]) + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().split()
        if len(reply) != 3:
            raise SystemExit("bench_models: the launcher process died")
        rc, rss_kib, wall = int(reply[0]), int(reply[1]), float(reply[2])
        # Linux reports ru_maxrss in KiB.
        return (rc, out.read_text(errors="replace"), err.read_text(errors="replace"),
                rss_kib * 1024, wall)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


LAUNCHER_PROC = None


def run_child(cmd, timeout_s):
    return LAUNCHER_PROC.run(cmd, timeout_s)


def first_error_line(stdout, stderr, rc):
    for text in (stderr, stdout):
        lines = [l.strip() for l in text.splitlines() if l.strip()]
        if lines:
            # The tools print "tool: error: what" as their last line of stderr.
            errs = [l for l in lines if "error" in l.lower()]
            return (errs[-1] if errs else lines[-1])[:160]
    return "exit code %d" % rc if rc >= 0 else "killed (signal %d or time limit)" % -rc


# ---------------------------------------------------------------------------------------------
# The ORT side (this script, re-invoked as a child: --ort-child)

def ort_child(args):
    import numpy as np
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    t0 = time.perf_counter()
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - t0
    feeds = {i.name: np.load(os.path.join(args.inputs, i.name + ".npy")) for i in sess.get_inputs()}
    names = [o.name for o in sess.get_outputs()]
    outs = sess.run(names, feeds)
    if args.outputs:
        os.makedirs(args.outputs, exist_ok=True)
        for n, v in zip(names, outs):
            np.save(os.path.join(args.outputs, n + ".npy"), v)
    for _ in range(args.warmup):
        sess.run(names, feeds)
    samples = []
    for _ in range(args.runs):
        t = time.perf_counter()
        sess.run(names, feeds)
        samples.append((time.perf_counter() - t) * 1e3)
    samples.sort()
    pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    print(json.dumps({"p50_ms": float(np.median(samples)), "p90_ms": pick(0.9),
                      "load_s": load_s, "ort_version": ort.__version__}))


# ---------------------------------------------------------------------------------------------
# Inputs, outputs

def onnx_inputs(model_path):
    """[(name, numpy dtype, dims)] of the graph inputs that are not initializers."""
    import onnx
    from onnx import helper
    m = onnx.load(str(model_path), load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    out = []
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        dims = []
        for d in tt.shape.dim:
            if not d.HasField("dim_value"):
                raise Fail("input %s has a symbolic dim; the benchmark needs static shapes" % vi.name)
            dims.append(d.dim_value)
        out.append((vi.name, helper.tensor_dtype_to_np_dtype(tt.elem_type), dims))
    return out


def write_inputs(model_path, folder, seed):
    """Seeded inputs: floats ~ N(0, 1); integer masks all ones; other integers in [0, 10)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, dtype, dims in onnx_inputs(model_path):
        if np.issubdtype(dtype, np.floating):
            v = rng.standard_normal(dims).astype(dtype)
        elif "mask" in name:
            v = np.ones(dims, dtype)
        else:
            v = rng.integers(0, 10, dims).astype(dtype)
        path = folder / (name + ".npy")
        np.save(path, v)
        files.append((name, path))
    return files


def safe_file_name(name):
    """kiln-run's output file name for an output (tools/common/input_files.cpp)."""
    s = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return ("_" + s if s in ("", ".", "..") else s) + ".npy"


def max_abs_diff(kiln_dir, ort_dir):
    import numpy as np
    worst = 0.0
    ort_files = sorted(Path(ort_dir).glob("*.npy"))
    if not ort_files:
        raise Fail("ORT wrote no outputs")
    for f in ort_files:
        want = np.load(f)
        k = Path(kiln_dir) / safe_file_name(f.stem)
        if not k.exists():
            raise Fail("kiln-run wrote no %s" % k.name)
        got = np.load(k)
        if got.shape != want.shape:
            raise Fail("output %s: Kiln shape %s vs ORT %s" % (f.stem, got.shape, want.shape))
        d = np.abs(got.astype(np.float64) - want.astype(np.float64))
        if not np.all(np.isfinite(d)):
            return float("nan")
        worst = max(worst, float(d.max()) if d.size else 0.0)
    return worst


# ---------------------------------------------------------------------------------------------
# Tools

class Tools:
    def __init__(self, build):
        self.build = Path(build)
        self.kiln_models = self.find("tools/kiln-models/kiln-models")
        self.kilnc = self.find("tools/kilnc", "tools/kilnc/kilnc")
        self.kiln_run = self.find("tools/kiln-run", "tools/kiln-run/kiln-run")
        self.bench_kernels = self.find("tests/bench/kiln_bench_kernels")

    def find(self, *candidates):
        for c in candidates:
            p = self.build / c
            if p.is_file() and os.access(p, os.X_OK):
                return p
        return None


def input_flags(inputs):
    return [x for n, p in inputs for x in ("--input", "%s=%s" % (n, p))]


def fresh_dir(path):
    """An empty folder, so outputs of an earlier run are never compared."""
    shutil.rmtree(path, ignore_errors=True)
    return path


def parse_latency(stdout):
    lines = [l for l in stdout.splitlines() if l.strip()]
    m = re.match(r"latency_ms: p50=([\d.]+) p90=([\d.]+) p99=([\d.]+)", lines[-1]) if lines else None
    if not m:
        raise Fail("no 'latency_ms:' line from kiln-run")
    return float(m.group(1))


class Bench:
    def __init__(self, args, tools):
        self.args = args
        self.tools = tools
        self.work = Path(args.work)

    def generate(self, label, name, batch):
        path = self.work / "models" / (label + ".onnx")
        gen = self.tools.kiln_models
        if gen is None:
            raise Fail("kiln-models not built in %s" % self.tools.build)
        # Reuse a model generated by this same kiln-models binary with the same seed.
        stamp = path.with_suffix(".seed")
        if (path.exists() and stamp.exists() and stamp.read_text() == str(self.args.seed)
                and path.stat().st_mtime > gen.stat().st_mtime):
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [str(gen), name, "-o", str(path), "--batch", str(batch), "--seed", str(self.args.seed)]
        rc, out, err, _, _ = run_child(cmd, self.args.timeout)
        if rc != 0:
            raise Fail("kiln-models: " + first_error_line(out, err, rc))
        stamp.write_text(str(self.args.seed))
        return path

    def compile(self, label, onnx_path):
        if self.tools.kilnc is None:
            raise Fail("kilnc not built")
        out = self.work / label / (label + ".kiln")
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.unlink()  # a failed compile must not leave the last run's artifact to time
        cmd = [str(self.tools.kilnc), "compile", str(onnx_path), "-o", str(out)] + self.args.kilnc_flags
        rc, so, se, _, wall = run_child(cmd, self.args.timeout)
        if rc != 0 or not out.exists():
            raise Fail("compile failed: " + first_error_line(so, se, rc))
        return out, wall

    def run_kiln(self, label, artifact, inputs, threads):
        if self.tools.kiln_run is None:
            raise Fail("kiln-run not built")
        outdir = fresh_dir(self.work / label / ("kiln_out_t%d" % threads))
        cmd = [str(self.tools.kiln_run), str(artifact)] + input_flags(inputs)
        cmd += ["--output-dir", str(outdir), "--threads", str(threads),
                "--bench", str(self.args.runs), "--warmup", str(self.args.warmup)]
        rc, so, se, rss, _ = run_child(cmd, self.args.timeout)
        if rc != 0:
            raise Fail("kiln-run: " + first_error_line(so, se, rc))
        return parse_latency(so), rss, outdir

    def run_ort(self, label, onnx_path, input_dir, threads):
        outdir = fresh_dir(self.work / label / ("ort_out_t%d" % threads))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--ort-child", "--model", str(onnx_path),
               "--inputs", str(input_dir), "--outputs", str(outdir), "--threads", str(threads),
               "--runs", str(self.args.runs), "--warmup", str(self.args.warmup)]
        rc, so, se, rss, _ = run_child(cmd, self.args.timeout)
        if rc != 0:
            raise Fail("ORT: " + first_error_line(so, se, rc))
        res = json.loads(so.strip().splitlines()[-1])
        return res["p50_ms"], rss, outdir, res["ort_version"]

    def run_ref(self, label, onnx_path, inputs):
        """kilnc run on the reference kernels: the model's meaning, checked against ORT."""
        outdir = fresh_dir(self.work / label / "ref_out")
        cmd = [str(self.tools.kilnc), "run", str(onnx_path)] + input_flags(inputs)
        cmd += ["--output-dir", str(outdir)]
        rc, so, se, _, wall = run_child(cmd, self.args.timeout)
        if rc != 0:
            raise Fail("kilnc run: " + first_error_line(so, se, rc))
        return outdir, wall

    def model_rows(self, label, name, batch):
        rows = []
        try:
            onnx_path = self.generate(label, name, batch)
            inputs = write_inputs(onnx_path, self.work / label / "inputs", self.args.seed)
        except Fail as e:
            return [dict(model=label, threads=t, error=str(e)) for t in self.args.threads]
        artifact, compile_s, kiln_error = None, None, None
        if not self.args.ort_only:
            try:
                artifact, compile_s = self.compile(label, onnx_path)
            except Fail as e:
                kiln_error = str(e)
        ref_note = None
        for t in self.args.threads:
            row = dict(model=label, threads=t, compile_s=compile_s, kiln_error=kiln_error)
            # Rounds alternate the two sides, so a slow spell of the machine (it drifts by
            # several percent over minutes) lands on both; each side's latency is the median
            # of its rounds' medians, its peak memory the largest.
            ort_ms, kiln_ms, ort_out = [], [], None
            for _ in range(self.args.rounds):
                if "ort_error" not in row:
                    try:
                        ms, rss, out, row["ort_version"] = self.run_ort(
                            label, onnx_path, self.work / label / "inputs", t)
                        ort_ms.append(ms)
                        row["ort_rss"] = max(row.get("ort_rss", 0), rss)
                        ort_out = ort_out or out
                    except Fail as e:
                        row["ort_error"] = str(e)
                if artifact is not None and row.get("kiln_error") is None:
                    try:
                        ms, rss, kiln_out = self.run_kiln(label, artifact, inputs, t)
                        kiln_ms.append(ms)
                        row["kiln_rss"] = max(row.get("kiln_rss", 0), rss)
                        if ort_out is not None and "diff" not in row:
                            row["diff"] = max_abs_diff(kiln_out, ort_out)
                    except Fail as e:
                        row["kiln_error"] = str(e)
            if ort_ms and "ort_error" not in row:
                row["ort_ms"] = median(ort_ms)
            if kiln_ms and row.get("kiln_error") is None:
                row["kiln_ms"] = median(kiln_ms)
            if self.args.ref_check and ort_out is not None and ref_note is None:
                try:
                    ref_out, wall = self.run_ref(label, onnx_path, inputs)
                    ref_note = "%.2e (%.0f s)" % (max_abs_diff(ref_out, ort_out), wall)
                except Fail as e:
                    ref_note = str(e)
            row["ref_check"] = ref_note
            rows.append(row)
            print_progress(row)
        return rows


# ---------------------------------------------------------------------------------------------
# Table

def fmt(v, spec):
    return "-" if v is None else format(v, spec)


COLUMNS = [("model", 14), ("thr", 3), ("Kiln p50 ms", 11), ("ORT p50 ms", 10), ("Kiln/ORT", 8),
           ("Kiln MiB", 8), ("ORT MiB", 7), ("compile s", 9), ("max|K-O|", 9)]


def row_cells(r):
    mib = lambda b: None if b is None else b / 2**20
    ratio = r["kiln_ms"] / r["ort_ms"] if r.get("kiln_ms") and r.get("ort_ms") else None
    return [r["model"], str(r["threads"]), fmt(r.get("kiln_ms"), ".3f"), fmt(r.get("ort_ms"), ".3f"),
            fmt(ratio, ".2f"), fmt(mib(r.get("kiln_rss")), ".0f"), fmt(mib(r.get("ort_rss")), ".0f"),
            fmt(r.get("compile_s"), ".2f"), fmt(r.get("diff"), ".1e")]


def row_notes(r):
    notes = [r[k] for k in ("error", "kiln_error", "ort_error") if r.get(k)]
    if r.get("ref_check"):
        notes.append("ref vs ORT: " + r["ref_check"])
    return "; ".join(notes)


def print_progress(r):
    c = row_cells(r)
    print("  %s, %d thread(s): Kiln %s ms, ORT %s ms, Kiln/ORT %s, peak MiB %s / %s, compile %s s, "
          "max|K-O| %s %s" % (r["model"], r["threads"], c[2], c[3], c[4], c[5], c[6], c[7], c[8],
                              row_notes(r)), flush=True)


def print_table(rows):
    head = "  ".join(h.rjust(w) if i > 1 else h.ljust(w) for i, (h, w) in enumerate(COLUMNS))
    print(head + "  notes")
    print("-" * (len(head) + 7))
    for r in rows:
        cells = row_cells(r)
        line = "  ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS)))
        print(line + "  " + row_notes(r))


def sgemm_rows(tools, repeats, timeout):
    """kiln_bench_kernels --gemm-only: the measured peak and the two SGEMM shapes.

    The peak is the best of several runs of a register-only FMA loop; the SGEMM rows show the
    best of `repeats` runs too (the same statistic), with the median beside it (what a busy
    machine gives)."""
    if tools.bench_kernels is None:
        print("\nSGEMM: kiln_bench_kernels not built")
        return None
    runs = {}
    for stat, flags in (("best", ["--min"]), ("median", [])):
        rc, out, err, _, _ = run_child([str(tools.bench_kernels), "--gemm-only", "--no-ref",
                                        "--repeats", str(repeats)] + flags, timeout)
        if rc != 0:
            print("\nSGEMM: " + first_error_line(out, err, rc))
            return None
        runs[stat] = out
    peak = re.search(r"ISA (\S+); measured single-core peak ([\d.]+) GFLOP/s", runs["best"])
    print("\nSGEMM vs this core's FMA peak (%s, %s GFLOP/s: best of 7 runs of a register-only FMA "
          "loop); best of %d runs, median in brackets:" % (peak.group(1), peak.group(2), repeats)
          if peak else "\nSGEMM:")
    result = {"peak_gflops": float(peak.group(2)) if peak else None, "rows": []}
    row_re = r"(sgemm \S+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)%\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)%"
    median = {m.group(1): m for m in re.finditer(row_re, runs["median"])}
    for m in re.finditer(row_re, runs["best"]):
        md = median.get(m.group(1))
        f = lambda g: float(m.group(g))
        med = lambda g: float(md.group(g)) if md else float("nan")
        print("  %-26s 1T %8.3f ms %7.1f GFLOP/s = %5.1f%% of peak (%5.1f%%);  2T %8.3f ms "
              "= %5.1f%% of 2x peak (%5.1f%%)" % (m.group(1), f(2), f(3), f(4), med(4), f(5), f(7),
                                                 med(7)))
        result["rows"].append({"shape": m.group(1), "ms_1t": f(2), "gflops_1t": f(3),
                               "peak_frac_1t": f(4) / 100, "median_peak_frac_1t": med(4) / 100,
                               "ms_2t": f(5), "gflops_2t": f(6), "peak_frac_2t": f(7) / 100,
                               "median_peak_frac_2t": med(7) / 100})
    return result


# ---------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=str(ROOT / "build" / "release"), help="build folder with the tools")
    p.add_argument("--work", default=None, help="where models, inputs and outputs go "
                   "(default BUILD/bench)")
    p.add_argument("--models", default=None, help="comma list of %s or NAME:BATCH "
                   "(default all)" % ",".join(MODELS))
    p.add_argument("--threads", default="1,2", help="comma list of thread counts (default 1,2)")
    p.add_argument("--runs", type=int, default=None, help="timed runs per measurement (default 20)")
    p.add_argument("--warmup", type=int, default=None, help="untimed runs first (default 3)")
    p.add_argument("--rounds", type=int, default=None,
                   help="alternating Kiln / ORT rounds per row, each --runs timed runs; the row "
                        "shows the median of the rounds' medians (default 3, 1 with --quick)")
    p.add_argument("--quick", action="store_true", help="5 runs, 1 warmup, models %s unless "
                   "--models is given" % ",".join(QUICK_MODELS))
    p.add_argument("--seed", type=int, default=1, help="weights and inputs seed")
    p.add_argument("--timeout", type=float, default=900, help="seconds per child process")
    p.add_argument("--kilnc-flag", dest="kilnc_flags", action="append", default=[],
                   help="extra flag for kilnc compile (repeatable), e.g. --kilnc-flag=-O3")
    p.add_argument("--ort-only", action="store_true", help="skip the Kiln side")
    p.add_argument("--ref-check", action="store_true", help="also run kilnc run (reference "
                   "kernels) once per model and compare with ORT; slow for the large models")
    p.add_argument("--no-sgemm", action="store_true", help="skip the SGEMM rows")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    # The ORT child (internal).
    p.add_argument("--ort-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--inputs", help=argparse.SUPPRESS)
    p.add_argument("--outputs", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.ort_child:
        a.threads = int(a.threads)
        return a
    if a.runs is None:
        a.runs = 5 if a.quick else 20
    if a.warmup is None:
        a.warmup = 1 if a.quick else 3
    if a.rounds is None:
        a.rounds = 1 if a.quick else 3
    if a.runs < 1 or a.warmup < 0 or a.rounds < 1:
        p.error("--runs and --rounds must be >= 1 and --warmup >= 0")
    try:
        a.threads = [int(t) for t in a.threads.split(",") if t]
    except ValueError:
        p.error("--threads: expected a comma list of integers, got %r" % a.threads)
    if not a.threads or min(a.threads) < 1:
        p.error("--threads: thread counts must be >= 1")
    labels = a.models.split(",") if a.models else (QUICK_MODELS if a.quick else list(MODELS))
    a.model_specs = []
    for label in labels:
        if label in MODELS:
            a.model_specs.append((label,) + MODELS[label])
            continue
        m = re.fullmatch(r"([a-z0-9-]+):(\d+)", label)
        if not m or int(m.group(2)) < 1:
            p.error("--models: unknown model %r (known: %s, or NAME:BATCH)" % (label, ",".join(MODELS)))
        a.model_specs.append(("%s-b%s" % (m.group(1), m.group(2)), m.group(1), int(m.group(2))))
    a.work = a.work or str(Path(a.build) / "bench")
    return a


def main(argv):
    args = parse_args(argv)
    if args.ort_child:
        ort_child(args)
        return 0
    global LAUNCHER_PROC
    LAUNCHER_PROC = Launcher()  # first, while this process is small
    tools = Tools(args.build)
    if tools.kiln_models is None:
        print("bench_models: kiln-models not found in %s (build it first)" % args.build, file=sys.stderr)
        return 1
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print("machine: %s, %d CPUs, load average %.1f (other work skews the timings); %d rounds "
          "alternating Kiln and ORT, each %d timed runs after %d warmup (latency: the median of "
          "the rounds' medians); peak memory = the child's max RSS"
          % (cpu, os.cpu_count(), os.getloadavg()[0], args.rounds, args.runs, args.warmup))
    print("ORT side: a Python process (interpreter, numpy and onnxruntime count toward its memory)\n")
    try:
        import numpy, onnx  # noqa: F401  (used by the input writer and the comparison)
    except ImportError as e:
        print("bench_models: %s; run it with build/venv/bin/python (scripts/setup.sh makes it)" % e,
              file=sys.stderr)
        return 1
    bench = Bench(args, tools)
    rows = []
    try:
        for label, name, batch in args.model_specs:
            rows += bench.model_rows(label, name, batch)
    except KeyboardInterrupt:
        print("\ninterrupted: the rows so far")
        print_table(rows)
        return 130
    print()
    print_table(rows)
    gemm = None if args.no_sgemm else sgemm_rows(tools, 3 if args.quick else 15, args.timeout)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "sgemm": gemm, "runs": args.runs, "warmup": args.warmup}, f, indent=1)
    LAUNCHER_PROC.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
