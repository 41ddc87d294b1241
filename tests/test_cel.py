"""maxPodsExpression compiled and evaluated as nodeadm does (amazon-eks-ami
nodeadm/internal/kubelet/eni_max_pods.go): cel-python parses and evaluates, ekslint
adds what cel-go's checker refuses (names, overloads in every branch)."""

from __future__ import annotations

import pickle

import pytest

from ekslint.parse import cel

VALID = [
    "((default_enis -1) * (ips_per_eni - 1)) + 2",  # nodeadm e2e custom-networking
    "max_pods + 2",
    "417",
    "max_pods < 30 ? max_pods : 30",
    "int(double(max_pods) * 0.9)",
    "0x10 + size('ab')",
    "max_pods > 110 ? 110 : max_pods // a comment",
    "[1, 2,].size() + {1: 2}[1]",  # cel-go allows trailing commas
    "[1, 2].map(x, x * max_pods)[1]",  # a macro's variable is declared inside it
    "string(max_pods)",  # converts: cel-go ConvertToType(IntType) parses strings
]
INVALID = [
    ("default_enis + fake_variable", "undeclared reference to 'fake_variable'", 15),  # nodeadm unit test
    ("vcpus * 10", "undeclared reference to 'vcpus'", 0),  # not one of nodeadm's three variables
    ("max_pods * 0.9", "'_*_' applied to '(int, double)'", 9),
    ("max_pods > 1000 ? max_pods * 0.9 : max_pods", "'_*_' applied to '(int, double)'", 27),  # an untaken branch
    ("min(max_pods, 110)", "undeclared reference to 'min'", 0),
    ("math.least(max_pods, 110)", "undeclared reference to 'math'", 0),
    ("max_pods.foo()", "undeclared reference to 'foo'", 9),
    ("max_pods +", "ends too early", 9),
    ("(max_pods", "ends too early", 8),
    ("max_pods ? 1 : 2", "condition before '?' is not a bool", 0),
    ("max_pods 2", "syntax error at '2'", 9),
    ("1u + max_pods", "(uint, int)", 3),
    ("!max_pods", "'!_' applied to '(int)'", 1),
    ("max_pods # 2", "syntax error at '#'", 9),
    ("  ", "empty", 0),
]


@pytest.mark.parametrize("expression", VALID)
def test_valid_expressions_compile(expression: str) -> None:
    cel.compile_expression(expression)


@pytest.mark.parametrize(("expression", "message", "offset"), INVALID)
def test_invalid_expressions_are_reported_where_they_fail(expression: str, message: str, offset: int) -> None:
    with pytest.raises(cel.CelError) as err:
        cel.compile_expression(expression)
    assert message in err.value.message
    assert err.value.start == offset


@pytest.mark.parametrize(
    ("expression", "figures", "expected"),
    [
        ("max_pods", (3, 10, 29), 29),
        ("max_pods < 110 ? max_pods : 110", (15, 50, 737), 110),
        ("(default_enis - 1) * (ips_per_eni - 1) + 2", (3, 10, 29), 20),  # custom networking
        ("int(double(max_pods) * 0.9)", (3, 10, 29), 26),  # a double is truncated
        ("string(max_pods + 1)", (3, 10, 29), 30),
    ],
)
def test_evaluation_gives_what_nodeadm_configures(
    expression: str, figures: tuple[int, int, int], expected: int
) -> None:
    assert cel.compile_expression(expression).evaluate(*figures) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("max_pods > 110", "type conversion error from bool"),
        ("max_pods - 100", "max pods value -71"),  # must be positive
        ("max_pods / (default_enis - 3)", "division by zero"),
        ("2147483648", "positive integer less than 2147483647"),
        ("'many'", 'could not interpret result "many"'),
    ],
)
def test_evaluation_failures_are_nodeadms(expression: str, message: str) -> None:
    with pytest.raises(cel.CelError) as err:
        cel.compile_expression(expression).evaluate(3, 10, 29)
    assert message in err.value.message


def test_errors_cross_processes() -> None:
    error = cel.CelError("undeclared reference to 'x'", 1, 2)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.start, copy.end) == (error.message, 1, 2)


def _merged(document: str):  # type: ignore[no-untyped-def]
    from ekslint.model.context import ModelContext
    from ekslint.model.filemodel import build_file_model
    from ekslint.parse.sources import ReadLimits, load_bytes

    source = load_bytes("nodeconfig.yaml", document.encode(), ReadLimits())
    assert source is not None
    model = build_file_model(source, ModelContext())
    merged = model.userdata[0].nodeconfig
    assert merged is not None
    return merged


NODECONFIG = """apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  kubelet:
    maxPodsExpression: "{expression}"
"""


def test_the_model_evaluates_per_instance_type_as_nodeadm() -> None:
    found = _merged(NODECONFIG.format(expression="max_pods < 110 ? max_pods : 110")).max_pods_expression
    assert found is not None and found.error is None
    assert found.evaluate(3, 10, 29) == 29  # m5.large
    assert found.evaluate(15, 50, 737) == 110  # m5.24xlarge
    assert found.effective(15, 50) == 110
    failing = _merged(NODECONFIG.format(expression="max_pods - 100")).max_pods_expression
    assert failing is not None
    assert failing.evaluate(3, 10, 29) is None
    assert "positive integer" in (failing.failure(3, 10, 29) or "")
    assert failing.effective(3, 10) == 29  # nodeadm falls back to the standard value
    assert failing.evaluate(15, 50, 737) == 637
    broken = _merged(NODECONFIG.format(expression="vcpus * 10")).max_pods_expression
    assert broken is not None and broken.error is not None
    assert broken.evaluate(3, 10, 29) is None
    assert broken.effective(3, 10) == 29
    assert pickle.loads(pickle.dumps(broken)).error.message == broken.error.message


def test_an_expression_too_deep_to_evaluate_is_not_judged() -> None:
    deep = "(" * 200 + "max_pods" + ")" * 200
    program = cel.compile_expression(deep)
    assert not program.judged
    with pytest.raises(cel.CelUnknown):
        program.evaluate(3, 10, 29)
    found = _merged(NODECONFIG.format(expression=deep)).max_pods_expression
    assert found is not None and found.error is None
    assert found.evaluate(3, 10, 29) is None and found.failure(3, 10, 29) is None
    assert found.effective(3, 10) is None
