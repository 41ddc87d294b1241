"""What a hostile pull request can put in file names, values and the tree itself
(issue 15, items 5, 6 and 14): control characters never reach a report or stderr raw, a
symlink out of the tree is skipped (once) and its target never read, a file turned into
a FIFO after the walk does not hang the run, and a hostile baseline is a usage error."""

from __future__ import annotations

import io
import json
import os
import threading
import time
import xml.dom.minidom
from pathlib import Path

import pytest

from ekslint.cli import main
from ekslint.parse.escape import json_text, visible, xml_text
from ekslint.parse.sources import ReadLimits, read_head
from tests.conftest import write

CANARY = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: canary\nspec:\n  template:\n    spec:\n"
    "      tolerations:\n        - operator: Exists\n"
)
# Everything a terminal, a CI log or an XML parser treats specially.
HOSTILE = "\n::stop-commands::x\r\x1b[31m\x07\x00\x7f\x9b2J\u2028\u2029\u202e\ufeff\x85%0A"
FORMATS = ("text", "concise", "github", "junit", "json", "sarif")


def unsafe(text: str, keep: str = "\n") -> list[str]:
    return [
        c
        for c in text
        if (ord(c) < 32 and c not in keep + "\t") or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029\u202e\ufeff"
    ]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--isolated", "--no-cache", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("escaper", [visible, xml_text])
def test_escapers_leave_nothing_unsafe(escaper: object) -> None:
    assert callable(escaper)
    every = "".join(chr(i) for i in range(0x3000))
    assert unsafe(escaper(every), keep="") == []


def test_json_escaping_keeps_the_value() -> None:
    document = json.dumps({"m": HOSTILE}, ensure_ascii=False)
    assert json.loads(json_text(document)) == {"m": HOSTILE}
    assert unsafe(json_text(document), keep="") == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_control_characters_in_names_and_values_are_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    name = f"evil{HOSTILE.replace(chr(0), '').replace('/', '')}.yaml"
    value = json.dumps(f"a{HOSTILE}b")  # a double-quoted YAML scalar holds any character
    write(tmp_path, {name: CANARY.replace("name: canary", f"name: {value}"), "ok.yaml": CANARY})
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "--format", fmt, ".")
    assert code == 0, err
    assert unsafe(out) == [] and unsafe(err) == []
    if fmt in ("text", "concise", "github"):
        heads = [line for line in out.strip().split("\n") if not line.startswith("    ")]  # not the detail
        assert len(heads) == (2 if fmt == "github" else 3)  # a line per finding (+ summary)
        assert not any(line.startswith("::stop-commands") for line in out.split("\n"))
    if fmt == "github":
        assert all(line.startswith("::warning file=") for line in out.strip().split("\n"))
    if fmt == "junit":
        xml.dom.minidom.parseString(out)  # valid XML
    if fmt in ("json", "sarif"):
        json.loads(out)


def test_stderr_is_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, f"missing{HOSTILE.replace(chr(0), '')}.yaml")
    assert code == 2 and unsafe(err) == [] and err.count("\n") == 1
    write(tmp_path, {".ekslint.yaml": json.dumps({f"bad{HOSTILE}": 1})})
    code, _, err = main(["--no-cache", "."]), *capsys.readouterr()
    assert code == 2 and unsafe(err) == [] and "::stop-commands" not in [line[:16] for line in err.split("\n")]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    write(outside, {"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: TOPSECRET\n" + CANARY[14:]})
    root = tmp_path / "repo"
    write(root, {"sub/canary.yaml": CANARY})
    (root / "leak.yaml").symlink_to(outside / "secret.yaml")
    (root / "sub" / "leak2.yml").symlink_to("../../outside/secret.yaml")
    (root / "inside.yaml").symlink_to("sub/canary.yaml")
    return root


@pytest.mark.parametrize("fmt", FORMATS)
def test_symlinks_out_of_the_tree_are_skipped_once_and_never_read(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    monkeypatch.chdir(tree)
    code, out, err = run(capsys, "--format", fmt, ".", "leak.yaml", "sub")
    assert code == 0, err  # skipped is not an error
    assert "TOPSECRET" not in out and "TOPSECRET" not in err
    assert "secret.yaml" not in out and "secret.yaml" not in err  # not even where it points
    warnings = [line for line in err.split("\n") if line.startswith("ekslint: warning:")]
    assert sorted(line.split(":")[2].strip() for line in warnings) == ["leak.yaml", "sub/leak2.yml"]
    assert "inside.yaml" in out  # a symlink inside the tree is followed


def test_symlink_named_on_the_command_line(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tree / "sub")
    code, out, _ = run(capsys, "--format", "json", "leak2.yml", "canary.yaml")
    assert code == 0 and "TOPSECRET" not in out
    report = json.loads(out)
    assert report["errors"] == [{"path": "leak2.yml", "message": report["errors"][0]["message"], "skipped": True}]


def test_a_fifo_is_never_read(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    outcome: list[BaseException | bytes] = []
    reader = threading.Thread(target=lambda: outcome.append(_try_read(fifo)), daemon=True)
    start = time.perf_counter()
    reader.start()
    reader.join(5)
    if reader.is_alive():  # unblock the reader before failing
        with open(fifo, "wb"):
            pass
        pytest.fail("read_head blocked on a FIFO")
    assert isinstance(outcome[0], OSError) and "not a regular file" in str(outcome[0])
    assert time.perf_counter() - start < 2


def _try_read(path: Path) -> BaseException | bytes:
    try:
        return read_head(str(path), ReadLimits())
    except OSError as err:
        return err


def test_a_file_replaced_by_a_fifo_after_the_walk_does_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    from ekslint.parse import discovery

    write(tmp_path, {"a.yaml": CANARY, "b.yaml": CANARY})
    walk = discovery.walk

    def swapping_walk(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for path, shown in walk(*args, **kwargs):  # type: ignore[arg-type]
            if shown == "a.yaml":
                os.unlink(path)
                os.mkfifo(path)
            yield path, shown

    monkeypatch.setattr("ekslint.engine.runner.walk", swapping_walk)
    monkeypatch.chdir(tmp_path)
    result: list[tuple[int, str, str]] = []
    worker = threading.Thread(target=lambda: result.append(run(capsys, "-j", "1", ".")), daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():
        with open(tmp_path / "a.yaml", "wb"):
            pass
        pytest.fail("the run blocked on a FIFO")
    code, out, err = result[0]
    assert code == 2 and "a.yaml: not a regular file" in err and "b.yaml" in out


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"findings": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        ('{"findings": [{"fingerprint": ' + "9" * 5000 + "}]}", "not a readable"),
        ('{"findings": 3}', "not a readable"),
        ("\xff\xfe", "not a readable"),
    ],
)
def test_hostile_baselines_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], content: str, words: str
) -> None:
    write(tmp_path, {"canary.yaml": CANARY, "baseline.json": content.encode("latin-1")})
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "--baseline", "baseline.json", ".")
    assert code == 2 and out == ""
    assert err.startswith("ekslint: error: baseline.json: not a readable ekslint baseline") and words in err
    assert "internal error" not in err


def test_a_fifo_baseline_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(tmp_path / "baseline.json")
    write(tmp_path, {"canary.yaml": CANARY})
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "--baseline", "baseline.json", ".")
    assert code == 2 and "not a regular file" in err


def test_short_unbuffered_reads_still_read_the_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # read_head reads unbuffered, and a raw read may return fewer bytes than asked
    # (network and FUSE file systems): the file must not come back cut short.
    from ekslint.parse import sources

    class ShortReads(io.RawIOBase):
        def __init__(self, fd: int) -> None:
            self.raw = io.FileIO(fd, "rb")

        def read(self, size: int = -1) -> bytes:
            return self.raw.read(min(size, 7) if size >= 0 else 7)

        def close(self) -> None:
            self.raw.close()
            super().close()

    content = CANARY.encode() * 3
    (tmp_path / "a.yaml").write_bytes(content)
    monkeypatch.setattr(sources.os, "fdopen", lambda fd, *args, **kwargs: ShortReads(fd))
    assert read_head(str(tmp_path / "a.yaml"), ReadLimits()) == content
    small = ReadLimits(max_file_bytes=len(content) - 5)
    assert read_head(str(tmp_path / "a.yaml"), small) == content[: len(content) - 4]  # the limit and one byte
