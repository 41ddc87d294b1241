"""Benchmark ekslint against the YAML parse it cannot avoid (the issue 6 targets).

Usage::

    python benchmarks/bench.py --files 1000 [--files 10000 --files 50000] [--keep-corpus DIR]
                               [--repeat 3] [--skip PART] [--json] [--profile]

For each ``--files`` size it generates a corpus with ``make_corpus.py`` (into a
temporary directory, or reused from ``--keep-corpus DIR``) and measures, every time in
a fresh process:

1. bare parse: ruamel.yaml's C composer (``YAML(typ="safe", pure=False).compose_all``)
   over the files ekslint reads as YAML, nothing else: the parse ekslint builds on;
   and the round-trip load (``YAML().load_all``, pure Python, the default ``typ="rt"``)
   of the same files keeping every document alive to the end: the memory a tool that
   keeps round-trip documents needs (run ``--rt-repeat`` times, default once: it is slow);
2. serial lint, in-process as the CLI runs it without a cache (``RunRequest(["."],
   settings, jobs=1)``, text report rendered), with its time per phase (analyse,
   project index, project rules and each project rule, finish, render) and the ratio
   to the bare parse (target <= 1.3x), and the CPU time of both (a busy machine
   stretches wall times unevenly). The analyse phase is split into read, parse, model,
   each file rule and what is left (the walk and the bookkeeping), by stopwatches put
   around the functions the engine calls (not in a ``--profile`` run);
3. the same with ``jobs=2``: the speedup over serial (target >= 1.8x) and whether the
   findings are identical (count and a digest of the sorted fingerprints);
4. the CLI (``ekslint --cache-dir D``) in a fresh process, so startup counts: a cold run
   with ``-j1`` and a fresh cache, a warm run with the same cache (target cold/warm >= 5x),
   and a cold run with the default ``--jobs``;
5. a one-file pre-commit run on the warm cache (``ekslint --cache-dir D --context .
   FILE``) for a workload without sysctls, one with sysctls and a PodDisruptionBudget
   picked deterministically from the corpus, median of at least 3 (target <= 0.5 s);
6. peak memory: the serial lint's peak RSS against the round-trip load's (target <= 3x);
7. startup: ``python -c pass``, ``ekslint --version`` and a run on an empty directory;
8. scaling: files/s and time per file of each measurement across the sizes (the
   cross-file index must stay near-linear);
9. the machine, the ekslint revision and the load average.

Times are medians over ``--repeat`` runs (peak RSS the largest) with a warm page
cache. Peak RSS comes from os.wait4, so for a run with worker processes it is that of
the largest single process, not the sum. ``--profile`` adds a cProfile run of the
serial lint. ``--skip rt|jobs|cache|precommit`` leaves a measurement out.

How long it takes (2-core VM, current ekslint): about 25 s for 1,000 files with
``--repeat 1``, most of it the round-trip load (~9 ms a file, pure Python). Every other
measurement is a full lint, ~5 of them per ``--repeat``, and the lint's cross-file stage
is not yet linear, so 10,000 files take some minutes and 50,000 files most of an hour
with ``--repeat 3``; the 50,000-file round-trip load alone takes ~8 minutes and holds
~3.5 GB. Generating 50,000 files takes ~40 s: reuse them with ``--keep-corpus``.
Needs Linux or macOS (os.wait4).
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
MB = 1_000_000
# A pip install writes bytecode; PYTHONDONTWRITEBYTECODE (set on some CI machines) would
# make every measured process compile ekslint's sources again (~60 ms of each start).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
# The issue 6 targets, as ratios measured in one run on one machine.
TARGET_SERIAL_VS_BARE = 1.3  # serial lint / bare C parse, at most
TARGET_JOBS2_SPEEDUP = 1.8  # serial lint / --jobs 2 lint, at least
TARGET_COLD_VS_WARM = 5.0  # cold-cache CLI run / warm-cache CLI run, at least
TARGET_PRECOMMIT_SECONDS = 0.5  # one-file pre-commit run on a warm cache, at most
TARGET_MEMORY_VS_RT = 3.0  # serial lint peak RSS / round-trip load peak RSS, at most
SKIPPABLE = ("rt", "jobs", "cache", "precommit")
PRECOMMIT_KINDS = {
    "workload": "workload without sysctls",
    "sysctls": "workload with sysctls",
    "pdb": "PodDisruptionBudget",
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


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
            subprocess.Popen(list(cmd), cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=CHILD_ENV)
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


def findings_digest(fingerprints: list[str]) -> str:
    """What "the same findings" means here: the same sorted fingerprints. (Repeated in
    CLI_WRAPPER, which must not import this module: it would add to the startup.)"""
    return hashlib.sha256("\n".join(sorted(fingerprints)).encode()).hexdigest()[:16]


def _worker_bare(list_file: str) -> dict[str, Any]:
    import ruamel.yaml.main
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    c_parser = getattr(ruamel.yaml.main, "CParser", None)  # None without ruamel.yaml.clib
    yaml = YAML(typ="safe", pure=False)
    paths = Path(list_file).read_text("utf-8").splitlines()
    documents = errors = size = 0
    start, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        with open(path, "rb") as handle:
            data = handle.read()
        size += len(data)
        try:
            for _node in yaml.compose_all(data.decode("utf-8")):
                documents += 1
        except YAMLError:  # unrendered templates: ekslint meets the same error
            errors += 1
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "files": len(paths),
        "bytes": size,
        "documents": documents,
        "errors": errors,
        "c_composer": c_parser is not None and yaml.Parser is c_parser,
    }


def _worker_roundtrip(list_file: str) -> dict[str, Any]:
    """Round-trip load every file and keep every document until the end: the memory
    of a tool that holds its users' documents as ruamel.yaml's round-trip objects."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML()  # typ="rt": pure Python whatever is installed
    paths = Path(list_file).read_text("utf-8").splitlines()
    kept: list[list[Any]] = []
    documents = errors = 0
    start = time.perf_counter()
    for path in paths:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
        loaded: list[Any] = []
        try:
            for document in yaml.load_all(text):
                loaded.append(document)
        except YAMLError:  # keep what loaded before the error, as a linter would
            errors += 1
        documents += len(loaded)
        kept.append(loaded)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "files": len(paths), "documents": documents, "errors": errors, "kept": len(kept)}


def _worker_lint(jobs: int, profile: bool) -> dict[str, Any]:
    start = time.perf_counter()
    from ekslint.config import Settings
    from ekslint.engine import plugins
    from ekslint.engine.hookspecs import ReportOptions
    from ekslint.engine.runner import Runner, RunRequest

    class TimedRunner(Runner):
        """The CLI's Runner with a stopwatch on each phase and on each project rule;
        behaviour unchanged. The private methods' arguments pass through untouched:
        their signatures change."""

        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.phases: dict[str, float] = dict.fromkeys(("discover", "analyse", "project rules", "finish"), 0.0)
            self.per_rule: dict[str, float] = {}
            self.project_rules = [self._timed_rule(rule) for rule in self.project_rules]

        def _timed_rule(self, rule_class: Any) -> Any:
            """A subclass of ``rule_class`` whose check is timed, generator drained."""
            per_rule = self.per_rule

            def check(rule: Any, target: Any, ctx: Any) -> list[Any]:
                t = time.perf_counter()
                try:
                    return list(rule_class.check(rule, target, ctx))
                finally:
                    per_rule[rule_class.id] = per_rule.get(rule_class.id, 0.0) + time.perf_counter() - t

            namespace = {"check": check, "__doc__": rule_class.__doc__, "__module__": rule_class.__module__}
            return type(rule_class.__name__, (rule_class,), namespace)

        def _timed(self, phase: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.phases[phase] += time.perf_counter() - t

        def _discover(self, *args: Any, **kwargs: Any) -> Any:
            return self._timed("discover", super()._discover, *args, **kwargs)

        def _analyse(self, *args: Any, **kwargs: Any) -> Any:
            return self._timed("analyse", super()._analyse, *args, **kwargs)

        def _check_project(self, *args: Any, **kwargs: Any) -> Any:
            return self._timed("project rules", super()._check_project, *args, **kwargs)

        def _finish(self, *args: Any, **kwargs: Any) -> Any:
            return self._timed("finish", super()._finish, *args, **kwargs)

    stages = _StageTimer() if jobs == 1 and not profile else None
    # What `ekslint --isolated --no-cache -j N .` does before linting: no config file,
    # plugins loaded.
    registry = plugins.load()
    settings = Settings()
    formatter = registry.formatters["text"]()
    options = ReportOptions(color=False, working_directory=os.getcwd(), command_line=["ekslint", "--isolated", "."])
    setup = time.perf_counter() - start

    runner = TimedRunner(registry, settings)
    gc_pauses = _GcPauses()
    gc.callbacks.append(gc_pauses)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t, cpu = time.perf_counter(), time.process_time()
    result = runner.run(RunRequest(["."], settings, jobs=jobs))
    run_seconds = time.perf_counter() - t
    report = formatter.render(result, registry, settings, options)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
    gc.callbacks.remove(gc_pauses)

    phases = dict(runner.phases)
    # Building the Project (the cross-file index) and the bookkeeping between phases.
    phases["project index"] = run_seconds - sum(phases.values())
    phases["render"] = seconds - run_seconds
    if stages is not None:
        stages.restore()
    out: dict[str, Any] = {
        "seconds": seconds,
        "cpu_seconds": cpu,  # this process only: a parallel run's workers are not in it
        "setup_seconds": setup,
        "phases": phases,
        "per_rule": dict(sorted(runner.per_rule.items(), key=lambda item: -item[1])),
        "jobs": result.jobs,
        "files_seen": result.files_seen,
        "files_analysed": result.files_analysed,
        "findings": len(result.findings),
        "suppressed": len(result.suppressed),
        "crashed": len(result.crashed),
        "input_errors": len(result.input_errors),
        "digest": findings_digest([f.fingerprint for f in (*result.findings, *result.suppressed)]),
        "report_bytes": len(report.encode("utf-8")),
        "gc_seconds": gc_pauses.seconds,
        "gc_collections": gc_pauses.collections,
    }
    if stages is not None:
        out["stages"] = stages.breakdown(phases)
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


class _StageTimer:
    """Stopwatches around the per-file stage's steps, put in place by replacing the
    functions the engine calls (restored afterwards): read, parse (decode, sniff, YAML
    compose, userdata parse), model (the file model, its facts, the shape checks,
    suppressions) and each file rule. About 0.5 us a call: a serial run's total moves
    by well under 1%. The walk is what is left of the analyse phase."""

    def __init__(self) -> None:
        from ekslint.engine import analysis, parallel
        from ekslint.model import filemodel
        from ekslint.validation import shapes

        self.seconds: dict[str, float] = {"read": 0.0, "parse": 0.0, "model": 0.0}
        self.per_rule: dict[str, float] = {}
        self._undo: list[tuple[Any, str, Any]] = []
        self._wrap(parallel, "read_head", "read")
        self._wrap(analysis, "load_bytes", "parse")
        self._wrap(analysis, "build_file_model", "model")
        self._wrap(shapes, "check_file", "model")
        self._wrap(filemodel.FileModel, "facts", "model")
        self._wrap(analysis, "_suppressions", "model")
        original = analysis.run_rule
        per_rule = self.per_rule

        def run_rule(rule: Any, *args: Any) -> Any:
            t = time.perf_counter()
            try:
                return original(rule, *args)
            finally:
                per_rule[rule.id] = per_rule.get(rule.id, 0.0) + time.perf_counter() - t

        self._undo.append((analysis, "run_rule", original))
        analysis.run_rule = run_rule  # only the per-file stage's calls: the runner holds its own

    def _wrap(self, owner: Any, name: str, stage: str) -> None:
        original = getattr(owner, name)
        seconds = self.seconds

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[stage] += time.perf_counter() - t

        self._undo.append((owner, name, original))
        setattr(owner, name, timed)

    def restore(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)

    def breakdown(self, phases: dict[str, float]) -> dict[str, Any]:
        rules = sum(self.per_rule.values())
        walk = phases["analyse"] - rules - sum(self.seconds.values())
        return {
            **self.seconds,
            "file rules": rules,
            "walk + bookkeeping": walk,
            "per_file_rule": dict(sorted(self.per_rule.items(), key=lambda item: -item[1])),
        }


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
    elif kind == "rt":
        result = _worker_roundtrip(argv[1])
    elif kind == "lint":
        result = _worker_lint(jobs=int(argv[1]), profile="--profile" in argv[2:])
    else:
        raise SystemExit(f"unknown worker {kind!r}")
    json.dump(result, sys.stdout)
    return 0


# The CLI as users run it (the console script's `main()`), in a fresh interpreter, with
# the RunResult's counters recorded: wall time includes startup. Imports nothing the
# CLI would not import itself (json, hashlib and the runner all load in any run).
CLI_WRAPPER = """\
import hashlib, json, sys
from ekslint.engine import runner
_run = runner.Runner.run
_seen = {}
def _recording_run(self, request):
    result = _run(self, request)
    fingerprints = sorted(f.fingerprint for f in (*result.findings, *result.suppressed))
    _seen.update(
        files_seen=result.files_seen, files_analysed=result.files_analysed, from_cache=result.from_cache,
        jobs=result.jobs, findings=len(result.findings), suppressed=len(result.suppressed),
        crashed=len(result.crashed), digest=hashlib.sha256("\\n".join(fingerprints).encode()).hexdigest()[:16],
    )
    return result
runner.Runner.run = _recording_run
from ekslint.cli import main
code = main(sys.argv[1:])
print("EKSLINT-BENCH " + json.dumps(_seen), flush=True)
sys.exit(code)
"""


def cli_run(args: Sequence[str], cwd: Path) -> dict[str, Any]:
    """``ekslint --isolated --color never -o /dev/null ARGS`` in a fresh process."""
    command = [sys.executable, "-c", CLI_WRAPPER, "--isolated", "--color", "never", "-o", os.devnull, *args]
    run = run_process(command, cwd)
    marker = [line for line in run.stdout.splitlines() if line.startswith("EKSLINT-BENCH ")]
    if run.returncode not in (0, 1) or not marker:
        raise RuntimeError(f"ekslint {' '.join(args)} exited {run.returncode}:\n{run.stderr}")
    result: dict[str, Any] = json.loads(marker[-1].split(" ", 1)[1])
    result.update(seconds=run.seconds, max_rss_mb=run.max_rss_mb, args=list(args))
    return result


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


def precommit_targets(root: Path, inputs: list[str]) -> dict[str, str]:
    """One file of each kind a pre-commit run meets, chosen deterministically: the
    middle one, in path order, of the YAML files holding only that kind of document."""
    import re

    kind_line = re.compile(r"^kind:\s*(\S+)", re.MULTILINE)
    candidates: dict[str, list[str]] = {kind: [] for kind in PRECOMMIT_KINDS}
    for relative in inputs:
        text = (root / relative).read_text("utf-8", "replace")
        if "{{" in text:  # an unrendered template: ekslint skips it
            continue
        kinds = set(kind_line.findall(text))
        if kinds == {"PodDisruptionBudget"}:
            candidates["pdb"].append(relative)
        elif kinds & set(WORKLOAD_KINDS) and "PodDisruptionBudget" not in kinds:
            candidates["sysctls" if "sysctls:" in text else "workload"].append(relative)
    return {kind: paths[len(paths) // 2] for kind, paths in candidates.items() if paths}


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
            "empty_run": [*ekslint, "--isolated", "--no-cache", "."],
        }
        out: dict[str, Any] = {}
        for name, command in commands.items():
            times = [run_process(command, Path(empty)).seconds for _ in range(runs)]
            out[name] = {"median_seconds": statistics.median(times), "min_seconds": min(times), "runs": runs}
    return out


def measure_cache(root: Path, repeat: int, warm_dir: Path) -> dict[str, Any]:
    """Cold and warm CLI runs, each cold run on a fresh cache directory. The last
    ``-j1`` cache is left in ``warm_dir`` for the pre-commit runs."""
    cold_j1, warm, cold_auto = [], [], []
    for i in range(repeat):
        log(f"  cache {i + 1}/{repeat}: cold -j1, warm -j1, cold default jobs")
        with tempfile.TemporaryDirectory(prefix="ekslint-bench-cache-") as scratch:
            cold_dir = warm_dir if i == repeat - 1 else Path(scratch) / "j1"
            cold_j1.append(cli_run(["--cache-dir", str(cold_dir), "-j1", "."], root))
            warm.append(cli_run(["--cache-dir", str(cold_dir), "-j1", "."], root))
            cold_auto.append(cli_run(["--cache-dir", str(Path(scratch) / "auto"), "."], root))
    return {"cold_j1": median_run(cold_j1), "warm": median_run(warm), "cold_default_jobs": median_run(cold_auto)}


def measure_precommit(root: Path, targets: dict[str, str], runs: int, warm_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, relative in targets.items():
        log(f"  pre-commit, {PRECOMMIT_KINDS[kind]}: {relative}")
        out[kind] = median_run(
            [cli_run(["--cache-dir", str(warm_dir), "--context", ".", relative], root) for _ in range(runs)]
        )
        out[kind]["path"] = relative
    return out


def measure_size(files: int, args: argparse.Namespace) -> dict[str, Any]:
    skip = set(args.skip)
    with corpus(files, args.seed, args.keep_corpus) as (root, summary, generate_seconds):
        log(f"[{files} files] corpus at {root} ({summary['bytes'] / MB:.1f} MB)")
        inputs = yaml_inputs(root)
        targets = precommit_targets(root, inputs)
        with ExitStack() as stack:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ekslint-bench-")))
            list_file = scratch / "yaml-files.txt"
            list_file.write_text("\n".join(str(root / p) for p in inputs) + "\n", "utf-8")
            bare_runs, serial_runs, jobs2_runs = [], [], []
            for i in range(args.repeat):  # interleaved, so a slow spell of the machine hits each
                log(f"[{files} files] bare parse {i + 1}/{args.repeat}")
                bare_runs.append(worker("bare", root, str(list_file)))
                log(f"[{files} files] serial lint {i + 1}/{args.repeat}")
                serial_runs.append(worker("lint", root, "1"))
                if "jobs" not in skip:
                    log(f"[{files} files] lint --jobs 2 {i + 1}/{args.repeat}")
                    jobs2_runs.append(worker("lint", root, "2"))
            out: dict[str, Any] = {
                "files": files,
                "corpus": summary,
                "generate_seconds": generate_seconds,
                "bare_parse": median_run(bare_runs),
                "serial": median_run(serial_runs),
            }
            if jobs2_runs:
                out["jobs2"] = median_run(jobs2_runs)
            if "rt" not in skip:
                rt_runs = []
                for i in range(args.rt_repeat):
                    log(f"[{files} files] round-trip load {i + 1}/{args.rt_repeat}")
                    rt_runs.append(worker("rt", root, str(list_file)))
                out["roundtrip"] = median_run(rt_runs)
            warm_dir = scratch / "warm-cache"
            if "cache" not in skip:
                log(f"[{files} files] CLI with a cache")
                out["cache"] = measure_cache(root, args.repeat, warm_dir)
            if "precommit" not in skip:
                if "cache" in skip:  # the pre-commit runs need a warm cache
                    cli_run(["--cache-dir", str(warm_dir), "-j1", "."], root)
                log(f"[{files} files] one-file pre-commit runs")
                out["precommit"] = measure_precommit(root, targets, max(3, args.repeat), warm_dir)
        if args.profile:
            log(f"[{files} files] cProfile of the serial lint")
            out["profile"] = worker("lint", root, "1", "--profile")["profile"]
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


def _table(rows: list[list[str]], header: list[str]) -> str:
    """The first column left-aligned, the others right-aligned."""
    cols = [max(len(h), *(len(r[i]) for r in rows if i < len(r))) for i, h in enumerate(header)]

    def line(values: list[str]) -> str:
        cells = [f"{values[0]:<{cols[0]}}"]
        cells += [f"{v:>{w}}" for v, w in zip(values[1:], cols[1:], strict=False)]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def _verdict(value: float, target: float, at_most: bool) -> str:
    return "PASS" if (value <= target if at_most else value >= target) else "FAIL"


def _row(label: str, seconds: float | None = None, rss: float | None = None, *rest: str) -> list[str]:
    return [label, "" if seconds is None else f"{seconds:.3f}", "" if rss is None else f"{rss:.0f}", *rest]


def size_table(s: dict[str, Any]) -> str:
    bare, serial = s["bare_parse"], s["serial"]
    rows: list[list[str]] = [
        _row(f"bare parse (C compose_all, {bare['files']:,} YAML files)", bare["seconds"], bare["max_rss_mb"]),
    ]
    rt = s.get("roundtrip")
    if rt is not None:
        rows.append(_row("round-trip load_all, documents kept", rt["seconds"], rt["max_rss_mb"]))
    ratio = serial["seconds"] / bare["seconds"]
    rows.append(
        _row(
            "serial lint (in-process, jobs=1, no cache)",
            serial["seconds"],
            serial["max_rss_mb"],
            f"{ratio:.2f}x bare",
            f"<= {TARGET_SERIAL_VS_BARE}x",
            _verdict(ratio, TARGET_SERIAL_VS_BARE, at_most=True),
        )
    )
    if "cpu_seconds" in serial and "cpu_seconds" in bare:
        # On a busy machine wall times stretch, and unevenly; CPU times much less.
        cpu_ratio = serial["cpu_seconds"] / bare["cpu_seconds"]
        rows.append(
            _row(
                f"  CPU time: serial {serial['cpu_seconds']:.2f} s / bare {bare['cpu_seconds']:.2f} s",
                None,
                None,
                f"{cpu_ratio:.2f}x bare",
                "(info)",
            )
        )
    labels = {
        "discover": "discover (a --context run's file order)",
        "analyse": "analyse (walk, read, parse, model, file rules)",
        "project index": "project index + bookkeeping",
        "project rules": "project rules",
        "finish": "finish (suppressions, fingerprints)",
        "render": "render (text report)",
    }
    for phase, label in labels.items():
        rows.append(_row(f"  {label}", serial["phases"][phase]))
        stages = serial.get("stages")
        if phase == "analyse" and stages is not None:
            for stage in ("read", "parse", "model", "file rules", "walk + bookkeeping"):
                rows.append(_row(f"    {stage}", stages[stage]))
                if stage == "file rules":
                    top = list(stages["per_file_rule"].items())[:6]
                    rows += [_row(f"      {rule}", seconds) for rule, seconds in top]
        if phase == "project rules":
            rows += [_row(f"    {rule}", seconds) for rule, seconds in serial["per_rule"].items()]
    rows.append(_row(f"  GC pauses, within the phases ({serial['gc_collections'][2]} full)", serial["gc_seconds"]))
    if rt is not None:
        memory = serial["max_rss_mb"] / rt["max_rss_mb"]
        rows.append(
            _row(
                "peak memory: serial lint / round-trip load",
                None,
                None,
                f"{memory:.2f}x",
                f"<= {TARGET_MEMORY_VS_RT}x",
                _verdict(memory, TARGET_MEMORY_VS_RT, at_most=True),
            )
        )
    jobs2 = s.get("jobs2")
    if jobs2 is not None:
        speedup = serial["seconds"] / jobs2["seconds"]
        rows.append(
            _row(
                f"lint jobs=2 (in-process, {jobs2['jobs']} processes analysed)",
                jobs2["seconds"],
                jobs2["max_rss_mb"],
                f"{speedup:.2f}x faster",
                f">= {TARGET_JOBS2_SPEEDUP}x",
                _verdict(speedup, TARGET_JOBS2_SPEEDUP, at_most=False),
            )
        )
        rows.append(_row("  analyse", jobs2["phases"]["analyse"]))
        rows.append(_same("  findings as serial", jobs2, serial))
    cache = s.get("cache")
    if cache is not None:
        cold, warm, auto = cache["cold_j1"], cache["warm"], cache["cold_default_jobs"]
        ratio = cold["seconds"] / warm["seconds"]
        rows += [
            _row("CLI cold cache, -j1", cold["seconds"], cold["max_rss_mb"]),
            _same("  findings as in-process serial", cold, serial),
            _row(f"CLI cold cache, default jobs ({auto['jobs']})", auto["seconds"], auto["max_rss_mb"]),
            _row(
                f"CLI warm cache ({warm['from_cache']:,}/{warm['files_seen']:,} from cache)",
                warm["seconds"],
                warm["max_rss_mb"],
                f"{ratio:.2f}x faster",
                f">= {TARGET_COLD_VS_WARM}x",
                _verdict(ratio, TARGET_COLD_VS_WARM, at_most=False),
            ),
            _row("  cold default jobs / warm", None, None, f"{auto['seconds'] / warm['seconds']:.2f}x", "(info)"),
            _same("  findings as cold", warm, cold),
        ]
    for kind, run in s.get("precommit", {}).items():
        rows.append(
            _row(
                f"pre-commit, warm: {PRECOMMIT_KINDS[kind]}",
                run["seconds"],
                run["max_rss_mb"],
                "",
                f"<= {TARGET_PRECOMMIT_SECONDS} s",
                _verdict(run["seconds"], TARGET_PRECOMMIT_SECONDS, at_most=True),
            )
        )
    header = ["measurement", "seconds", "peak MB", "ratio", "target", "result"]
    return _table(rows, header)


def _same(label: str, run: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    same = run["digest"] == reference["digest"] and run["findings"] == reference["findings"]
    counts = f"{run['findings']} vs {reference['findings']}"
    return _row(f"{label} ({counts}, digest {run['digest'][:8]})", None, None, "", "identical", _pass(same))


def _pass(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def scaling_table(sizes: list[dict[str, Any]]) -> str:
    """Time per corpus file of each measurement, for every size side by side."""

    def per_file(get: Callable[[dict[str, Any]], float | None]) -> list[str]:
        values = []
        for s in sizes:
            seconds = get(s)
            values.append("" if seconds is None else f"{seconds * 1000 / s['files']:.3f}")
        return values

    def optional(*keys: str) -> Callable[[dict[str, Any]], float | None]:
        def get(s: dict[str, Any]) -> float | None:
            value: Any = s
            for key in keys:
                if not isinstance(value, dict) or key not in value:
                    return None
                value = value[key]
            return float(value)

        return get

    def per_run_mb(key: str) -> list[str]:
        return [f"{s[key]['max_rss_mb']:.0f}" if key in s else "" for s in sizes]

    first = sizes[0]
    base = first["serial"]["seconds"] / first["files"]
    rows: list[list[str]] = [
        ["bare parse", *per_file(optional("bare_parse", "seconds"))],
        ["round-trip load, kept", *per_file(optional("roundtrip", "seconds"))],
        ["serial lint", *per_file(optional("serial", "seconds"))],
        ["  analyse", *per_file(optional("serial", "phases", "analyse"))],
        ["  project index + bookkeeping", *per_file(optional("serial", "phases", "project index"))],
        ["  project rules", *per_file(optional("serial", "phases", "project rules"))],
        ["  finish", *per_file(optional("serial", "phases", "finish"))],
        ["lint jobs=2", *per_file(optional("jobs2", "seconds"))],
        ["CLI cold -j1", *per_file(optional("cache", "cold_j1", "seconds"))],
        ["CLI warm", *per_file(optional("cache", "warm", "seconds"))],
        ["serial lint files/s", *[f"{s['files'] / s['serial']['seconds']:,.0f}" for s in sizes]],
        [
            f"serial lint time/file vs {first['files']:,}",
            *[f"{s['serial']['seconds'] / s['files'] / base:.2f}x" for s in sizes],
        ],
        ["serial lint peak MB", *per_run_mb("serial")],
        ["round-trip load peak MB", *per_run_mb("roundtrip")],
    ]
    return _table(rows, ["ms per corpus file (unless labelled)", *[f"{s['files']:,} files" for s in sizes]])


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
        f"  python -c pass                             {startup['python']['median_seconds'] * 1000:8.1f} ms",
        f"  ekslint --version                          {startup['version']['median_seconds'] * 1000:8.1f} ms",
        f"  ekslint --isolated --no-cache <empty dir>  {startup['empty_run']['median_seconds'] * 1000:8.1f} ms",
    ]
    for s in sizes:
        c, bare, serial = s["corpus"], s["bare_parse"], s["serial"]
        generated = "reused" if s["generate_seconds"] is None else f"generated in {s['generate_seconds']:.1f} s"
        out += [
            "",
            f"== {s['files']:,} files: {c['bytes'] / MB:.1f} MB ({bare['files']:,} YAML files, "
            f"{bare['bytes'] / MB:.1f} MB, {bare['documents']:,} documents); {generated}",
            size_table(s),
            f"  serial lint: {serial['files_analysed']:,} of {serial['files_seen']:,} files analysed, "
            f"{serial['findings']} findings (+{serial['suppressed']} suppressed), {serial['crashed']} crashed, "
            f"{serial['input_errors']} input errors; setup before the run {serial['setup_seconds']:.2f} s",
        ]
        for kind, run in s.get("precommit", {}).items():
            out.append(
                f"  pre-commit {kind}: {run['path']} ({run['findings']} findings; "
                f"{run['from_cache']:,} files from cache; runs {_spread(run['all_seconds'])} s)"
            )
    out += ["", scaling_table(sizes), ""]
    out.append(
        f"Times are medians of {report['repeat']} fresh processes (round-trip load: {report['rt_repeat']}; "
        "pre-commit: at least 3); peak MB is the largest process's peak RSS, MB = 10^6 bytes. In-process runs "
        "exclude imports and plugin loading; CLI runs are whole processes. The walk streams into 'analyse' "
        "and is what is left of it after the timed steps."
    )
    changed = [s["files"] for s in sizes if s.get("source_sha256_after") != m["source_sha256"]]
    if changed:
        out.append(
            f"WARNING: the ekslint source changed during the run (by the end of the {changed[0]:,}-file "
            "measurements): the numbers mix versions; run again on a quiet tree."
        )
    if not all(s["bare_parse"]["c_composer"] for s in sizes):
        out.append("WARNING: ruamel.yaml.clib is not in use; the bare parse is the pure-Python parser.")
    for s in sizes:
        if "profile" in s:
            out += ["", f"cProfile of the serial lint, {s['files']:,} files", s["profile"]]
    return "\n".join(out) + "\n"


def _spread(times: list[float]) -> str:
    return f"{min(times):.2f}-{max(times):.2f}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return worker_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--files", type=int, action="append", required=True, help="corpus size; repeatable")
    parser.add_argument("--keep-corpus", type=Path, metavar="DIR", help="generate (or reuse) corpora under DIR")
    parser.add_argument("--seed", type=int, default=make_corpus.DEFAULT_SEED, help="corpus seed")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, median reported (default 3)")
    parser.add_argument("--rt-repeat", type=int, default=1, help="runs of the slow round-trip load (default 1)")
    parser.add_argument("--startup-runs", type=int, default=7, help="runs of each startup command (default 7)")
    parser.add_argument(
        "--skip", action="append", default=[], choices=SKIPPABLE, help="leave a measurement out; repeatable"
    )
    parser.add_argument("--profile", action="store_true", help="also cProfile the serial lint; print the top functions")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    args = parser.parse_args(argv)
    if min(args.files) < 1 or args.repeat < 1 or args.rt_repeat < 1 or args.startup_runs < 1:
        parser.error("--files, --repeat, --rt-repeat and --startup-runs must be positive")
    if args.keep_corpus is not None:
        args.keep_corpus = args.keep_corpus.resolve()  # the workers run inside the corpus
        args.keep_corpus.mkdir(parents=True, exist_ok=True)

    log("startup")
    load_before = os.getloadavg()  # other work on the machine skews every number below
    report: dict[str, Any] = {
        "machine": machine(),
        "repeat": args.repeat,
        "rt_repeat": args.rt_repeat,
        "seed": args.seed,
        "skipped": sorted(set(args.skip)),
        "startup": measure_startup(args.startup_runs),
        "sizes": [measure_size(files, args) for files in sorted(set(args.files))],
    }
    report["load_average"] = {"before": load_before[0], "after": os.getloadavg()[0]}
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
