#!/usr/bin/env python3
"""Criterion's results of `cargo bench -p bench` -> bench/RESULTS.md, bench/ratios.svg.

Usage (from any directory; Python 3.11 standard library only):

    python3 bench/results.py [--criterion DIR] [--markdown FILE] [--svg FILE]

Inputs
    DIR (default: $CARGO_TARGET_DIR/criterion, else target/criterion of the
    workspace) as criterion leaves it: for every benchmark,
    `<group>/<function>[/<parameter>]/new/benchmark.json` (the ids and the
    declared throughput) and `.../new/estimates.json` (the median time of one
    iteration, in nanoseconds). Only the `new` results are read (the last run
    of each benchmark), never a saved baseline.

    Each workload is a criterion group plus its parameter (`lifo/objheap/16`
    is workload `lifo/16`, implementation `objheap`). "Ours" is `objheap` in
    the allocator groups and `objrt` in the others; every other function of
    the workload is a peer, compared by ratio = ours / peer of the medians.
    Where the benchmark declares `Throughput::Elements(n)`, medians are
    divided by n, so they are per operation (or per object of a collected
    graph); otherwise they are per iteration.

    The machine is described from the machine that runs this script (run it
    where the benchmarks ran): `uname -srm`, /proc/cpuinfo, /proc/meminfo,
    `rustc --version`, the CPython that `pkg-config python3-embed` describes
    (what bench/build.rs links), glibc, the peer crates' versions in
    Cargo.lock, and the modification times of the estimates read.

Outputs
    FILE.md (default bench/RESULTS.md): the machine, one table of medians and
    ratios with the goals of issue 6 marked met or missed, a summary per goal,
    and notes on whatever was left out. FILE.svg (default bench/ratios.svg): a
    horizontal bar per row of the table, the bar's length log2(ratio), with a
    vertical line at parity (ratio 1.0).

    A workload that was not run (a missing group, a missing peer, a group
    with only one implementation) is left out with a note. Results of a
    `--quick` run (2 samples, from sample.json) are kept but marked, and a
    peer measured more than 30 minutes away from ours is noted as probably
    not from the same run. The exit status is
    1 only for malformed input (unreadable JSON, missing fields, a
    non-positive median), with the offending file named on stderr; 2 for bad
    usage; else 0.
"""

import argparse
import datetime
import fnmatch
import json
import math
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from xml.sax.saxutils import escape

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
WORKSPACE = os.path.dirname(BENCH_DIR)

# Our implementations, by preference: objheap in the allocator groups, objrt
# in the others (a group has one of the two).
OURS = ("objheap", "objrt")

# Order of the peers within a workload; others follow alphabetically.
PEER_ORDER = (
    "cpython",
    "mimalloc",
    "glibc",
    "gcmodule",
    "dumpster",
    "bacon_rajan_cc",
    "plain_increment",
    "atomic_increment",
    "atomic_shared",
)

# Order of the groups in the table (fnmatch patterns); others follow.
GROUP_ORDER = (
    "instance_alloc_free/dict",
    "instance_alloc_free/slots",
    "instance_alloc_free/*",
    "getattr/instance_attr",
    "getattr/class_attr",
    "getattr/inherited_5_levels",
    "getattr/method_bound",
    "getattr/inline_cache",
    "getattr/*",
    "setattr/*",
    "call_method/*",
    "refcount/*",
    "gc/collect_*",
    "gc/*",
    "lifo",
    "random",
    "churn_1m_live",
)

# What one element of `Throughput::Elements` is, per group pattern.
ELEMENT_NAMES = (
    ("lifo", "alloc+free"),
    ("random", "free+alloc"),
    ("churn_1m_live", "free+alloc"),
    ("instance_alloc_free/*", "instance"),
    ("getattr/*", "getattr"),
    ("setattr/*", "setattr"),
    ("call_method/*", "call"),
    ("refcount/*", "incref+decref"),
    ("gc/cycle_churn", "2-cycle made and dropped"),
    ("gc/tree_*", "node"),
    ("gc/*", "object"),
)

# Workloads with no peer in their own group, compared with a peer of another
# group that measures the same thing the other way: (group, parameter) ->
# (group, function, parameter) of the peer. The inline cache is the
# instance-attribute getattr of `getattr/instance_attr` (see
# benches/object_model.rs).
REFERENCES = {
    ("getattr/inline_cache", None): ("getattr/instance_attr", "cpython", None),
}

# The groups of benches/*.rs, to note those that did not run. A group not
# listed here is still read; one listed and gone is only noted.
EXPECTED_GROUPS = (
    "instance_alloc_free/dict",
    "instance_alloc_free/slots",
    "instance_alloc_free/tp_alloc",
    "getattr/instance_attr",
    "getattr/class_attr",
    "getattr/inherited_5_levels",
    "getattr/method_bound",
    "getattr/inline_cache",
    "setattr/instance_attr",
    "call_method/no_args",
    "refcount/incref_decref",
    "refcount/two_threads",
    "gc/collect_1m_2cycles",
    "gc/collect_1m_reachable",
    "gc/tree_parent_build_drop",
    "gc/cycle_churn",
    "lifo",
    "random",
    "churn_1m_live",
)

ALLOC_GROUPS = ("lifo", "random", "churn_1m_live")
GC_PEERS = ("cpython", "gcmodule", "dumpster", "bacon_rajan_cc")


@dataclass(frozen=True)
class Goal:
    """A goal of issue 6: ratio <= limit for the peers in `peers` on the
    workloads whose group matches one of `groups`."""

    label: str
    groups: tuple
    peers: tuple
    limit: float

    def applies(self, group, peer):
        return peer in self.peers and any(
            fnmatch.fnmatchcase(group, g) for g in self.groups
        )


GOALS = (
    Goal(
        "instance alloc+free <= 0.33x CPython",
        ("instance_alloc_free/*",),
        ("cpython",),
        0.33,
    ),
    Goal("getattr (each kind) <= 0.5x CPython", ("getattr/*",), ("cpython",), 0.5),
    Goal(
        "full collection per object <= 0.5x CPython and each Rust crate",
        ("gc/collect_*",),
        GC_PEERS,
        0.5,
    ),
    Goal(
        "incref+decref on the owning thread <= 1.5x a non-atomic increment",
        ("refcount/incref_decref",),
        ("plain_increment",),
        1.5,
    ),
    Goal("alloc+free <= 1.0x mimalloc", ALLOC_GROUPS, ("mimalloc",), 1.0),
    Goal("alloc+free <= 0.5x glibc", ALLOC_GROUPS, ("glibc",), 0.5),
)

# Goals of issue 6 that no criterion group measures directly, and the nearest
# measured pair, reported as indicative only: (label, note, ours, peer), with
# ours and peer as (group, function, parameter).
UNMEASURED = (
    (
        "instance alloc+free <= 1.0x mimalloc malloc+free of the same size",
        "no instance group has a mimalloc function; the nearest pair is the bare "
        "instance (no `__init__`) against mimalloc's LIFO batch of 64-byte blocks "
        "(a different access pattern and size)",
        ("instance_alloc_free/tp_alloc", "objrt", None),
        ("lifo", "mimalloc", "64"),
    ),
    (
        "bytes per two-attribute instance <= 0.5x CPython",
        "printed by `cargo bench -p bench --bench object_model` before the "
        "benchmarks, not a criterion result",
        None,
        None,
    ),
)

# Ours and a peer measured further apart than this are not from the same
# `cargo bench -p bench` (which takes about 10 minutes): one of them is
# probably stale.
SAME_RUN_SECONDS = 30 * 60

# `--quick` keeps 2 samples; criterion refuses a sample size under 10.
MIN_SAMPLES = 10
QUICK_MARK = "†"


class Malformed(Exception):
    """Criterion's output is not what this script understands."""


@dataclass(frozen=True)
class Result:
    group: str
    function: str
    value: str | None
    elements: int | None  # None: no element throughput, times per iteration
    median_ns: float  # per element when `elements`, else per iteration
    mtime: float
    samples: int | None  # None: no sample.json
    path: str

    @property
    def quick(self):
        """Measured with `--quick` (a smoke run: too few samples to trust)."""
        return self.samples is not None and self.samples < MIN_SAMPLES


@dataclass(frozen=True)
class Row:
    ours: Result
    peer: Result
    peer_label: str  # Markdown
    plot_label: str  # plain text
    goal: Goal | None

    @property
    def ratio(self):
        return self.ours.median_ns / self.peer.median_ns

    @property
    def met(self):
        return None if self.goal is None else self.ratio <= self.goal.limit

    @property
    def quick(self):
        return self.ours.quick or self.peer.quick


def workload_name(group, value):
    return group if value is None else f"{group}/{value}"


def full_name(result):
    """Criterion's id of a result: group/function[/parameter]."""
    return workload_name(f"{result.group}/{result.function}", result.value)


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Malformed(f"{path}: {e}") from e


def element_count(throughput, path):
    """Elements per iteration of a criterion `Throughput`, or None."""
    if throughput is None:
        return None
    if not isinstance(throughput, dict) or len(throughput) != 1:
        raise Malformed(f"{path}: unknown throughput {throughput!r}")
    ((kind, value),) = throughput.items()
    if kind == "ElementsAndBytes" and isinstance(value, dict):
        value = value.get("elements")
    elif kind not in ("Elements", "Bytes", "BytesDecimal", "Bits"):
        raise Malformed(f"{path}: unknown throughput {throughput!r}")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise Malformed(f"{path}: throughput {throughput!r} is not a positive count")
    return value if kind in ("Elements", "ElementsAndBytes") else None


def sample_count(path):
    """Samples in a criterion sample.json, or None if there is none."""
    if not os.path.exists(path):
        return None
    sample = read_json(path)
    times = sample.get("times") if isinstance(sample, dict) else None
    if not isinstance(times, list):
        raise Malformed(f"{path}: no list of times")
    return len(times)


def load_results(criterion_dir, notes):
    """Every `new` result under `criterion_dir`, keyed by (group, function, value)."""
    results = {}
    if not os.path.isdir(criterion_dir):
        notes.append(f"No criterion results at `{criterion_dir}`: nothing was run.")
        return results
    for dirpath, dirnames, filenames in os.walk(criterion_dir):
        dirnames.sort()
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in filenames:
            continue
        bench_path = os.path.join(dirpath, "benchmark.json")
        estimates_path = os.path.join(dirpath, "estimates.json")
        bench = read_json(bench_path)
        if not isinstance(bench, dict):
            raise Malformed(f"{bench_path}: not a JSON object")
        group, function, value = (
            bench.get(k) for k in ("group_id", "function_id", "value_str")
        )
        if not isinstance(group, str) or not isinstance(function, str):
            raise Malformed(f"{bench_path}: no group_id and function_id")
        if value is not None and not isinstance(value, str):
            raise Malformed(f"{bench_path}: value_str is not a string")
        full_id = bench.get("full_id", workload_name(f"{group}/{function}", value))
        if "estimates.json" not in filenames:
            notes.append(
                f"`{full_id}`: no estimates.json (interrupted run?); left out."
            )
            continue
        estimates = read_json(estimates_path)
        try:
            median = estimates["median"]["point_estimate"]
        except (KeyError, TypeError) as e:
            raise Malformed(f"{estimates_path}: no median.point_estimate") from e
        if (
            not isinstance(median, (int, float))
            or isinstance(median, bool)
            or not math.isfinite(median)
            or median <= 0
        ):
            raise Malformed(
                f"{estimates_path}: median {median!r} is not a positive time"
            )
        elements = element_count(bench.get("throughput"), bench_path)
        key = (group, function, value)
        if key in results:
            raise Malformed(f"{bench_path}: `{full_id}` also in {results[key].path}")
        results[key] = Result(
            group,
            function,
            value,
            elements,
            median / (elements or 1),
            os.stat(estimates_path).st_mtime,
            sample_count(os.path.join(dirpath, "sample.json")),
            estimates_path,
        )
    return results


def first_match(patterns, group):
    for i, pattern in enumerate(patterns):
        if fnmatch.fnmatchcase(group, pattern):
            return i
    return len(patterns)


def value_key(value):
    """Parameters in numeric order where they are numbers (16 < 64 < 256)."""
    if value is None:
        return (0, 0, "")
    m = re.match(r"\d+", value)
    return (1, int(m.group()) if m else math.inf, value)


def peer_key(function):
    return (
        PEER_ORDER.index(function) if function in PEER_ORDER else len(PEER_ORDER),
        function,
    )


def element_name(result):
    if result.elements is None:
        return "iteration"
    for pattern, name in ELEMENT_NAMES:
        if fnmatch.fnmatchcase(result.group, pattern):
            return name
    return "element"


def goal_for(group, peer):
    return next((g for g in GOALS if g.applies(group, peer)), None)


def build_rows(results, notes):
    workloads = {}
    for (group, function, value), result in results.items():
        workloads.setdefault((group, value), {})[function] = result
    ran = {group for group, _ in workloads}
    not_run = [g for g in EXPECTED_GROUPS if g not in ran]
    if not_run:
        notes.append(
            "Not run (no results): "
            + ", ".join(f"`{g}`" for g in not_run)
            + "; left out."
        )
    order = sorted(
        workloads, key=lambda w: (first_match(GROUP_ORDER, w[0]), w[0], value_key(w[1]))
    )
    rows = []
    for group, value in order:
        functions = workloads[(group, value)]
        name = workload_name(group, value)
        ours_name = next((f for f in OURS if f in functions), None)
        if ours_name is None:
            notes.append(
                f"`{name}`: only peers ran "
                f"({', '.join(f'`{f}`' for f in sorted(functions, key=peer_key))}),"
                f" no `{'`/`'.join(OURS)}`; left out."
            )
            continue
        ours = functions[ours_name]
        peers = [(f, r, f, f) for f, r in functions.items() if f != ours_name]
        if not peers:
            ref = REFERENCES.get((group, value))
            peer = results.get(ref) if ref else None
            if peer is None:
                notes.append(
                    f"`{name}`: only `{ours_name}` ran, no peer to compare with; "
                    "left out."
                )
                continue
            ref_group, ref_function, ref_value = ref
            ref_name = workload_name(ref_group, ref_value)
            peers = [
                (
                    ref_function,
                    peer,
                    f"{ref_function} (`{ref_name}`)",
                    f"{ref_function} ({ref_name.split('/')[-1]})",
                )
            ]
            notes.append(
                f"`{name}` has no peer in its group; it is compared with "
                f"`{full_name(peer)}`, "
                "the same attribute read without the cache."
            )
        apart = []
        for function, peer, label, plot in sorted(peers, key=lambda p: peer_key(p[0])):
            if (ours.elements is None) != (peer.elements is None):
                notes.append(
                    f"`{name}`: `{ours_name}` and `{function}` declare different "
                    "throughputs (per element vs per iteration); left out."
                )
                continue
            if abs(ours.mtime - peer.mtime) > SAME_RUN_SECONDS:
                apart.append((function, (peer.mtime - ours.mtime) / 60))
            rows.append(
                Row(ours, peer, label, f"{name} vs {plot}", goal_for(group, function))
            )
        if apart:
            notes.append(
                f"`{name}`: probably not all from the same run: "
                + ", ".join(
                    f"`{f}` {abs(m):.0f} minutes {'after' if m > 0 else 'before'}"
                    for f, m in apart
                )
                + f" `{ours_name}`."
            )
    quick = sorted(
        {r for row in rows for r in (row.ours, row.peer) if r.quick},
        key=lambda r: r.path,
    )
    if quick:
        notes.append(
            f"{QUICK_MARK} marks the {len(quick)} results of a `--quick` run (fewer "
            f"than {MIN_SAMPLES} samples): a smoke test, not a measurement; "
            "regenerate after a full run. "
            + ", ".join(f"`{full_name(r)}` ({r.samples})" for r in quick)
            + "."
        )
    return rows


def fmt_time(ns):
    """A time in ns with 3 significant digits, in ns, µs, ms or s."""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{sig3(ns / scale)} {unit}"
    return f"{sig3(ns)} ns"


def sig3(x):
    digits = max(0, 2 - math.floor(math.log10(x))) if x > 0 else 0
    return f"{x:.{digits}f}"


def fmt_goal(row):
    if row.goal is None:
        return ""
    limit = row.goal.limit
    if row.met:
        return f"<= {limit}: met"
    return f"<= {limit}: **missed**, {row.ratio / row.goal.limit:.1f}x over"


def goal_summary(rows, results):
    lines = []
    for goal in GOALS:
        matched = [r for r in rows if r.goal is goal]
        missing = [
            p for p in goal.peers if not any(r.peer.function == p for r in matched)
        ]
        if not matched:
            lines.append(f"- {goal.label}: not run (no results).")
            continue
        met = sum(1 for r in matched if r.met)
        text = f"- {goal.label}: met on {met} of {len(matched)} rows"
        worst = max(matched, key=lambda r: r.ratio)
        if not worst.met:
            text += (
                f"; worst `{workload_name(worst.ours.group, worst.ours.value)}` "
                f"vs {worst.peer_label} at {sig3(worst.ratio)} "
                f"({worst.ratio / goal.limit:.1f}x the goal)"
            )
        quick = sum(1 for r in matched if r.quick)
        if quick:
            text += f"; {quick} of the rows from `--quick` runs ({QUICK_MARK})"
        if missing:
            text += f"; no results yet for {', '.join(f'`{p}`' for p in missing)}"
        lines.append(text + ".")
    for label, why, ours_key, peer_key_ in UNMEASURED:
        text = f"- {label}: not measured directly: {why}"
        ours, peer = results.get(ours_key), results.get(peer_key_)
        if ours and peer and ours.elements and peer.elements:
            ratio = ours.median_ns / peer.median_ns
            text += (
                f". Indicative only: `{full_name(ours)}` {fmt_time(ours.median_ns)}"
                f" / `{full_name(peer)}`"
                f" {fmt_time(peer.median_ns)} = {sig3(ratio)}"
            )
        lines.append(text + ".")
    return lines


# --- the machine -------------------------------------------------------------


def run(args):
    """Standard output of a command, stripped, or None if it cannot run."""
    try:
        out = subprocess.run(
            args, cwd=WORKSPACE, capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def cpu_description():
    cpuinfo = read_text("/proc/cpuinfo")
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    model = models[0].strip() if models else "unknown model"
    logical = os.cpu_count() or len(models) or 0
    text = f"{model}, {logical} logical CPUs"
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = logical
    if usable != logical:
        text += f" ({usable} usable by this process)"
    return text


def memory_description():
    m = re.search(r"^MemTotal:\s*(\d+)\s*kB", read_text("/proc/meminfo"), re.M)
    return f"{int(m.group(1)) / 2**20:.1f} GiB" if m else "unknown"


def cpython_description():
    """The CPython that bench/build.rs links: `pkg-config python3-embed`."""
    cflags = run(["pkg-config", "--cflags-only-I", "python3-embed"])
    libs = run(["pkg-config", "--libs-only-l", "python3-embed"])
    if cflags is None:
        return "unknown (`pkg-config python3-embed` failed)"
    version = None
    for flag in cflags.split():
        header = os.path.join(flag.removeprefix("-I"), "patchlevel.h")
        m = re.search(r'#define\s+PY_VERSION\s+"([^"]+)"', read_text(header))
        if m:
            version = m.group(1)
            break
    version = (
        version or run(["pkg-config", "--modversion", "python3-embed"]) or "unknown"
    )
    text = f"CPython {version}"
    lib = next((f[2:] for f in (libs or "").split() if f.startswith("-lpython")), None)
    if lib:
        text += f", `lib{lib}` of `pkg-config python3-embed`"
        deb = run(["dpkg-query", "-W", "-f", "${Version}", f"lib{lib}"])
        if deb:
            text += f" (Debian package {deb})"
    return text


def crate_versions():
    try:
        with open(os.path.join(WORKSPACE, "Cargo.lock"), "rb") as f:
            lock = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    wanted = (
        "criterion",
        "mimalloc",
        "libmimalloc-sys",
        "gcmodule",
        "dumpster",
        "bacon_rajan_cc",
    )
    found = {}
    for package in lock.get("package", []):
        if package.get("name") in wanted:
            found.setdefault(package["name"], []).append(package.get("version", "?"))
    return ", ".join(f"{n} {'/'.join(found[n])}" for n in wanted if n in found) or None


def fmt_mtime(t):
    return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%d %H:%M")


def machine_lines(results):
    uname = run(["uname", "-srm"]) or " ".join(os.uname()[i] for i in (0, 2, 4))
    glibc = (
        os.confstr("CS_GNU_LIBC_VERSION")
        if "CS_GNU_LIBC_VERSION" in os.confstr_names
        else None
    )
    lines = [
        f"- System: `{uname}`",
        f"- CPU: {cpu_description()}",
        f"- Memory: {memory_description()}",
        f"- Rust: `{run(['rustc', '--version']) or 'rustc not found'}`",
        f"- Python peer: {cpython_description()}",
    ]
    if glibc:
        lines.append(f"- C library (the `glibc` peer): {glibc}")
    crates = crate_versions()
    if crates:
        lines.append(f"- Crates (Cargo.lock): {crates}")
    if results:
        times = [r.mtime for r in results.values()]
        first, last = fmt_mtime(min(times)), fmt_mtime(max(times))
        if first == last:
            span = first
        elif first[:10] == last[:10]:
            span = f"{first} to {last[11:]}"
        else:
            span = f"{first} to {last}"
        lines.append(
            f"- Estimates dated {span} UTC (modification times of the "
            f"{len(times)} estimates.json read)"
        )
    return lines


# --- outputs -----------------------------------------------------------------


def markdown(rows, results, notes, criterion_dir, svg_name):
    shown = os.path.relpath(criterion_dir, WORKSPACE)
    if shown.startswith(".."):
        shown = criterion_dir
    out = [
        "# Benchmark results",
        "",
        "Generated by `python3 bench/results.py` from criterion's estimates in",
        f"`{shown}` (the last run of each benchmark); do not edit by hand.",
        "",
        "## Machine",
        "",
        "The machine this script ran on, taken to be the one the benchmarks ran on.",
        "",
        *machine_lines(results),
        "",
        "## Medians and ratios",
        "",
        "Criterion's median time; per element (the unit of the `per` column) where the",
        "benchmark declares `Throughput::Elements`, else per iteration. Ours is",
        "`objrt`, or `objheap` in the allocator groups (`lifo`, `random`,",
        "`churn_1m_live`).",
        "Ratio = ours / peer: lower is better, below 1 ours is faster. Workloads are",
        "described in the doc comments of `bench/benches/*.rs`; `lifo/N` is N-byte",
        "blocks, `random/16..512` random sizes.",
        "",
    ]
    if rows:
        out += [
            "| workload | ours | peer | ours, median | peer, median | per | ratio "
            "| goal |",
            "|---|---|---|---:|---:|---|---:|---|",
        ]
        for r in rows:
            ours_median, peer_median = (
                fmt_time(x.median_ns) + (f" {QUICK_MARK}" if x.quick else "")
                for x in (r.ours, r.peer)
            )
            out.append(
                f"| `{workload_name(r.ours.group, r.ours.value)}` | {r.ours.function} "
                f"| {r.peer_label} | {ours_median} "
                f"| {peer_median} | {element_name(r.ours)} "
                f"| {sig3(r.ratio)} | {fmt_goal(r)} |"
            )
    else:
        out.append("No workload had both ours and a peer.")
    out += [
        "",
        "## Goals (issue 6)",
        "",
        'A goal is met when ratio <= the limit; "Nx over" is how many times the',
        "ratio exceeds the limit (how much faster ours has to get).",
        "",
        *goal_summary(rows, results),
    ]
    if notes:
        out += ["", "## Notes", "", *(f"- {n}" for n in notes)]
    if rows:
        out += ["", "## Plot", "", f"![ours / peer, log2 scale]({svg_name})"]
    return "\n".join(out) + "\n"


def svg(rows, subtitle):
    """Horizontal bars of log2(ratio), one per row, parity line at ratio 1."""
    char_w, row_h, top, bottom, plot_w, right = 7.0, 22, 104, 64, 560, 72
    label_w = 16 + char_w * max([len(r.plot_label) + 12 * r.quick for r in rows] + [24])
    width = round(label_w + plot_w + right)
    height = top + row_h * max(len(rows), 1) + bottom
    logs = [math.log2(r.ratio) for r in rows]
    logs += [math.log2(r.goal.limit) for r in rows if r.goal]
    # Whole powers of two, with a margin around the bars.
    lo = math.floor(min(logs + [-1]) - 0.2)
    hi = math.ceil(max(logs + [1]) + 0.2)

    def x(v):
        return label_w + (v - lo) / (hi - lo) * plot_w

    def text(px, py, content, **attrs):
        extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        return f'<text x="{px:.1f}" y="{py:.1f}"{extra}>{escape(content)}</text>'

    def line(x1, y1, x2, y2, color, stroke_width=1, extra=""):
        return (
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{color}" stroke-width="{stroke_width}"{extra}/>'
        )

    colors = {True: "#2e7d32", False: "#c62828", None: "#90a4ae"}
    title = "ours / peer: ratio of criterion's median times (lower is better)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Helvetica, '
        f'Arial, sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        text(12, 22, title, font_size="16", font_weight="bold"),
        text(12, 40, "ours: objrt, or objheap in the allocator groups", fill="#444444"),
        text(12, 56, subtitle, fill="#444444"),
    ]
    # Legend.
    lx = 12
    for met, label in ((True, "goal met"), (False, "goal missed"), (None, "no goal")):
        parts.append(
            f'<rect x="{lx}" y="67" width="12" height="12" fill="{colors[met]}"/>'
        )
        parts.append(text(lx + 17, 77, label))
        lx += 36 + char_w * len(label)
    parts.append(line(lx + 6, 66, lx + 6, 80, "#000000", 2))
    parts.append(text(lx + 14, 77, "the goal's limit"))
    if not rows:
        parts.append(text(12, top + 14, "No workload had both ours and a peer."))
        parts.append("</svg>")
        return "\n".join(parts) + "\n"

    # Stripes under every other row, then the grid and axis labels at whole
    # powers of two, parity (1.0) in black.
    y_end = top + row_h * len(rows)
    for i in range(0, len(rows), 2):
        parts.append(
            f'<rect x="8" y="{top + i * row_h}" width="{width - 16}" '
            f'height="{row_h}" fill="#f4f6f8"/>'
        )
    for v in range(lo, hi + 1):
        parity = v == 0
        parts.append(
            line(
                x(v),
                top - 6,
                x(v),
                y_end + 4,
                "#000000" if parity else "#dddddd",
                1.5 if parity else 1,
            )
        )
        label = f"{2.0**v:g}"
        parts.append(text(x(v), y_end + 18, label, text_anchor="middle"))
    parts.append(
        text(x(0), top - 10, "parity (1.0)", text_anchor="middle", font_weight="bold")
    )
    parts.append(
        text(
            label_w + plot_w / 2,
            y_end + 40,
            "ours / peer, log2 scale: left of parity, ours is faster",
            text_anchor="middle",
        )
    )
    value_x = width - 12
    parts.append(
        text(value_x, top - 10, "ratio", text_anchor="end", font_weight="bold")
    )
    # One bar per row, its ratio in a column on the right; a dashed separator
    # between families of workloads.
    previous = None
    for i, r in enumerate(rows):
        y = top + i * row_h
        family = r.ours.group.split("/")[0]
        if previous is not None and family != previous:
            parts.append(
                line(8, y, width - 8, y, "#bbbbbb", 1, ' stroke-dasharray="3,3"')
            )
        previous = family
        label = r.plot_label + (" (quick run)" if r.quick else "")
        parts.append(text(label_w - 8, y + 15, label, text_anchor="end"))
        v = math.log2(r.ratio)
        x0, x1 = sorted((x(0), x(v)))
        parts.append(
            f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{row_h - 8}" fill="{colors[r.met]}"'
            + (' fill-opacity="0.45"/>' if r.quick else "/>")
        )
        if r.goal:
            gx = x(math.log2(r.goal.limit))
            parts.append(line(gx, y + 1, gx, y + row_h - 1, "#000000", 2))
        parts.append(text(value_x, y + 15, sig3(r.ratio), text_anchor="end"))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(WORKSPACE, "target")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--criterion",
        default=os.path.join(target, "criterion"),
        help="criterion's output directory (default: %(default)s)",
    )
    parser.add_argument(
        "--markdown",
        default=os.path.join(BENCH_DIR, "RESULTS.md"),
        help="table to write (default: %(default)s)",
    )
    parser.add_argument(
        "--svg",
        default=os.path.join(BENCH_DIR, "ratios.svg"),
        help="plot to write (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    notes = []
    try:
        results = load_results(os.path.abspath(args.criterion), notes)
        rows = build_rows(results, notes)
    except Malformed as e:
        print(f"error: malformed criterion output: {e}", file=sys.stderr)
        return 1
    markdown_path, svg_path = os.path.abspath(args.markdown), os.path.abspath(args.svg)
    svg_name = os.path.relpath(svg_path, os.path.dirname(markdown_path))
    criterion_dir = os.path.abspath(args.criterion)
    write(markdown_path, markdown(rows, results, notes, criterion_dir, svg_name))
    print(f"wrote {markdown_path}: {len(rows)} rows, {len(notes)} notes")
    if results:
        day = fmt_mtime(max(r.mtime for r in results.values()))[:10]
        subtitle = f"criterion medians, run of {day}; {cpu_description()}"
    else:
        subtitle = "no criterion results"
    write(svg_path, svg(rows, subtitle))
    print(f"wrote {svg_path}")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
