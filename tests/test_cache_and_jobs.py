"""--jobs and the cache change how fast a run is, never what it reports."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from ekslint import config
from ekslint.engine import cache as cache_module
from ekslint.engine import parallel, plugins
from ekslint.engine.analysis import crash_finding
from ekslint.engine.finding import Finding
from ekslint.engine.runner import Runner, RunRequest, RunResult
from ekslint.model.project import Project
from ekslint.parse import discovery
from ekslint.parse.text import Span
from ekslint.plugin import ProjectRule, RuleContext, Severity, Violation

from .conftest import REPO, chdir, plugin, rule_class, write

FIXTURES = REPO / "tests" / "rules"


pytestmark = pytest.mark.usefixtures("private_cache_home")


def corpus(root: Path) -> Path:
    """Every rule fixture and both example repositories, side by side: bad input,
    suppressions, cross-file facts and every rule."""
    for case in sorted(FIXTURES.glob("EKS*/*")):
        if case.is_dir():
            shutil.copytree(case, root / case.parent.name / case.name)
        elif case.name.startswith(("pass.", "fail.")):
            (root / case.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy(case, root / case.parent.name / case.name)
    shutil.copytree(REPO / "examples", root / "examples")
    return root


def run(root: Path, *paths: str, **request: object) -> RunResult:
    with chdir(root):
        settings = config.load(None)
        return Runner(plugins.load(), settings).run(RunRequest(list(paths) or ["."], settings, **request))  # type: ignore[arg-type]


def summary(result: RunResult) -> list[tuple[str, str, int, int, str, str, frozenset[str]]]:
    found = result.findings + result.suppressed + result.crashed
    return [
        (
            f.rule_id,
            f.span.file,
            f.span.line,
            f.span.col,
            f.message,
            f.fingerprint,
            frozenset(r.span.file for r in f.related),
        )
        for f in found
    ]


def test_parallel_run_reports_exactly_what_a_serial_run_does(tmp_path: Path) -> None:
    root = corpus(tmp_path)
    serial = run(root, jobs=1)
    two = run(root, jobs=2)
    assert serial.jobs == 1 and two.jobs == 2
    assert len({f.rule_id for f in serial.findings}) >= 4 and len(serial.findings) > 15
    assert summary(two) == summary(serial)
    assert [(e.path, e.message) for e in two.input_errors] == [(e.path, e.message) for e in serial.input_errors]
    assert (two.files_seen, two.files_analysed) == (serial.files_seen, serial.files_analysed)


def test_workers_fill_the_cache_a_serial_run_then_reads(tmp_path: Path) -> None:
    # Without a cache the workers send outcomes whole; with one, packed for storing.
    root = corpus(tmp_path / "repo")
    serial = run(root, jobs=1)
    cold = run(root, jobs=2, cache_dir=tmp_path / "cache")
    warm = run(root, jobs=1, cache_dir=tmp_path / "cache")
    assert cold.jobs == 2 and cold.from_cache == 0
    assert warm.from_cache == warm.files_seen - len(warm.input_errors) > 100
    assert summary(cold) == summary(warm) == summary(serial)


def _die(chunk: list[tuple[str, str]], keep_blobs: bool) -> bytes:
    os._exit(3)  # a worker killed mid-run (out of memory, a signal)


def test_a_dying_worker_does_not_lose_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = corpus(tmp_path)
    serial = run(root, jobs=1)
    monkeypatch.setattr(parallel, "_analyse_chunk", _die)
    assert summary(run(root, jobs=2)) == summary(serial)


def test_jobs_default_to_the_cores_only_with_enough_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "available_cores", lambda: 4)
    assert parallel.effective_jobs(None, parallel.AUTO_MIN_FILES - 1) == 1
    assert parallel.effective_jobs(None, parallel.AUTO_MIN_FILES) == 4
    assert parallel.effective_jobs(8, 3) == 3
    assert parallel.effective_jobs(2, 1) == 1


def test_warm_run_reads_nothing_again_and_reports_the_same(tmp_path: Path) -> None:
    root = corpus(tmp_path / "repo")
    cache_dir = tmp_path / "cache"
    cold = run(root, cache_dir=cache_dir)
    assert cold.from_cache == 0 and (cache_dir / ".gitignore").read_text().strip().endswith("*")
    warm = run(root, cache_dir=cache_dir)
    assert warm.from_cache == warm.files_seen - len(warm.input_errors) > 100
    assert summary(warm) == summary(cold)
    assert summary(run(root, cache_dir=cache_dir, jobs=2)) == summary(cold)


def test_an_edited_file_is_analysed_again(tmp_path: Path) -> None:
    root = write(
        tmp_path / "repo",
        {
            "pdb.yaml": "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n"
            "spec:\n  maxUnavailable: 0\n  selector:\n    matchLabels:\n      app: web\n",
            "web.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n"
            "  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n"
            "        app: web\n    spec:\n      containers:\n        - name: web\n          image: web\n",
        },
    )
    cache_dir = tmp_path / "cache"
    assert [f.rule_id for f in run(root, cache_dir=cache_dir).findings] == ["EKS401"]
    pdb = root / "pdb.yaml"
    pdb.write_text(pdb.read_text().replace("maxUnavailable: 0", "maxUnavailable: 1"))
    after = run(root, cache_dir=cache_dir)
    assert after.findings == [] and after.from_cache == 1
    # A touched but unchanged file (a checkout) is recognised by its content.
    os.utime(root / "web.yaml", ns=(1, 1))
    assert run(root, cache_dir=cache_dir).from_cache == 2


def test_settings_that_change_outcomes_change_the_cache(tmp_path: Path) -> None:
    root = corpus(tmp_path / "repo")
    cache_dir = tmp_path / "cache"
    run(root, cache_dir=cache_dir)
    with chdir(root):
        settings = config.load(None)
        settings.context.kubernetes_version = (1, 29)
        other = Runner(plugins.load(), settings).run(RunRequest(["."], settings, cache_dir=cache_dir))
    assert other.from_cache == 0


def test_a_cache_file_ekslint_did_not_sign_is_never_unpickled(tmp_path: Path) -> None:
    root = corpus(tmp_path / "repo")
    cache_dir = tmp_path / "cache"
    run(root, cache_dir=cache_dir)
    (cache_file,) = cache_dir.glob("*.cache")
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.mkdir, (str(marker),))

    # A repository could ship this file: right format, but signed with another key.
    payload = pickle.dumps(Exploit())
    cache_file.write_bytes(cache_module.FORMAT + b"\0" * 32 + payload)
    result = run(root, cache_dir=cache_dir)
    assert not marker.exists()
    assert result.from_cache == 0 and result.findings


def test_unwritable_cache_directory_only_costs_speed(tmp_path: Path) -> None:
    root = corpus(tmp_path / "repo")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    result = run(root, cache_dir=blocker / "cache")
    assert result.findings and result.from_cache == 0


def test_context_runs_from_the_cache_report_what_uncached_ones_do(tmp_path: Path) -> None:
    """pre-commit: one changed file reported, the rest read for context, warm."""
    root = corpus(tmp_path / "repo")
    cache_dir = tmp_path / "cache"
    run(root, cache_dir=cache_dir)  # warm the cache with every file
    targets = sorted(str(p.relative_to(root)) for p in root.glob("EKS*/fail.*/*") if p.is_file())[::25]
    assert targets
    for target in targets:
        fresh = run(root, target, context=["."])
        warm = run(root, target, context=["."], cache_dir=cache_dir)
        assert warm.from_cache > 100
        assert summary(warm) == summary(fresh), target
        # in the file, or about it: a related location in it (pre-commit reports both)
        assert all(f.span.file == target or any(r.span.file == target for r in f.related) for f in warm.findings)
        assert all(f.span.file == target for f in warm.crashed)


@pytest.mark.parametrize("rules", ["EKS1", "EKS4"])
def test_a_one_file_run_reports_what_the_full_run_reports_in_that_file(tmp_path: Path, rules: str) -> None:
    """The cross-file rules (sysctl placement, PDBs) judge a file the same with the
    rest of the repository as cached context as in a full run. The context files'
    facts stay packed, so this also checks the object index that finds a PDB's
    workloads, HPAs and fellow PDBs without unpacking every file."""
    root = corpus(tmp_path / "repo")
    cache_dir = tmp_path / "cache"
    full = summary(run(root, cache_dir=cache_dir))
    targets = sorted(str(p.relative_to(root)) for p in root.glob(f"{rules}*/**/*") if p.is_file())
    assert len(targets) > 20
    for target in targets:
        alone = run(root, target, context=["."], cache_dir=cache_dir)
        assert alone.from_cache > 100
        # in the file, or about it: a related location in it (the PDB its replicas break)
        assert summary(alone) == [f for f in full if f[1] == target or target in f[6]], target


def test_names_the_object_index_cannot_key_are_still_found(tmp_path: Path) -> None:
    """A label with the index's separator character makes its file searched for
    every key: the PDB still finds its workload and its HPA in a one-file run."""
    label = '"a\\x1eb"'  # the separator of keys: split, the label's key would be lost
    root = write(
        tmp_path / "repo",
        {
            "pdb.yaml": "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: shop\n"
            f"spec:\n  minAvailable: 2\n  selector:\n    matchLabels:\n      app: {label}\n",
            "web.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n"
            f"  replicas: 5\n  selector:\n    matchLabels:\n      app: {label}\n  template:\n    metadata:\n"
            f"      labels:\n        app: {label}\n    spec:\n      containers:\n        - name: web\n"
            "          image: web\n",
            "hpa.yaml": "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n"
            "  namespace: shop\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n"
            "    name: web\n  minReplicas: 2\n  maxReplicas: 9\n",
        },
    )
    cache_dir = tmp_path / "cache"
    full = run(root, cache_dir=cache_dir)
    alone = run(root, "pdb.yaml", context=["."], cache_dir=cache_dir)
    assert alone.from_cache == 3
    # minAvailable 2 of the HPA's floor of 2 replicas (not the Deployment's 5)
    assert [f.rule_id for f in alone.findings] == ["EKS401"]
    assert "HorizontalPodAutoscaler web scales down to 2" in alone.findings[0].message
    assert summary(alone) == summary(full)


# -- the cross-file stage in a parallel run -------------------------------------------


def _project_rule(rule_id: str, crash: bool) -> type[ProjectRule]:
    def check(self: ProjectRule, target: Project, ctx: RuleContext) -> Iterator[Violation]:
        if crash:
            raise ZeroDivisionError("boom")
        for group in target.node_groups:
            yield Violation(group.span, f"{group.name} seen in process {os.getpid()}; remove it")

    return rule_class(ProjectRule, rule_id, f"rule-{rule_id.lower()}", check)


def test_cross_file_rules_report_alike_whichever_process_runs_them(tmp_path: Path) -> None:
    # Several index groups besides the built-in ones, one rule crashing.
    rules = [_project_rule("ACME101", crash=True), _project_rule("ACME102", False), _project_rule("ACME201", False)]
    rules[0].index_group = rules[1].index_group = "acme-nodes"
    registry = plugins.load([("ACME", plugin(*rules))])
    root = corpus(tmp_path)

    def lint(jobs: int) -> list[tuple[str, str, int, int, str]]:
        with chdir(root):
            settings = config.load(None)
            result = Runner(registry, settings).run(RunRequest(["."], settings, jobs=jobs))
        assert result.jobs == jobs
        # The message names the process that ran the rule: compare without it.
        found = result.findings + result.suppressed + result.crashed
        return [(f.rule_id, f.span.file, f.span.line, f.span.col, re.sub(r"process \d+", "", f.message)) for f in found]

    serial = lint(1)
    assert any(rule == "EKS004" and "ACME101" in message for rule, *_, message in serial)
    assert {"ACME102", "ACME201", "EKS104", "EKS301", "EKS401"} <= {rule for rule, *_ in serial}
    assert lint(2) == serial


def test_a_fork_shares_the_tasks_and_keeps_their_order() -> None:
    def task(number: int) -> tuple[int, int]:
        time.sleep(0.02)  # long enough that both processes take some
        return number, os.getpid()

    results = parallel.share_with_fork([partial(task, n) for n in range(12)])
    assert [number for number, _ in results] == list(range(12))
    assert len({pid for _, pid in results}) == 2 and os.getpid() in {pid for _, pid in results}


def test_tasks_a_dying_fork_had_taken_are_run_here() -> None:
    parent = os.getpid()

    def task(number: int) -> tuple[int, int]:
        if os.getpid() != parent:
            os._exit(9)  # the child is killed as it starts a task
        time.sleep(0.01)
        return number, os.getpid()

    assert parallel.share_with_fork([partial(task, n) for n in range(6)]) == [(n, parent) for n in range(6)]


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not parallel.fork_is_safe(), reason="forks only on Linux")
def test_a_fork_returns_crash_findings_as_they_are() -> None:
    rule = _project_rule("ACME101", crash=True)()

    def task(number: int) -> tuple[int, Finding]:
        time.sleep(0.02)
        try:
            list(rule.check(None, RuleContext()))  # type: ignore[arg-type]
            raise AssertionError("the rule did not crash")
        except ZeroDivisionError as err:
            return os.getpid(), crash_finding(rule, err, Span(f"f{number}.yaml", 1, 1, 1, 1))

    def shown(found: Finding) -> tuple[str, str, str, Severity]:
        return found.rule_id, found.span.file, found.message, found.severity

    shared = parallel.share_with_fork([partial(task, n) for n in range(8)])
    assert len({pid for pid, _ in shared}) == 2
    assert [shown(found) for _, found in shared] == [shown(task(n)[1]) for n in range(8)]


@pytest.mark.skipif(not parallel.fork_is_safe(), reason="forks only on Linux")
def test_without_a_fork_every_task_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    before = _open_fds()
    assert parallel.share_with_fork([partial(lambda n: (n, os.getpid()), n) for n in range(5)]) == [
        (n, os.getpid()) for n in range(5)
    ]
    assert _open_fds() == before


@pytest.mark.skipif(not parallel.fork_is_safe(), reason="forks only on Linux")
def test_a_failing_task_here_ends_the_fork_at_once() -> None:
    parent = os.getpid()

    def task() -> None:
        if os.getpid() == parent:
            raise ValueError("failed here")
        time.sleep(30)  # the child, if not ended, would keep the parent waiting

    before = _open_fds()
    start = time.perf_counter()
    with pytest.raises(ValueError, match="failed here"):
        parallel.share_with_fork([task] * 4)
    assert time.perf_counter() - start < 10
    assert _open_fds() == before
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # reaped: no child left


# -- the walk streams into the workers -------------------------------------------------

_ANALYSE_CHUNK = parallel._analyse_chunk


def _dies_on_file_300(chunk: list[tuple[str, str]], keep_blobs: bool) -> bytes:
    if any(shown.endswith("f0300.yaml") for _, shown in chunk):
        os._exit(3)
    return _ANALYSE_CHUNK(chunk, keep_blobs)


def _slowly(items: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """A walk still under way: the pool learns that a worker died before the next
    chunk is submitted, and later chunks are found after that."""
    for number, item in enumerate(items):
        yield item
        if number in (340, 500):
            time.sleep(0.5)


@pytest.mark.parametrize("keep_blobs", [False, True])
def test_a_worker_dying_mid_walk_loses_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_blobs: bool
) -> None:
    manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{0}\nspec:\n  containers: [{{name: c, image: i}}]\n"
    write(tmp_path, {f"f{n:04}.yaml": manifest.format(n) for n in range(700)})
    items = [(str(tmp_path / f"f{n:04}.yaml"), f"f{n:04}.yaml") for n in range(700)]
    monkeypatch.setattr(parallel, "_analyse_chunk", _dies_on_file_300)
    analyser = parallel.FileAnalyser(Runner(plugins.load(), config.Settings()).file_rules, config.Settings())
    jobs, results = parallel.analyse(_slowly(items), analyser, 2, keep_blobs)
    assert jobs == 2
    assert [outcome.path for outcome, _, _ in results] == [shown for _, shown in items]


_CHUNK_LOG = "EKSLINT_TEST_CHUNK_LOG"


def _logs_chunks(chunk: list[tuple[str, str]], keep_blobs: bool) -> bytes:
    with open(os.environ[_CHUNK_LOG], "a") as log:
        log.write(f"{os.getpid()}\n")
    time.sleep(0.05)
    return _ANALYSE_CHUNK(chunk, keep_blobs)


def test_stopping_early_cancels_the_chunks_not_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {f"f{n:04}.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n" for n in range(1280)})
    items = [(str(tmp_path / f"f{n:04}.yaml"), f"f{n:04}.yaml") for n in range(1280)]
    monkeypatch.setenv(_CHUNK_LOG, str(tmp_path / "chunks.log"))
    monkeypatch.setattr(parallel, "_analyse_chunk", _logs_chunks)
    analyser = parallel.FileAnalyser([], config.Settings())
    _, results = parallel.analyse(items, analyser, 2, False)
    next(results)
    results.close()  # as Ctrl-C or an error in the consumer would
    started = (tmp_path / "chunks.log").read_text().splitlines()
    assert len(started) < 40 / 2  # 40 chunks of 32; only those already handed to a worker ran


def test_input_errors_keep_their_order_in_a_parallel_run(tmp_path: Path) -> None:
    root = corpus(tmp_path)
    paths = ["EKS101", "missing-1.yaml", "examples", "missing-2", "EKS401"]
    serial, two = run(root, *paths, jobs=1), run(root, *paths, jobs=2)
    assert two.jobs == 2
    assert [e.path for e in serial.input_errors][:2] == ["missing-1.yaml", "missing-2"]
    assert [(e.path, e.message) for e in two.input_errors] == [(e.path, e.message) for e in serial.input_errors]
    assert summary(two) == summary(serial)


def test_spawned_workers_report_what_forked_ones_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Where fork is not safe (macOS, a threaded host) workers are spawned and load
    # the rules again, and the cross-file rules stay in this process.
    root = corpus(tmp_path)
    serial = run(root, jobs=1)
    monkeypatch.setattr(parallel, "fork_is_safe", lambda: False)
    spawned = run(root, jobs=2)
    assert spawned.jobs == 2
    assert summary(spawned) == summary(serial)


# -- directory listings kept in the cache (git's untracked cache) ------------------------

PDB_0 = (
    "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n"
    "spec:\n  maxUnavailable: 0\n  selector:\n    matchLabels:\n      app: web\n"
)
WEB = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n"
    "  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n"
    "        app: web\n    spec:\n      containers:\n        - name: web\n          image: web\n"
)


def _count_scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    scanned: list[str] = []
    real = discovery.scan

    def counting(folder: str) -> tuple[discovery.Entries, bool]:
        scanned.append(folder)
        return real(folder)

    monkeypatch.setattr(discovery, "scan", counting)
    return scanned


def _next_tick() -> None:
    time.sleep(0.05)  # past the file system's timestamp granularity


def test_unchanged_directories_are_not_listed_again_changed_ones_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path / "repo", {"apps/web/web.yaml": WEB, "apps/pdb/pdb.yaml": PDB_0, "other/x.yaml": WEB})
    cache_dir = tmp_path / "cache"
    monkeypatch.setattr(discovery, "RACY_LISTING_NS", 0)  # trust a listing as soon as the clock moved on
    _next_tick()
    scanned = _count_scans(monkeypatch)
    cold = run(root, cache_dir=cache_dir)
    assert sorted(scanned) == [".", "./apps", "./apps/pdb", "./apps/web", "./other"]
    assert [f.rule_id for f in cold.findings] == ["EKS401"]

    scanned.clear()
    warm = run(root, cache_dir=cache_dir)
    assert scanned == [] and summary(warm) == summary(cold) and warm.files_seen == 3

    # A file appears: its directory's mtime moves, so that directory alone is listed again.
    _next_tick()
    (root / "apps/pdb/pdb2.yaml").write_text(PDB_0.replace("name: web\n", "name: web2\n", 1))
    scanned.clear()
    grown = run(root, cache_dir=cache_dir)
    assert scanned == ["./apps/pdb"] and grown.files_seen == 4
    assert "apps/pdb/pdb2.yaml" in {f.span.file for f in grown.findings}
    assert summary(grown) == summary(run(root))

    # A directory replaced by a file of its name, and a file removed.
    _next_tick()
    shutil.rmtree(root / "other")
    (root / "other").write_text(WEB)
    (root / "apps/pdb/pdb2.yaml").unlink()
    scanned.clear()
    changed = run(root, cache_dir=cache_dir)
    assert sorted(scanned) == [".", "./apps/pdb"] and changed.files_seen == 3
    assert summary(changed) == summary(run(root))  # what an uncached run reports


def test_a_listing_taken_right_after_a_change_is_not_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory changed within the racy window may change again within the same
    mtime tick without its stat showing it: its listing is taken again next time."""
    folder = write(tmp_path / "d", {"a.yaml": WEB})
    listings = discovery.Listings()
    assert listings.entries(str(folder)) == (["a.yaml"], bytes([discovery.FILE]))
    assert listings.known[str(folder)][4] is False and listings.changed
    scanned = _count_scans(monkeypatch)
    again = discovery.Listings(dict(listings.known))
    again.entries(str(folder))
    assert scanned == [str(folder)]


def test_a_subdirectory_run_keeps_the_other_listings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write(tmp_path / "repo", {"a/x.yaml": WEB, "b/y.yaml": WEB})
    cache_dir = tmp_path / "cache"
    monkeypatch.setattr(discovery, "RACY_LISTING_NS", 0)
    _next_tick()
    run(root, cache_dir=cache_dir)
    _next_tick()
    (root / "a/z.yaml").write_text(WEB)
    run(root, "a", cache_dir=cache_dir)  # lists "a" (its own key) again and saves
    scanned = _count_scans(monkeypatch)
    # "./a" changed since the first run listed it; "." and "./b" are as they were.
    assert run(root, cache_dir=cache_dir).files_seen == 3 and scanned == ["./a"]
