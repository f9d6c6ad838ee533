#!/usr/bin/env python3
"""Turns Google Benchmark JSON files from ptvm's bench/ programs into a readable report.

    tools/bench_report.py BENCH.json... --out DIR

BENCH.json is what a program writes with --benchmark_format=json (stdout) or --benchmark_out=FILE.
DIR/report.md gets, per program: its context (ptvm version, backend, measured or modeled times,
profile, threads, host, date, load average; bench/bench_context.hpp writes the ptvm_* keys), a
table of every benchmark (times with units, items/s, bytes/s, label) and a table of its counters.
Beside it, PNG plots (matplotlib, Agg backend):

  throughput-*.png  steps/s (else items/s, else bytes/s) against size, for benchmark families whose
                    names carry a size argument ("BM_X/16", "BM_X/1024/8": the first number, or a
                    named argument such as "log_rows:16"); an argument of at most 40 is read as a
                    log2 size. Log-scaled x.
  stages-*.png      stacked bars of per-stage time counters ("lde_ms", "commit_ms", ...; totals
                    and *_cpu_ms left out) and of host-sim's per-stage bytes ("cuda.*.bytes").
  cpu-vs-gpu-*.png  the CPU backend against the GPU (modeled H100 under host-sim, or measured
                    with CUDA) for cases of one program with the same name and size; a case's
                    backend is its label when that is cpu, hostsim or cuda, else the program's
                    ptvm_backend (bench/cuda_backend's programs write both).

A plot without data is skipped with a line in the report saying why; without matplotlib the report
is written without plots and says so. Exit codes: 0 report written; 1 an input is unreadable or
not a Google Benchmark JSON file (the message names it), or DIR cannot be written; 2 usage.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections import OrderedDict
from datetime import datetime, timezone

# Keys of a benchmark entry that are not user counters.
STANDARD_KEYS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
    "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit",
    "bytes_per_second", "items_per_second", "label", "error_occurred", "error_message",
    "aggregate_name", "aggregate_unit", "big_o", "rms", "complexity_n", "skipped", "skip_message",
}
# Name components Google Benchmark appends for run options: not arguments.
OPTION_COMPONENT = re.compile(
    r"^(iterations|repeats|min_time|min_warmup_time):|^(real_time|manual_time|process_time)$")
NUMBER = re.compile(r"^-?\d+$")
NAMED_NUMBER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):(-?\d+)$")
SIZE_ARG_NAME = re.compile(r"log|size|rows|steps|len|^n$", re.IGNORECASE)
TIME_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
BACKENDS = ("cpu", "hostsim", "cuda")
METRIC_UNITS = OrderedDict([("steps_per_second", "steps/s"), ("items_per_second", "items/s"),
                            ("bytes_per_second", "bytes/s")])
# Totals (and the CPU-time twins) are not stages: stacking them would count work twice.
NOT_A_STAGE = re.compile(r"(_cpu_ms|total_ms|end_to_end_ms|verify_ms|^prove_ms)$")
STAGE_ORDER = ["execute", "witness", "lde", "commit", "interaction", "composition", "oods", "deep",
               "fri", "pow", "queries"]
MODEL_CAVEAT = ("modeled = bytes moved / 3.35 TB/s (an H100's bandwidth), with no launch latency "
                "and no compute limit, so small sizes look far faster than a real GPU would be")
# Context keys shown, in this order, with their titles; other scalar keys follow.
CONTEXT_KEYS = [
    ("ptvm_version", "ptvm version"), ("ptvm_build", "ptvm build"), ("ptvm_backend", "backend"),
    ("ptvm_timing", "times"), ("ptvm_timing_source", "timing source"), ("ptvm_profile", "profile"),
    ("ptvm_threads", "threads"), ("ptvm_threads_env", "PTVM_THREADS"),
    ("ptvm_hardware_concurrency", "hardware concurrency"), ("ptvm_device", "device"),
    ("ptvm_note", "note"), ("host_name", "host"), ("date", "date"), ("load_avg", "load average"),
    ("num_cpus", "CPUs"), ("mhz_per_cpu", "MHz per CPU"), ("cpu_scaling_enabled", "CPU scaling"),
    ("executable", "executable"), ("library_build_type", "Google Benchmark library build"),
]
REQUIRED_CONTEXT = ("ptvm_version", "ptvm_backend", "ptvm_timing", "ptvm_threads")


class InputError(Exception):
    pass


# ------------------------------------------------------------------------------------------------
# Reading


def _number(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _to_ms(value, unit: str):
    value = _number(value)
    return None if value is None else value * TIME_TO_MS.get(unit, 1e-6)


def split_name(run_name: str):
    """'BM_Fft/evaluate/16/8/iterations:1/real_time' -> ('BM_Fft/evaluate', [(None, 16),
    (None, 8)]). Named arguments ('jobs:64') keep their name; run options are dropped."""
    parts = run_name.split("/")
    base, args = [parts[0]], []
    for part in parts[1:]:
        named = NAMED_NUMBER.match(part)
        if OPTION_COMPONENT.search(part):
            continue
        if NUMBER.match(part):
            args.append((None, int(part)))
        elif named:
            args.append((named.group(1), int(named.group(2))))
        elif not args:
            base.append(part)  # a BENCHMARK_CAPTURE case name, before any argument
        else:
            args.append((part, None))
    return "/".join(base), args


def args_text(args) -> str:
    return "".join(f"/{v}" if n is None else (f"/{n}" if v is None else f"/{n}:{v}")
                   for n, v in args)


class Run:
    """One benchmark entry, its name split into a base name and arguments."""

    def __init__(self, entry: dict, program: "Program"):
        self.entry = entry
        self.program = program
        self.name = entry["name"]
        self.run_name = entry.get("run_name", self.name)
        self.label = entry.get("label") or ""
        self.error = None
        if entry.get("error_occurred"):
            self.error = entry.get("error_message") or "error"
        elif entry.get("skipped"):
            self.error = entry.get("skip_message") or "skipped"
        is_aggregate = entry.get("run_type") == "aggregate"
        self.aggregate = entry.get("aggregate_name") if is_aggregate else None
        self.time_unit = entry.get("time_unit", "ns")
        self.real_ms = _to_ms(entry.get("real_time"), self.time_unit)
        self.cpu_ms = _to_ms(entry.get("cpu_time"), self.time_unit)
        self.counters = OrderedDict(
            (k, float(v)) for k, v in entry.items()
            if k not in STANDARD_KEYS and _number(v) is not None)
        self.base, self.args = split_name(self.run_name)
        self.backend = self.label if self.label in BACKENDS else program.context.get("ptvm_backend")

    def display(self) -> str:
        return self.base + args_text(self.args) + (f" [{self.label}]" if self.label else "")

    def modeled(self) -> bool:
        if self.backend == "hostsim":
            return True
        return self.label not in BACKENDS and self.program.context.get("ptvm_timing") == "modeled"

    def size(self):
        """(index into args, value) of the size argument, or None."""
        for i, (arg_name, value) in enumerate(self.args):
            if value is not None and (arg_name is None or SIZE_ARG_NAME.search(arg_name)):
                return i, value
        return None

    def rate(self, key: str):
        if key == "steps_per_second":  # a user counter, not a standard field
            value = self.counters.get(key)
        else:
            value = _number(self.entry.get(key))
        return value if value is not None and value > 0 else None


class Program:
    def __init__(self, path: str, data: dict):
        self.path = path
        self.context = data.get("context") or {}
        executable = self.context.get("executable")
        if isinstance(executable, str) and executable:
            self.name = os.path.basename(executable)
        else:
            self.name = os.path.splitext(os.path.basename(path))[0]
        self.slug = self.name
        self.runs = [Run(entry, self) for entry in data["benchmarks"]]

    def timing(self) -> str:
        return str(self.context.get("ptvm_timing", "not recorded"))


MAX_INPUT_BYTES = 256 << 20  # a benchmark file is a few MB at most


def _no_duplicate_keys(pairs):
    # ptvm's reader discipline (ptvm/common/json_reader.hpp): a key twice in one object is an error.
    keys = [k for k, _ in pairs]
    for k in keys:
        if keys.count(k) > 1:
            raise InputError(f"duplicate key \"{k}\"")
    return dict(pairs)


def load(path: str) -> Program:
    try:
        import os
        if os.path.getsize(path) > MAX_INPUT_BYTES:
            raise InputError(f"{path}: oversized ({os.path.getsize(path)} bytes, at most {MAX_INPUT_BYTES})")
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not JSON (not UTF-8 text)")
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not JSON ({e.msg} at line {e.lineno}, column {e.colno})")
    except InputError as e:
        raise InputError(f"{path}: {e}")
    except RecursionError:
        raise InputError(f"{path}: not a benchmark file (nested too deep)")
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise InputError(f"{path}: not a Google Benchmark JSON file (no \"benchmarks\" list)")
    if not isinstance(data.get("context", {}), dict):
        raise InputError(f"{path}: not a Google Benchmark JSON file (\"context\" is not an object)")
    for i, entry in enumerate(data["benchmarks"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise InputError(f"{path}: not a Google Benchmark JSON file "
                             f"(benchmarks[{i}] is not an object with a name)")
    return Program(path, data)


# ------------------------------------------------------------------------------------------------
# Formatting


def fmt_time(ms, unit: str) -> str:
    if ms is None:
        return ""
    return f"{ms / TIME_TO_MS.get(unit, 1e-6):.4g} {unit}"


def fmt_si(value, unit: str, binary=False) -> str:
    if value is None:
        return ""
    step = 1024.0 if binary else 1000.0
    prefixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi"] if binary else ["", "k", "M", "G", "T", "P"]
    i = 0
    while abs(value) >= step and i < len(prefixes) - 1:
        value /= step
        i += 1
    return f"{value:.4g} {prefixes[i]}{unit}"


def fmt_counter(key: str, value) -> str:
    if value is None:
        return ""
    if key.endswith("_per_second"):
        return fmt_si(value, "/s")
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))  # counts and sizes: every digit
    return f"{value:.4g}"


def cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def code(text) -> str:
    return "`" + str(text).replace("`", "'").replace("|", "\\|") + "`"


def table(header, rows, drop_empty=False) -> list:
    """Markdown table; drop_empty leaves out columns (after the first) empty in every row."""
    keep = list(range(len(header)))
    if drop_empty and rows:
        keep = [i for i in keep if i == 0 or any(row[i] for row in rows)]
    lines = ["| " + " | ".join(header[i] for i in keep) + " |", "|" + "---|" * len(keep)]
    lines += ["| " + " | ".join(row[i] for i in keep) + " |" for row in rows]
    return lines + [""]


def context_rows(context: dict):
    rows = []
    missing = [k for k in REQUIRED_CONTEXT if k not in context]
    if missing:
        rows.append(("ptvm context", "not recorded: " + ", ".join(missing) +
                     " (a program built before the benchmarks wrote their context?)"))
    for key, title in CONTEXT_KEYS:
        if key not in context:
            continue
        value = context[key]
        if key == "load_avg" and isinstance(value, list):
            value = ", ".join(f"{v:.2f}" for v in value if _number(v) is not None)
        elif key == "cpu_scaling_enabled":
            value = "on" if value else "off"
        rows.append((title, value))
    known = {k for k, _ in CONTEXT_KEYS}
    rows += [(k, v) for k, v in context.items()
             if k not in known and not isinstance(v, (list, dict))]
    return rows


# ------------------------------------------------------------------------------------------------
# What to plot


def plot_runs(program: Program):
    """One run per (name, label) without an error: the "mean" aggregate where repetitions were
    aggregated, else the iteration runs of that name averaged."""
    groups = OrderedDict()
    for r in program.runs:
        if r.error is None and r.aggregate in (None, "mean"):
            groups.setdefault((r.run_name, r.label), []).append(r)
    picked = []
    for group in groups.values():
        means = [r for r in group if r.aggregate == "mean"]
        picked.append(means[0] if means else group[0] if len(group) == 1 else _averaged(group))
    return picked


def _averaged(group):
    entry = dict(group[0].entry)
    for key in entry:
        values = [_number(r.entry.get(key)) for r in group]
        if key not in ("family_index", "per_family_instance_index", "repetition_index") and all(
                v is not None for v in values):
            entry[key] = sum(values) / len(values)
    return Run(entry, group[0].program)


def throughput_series(program: Program):
    """{metric: {series title: (points [(x, rate)], log_size)}}: one series per family and values
    of its other arguments, with at least two positive sizes."""
    groups = OrderedDict()
    for run in plot_runs(program):
        size = run.size()
        metric = next((m for m in METRIC_UNITS if run.rate(m) is not None), None)
        if size is None or metric is None:
            continue
        others = tuple(a for i, a in enumerate(run.args) if i != size[0])
        groups.setdefault((run.base, others, run.label, metric), []).append((size[1], run))
    result = OrderedDict()
    for (base, others, label, metric), points in groups.items():
        sizes = sorted({s for s, _ in points})
        if len(sizes) < 2 or sizes[0] <= 0:
            continue  # one size is no sweep; 0 or less is a mode or thread argument, not a size
        log_size = sizes[-1] <= 40
        xy = [(2.0 ** s if log_size else float(s), r.rate(metric))
              for s, r in sorted(points, key=lambda p: p[0])]
        title = base + args_text(others) + (f" [{label}]" if label else "")
        title += " (modeled)" if points[0][1].modeled() else ""
        result.setdefault(metric, OrderedDict())[title] = (xy, log_size)
    return result


def _stage_rank(key: str):
    stem = key[: -len("_ms")] if key.endswith("_ms") else key
    return STAGE_ORDER.index(stem) if stem in STAGE_ORDER else len(STAGE_ORDER)


def stage_breakdowns(program: Program):
    """[(kind, {run display: OrderedDict(stage: value)})] for time (ms) and modeled bytes."""
    out = []
    for kind, pick in (
        ("time", lambda k: k.endswith("_ms") and not NOT_A_STAGE.search(k)),
        ("modeled bytes", lambda k: k.startswith("cuda.") and k.endswith(".bytes")),
    ):
        bars = OrderedDict()
        for run in plot_runs(program):
            stages = [(k, v) for k, v in run.counters.items() if pick(k)]
            if len(stages) >= 2:
                bars[run.display()] = OrderedDict(sorted(stages, key=lambda kv: _stage_rank(kv[0])))
        if bars:
            out.append((kind, bars))
    return out


def cpu_gpu_pairs(program: Program):
    """{family title: {size: {"cpu": ms, "gpu": ms, "gpu_kind": text}}} for sizes with both."""
    found = OrderedDict()
    for run in plot_runs(program):
        size = run.size()
        if size is None or not run.real_ms or run.real_ms <= 0 or run.backend not in BACKENDS:
            continue  # a log-scaled time axis needs positive times
        others = tuple(a for i, a in enumerate(run.args) if i != size[0])
        slot = found.setdefault(run.base + args_text(others), {}).setdefault(size[1], {})
        if run.backend == "cpu":
            slot["cpu"] = run.real_ms
        else:
            slot["gpu"] = run.real_ms
            slot["gpu_kind"] = "modeled H100 (host-sim)" if run.modeled() else "measured (CUDA)"
    pairs = OrderedDict()
    for title, by_size in found.items():
        both = OrderedDict((s, v) for s, v in sorted(by_size.items()) if "cpu" in v and "gpu" in v)
        if both:
            pairs[title] = both
    return pairs


def fmt_ratio(value: float) -> str:
    return f"{value:.0f}x" if value >= 100 else f"{value:.3g}x"


# ------------------------------------------------------------------------------------------------
# Plots


class Plotter:
    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        self.plt = None
        self.why_not = None
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            self.plt = plt
        except ImportError:
            self.why_not = "matplotlib is not installed (Debian: python3-matplotlib)"

    def _save(self, fig, name: str) -> str:
        fig.tight_layout()
        fig.savefig(os.path.join(self.out_dir, name), dpi=110)
        self.plt.close(fig)
        return name

    def _color(self, i: int):
        # tab20 holds 10 hues in dark/light pairs: all dark ones first, so neighbours differ.
        return self.plt.get_cmap("tab20")((2 * i) % 20 + (2 * i) // 20 % 2)

    def throughput(self, program: Program, metric: str, series) -> str:
        fig, ax = self.plt.subplots(figsize=(8, 4.8))
        all_log = all(log for _, log in series.values())
        rates = []
        for i, (title, (points, _)) in enumerate(series.items()):
            xs, ys = zip(*points)
            rates += ys
            ax.plot(xs, ys, marker="o", color=self._color(i), label=title,
                    linestyle="--" if title.endswith("(modeled)") else "-")
        ax.set_xscale("log", base=2 if all_log else 10)
        if max(rates) / min(rates) > 100:
            ax.set_yscale("log")
        unit = METRIC_UNITS[metric]
        ax.set_xlabel("size: 2^argument (rows, steps or values)" if all_log
                      else "size: the argument (2^argument where it is a log size)")
        ax.set_ylabel(unit)
        modeled = [title.endswith("(modeled)") for title in series]
        timing = "modeled" if all(modeled) else "dashed: modeled" if any(modeled) else "measured"
        ax.set_title(f"{program.name}: {unit} against size ({timing})", fontsize="medium")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
        return self._save(fig, f"throughput-{program.slug}-{unit.split('/')[0]}.png")

    def stages(self, program: Program, kind: str, bars) -> str:
        stages = []
        for per_run in bars.values():
            stages += [s for s in per_run if s not in stages]
        unit, scale = "ms", 1.0
        if kind != "time":
            unit, scale = "bytes", 1.0
            peak = max(sum(per_run.values()) for per_run in bars.values())
            if peak >= 2**20:
                unit, scale = "MiB", 2.0**-20
        fig, ax = self.plt.subplots(figsize=(max(7, 0.9 * len(bars) + 4), 5))
        names = list(bars)
        bottoms = [0.0] * len(names)
        for i, stage in enumerate(stages):
            heights = [bars[n].get(stage, 0.0) * scale for n in names]
            ax.bar(range(len(names)), heights, bottom=bottoms, label=stage, color=self._color(i))
            bottoms = [b + h for b, h in zip(bottoms, heights)]
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize="small")
        ax.set_ylabel(unit)
        ax.set_title(f"{program.name}: {kind} per stage", fontsize="medium")
        ax.legend(fontsize="x-small", bbox_to_anchor=(1.01, 1), loc="upper left")
        return self._save(fig, f"stages-{program.slug}-{'time' if kind == 'time' else 'bytes'}.png")

    def cpu_vs_gpu(self, program: Program, pairs) -> str:
        fig, axes = self.plt.subplots(1, len(pairs), figsize=(6.5 * len(pairs), 4.8), squeeze=False)
        for ax, (title, by_size) in zip(axes[0], pairs.items()):
            sizes = list(by_size)
            xs = list(range(len(sizes)))
            cpu = [by_size[s]["cpu"] for s in sizes]
            gpu = [by_size[s]["gpu"] for s in sizes]
            ax.bar([x - 0.2 for x in xs], cpu, width=0.4, label="CPU backend (measured)",
                   color=self._color(0))
            ax.bar([x + 0.2 for x in xs], gpu, width=0.4,
                   label=f"GPU, {by_size[sizes[0]]['gpu_kind']}", color=self._color(1))
            for x, c, g in zip(xs, cpu, gpu):
                if g > 0:
                    ax.annotate(f"CPU/GPU {fmt_ratio(c / g)}", (x, max(c, g)), ha="center",
                                va="bottom", fontsize="small")
            ax.set_yscale("log")
            low, high = min(cpu + gpu), max(cpu + gpu)
            ax.set_ylim(low / 3, high * 10)
            ax.set_xticks(xs)
            ax.set_xticklabels([str(s) for s in sizes])
            ax.set_xlabel("size argument" + (" (log2)" if max(sizes) <= 40 else ""))
            ax.set_ylabel("real time (ms)")
            ax.set_title(f"{program.name}\n{title}: CPU against GPU", fontsize="medium")
            ax.legend(fontsize="small", loc="upper left")
        return self._save(fig, f"cpu-vs-gpu-{program.slug}.png")


# ------------------------------------------------------------------------------------------------
# Report


def results_table(program: Program) -> list:
    has_label = any(r.label for r in program.runs)
    show_backend = len({r.backend for r in program.runs}) > 1
    header = (["benchmark"] + (["label"] if has_label else [])
              + (["backend"] if show_backend else [])
              + ["iterations", "real time", "CPU time", "items/s", "bytes/s"])
    rows = []
    for r in program.runs:
        modeled = r.modeled()
        row = [code(r.name)] + ([cell(r.label)] if has_label else [])
        if show_backend:
            row.append(cell(f"{r.backend or '?'}, {'modeled' if modeled else 'measured'}"))
        if r.error is not None:
            row += ["", cell(f"error: {r.error}"), "", "", ""]
        elif r.entry.get("aggregate_unit") == "percentage":  # e.g. the cv aggregate: a ratio
            row += [str(r.entry.get("iterations", ""))] + [
                "" if _number(r.entry.get(k)) is None else f"{100 * r.entry[k]:.3g} %"
                for k in ("real_time", "cpu_time")] + ["", ""]
        else:
            note = " (modeled)" if modeled else ""
            row += [str(r.entry.get("iterations", "")),
                    fmt_time(r.real_ms, r.time_unit) + note,
                    fmt_time(r.cpu_ms, r.time_unit) + (" (simulation)" if modeled else ""),
                    fmt_si(r.rate("items_per_second"), "/s") + note,
                    fmt_si(r.rate("bytes_per_second"), "B/s", binary=True) + note]
            row = [c if c != note else "" for c in row]
        rows.append(row)
    return table(header, rows, drop_empty=True)


def counters_table(program: Program) -> list:
    """Counters per run; an X_ms with an X_cpu_ms twin shares one "wall / cpu" cell. Transposed
    (counters as rows) when there are more counters than runs."""
    runs = [r for r in program.runs if r.counters]
    keys = []
    for r in runs:
        keys += [k for k in r.counters if k not in keys]
    if not keys:
        return []
    # Stages in pipeline order first (Google Benchmark writes counters sorted by name).
    keys.sort(key=lambda k: _stage_rank(k) if k.endswith("_ms") else len(STAGE_ORDER) + 1)
    twins = {k for k in keys if k.endswith("_cpu_ms") and k[: -len("_cpu_ms")] + "_ms" in keys}
    columns = [k for k in keys if k not in twins]

    def value(run, key):
        twin = key[: -len("_ms")] + "_cpu_ms"
        if twin in twins:
            wall, cpu = run.counters.get(key), run.counters.get(twin)
            if wall is None and cpu is None:
                return ""
            return f"{fmt_counter(key, wall)} / {fmt_counter(twin, cpu)}"
        return fmt_counter(key, run.counters.get(key))

    titles = [cell(k + (" (wall / cpu)" if k[: -len("_ms")] + "_cpu_ms" in twins else ""))
              for k in columns]
    lines = ["Counters, as the program reports them (/s marks a rate):", ""]
    if len(columns) > len(runs):
        header = ["counter"] + [code(r.display()) for r in runs]
        rows = [[t] + [value(r, k) for r in runs] for t, k in zip(titles, columns)]
    else:
        header = ["benchmark"] + titles
        rows = [[code(r.display())] + [value(r, k) for k in columns] for r in runs]
    return lines + table(header, rows)


def plots_section(program: Program, plotter: Plotter) -> list:
    lines = []

    def skipped(what, why):
        lines.extend([f"{what} skipped: {why}.", ""])

    series = throughput_series(program)
    if not series:
        skipped("Throughput plot", "no benchmark family here has a size argument at two or more "
                "sizes with steps/s, items/s or bytes/s")
    elif plotter.plt is None:
        skipped("Throughput plot", plotter.why_not)
    else:
        for metric, by_title in series.items():
            name = plotter.throughput(program, metric, by_title)
            lines += [f"![{METRIC_UNITS[metric]} against size]({name})", ""]

    breakdowns = stage_breakdowns(program)
    if not breakdowns:
        skipped("Stage breakdown", "no benchmark here reports two or more per-stage counters "
                "(*_ms such as lde_ms and commit_ms, or host-sim's cuda.*.bytes)")
    elif plotter.plt is None:
        skipped("Stage breakdown", plotter.why_not)
    else:
        for kind, bars in breakdowns:
            lines += [f"![{kind} per stage]({plotter.stages(program, kind, bars)})", ""]
    return lines


def cpu_gpu_section(programs, plotter: Plotter) -> list:
    lines = ["## CPU against GPU", ""]
    rows, caveat = [], False
    for program in programs:
        pairs = cpu_gpu_pairs(program)
        if not pairs:
            continue
        if plotter.plt is not None:
            lines += [f"![CPU against GPU]({plotter.cpu_vs_gpu(program, pairs)})", ""]
        for title, by_size in pairs.items():
            for size, v in by_size.items():
                caveat |= v["gpu_kind"].startswith("modeled")
                rows.append([code(program.name), code(title), str(size), f"{v['cpu']:.4g} ms",
                             f"{v['gpu']:.4g} ms, {v['gpu_kind']}",
                             fmt_ratio(v["cpu"] / v["gpu"]) if v["gpu"] > 0 else ""])
    if not rows:
        return lines + ["Plot skipped: no program has a CPU-backend case and a GPU case "
                        "(host-sim's modeled H100, or CUDA) of the same name and size; "
                        "bench/cuda_backend's programs write both.", ""]
    if plotter.plt is None:
        lines += [f"Plot skipped: {plotter.why_not}.", ""]
    if caveat:
        lines += [f"GPU times marked modeled are not measurements: {MODEL_CAVEAT}.", ""]
    return lines + table(["program", "benchmark", "size", "CPU", "GPU", "CPU / GPU"], rows)


def program_section(program: Program, plotter: Plotter) -> list:
    lines = [f"## {program.name}", "", f"From {code(program.path)}.", ""]
    context = [[cell(k), cell(v)] for k, v in context_rows(program.context)]
    lines += table(["context", "value"], context)
    if not program.runs:
        return lines + ["No benchmarks in this file (did --benchmark_filter match nothing?).", ""]
    if any(r.modeled() for r in program.runs):
        lines += [f"Times and rates marked modeled are host-sim's: {MODEL_CAVEAT}. CPU time of a "
                  "modeled case is the simulation's own.", ""]
    lines += results_table(program)
    lines += counters_table(program)
    lines += plots_section(program, plotter)
    return lines


def summary_table(programs) -> list:
    def get(p, key):
        value = p.context.get(key, "?")
        if key == "load_avg" and isinstance(value, list):
            value = ", ".join(f"{v:.2f}" for v in value if _number(v) is not None)
        return cell(value)

    keys = ["ptvm_version", "ptvm_backend", "ptvm_timing", "ptvm_threads", "host_name", "date",
            "load_avg"]
    header = ["program", "version", "backend", "times", "threads", "host", "date", "load average"]
    return table(header, [[code(p.name)] + [get(p, k) for k in keys] for p in programs])


def write_report(programs, out_dir: str):
    """Writes DIR/report.md and the plots; returns the reason plots were left out, or None."""
    os.makedirs(out_dir, exist_ok=True)
    plotter = Plotter(out_dir)
    used = set()
    for p in programs:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", p.name) or "bench"
        p.slug, n = slug, 2
        while p.slug in used:
            p.slug, n = f"{slug}-{n}", n + 1
        used.add(p.slug)

    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# ptvm benchmark report", "",
             f"Made by tools/bench_report.py on {now} from "
             + ", ".join(code(p.path) for p in programs) + ". Each program's context says which "
             "backend ran and whether its times are measured (host clock, CUDA events) or modeled "
             "(host-sim's access counters, as an H100).", ""]
    lines += summary_table(programs)
    lines += cpu_gpu_section(programs, plotter)
    for p in programs:
        lines += program_section(p, plotter)
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines).rstrip() + "\n")
    return plotter.why_not


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Google Benchmark JSON from ptvm's bench/ programs -> DIR/report.md + PNGs.")
    parser.add_argument("inputs", nargs="+", metavar="BENCH.json",
                        help="output of --benchmark_format=json or --benchmark_out=FILE")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for report.md and PNGs")
    args = parser.parse_args(argv)
    try:
        programs = [load(path) for path in args.inputs]
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        why_no_plots = write_report(programs, args.out)
    except OSError as e:
        print(f"error: {args.out}: cannot write the report: {e.strerror or e}", file=sys.stderr)
        return 1
    if why_no_plots:
        print(f"warning: {why_no_plots}; the report has no plots", file=sys.stderr)
    print(os.path.join(args.out, "report.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
