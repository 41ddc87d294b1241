"""The public API for writing ekslint plugins (rule packs and output formats).

Everything a rule needs is importable from here, and ekslint's own rules import
nothing else of ekslint: the modules these names come from are internal and may move
between releases, the names below stay. See docs/plugins.md.

- Writing rules: ``FileRule``, ``ProjectRule``, ``Violation``, ``Related``, ``Severity``,
  ``RuleOption``, ``RuleContext`` (options and the instance table), ``hookimpl``.
- What a file rule reads: ``FileModel`` (its clusters, node groups, userdata, workloads,
  PDBs) and the types it holds; what a cross-file rule reads: ``Project``.
- Positions: ``Span`` (file, line, column of the offending key), ``Text``.
- Domain knowledge: ``sysctls`` (the kubelet's sysctl tables), the AMI family tests
  (``is_al2023``...), pod capacity (``pd_supported``, ``RECOMMENDED_SMALL``...),
  ``is_placeholder`` (template placeholders), ``schema_problems``.
"""

from ekslint.engine.finding import Finding
from ekslint.engine.hookspecs import Formatter, ReportOptions, hookimpl
from ekslint.engine.results import RunResult
from ekslint.engine.rule import (
    FileRule,
    ProjectRule,
    Related,
    Rule,
    RuleContext,
    RuleOption,
    Scope,
    Severity,
    Violation,
)
from ekslint.model import sysctls
from ekslint.model.apiversions import RemovedApi
from ekslint.model.bottlerocket import Settings as BottlerocketSettings
from ekslint.model.capacity import (
    LARGE_VCPUS,
    RECOMMENDED_LARGE,
    RECOMMENDED_SMALL,
    InstanceInfo,
    InstanceTable,
    pd_supported,
)
from ekslint.model.capacity import format_version as format_cni_version
from ekslint.model.cni import CniSettings
from ekslint.model.cni import Fact as CniFact
from ekslint.model.context import DeclaredNodeGroup
from ekslint.model.eksctl import (
    AMI_RESOLVERS,
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_KUBERNETES_VERSION,
    BootstrapOverride,
    ClusterConfig,
    EksctlNodeGroup,
    EntryFields,
)
from ekslint.model.facts import FileFacts
from ekslint.model.filemodel import FileModel
from ekslint.model.index.placement import Candidate, PlacementClass
from ekslint.model.kubernetes import (
    Autoscaler,
    Budget,
    ConfigMap,
    PodDisruptionBudget,
    PodSpec,
    Sysctl,
    Workload,
    namespace_key,
)
from ekslint.model.maxpods import MaxPodsExpression, standard_max_pods
from ekslint.model.nodeconfig import (
    HYBRID_IAM_RA_FIELDS,
    HYBRID_REQUIRED_CLUSTER_FIELDS,
    HYBRID_SSM_FIELDS,
    REQUIRED_CLUSTER_FIELDS,
    ClusterField,
    HybridOptions,
    MergedNodeConfig,
    NodeConfigPart,
)
from ekslint.model.nodegroup import (
    Allowance,
    Cluster,
    IgnoredAllowance,
    InstanceType,
    MaxPodsSetting,
    NodeGroup,
    Origin,
    is_al2,
    is_al2023,
    is_bottlerocket,
    is_ubuntu,
    is_windows,
    normalize_family,
)
from ekslint.model.podcapacity import GroupCapacity, TypeCapacity
from ekslint.model.project import Project
from ekslint.model.scheduling import LabelSelector, Match, NodeRequirements, Taint, Toleration, percent
from ekslint.model.scopes import ClusterScope
from ekslint.model.userdata import NODECONFIG_MEDIA, ScriptFacts, UserdataModel, UserdataPart
from ekslint.parse.cel import NODEADM_VARIABLES
from ekslint.parse.mime import Part
from ekslint.parse.shell import BootstrapCall, Flag, Word
from ekslint.parse.templates import is_placeholder
from ekslint.parse.text import Problem, Span, Text
from ekslint.validation.documents import check_file as schema_problems
from ekslint.validation.schemacheck import stamp as schema_stamp

__all__ = [
    "AMI_RESOLVERS",
    "DEFAULT_INSTANCE_TYPE",
    "DEFAULT_KUBERNETES_VERSION",
    "HYBRID_IAM_RA_FIELDS",
    "HYBRID_REQUIRED_CLUSTER_FIELDS",
    "HYBRID_SSM_FIELDS",
    "LARGE_VCPUS",
    "NODEADM_VARIABLES",
    "NODECONFIG_MEDIA",
    "RECOMMENDED_LARGE",
    "RECOMMENDED_SMALL",
    "REQUIRED_CLUSTER_FIELDS",
    "Allowance",
    "Autoscaler",
    "BootstrapCall",
    "BootstrapOverride",
    "BottlerocketSettings",
    "Budget",
    "Candidate",
    "Cluster",
    "ClusterConfig",
    "ClusterField",
    "ClusterScope",
    "CniFact",
    "CniSettings",
    "ConfigMap",
    "DeclaredNodeGroup",
    "EksctlNodeGroup",
    "EntryFields",
    "FileFacts",
    "FileModel",
    "FileRule",
    "Finding",
    "Flag",
    "Formatter",
    "GroupCapacity",
    "HybridOptions",
    "IgnoredAllowance",
    "InstanceInfo",
    "InstanceTable",
    "InstanceType",
    "LabelSelector",
    "Match",
    "MaxPodsExpression",
    "MaxPodsSetting",
    "MergedNodeConfig",
    "NodeConfigPart",
    "NodeGroup",
    "NodeRequirements",
    "Origin",
    "Part",
    "PlacementClass",
    "PodDisruptionBudget",
    "PodSpec",
    "Problem",
    "Project",
    "ProjectRule",
    "Related",
    "RemovedApi",
    "ReportOptions",
    "Rule",
    "RuleContext",
    "RuleOption",
    "RunResult",
    "Scope",
    "ScriptFacts",
    "Severity",
    "Span",
    "Sysctl",
    "Taint",
    "Text",
    "Toleration",
    "TypeCapacity",
    "UserdataModel",
    "UserdataPart",
    "Violation",
    "Word",
    "Workload",
    "format_cni_version",
    "hookimpl",
    "is_al2",
    "is_al2023",
    "is_bottlerocket",
    "is_placeholder",
    "is_ubuntu",
    "is_windows",
    "namespace_key",
    "normalize_family",
    "pd_supported",
    "percent",
    "schema_problems",
    "schema_stamp",
    "standard_max_pods",
    "sysctls",
]
