"""Static reading of bootstrap.sh invocations: quoting, positions, variables, heredocs."""

from __future__ import annotations

from ekslint.parse.shell import bootstrap_calls, kubelet_flags, parse_script, split_list, split_words

SEED_000 = """#!/bin/bash
set -ex
/etc/eks/bootstrap.sh demo --kubelet-extra-args "--node-labels=alpha.eksctl.io/cluster-name=demo,eks.amazonaws.com/nodegroup=ng-1 --allowed-unsafe-sysctls 'net.ipv4.tcp_keepalive_intvl'"
"""


def flags_of(script: str) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for call in bootstrap_calls(parse_script(script)):
        for flag in kubelet_flags(call.kubelet_args):
            result.setdefault(flag.name, []).append(flag.value.text if flag.value else "")
    return result


def test_seed_000_inner_quotes_and_space_separated_flag() -> None:
    flags = flags_of(SEED_000)
    assert flags["allowed-unsafe-sysctls"] == ["net.ipv4.tcp_keepalive_intvl"]
    assert flags["node-labels"] == ["alpha.eksctl.io/cluster-name=demo,eks.amazonaws.com/nodegroup=ng-1"]


def test_positions_of_a_list_item_inside_nested_quotes() -> None:
    (call,) = bootstrap_calls(parse_script(SEED_000))
    (flag,) = [f for f in kubelet_flags(call.kubelet_args) if f.name == "allowed-unsafe-sysctls"]
    assert flag.value is not None
    (item,) = split_list(flag.value)
    assert SEED_000[item.start : item.end] == "net.ipv4.tcp_keepalive_intvl"


def test_cluster_name_and_options() -> None:
    (call,) = bootstrap_calls(
        parse_script("/etc/eks/bootstrap.sh my-cluster --use-max-pods false --b64-cluster-ca abc\n")
    )
    assert call.cluster_name is not None and call.cluster_name.text == "my-cluster"
    assert {k: v.text for k, v in call.options.items()} == {"--use-max-pods": "false", "--b64-cluster-ca": "abc"}


def test_equals_form_is_positional_as_in_bootstrap_sh() -> None:
    # bootstrap.sh's case statement only knows "--flag value"; "--flag=value" is ignored.
    (call,) = bootstrap_calls(parse_script("/etc/eks/bootstrap.sh c --kubelet-extra-args=--max-pods=20\n"))
    assert "--kubelet-extra-args" not in call.options
    assert [w.text for w in call.positional] == ["c", "--kubelet-extra-args=--max-pods=20"]


def test_line_continuations_and_comments() -> None:
    script = "/etc/eks/bootstrap.sh c \\\n  --kubelet-extra-args '--max-pods=58' # comment --kubelet-extra-args x\n"
    assert flags_of(script) == {"max-pods": ["58"]}


def test_literal_variables_are_substituted_with_positions_at_the_assignment() -> None:
    script = (
        'export KUBELET_EXTRA_ARGS="--max-pods=110 --allowed-unsafe-sysctls=kernel.msg*,net.core.somaxconn"\n'
        '/etc/eks/bootstrap.sh c --use-max-pods false --kubelet-extra-args "$KUBELET_EXTRA_ARGS"\n'
    )
    (call,) = bootstrap_calls(parse_script(script))
    flags = {f.name: f for f in kubelet_flags(call.kubelet_args)}
    assert flags["max-pods"].value is not None and flags["max-pods"].value.text == "110"
    items = split_list(flags["allowed-unsafe-sysctls"].value)  # type: ignore[arg-type]
    assert [i.text for i in items] == ["kernel.msg*", "net.core.somaxconn"]
    assert script[items[1].start : items[1].end] == "net.core.somaxconn"
    assert items[1].start < script.index("\n")  # on the assignment line


def test_unknown_expansions_are_marked() -> None:
    (call,) = bootstrap_calls(
        parse_script('/etc/eks/bootstrap.sh ${cluster_name} --kubelet-extra-args "$(cat /args)"\n')
    )
    assert call.cluster_name is not None and call.cluster_name.unknown
    assert call.options["--kubelet-extra-args"].unknown


def test_heredoc_bodies_are_not_commands() -> None:
    script = "cat <<'EOF' > /etc/motd\nit's /etc/eks/bootstrap.sh \"unbalanced\nEOF\n/etc/eks/bootstrap.sh real\n"
    calls = bootstrap_calls(parse_script(script))
    assert [c.cluster_name.text for c in calls if c.cluster_name] == ["real"]


def test_bootstrap_sh_as_an_argument_is_not_a_call() -> None:
    # eksctl's managed AL2 max-pods script edits bootstrap.sh with sed.
    script = "sed -i 's/KUBELET_EXTRA_ARGS=$2/KUBELET_EXTRA_ARGS=\"$2 --max-pods=20\"/' /etc/eks/bootstrap.sh\n"
    assert bootstrap_calls(parse_script(script)) == []


def test_wrappers_and_redirections() -> None:
    script = (
        "if true; then sudo /etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=9' 2>&1 | tee /var/log/b; fi\n"
    )
    assert flags_of(script) == {"max-pods": ["9"]}


def test_split_words_keeps_offsets() -> None:
    (call,) = bootstrap_calls(parse_script("/etc/eks/bootstrap.sh c --kubelet-extra-args '--a=1  \"--b=x y\"'\n"))
    words = split_words(call.options["--kubelet-extra-args"])
    assert [w.text for w in words] == ["--a=1", "--b=x y"]


def test_never_stalls_on_odd_input() -> None:
    for script in ["'unterminated", '"unterminated $(', "$", "${", "`", "<<", "a >", "\\", "$((1+", "&&||;;"]:
        parse_script(script)


def test_bootstrap_takes_options_from_its_environment() -> None:
    # amazon-eks-ami templates/al2/runtime/bootstrap.sh: KUBELET_EXTRA_ARGS="${KUBELET_EXTRA_ARGS:-}" etc.
    from ekslint.parse.shell import bootstrap_calls, read_script

    script = (
        "export KUBELET_EXTRA_ARGS='--max-pods=20'\n"
        "USE_MAX_PODS=false\n"
        "/etc/eks/bootstrap.sh prod\n"  # exported only
        "sudo /etc/eks/bootstrap.sh prod\n"  # sudo resets the environment
        "sudo -E /etc/eks/bootstrap.sh prod\n"  # unless -E
        "env USE_MAX_PODS=false /etc/eks/bootstrap.sh prod --kubelet-extra-args '--max-pods=30'\n"
        ". /etc/eks/bootstrap.sh prod\n"  # sourced: every variable
    )
    calls = bootstrap_calls(read_script(script).commands)
    seen = [({k: v.text for k, v in c.environment.items()}, [w.text for w in c.kubelet_args]) for c in calls]
    assert seen == [
        ({"--kubelet-extra-args": "--max-pods=20"}, ["--max-pods=20"]),
        ({}, []),
        ({"--kubelet-extra-args": "--max-pods=20"}, ["--max-pods=20"]),
        ({"--kubelet-extra-args": "--max-pods=20", "--use-max-pods": "false"}, ["--max-pods=30"]),
        ({"--kubelet-extra-args": "--max-pods=20", "--use-max-pods": "false"}, ["--max-pods=20"]),
    ]
    assert calls[3].option("--use-max-pods").text == "false"  # type: ignore[union-attr]
