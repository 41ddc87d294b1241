"""Generate a deterministic, realistic EKS monorepo corpus for benchmarking ekslint.

Usage::

    python benchmarks/make_corpus.py --files 10000 --out /tmp/corpus [--seed 1]

How it is generated
-------------------
One ``random.Random(seed)`` drives every choice, files are written in a fixed order,
text is emitted by a small YAML writer here (not a library whose output could change)
and gzip layers use stored deflate blocks (zlib and zlib-ng compress differently), so
the same ``--files``/``--seed`` give a byte-identical tree on any machine. The tree
looks like a monorepo: ``teams/<team>/<service>/...`` for application manifests,
``platform/...`` for clusters, node userdata, shared add-ons and policies.

Why this mix
------------
It follows what a platform monorepo holds and what ekslint spends its time on:

* 60% Kubernetes workload manifests: Deployments, StatefulSets, DaemonSets, Jobs and
  CronJobs as Helm or kustomize render them (1-4 KB, ~6% much larger with big
  ConfigMaps or long env lists), usually multi-document with Services, ConfigMaps,
  HPAs, ServiceAccounts; some set sysctls, tolerations, nodeSelectors, affinity. These
  exercise the YAML path and the pod model.
* 15% PodDisruptionBudgets, most next to the workload they select, some alone:
  the cross-file selector index.
* 10% eksctl ClusterConfigs with several managed and self-managed node groups
  (overrideBootstrapCommand scripts and NodeConfigs, kubeletExtraConfig, Bottlerocket
  settings, anchors/merge keys): YAML inside YAML, shell parsing, node-group matching.
* 8% EC2 userdata: MIME multipart with NodeConfig parts, bootstrap.sh scripts,
  Bottlerocket TOML, some of it base64 (and gzip) encoded: the non-YAML readers.
* 2% Terraform: terraform-aws-eks module node group maps (cloudinit_pre_nodeadm
  NodeConfigs, Bottlerocket bootstrap_extra_args) and aws_launch_template +
  aws_eks_node_group resources with heredoc userdata: the HCL reader.
* 2% CloudFormation node templates (YAML with !Sub/!Base64 tags, some JSON with
  Fn::Join): a launch template with userdata and the ASG or AWS::EKS::Nodegroup that
  uses it, as AWS's amazon-eks-nodegroup.yaml and the aws-quickstart template do.
* 5% files ekslint must skip: READMEs, unrendered Helm templates (``{{ }}``), JSON,
  plain text. Sniffing them must stay cheap.

A few percent of the inputs carry real mistakes (unsafe sysctls, PDBs that block
eviction, tolerate-everything pods, a bootstrap override without a custom AMI, an
incomplete NodeConfig, a YAML syntax error), so the report has findings to render, as
it would on a real repository.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import re
import struct
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SEED = 20_240_601

# (category, share of the files); the order is also the generation order.
MIX: tuple[tuple[str, float], ...] = (
    ("workload", 0.58),
    ("pdb", 0.15),
    ("eksctl", 0.10),
    ("userdata", 0.08),
    ("cloudformation", 0.02),
    ("skip", 0.05),
    ("terraform", 0.02),
)

TEAMS = (
    "payments", "checkout", "search", "catalog", "identity", "notifications", "analytics", "ml-platform",
    "data-eng", "observability", "security", "growth", "billing", "inventory", "shipping", "fraud",
    "messaging", "media", "recommendations", "ads", "support", "mobile-api", "partner-api", "ledger",
    "pricing", "reviews", "loyalty", "gateway", "storage", "maps", "tax", "onboarding",
)  # fmt: skip
NOUNS = (
    "cart", "order", "user", "session", "invoice", "ledger", "profile", "token", "quote", "refund", "stock",
    "label", "event", "feed", "email", "sms", "push", "report", "index", "query", "model", "feature", "asset",
    "thumbnail", "route", "rate", "audit", "policy", "ticket", "review", "coupon", "wallet", "price",
)  # fmt: skip
ROLES = (
    "api", "worker", "consumer", "gateway", "scheduler", "indexer", "sync", "exporter", "proxy", "cache",
    "service", "processor", "web", "grpc", "batch", "ingest",
)  # fmt: skip
ENVS = ("dev", "staging", "prod")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1")
NODE_CLASSES = ("general", "compute", "memory", "batch", "gpu", "ingress", "system", "spot")
K8S_VERSIONS = ("1.28", "1.29", "1.30", "1.31")
INSTANCE_TYPES = (
    "m5.large", "m5.xlarge", "m6i.large", "m6i.2xlarge", "m7g.xlarge", "c5.xlarge", "c6i.2xlarge", "c7g.2xlarge",
    "r5.xlarge", "r6i.2xlarge", "r7g.xlarge", "t3.large", "g5.xlarge", "p4d.24xlarge", "m6a.4xlarge",
)  # fmt: skip
SAFE_SYSCTLS = ("net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range")
VERSIONED_SYSCTLS = ("net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_fin_timeout")
# No node group allows net.ipv4.ip_nonlocal_bind: some EKS101 findings are certain.
UNSAFE_SYSCTLS = (
    "net.core.somaxconn",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_tw_reuse",
    "kernel.msgmax",
    "net.ipv4.ip_nonlocal_bind",
)
ALLOWANCES = ("net.core.somaxconn", "net.ipv4.tcp_*", "kernel.msg*", "net.ipv4.tcp_max_syn_backlog")
ENV_NAMES = (
    "LOG_LEVEL", "PORT", "DATABASE_URL", "REDIS_HOST", "AWS_REGION", "OTEL_EXPORTER_OTLP_ENDPOINT", "JAVA_OPTS",
    "GOMAXPROCS", "FEATURE_FLAGS", "KAFKA_BROKERS", "SENTRY_ENVIRONMENT", "HTTP_TIMEOUT", "CACHE_TTL",
    "MAX_CONNECTIONS", "WORKER_CONCURRENCY", "S3_BUCKET", "SQS_QUEUE_URL", "DD_AGENT_HOST", "TZ",
)  # fmt: skip
ADDONS = ("node-exporter", "fluent-bit", "aws-node-termination-handler", "kube-proxy-tuning", "ebs-csi-node")


# -- a small deterministic YAML writer ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Raw:
    """A scalar written exactly as given (``version: 1.30`` unquoted, a float to YAML)."""

    text: str


@dataclass(frozen=True, slots=True)
class Flow:
    """A list written in flow style (``args: ["--port", "8080"]``), as charts often do."""

    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Anchored:
    """A mapping carrying an anchor (``- &defaults``), for eksctl node-group defaults."""

    name: str
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Alias:
    """``*name``; used as the value of a ``<<`` merge key."""

    name: str


_PLAIN = re.compile(r"[A-Za-z_/$][A-Za-z0-9_./@=+,()$*:-]*(?: [A-Za-z0-9_./@=+,()$*:-]+)*")
# Quantities such as 250m, 10Gi, 25% stay plain, as people write them.
_QUANTITY = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:m|Ki|Mi|Gi|Ti|s|ms|%)")
# YAML 1.1 words a plain scalar would turn into booleans or null.
_RESERVED = frozenset(
    ("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
     "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~")
)  # fmt: skip


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Alias):
        return f"*{value.name}"
    if isinstance(value, Flow):
        return "[" + ", ".join(_scalar(v) for v in value.items) + "]"
    text = str(value)
    if _QUANTITY.fullmatch(text):
        return text
    if _PLAIN.fullmatch(text) and text not in _RESERVED and ": " not in text and not text.endswith(":"):
        return text
    return json.dumps(text)  # a JSON string is a valid double-quoted YAML scalar


def _is_block(value: Any) -> bool:
    return (isinstance(value, dict) and bool(value)) or (isinstance(value, list) and bool(value))


def _value_lines(key: str, value: Any, pad: str, indent_seqs: bool) -> list[str]:
    if isinstance(value, Anchored):
        return [f"{pad}{key}: &{value.name}", *_map_lines(value.value, len(pad) + 2, indent_seqs)]
    if isinstance(value, str) and "\n" in value:
        chomp = "|" if value.endswith("\n") else "|-"
        body = value[:-1] if value.endswith("\n") else value
        inner = pad + "  "
        return [f"{pad}{key}: {chomp}", *[(inner + line) if line else "" for line in body.split("\n")]]
    if isinstance(value, dict):
        if not value:
            return [f"{pad}{key}: {{}}"]
        return [f"{pad}{key}:", *_map_lines(value, len(pad) + 2, indent_seqs)]
    if isinstance(value, list):
        if not value:
            return [f"{pad}{key}: []"]
        return [f"{pad}{key}:", *_seq_lines(value, len(pad) + (2 if indent_seqs else 0), indent_seqs)]
    return [f"{pad}{key}: {_scalar(value)}"]


def _map_lines(mapping: dict[str, Any], indent: int, indent_seqs: bool) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in mapping.items():
        lines.extend(_value_lines(_scalar(key) if key != "<<" else key, value, pad, indent_seqs))
    return lines


def _seq_lines(items: list[Any], indent: int, indent_seqs: bool) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if isinstance(item, Anchored):
            lines.append(f"{pad}- &{item.name}")
            lines.extend(_map_lines(item.value, indent + 2, indent_seqs))
        elif isinstance(item, dict) and item:
            inner = _map_lines(item, indent + 2, indent_seqs)
            lines.append(f"{pad}- {inner[0][indent + 2 :]}")
            lines.extend(inner[1:])
        elif isinstance(item, str) and "\n" in item:
            lines.append(f"{pad}- |")
            lines.extend((pad + "  " + line) if line else "" for line in item.rstrip("\n").split("\n"))
        else:
            lines.append(f"{pad}- {_scalar(item)}")
    return lines


def to_yaml(doc: dict[str, Any], indent_seqs: bool = True) -> str:
    """Block YAML for ``doc``. ``indent_seqs``: kubectl/Helm style (``- `` indented under
    its key) versus kustomize/eksctl-docs style (``- `` at the key's column)."""
    return "\n".join(_map_lines(doc, 0, indent_seqs)) + "\n"


def _strip_to_minimum(pod_spec: dict[str, Any]) -> None:
    for key in ("volumes", "topologySpreadConstraints", "terminationGracePeriodSeconds", "serviceAccountName"):
        pod_spec.pop(key, None)
    sysctls = pod_spec.pop("securityContext", {}).get("sysctls")
    if sysctls:
        pod_spec["securityContext"] = {"sysctls": sysctls}
    for container in pod_spec["containers"]:
        for key in ("securityContext", "livenessProbe", "readinessProbe", "volumeMounts", "envFrom", "imagePullPolicy"):
            container.pop(key, None)


def _gzip_stored(data: bytes) -> bytes:
    """gzip with stored (uncompressed) deflate blocks: deterministic on every zlib build."""
    out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")  # no name, mtime 0, OS unknown
    chunks = [data[i : i + 65_535] for i in range(0, len(data), 65_535)] or [b""]
    for index, chunk in enumerate(chunks):
        final = 1 if index == len(chunks) - 1 else 0
        out += struct.pack("<BHH", final, len(chunk), len(chunk) ^ 0xFFFF) + chunk
    out += struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return bytes(out)


def _wrap76(data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\n"


# -- the corpus ---------------------------------------------------------------------------


@dataclass(slots=True)
class CategoryStats:
    files: int = 0
    bytes: int = 0


@dataclass(slots=True)
class CorpusSummary:
    files: int
    bytes: int
    seed: int
    by_category: dict[str, CategoryStats]

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "seed": self.seed,
            "by_category": {k: {"files": v.files, "bytes": v.bytes} for k, v in self.by_category.items()},
        }


@dataclass(slots=True)
class PdbTarget:
    """A scalable workload a PDB may protect: where it lives and what it runs."""

    directory: str
    name: str
    namespace: str
    labels: dict[str, str]
    replicas: int


@dataclass(slots=True)
class App:
    team: str
    name: str
    envs: list[str]
    helm: bool
    layout: str


def allocate(total: int) -> dict[str, int]:
    """Files per category: the MIX shares of ``total``, rounded by largest remainder."""
    exact = [(name, share * total) for name, share in MIX]
    counts = {name: int(value) for name, value in exact}
    missing = total - sum(counts.values())
    by_remainder = sorted(exact, key=lambda item: (-(item[1] - int(item[1])), item[0]))
    for name, _ in by_remainder[:missing]:
        counts[name] += 1
    return counts


@dataclass
class _Generator:
    rng: random.Random
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (category, content)
    teams: list[str] = field(default_factory=list)
    services: list[App] = field(default_factory=list)
    open_apps: list[App] = field(default_factory=list)  # apps with environments still unrendered
    targets: list[PdbTarget] = field(default_factory=list)
    clusters: list[tuple[str, str, str]] = field(default_factory=list)  # (name, env, region)
    _names: dict[str, int] = field(default_factory=dict)

    # -- helpers --------------------------------------------------------------------
    def add(self, path: str, category: str, content: str) -> None:
        base, dot, ext = path.rpartition(".")
        candidate, n = path, 1
        while candidate in self.files:  # keep every path unique without losing the extension
            n += 1
            candidate = f"{base}-{n}.{ext}" if dot else f"{path}-{n}"
        self.files[candidate] = (category, content)

    def unique(self, prefix: str) -> str:
        count = self._names.get(prefix, 0) + 1
        self._names[prefix] = count
        return prefix if count == 1 else f"{prefix}-{count}"

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def hexid(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def account(self) -> str:
        return str(self.rng.randint(100_000_000_000, 999_999_999_999))

    def ca_data(self) -> str:
        return base64.b64encode(self.rng.randbytes(self.rng.randint(780, 1100))).decode("ascii")

    def endpoint(self, region: str) -> str:
        return f"https://{self.hexid(32).upper()}.gr7.{region}.eks.amazonaws.com"

    def cluster(self, new: bool) -> tuple[str, str, str]:
        """A cluster: a new one (a ClusterConfig) or, mostly, one that userdata joins."""
        if self.clusters and not new and self.chance(0.8):
            return self.rng.choice(self.clusters)
        env, region = self.rng.choice(ENVS), self.rng.choice(REGIONS)
        name = self.unique(f"{self.rng.choice(('core', 'shop', 'data', 'edge', 'ml', 'apps'))}-{env}-{region}")
        self.clusters.append((name, env, region))
        return name, env, region

    # -- workloads ------------------------------------------------------------------
    def new_service(self) -> App:
        team = self.rng.choice(self.teams)
        name = self.unique(f"{self.rng.choice(NOUNS)}-{self.rng.choice(ROLES)}")
        envs = sorted(self.rng.sample(ENVS, self.rng.choice((1, 2, 3, 3))), key=ENVS.index)
        layout = self.rng.choice(("deploy", "k8s", "rendered", "kustomize"))
        service = App(team, name, envs, helm=layout in ("rendered", "deploy") and self.chance(0.7), layout=layout)
        self.services.append(service)
        self.open_apps.append(service)
        return service

    def workload_path(self, service: App, env: str, kind: str) -> str:
        base = f"teams/{service.team}/{service.name}"
        if service.layout == "deploy":
            return f"{base}/deploy/{env}/{kind.lower()}.yaml"
        if service.layout == "k8s":
            return f"{base}/k8s/{env}/manifest.yaml"
        if service.layout == "rendered":
            return f"{base}/rendered/{env}.yaml"
        return f"{base}/kustomize/overlays/{env}/all.yaml"

    def semver(self) -> str:
        return f"{self.rng.randint(0, 9)}.{self.rng.randint(0, 40)}.{self.rng.randint(0, 9)}"

    def labels(self, service: App, env: str, component: str) -> dict[str, str]:
        if service.helm:
            return {
                "app.kubernetes.io/name": service.name,
                "app.kubernetes.io/instance": f"{service.name}-{env}",
                "app.kubernetes.io/version": self.semver(),
                "app.kubernetes.io/component": component,
                "app.kubernetes.io/part-of": service.team,
                "app.kubernetes.io/managed-by": "Helm",
                "helm.sh/chart": f"{service.name}-{self.semver()}",
            }
        return {"app": service.name, "team": service.team, "env": env, "component": component}

    def selector_labels(self, service: App, env: str) -> dict[str, str]:
        if service.helm:
            return {"app.kubernetes.io/name": service.name, "app.kubernetes.io/instance": f"{service.name}-{env}"}
        return {"app": service.name, "env": env}

    def env_vars(self, count: int) -> list[dict[str, Any]]:
        names = list(ENV_NAMES)
        self.rng.shuffle(names)
        out: list[dict[str, Any]] = []
        for i in range(count):
            name = names[i] if i < len(names) else f"APP_SETTING_{i:03d}"
            roll = self.rng.random()
            if roll < 0.12:
                out.append({"name": name, "valueFrom": {"secretKeyRef": {"name": "app-secrets", "key": name.lower()}}})
            elif roll < 0.2:
                out.append({"name": name, "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
            elif roll < 0.35:
                out.append({"name": name, "value": str(self.rng.randint(1, 5000))})
            else:
                out.append({"name": name, "value": self.rng.choice(("info", "debug", "true", "us-east-1", "warn"))})
        return out

    def container(self, service: App, name: str, env_count: int) -> dict[str, Any]:
        rng = self.rng
        registry = f"{self.account()}.dkr.ecr.{rng.choice(REGIONS)}.amazonaws.com"
        tag = self.hexid(12) if self.chance(0.3) else f"{rng.randint(1, 5)}.{rng.randint(0, 60)}.{rng.randint(0, 20)}"
        port = rng.choice((8080, 8000, 3000, 9090, 5000))
        container: dict[str, Any] = {
            "name": name,
            "image": f"{registry}/{service.team}/{service.name}:{tag}",
            "imagePullPolicy": "IfNotPresent",
        }
        if self.chance(0.35):
            container["args"] = Flow(
                (f"--port={port}", "--metrics-addr=:9102", f"--log-level={rng.choice(('info', 'debug'))}")
            )
        container["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        if self.chance(0.5):
            container["ports"].append({"name": "metrics", "containerPort": 9102, "protocol": "TCP"})
        if env_count:
            container["env"] = self.env_vars(env_count)
        if self.chance(0.3):
            container["envFrom"] = [{"configMapRef": {"name": f"{service.name}-config"}}]
        cpu = rng.choice(("100m", "250m", "500m", "1", "2"))
        memory = rng.choice(("128Mi", "256Mi", "512Mi", "1Gi", "2Gi", "4Gi"))
        container["resources"] = {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}
        if self.chance(0.6):
            probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 2}
            container["readinessProbe"] = {**probe, "initialDelaySeconds": 5}
            container["livenessProbe"] = {**probe, "initialDelaySeconds": 15, "failureThreshold": 3}
        container["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": self.chance(0.7),
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
        if self.chance(0.6):
            container["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
            if self.chance(0.5):
                container["volumeMounts"].append({"name": "config", "mountPath": "/etc/app", "readOnly": True})
        return container

    def pod_spec(self, service: App, kind: str, env: str, large: bool) -> dict[str, Any]:
        rng = self.rng
        spec: dict[str, Any] = {}
        if self.chance(0.6):
            spec["serviceAccountName"] = service.name
        if kind == "DaemonSet" or self.chance(0.05):
            spec["priorityClassName"] = "system-node-critical" if kind == "DaemonSet" else "high-priority"
        security: dict[str, Any] = {"runAsNonRoot": True, "fsGroup": 2000, "seccompProfile": {"type": "RuntimeDefault"}}
        if self.chance(0.08):
            security["sysctls"] = self.sysctls()
        spec["securityContext"] = security
        node_class = rng.choice(NODE_CLASSES)
        if self.chance(0.4):
            spec["nodeSelector"] = {"workload": node_class}
            if self.chance(0.3):
                spec["nodeSelector"]["kubernetes.io/arch"] = rng.choice(("amd64", "arm64"))
        if kind == "DaemonSet":
            spec["tolerations"] = [{"operator": "Exists"}]
        elif self.chance(0.3):
            spec["tolerations"] = [
                {"key": "dedicated", "operator": "Equal", "value": node_class, "effect": "NoSchedule"}
            ]
            if self.chance(0.3):
                spec["tolerations"].append(
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                     "tolerationSeconds": 300}
                )  # fmt: skip
            if self.chance(0.04):  # the EKS402 mistake
                spec["tolerations"].append({"operator": "Exists"})
        if self.chance(0.25):
            spec["affinity"] = self.affinity(service, env, node_class)
        if kind in ("Deployment", "StatefulSet") and self.chance(0.3):
            spec["topologySpreadConstraints"] = [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": self.selector_labels(service, env)},
                }
            ]
        env_count = rng.randint(40, 120) if large and self.chance(0.5) else rng.randint(0, 8)
        spec["containers"] = [self.container(service, service.name.split("-")[0], env_count)]
        if self.chance(0.12):
            sidecar = self.container(service, rng.choice(("envoy", "log-router", "otel-agent")), rng.randint(0, 4))
            sidecar["image"] = rng.choice(
                ("public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.4.0-prod",
                 "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2",
                 "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0")
            )  # fmt: skip
            spec["containers"].append(sidecar)
        if kind in ("Job", "CronJob"):
            spec["restartPolicy"] = "OnFailure"
        spec["terminationGracePeriodSeconds"] = rng.choice((30, 30, 60, 120))
        spec["volumes"] = [
            {"name": "tmp", "emptyDir": {}},
            {"name": "config", "configMap": {"name": f"{service.name}-config"}},
        ]
        return spec

    def sysctls(self) -> list[dict[str, str]]:
        roll = self.rng.random()
        pool = SAFE_SYSCTLS if roll < 0.4 else VERSIONED_SYSCTLS if roll < 0.75 else UNSAFE_SYSCTLS
        names = self.rng.sample(pool, self.rng.randint(1, 2))
        return [{"name": name, "value": str(self.rng.choice((1, 60, 600, 1024, 4096)))} for name in names]

    def affinity(self, service: App, env: str, node_class: str) -> dict[str, Any]:
        affinity: dict[str, Any] = {}
        if self.chance(0.7):
            affinity["nodeAffinity"] = {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "workload", "operator": "In", "values": [node_class, "general"]},
                                {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                            ]
                        }
                    ]
                }
            }
        affinity["podAntiAffinity"] = {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": self.selector_labels(service, env)},
                    },
                }
            ]
        }
        return affinity

    def workload_docs(self, service: App, env: str, kind: str, large: bool) -> list[tuple[str, dict[str, Any]]]:
        """(template name, document) pairs for one rendered workload."""
        rng = self.rng
        namespace = f"{service.team}-{env}" if self.chance(0.6) else service.team
        name = service.name if kind != "CronJob" else f"{service.name}-{rng.choice(('cleanup', 'report', 'sync'))}"
        labels = self.labels(service, env, rng.choice(("server", "worker", "backend")))
        selector = self.selector_labels(service, env)
        meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels}
        if self.chance(0.3):
            meta["annotations"] = {"team.example.com/owner": service.team, "reloader.stakater.com/auto": "true"}
        template_meta: dict[str, Any] = {
            "labels": {**selector, **{k: v for k, v in labels.items() if k not in selector}}
        }
        if self.chance(0.5):
            template_meta["annotations"] = {
                "checksum/config": self.hexid(64),
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "9102",
            }
        pod_spec = self.pod_spec(service, kind, env, large)
        minimal = not large and self.chance(0.3)
        if minimal:  # hand-written manifests: no probes, hardening or volumes
            _strip_to_minimum(pod_spec)
        pod = {"metadata": template_meta, "spec": pod_spec}
        replicas = rng.choice((1, 2, 2, 3, 3, 4, 6))
        spec: dict[str, Any]
        if kind == "Deployment":
            spec = {
                "replicas": replicas,
                "revisionHistoryLimit": 5,
                "selector": {"matchLabels": selector},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                "template": pod,
            }
        elif kind == "StatefulSet":
            spec = {
                "replicas": replicas,
                "serviceName": f"{service.name}-headless",
                "selector": {"matchLabels": selector},
                "template": pod,
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "storageClassName": "gp3",
                            "resources": {"requests": {"storage": rng.choice(("10Gi", "50Gi", "200Gi"))}},
                        },
                    }
                ],
            }
        elif kind == "DaemonSet":
            spec = {
                "selector": {"matchLabels": selector},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
                "template": pod,
            }
        elif kind == "Job":
            spec = {"backoffLimit": 4, "ttlSecondsAfterFinished": 3600, "template": pod}
            if self.chance(0.3):
                spec["parallelism"] = rng.randint(2, 8)
        else:
            schedule = rng.choice(("*/5 * * * *", "0 * * * *", "30 2 * * *", "0 */6 * * *", "15 3 * * 1"))
            spec = {
                "schedule": schedule,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1,
                "jobTemplate": {"spec": {"backoffLimit": 2, "template": pod}},
            }
        api = "batch/v1" if kind in ("Job", "CronJob") else "apps/v1"
        docs: list[tuple[str, dict[str, Any]]] = [
            (kind.lower(), {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec})
        ]
        base_meta = {"name": service.name, "namespace": namespace, "labels": labels}
        if kind in ("Deployment", "StatefulSet") and self.chance(0.5 if minimal else 0.75):
            service_spec: dict[str, Any] = {
                "type": "ClusterIP",
                "selector": selector,
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            }
            if kind == "StatefulSet":
                service_spec["clusterIP"] = "None"
            docs.append(
                ("service", {"apiVersion": "v1", "kind": "Service", "metadata": base_meta, "spec": service_spec})
            )
        if (not minimal and self.chance(0.3)) or large:
            docs.append(("configmap", self.config_map(service, namespace, labels, large)))
        if self.chance(0.25):
            sa_meta = {**base_meta}
            if self.chance(0.6):
                role = f"arn:aws:iam::{self.account()}:role/{service.team}-{service.name}-{env}"
                sa_meta["annotations"] = {"eks.amazonaws.com/role-arn": role}
            docs.insert(0, ("serviceaccount", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": sa_meta}))
        if kind == "Deployment" and self.chance(0.25):
            docs.append(("hpa", self.hpa(name, namespace, labels, replicas)))
        if kind in ("Deployment", "StatefulSet"):
            directory = self.workload_path(service, env, kind).rpartition("/")[0]
            self.targets.append(PdbTarget(directory, name, namespace, selector, replicas))
            if self.chance(0.1):  # charts that render their own PDB
                docs.append(("pdb", self.pdb_doc(self.targets[-1], broken=False)))
        return docs

    def config_map(self, service: App, namespace: str, labels: dict[str, str], large: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "LOG_LEVEL": self.rng.choice(("info", "debug")),
            "FEATURE_FLAGS": ",".join(self.rng.sample(NOUNS, 4)),
            "HTTP_TIMEOUT": str(self.rng.choice((5, 10, 30))),
        }
        if large:
            data["application.yaml"] = self.big_config(self.rng.randint(6_000, 30_000))
        elif self.chance(0.3):
            data["application.yaml"] = self.big_config(self.rng.randint(400, 1_500))
        meta = {"name": f"{service.name}-config", "namespace": namespace, "labels": labels}
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}

    def big_config(self, size: int) -> str:
        lines: list[str] = []
        total = 0
        section = 0
        while total < size:
            section += 1
            lines.append(f"{self.rng.choice(NOUNS)}{section}:")
            for _ in range(self.rng.randint(3, 9)):
                key = f"{self.rng.choice(NOUNS)}_{self.rng.choice(ROLES)}"
                line = (
                    f"  {key}: {self.rng.choice(('true', 'false', str(self.rng.randint(1, 10_000)), self.hexid(16)))}"
                )
                lines.append(line)
                total += len(line) + 1
        return "\n".join(lines) + "\n"

    def hpa(self, name: str, namespace: str, labels: dict[str, str], replicas: int) -> dict[str, Any]:
        return {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": max(1, replicas - self.rng.randint(0, 1)),
                "maxReplicas": replicas * self.rng.choice((2, 4, 5)),
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                    }
                ],
            },
        }

    @staticmethod
    def render_docs(docs: list[tuple[str, dict[str, Any]]], app: App) -> str:
        if app.helm:  # `helm template` output: every document introduced and attributed
            return "".join(
                f"---\n# Source: {app.name}/templates/{template}.yaml\n{to_yaml(doc)}" for template, doc in docs
            )
        return "---\n".join(to_yaml(doc, indent_seqs=False) for _, doc in docs)  # kustomize build output

    def workload_file(self) -> None:
        rng = self.rng
        if self.chance(0.06):
            self.addon_daemonset()
            return
        service = rng.choice(self.open_apps) if self.open_apps and self.chance(0.55) else self.new_service()
        env = service.envs.pop(0)
        if not service.envs:
            self.open_apps.remove(service)
        kind = rng.choices(("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"), (60, 12, 4, 9, 15))[0]
        large = self.chance(0.05)
        content = self.render_docs(self.workload_docs(service, env, kind, large), service)
        if self.chance(0.003):  # someone's broken edit: EKS001
            content = content.replace("\n  template:\n", "\n  template:\n   bad-indent: [\n", 1)
        if self.chance(0.01):
            content = content.replace(
                "tolerations:\n", "tolerations:\n# ekslint: disable=EKS402 -- dedicated nodes\n", 1
            )
        self.add(self.workload_path(service, env, kind), "workload", content)

    def addon_daemonset(self) -> None:
        addon = self.rng.choice(ADDONS)
        env = self.rng.choice(ENVS)
        service = App("platform", addon, [], helm=self.chance(0.5), layout="deploy")
        docs = self.workload_docs(service, env, "DaemonSet", False)
        self.add(f"platform/addons/{addon}/{env}/daemonset.yaml", "workload", self.render_docs(docs, service))

    # -- PDBs -----------------------------------------------------------------------
    def pdb_doc(self, target: PdbTarget, broken: bool) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        if broken:
            spec.update(
                self.rng.choice(({"maxUnavailable": 0}, {"minAvailable": target.replicas}, {"minAvailable": "100%"}))
            )
        else:
            spec.update(
                self.rng.choice(
                    ({"maxUnavailable": 1}, {"maxUnavailable": "25%"}, {"minAvailable": "50%"}, {"minAvailable": 1})
                )
            )
        selector: dict[str, Any] = {"matchLabels": dict(target.labels)}
        if self.chance(0.1):
            selector["matchExpressions"] = [{"key": "tier", "operator": "NotIn", "values": ["canary"]}]
        spec["selector"] = selector
        meta = {"name": target.name, "namespace": target.namespace, "labels": dict(target.labels)}
        return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta, "spec": spec}

    def pdb_file(self) -> None:
        broken = self.chance(0.04)
        if self.targets and self.chance(0.65):  # next to its workload
            target = self.rng.choice(self.targets)
            self.add(f"{target.directory}/pdb-{target.name}.yaml", "pdb", to_yaml(self.pdb_doc(target, broken)))
            return
        if self.targets and self.chance(0.7):  # a central policy repo selecting real workloads
            target = self.rng.choice(self.targets)
        else:  # a PDB for something defined elsewhere
            name = self.unique(f"{self.rng.choice(NOUNS)}-{self.rng.choice(ROLES)}")
            namespace = self.rng.choice(self.teams)
            target = PdbTarget("", name, namespace, {"app": name}, 2)
        path = f"platform/policies/disruption-budgets/{target.namespace}/{target.name}.yaml"
        self.add(path, "pdb", to_yaml(self.pdb_doc(target, broken), indent_seqs=False))

    # -- eksctl ---------------------------------------------------------------------
    def bootstrap_script(self, cluster: str, node_class: str, allow: list[str], extra_lines: int) -> str:
        rng = self.rng
        lines = ["#!/bin/bash", "set -o xtrace", "set -euo pipefail", ""]
        prelude = [
            "yum install -y amazon-ssm-agent jq",
            "systemctl enable --now amazon-ssm-agent",
            "echo 'vm.max_map_count=262144' > /etc/sysctl.d/99-app.conf",
            "sysctl --system",
            "INSTANCE_ID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)",
            'echo "booting ${INSTANCE_ID}" | logger -t userdata',
            "mkdir -p /var/lib/app && chmod 0750 /var/lib/app",
            "cat <<'EOF' > /etc/security/limits.d/90-nofile.conf\n*  soft  nofile  65536\n*  hard  nofile  65536\nEOF",
        ]
        lines.extend(rng.sample(prelude, min(extra_lines, len(prelude))))
        args = [f"--node-labels=workload={node_class},team={rng.choice(self.teams)}"]
        if self.chance(0.5):
            args.append(f"--max-pods={rng.choice((29, 58, 110))}")
        if allow:
            args.append(f"--allowed-unsafe-sysctls={','.join(allow)}")
        if node_class in ("batch", "gpu") and self.chance(0.6):
            args.append(f"--register-with-taints=dedicated={node_class}:NoSchedule")
        lines.append(
            f"/etc/eks/bootstrap.sh {cluster} \\\n  --container-runtime containerd \\\n"
            f"  --kubelet-extra-args '{' '.join(args)}'"
        )
        return "\n".join(lines) + "\n"

    def nodeconfig(
        self, cluster: str, region: str, node_class: str, allow: list[str], with_cluster: bool
    ) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        if with_cluster:
            spec["cluster"] = {
                "name": cluster,
                "apiServerEndpoint": self.endpoint(region),
                "certificateAuthority": self.ca_data(),
                "cidr": "10.100.0.0/16",
            }
        config: dict[str, Any] = {"maxPods": self.rng.choice((58, 110)), "shutdownGracePeriod": "30s"}
        if allow:
            config["allowedUnsafeSysctls"] = list(allow)
        spec["kubelet"] = {"config": config, "flags": [f"--node-labels=workload={node_class}"]}
        return {"apiVersion": "node.eks.aws/v1alpha1", "kind": "NodeConfig", "spec": spec}

    def node_group(self, cluster: str, region: str, index: int, managed: bool) -> dict[str, Any]:
        rng = self.rng
        node_class = rng.choice(NODE_CLASSES)
        name = f"{node_class}-{'abc'[index % 3]}{index}"
        group: dict[str, Any] = {"name": name}
        allow = rng.sample(ALLOWANCES, rng.randint(1, 2)) if self.chance(0.35) else []
        flavour = rng.choices(
            ("al2023", "al2-override", "al2023-override", "bottlerocket", "ubuntu"), (45, 20, 15, 15, 5)
        )[0]
        if flavour == "al2-override":
            group["amiFamily"] = "AmazonLinux2"
            if not (managed and self.chance(0.08)):  # occasionally forgotten: EKS201
                group["ami"] = f"ami-{self.hexid(17)}"
        elif flavour == "bottlerocket":
            group["amiFamily"] = "Bottlerocket"
        elif flavour == "ubuntu":
            group["amiFamily"] = "Ubuntu2204"
            group["ami"] = f"ami-{self.hexid(17)}"
        if self.chance(0.6):
            group["instanceType"] = rng.choice(INSTANCE_TYPES)
        elif managed:
            group["instanceTypes"] = rng.sample(INSTANCE_TYPES, 3)
        else:
            group["instancesDistribution"] = {
                "instanceTypes": rng.sample(INSTANCE_TYPES, 3),
                "onDemandBaseCapacity": 0,
                "onDemandPercentageAboveBaseCapacity": 20,
                "spotAllocationStrategy": "price-capacity-optimized",
            }
        low = rng.randint(1, 3)
        group.update({"minSize": low, "maxSize": low + rng.randint(2, 20), "desiredCapacity": low})
        group.update({"volumeSize": rng.choice((50, 80, 100, 200)), "volumeType": "gp3", "privateNetworking": True})
        group["labels"] = {"workload": node_class, "team": rng.choice(self.teams)}
        if node_class in ("batch", "gpu", "ingress") or self.chance(0.15):
            group["taints"] = [{"key": "dedicated", "value": node_class, "effect": "NoSchedule"}]
        group["tags"] = {"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{cluster}": "owned"}
        group["iam"] = {"withAddonPolicies": {"autoScaler": True, "cloudWatch": True, "ebs": self.chance(0.5)}}
        if managed and self.chance(0.5):
            group["updateConfig"] = {"maxUnavailablePercentage": rng.choice((10, 25, 33))}
        if managed and self.chance(0.2):
            group["spot"] = True
        if not managed and flavour in ("al2023", "al2-override") and self.chance(0.7):
            extra: dict[str, Any] = {
                "kubeReserved": {"cpu": "250m", "memory": "1Gi", "ephemeral-storage": "1Gi"},
                "evictionHard": {"memory.available": "200Mi", "nodefs.available": "10%"},
                "featureGates": {"RotateKubeletServerCertificate": True},
            }
            if allow:
                extra["allowedUnsafeSysctls"] = list(allow)
            group["kubeletExtraConfig"] = extra
            allow = []
        if not managed and self.chance(0.4):
            group["preBootstrapCommands"] = [
                "yum install -y amazon-ssm-agent",
                "echo 'net.core.somaxconn=4096' >> /etc/sysctl.conf && sysctl -p",
            ]
        if flavour in ("al2-override", "ubuntu"):
            group["overrideBootstrapCommand"] = self.bootstrap_script(cluster, node_class, allow, rng.randint(0, 4))
        elif flavour == "al2023-override":
            group["overrideBootstrapCommand"] = to_yaml(
                self.nodeconfig(cluster, region, node_class, allow, with_cluster=False), indent_seqs=False
            )
        elif flavour == "bottlerocket":
            settings: dict[str, Any] = {"kubernetes": {"node-labels": {"workload": node_class}}}
            if allow:
                settings["kubernetes"]["allowed-unsafe-sysctls"] = list(allow)
            if self.chance(0.5):
                settings["kernel"] = {"sysctl": {"net.core.somaxconn": "4096"}}
            group["bottlerocket"] = {"enableAdminContainer": False, "settings": settings}
        return group

    def eksctl_file(self) -> None:
        rng = self.rng
        name, env, region = self.cluster(new=True)
        version: Any = rng.choice(K8S_VERSIONS)
        if self.chance(0.1):
            version = Raw(version)  # written unquoted: a YAML float eksctl still reads as text
        doc: dict[str, Any] = {
            "apiVersion": "eksctl.io/v1alpha5",
            "kind": "ClusterConfig",
            "metadata": {
                "name": name,
                "region": region,
                "version": version,
                "tags": {"environment": env, "cost-center": str(rng.randint(1000, 9999)), "owner": "platform"},
            },
            "iam": {
                "withOIDC": True,
                "serviceAccounts": [
                    {
                        "metadata": {"name": f"{rng.choice(NOUNS)}-controller", "namespace": "kube-system"},
                        "attachPolicyARNs": [f"arn:aws:iam::{self.account()}:policy/{rng.choice(NOUNS)}-access"],
                        "roleName": f"{name}-{rng.choice(NOUNS)}",
                    }
                    for _ in range(rng.randint(1, 5))
                ],
            },
            "vpc": {
                "id": f"vpc-{self.hexid(17)}",
                "cidr": "10.0.0.0/16",
                "subnets": {
                    "private": {f"{region}{az}": {"id": f"subnet-{self.hexid(17)}"} for az in "abc"},
                },
                "clusterEndpoints": {"privateAccess": True, "publicAccess": self.chance(0.3)},
            },
            "addons": [
                {
                    "name": "vpc-cni",
                    "version": "latest",
                    "configurationValues": '{"env":{"ENABLE_PREFIX_DELEGATION":"true"}}',
                },
                {"name": "coredns", "version": "latest"},
                {"name": "kube-proxy", "version": "latest"},
                {"name": "aws-ebs-csi-driver", "wellKnownPolicies": {"ebsCSIController": True}},
            ],
            "cloudWatch": {
                "clusterLogging": {"enableTypes": ["api", "audit", "authenticator"], "logRetentionInDays": 30}
            },
        }
        managed: list[Any] = [self.node_group(name, region, i, True) for i in range(rng.randint(2, 6))]
        if len(managed) >= 3 and self.chance(0.2):  # shared defaults through an anchor and merge keys
            first = managed[0]
            managed[0] = Anchored("ng-defaults", first)
            for i in range(1, len(managed)):
                managed[i] = {"<<": Alias("ng-defaults"), "name": managed[i]["name"], "labels": managed[i]["labels"]}
        doc["managedNodeGroups"] = managed
        if self.chance(0.5):
            doc["nodeGroups"] = [self.node_group(name, region, 10 + i, False) for i in range(rng.randint(1, 3))]
        header = f"# eksctl config for {name} ({env}); apply with: eksctl create cluster -f <this file>\n"
        layout = rng.choice(("platform", "platform", "team", "infra"))
        if layout == "platform":
            path = f"platform/clusters/{env}/{region}/{name}.eksctl.yaml"
        elif layout == "team":
            path = f"teams/{rng.choice(self.teams)}/cluster/{name}.yaml"
        else:
            path = f"infra/eksctl/{name}.yaml"
        self.add(path, "eksctl", header + to_yaml(doc, indent_seqs=self.chance(0.5)))

    # -- userdata -------------------------------------------------------------------
    def terraform_file(self) -> None:
        """A .tf file in the shapes of terraform-aws-eks examples/eks-managed-node-group and
        of aws_launch_template + aws_eks_node_group modules (cloudposse, clouddrove)."""
        rng = self.rng
        cluster, _env, _region = self.cluster(new=False)
        groups = []
        for index in range(rng.randint(1, 4)):
            pool = f"{rng.choice(NODE_CLASSES)}-{index}"
            allow = rng.sample(ALLOWANCES, rng.randint(1, 2)) if self.chance(0.4) else []
            newline = "\n" + " " * 18
            sysctls = newline + "allowedUnsafeSysctls:" + "".join(f"{newline}  - {a}" for a in allow) if allow else ""
            instance_type = rng.choice(("m5.large", "m6i.xlarge", "c6i.2xlarge", "r6i.large"))
            max_pods = rng.choice((29, 58, 110))
            groups.append(
                f"""    {pool} = {{
      instance_types = ["{instance_type}"]
      ami_type       = "AL2023_x86_64_STANDARD"
      labels = {{
        "node-class" = "{pool}"
      }}
      taints = {{
        dedicated = {{ key = "dedicated", value = "{pool}", effect = "NO_SCHEDULE" }}
      }}
      cloudinit_pre_nodeadm = [
        {{
          content_type = "application/node.eks.aws"
          content      = <<-EOT
            apiVersion: node.eks.aws/v1alpha1
            kind: NodeConfig
            spec:
              kubelet:
                config:
                  maxPods: {max_pods}{sysctls}
          EOT
        }}
      ]
    }}
"""
            )
        body = f"""module "eks" {{
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = "{cluster}"
  kubernetes_version = "1.33"
  vpc_id             = module.vpc.vpc_id
  subnet_ids         = module.vpc.private_subnets

  eks_managed_node_groups = {{
{"".join(groups)}  }}
}}
"""
        self.add(f"infra/terraform/{cluster}/{self.unique('eks')}.tf", "terraform", body)

    def userdata_file(self) -> None:
        rng = self.rng
        cluster, _env, region = self.cluster(new=False)
        pool = self.unique(f"{rng.choice(NODE_CLASSES)}-pool")
        node_class = pool.split("-")[0]
        allow = rng.sample(ALLOWANCES, rng.randint(1, 2)) if self.chance(0.4) else []
        base = rng.choice((f"platform/nodes/{cluster}/{pool}", f"platform/launch-templates/{pool}"))
        kind = rng.choices(("mime", "script", "toml", "base64"), (40, 25, 20, 15))[0]
        if kind == "mime":
            self.add(f"{base}/userdata.mime", "userdata", self.mime(cluster, region, node_class, allow))
        elif kind == "script":
            body = self.bootstrap_script(cluster, node_class, allow, rng.randint(2, 8))
            self.add(f"{base}/{rng.choice(('bootstrap.sh', 'user-data.sh'))}", "userdata", body)
        elif kind == "toml":
            self.add(f"{base}/userdata.toml", "userdata", self.bottlerocket_toml(cluster, region, node_class, allow))
        else:
            inner = rng.choice(
                (
                    self.mime(cluster, region, node_class, allow),
                    self.bootstrap_script(cluster, node_class, allow, 3),
                )
            ).encode("utf-8")
            payload = _gzip_stored(inner) if self.chance(0.4) else inner
            self.add(f"{base}/user-data.b64", "userdata", _wrap76(payload))

    def mime(self, cluster: str, region: str, node_class: str, allow: list[str]) -> str:
        boundary = self.rng.choice(("//", "==BOUNDARY==", "MIMEBOUNDARY"))
        complete = not self.chance(0.05)  # an incomplete NodeConfig: EKS203
        first = self.nodeconfig(cluster, region, node_class, allow, with_cluster=True)
        if not complete:
            del first["spec"]["cluster"]["cidr"]
        parts = [("application/node.eks.aws", "---\n" + to_yaml(first))]
        if self.chance(0.4):
            drop_in = {"apiVersion": "node.eks.aws/v1alpha1", "kind": "NodeConfig",
                       "spec": {"containerd": {"config": '[grpc]\naddress = "/run/foo/foo.sock"\n'}}}  # fmt: skip
            parts.append(("application/node.eks.aws", "---\n" + to_yaml(drop_in)))
        if self.chance(0.6):
            script = "#!/bin/bash\nset -euo pipefail\necho 'node ready' | logger -t userdata\nyum install -y jq\n"
            parts.append(('text/x-shellscript; charset="us-ascii"', script))
        out = [f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n']
        for media, body in parts:
            out.append(f"--{boundary}\nContent-Type: {media}\n\n{body}")
        out.append(f"--{boundary}--\n")
        return "\n".join(out)

    def bottlerocket_toml(self, cluster: str, region: str, node_class: str, allow: list[str]) -> str:
        lines = [
            "[settings.kubernetes]",
            f'cluster-name = "{cluster}"',
            f'api-server = "{self.endpoint(region)}"',
            f'cluster-certificate = "{self.ca_data()}"',
            'cluster-dns-ip = "172.20.0.10"',
            f"max-pods = {self.rng.choice((29, 58, 110))}",
        ]
        if allow:
            lines.append("allowed-unsafe-sysctls = [" + ", ".join(json.dumps(a) for a in allow) + "]")
        lines += [
            "",
            "[settings.kubernetes.node-labels]",
            f'"workload" = "{node_class}"',
            '"bottlerocket.aws/updater-interface-version" = "2.0.0"',
        ]
        if node_class in ("batch", "gpu"):
            lines += ["", "[settings.kubernetes.node-taints]", f'"dedicated" = ["{node_class}:NoSchedule"]']
        lines += [
            "",
            "[settings.host-containers.admin]",
            "enabled = false",
            "",
            "[settings.kernel.sysctl]",
            '"net.core.somaxconn" = "4096"',
        ]
        return "\n".join(lines) + "\n"

    # -- CloudFormation -------------------------------------------------------------
    def cloudformation_file(self) -> None:
        rng = self.rng
        cluster, _env, region = self.cluster(new=False)
        pool = self.unique(f"{rng.choice(NODE_CLASSES)}-pool")
        node_class = pool.split("-")[0]
        allow = rng.sample(ALLOWANCES, 1) if self.chance(0.3) else []
        instance = rng.choice(INSTANCE_TYPES)
        base = f"platform/cloudformation/{cluster}/{pool}"
        if self.chance(0.2):  # JSON, userdata as Fn::Join of lines
            script = self.bootstrap_script(cluster, node_class, allow, 2).splitlines()
            pieces: list[Any] = []
            for line in script:
                before, named, after = line.partition(cluster)
                pieces += [before, {"Ref": "ClusterName"}, after + "\n"] if named else [line + "\n"]
            template = {
                "AWSTemplateFormatVersion": "2010-09-09",
                "Parameters": {"ClusterName": {"Type": "String", "Default": cluster}},
                "Resources": {
                    "NodeLaunchTemplate": {
                        "Type": "AWS::EC2::LaunchTemplate",
                        "Properties": {
                            "LaunchTemplateData": {
                                "InstanceType": instance,
                                "UserData": {"Fn::Base64": {"Fn::Join": ["", pieces]}},
                            }
                        },
                    },
                    "NodeGroup": {
                        "Type": "AWS::AutoScaling::AutoScalingGroup",
                        "Properties": {
                            "MinSize": "1",
                            "MaxSize": str(rng.randint(2, 20)),
                            "LaunchTemplate": {"LaunchTemplateId": {"Ref": "NodeLaunchTemplate"}, "Version": "1"},
                        },
                    },
                },
            }
            self.add(f"{base}/nodes.template.json", "cloudformation", json.dumps(template, indent=2) + "\n")
            return
        managed = self.chance(0.5)
        if managed:
            body = self.mime(cluster, region, node_class, allow)
            userdata = "        UserData:\n          Fn::Base64: |\n" + "".join(
                f"            {line}\n" if line else "\n" for line in body.splitlines()
            )
        else:
            script = self.bootstrap_script(cluster, node_class, allow, rng.randint(2, 6)).replace(
                cluster, "${ClusterName}"
            )
            script += (
                "/opt/aws/bin/cfn-signal --exit-code $? --stack ${AWS::StackName} --resource NodeGroup "
                "--region ${AWS::Region}\n"
            )
            userdata = "        UserData: !Base64\n          Fn::Sub: |\n" + "".join(
                f"            {line}\n" if line else "\n" for line in script.splitlines()
            )
        head = (
            'AWSTemplateFormatVersion: "2010-09-09"\n'
            f"Description: {cluster} {pool} nodes\n"
            "Parameters:\n"
            f"  ClusterName: {{Type: String, Default: {cluster}}}\n"
            f'  KubernetesVersion: {{Type: String, Default: "{rng.choice(K8S_VERSIONS)}"}}\n'
            "Resources:\n"
            "  NodeLaunchTemplate:\n"
            "    Type: AWS::EC2::LaunchTemplate\n"
            "    Properties:\n"
            "      LaunchTemplateData:\n"
            f"        InstanceType: {instance}\n"
            "        MetadataOptions: {HttpTokens: required, HttpPutResponseHopLimit: 2}\n"
        )
        if managed:
            group = (
                "  NodeGroup:\n"
                "    Type: AWS::EKS::Nodegroup\n"
                "    Properties:\n"
                "      ClusterName: !Ref ClusterName\n"
                f"      NodegroupName: {pool}\n"
                "      AmiType: AL2023_x86_64_STANDARD\n"
                "      NodeRole: !GetAtt NodeRole.Arn\n"
                "      Subnets: !Split [',', !ImportValue platform-private-subnets]\n"
                f"      Labels: {{workload: {node_class}}}\n"
                + (
                    f"      Taints: [{{Key: dedicated, Value: {node_class}, Effect: NO_SCHEDULE}}]\n"
                    if node_class in ("batch", "gpu")
                    else ""
                )
                + "      LaunchTemplate:\n"
                "        Id: !Ref NodeLaunchTemplate\n"
                "        Version: !GetAtt NodeLaunchTemplate.LatestVersionNumber\n"
            )
        else:
            group = (
                "  NodeGroup:\n"
                "    Type: AWS::AutoScaling::AutoScalingGroup\n"
                "    Properties:\n"
                "      MinSize: '1'\n"
                f"      MaxSize: '{rng.randint(2, 20)}'\n"
                "      LaunchTemplate:\n"
                "        LaunchTemplateId: !Ref NodeLaunchTemplate\n"
                "        Version: !GetAtt NodeLaunchTemplate.LatestVersionNumber\n"
                "      Tags:\n"
                "        - {Key: !Sub 'kubernetes.io/cluster/${ClusterName}', Value: owned, PropagateAtLaunch: true}\n"
            )
        self.add(f"{base}/nodes.yaml", "cloudformation", head + userdata + "\n" + group)

    # -- files ekslint must skip ------------------------------------------------------
    def skip_file(self) -> None:
        rng = self.rng
        service = rng.choice(self.services) if self.services else self.new_service()
        base = f"teams/{service.team}/{service.name}"
        kind = rng.choices(("readme", "helm", "json", "text"), (35, 30, 20, 15))[0]
        if kind == "readme":
            body = (
                f"# {service.name}\n\nOwned by **{service.team}**. "
                f"Deployed to {', '.join(ENVS)} through the platform pipeline.\n\n"
                "## Running locally\n\n```sh\nmake run\n```\n\n## Configuration\n\n"
                + "".join(f"- `{n}`: see the runbook.\n" for n in rng.sample(ENV_NAMES, 5))
            )
            self.add(f"{base}/README.md", "skip", body)
        elif kind == "helm":
            body = (
                "{{- if .Values.enabled }}\n"
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                '  name: {{ include "app.fullname" . }}\n  labels:\n    {{- include "app.labels" . | nindent 4 }}\n'
                "spec:\n  replicas: {{ .Values.replicaCount }}\n  selector:\n    matchLabels:\n"
                '      {{- include "app.selectorLabels" . | nindent 6 }}\n  template:\n    spec:\n'
                "      containers:\n        - name: {{ .Chart.Name }}\n"
                '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
                "          resources:\n            {{- toYaml .Values.resources | nindent 12 }}\n{{- end }}\n"
            )
            self.add(
                f"{base}/chart/templates/{rng.choice(('deployment', 'statefulset', 'cronjob'))}.yaml", "skip", body
            )
        elif kind == "json":
            metric = service.name.replace("-", "_") + "_seconds_bucket"
            panels = [
                {
                    "id": i,
                    "title": f"{rng.choice(NOUNS)} latency",
                    "type": "timeseries",
                    "targets": [{"expr": f"histogram_quantile(0.99, rate({metric}[5m]))"}],
                }
                for i in range(rng.randint(2, 12))
            ]
            dashboard = {
                "title": f"{service.name} overview",
                "uid": self.hexid(9),
                "panels": panels,
                "schemaVersion": 39,
            }
            self.add(f"dashboards/{service.team}/{service.name}.json", "skip", json.dumps(dashboard, indent=2) + "\n")
        else:
            sentences = [
                f"- {rng.choice(NOUNS).capitalize()} {rng.choice(ROLES)}: "
                + " ".join(rng.choice(NOUNS + ROLES) for _ in range(rng.randint(4, 14)))
                + "."
                for _ in range(rng.randint(3, 20))
            ]
            self.add(f"{base}/NOTES.txt", "skip", f"Release notes, {self.semver()}\n\n" + "\n".join(sentences) + "\n")


def generate(files: int, out: Path, seed: int = DEFAULT_SEED) -> CorpusSummary:
    """Write a corpus of exactly ``files`` files under ``out`` (which must be empty)."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; give a new directory")
    rng = random.Random(seed)
    gen = _Generator(rng)
    gen.teams = list(TEAMS[: max(4, min(len(TEAMS), files // 150))])
    counts = allocate(files)
    makers = {
        "workload": gen.workload_file,
        "pdb": gen.pdb_file,
        "eksctl": gen.eksctl_file,
        "userdata": gen.userdata_file,
        "cloudformation": gen.cloudformation_file,
        "skip": gen.skip_file,
        "terraform": gen.terraform_file,
    }
    for category, _ in MIX:
        for _ in range(counts[category]):
            makers[category]()
    by_category = {name: CategoryStats() for name, _ in MIX}
    total = 0
    for path, (category, content) in gen.files.items():
        data = content.encode("utf-8")
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        by_category[category].files += 1
        by_category[category].bytes += len(data)
        total += len(data)
    return CorpusSummary(len(gen.files), total, seed, by_category)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--files", type=int, required=True, help="number of files to write")
    parser.add_argument("--out", type=Path, required=True, help="directory to create (must be new or empty)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error("--files must be at least 1")
    try:
        summary = generate(args.files, args.out, args.seed)
    except FileExistsError as err:
        print(f"make_corpus: {err}", file=sys.stderr)
        return 2
    print(f"wrote {summary.files} files, {summary.bytes / 1e6:.1f} MB, seed {summary.seed} to {args.out}")
    for name, stats in summary.by_category.items():
        print(f"  {name:<9} {stats.files:>7} files {stats.bytes / 1e6:>8.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
