"""nodeadm's ``spec.kubelet.maxPodsExpression``: compiled once, evaluated per instance
type as amazon-eks-ami ``nodeadm/internal/kubelet/eni_max_pods.go`` evaluates it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ekslint.parse import cel
from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Span, Text
from ekslint.parse.yamltree import YScalar


@dataclass(slots=True)
class MaxPodsExpression:
    """``spec.kubelet.maxPodsExpression`` as nodeadm merges it (the last part that sets
    it wins), compiled as nodeadm compiles it (``error`` when it does not). A templated
    value is not compiled.

    nodeadm evaluates it per instance with ``default_enis`` and ``ips_per_eni`` of the
    instance type and ``max_pods``, the standard ``default_enis * (ips_per_eni - 1) + 2``;
    when anything fails it logs a warning and uses the standard value
    (amazon-eks-ami ``nodeadm/internal/kubelet/eni_max_pods.go``)."""

    expression: str
    span: Span  # the value
    source: str
    text: Text  # the value with the positions of its characters
    templated: bool = False
    error: cel.CelError | None = None  # why it does not compile

    @property
    def beyond_limits(self) -> bool:
        """Nested deeper or with a larger literal than cel-go's parser accepts: input no
        consumer reads (an EKS001 problem of the file), not a logic error."""
        return isinstance(self.error, cel.CelLimitExceeded)

    def error_span(self) -> Span:
        """Where the compile error is: inside the value when its characters map one to
        one to the file, else the whole value."""
        if self.error is None or self.text.content != self.expression or self.error.start >= self.error.end:
            return self.span
        return self.text.span_of(self.error.start, self.error.end)

    def evaluate(self, default_enis: int, ips_per_eni: int, max_pods: int) -> int | None:
        """The max pods nodeadm takes from the expression for an instance type with
        these figures; None when nodeadm's evaluation fails (it then uses ``max_pods``)
        or the value is templated."""
        return self.outcome(default_enis, ips_per_eni, max_pods)[0]

    def failure(self, default_enis: int, ips_per_eni: int, max_pods: int) -> str | None:
        """Why nodeadm's evaluation fails for these figures (None when it succeeds)."""
        return self.outcome(default_enis, ips_per_eni, max_pods)[1]

    def effective(self, default_enis: int, ips_per_eni: int) -> int | None:
        """The max pods nodeadm configures on an instance type with these figures: the
        expression's value, or the standard value when it fails (None: templated, or
        too deep for ekslint to evaluate)."""
        if self.templated:
            return None
        standard = standard_max_pods(default_enis, ips_per_eni)
        value, failure = self.outcome(default_enis, ips_per_eni, standard)
        if value is None and failure is None:
            return None  # beyond what ekslint evaluates
        return standard if value is None else value

    def outcome(self, default_enis: int, ips_per_eni: int, max_pods: int) -> tuple[int | None, str | None]:
        if self.templated:
            return None, None
        if self.error is not None:
            return None, f"it does not compile: {self.error.message}"
        return _evaluated(self.expression, default_enis, ips_per_eni, max_pods)


def standard_max_pods(default_enis: int, ips_per_eni: int) -> int:
    """nodeadm's max pods without an expression (``calculateStandardMaxPods``)."""
    return default_enis * (ips_per_eni - 1) + 2


@lru_cache(maxsize=64)
def _compiled(expression: str) -> cel.Program | cel.CelError:
    try:
        return cel.compile_expression(expression)
    except cel.CelError as err:
        return err


@lru_cache(maxsize=4096)
def _evaluated(expression: str, default_enis: int, ips_per_eni: int, max_pods: int) -> tuple[int | None, str | None]:
    program = _compiled(expression)
    if isinstance(program, cel.CelError):
        return None, f"it does not compile: {program.message}"
    try:
        return program.evaluate(default_enis, ips_per_eni, max_pods), None
    except cel.CelUnknown:
        return None, None
    except cel.CelError as err:
        return None, err.message


def max_pods_expression(scalar: YScalar, source: str) -> MaxPodsExpression:
    found = MaxPodsExpression(scalar.text, scalar.span, source, scalar.as_text(), is_placeholder(scalar.text))
    if not found.templated:
        compiled = _compiled(found.expression)
        if isinstance(compiled, cel.CelError):
            found.error = compiled
    return found
