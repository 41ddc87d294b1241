"""The maxPodsExpression checker accepts what nodeadm compiles and reports only certain failures."""

from __future__ import annotations

import pytest

from ekslint.parse import cel

VALID = [
    "((default_enis -1) * (ips_per_eni - 1)) + 2",  # nodeadm e2e custom-networking
    "max_pods + 2",
    "417",
    "max_pods < 30 ? max_pods : 30",
    "(vcpus * 10) < max_pods ? (vcpus * 10) : max_pods",  # newer nodeadm variables
    "(physical_memory_mib / 1024) > 32 ? 110 : max_pods",
    "int(double(max_pods) * 0.9)",
    "0x10 + size('ab')",
    "max_pods > 110 ? 110 : max_pods // a comment",
    "math.least(max_pods, 110)",  # a qualified name: not checked
    "[1, 2,].size() + {1: 2}[1]",
]
INVALID = [
    ("default_enis + fake_variable", "undeclared reference to 'fake_variable'", 15),  # nodeadm unit test
    ("max_pods * 0.9", "'_*_' applied to '(int, double)'", 9),
    ("min(max_pods, 110)", "undeclared reference to 'min'", 0),
    ("max_pods +", "expected a value, found end of expression", 10),
    ("(max_pods", "expected ')'", 9),
    ("max_pods ? 1 : 2", "is int, not bool", 0),
    ("max_pods 2", "found '2'", 9),
    ("1u + max_pods", "(uint, int)", 3),
    ("!max_pods", "'!' applied to int", 0),
    ("if", "reserved word", 0),
    ("max_pods # 2", "unexpected character", 9),
    ("  ", "empty", 0),
]


@pytest.mark.parametrize("expression", VALID)
def test_valid_expressions_pass(expression: str) -> None:
    cel.check(expression)


@pytest.mark.parametrize(("expression", "message", "offset"), INVALID)
def test_invalid_expressions_are_reported_where_they_fail(expression: str, message: str, offset: int) -> None:
    with pytest.raises(cel.CelError) as err:
        cel.check(expression)
    assert message in err.value.message
    assert err.value.start == offset


def test_result_types() -> None:
    assert cel.check("max_pods > 110").type == "bool"
    assert cel.check("-3").literal == -3
    assert cel.check("max_pods < 1 ? 1 : 2.0").type == "dyn"
