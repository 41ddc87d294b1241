"""Kubernetes API versions that later Kubernetes versions no longer serve (EKS003).

Source: the Kubernetes "Deprecated API Migration Guide"
(https://kubernetes.io/docs/reference/using-api/deprecation-guide/), one row per kind
and removed group/version: the minor in which the API server stops serving it and the
version to migrate to. Objects of these apiVersions are recorded per file (kind,
apiVersion, where) so that the cross-file stage can judge them by the cluster's
version, which may be set in another file.
"""

from __future__ import annotations

from dataclasses import dataclass

from ekslint.fastpickle import fast_pickle
from ekslint.parse.objects import object_name
from ekslint.parse.text import Problem, Span
from ekslint.parse.yamltree import YMap

_WORKLOADS_116 = {
    "Deployment": ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"),
    "DaemonSet": ("extensions/v1beta1", "apps/v1beta2"),
    "ReplicaSet": ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"),
    "StatefulSet": ("apps/v1beta1", "apps/v1beta2"),
}

# (kind, apiVersion) -> (removed in, replacement apiVersion or None when the API is gone).
# flowcontrol's GA v1 is served from 1.29; before that the replacement is v1beta3.
FLOWCONTROL = "flowcontrol.apiserver.k8s.io/v1"
REMOVED: dict[tuple[str, str], tuple[tuple[int, int], str | None]] = {
    # v1.16
    ("NetworkPolicy", "extensions/v1beta1"): ((1, 16), "networking.k8s.io/v1"),
    # policy/v1beta1 replaced it in 1.16 and was itself removed in 1.25 (Pod Security Admission).
    ("PodSecurityPolicy", "extensions/v1beta1"): ((1, 16), None),
    **{(kind, old): ((1, 16), "apps/v1") for kind, olds in _WORKLOADS_116.items() for old in olds},
    # v1.22
    ("MutatingWebhookConfiguration", "admissionregistration.k8s.io/v1beta1"): (
        (1, 22),
        "admissionregistration.k8s.io/v1",
    ),
    ("ValidatingWebhookConfiguration", "admissionregistration.k8s.io/v1beta1"): (
        (1, 22),
        "admissionregistration.k8s.io/v1",
    ),
    ("CustomResourceDefinition", "apiextensions.k8s.io/v1beta1"): ((1, 22), "apiextensions.k8s.io/v1"),
    ("APIService", "apiregistration.k8s.io/v1beta1"): ((1, 22), "apiregistration.k8s.io/v1"),
    ("TokenReview", "authentication.k8s.io/v1beta1"): ((1, 22), "authentication.k8s.io/v1"),
    ("SubjectAccessReview", "authorization.k8s.io/v1beta1"): ((1, 22), "authorization.k8s.io/v1"),
    ("LocalSubjectAccessReview", "authorization.k8s.io/v1beta1"): ((1, 22), "authorization.k8s.io/v1"),
    ("SelfSubjectAccessReview", "authorization.k8s.io/v1beta1"): ((1, 22), "authorization.k8s.io/v1"),
    ("CertificateSigningRequest", "certificates.k8s.io/v1beta1"): ((1, 22), "certificates.k8s.io/v1"),
    ("Lease", "coordination.k8s.io/v1beta1"): ((1, 22), "coordination.k8s.io/v1"),
    ("Ingress", "extensions/v1beta1"): ((1, 22), "networking.k8s.io/v1"),
    ("Ingress", "networking.k8s.io/v1beta1"): ((1, 22), "networking.k8s.io/v1"),
    ("IngressClass", "networking.k8s.io/v1beta1"): ((1, 22), "networking.k8s.io/v1"),
    **{
        (kind, "rbac.authorization.k8s.io/v1beta1"): ((1, 22), "rbac.authorization.k8s.io/v1")
        for kind in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
    },
    ("PriorityClass", "scheduling.k8s.io/v1beta1"): ((1, 22), "scheduling.k8s.io/v1"),
    **{
        (kind, "storage.k8s.io/v1beta1"): ((1, 22), "storage.k8s.io/v1")
        for kind in ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment")
    },
    # v1.25
    ("CronJob", "batch/v1beta1"): ((1, 25), "batch/v1"),
    ("EndpointSlice", "discovery.k8s.io/v1beta1"): ((1, 25), "discovery.k8s.io/v1"),
    ("Event", "events.k8s.io/v1beta1"): ((1, 25), "events.k8s.io/v1"),
    ("HorizontalPodAutoscaler", "autoscaling/v2beta1"): ((1, 25), "autoscaling/v2"),
    ("PodDisruptionBudget", "policy/v1beta1"): ((1, 25), "policy/v1"),
    ("PodSecurityPolicy", "policy/v1beta1"): ((1, 25), None),
    ("RuntimeClass", "node.k8s.io/v1beta1"): ((1, 25), "node.k8s.io/v1"),
    # v1.26
    ("FlowSchema", "flowcontrol.apiserver.k8s.io/v1beta1"): ((1, 26), FLOWCONTROL),
    ("PriorityLevelConfiguration", "flowcontrol.apiserver.k8s.io/v1beta1"): (
        (1, 26),
        FLOWCONTROL,
    ),
    ("HorizontalPodAutoscaler", "autoscaling/v2beta2"): ((1, 26), "autoscaling/v2"),
    # v1.27
    ("CSIStorageCapacity", "storage.k8s.io/v1beta1"): ((1, 27), "storage.k8s.io/v1"),
    # v1.29
    ("FlowSchema", "flowcontrol.apiserver.k8s.io/v1beta2"): ((1, 29), FLOWCONTROL),
    ("PriorityLevelConfiguration", "flowcontrol.apiserver.k8s.io/v1beta2"): (
        (1, 29),
        FLOWCONTROL,
    ),
    # v1.32
    ("FlowSchema", "flowcontrol.apiserver.k8s.io/v1beta3"): ((1, 32), FLOWCONTROL),
    ("PriorityLevelConfiguration", "flowcontrol.apiserver.k8s.io/v1beta3"): (
        (1, 32),
        FLOWCONTROL,
    ),
}


@fast_pickle
@dataclass(frozen=True, slots=True)
class RemovedApi:
    """An object written with an apiVersion that some Kubernetes version removed."""

    kind: str
    api_version: str
    name: str
    span: Span  # its apiVersion entry
    removed_in: tuple[int, int]
    replacement: str | None

    def replacement_for(self, version: tuple[int, int]) -> str | None:
        """The apiVersion to use on ``version``."""
        if self.replacement == FLOWCONTROL and version < (1, 29):
            return "flowcontrol.apiserver.k8s.io/v1beta3"
        return self.replacement


def removed_api(obj: YMap, kind: str) -> RemovedApi | None:
    api_version = obj.text("apiVersion")
    if not api_version:
        return None
    found = REMOVED.get((kind, api_version))
    if found is None:
        return None
    return RemovedApi(
        kind, api_version, object_name(obj.map("metadata")), obj.entry_span("apiVersion"), found[0], found[1]
    )


# Every group/version Kubernetes has served each kind rules read in, removed ones
# included (EKS003 judges those): from the API reference of each release and the
# deprecation guide above. A built-in kind under an apiVersion outside this list, in
# one of Kubernetes' own groups, is served by no Kubernetes version at all.
SERVED: dict[str, frozenset[str]] = {
    "Pod": frozenset(("v1",)),
    "ConfigMap": frozenset(("v1",)),
    "Deployment": frozenset(("apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1")),
    "DaemonSet": frozenset(("apps/v1", "apps/v1beta2", "extensions/v1beta1")),
    "ReplicaSet": frozenset(("apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1")),
    "StatefulSet": frozenset(("apps/v1", "apps/v1beta1", "apps/v1beta2")),
    "Job": frozenset(("batch/v1",)),
    "CronJob": frozenset(("batch/v1", "batch/v1beta1", "batch/v2alpha1")),
    "PodDisruptionBudget": frozenset(("policy/v1", "policy/v1beta1")),
    "HorizontalPodAutoscaler": frozenset(
        ("autoscaling/v1", "autoscaling/v2", "autoscaling/v2beta1", "autoscaling/v2beta2")
    ),
}
# Kubernetes' own API groups ("" is the core group): a kind in any other group is a
# custom resource that merely shares the name.
_BUILT_IN_GROUPS = frozenset(("", "apps", "batch", "policy", "autoscaling", "extensions"))


def never_served(obj: YMap, kind: str) -> Problem | None:
    """A built-in kind written with an apiVersion no Kubernetes version serves for it
    (``apiVersion: v1beta1`` on a StatefulSet): the API server has no such resource."""
    served = SERVED.get(kind)
    api_version = obj.text("apiVersion")
    if served is None or not api_version or api_version in served:
        return None
    group = api_version.rpartition("/")[0]
    if group not in _BUILT_IN_GROUPS:
        return None
    # The GA version sorts first ("apps/v1" < "apps/v1beta1"); autoscaling/v2 is the current one.
    current = "autoscaling/v2" if kind == "HorizontalPodAutoscaler" else min(served)
    return Problem(
        obj.entry_span("apiVersion"),
        f"apiVersion {api_version} does not serve {kind} in any Kubernetes version: kubectl fails with 'no "
        f'matches for kind "{kind}" in version "{api_version}"\'. Use apiVersion: {current}',
    )
