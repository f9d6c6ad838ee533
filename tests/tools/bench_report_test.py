#!/usr/bin/env python3
"""tools/bench_report.py end to end.

    bench_report_test.py TOOL [FIELD_BENCH]

TOOL is tools/bench_report.py; FIELD_BENCH (optional) the built ptvm_bench_field, run once on one
cheap case so that a real program's JSON (and the context it writes) goes through the tool too.
A synthetic file covers what one cheap run cannot: a size sweep, stage counters, a CPU case
beside a host-sim (modeled) case, repetitions with aggregates, an errored case. Malformed inputs
must give exit code 1 and a message naming the file. Exit 77 (skipped) without matplotlib.
"""

import json
import os
import subprocess
import sys
import tempfile

try:
    import importlib

    importlib.import_module("matplotlib")  # the tool imports it itself; this decides the skip
except ImportError:
    print(f"SKIP: matplotlib is not installed for {sys.executable} (Debian: python3-matplotlib)")
    sys.exit(77)

PTVM_KEYS = ["ptvm_version", "ptvm_build", "ptvm_backend", "ptvm_timing", "ptvm_timing_source",
             "ptvm_threads", "ptvm_threads_env", "ptvm_hardware_concurrency"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

failures = []
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        failures.append(what)
        print(f"FAIL: {what}")


def run_tool(tool, inputs, out_dir):
    return subprocess.run([sys.executable, tool, *inputs, "--out", out_dir], capture_output=True,
                          text=True, timeout=300)


def synthetic_file(path):
    def run(name, real_ms, **extra):
        entry = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 1,
                 "repetition_index": 0, "threads": 1, "iterations": 10, "real_time": real_ms,
                 "cpu_time": real_ms, "time_unit": "ms"}
        entry.update(extra)
        return entry

    benchmarks = [run(f"BM_Sweep/{log}", 2.0 ** (log - 10), items_per_second=1e6 * log)
                  for log in (10, 12, 14)]
    benchmarks += [run(f"BM_Stages/{log}/iterations:1/real_time", 30.0, lde_ms=10.0, commit_ms=8.0,
                       fri_ms=4.0, lde_cpu_ms=9.0, total_ms=22.0, proof_bytes=1234.0,
                       steps_per_second=1000.0 * log) for log in (8, 10)]
    for log in (8, 10):
        benchmarks.append(run(f"BM_Pair/{log}/real_time", 5.0 * log, label="cpu",
                              items_per_second=1e6))
        benchmarks.append(run(f"BM_Pair/{log}/iterations:1/manual_time", 0.01 * log,
                              label="hostsim", **{"cuda.commit.bytes": 5e5, "cuda.fri.bytes": 2e5}))
    for i, ms in enumerate((4.0, 6.0)):
        benchmarks.append(run("BM_Repeated/16", ms, repetitions=2, repetition_index=i))
    for aggregate, ms in (("mean", 5.0), ("median", 5.0), ("stddev", 1.4)):
        benchmarks.append(run(f"BM_Repeated/16_{aggregate}", ms, run_name="BM_Repeated/16",
                              run_type="aggregate", aggregate_name=aggregate, repetitions=2))
    benchmarks.append(run("BM_Broken/16", 0.0, error_occurred=True,
                          error_message="no CUDA device visible"))
    context = {"date": "2026-01-01T00:00:00+00:00", "host_name": "testhost",
               "executable": "/somewhere/ptvm_synthetic_bench", "num_cpus": 2,
               "load_avg": [0.5, 0.25, 0.125], "ptvm_version": "0.0.0-test",
               "ptvm_build": "release (NDEBUG)", "ptvm_backend": "hostsim",
               "ptvm_timing": "modeled", "ptvm_timing_source": "synthetic", "ptvm_threads": "2",
               "ptvm_threads_env": "unset", "ptvm_hardware_concurrency": "2",
               "ptvm_profile": "test-profile"}
    with open(path, "w") as f:
        json.dump({"context": context, "benchmarks": benchmarks}, f)


def pngs(out_dir, prefix):
    names = [n for n in os.listdir(out_dir) if n.startswith(prefix) and n.endswith(".png")]
    for n in names:
        with open(os.path.join(out_dir, n), "rb") as f:
            check(f.read(8) == PNG_MAGIC, f"{n} is a PNG")
    return names


def test_synthetic(tool, tmp):
    path = os.path.join(tmp, "synthetic.json")
    synthetic_file(path)
    out = os.path.join(tmp, "synthetic-report")
    r = run_tool(tool, [path], out)
    check(r.returncode == 0, f"synthetic report: exit 0 (got {r.returncode}: {r.stderr.strip()})")
    report_path = os.path.join(out, "report.md")
    check(os.path.isfile(report_path), "synthetic report: report.md written")
    if not os.path.isfile(report_path):
        return
    report = open(report_path, encoding="utf-8").read()
    for text in ("0.0.0-test", "hostsim", "modeled", "test-profile", "testhost",
                 "0.50, 0.25, 0.12", "error: no CUDA device visible", "BM_Repeated/16_mean",
                 "lde_ms (wall / cpu)", "CPU / GPU"):
        check(text in report, f"synthetic report mentions {text!r}")
    check(pngs(out, "throughput-"), "synthetic report: a throughput plot")
    check(pngs(out, "stages-"), "synthetic report: a stage breakdown plot")
    check(pngs(out, "cpu-vs-gpu-"), "synthetic report: a CPU against GPU plot")
    for png in os.listdir(out):
        if png.endswith(".png"):
            check(f"({png})" in report, f"synthetic report links {png}")


def test_real_program(tool, bench, tmp):
    if not bench or not os.path.isfile(bench):
        print(f"note: no built benchmark program at {bench!r}; real run not checked")
        return
    r = subprocess.run([bench, "--benchmark_filter=BM_FieldMul<M31>$", "--benchmark_min_time=0.01",
                        "--benchmark_format=json"], capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, f"{bench}: exit 0 (got {r.returncode}: {r.stderr.strip()[-300:]})")
    try:
        data = json.loads(r.stdout)
    except json.JSONDecodeError as e:
        check(False, f"{bench}: JSON output ({e})")
        return
    context = data.get("context", {})
    for key in PTVM_KEYS:
        check(key in context, f"{bench}: context has {key}")
    check(context.get("ptvm_backend") == "cpu", f"{bench}: ptvm_backend is cpu")
    check(context.get("ptvm_timing") == "measured", f"{bench}: ptvm_timing is measured")
    check(len(data.get("benchmarks", [])) == 1, f"{bench}: one benchmark ran")
    path = os.path.join(tmp, "field.json")
    with open(path, "w") as f:
        f.write(r.stdout)
    out = os.path.join(tmp, "field-report")
    r = run_tool(tool, [path], out)
    check(r.returncode == 0, f"field report: exit 0 (got {r.returncode}: {r.stderr.strip()})")
    report = open(os.path.join(out, "report.md"), encoding="utf-8").read()
    for text in ("ptvm_bench_field", "BM_FieldMul<M31>", str(context.get("ptvm_version")),
                 "ptvm version", "threads", "Throughput plot skipped"):
        check(text in report, f"field report mentions {text!r}")


def test_bad_inputs(tool, tmp):
    good = os.path.join(tmp, "synthetic.json")
    cases = {
        "not-json.json": ("this is not JSON {", "not JSON"),
        "not-bench.json": (json.dumps({"context": {}, "results": []}), "not a Google Benchmark"),
        "bad-entry.json": (json.dumps({"benchmarks": [{"real_time": 1}]}),
                           "not a Google Benchmark"),
        "list.json": ("[1, 2, 3]", "not a Google Benchmark"),
        # ptvm's reader discipline: duplicate keys and deep nesting are errors, not crashes.
        "duplicate.json": ('{"benchmarks": [], "benchmarks": [{"name": "x"}]}', "duplicate key"),
        "deep.json": ("[" * 100000 + "]" * 100000, "nested too deep"),
    }
    for name, (text, message) in cases.items():
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        r = run_tool(tool, [good, path], os.path.join(tmp, "bad-" + name))
        check(r.returncode == 1, f"{name}: exit 1 (got {r.returncode})")
        check(path in r.stderr and message in r.stderr,
              f"{name}: message names the file and says {message!r} (got {r.stderr.strip()!r})")
        check("Traceback" not in r.stderr, f"{name}: no Python traceback")
    missing = os.path.join(tmp, "missing.json")
    r = run_tool(tool, [missing], os.path.join(tmp, "bad-missing"))
    check(r.returncode == 1 and missing in r.stderr,
          f"missing file: exit 1 naming it ({r.stderr!r})")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    tool = sys.argv[1]
    bench = sys.argv[2] if len(sys.argv) == 3 else None
    with tempfile.TemporaryDirectory(prefix="ptvm-bench-report-") as tmp:
        test_synthetic(tool, tmp)
        test_real_program(tool, bench, tmp)
        test_bad_inputs(tool, tmp)
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
