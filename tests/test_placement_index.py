"""Project.candidates narrows node groups through a label index; it must find
exactly the groups that trying every group finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ekslint.model.context import ModelContext
from ekslint.model.kubernetes import PodSpec
from ekslint.model.nodegroup import NodeGroup, Origin
from ekslint.model.project import FileFacts, Project
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
