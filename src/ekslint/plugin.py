"""The public API for writing ekslint plugins (rule packs).

Everything a rule pack needs is importable from here, and a pack should import
nothing else from ekslint: the modules these names come from are internal and may
move between releases, the names below stay. See docs/plugins.md.
"""

from ekslint.engine.hookspecs import hookimpl
from ekslint.engine.rule import FileRule, ProjectRule, Related, Rule, RuleContext, Scope, Severity, Violation
from ekslint.model.capacity import InstanceInfo, InstanceTable
from ekslint.model.kubernetes import Autoscaler, Budget, PodDisruptionBudget, PodSpec, Workload
from ekslint.model.nodeconfig import MergedNodeConfig
from ekslint.model.nodegroup import Cluster, NodeGroup, Origin
from ekslint.model.project import FileFacts, FileModel, Project
from ekslint.model.scheduling import LabelSelector, Taint, Toleration
from ekslint.model.userdata import UserdataModel
from ekslint.parse.mime import Part
from ekslint.parse.text import Span

__all__ = [
    "Autoscaler",
    "Budget",
    "Cluster",
    "FileFacts",
    "FileModel",
    "FileRule",
    "InstanceInfo",
    "InstanceTable",
    "LabelSelector",
    "MergedNodeConfig",
    "NodeGroup",
    "Origin",
    "Part",
    "PodDisruptionBudget",
    "PodSpec",
    "Project",
    "ProjectRule",
    "Related",
    "Rule",
    "RuleContext",
    "Scope",
    "Severity",
    "Span",
    "Taint",
    "Toleration",
    "UserdataModel",
    "Violation",
    "Workload",
    "hookimpl",
]
