"""Limits a hostile pull request cannot get past (issue 15, items 2 and 7): gzip data
is bounded per stream, per file (many parts each under the per-part limit) and per run
in each process; no committed config raises a limit past its hard ceiling."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from ekslint import config
from ekslint.parse import mime
from ekslint.parse.sources import ReadLimits, load_bytes
from tests.conftest import write

MIB = 1024 * 1024
HEAD = 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="//"\n\n'


def gzip_of_spaces(size: int) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    return deflate.compress(b"#!/bin/bash\necho hi\n" + b" " * size) + deflate.flush()


def many_parts(count: int, size: int) -> bytes:
    part = base64.b64encode(gzip_of_spaces(size)).decode()
    body = "".join(
        f"--//\nContent-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\n{part}\n" for _ in range(count)
    )
    return (HEAD + body + "--//--\n").encode()


def test_many_parts_under_the_part_limit_are_bounded_per_file() -> None:
    data = many_parts(300, 7 * MIB)  # 2.1 GB inflated, 3 MB on disk
    start = time.perf_counter()
    source = load_bytes("bomb.mime", data, ReadLimits())
    elapsed = time.perf_counter() - start
    assert source is not None and source.userdata is not None
    totals = [p for p in source.problems if "in all (its parts and layers together" in p.message]
    assert len(totals) == 1, [p.message[:80] for p in source.problems]  # said once
    assert "limits.max-decompressed-size" in totals[0].message
    assert sum(len(part.text.content) for part in source.userdata.parts) <= ReadLimits().decode.max_decompressed_bytes
    assert elapsed < 5


def test_the_file_total_starts_again_for_each_file() -> None:
    data = many_parts(2, 3 * MIB)
    for _ in range(3):
        source = load_bytes("ok.mime", data, ReadLimits())
        assert source is not None and not source.problems


def test_the_run_total_is_counted_in_each_process() -> None:
    limits = ReadLimits(decode=mime.DecodeLimits(max_decompressed_bytes=4 * MIB, max_decompressed_total=10 * MIB))
    data = many_parts(1, 3 * MIB)
    outcomes = []
    mime.begin_run()
    try:
        for _ in range(5):
            source = load_bytes("one.mime", data, limits)
            assert source is not None
            outcomes.append([p.message for p in source.problems])
            assert mime.refused_by_run_total() == bool(source.problems)  # such an outcome is never cached
    finally:
        mime.begin_run()  # this process's run count, for the tests that follow
    assert outcomes[:3] == [[], [], []]
    assert "limits.max-decompressed-total" in outcomes[3][0]


def test_the_run_total_is_set_in_the_config_and_not_cached(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"n{i}.mime": many_parts(1, 3 * MIB) for i in range(5)}
    files[".ekslint.yaml"] = "limits:\n  max-decompressed-total: 10485760\n"
    write(tmp_path, files)
    from tests.conftest import chdir

    with chdir(tmp_path):
        refused = []
        for _ in range(2):  # a cold run, then a warm one
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ekslint",
                    "-j",
                    "1",
                    "--format",
                    "json",
                    "--cache-dir",
                    str(tmp_path / "c"),
                    ".",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env={k: v for k, v in os.environ.items() if k != "EKSLINT_NO_CACHE"},
            )
            report = json.loads(proc.stdout)
            refused.append([f["file"] for f in report["findings"] if "max-decompressed-total" in f["message"]])
    # Cold: the files past the total are refused. Warm: the first three come from the
    # cache (nothing inflated), and the refused two were not cached: read afresh, in budget.
    assert refused == [["n3.mime", "n4.mime"], []]


def test_a_hostile_mime_file_lints_in_bounded_memory(tmp_path: Path) -> None:
    write(tmp_path, {"bomb.mime": many_parts(300, 7 * MIB)})
    # VmHWM is this process's own peak; ru_maxrss can carry the parent's over exec on Linux.
    code = (
        "import re, resource, sys\nfrom ekslint.cli import main\nrc = main(sys.argv[1:])\n"
        "try:\n    peak = int(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1))\n"
        "except (OSError, AttributeError):\n    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "sys.stderr.write(f'PEAK={peak}')\nsys.exit(rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "--isolated", "--no-cache", "--format", "json", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert any(f["rule"] == "EKS001" for f in json.loads(proc.stdout)["findings"])
    peak_mib = int(proc.stderr.rsplit("PEAK=", 1)[1]) / 1024
    assert peak_mib < 300, f"peak RSS {peak_mib:.0f} MiB"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max-file-size", 10**12),
        ("max-yaml-depth", 10**6),
        ("max-yaml-alias-expansion", 10**12),
        ("max-decompressed-size", 10**12),
        ("max-decompressed-total", 10**12),
        ("max-mime-parts", 10**9),
    ],
)
@pytest.mark.parametrize("form", ["yaml", "pyproject"])
def test_no_config_passes_a_hard_ceiling(tmp_path: Path, key: str, value: int, form: str) -> None:
    if form == "yaml":
        path = write(tmp_path, {".ekslint.yaml": f"limits:\n  {key}: {value}\n"}) / ".ekslint.yaml"
    else:
        path = write(tmp_path, {"pyproject.toml": f"[tool.ekslint.limits]\n{key} = {value}\n"}) / "pyproject.toml"
    with pytest.raises(config.ConfigError, match=f"limits.{key}: .*maximum"):
        config.load(path)
    write(tmp_path, {".ekslint.yaml": f"limits:\n  {key}: {config.CEILINGS[key]}\n"})
    config.load(tmp_path / ".ekslint.yaml")  # the ceiling itself is allowed


def test_ceilings_hold_without_the_schema() -> None:
    limits = config.read_limits(dict.fromkeys(config.CEILINGS, 10**15))
    assert limits.max_file_bytes == config.CEILINGS["max-file-size"]
    assert limits.yaml.max_depth == config.CEILINGS["max-yaml-depth"]
    assert limits.yaml.max_alias_expansion == config.CEILINGS["max-yaml-alias-expansion"]
    assert limits.decode.max_decompressed_bytes == config.CEILINGS["max-decompressed-size"]
    assert limits.decode.max_decompressed_total == config.CEILINGS["max-decompressed-total"]
    assert limits.decode.max_parts == config.CEILINGS["max-mime-parts"]


def test_ceilings_match_the_schema() -> None:
    from ekslint.schemas import load as load_schema

    properties = load_schema("config")["properties"]["limits"]["properties"]
    assert {key: spec["maximum"] for key, spec in properties.items()} == config.CEILINGS


def test_a_huge_config_file_is_refused_unread(tmp_path: Path) -> None:
    write(tmp_path, {".ekslint.yaml": "# " + "x" * (2 * MIB) + "\n"})
    with pytest.raises(config.ConfigError, match="larger than"):
        config.load(tmp_path / ".ekslint.yaml")
    (tmp_path / ".ekslint.yaml").unlink()
    write(tmp_path, {"pyproject.toml": "[tool.ekslint]\n" + "# " + "x" * (2 * MIB) + "\n"})
    with pytest.raises(config.ConfigError, match="larger than"):
        config.load(tmp_path / "pyproject.toml")


def test_many_parts_cost_linear_time() -> None:
    """Each part was sliced out of a fresh split of the whole file: 1,000 parts of a
    4 MB file split 4 GB of text."""
    big = "--//\nContent-Type: text/x-shellscript\n\n#!/bin/bash\n" + "# padding\n" * 400_000
    small = "--//\nContent-Type: text/x-shellscript\n\necho\n" * 999
    data = (HEAD + big + small + "--//--\n").encode()
    start = time.perf_counter()
    source = load_bytes("parts.mime", data, ReadLimits())
    assert source is not None and source.userdata is not None and len(source.userdata.parts) == 1000
    assert time.perf_counter() - start < 3
