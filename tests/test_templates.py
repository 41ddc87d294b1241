"""One definition of a template placeholder, shared by the parser (is a YAML error a
template?), the model (instance types) and the rules (NodeConfig values)."""

from __future__ import annotations

import pytest

from ekslint.parse.templates import has_template_blocks, is_placeholder


@pytest.mark.parametrize(
    "value",
    [
        "${cluster_name}",  # Terraform / envsubst
        "https://${endpoint}",
        "$INSTANCE_TYPE",  # envsubst, shell
        "$(aws eks describe-cluster --query cluster.endpoint)",
        "{{ .Values.instanceType }}",  # Helm / Go
        "{% if x %}",  # Jinja
        "%{ if enable }",  # Terraform directive
        "<%= ca %>",  # ERB
        "%s",  # printf
        "<cluster-name>",  # documentation's value to fill in
    ],
)
def test_placeholders_are_recognised(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    [
        "m5.large",
        "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
        "10.100.0.0/16",
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
        "max_pods < 110 ? max_pods : 110",
        "100%",  # a PDB budget, not a printf verb
        "a <b> c",  # angle brackets inside a value
        "cost: 5$",
    ],
)
def test_real_values_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def test_template_blocks_make_a_file_a_template() -> None:
    assert has_template_blocks("replicas: {{ .Values.replicas }}\n")
    assert has_template_blocks("%{ for k, v in labels ~}\n")
    assert not has_template_blocks("image: ${IMAGE}\n")  # a placeholder inside valid YAML
