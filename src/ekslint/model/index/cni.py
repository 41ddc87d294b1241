"""The VPC CNI settings each node group's nodes run with, and so their pod capacity."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ekslint.model import cni as cni_model
from ekslint.model.capacity import InstanceTable
from ekslint.model.nodegroup import NodeGroup
from ekslint.model.podcapacity import GroupCapacity, assess


class CniIndex:
    """CNI settings by cluster, from the clusters' vpc-cni addons, aws-node DaemonSets
    and the ekslint config (``configured``)."""

    def __init__(self, settings: Sequence[cni_model.CniSettings], configured: cni_model.CniSettings | None) -> None:
        self._settings = settings
        self._configured = configured
        self._capacities: dict[int, tuple[InstanceTable, GroupCapacity | None]] = {}
        self._cni_resolved: dict[tuple[str, str] | None, cni_model.CniSettings] = {}
        self._cni_clusters: dict[tuple[str | None, str | None], list[cni_model.CniSettings]] | None = None

    def capacity_of(self, group: NodeGroup, table: InstanceTable) -> GroupCapacity | None:
        """``podcapacity.assess`` of the group with its cluster's CNI settings, worked
        out once for the four capacity rules that each ask for every group."""
        known = self._capacities.get(id(group))
        if known is None or known[0] is not table:  # the table kept: its id stays unique
            known = self._capacities[id(group)] = (table, assess(group, self.cni_for(group), table))
        return known[1]

    def cni_for(self, group: NodeGroup) -> cni_model.CniSettings:
        """The VPC CNI settings a node group's nodes run with: its own cluster's vpc-cni
        addon, then aws-node DaemonSets, then other clusters' addons (for groups no
        ClusterConfig owns), then the ekslint config. Resolved once per cluster: the
        capacity rules ask for every node group."""
        key = None if group.cluster is None else (group.cluster.file, group.cluster.name)
        resolved = self._cni_resolved.get(key)
        if resolved is None:
            found = self._settings
            if key is None:
                own = []
                others = [s for s in found if s.cluster_file is not None]
            else:
                own = list(self._cni_by_cluster().get(key, []))
                others = []
            daemonsets = [s for s in found if s.cluster_file is None]
            config = [self._configured] if self._configured is not None else []
            resolved = self._cni_resolved[key] = cni_model.resolve(own + daemonsets + others + config)
        return resolved

    def _cni_by_cluster(self) -> dict[tuple[str | None, str | None], list[cni_model.CniSettings]]:
        if self._cni_clusters is None:
            index: dict[tuple[str | None, str | None], list[cni_model.CniSettings]] = defaultdict(list)
            for settings in self._settings:
                if settings.cluster_file is not None:
                    index[(settings.cluster_file, settings.cluster_name)].append(settings)
            self._cni_clusters = index
        return self._cni_clusters
