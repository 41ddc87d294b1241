"""A node group's pod capacity: its instance types looked up in the instance table and
run through the max-pods formula with the CNI settings its cluster uses. Shared by
the pod-capacity rules (EKS301-EKS304)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ekslint.model.capacity import (
    Capacity,
    CniVersion,
    InstanceInfo,
    InstanceTable,
    capacity,
    pd_supported,
    windows_capacity,
)
from ekslint.model.cni import CniSettings
from ekslint.model.instancereqs import allows, judgeable
from ekslint.model.nodegroup import InstanceType, NodeGroup, Origin
from ekslint.model.scheduling import Requirement
from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Span


@dataclass(frozen=True, slots=True)
class TypeCapacity:
    instance_type: InstanceType  # as written, with its span
    info: InstanceInfo
    capacity: Capacity


@dataclass(slots=True)
class GroupCapacity:
    group: NodeGroup
    cni: CniSettings
    known: list[TypeCapacity] = field(default_factory=list)
    unknown: list[InstanceType] = field(default_factory=list)
    # A Karpenter pool's types are written nowhere: they point at the pool. Its known
    # types are shared by the pools with the same requirements (``_pool_capacity``),
    # with the smallest and lowest-recommendation types worked out once.
    pool_span: Span | None = None
    _smallest: TypeCapacity | None = None
    _lowest: TypeCapacity | None = None

    def where(self, entry: TypeCapacity) -> Span:
        """Where an instance type of the group is written (a pool's types: the pool)."""
        return self.pool_span if self.pool_span is not None else entry.instance_type.span

    @property
    def prefix_delegation(self) -> bool:
        """Prefix delegation is on for this group's nodes and the CNI version supports it
        (version unknown: assume so); whether each instance type does is the capacity's
        (``TypeCapacity.capacity.prefix_delegation``). Windows: the resource
        controller's ConfigMap decides."""
        if self.group.windows:
            return self.cni.windows_prefixes
        fact = self.cni.prefix_delegation
        if fact is None or not fact.value:
            return False
        return self.cni.version is None or pd_supported(self.cni.version.value)

    @property
    def ipv6(self) -> bool:
        """The group's pods get IPv6 addresses: the VPC CNI gives each node a /80 prefix,
        so ENIs do not bound its pods (Linux only: EKS runs no Windows IPv6 nodes)."""
        return not self.group.windows and self.cni.ipv6 is not None and self.cni.ipv6.value

    def smallest(self) -> TypeCapacity | None:
        """With several instance types the smallest capacity decides: a node of that
        type can join the group. None when no known type bounds the pod IPs (IPv6)."""
        if self.ipv6:
            return None
        if self._smallest is not None:
            return self._smallest
        return min(self.known, key=lambda t: t.capacity.max_pods, default=None)

    def lowest_recommendation(self) -> TypeCapacity | None:
        """The type with the lowest recommended cap (110 unless > 30 vCPUs)."""
        if self._lowest is not None:
            return self._lowest
        return min(self.known, key=lambda t: t.info.recommended_cap, default=None)

    @property
    def eks_capped(self) -> bool:
        """EKS enforces the 110/250 cap on managed node groups without a custom AMI
        (DOMAIN.md §1.4)."""
        managed = self.group.origin is Origin.EKSCTL_MANAGED or self.group.eks_managed
        return managed and not self.group.custom_ami


def assess(group: NodeGroup, cni: CniSettings, table: InstanceTable) -> GroupCapacity | None:
    """None when the group's instance types are not fixed (instanceSelector, or a
    Karpenter NodePool's requirements that ekslint cannot judge from its table)."""
    if group.instance_selector:
        return None
    result = GroupCapacity(group, cni)
    max_eni = cni.max_eni.value if cni.max_eni is not None else None
    custom = cni.custom_networking is not None and cni.custom_networking.value
    version = cni.version.value if cni.version is not None else None
    types = group.instance_types
    requirements = group.instance_requirements
    if requirements is not None:
        # A NodePool: the types its requirements allow, among those written (an
        # instance-type In list) or else every type ekslint knows.
        if not judgeable(requirements):
            return None
        if types:
            types = [t for t in types if (info := table.get(t.name.strip())) is None or allows(requirements, info)]
        else:
            return _pool_capacity(result, requirements, table, (custom, max_eni, version))
    for written in types:
        name = written.name.strip()
        if not name or is_placeholder(name):  # templated: not a type name to check
            continue
        info = table.get(name)
        if info is None:
            result.unknown.append(written)
            continue
        if group.windows:
            # Windows uses the primary ENI only, whatever the Linux CNI settings say.
            result.known.append(TypeCapacity(written, info, windows_capacity(info, result.prefix_delegation)))
        else:
            found = capacity(info, result.prefix_delegation, custom, max_eni, version)
            result.known.append(TypeCapacity(written, info, found))
    return result


# Pools share a few sets of requirements, and each set allows hundreds of types: their
# capacities are worked out once per (requirements, CNI settings, Windows, table), so a
# thousand pools cost one pass over the table per distinct set, not one each.
_POOL_CAPACITIES: dict[tuple[object, ...], tuple[InstanceTable, list[TypeCapacity]]] = {}


def _pool_capacity(
    result: GroupCapacity,
    requirements: tuple[Requirement, ...],
    table: InstanceTable,
    cni: tuple[bool, int | None, CniVersion | None],
) -> GroupCapacity:
    group = result.group
    pd = result.prefix_delegation
    key = (requirements, pd, group.windows, cni, id(table))
    known = _POOL_CAPACITIES.get(key)
    if known is None or known[0] is not table:
        custom, max_eni, version = cni
        found = []
        for info in table.types.values():
            if not allows(requirements, info):
                continue
            written = InstanceType(info.name, group.span)  # rules read the pool's span (GroupCapacity.where)
            if group.windows:
                found.append(TypeCapacity(written, info, windows_capacity(info, pd)))
            else:
                found.append(TypeCapacity(written, info, capacity(info, pd, custom, max_eni, version)))
        # Smallest capacity first: messages name the types that decide.
        found.sort(key=lambda t: (t.capacity.max_pods, t.info.name))
        if len(_POOL_CAPACITIES) > 256:
            _POOL_CAPACITIES.clear()
        known = _POOL_CAPACITIES[key] = (table, found)
    result.known = known[1]  # shared: do not modify
    result.pool_span = group.span
    result._smallest = result.known[0] if result.known else None
    result._lowest = min(result.known, key=lambda t: t.info.recommended_cap, default=None)
    return result
