"""Property-based fuzzing in CI: mutated fixtures and generated userdata through every
parser and every rule (fuzz/harness.py). The property: no exception escapes, no rule
crashes (EKS004), and every finding points inside its file.

Profiles: "ci" (default: few examples, derandomized, no example database, so a run is
reproducible and fast) and "long" (HYPOTHESIS_PROFILE=long) for a deeper local run.
fuzz/fuzz_lint.py drives the same harness with atheris for hours.
"""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz import harness, hostile, mutate

settings.register_profile(
    "ci",
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("long", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SEEDS = mutate.seeds()
CASES = sorted(SEEDS)
FLAT = [data for files in SEEDS.values() for data in files.values()]


def test_there_are_seeds() -> None:
    assert len(CASES) > 100 and all(SEEDS[c] for c in CASES)


@given(case=st.sampled_from(CASES), rnd=st.randoms(use_true_random=False))
def test_byte_mutations_of_fixtures(case: str, rnd: random.Random) -> None:
    files = dict(SEEDS[case])
    target = rnd.choice(sorted(files))
    files[target] = mutate.mutate_bytes(files[target], rnd)
    harness.check_files(files)


@given(case=st.sampled_from(CASES), rnd=st.randoms(use_true_random=False))
def test_yaml_structure_mutations_of_fixtures(case: str, rnd: random.Random) -> None:
    files = dict(SEEDS[case])
    target = rnd.choice(sorted(files))
    mutated = mutate.mutate_yaml(files[target], rnd)
    if mutated is None:
        mutated = mutate.mutate_bytes(files[target], rnd)
    files[target] = mutated
    harness.check_files(files)


@given(rnd=st.randoms(use_true_random=False))
def test_random_mime_userdata(rnd: random.Random) -> None:
    harness.check_bytes("userdata.mime", mutate.random_mime(rnd))


@given(rnd=st.randoms(use_true_random=False))
def test_random_bootstrap_scripts(rnd: random.Random) -> None:
    harness.check_bytes("bootstrap.sh", mutate.random_script(rnd).encode())


@given(rnd=st.randoms(use_true_random=False))
def test_random_bottlerocket_toml(rnd: random.Random) -> None:
    harness.check_bytes("settings.toml", mutate.random_toml(rnd))


@pytest.mark.parametrize("generator", hostile.GENERATORS, ids=lambda g: g.__name__)
@settings(max_examples=25)
@given(rnd=st.randoms(use_true_random=False))
def test_hostile_classes(generator: object, rnd: random.Random) -> None:
    """Issue 15's classes, with hostile file names: no crash, findings in the file, and
    reports (text, github, junit, json) with nothing unsafe and well formed."""
    assert callable(generator)
    harness.check_bytes(hostile.random_name(rnd), generator(rnd), reports=True)


@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes(data: bytes) -> None:
    harness.check_bytes("input", data)


@given(
    value=st.one_of(
        st.none(),
        st.integers(),
        st.floats(allow_nan=True),
        st.text(max_size=20),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    ),
    case=st.sampled_from([c for c in CASES if any(n.endswith(".yaml") for n in SEEDS[c])]),
    rnd=st.randoms(use_true_random=False),
)
def test_any_value_anywhere(value: object, case: str, rnd: random.Random) -> None:
    """A value of any type at a random place of a manifest or eksctl config."""
    mutate.ODD_VALUES.append(value)
    try:
        files = dict(SEEDS[case])
        target = rnd.choice(sorted(n for n in files if n.endswith(".yaml")))
        mutated = mutate.mutate_yaml(files[target], rnd)
        if mutated is not None:
            files[target] = mutated
            harness.check_files(files)
    finally:
        mutate.ODD_VALUES.pop()


@pytest.mark.parametrize(
    "data",
    [
        # A lone CR is a line break to YAML: positions were past the last LF line (atheris).
        b'{\n  "kind": "KubeletConfiguration",\n  "x": "a\r\r\r\rb",\n  "maxPods": 7kind": "x"\n}\n',
        b"apiVersion: v1\rkind: ConfigMap\rmetadata: {name: [x\r",
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "a\u2028b"}\n\u2028data: [\n'.encode(),
    ],
)
def test_found_by_fuzzing(data: bytes) -> None:
    result = harness.check_bytes("input", data)
    assert [f.rule_id for f in result.findings] == ["EKS001"]


# -- the cheap pre-checks say exactly what the patterns they stand for say ---------------------


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789_eE+-xXabcfABCF.nNiI:{}$%#` \n", max_size=60))
def test_the_number_precheck_agrees_with_its_pattern(content: str) -> None:
    from ekslint.parse import numbers

    assert numbers.may_hold_bad_numbers(content) == (numbers._SUSPECT.search(content) is not None)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="${}%#: sdvq\nab", max_size=40))
def test_the_template_precheck_agrees_with_its_pattern(content: str) -> None:
    from ekslint.parse import templates

    assert templates.may_be_template(content) == (templates._OPENERS.search(content) is not None)
