"""Hostile input, built at test time: every file ends as an EKS001 finding (or a
one-line error naming the path, or is skipped as not an input) within bounded time and
memory, and the canary beside them still produces its finding.

The run happens in a subprocess so that wall time and peak memory (ru_maxrss of that
process alone) are measured and a crash cannot hide behind pytest."""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from tests.conftest import write

CANARY = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: canary\nspec:\n  template:\n    spec:\n"
    "      tolerations:\n        - operator: Exists\n"
)
MIME_HEAD = 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="//"\n\n'
# Limits in force: the defaults (README "Limits").
MIB = 1024 * 1024


def gzip_bomb(prefix: bytes, size: int) -> bytes:
    """A valid gzip stream of ``prefix`` and ``size`` zero bytes, built without
    compressing gigabytes: after a full flush every MiB of zeros compresses to the same
    bytes, so the segment is repeated; the trailer's CRC-32 is computed in MiB steps."""
    chunk = bytes(MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    segment = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    count = size // MIB
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    total = len(prefix) + count * MIB
    return head + segment * count + b"\x03\x00" + struct.pack("<II", crc, total & 0xFFFFFFFF)


def billion_laughs(levels: int, width: int, use: str) -> str:
    """A Deployment whose tolerations, sysctls and containers are one nested alias."""
    lines = ["apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: laughs", "x:"]
    lines.append("  a0: &a0 [{key: k, operator: Exists, name: net.core.somaxconn, image: x}]")
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    lines += ["spec:", "  template:", "    spec:", f"      tolerations: {use}", "      securityContext:"]
    lines += [f"        sysctls: {use}", f"      containers: {use}"]
    return "\n".join(lines) + "\n"


SCHEMA_CASES = frozenset(("nodeconfig.yaml", "cluster.yaml"))


def hostile_files() -> dict[str, tuple[str | bytes, str]]:
    """name -> (content, a fragment the EKS001 message must contain)."""
    bomb = gzip_bomb(b"#!/bin/bash\n/etc/eks/bootstrap.sh my-cluster\n", 4 * 1024 * MIB)
    part = "--//\nContent-Type: text/x-shellscript\n\n/etc/eks/bootstrap.sh c\n"
    return {
        "laughs.yaml": (billion_laughs(10, 9, "*a9"), "limits.max-yaml-alias-expansion"),
        "recursive-alias.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: r}\nspec: &s\n  template: {spec: {x: *s}}\n",
            "alias",
        ),
        "deep-flow.yaml": (
            "apiVersion: v1\nkind: List\nitems: " + "[" * 50_000 + "]" * 50_000 + "\n",
            "max-yaml-depth",
        ),
        "deep-flow-map.yaml": ("apiVersion: v1\nkind: List\nitems: " + "{a: " * 50_000 + "}" * 50_000 + "\n", "depth"),
        "deep-block.yaml": ("apiVersion: v1\nkind: List\nitems:\n" + "- " * 50_000 + "x\n", "max-yaml-depth"),
        "big.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n"
            + "".join(f"  k{i}: {'v' * 90}\n" for i in range(420_000)),
            "limits.max-file-size",
        ),
        "bad-utf8.yaml": (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \xff\xfe\xc3(\n", "not valid UTF-8"),
        "latin1.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: café\n".encode("latin-1"), "UTF-8"),
        "nul.yaml": (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\x00b\n", "NUL"),
        "lone-cr.yaml": (b"apiVersion: v1\rkind: ConfigMap\rmetadata: {name: [x\r", "YAML syntax error"),
        "syntax.yaml": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n", "YAML syntax error"),
        "nodeconfig.yaml": ("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec: [1, 2]\n", "spec is a list"),
        "cluster.yaml": (
            "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: []\nnodeGroups: 3\nmanagedNodeGroups: x\n",
            "nodeGroups is the number 3",
        ),
        "pdb.yaml": (
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n"
            "spec: {maxUnavailable: -3%, selector: {matchLabels: {app: canary}}}\n",
            "'-3%' is not an integer or a percentage",
        ),
        "no-close.mime": (MIME_HEAD + part, "no closing `--//--`"),
        "parts.mime": (MIME_HEAD + part * 20_000 + "--//--\n", "limits.max-mime-parts"),
        "bad-base64.mime": (
            MIME_HEAD + "--//\nContent-Type: application/node.eks.aws\nContent-Transfer-Encoding: base64\n\n"
            "!!notbase64!!\n--//--\n",
            "invalid base64",
        ),
        "truncated.b64": (
            base64.b64encode(zlib.compress(b"#!/bin/bash\n/etc/eks/bootstrap.sh c\n" * 9, wbits=31)[:-30]),
            "gzip data ends before the end",
        ),
        "bomb.gz": (bomb, "limits.max-decompressed-size"),
        "bomb.b64": (base64.b64encode(bomb), "limits.max-decompressed-size"),
        "bomb-part.mime": (
            MIME_HEAD
            + "--//\nContent-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\n"
            + base64.b64encode(bomb).decode()
            + "\n--//--\n",
            "limits.max-decompressed-size",
        ),
        "broken.toml": ('[settings.kubernetes]\ncluster-name = "x\n', "TOML syntax error"),
    }


# Not inputs: skipped without a word (README "What ekslint reads").
SKIPPED: dict[str, bytes] = {"random.bin": os.urandom(200_000), "noise.dat": bytes(range(256)) * 64}


def run_ekslint(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float, int, dict]:  # type: ignore[type-arg]
    """Run ekslint in a child; returns the process, wall seconds, the child's peak RSS
    in MiB and the JSON report."""
    code = (
        "import resource, sys\n"
        "from ekslint.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "sys.stderr.write(f'\\nPEAK_RSS_KB={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n')\n"
        "sys.exit(rc)\n"
    )
    # The installed ekslint, as users run it (rules/ is only a package once installed).
    env = {k: v for k, v in os.environ.items() if k != "EKSLINT_DEBUG"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, "--format", "json", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
    )
    elapsed = time.perf_counter() - start
    peak = int(proc.stderr.rsplit("PEAK_RSS_KB=", 1)[1].split()[0]) // 1024 if "PEAK_RSS_KB=" in proc.stderr else -1
    report = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    return proc, elapsed, peak, report


def findings_by_file(report: dict) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    found: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for finding in report.get("findings", []):
        found.setdefault(finding["file"], []).append(finding)
    return found


def test_hostile_directory_is_linted_in_bounded_time_and_memory(tmp_path: Path) -> None:
    cases = hostile_files()
    write(tmp_path, {name: content for name, (content, _) in cases.items()})
    write(tmp_path, {**SKIPPED, "canary.yaml": CANARY})
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.yaml")  # never opened while walking
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    (tmp_path / "dir-loop").mkdir()
    (tmp_path / "dir-loop" / "up").symlink_to(tmp_path / "dir-loop")

    proc, elapsed, peak, report = run_ekslint(tmp_path, "--isolated", ".")

    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr  # findings; 2 would be an internal or input error
    assert elapsed < 60, f"took {elapsed:.1f} s"
    assert 0 < peak < 600, f"peak RSS {peak} MiB"
    by_file = findings_by_file(report)
    canary = [(f["rule"], f["line"], f["column"]) for f in by_file.pop("canary.yaml", [])]
    assert canary == [("EKS402", 9, 11)]
    for name, (_, fragment) in cases.items():
        messages = [f["message"] for f in by_file.get(name, [])]
        # A field of the wrong kind is a schema violation; everything else a parse error.
        rule = "EKS002" if name in SCHEMA_CASES else "EKS001"
        assert all(f["rule"] == rule for f in by_file.get(name, [])), (name, messages)
        assert any(fragment in m for m in messages), f"{name}: {messages}"
    assert set(by_file) == set(cases), set(by_file) ^ set(cases)  # nothing for skipped files, FIFOs, loops


def test_hostile_paths_given_explicitly_are_one_line_errors(tmp_path: Path) -> None:
    write(tmp_path, {"canary.yaml": CANARY})
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    (tmp_path / "secret.yaml").write_text(CANARY.replace("canary", "secret"))
    (tmp_path / "secret.yaml").chmod(0)
    args = ["--isolated", "--format", "text"]
    proc, _, _, _ = run_ekslint(tmp_path, *args, "pipe.yaml", "loop.yaml", "secret.yaml", "canary.yaml")
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ekslint: error:")]
    assert proc.returncode == 2  # a path that cannot be read is an error, as documented
    assert "Traceback" not in proc.stderr
    assert any(line.startswith("ekslint: error: loop.yaml:") for line in errors), errors
    if hasattr(os, "mkfifo"):
        assert "ekslint: error: pipe.yaml: not a regular file" in errors
    if os.geteuid() != 0:  # root reads everything
        assert "ekslint: error: secret.yaml: Permission denied" in errors
    assert proc.stdout.count("EKS402") >= 1  # the rest was still linted


def test_the_big_file_lints_with_the_limit_raised(tmp_path: Path) -> None:
    """Over the default max-file-size, a 40 MB manifest is EKS001; with the limit
    raised it is linted, in time and memory linear in its YAML nodes. This one has
    few, large nodes (40 ConfigMaps of 1 MB literal blocks); the README gives the cost
    per node."""
    block = "".join(f"    line {i} {'x' * 80}\n" for i in range(11_500))
    docs = [f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{n}\ndata:\n  file: |\n{block}" for n in range(40)]
    write(tmp_path, {"big.yaml": "---\n".join(docs), "canary.yaml": CANARY})
    assert (tmp_path / "big.yaml").stat().st_size > 40 * 1000 * 1000
    proc, _, _, report = run_ekslint(tmp_path, "--isolated", ".")
    (eks001,) = findings_by_file(report)["big.yaml"]
    assert "larger than 8,388,608 bytes" in eks001["message"] and "limits.max-file-size" in eks001["message"]

    write(tmp_path, {".ekslint.yaml": f"limits:\n  max-file-size: {64 * MIB}\n"})
    proc, elapsed, peak, report = run_ekslint(tmp_path, ".")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr  # the canary is a warning
    assert list(findings_by_file(report)) == ["canary.yaml"]
    assert elapsed < 60, f"took {elapsed:.1f} s"
    assert peak < 1024, f"peak RSS {peak} MiB"


@pytest.mark.parametrize(
    ("key", "value", "name", "content"),
    [
        ("max-yaml-depth", 3000, "deep.yaml", "apiVersion: v1\nkind: List\nitems: " + "[" * 2000 + "]" * 2000 + "\n"),
        (
            "max-yaml-alias-expansion",
            10_000_000,
            "laughs.yaml",
            billion_laughs(6, 10, "*a5"),
        ),
        (
            "max-mime-parts",
            3000,
            "parts.mime",
            MIME_HEAD + "--//\nContent-Type: text/x-shellscript\n\necho\n" * 2000 + "--//--\n",
        ),
    ],
)
def test_each_limit_can_be_raised_in_the_config(tmp_path: Path, key: str, value: int, name: str, content: str) -> None:
    write(tmp_path, {name: content})
    proc, _, _, report = run_ekslint(tmp_path, "--isolated", ".")
    assert any(key in f["message"] for f in findings_by_file(report).get(name, [])), proc.stdout
    write(tmp_path, {".ekslint.yaml": f"limits:\n  {key}: {value}\n"})
    proc, _, _, report = run_ekslint(tmp_path, ".")
    assert not any(key in f["message"] for f in findings_by_file(report).get(name, [])), proc.stdout
    assert "Traceback" not in proc.stderr
