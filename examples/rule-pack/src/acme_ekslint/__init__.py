"""ACME's platform policies for Amazon EKS configs, as an ekslint rule pack.

Registered through the ``ekslint`` entry-point group under the name ``ACME``, the
rule-ID prefix this pack owns (see pyproject.toml). ekslint calls the hook below
once per run to learn the pack's rules.
"""

from __future__ import annotations

from acme_ekslint.acme001_node_group_without_team_label import NodeGroupWithoutTeamLabel
from acme_ekslint.acme002_replicated_workload_without_pdb import ReplicatedWorkloadWithoutPdb
from acme_ekslint.acme003_host_network_outside_kube_system import HostNetworkOutsideKubeSystem
from ekslint.plugin import Rule, hookimpl

__version__ = "1.0.0"

RULES: list[type[Rule]] = [NodeGroupWithoutTeamLabel, ReplicatedWorkloadWithoutPdb, HostNetworkOutsideKubeSystem]


@hookimpl
def ekslint_rules() -> list[type[Rule]]:
    return list(RULES)
