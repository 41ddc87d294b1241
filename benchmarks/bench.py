"""Benchmark ekslint against the YAML parse it cannot avoid.

Usage::

    python benchmarks/bench.py --files 1000 [--files 10000] [--keep-corpus DIR]
                               [--repeat 3] [--json] [--profile]

For each ``--files`` size it generates a corpus with ``make_corpus.py`` (into a
temporary directory unless ``--keep-corpus``) and measures:

a. startup: ``ekslint --version`` (and, for scale, ``python -c pass`` and a run on an
   empty directory), median wall time of several fresh processes;
b. the bare parse: ruamel.yaml's C composer (``YAML(typ="safe", pure=False)
   .compose_all``) over the files ekslint reads as YAML, reading each file and
   composing every document, nothing else: the parse ekslint builds on;
c. the full lint in-process, as the CLI runs it (``Runner`` on the corpus root, text
   report rendered), with its time per phase and per rule, and the ratio to (b);
d. peak memory: ``ru_maxrss`` of the process running each measurement;
e. scaling: two ekslint CLI processes on the two halves of the corpus, one after the
   other and at the same time, against one process on the whole corpus;
f. the machine.

Every measurement runs in a fresh subprocess (this script with ``--worker``), so
imports, caches and memory of one do not leak into another. Times are medians over
``--repeat`` runs with a warm page cache (the corpus was just written). ``--profile``
adds a cProfile run of (c) and prints the top functions by cumulative and total time.
The run takes as long as ekslint does: 10,000 files take about 20 minutes on a 2-core VM
(``--repeat 1`` or ``--no-scaling`` for a quicker look). Needs Linux or macOS (os.wait4).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import make_corpus

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 1.5  # from the performance issue: full lint within 1.5x of the bare parse
MB = 1_000_000


# -- running processes -------------------------------------------------------------------


@dataclass(slots=True)
class ProcessRun:
    seconds: float  # wall time from start to exit
    max_rss_mb: float  # peak resident set size of the process
    returncode: int
    stdout: str
    stderr: str


def _rss_mb(usage: Any) -> float:
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    return float(usage.ru_maxrss / MB if sys.platform == "darwin" else usage.ru_maxrss * 1024 / MB)


def run_processes(commands: Sequence[Sequence[str]], cwd: Path) -> list[ProcessRun]:
    """Start ``commands`` together and wait for all of them. os.wait4 gives each child's
    own rusage; RUSAGE_CHILDREN would mix every child this script ever had."""
    with ExitStack() as stack:
        # Files, not pipes: a child filling a pipe nobody reads would stall the timing.
        outputs = [
            (stack.enter_context(tempfile.TemporaryFile()), stack.enter_context(tempfile.TemporaryFile()))
            for _ in commands
        ]
        start = time.perf_counter()
        procs = [
            subprocess.Popen(list(cmd), cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            for cmd, (out, err) in zip(commands, outputs, strict=True)
        ]
        pending = {proc.pid for proc in procs}
        finished: dict[int, tuple[float, int, Any]] = {}
        while pending:
            pid, status, usage = os.wait4(-1, 0)  # whichever ends first, for its own end time
            if pid in pending:
                pending.discard(pid)
                finished[pid] = (time.perf_counter() - start, os.waitstatus_to_exitcode(status), usage)
        runs = []
        for proc, (out, err) in zip(procs, outputs, strict=True):
            seconds, code, usage = finished[proc.pid]
            proc.returncode = code  # reaped by wait4; tell Popen so it does not wait again
            out.seek(0)
            err.seek(0)
            runs.append(ProcessRun(seconds, _rss_mb(usage), code, out.read().decode(), err.read().decode()))
        return runs


def run_process(command: Sequence[str], cwd: Path) -> ProcessRun:
    return run_processes([command], cwd)[0]


def ekslint_command() -> list[str]:
    """The installed console script next to this interpreter, as users run it."""
    script = shutil.which("ekslint", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "ekslint"]


def worker(kind: str, cwd: Path, *args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its result plus its peak memory."""
    run = run_process([sys.executable, str(Path(__file__).resolve()), "--worker", kind, *args], cwd)
    if run.returncode != 0:
        raise RuntimeError(f"{kind} worker failed ({run.returncode}):\n{run.stderr}")
    result: dict[str, Any] = json.loads(run.stdout)
    result["max_rss_mb"] = run.max_rss_mb
    return result


# -- workers: run inside a fresh process, print one JSON object --------------------------


def _worker_bare(list_file: str) -> dict[str, Any]:
    import ruamel.yaml.main
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    c_parser = getattr(ruamel.yaml.main, "CParser", None)  # None without ruamel.yaml.clib
    yaml = YAML(typ="safe", pure=False)
    paths = Path(list_file).read_text("utf-8").splitlines()
    documents = errors = size = 0
    start = time.perf_counter()
    for path in paths:
        with open(path, "rb") as handle:
            data = handle.read()
        size += len(data)
        try:
            for _node in yaml.compose_all(data.decode("utf-8")):
                documents += 1
        except YAMLError:  # unrendered templates: ekslint meets the same error
            errors += 1
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "files": len(paths),
        "bytes": size,
        "documents": documents,
        "errors": errors,
        "c_composer": c_parser is not None and yaml.Parser is c_parser,
    }


def _worker_lint(profile: bool) -> dict[str, Any]:
    start = time.perf_counter()
    from ekslint.config import Settings
    from ekslint.engine import plugins
    from ekslint.engine.runner import Runner, RunRequest
    from ekslint.report import ReportOptions

    class TimedRunner(Runner):
        """The CLI's Runner with a stopwatch on each phase; behaviour unchanged. The
        private methods' arguments pass through untouched: their signatures change."""

        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.phases: dict[str, float] = {"read+parse": 0.0, "rules": 0.0, "finish": 0.0}
            self.per_rule: dict[str, float] = {}

        def _timed(self, phase: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.phases[phase] += time.perf_counter() - t

        def _read(self, *args: Any, **kwargs: Any) -> Any:
            return self._timed("read+parse", super()._read, *args, **kwargs)

        def _check(self, *args: Any, **kwargs: Any) -> Any:
            return self._timed("rules", super()._check, *args, **kwargs)

        def _finish(self, *args: Any, **kwargs: Any) -> Any:
            return self._timed("finish", super()._finish, *args, **kwargs)

        def _guarded(self, rule: Any, *args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return super()._guarded(rule, *args, **kwargs)
            finally:
                self.per_rule[rule.id] = self.per_rule.get(rule.id, 0.0) + time.perf_counter() - t

    # What `ekslint --isolated .` does before linting: no config file, plugins loaded.
    registry = plugins.load()
    settings = Settings()
    formatter = registry.formatters["text"]()
    options = ReportOptions(color=False, working_directory=os.getcwd(), command_line=["ekslint", "--isolated", "."])
    setup = time.perf_counter() - start

    runner = TimedRunner(registry, settings)
    gc_pauses = _GcPauses()
    gc.callbacks.append(gc_pauses)  # ekslint keeps every node tree alive: collections get dear
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t = time.perf_counter()
    result = runner.run(RunRequest(["."], settings))
    run_seconds = time.perf_counter() - t
    report = formatter.render(result, registry, settings, options)
    seconds = time.perf_counter() - t
    if profiler is not None:
        profiler.disable()
    gc.callbacks.remove(gc_pauses)

    phases = dict(runner.phases)
    phases["model"] = run_seconds - sum(phases.values())  # build_file_model and the Project index
    phases["render"] = seconds - run_seconds
    out: dict[str, Any] = {
        "seconds": seconds,
        "setup_seconds": setup,
        "phases": phases,
        "per_rule": dict(sorted(runner.per_rule.items(), key=lambda item: -item[1])),
        "files_seen": result.files_seen,
        "files_analysed": result.files_analysed,
        "findings": len(result.findings),
        "suppressed": len(result.suppressed),
        "crashed": len(result.crashed),
        "input_errors": len(result.input_errors),
        "report_bytes": len(report.encode("utf-8")),
        "gc_seconds": gc_pauses.seconds,
        "gc_collections": gc_pauses.collections,
    }
    if profiler is not None:
        import pstats

        texts = []
        for order in ("cumulative", "tottime"):
            buffer = io.StringIO()
            stats = pstats.Stats(profiler, stream=buffer).strip_dirs()
            stats.sort_stats(order).print_stats(25)
            texts.append(f"-- top 25 by {order} --\n" + _stats_table(buffer.getvalue()))
        out["profile"] = "\n".join(texts)
    return out


class _GcPauses:
    """A gc callback summing the time spent in collections, by generation."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.collections[info["generation"]] += 1


def _stats_table(text: str) -> str:
    """pstats output from its column header on (drops the preamble)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("ncalls"):
            return "\n".join(lines[i:]).rstrip() + "\n"
    return text


def worker_main(argv: list[str]) -> int:
    kind = argv[0]
    if kind == "bare":
        result = _worker_bare(argv[1])
    elif kind == "lint":
        result = _worker_lint(profile="--profile" in argv[1:])
    else:
        raise SystemExit(f"unknown worker {kind!r}")
    json.dump(result, sys.stdout)
    return 0


# -- the corpus ---------------------------------------------------------------------------


def _generator_stamp(files: int, seed: int) -> dict[str, Any]:
    source = (HERE / "make_corpus.py").read_bytes()
    return {"files": files, "seed": seed, "generator_sha256": hashlib.sha256(source).hexdigest()}


@contextmanager
def corpus(files: int, seed: int, keep: Path | None) -> Iterator[tuple[Path, dict[str, Any], float | None]]:
    """The corpus directory, its summary and how long generating it took (None when a
    kept corpus from the same generator, size and seed was reused)."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="ekslint-bench-") as tmp:
            root = Path(tmp) / f"files-{files}"
            t = time.perf_counter()
            summary = make_corpus.generate(files, root, seed).as_dict()
            yield root, summary, time.perf_counter() - t
        return
    root = keep / f"files-{files}"
    stamp_file = keep / f"files-{files}.json"  # beside the corpus, not in it: it would be linted
    stamp = _generator_stamp(files, seed)
    if root.is_dir() and stamp_file.is_file():
        saved = json.loads(stamp_file.read_text("utf-8"))
        if saved.get("stamp") == stamp:
            yield root, saved["summary"], None
            return
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"bench: {root} holds another corpus; remove it or choose another --keep-corpus")
    t = time.perf_counter()
    summary = make_corpus.generate(files, root, seed).as_dict()
    elapsed = time.perf_counter() - t
    stamp_file.write_text(json.dumps({"stamp": stamp, "summary": summary}, indent=2) + "\n", "utf-8")
    yield root, summary, elapsed


def yaml_inputs(root: Path) -> list[str]:
    """The files ekslint parses as YAML documents, decided by ekslint's own content
    sniffing (done here, outside any timing), relative to ``root``."""
    from ekslint.parse.sources import Content, sniff

    chosen = []
    for directory, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(directory, name)
            text = path.read_bytes().decode("utf-8", "replace")
            if sniff(text) is Content.YAML:
                chosen.append(path.relative_to(root).as_posix())
    return chosen


def halves(root: Path) -> tuple[list[str], list[str]]:
    """Split the corpus into two halves of about equal bytes along directory lines
    (``teams/<team>/<service>``, ``platform/clusters/<env>``...), as a team would
    split a monorepo between two CI jobs."""
    units: dict[str, int] = {}
    for directory, _dirs, names in os.walk(root):
        for name in names:
            relative = Path(directory, name).relative_to(root)
            unit = Path(*relative.parts[:3]).as_posix()
            units[unit] = units.get(unit, 0) + (root / relative).stat().st_size
    parts: tuple[list[str], list[str]] = ([], [])
    sizes = [0, 0]
    for unit, size in sorted(units.items(), key=lambda item: (-item[1], item[0])):
        lighter = 0 if sizes[0] <= sizes[1] else 1
        parts[lighter].append(unit)
        sizes[lighter] += size
    return sorted(parts[0]), sorted(parts[1])


# -- measurements --------------------------------------------------------------------------


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median time (its phases stay consistent with its total)."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["all_seconds"] = [r["seconds"] for r in runs]
    chosen["max_rss_mb"] = max(r["max_rss_mb"] for r in runs)
    return chosen


def measure_startup(runs: int) -> dict[str, Any]:
    ekslint = ekslint_command()
    with tempfile.TemporaryDirectory(prefix="ekslint-empty-") as empty:
        commands = {
            "python": [sys.executable, "-c", "pass"],
            "version": [*ekslint, "--version"],
            "empty_run": [*ekslint, "--isolated", "."],
        }
        out: dict[str, Any] = {}
        for name, command in commands.items():
            times = [run_process(command, Path(empty)).seconds for _ in range(runs)]
            out[name] = {"median_seconds": statistics.median(times), "min_seconds": min(times), "runs": runs}
    return out


def measure_scaling(root: Path, repeat: int) -> dict[str, Any]:
    base = [*ekslint_command(), "--isolated", "--color", "never", "-o", os.devnull]
    first, second = halves(root)
    whole, sequential, concurrent = [], [], []
    rss: list[float] = []
    for _ in range(repeat):
        one = run_process([*base, "."], root)
        a = run_process([*base, *first], root)
        b = run_process([*base, *second], root)
        both = run_processes([[*base, *first], [*base, *second]], root)
        for run in (one, a, b, *both):
            if run.returncode not in (0, 1):
                raise RuntimeError(f"ekslint exited {run.returncode}:\n{run.stderr}")
        whole.append(one.seconds)
        sequential.append(a.seconds + b.seconds)
        concurrent.append(max(r.seconds for r in both))
        rss.extend(r.max_rss_mb for r in both)
    result: dict[str, Any] = {
        "whole_seconds": statistics.median(whole),
        "halves_sequential_seconds": statistics.median(sequential),
        "halves_concurrent_seconds": statistics.median(concurrent),
        "half_units": [len(first), len(second)],
        "max_rss_mb_per_half": max(rss),
    }
    result["speedup_vs_whole"] = result["whole_seconds"] / result["halves_concurrent_seconds"]
    result["concurrency_scaling"] = result["halves_sequential_seconds"] / result["halves_concurrent_seconds"]
    return result


def measure_size(files: int, args: argparse.Namespace) -> dict[str, Any]:
    with corpus(files, args.seed, args.keep_corpus) as (root, summary, generate_seconds):
        log(f"[{files} files] corpus at {root} ({summary['bytes'] / MB:.1f} MB)")
        inputs = yaml_inputs(root)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
            handle.write("\n".join(inputs) + "\n")
            list_file = handle.name
        try:
            bare_runs, lint_runs = [], []
            for i in range(args.repeat):  # interleaved, so a slow spell of the machine hits both
                log(f"[{files} files] bare parse {i + 1}/{args.repeat}")
                bare_runs.append(worker("bare", root, list_file))
                log(f"[{files} files] lint {i + 1}/{args.repeat}")
                lint_runs.append(worker("lint", root))
        finally:
            os.unlink(list_file)
        bare, lint = median_run(bare_runs), median_run(lint_runs)
        lint["bytes"] = summary["bytes"]
        out: dict[str, Any] = {
            "files": files,
            "corpus": summary,
            "generate_seconds": generate_seconds,
            "bare_parse": bare,
            "lint": lint,
            "ratio": lint["seconds"] / bare["seconds"],
        }
        if not args.no_scaling:
            log(f"[{files} files] two processes")
            out["scaling"] = measure_scaling(root, args.repeat)
        if args.profile:
            log(f"[{files} files] cProfile")
            out["profile"] = worker("lint", root, "--profile")["profile"]
        out["source_sha256_after"] = _source_digest()  # an edit to ekslint mid-run mixes versions
        return out


# -- the machine ----------------------------------------------------------------------------


def _cpuinfo() -> tuple[str, int | None]:
    """CPU model and physical core count from /proc/cpuinfo (Linux); best effort."""
    try:
        text = Path("/proc/cpuinfo").read_text("utf-8", "replace")
    except OSError:
        return platform.processor() or platform.machine(), None
    model = ""
    cores: set[tuple[str, str]] = set()
    physical = core = ""
    for line in [*text.splitlines(), ""]:  # the blank line closes the last processor
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "model name" and not model:
            model = value
        elif key == "physical id":
            physical = value
        elif key == "core id":
            core = value
        elif not key and core:
            cores.add((physical, core))
            physical = core = ""
    return model or platform.processor() or platform.machine(), len(cores) or None


def _git_revision() -> str | None:
    try:
        head = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(HERE.parent), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def _source_digest() -> str | None:
    """A digest of the ekslint code that runs (package and rules): the git revision
    alone does not tell two runs on a dirty working tree apart."""
    import importlib.util

    digest = hashlib.sha256()
    for package in ("ekslint", "ekslint.rules"):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def machine() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    def package(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    model, physical = _cpuinfo()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": model,
        "logical_cores": os.cpu_count(),
        "physical_cores": physical,
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "ekslint": package("ekslint"),
        "git": _git_revision(),
        "source_sha256": _source_digest(),
        "ruamel.yaml": package("ruamel.yaml"),
        "ruamel.yaml.clib": package("ruamel.yaml.clib"),
    }


# -- output -------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _table(rows: list[tuple[str, list[str]]], header: list[str]) -> str:
    width = max(len(label) for label, _ in rows)
    cols = [max(len(h), *(len(v[i]) for _, v in rows if i < len(v))) for i, h in enumerate(header)]
    lines = [" " * width + "".join(f"  {h:>{w}}" for h, w in zip(header, cols, strict=True))]
    for label, values in rows:
        if not values:
            lines.append(label)
            continue
        lines.append(f"{label:<{width}}" + "".join(f"  {v:>{w}}" for v, w in zip(values, cols, strict=True)))
    return "\n".join(lines)


def _spread(times: list[float]) -> str:
    return f"{min(times):.2f}-{max(times):.2f}"


def render(report: dict[str, Any]) -> str:
    m, startup, sizes = report["machine"], report["startup"], report["sizes"]
    out = [
        f"ekslint {m['ekslint']} (git {m['git'] or '?'}, source {m['source_sha256'] or '?'}), {m['python']}, "
        f"ruamel.yaml {m['ruamel.yaml']} + clib {m['ruamel.yaml.clib'] or 'MISSING'}",
        f"machine: {m['cpu']}; {m['logical_cores']} logical / {m['physical_cores'] or '?'} physical cores, "
        f"{m['usable_cores']} usable; {m['platform']}; "
        f"load average {report['load_average']['before']:.2f} before, {report['load_average']['after']:.2f} after",
        "",
        f"startup (median of {startup['version']['runs']} fresh processes)",
        f"  python -c pass                  {startup['python']['median_seconds'] * 1000:8.1f} ms",
        f"  ekslint --version               {startup['version']['median_seconds'] * 1000:8.1f} ms",
        f"  ekslint --isolated <empty dir>  {startup['empty_run']['median_seconds'] * 1000:8.1f} ms",
        "",
    ]

    def col(fn: Any) -> list[str]:
        return [fn(s) for s in sizes]

    rows: list[tuple[str, list[str]]] = [
        ("corpus", []),
        ("  size (MB)", col(lambda s: f"{s['corpus']['bytes'] / MB:.1f}")),
        ("  YAML files (bare-parse input)", col(lambda s: f"{s['bare_parse']['files']:,}")),
        ("  YAML MB", col(lambda s: f"{s['bare_parse']['bytes'] / MB:.1f}")),
        (
            "  generated in (s)",
            col(lambda s: "reused" if s["generate_seconds"] is None else f"{s['generate_seconds']:.1f}"),
        ),
        ("bare parse (C compose_all, YAML files)", []),
        ("  seconds", col(lambda s: f"{s['bare_parse']['seconds']:.2f}")),
        ("  spread of the runs (s)", col(lambda s: _spread(s["bare_parse"]["all_seconds"]))),
        ("  files/s", col(lambda s: f"{s['bare_parse']['files'] / s['bare_parse']['seconds']:,.0f}")),
        ("  MB/s", col(lambda s: f"{s['bare_parse']['bytes'] / MB / s['bare_parse']['seconds']:.2f}")),
        ("  peak RSS (MB)", col(lambda s: f"{s['bare_parse']['max_rss_mb']:.0f}")),
        ("ekslint lint (in-process, all files)", []),
        ("  seconds", col(lambda s: f"{s['lint']['seconds']:.2f}")),
        ("  spread of the runs (s)", col(lambda s: _spread(s["lint"]["all_seconds"]))),
        ("  files/s", col(lambda s: f"{s['lint']['files_seen'] / s['lint']['seconds']:,.0f}")),
        ("  MB/s", col(lambda s: f"{s['lint']['bytes'] / MB / s['lint']['seconds']:.2f}")),
        (f"  lint / bare parse (target <= {TARGET_RATIO}x)", col(lambda s: f"{s['ratio']:.2f}x")),
    ]
    for phase in ("read+parse", "model", "rules", "finish", "render"):
        rows.append((f"  phase {phase} (s)", col(lambda s, p=phase: f"{s['lint']['phases'][p]:.2f}")))
        if phase == "rules":
            for rule in sorted({rule for s in sizes for rule in s["lint"]["per_rule"]}):
                rows.append((f"    rule {rule} (s)", col(lambda s, r=rule: f"{s['lint']['per_rule'].get(r, 0.0):.3f}")))
    rows += [
        ("  GC pauses, all phases (s)", col(lambda s: f"{s['lint']['gc_seconds']:.2f}")),
        ("  full (gen 2) collections", col(lambda s: f"{s['lint']['gc_collections'][2]}")),
        ("  peak RSS (MB)", col(lambda s: f"{s['lint']['max_rss_mb']:.0f}")),
        ("  setup before the run (s)", col(lambda s: f"{s['lint']['setup_seconds']:.2f}")),
        ("  files analysed / seen", col(lambda s: f"{s['lint']['files_analysed']:,}/{s['lint']['files_seen']:,}")),
        ("  findings (+suppressed)", col(lambda s: f"{s['lint']['findings']} (+{s['lint']['suppressed']})")),
    ]
    if all("scaling" in s for s in sizes):
        rows += [
            ("two processes (CLI, wall time)", []),
            ("  one process, whole corpus (s)", col(lambda s: f"{s['scaling']['whole_seconds']:.2f}")),
            ("  halves one after another (s)", col(lambda s: f"{s['scaling']['halves_sequential_seconds']:.2f}")),
            ("  halves concurrently (s)", col(lambda s: f"{s['scaling']['halves_concurrent_seconds']:.2f}")),
            ("  speedup vs one process", col(lambda s: f"{s['scaling']['speedup_vs_whole']:.2f}x")),
            ("  concurrency scaling (ideal 2.00x)", col(lambda s: f"{s['scaling']['concurrency_scaling']:.2f}x")),
            ("  peak RSS per process (MB)", col(lambda s: f"{s['scaling']['max_rss_mb_per_half']:.0f}")),
        ]
    header = [f"{s['files']:,} files" for s in sizes]
    out.append(_table(rows, header))
    out.append("")
    out.append(
        f"Times are medians of {report['repeat']} fresh processes; MB = 10^6 bytes. Lint throughput counts every "
        "file walked; the bare parse only the files ekslint sniffs as YAML."
    )
    changed = [s["files"] for s in sizes if s.get("source_sha256_after") != m["source_sha256"]]
    if changed:
        out.append(
            f"WARNING: the ekslint source changed during the run (by the end of the {changed[0]:,}-file "
            "measurements): the numbers mix versions; run again on a quiet tree."
        )
    if not all(s["bare_parse"]["c_composer"] for s in sizes):
        out.append("WARNING: ruamel.yaml.clib is not in use; both numbers are for the pure-Python parser.")
    for s in sizes:
        if "profile" in s:
            out += ["", f"cProfile of the in-process lint, {s['files']:,} files", s["profile"]]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return worker_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--files", type=int, action="append", required=True, help="corpus size; repeatable")
    parser.add_argument("--keep-corpus", type=Path, metavar="DIR", help="generate (or reuse) corpora under DIR")
    parser.add_argument("--seed", type=int, default=make_corpus.DEFAULT_SEED, help="corpus seed")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, median reported (default 3)")
    parser.add_argument("--startup-runs", type=int, default=7, help="runs of each startup command (default 7)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the two-process measurement")
    parser.add_argument("--profile", action="store_true", help="also cProfile the lint and print the top functions")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = parser.parse_args(argv)
    if min(args.files) < 1 or args.repeat < 1 or args.startup_runs < 1:
        parser.error("--files, --repeat and --startup-runs must be positive")
    if args.keep_corpus is not None:
        args.keep_corpus.mkdir(parents=True, exist_ok=True)

    log("startup")
    load_before = os.getloadavg()  # other work on the machine skews every number below
    report: dict[str, Any] = {
        "machine": machine(),
        "repeat": args.repeat,
        "seed": args.seed,
        "startup": measure_startup(args.startup_runs),
        "sizes": [measure_size(files, args) for files in args.files],
    }
    report["load_average"] = {"before": load_before[0], "after": os.getloadavg()[0]}
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
