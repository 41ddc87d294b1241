"""Issue 16: what a team adopting ekslint meets first. Pre-commit runs with --context
(findings whose related location changed, stdin replacing its file), config found
from the linted path, and the outputs (files, several formats, GitHub's annotation
limit, JUnit, GitLab, baselined counts, --list-rules formats)."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from ekslint import cli
from ekslint.report import files
from tests.conftest import WEB, WEB_PDB, chdir, write

TOLERANT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: t{n}
spec:
  template:
    spec:
      tolerations:
        - operator: Exists
      containers:
        - name: app
          image: nginx
"""


def run(capsys: pytest.CaptureFixture[str], *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        saved = sys.stdin
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        code = cli.main(list(args))
    finally:
        if stdin is not None:
            sys.stdin = saved
    out, err = capsys.readouterr()
    return code, out, err


# -- 3. --context: related locations, stdin -------------------------------------------------


def test_a_finding_whose_related_location_changed_is_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, {"web.yaml": WEB.format(replicas=2), "web-pdb.yaml": WEB_PDB})
    with chdir(tmp_path):
        code, out, _ = run(capsys, "--context", ".", "web.yaml")
        assert code == 1
        assert out.startswith("web-pdb.yaml:7:3: EKS401 [error] PDB web can never allow an eviction")
        assert "    web.yaml:7:3: Deployment/shop/web with 2 replicas" in out
        # Neither file changed: nothing to report.
        write(tmp_path, {"README.md": "x"})
        assert run(capsys, "--context", ".", "README.md")[0] == 0


def test_stdin_replaces_the_file_of_its_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, {"web.yaml": WEB.format(replicas=2), "web-pdb.yaml": WEB_PDB})
    fixed = WEB.format(replicas=3).encode()
    with chdir(tmp_path):
        # The stale copy on disk (2 replicas) must not count: with it, the PDB would fail.
        assert run(capsys, "--context", ".", "--stdin-filename", "web.yaml", "-", stdin=fixed)[0] == 0
        assert run(capsys, "--context", ".", "--stdin-filename", "./web.yaml", "-", stdin=fixed)[0] == 0
        code, out, _ = run(capsys, "-f", "json", "--stdin-filename", "web.yaml", "-", ".", stdin=fixed)
        assert code == 0
        assert json.loads(out)["summary"]["files_analysed"] == 2  # web.yaml once, from stdin
        broken = WEB.format(replicas=2).encode()
        write(tmp_path, {"web.yaml": WEB.format(replicas=5)})
        code, out, _ = run(capsys, "--context", ".", "--stdin-filename", "web.yaml", "-", stdin=broken)
        assert code == 1 and "web-pdb.yaml:7:3: EKS401" in out


# -- 4. config discovery from the linted path -------------------------------------------------


def test_config_is_found_from_the_linted_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EKSLINT_NO_CACHE", raising=False)
    write(tmp_path / "proj", {".ekslint.yaml": "ignore: [EKS402]\n", "a.yaml": TOLERANT.format(n=1)})
    with chdir(tmp_path):
        assert run(capsys, "proj") == (0, "No problems found in 1 file.\n", "")
        assert run(capsys, "proj/a.yaml")[0] == 0
        assert run(capsys, "--isolated", "--no-cache", "proj")[0] == 0  # EKS402 is a warning
        assert run(capsys, "--isolated", "--no-cache", "--fail-on", "warning", "proj")[0] == 1
    with chdir(tmp_path / "proj"):
        assert run(capsys, ".") == (0, "No problems found in 1 file.\n", "")
    # The cache sits beside the config, never in the directory ekslint was started from.
    assert (tmp_path / "proj" / ".ekslint_cache").is_dir()
    assert not (tmp_path / ".ekslint_cache").exists()


def test_stdin_finds_the_config_of_its_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path / "proj", {"pyproject.toml": "[tool.ekslint]\nignore = ['EKS402']\n"})
    with chdir(tmp_path):
        args = ("--fail-on", "warning", "--stdin-filename", "proj/a.yaml", "-")
        assert run(capsys, *args, stdin=TOLERANT.format(n=1).encode())[0] == 0


def test_paths_under_different_configs_are_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path / "one", {".ekslint.yaml": "ignore: [EKS402]\n", "a.yaml": TOLERANT.format(n=1)})
    write(tmp_path / "two", {".ekslint.yaml": "ignore: [EKS101]\n", "b.yaml": TOLERANT.format(n=2)})
    with chdir(tmp_path):
        code, out, err = run(capsys, "one", "two")
        assert (code, out) == (2, "")
        assert err.startswith(
            "ekslint: error: the paths given fall under different configs (one uses one/.ekslint.yaml"
        )
        assert run(capsys, "--config", "one/.ekslint.yaml", "one", "two")[0] == 0


# -- 5. outputs -----------------------------------------------------------------------------


def test_output_creates_folders_and_says_so_on_stderr(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": TOLERANT.format(n=1)})
    with chdir(tmp_path):
        code, out, err = run(capsys, "-f", "json", "-o", "out/sub/r.json", "a.yaml")
        assert (code, out) == (0, "")
        assert err == "ekslint: Found 1 problem (1 warning) in 1 file; json report written to out/sub/r.json\n"
        assert json.loads(Path("out/sub/r.json").read_text())["summary"]["warning"] == 1


def test_several_outputs_in_one_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": TOLERANT.format(n=1)})
    with chdir(tmp_path):
        args = ["-f", "text", "-o", "-", "--output-format", "sarif=out/a.sarif", "--output-format", "gitlab=gl.json"]
        code, out, err = run(capsys, *args, "a.yaml")
        assert code == 0
        assert out.startswith("a.yaml:9:11: EKS402 [warning]") and out.endswith(
            "Found 1 problem (1 warning) in 1 file.\n"
        )
        assert "\x1b[" not in out
        assert json.loads(Path("out/a.sarif").read_text())["runs"][0]["results"][0]["ruleId"] == "EKS402"
        assert json.loads(Path("gl.json").read_text())[0]["check_name"] == "EKS402"
        assert err.count("report written to") == 2
        # One stdout, a known format, one report per file.
        assert run(capsys, "--output-format", "json=-", "a.yaml")[::2] == (
            2,
            "ekslint: error: more than one report on stdout; give all but one of them a file (-o FILE, FORMAT=FILE)\n",
        )
        assert run(capsys, "--output-format", "yaml=x", "a.yaml")[0] == 2
        with pytest.raises(SystemExit, match="2"):  # argparse: not FORMAT=FILE
            cli.main(["--output-format", "sarif", "a.yaml"])
        assert run(capsys, "-o", "x.json", "--output-format", "sarif=./x.json", "a.yaml")[0] == 2


def test_reports_replace_a_symlink_and_never_write_through_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, {"a.yaml": TOLERANT.format(n=1), "precious.txt": "keep me\n"})
    (tmp_path / "r.json").symlink_to(tmp_path / "precious.txt")
    (tmp_path / "baseline.json").symlink_to(tmp_path / "precious.txt")
    with chdir(tmp_path):
        run(capsys, "-f", "json", "-o", "r.json", "a.yaml")
        run(capsys, "--write-baseline", "baseline.json", "a.yaml")
    assert (tmp_path / "precious.txt").read_text() == "keep me\n"
    assert not (tmp_path / "r.json").is_symlink() and json.loads((tmp_path / "r.json").read_text())["findings"]
    assert not (tmp_path / "baseline.json").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "baseline.json", "precious.txt", "r.json"]


def test_an_interrupted_write_leaves_the_old_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.json"
    target.write_text("old\n")

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_atomically(str(target), "new, long report\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary left behind


def test_ctrl_c_while_linting_writes_no_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.yaml": TOLERANT.format(n=1)})

    def interrupted(*_args: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(cli, "_lint", interrupted)
    with chdir(tmp_path):
        assert run(capsys, "-o", "r.txt", "--output-format", "sarif=r.sarif", "a.yaml") == (
            2,
            "",
            "ekslint: interrupted\n",
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml"]


def test_writing_to_dev_null_does_not_replace_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": TOLERANT.format(n=1)})
    with chdir(tmp_path):
        assert run(capsys, "-o", os.devnull, "a.yaml")[0] == 0
    assert Path(os.devnull).is_char_device()


def test_github_annotations_stay_within_githubs_limit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {f"t{n:02}.yaml": TOLERANT.format(n=n) for n in range(13)})
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    with chdir(tmp_path):
        code, out, err = run(capsys, "-f", "github", ".")
    assert code == 0
    lines = out.splitlines()
    assert sum(line.startswith("::warning file=") for line in lines) == 10
    assert lines[-1] == (
        "::notice title=ekslint::3 more findings are not annotated (3 warnings): GitHub shows 10 annotations "
        "of each kind per step; see the job summary"
    )
    assert "3 more findings are not annotated" in err
    text = summary.read_text()
    assert text.startswith("earlier step\n## ekslint\n\nFound 13 problems (13 warnings) in 13 files.")
    assert "| EKS402 | `tolerates-all-taints` | warning | 13 |" in text
    assert text.count("| warning | `t") == 13


def test_junit_names_are_stable_and_warnings_fail_only_at_fail_on(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, {"a.yaml": TOLERANT.format(n=1)})
    with chdir(tmp_path):
        _, default, _ = run(capsys, "-f", "junit", "a.yaml")
        write(tmp_path, {"a.yaml": "# moved down\n\n" + TOLERANT.format(n=1)})
        _, strict, _ = run(capsys, "-f", "junit", "--fail-on", "warning", "a.yaml")
    before, after = ET.fromstring(default), ET.fromstring(strict)
    assert before.get("failures") == "0" and before.find(".//testcase/system-out") is not None
    assert after.get("failures") == "1" and after.find(".//testcase/failure") is not None
    names = [root.find(".//testcase").get("name") for root in (before, after)]  # type: ignore[union-attr]
    assert names[0] == names[1] == "EKS402 tolerates-all-taints at Deployment/t1.spec.template.spec.tolerations[0]"


def test_gitlab_code_quality(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"deploy/a.yaml": TOLERANT.format(n=1), "deploy/b.yaml": TOLERANT.format(n=2)})
    monkeypatch.setenv("CI_PROJECT_DIR", str(tmp_path))
    with chdir(tmp_path / "deploy"):
        code, out, _ = run(capsys, "-f", "gitlab", ".")
    issues = json.loads(out)
    assert code == 0 and len(issues) == 2
    assert issues[0]["location"] == {"path": "deploy/a.yaml", "lines": {"begin": 9, "end": 9}}
    assert issues[0]["severity"] == "minor" and issues[0]["check_name"] == "EKS402"
    assert len({i["fingerprint"] for i in issues}) == 2


def test_baselined_and_suppressed_findings_are_counted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    suppressed = TOLERANT.format(n=2).replace(
        "        - operator", "        # ekslint: disable=EKS402\n        - operator"
    )
    write(tmp_path, {"a.yaml": TOLERANT.format(n=1), "b.yaml": suppressed})
    with chdir(tmp_path):
        assert run(capsys, "--write-baseline", "base.json", "a.yaml", "b.yaml")[0] == 0
        write(tmp_path, {"c.yaml": TOLERANT.format(n=3)})
        code, out, _ = run(capsys, "--baseline", "base.json", "a.yaml", "b.yaml", "c.yaml")
        assert code == 0
        assert out.splitlines()[-1] == "Found 1 problem (1 warning) in 3 files (1 suppressed; 1 baselined)."
        _, out, _ = run(capsys, "-f", "json", "--baseline", "base.json", "a.yaml", "b.yaml", "c.yaml")
    assert json.loads(out)["summary"]["baselined"] == 1 and json.loads(out)["summary"]["suppressed"] == 1


def test_list_rules_honours_the_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--list-rules", "--format", "sarif")
    run_ = json.loads(out)["runs"][0]
    assert code == 0 and run_["results"] == []
    assert "EKS401" in [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert run(capsys, "--list-rules", "--format", "junit") == (
        2,
        "",
        "ekslint: error: --list-rules writes text, json or sarif, not 'junit'\n",
    )
