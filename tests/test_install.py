"""A plain ``pip install .`` into a fresh virtual environment gives a working ekslint
with every rule, its schemas and ruamel.yaml's C composer (not the pure-Python one)."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("fresh-venv")
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return target


@pytest.mark.slow
def test_fresh_install_lints_the_examples(fresh_venv: Path, tmp_path: Path) -> None:
    ekslint = fresh_venv / "bin" / "ekslint"
    proc = subprocess.run(
        [str(ekslint), "--format", "json", "examples/broken"], cwd=REPO, capture_output=True, check=False
    )
    assert proc.returncode == 1, proc.stderr.decode()
    rules = sorted(f["rule"] for f in json.loads(proc.stdout)["findings"])
    assert rules == ["EKS101", "EKS201", "EKS203", "EKS401", "EKS402"]
    assert subprocess.run([str(ekslint), "examples/clean"], cwd=REPO, capture_output=True, check=False).returncode == 0


@pytest.mark.slow
def test_fresh_install_ships_rules_schemas_and_the_c_composer(fresh_venv: Path) -> None:
    python = fresh_venv / "bin" / "python"
    script = (
        "import json, ekslint, ekslint.rules, ekslint.schemas\n"
        "from ekslint.engine import plugins\n"
        "from ekslint.parse.yamltree import c_composer_available\n"
        "from ekslint.model.capacity import shipped_table\n"
        "registry = plugins.load()\n"
        "print(json.dumps({'file': ekslint.__file__, 'rules': sorted(registry.rules),\n"
        "  'schema': 'properties' in ekslint.schemas.load('config'), 'c': c_composer_available(),\n"
        "  'instance_types': len(shipped_table().types)}))\n"
    )
    proc = subprocess.run([str(python), "-c", script], cwd=fresh_venv, capture_output=True, check=True)
    info = json.loads(proc.stdout)
    assert "site-packages" in info["file"]  # the installed copy, not the checkout
    assert {"EKS001", "EKS004", "EKS101", "EKS201", "EKS203", "EKS401", "EKS402"} <= set(info["rules"])
    assert info["schema"] and info["c"]
    assert info["instance_types"] > 1400  # src/ekslint/data/instance_types.json is package data


def test_this_environment_runs_the_installed_package() -> None:
    import ekslint

    assert Path(ekslint.__file__).resolve().is_relative_to(REPO / "src") or "site-packages" in ekslint.__file__
    assert sys.version_info >= (3, 10)
