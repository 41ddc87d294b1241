"""--jobs and the cache change how fast a run is, never what it reports."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import time
import types
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from ekslint import config
from ekslint.engine import cache as cache_module
from ekslint.engine import parallel, plugins
from ekslint.engine.runner import Runner, RunRequest, RunResult
from ekslint.model.project import Project
from ekslint.plugin import ProjectRule, RuleContext, Severity, Violation, hookimpl

from .conftest import REPO, chdir, write

FIXTURES = REPO / "tests" / "rules"


@pytest.fixture(autouse=True)
def private_cache_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


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


def summary(result: RunResult) -> list[tuple[str, str, int, int, str, str]]:
    found = result.findings + result.suppressed + result.crashed
    return [(f.rule_id, f.span.file, f.span.line, f.span.col, f.message, f.fingerprint) for f in found]


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
        assert all(f.span.file == target for f in warm.findings + warm.crashed)


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
        assert summary(alone) == [f for f in full if f[1] == target], target


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

    return type(
        f"Rule{rule_id}",
        (ProjectRule,),
        {
            "__doc__": "## What it does\nTest rule.\n\n## Why is this bad?\nTests.\n",
            "id": rule_id,
            "name": f"rule-{rule_id.lower()}",
            "severity": Severity.WARNING,
            "summary": "test",
            "check": check,
        },
    )


def test_cross_file_rules_report_alike_whichever_process_runs_them(tmp_path: Path) -> None:
    # Several families (ACME1, ACME2) besides the built-in ones, one rule crashing.
    @hookimpl
    def ekslint_rules() -> list[type]:
        return [_project_rule("ACME101", crash=True), _project_rule("ACME102", False), _project_rule("ACME201", False)]

    registry = plugins.load([("ACME", types.SimpleNamespace(ekslint_rules=ekslint_rules))])
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
