"""``ekslint nodes [PATH...]``: the node groups ekslint found, one row each, as the rules
see them after every merge (eksctl defaults, userdata parts, launch templates joined
to their node groups, the ekslint config): where each is defined, its origin, cluster,
AMI family, instance types, max pods against the pod capacity of its worst instance
type (as EKS301 computes it), allowed unsafe sysctls, taints and labels. Users need
to see what ekslint believes before they trust its findings. ``--cluster NAME`` keeps
the node groups of one cluster's scope, as ``ekslint --cluster NAME`` judges them.

``--format json`` prints a stable document (``SCHEMA_VERSION``; keys are only ever
added). Exit codes: 0 listed (also when nothing was found), 2 usage, config or read
error."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ekslint.parse.escape import visible, visible_lines

if TYPE_CHECKING:
    from ekslint.config import Settings
    from ekslint.model.facts import FileFacts
    from ekslint.model.nodegroup import NodeGroup
    from ekslint.model.project import Project

EXIT_OK, EXIT_ERROR = 0, 2
SCHEMA_VERSION = 1
SHOWN_INSTANCE_TYPES = 4  # more are "and N more" in the text table
# What parse/templates.py writes in place of a placeholder TOML cannot hold (_bare_token).
_STAND_IN = re.compile(r'"?\$_[0-9a-z]*_*"?')


class _Usage(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ekslint nodes",
        description="List the node groups ekslint found (eksctl, userdata, NodeConfig, KubeletConfiguration, "
        "CloudFormation, the ekslint config) with what the rules believe about each.",
        epilog="Exit codes: 0 listed, 2 usage/config/read error.",
    )
    parser.add_argument("paths", nargs="*", help="files and directories to read (default: .)")
    parser.add_argument("-f", "--format", choices=("text", "json"), default="text", help="text (default) or json")
    parser.add_argument(
        "--config", metavar="FILE", help="use this config file instead of searching for .ekslint.yaml / pyproject.toml"
    )
    parser.add_argument("--isolated", action="store_true", help="ignore every config file")
    parser.add_argument(
        "--kubernetes-version", metavar="X.Y", help="cluster version when no cluster says (overrides the config)"
    )
    parser.add_argument(
        "--cluster",
        metavar="NAME",
        help="list only the node groups of this cluster, the ones `ekslint --cluster NAME` judges (a key of "
        "clusters: in the config, else a cluster's name in the files)",
    )
    return parser


def main(argv: Sequence[str]) -> int:
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exit_:  # argparse: --help is 0, a usage error 2
        return EXIT_OK if exit_.code in (0, None) else EXIT_ERROR
    try:
        settings = _settings(args)
        paths = args.paths or ["."]
        facts, errors = _read(paths, settings)
    except _Usage as err:
        print(f"ekslint: error: {visible_lines(str(err))}", file=sys.stderr)
        return EXIT_ERROR
    from ekslint.model.project import Project

    project = Project(facts, settings.context)
    groups = project.node_groups
    if args.cluster is not None:
        from ekslint.engine.reach import UnknownCluster, only_cluster

        try:
            scopes = only_cluster(project.scopes(), project, args.cluster)
        except UnknownCluster as err:
            print(f"ekslint: error: {visible_lines(str(err))}", file=sys.stderr)
            return EXIT_ERROR
        # The rows are the whole run's (same cluster names and capacities as without
        # --cluster), of the node groups in that cluster's scopes.
        chosen = {_identity(group) for scope in scopes for group in scope.node_groups}
        groups = [group for group in groups if _identity(group) in chosen]
    rows = [describe(group, project) for group in groups]
    if args.format == "json":
        document = {"version": SCHEMA_VERSION, "nodeGroups": rows}
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(rows))
    for path, message in errors:
        print(f"ekslint: error: {visible(path)}: {visible(message)}", file=sys.stderr)
    return EXIT_ERROR if errors else EXIT_OK


def _settings(args: argparse.Namespace) -> Settings:
    from ekslint import config

    try:
        if args.isolated:
            path = None
        elif args.config:
            path = Path(args.config)
            if not path.is_file():
                raise config.ConfigError(f"{args.config}: no such config file")
        else:
            path = config.discover_for(args.paths)
        return config.resolve(path, config.Overrides(kubernetes_version=args.kubernetes_version))
    except config.ConfigError as err:
        raise _Usage(str(err)) from err


def _read(paths: list[str], settings: Settings) -> tuple[list[FileFacts], list[tuple[str, str]]]:
    """Every input under ``paths`` modelled as a lint run models it (config excludes
    honoured), and the paths that could not be read."""
    from ekslint.model.filemodel import build_file_model
    from ekslint.parse.discovery import InputError, exclude_from_cwd, walk
    from ekslint.parse.sources import load_bytes, read_head

    input_errors: list[InputError] = []
    exclude = [exclude_from_cwd(pattern, settings.root) for pattern in settings.exclude]
    facts: list[FileFacts] = []
    errors: list[tuple[str, str]] = []
    for path, shown in walk(paths, exclude, input_errors):
        try:
            data = read_head(path, settings.limits)
        except OSError as err:
            errors.append((shown, err.strerror or str(err)))
            continue
        source = load_bytes(shown, data, settings.limits)
        if source is None or source.not_analysed is not None:
            continue  # as a lint run skips it (engine/analysis.py); a rendered template is read
        facts.append(build_file_model(source, settings.context, settings.limits.yaml).facts())
    errors.extend((e.path, e.message) for e in input_errors if not e.skipped)
    return facts, errors


# -- one node group ------------------------------------------------------------------------


def _identity(group: NodeGroup) -> tuple[str, int, int, str]:
    """A node group across projects of one run (a scope may join Karpenter pools anew)."""
    return group.span.file, group.span.line, group.span.col, group.name


def _scope_cluster(group: NodeGroup, project: Project) -> dict[str, Any] | None:
    """The cluster a node group without one of its own (userdata, Karpenter, a bare
    KubeletConfiguration) belongs to by where it lies (``clusters:`` or the directory of
    a cluster's definition), as the cross-file rules place it; None: no cluster's."""
    scope = project.scope_map.scope_of(group.span.file)
    if scope.name is None:
        return None
    return {"name": scope.name, "file": None, "line": None}


def describe(group: NodeGroup, project: Project) -> dict[str, Any]:
    """A node group as the JSON document lists it (and the text table shows it)."""
    from ekslint.model import capacity

    cluster = group.cluster
    version = group.kubernetes_version
    assessed = project.capacity_of(group, capacity.table())
    worst = assessed.smallest() if assessed is not None else None
    expression = group.max_pods_expression
    return {
        "name": group.name,
        "file": group.span.file,
        "line": group.span.line,
        "column": group.span.col,
        "origin": group.origin.value,
        "cluster": _scope_cluster(group, project)
        if cluster is None
        else {
            "name": cluster.name,
            "file": cluster.file,
            "line": cluster.span.line,
        },
        "kubernetesVersion": f"{version[0]}.{version[1]}" if version else None,
        "amiFamily": group.ami_family,
        "customAmi": group.custom_ami,
        "instanceTypes": [t.name for t in group.instance_types],
        "instanceTypesDefault": bool(group.instance_types) and all(t.default for t in group.instance_types),
        # Types that are a CloudFormation Parameter's Default: type -> Parameter.
        "instanceTypeParameters": {t.name: t.parameter for t in group.instance_types if t.parameter is not None},
        "instanceSelector": group.instance_selector,
        "maxPods": {
            "configured": [
                {"value": s.value, "text": _shown(s.raw), "source": s.source, "file": s.span.file, "line": s.span.line}
                for s in group.max_pods
            ],
            "expression": expression.expression if expression is not None else None,
            "capacity": None
            if worst is None
            else {
                "instanceType": worst.info.name,
                "maxPods": worst.capacity.max_pods,
                "formula": worst.capacity.formula,
                # EKS's 110/250 cap on a managed group on its own AMI, when below the IPs.
                "eksCap": worst.info.recommended_cap
                if assessed is not None and assessed.eks_capped and worst.info.recommended_cap < worst.capacity.max_pods
                else None,
            },
            "unknownInstanceTypes": [t.name for t in assessed.unknown] if assessed is not None else [],
        },
        "allowedUnsafeSysctls": [
            {"pattern": a.pattern, "source": a.source, "file": a.span.file, "line": a.span.line}
            for a in group.allowances
        ],
        "allowedUnsafeSysctlsUnknown": group.allowances_unknown is not None,
        "taints": [str(t) for t in group.taints],
        "labels": dict(group.labels),
        "labelsComplete": group.labels_complete,
    }


def _shown(raw: str) -> str | None:
    """A setting's text as written; None when only a template's rendering knows it (the
    template step's stand-in token, or a shell variable that expands to nothing here)."""
    return None if not raw or _STAND_IN.fullmatch(raw) else raw


# -- the text table --------------------------------------------------------------------------

_COLUMNS = (
    "NODE GROUP",
    "DEFINED AT",
    "ORIGIN",
    "CLUSTER",
    "FAMILY",
    "INSTANCE TYPES",
    "MAX PODS (SET / CAPACITY)",
    "UNSAFE SYSCTLS",
    "TAINTS",
    "LABELS",
)


def render_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No node groups found.\n"
    table = [_COLUMNS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in table]
    count = len(rows)
    lines.append(f"{count} node group{'s' if count != 1 else ''}.")
    return "\n".join(visible(line) for line in lines) + "\n"


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    cluster = row["cluster"]
    version = row["kubernetesVersion"]
    cluster_text = (cluster["name"] if cluster else "-") + (f" ({version})" if version else "")
    family = row["amiFamily"] or "?"
    if row["customAmi"]:
        family += " (custom AMI)"
    types = row["instanceTypes"]
    if row["instanceSelector"]:
        shown = "instance selector"
    elif not types:
        shown = "?"
    else:
        shown = ", ".join(types[:SHOWN_INSTANCE_TYPES])
        if len(types) > SHOWN_INSTANCE_TYPES:
            shown += f" and {len(types) - SHOWN_INSTANCE_TYPES} more"
        if row["instanceTypesDefault"]:
            shown += " (default)"
        parameters = sorted(set(row.get("instanceTypeParameters", {}).values()))
        if parameters:
            shown += f" (Default of Parameter {', '.join(parameters)})"
    sysctls = ", ".join(a["pattern"] for a in row["allowedUnsafeSysctls"]) or "-"
    if row["allowedUnsafeSysctlsUnknown"]:
        sysctls += " (+ unknown)"
    labels = ", ".join(f"{k}={v}" for k, v in row["labels"].items()) or "-"
    return (
        row["name"],
        f"{row['file']}:{row['line']}",
        row["origin"],
        cluster_text,
        family,
        shown,
        _max_pods(row["maxPods"]),
        sysctls,
        ", ".join(row["taints"]) or "-",
        labels,
    )


def _max_pods(max_pods: dict[str, Any]) -> str:
    configured = [str(s["value"]) if s["value"] is not None else s["text"] or "?" for s in max_pods["configured"]]
    if configured:
        setting = ", ".join(configured)
    elif max_pods["expression"] is not None:
        setting = f"expression {max_pods['expression']}"
    else:
        setting = "default"
    found = max_pods["capacity"]
    capacity = f"{found['maxPods']} ({found['instanceType']})" if found else "?"
    if found and found.get("eksCap") is not None:
        capacity += f", EKS caps at {found['eksCap']}"
    return f"{setting} / {capacity}"


def wanted(argv: Sequence[str]) -> bool:
    """``ekslint nodes ...``; a path named nodes is linted as ``./nodes``."""
    return bool(argv) and argv[0] == "nodes"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
