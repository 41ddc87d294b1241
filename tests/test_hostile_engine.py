"""Issue 15, the engine's part: a cache that writes only inside itself, never runs
code it did not sign, never answers for a changed or unreadable file and does not
grow without bound; plugins that cannot take a run down with them."""

from __future__ import annotations

import builtins
import hashlib
import hmac
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ekslint import cli, config
from ekslint.engine import cache as cache_module
from ekslint.engine import isolation, plugins, stamps
from ekslint.engine import runner as runner_module
from ekslint.engine.runner import Runner, RunRequest, RunResult
from ekslint.model.filemodel import FileModel
from ekslint.plugin import FileRule, ProjectRule, RuleContext, Span, Violation

from .conftest import REPO, chdir, plugin, rule_class, write

PDB = (
    "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n"
    "spec:\n  maxUnavailable: 0\n  selector:\n    matchLabels:\n      app: web\n"
)
WEB = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n"
    "  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n"
    "        app: web\n    spec:\n      containers:\n        - name: web\n          image: web\n"
)
TOLERANT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: tolerant\nspec:\n  template:\n    spec:\n"
    "      tolerations:\n        - operator: Exists\n      containers:\n        - name: app\n          image: nginx\n"
)


pytestmark = pytest.mark.usefixtures("private_cache_home")


def repo(tmp_path: Path) -> Path:
    return write(tmp_path / "repo", {"pdb.yaml": PDB, "web.yaml": WEB})


def run(root: Path, *paths: str, registry: plugins.Registry | None = None, **request: Any) -> RunResult:
    with chdir(root):
        settings = config.load(None)
        for key in ("rule_time_limit",):
            if key in request:
                setattr(settings, key, request.pop(key))
        runner = Runner(registry or plugins.load(), settings)
        return runner.run(RunRequest(list(paths) or ["."], settings, **request))


def rule_ids(result: RunResult) -> list[str]:
    return [f.rule_id for f in result.findings]


def old_times(root: Path) -> None:
    """Files last changed long ago: their cache entries are trusted on their stat."""
    for path in root.rglob("*.yaml"):
        os.utime(path, ns=(10**18, 10**18))


def never_racy(monkeypatch: pytest.MonkeyPatch) -> None:
    # Entries written in this test count as written long after the files changed.
    monkeypatch.setattr(cache_module, "RACY_SECONDS", -(10**10))


def outside_listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- item 3: no writes outside the cache directory, never through a symlink ----------------


@pytest.fixture(params=["by-descriptor", "by-path"])
def directory_access(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways the cache works in its directory (by path where there is no dir_fd)."""
    if request.param == "by-path":
        monkeypatch.setattr(cache_module, "_BY_FD", False)
    elif not cache_module._BY_FD:
        pytest.skip("no dir_fd on this platform")


@pytest.mark.usefixtures("directory_access")
def test_a_symlinked_cache_directory_is_neither_written_nor_read(tmp_path: Path) -> None:
    root = repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / ".ekslint_cache").symlink_to(outside, target_is_directory=True)
    first = run(root, cache_dir=root / ".ekslint_cache")
    second = run(root, cache_dir=root / ".ekslint_cache")
    assert rule_ids(first) == rule_ids(second) == ["EKS401"]
    assert second.from_cache == 0
    assert outside_listing(outside) == []


@pytest.mark.usefixtures("directory_access")
def test_a_committed_gitignore_symlink_is_replaced_not_written_through(tmp_path: Path) -> None:
    root = repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    cache_dir = root / ".ekslint_cache"
    cache_dir.mkdir()
    (cache_dir / ".gitignore").symlink_to(outside / "created-by-ekslint")  # dangling
    run(root, cache_dir=cache_dir)
    assert outside_listing(outside) == []
    ignore = cache_dir / ".gitignore"
    assert not ignore.is_symlink() and ignore.read_text().strip().endswith("*")


@pytest.mark.usefixtures("directory_access")
def test_a_cache_file_that_is_a_symlink_or_a_fifo_is_replaced(tmp_path: Path) -> None:
    root = repo(tmp_path)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir=cache_dir)
    (cache_file,) = cache_dir.glob("*.cache")
    victim = tmp_path / "victim"
    victim.write_text("precious")
    cache_file.unlink()
    cache_file.symlink_to(victim)
    (root / "pdb.yaml").write_text(PDB.replace("name: web", "name: web2", 1))  # something to save
    assert rule_ids(run(root, cache_dir=cache_dir)) == ["EKS401"]
    assert victim.read_text() == "precious" and not cache_file.is_symlink()
    cache_file.unlink()
    os.mkfifo(cache_file)  # opening it to read would block forever
    started = time.monotonic()
    assert rule_ids(run(root, cache_dir=cache_dir)) == ["EKS401"]
    assert time.monotonic() - started < 10


def test_a_failed_write_keeps_the_old_cache_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir=cache_dir)
    (cache_file,) = cache_dir.glob("*.cache")
    before = cache_file.read_bytes()

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module.os, "replace", full_disk)
    (root / "web.yaml").write_text(WEB.replace("replicas: 3", "replicas: 4"))
    run(root, cache_dir=cache_dir)
    assert cache_file.read_bytes() == before
    assert sorted(p.name for p in cache_dir.iterdir()) == [".gitignore", cache_file.name]


# -- item 4: a signing key no one else can know --------------------------------------------


def forge(cache_dir: Path, key: bytes, marker: Path) -> None:
    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.mkdir, (str(marker),))

    payload = pickle.dumps(Exploit())
    signature = hmac.new(key, payload, hashlib.sha256).digest()
    for cache_file in cache_dir.glob("*.cache"):
        cache_file.write_bytes(cache_module.FORMAT + signature + payload)


@pytest.mark.usefixtures("directory_access")
@pytest.mark.parametrize("bad_key", ["empty", "short", "world-readable", "symlink", "directory"])
def test_a_key_anyone_could_know_is_replaced_never_used(tmp_path: Path, private_cache_home: Path, bad_key: str) -> None:
    root = repo(tmp_path)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir=cache_dir)
    key_file = private_cache_home / "ekslint" / "cache-key"
    key_file.unlink()
    known = b""
    elsewhere = tmp_path / "elsewhere-key"
    if bad_key == "empty":  # a first run killed before it wrote the key
        key_file.write_bytes(b"")
    elif bad_key == "short":
        known = b"k"
        key_file.write_bytes(known)
    elif bad_key == "world-readable":  # e.g. checked out of a repository
        known = b"x" * 32
        key_file.write_bytes(known)
        key_file.chmod(0o644)
    elif bad_key == "symlink":
        known = b"y" * 32
        elsewhere.write_bytes(known)
        elsewhere.chmod(0o600)
        key_file.symlink_to(elsewhere)
    else:
        key_file.mkdir()
    marker = tmp_path / "pwned"
    forge(cache_dir, known, marker)
    result = run(root, cache_dir=cache_dir)
    assert not marker.exists()
    assert result.from_cache == 0 and rule_ids(result) == ["EKS401"]
    if bad_key == "directory":
        return  # nothing to replace it with; the run is only uncached
    st = key_file.lstat()
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_size == 32
    assert key_file.read_bytes() != known
    if bad_key == "symlink":
        assert elsewhere.read_bytes() == known  # replaced the link, never wrote through it
    assert run(root, cache_dir=cache_dir).from_cache == 2  # the new key works


def test_an_unreadable_key_is_replaced(private_cache_home: Path) -> None:
    key = cache_module.signing_key()
    key_file = private_cache_home / "ekslint" / "cache-key"
    key_file.chmod(0)  # root could still read it: refused all the same
    assert cache_module.signing_key() not in (None, key)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_no_key_inside_the_repository_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path)
    home = root / ".cache"  # XDG_CACHE_HOME inside the checkout: the pull request writes it
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    key = b"k" * 32
    write(home, {"ekslint/cache-key": key})
    (home / "ekslint" / "cache-key").chmod(0o600)
    cache_dir = root / ".ekslint_cache"
    marker = tmp_path / "pwned"
    run(root, cache_dir=cache_dir)
    forge(cache_dir, key, marker)  # any cache file the first run wrote, signed with that key
    result = run(root, cache_dir=cache_dir)
    assert not marker.exists() and result.from_cache == 0 and rule_ids(result) == ["EKS401"]


def test_the_key_directory_is_private(private_cache_home: Path) -> None:
    (private_cache_home / "ekslint").mkdir(mode=0o755)  # as an older ekslint left it
    assert cache_module.signing_key() is not None
    folder = private_cache_home / "ekslint"
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE((folder / "cache-key").stat().st_mode) == 0o600


# -- item 9: a stale cache -----------------------------------------------------------------


def test_a_same_size_edit_with_the_mtime_put_back_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    never_racy(monkeypatch)
    root = repo(tmp_path)
    old_times(root)
    cache_dir = tmp_path / "cache"
    assert rule_ids(run(root, cache_dir=cache_dir)) == ["EKS401"]
    assert run(root, cache_dir=cache_dir).from_cache == 2  # trusted on the stat
    pdb = root / "pdb.yaml"
    before = pdb.stat()
    pdb.write_text(PDB.replace("maxUnavailable: 0", "maxUnavailable: 1"))  # same size
    os.utime(pdb, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert pdb.stat().st_size == before.st_size and pdb.stat().st_mtime_ns == before.st_mtime_ns
    after = run(root, cache_dir=cache_dir)
    assert rule_ids(after) == [] and after.from_cache == 1


def test_a_file_swapped_for_one_of_the_same_size_and_mtime_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    never_racy(monkeypatch)
    root = repo(tmp_path)
    old_times(root)
    cache_dir = tmp_path / "cache"
    assert rule_ids(run(root, cache_dir=cache_dir)) == ["EKS401"]
    pdb = root / "pdb.yaml"
    other = tmp_path / "other.yaml"
    other.write_text(PDB.replace("maxUnavailable: 0", "maxUnavailable: 1"))
    shutil.copystat(pdb, other)  # cp -p, rsync, tar: same size and times
    os.replace(other, pdb)
    after = run(root, cache_dir=cache_dir)
    assert rule_ids(after) == [] and after.from_cache == 1


HELPER_RULE = textwrap.dedent(
    """
    from ekslint.plugin import FileRule, Severity, Violation
    from {helpers} import message

    class Helped(FileRule):
        '''## What it does
        Test rule.

        ## Why is this bad?
        Tests.
        '''
        id = "ACME001"
        name = "helped"
        severity = Severity.WARNING
        summary = "test"

        def check(self, target, ctx):
            for workload in target.workloads:
                yield Violation(workload.span, message(workload.name))
    """
)


def test_the_key_covers_a_plugins_helper_modules_and_the_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The helper lives in another top-level package than the rule.
    write(
        tmp_path / "lib",
        {
            "acme_rule_pkg/__init__.py": "",
            "acme_rule_pkg/helped.py": HELPER_RULE.format(helpers="acme_helpers_pkg.text"),
            "acme_helpers_pkg/__init__.py": "",
            "acme_helpers_pkg/text.py": "def message(name):\n    return f'{name} seen; remove it'\n",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    from acme_rule_pkg.helped import Helped

    registry = plugins.load([("ACME", plugin(Helped))])
    root = repo(tmp_path)

    def salt() -> str:
        stamps._stamps.clear()  # a new process computes them again
        with chdir(root):
            return Runner(registry, config.load(None))._cache_salt()

    before = salt()
    assert salt() == before
    helper = tmp_path / "lib" / "acme_helpers_pkg" / "text.py"
    helper.write_text(helper.read_text() + "# edited\n")
    edited = salt()
    assert edited != before
    monkeypatch.setattr(sys, "version", sys.version + " (another build)")
    assert salt() != edited


def test_a_library_upgrade_changes_the_platform_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    fake = tmp_path / "__init__.py"
    fake.write_text("__version__ = '1'\n")
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        spec = real(name, *args)
        if name == "ruamel.yaml" and spec is not None:
            spec = importlib.util.spec_from_file_location(name, fake)
        return spec

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    stamps._stamps.clear()
    before = stamps.platform_stamp()
    fake.write_text("__version__ = '2.0'\n")
    stamps._stamps.clear()
    assert stamps.platform_stamp() != before
    stamps._stamps.clear()


# -- item 10: a warm cache never answers for a file that cannot be read ---------------------


@pytest.fixture
def unreadable(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Make a file unreadable (chmod 000 does not stop root): every open refuses it."""
    refused: set[str] = set()
    real_open, real_os_open = builtins.open, os.open

    def is_refused(path: object) -> bool:
        return isinstance(path, (str, os.PathLike)) and os.path.abspath(os.fspath(path)) in refused

    def fake_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if is_refused(file):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    def fake_os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        if is_refused(path) and kwargs.get("dir_fd") is None:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_os_open(path, *args, **kwargs)

    real_access = os.access

    def fake_access(path: Any, mode: int, **kwargs: Any) -> bool:
        return not is_refused(path) and real_access(path, mode, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(os, "access", fake_access)
    # A file refused with its stat unchanged is one of another owner's (a lost group
    # membership): for the user's own files the owner read bit decides, and the engine
    # trusts it without asking (runner._readable). Here the test's files stand for those.
    monkeypatch.setattr(runner_module, "_OWNER", None)

    def make(path: Path) -> None:
        refused.add(str(path.resolve()))
        if os.getuid() != 0:
            path.chmod(0)

    return make


def test_a_warm_cache_does_not_answer_for_an_unreadable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unreadable: Callable[[Path], None]
) -> None:
    never_racy(monkeypatch)
    root = repo(tmp_path)
    old_times(root)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir=cache_dir)
    assert run(root, cache_dir=cache_dir).from_cache == 2
    unreadable(root / "pdb.yaml")
    uncached = run(root)
    warm = run(root, cache_dir=cache_dir)
    assert [e.path for e in uncached.input_errors] == [e.path for e in warm.input_errors] == ["pdb.yaml"]
    assert warm.from_cache == 1 and rule_ids(warm) == rule_ids(uncached)


def test_an_unreadable_context_file_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unreadable: Callable[[Path], None]
) -> None:
    never_racy(monkeypatch)
    root = repo(tmp_path)
    old_times(root)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir=cache_dir)
    unreadable(root / "web.yaml")
    for cached in (None, cache_dir):
        result = run(root, "pdb.yaml", context=["."], cache_dir=cached)
        assert [(e.path, "--context" in e.message) for e in result.input_errors] == [("web.yaml", True)]


def test_an_unreadable_context_directory_is_reported(tmp_path: Path) -> None:
    if os.getuid() == 0:
        pytest.skip("root reads every directory")
    root = repo(tmp_path)
    hidden = root / "hidden"
    hidden.mkdir()
    (hidden / "x.yaml").write_text(WEB)
    hidden.chmod(0)
    try:
        result = run(root, "pdb.yaml", context=["."])
    finally:
        hidden.chmod(0o755)
    assert any("--context" in e.message for e in result.input_errors)


# -- item 16: the cache directory is pruned ------------------------------------------------


@pytest.mark.usefixtures("directory_access")
def test_the_cache_directory_is_pruned(tmp_path: Path) -> None:
    root = repo(tmp_path)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    now = time.time()
    for number in range(20):  # twenty other combinations of settings, used over the last days
        old = cache_dir / f"{number:024x}.cache"
        old.write_bytes(b"x")
        os.utime(old, (now - 3600 * (number + 1), now - 3600 * (number + 1)))
    ancient = cache_dir / f"{'a' * 24}.cache"
    ancient.write_bytes(b"x")
    os.utime(ancient, (now - 90 * 86400, now - 90 * 86400))
    left_over = cache_dir / ".tmp-0123456789abcdef"
    left_over.write_bytes(b"x")
    os.utime(left_over, (now - 7200, now - 7200))
    (cache_dir / "link.cache").symlink_to(tmp_path / "nowhere")
    (cache_dir / "notes.txt").write_text("not ours")
    run(root, cache_dir=cache_dir)
    names = {p.name for p in cache_dir.iterdir()}
    caches = {n for n in names if n.endswith(".cache")}
    assert len(caches) == cache_module.MAX_CACHE_FILES
    assert {f"{n:024x}.cache" for n in range(cache_module.MAX_CACHE_FILES - 1)} < caches  # the most recent
    assert ancient.name not in names and left_over.name not in names and "link.cache" not in names
    assert "notes.txt" in names
    assert run(root, cache_dir=cache_dir).from_cache == 2  # the current one is kept


# -- item 11: plugins are isolated ---------------------------------------------------------


def file_rule(rule_id: str, check: Callable[..., Any]) -> type[FileRule]:
    return rule_class(FileRule, rule_id, f"rule-{rule_id.lower()}", check)


def project_rule(rule_id: str, check: Callable[..., Any]) -> type[ProjectRule]:
    return rule_class(ProjectRule, rule_id, f"rule-{rule_id.lower()}", check)


def _prints(self: FileRule, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
    print("hello from a plugin")
    os.write(1, b"and straight to fd 1\n")
    sys.stdout.write("{not json")
    for workload in target.workloads:
        yield Violation(workload.span, f"{workload.name} seen; remove it")


def _sys_exit(self: Any, target: Any, ctx: RuleContext) -> Iterator[Violation]:
    sys.exit(0)


def _os_exit(self: Any, target: Any, ctx: RuleContext) -> Iterator[Violation]:
    os._exit(0)


def _yields_junk(self: FileRule, target: FileModel, ctx: RuleContext) -> Iterator[object]:
    yield "a string"


def _bad_span(self: FileRule, target: FileModel, ctx: RuleContext) -> Iterator[object]:
    yield Violation(None, "no span")  # type: ignore[arg-type]


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no")


def _unprintable(self: Any, target: Any, ctx: RuleContext) -> Iterator[Violation]:
    raise Unprintable()


def _spins(self: Any, target: Any, ctx: RuleContext) -> Iterator[Violation]:
    while True:
        pass


def _sleeps(self: Any, target: Any, ctx: RuleContext) -> Iterator[Violation]:
    time.sleep(3600)
    yield from ()


def _ok(self: FileRule, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
    for workload in target.workloads:
        yield Violation(workload.span, f"{workload.name} seen; remove it")


def cli_run(
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    root: Path,
    rules: list[type],
    *args: str,
) -> tuple[int, str, str]:
    load = plugins.load
    monkeypatch.setattr(plugins, "load", lambda: load([("ACME", plugin(*rules))]))
    with chdir(root):
        code = cli.main(["--format", "json", "--no-cache", *args])
    out, err = capfd.readouterr()
    return code, out, err


def crashes(report: dict[str, Any]) -> list[str]:
    return [f["message"] for f in report["findings"] if f["rule"] == "EKS004"]


def test_a_plugin_that_prints_does_not_corrupt_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    root = write(tmp_path, {"d.yaml": TOLERANT})
    code, out, err = cli_run(monkeypatch, capfd, root, [file_rule("ACME001", _prints)])
    report = json.loads(out)
    assert {f["rule"] for f in report["findings"]} == {"ACME001", "EKS402"} and code == 0  # warnings
    assert "hello from a plugin" in err and "straight to fd 1" in err


@pytest.mark.parametrize(
    ("check", "says"),
    [
        (_sys_exit, "it called sys.exit(0)"),
        (_os_exit, "it called os._exit(0)"),
        (_yields_junk, "it yielded str, not a Violation"),
        (_bad_span, "span, message or related places"),
        (_unprintable, "Unprintable: <its message could not be shown"),
    ],
)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_misbehaving_file_rule_is_an_eks004_finding(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    check: Callable[..., Any],
    says: str,
    jobs: str,
) -> None:
    root = write(tmp_path, {"a.yaml": TOLERANT, "b.yaml": TOLERANT.replace("tolerant", "other")})
    rules = [file_rule("ACME001", check), file_rule("ACME002", _ok)]
    code, out, _ = cli_run(monkeypatch, capfd, root, rules, "--jobs", jobs)
    report = json.loads(out)
    assert code == 2
    messages = crashes(report)
    assert len(messages) == 2 and all(says in m and "ACME001" in m and "plugin ACME" in m for m in messages)
    assert sorted(f["rule"] for f in report["findings"] if f["rule"] != "EKS004") == ["ACME002"] * 2 + ["EKS402"] * 2


@pytest.mark.parametrize(
    ("check", "says"),
    [(_sys_exit, "sys.exit(0)"), (_os_exit, "os._exit(0)"), (_unprintable, "Unprintable"), (_spins, "time limit")],
)
def test_a_misbehaving_cross_file_rule_is_an_eks004_finding_in_the_fork_too(
    tmp_path: Path, check: Callable[..., Any], says: str
) -> None:
    rules = [project_rule("ACME101", check), project_rule("ACME102", lambda self, target, ctx: iter(()))]
    rules[0].index_group = "acme"
    registry = plugins.load([("ACME", plugin(*rules))])
    root = write(tmp_path, {f"d{n}.yaml": TOLERANT.replace("tolerant", f"t{n}") for n in range(3)})
    results = [run(root, registry=registry, jobs=jobs, rule_time_limit=0.3) for jobs in (1, 2)]
    for result in results:
        (crash,) = result.crashed
        assert says in crash.message and "ACME101" in crash.message and "plugin ACME" in crash.message
        assert rule_ids(result).count("EKS402") == 3
    assert results[1].jobs == 2


@pytest.mark.parametrize("check", [_spins, _sleeps])
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_hanging_rule_is_stopped_at_its_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, check: Callable[..., Any], jobs: int
) -> None:
    registry = plugins.load([("ACME", plugin(file_rule("ACME001", check), file_rule("ACME002", _ok)))])
    root = write(tmp_path / "repo", {f"d{n}.yaml": TOLERANT.replace("tolerant", f"t{n}") for n in range(4)})
    cache_dir = tmp_path / "cache"
    started = time.monotonic()
    result = run(root, registry=registry, jobs=jobs, rule_time_limit=0.3, cache_dir=cache_dir)
    assert time.monotonic() - started < 10
    # Stopped once per process, then not run on that process's later files.
    assert 1 <= len(result.crashed) <= jobs
    assert all("time limit of 0.3 s" in c.message and "plugin ACME" in c.message for c in result.crashed)
    assert rule_ids(result).count("ACME002") == 4 and rule_ids(result).count("EKS402") == 4
    assert isolation._watch.armed is False  # the alarm ticks only during a run
    # Nothing that a stopped rule missed is answered from the cache later.
    fine = plugins.load([("ACME", plugin(file_rule("ACME001", _ok), file_rule("ACME002", _ok)))])
    again = run(root, registry=fine, jobs=jobs, cache_dir=cache_dir)
    assert again.from_cache == 0 and rule_ids(again).count("ACME001") == 4 and not again.crashed


def test_the_time_limit_is_configurable(tmp_path: Path) -> None:
    write(tmp_path, {".ekslint.yaml": "limits:\n  rule-time-limit: 2.5\n"})
    assert config.load(tmp_path / ".ekslint.yaml").rule_time_limit == 2.5
    write(tmp_path, {".ekslint.yaml": "limits:\n  rule-time-limit: 0\n"})
    with pytest.raises(config.ConfigError):
        config.load(tmp_path / ".ekslint.yaml")


SWALLOWS = textwrap.dedent(
    """
    import sys, time
    from ekslint import config
    from ekslint.engine import plugins
    from ekslint.engine.runner import Runner, RunRequest
    from ekslint.plugin import FileRule
    sys.path.insert(0, {tests!r})
    from conftest import plugin, rule_class

    def check(self, target, ctx):
        while True:
            try:
                time.sleep(60)
            except BaseException:
                pass

    rule = rule_class(FileRule, "ACME001", "swallows", check)
    settings = config.Settings()
    settings.rule_time_limit = 0.2
    Runner(plugins.load([("ACME", plugin(rule))]), settings).run(RunRequest(["d.yaml"], settings))
    print("finished")
    """
)


def test_a_rule_that_swallows_its_time_limit_ends_the_run_bounded(tmp_path: Path) -> None:
    write(tmp_path, {"d.yaml": TOLERANT, "swallows.py": SWALLOWS.format(tests=str(REPO / "tests"))})
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "swallows.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert time.monotonic() - started < 30
    assert done.returncode == 2 and "finished" not in done.stdout
    assert "rule ACME001 of plugin ACME did not stop" in done.stderr


def test_os_exit_outside_a_rule_still_exits() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import ekslint.engine.isolation, os; os._exit(7)"], timeout=60, check=False
    )
    assert done.returncode == 7


def test_a_violation_subclass_is_reported_as_a_plain_violation(tmp_path: Path) -> None:
    class Mine(Violation):
        __slots__ = ()

    def check(self: FileRule, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for workload in target.workloads:
            yield Mine(Span(workload.span.file, 1, 1, 1, 2), "mine; remove it")

    registry = plugins.load([("ACME", plugin(file_rule("ACME001", check)))])
    root = write(tmp_path, {"d.yaml": TOLERANT})
    result = run(root, registry=registry)
    assert "ACME001" in rule_ids(result) and not result.crashed


def test_a_rule_yielding_without_end_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ekslint.engine import analysis

    monkeypatch.setattr(analysis, "MAX_VIOLATIONS", 50)

    def endless(self: FileRule, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        while True:
            yield Violation(Span(target.path, 1, 1, 1, 2), "again; remove it")

    registry = plugins.load([("ACME", plugin(file_rule("ACME001", endless)))])
    result = run(write(tmp_path, {"d.yaml": TOLERANT}), registry=registry)
    (crash,) = result.crashed
    assert "more than 50 violations" in crash.message and "ACME001" not in rule_ids(result)


def test_a_plugin_that_prints_while_loading_does_not_corrupt_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    class Noisy:
        @staticmethod
        @plugins.hookspecs.hookimpl
        def ekslint_rules() -> list[type]:
            print("registering rules")
            os.write(1, b"loud\n")
            return [file_rule("ACME001", _ok)]

    load = plugins.load
    monkeypatch.setattr(plugins, "load", lambda: load([("ACME", Noisy)]))
    root = write(tmp_path, {"d.yaml": TOLERANT})
    with chdir(root):
        code = cli.main(["--format", "sarif", "--no-cache"])
    out, err = capfd.readouterr()
    assert code == 0 and json.loads(out)["runs"][0]["results"]
    assert "registering rules" in err and "loud" in err


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX owners")
def test_readable_trusts_the_owner_read_bit_and_asks_for_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n")
    asked: list[str] = []
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: asked.append(p) or False)
    own = os.stat(path)
    assert runner_module._readable(str(path), own) and asked == []
    path.chmod(0o044)  # group and others may read, the owner not: the kernel refuses the owner
    assert not runner_module._readable(str(path), os.stat(path)) and asked == [str(path)]
    monkeypatch.setattr(runner_module, "_OWNER", own.st_uid + 1)  # another user's file
    path.chmod(0o644)
    assert not runner_module._readable(str(path), os.stat(path)) and len(asked) == 2
