"""Project.candidates narrows node groups through a label index, and the sysctl
questions (permitting, allowing, reaches_permitting) decide safety once per version
and judge classes of groups instead of each group; they must answer exactly what
trying every group answers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ekslint.model import sysctls
from ekslint.model.context import ModelContext
from ekslint.model.facts import FileFacts
from ekslint.model.kubernetes import PodSpec
from ekslint.model.nodegroup import Allowance, NodeGroup, Origin
from ekslint.model.project import Project
from ekslint.model.scheduling import Match, NodeRequirements, Requirement, Taint, Toleration
from ekslint.parse.text import Span

KEYS = st.sampled_from(["team", "workload", "kubernetes.io/arch", "topology.kubernetes.io/zone", "disk"])
VALUES = st.sampled_from(["a", "b", "c"])
LABELS = st.dictionaries(KEYS, VALUES, max_size=3)
TAINTS = st.lists(st.builds(Taint, st.sampled_from(["dedicated", "gpu"]), VALUES, st.just("NoSchedule")), max_size=1)
REQUIREMENT = st.builds(
    Requirement,
    KEYS,
    st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
    st.lists(VALUES, max_size=2).map(tuple),
)
SCHEDULING = st.builds(
    NodeRequirements,
    node_selector=LABELS,
    affinity_terms=st.none() | st.lists(st.lists(REQUIREMENT, min_size=1, max_size=2), min_size=1, max_size=2),
    tolerations=st.lists(
        st.builds(Toleration, st.sampled_from(["dedicated", ""]), st.just("Exists"), st.just(""), st.just("")),
        max_size=1,
    ),
)


SYSCTLS = ["net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_rmem", "net.core.somaxconn", "kernel.msgmax"]
SYSCTL_GROUPS = st.lists(
    st.tuples(
        LABELS,
        st.booleans(),
        TAINTS,
        st.sampled_from([None, "AmazonLinux2023", "WindowsServer2022CoreContainer"]),
        st.none() | st.sampled_from([(1, 28), (1, 29), (1, 32)]),
        st.lists(st.sampled_from(["net.ipv4.tcp_*", "net.core.somaxconn", "kernel.msg*"]), max_size=2),
        st.sampled_from([False, False, True]),  # allowances ekslint cannot read
    ),
    max_size=8,
)


def group(index: int, labels: dict[str, str], complete: bool, taints: list[Taint]) -> NodeGroup:
    span = Span("cluster.yaml", index + 1, 1, index + 1, 2)
    return NodeGroup(
        f"ng-{index}",
        Origin.EKSCTL_MANAGED,
        span,
        "cluster.yaml",
        labels=labels,
        labels_complete=complete,
        taints=taints,
    )


def sysctl_group(
    index: int,
    spec: tuple[dict[str, str], bool, list[Taint], str | None, tuple[int, int] | None, list[str], bool],
) -> NodeGroup:
    labels, complete, taints, family, version, patterns, unknown = spec
    built = group(index, labels, complete, taints)
    built.ami_family = family
    built.kubernetes_version = version
    built.allowances = [Allowance(p, built.span, "allowedUnsafeSysctls") for p in patterns]
    built.allowances_unknown = built.span if unknown else None
    return built


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    groups=st.lists(st.tuples(LABELS, st.booleans(), TAINTS), max_size=8),
    pods=st.lists(SCHEDULING, min_size=1, max_size=4),
)
def test_indexed_candidates_equal_trying_every_group(
    groups: list[tuple[dict[str, str], bool, list[Taint]]], pods: list[NodeRequirements]
) -> None:
    built = [group(i, labels, complete, taints) for i, (labels, complete, taints) in enumerate(groups)]
    project = Project([FileFacts("cluster.yaml", node_groups=built)], ModelContext())
    for scheduling in pods:
        expected = [
            (g.name, g.accepts(scheduling)[0] is Match.YES) for g in built if g.accepts(scheduling)[0] is not Match.NO
        ]
        found = [(c.group.name, c.certain) for c in project.candidates(PodSpec(scheduling=scheduling))]
        assert found == expected


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    groups=SYSCTL_GROUPS,
    default=st.none() | st.sampled_from([(1, 28), (1, 32)]),
    pods=st.lists(SCHEDULING, min_size=1, max_size=3),
)
def test_sysctl_questions_equal_trying_every_group(
    groups: list[tuple[dict[str, str], bool, list[Taint], str | None, tuple[int, int] | None, list[str], bool]],
    default: tuple[int, int] | None,
    pods: list[NodeRequirements],
) -> None:
    built = [sysctl_group(i, spec) for i, spec in enumerate(groups)]
    project = Project([FileFacts("cluster.yaml", node_groups=built)], ModelContext(kubernetes_version=default))
    assert project.linux_versions() == [None if g.windows else project.version_of(g) for g in built]
    for name in SYSCTLS:
        permitting = [
            g
            for g in built
            if not g.windows
            and (
                sysctls.is_safe(name, project.version_of(g))
                or g.allowance_for(name) is not None
                or g.allowances_unknown is not None
            )
        ]
        assert [g.name for g in project.permitting(name)] == [g.name for g in permitting]
        allowing = [g.name for g in permitting if g.allowance_for(name) is not None]
        assert [g.name for g in project.allowing(name)] == allowing
        for scheduling in pods:
            reaches = any(g.accepts(scheduling)[0] is not Match.NO for g in permitting)
            assert project.reaches_permitting(scheduling, name) == reaches


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    groups=st.lists(st.tuples(LABELS, st.booleans(), TAINTS), max_size=8),
    pods=st.lists(SCHEDULING, min_size=1, max_size=4),
)
def test_landing_classes_answer_alike(
    groups: list[tuple[dict[str, str], bool, list[Taint]]], pods: list[NodeRequirements]
) -> None:
    """Each group a pod can land on is in exactly one landing class, every member
    of a class answers as the class does, and no other group takes the pod."""
    built = [group(i, labels, complete, taints) for i, (labels, complete, taints) in enumerate(groups)]
    project = Project([FileFacts("cluster.yaml", node_groups=built)], ModelContext())
    for scheduling in pods:
        landed: list[int] = []
        for placement, match in project.landing(scheduling):
            assert placement.members == sorted(placement.members)
            assert all(built[p].accepts(scheduling)[0] is match for p in placement.members)
            landed.extend(placement.members)
        expected = [i for i, g in enumerate(built) if g.accepts(scheduling)[0] is not Match.NO]
        assert sorted(landed) == expected
