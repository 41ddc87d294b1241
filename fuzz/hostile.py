"""Generators of the hostile input classes of issue 15: suppression comments and
``ekslint.io/ignore`` annotations built to make a backtracking matcher crawl, long
dotted TOML keys and deep TOML arrays, MIME files of many base64+gzip parts, numbers
no 64-bit integer holds (in replicas, tolerationSeconds, maxPods, CEL), and control
characters in values and file names. Each takes a ``random.Random``; ``random_name``
gives the file name a report must then show escaped."""

from __future__ import annotations

import base64
import functools
import gzip
import json
import random

_RUNS = [" ", "\t", ",", "A", "a", "0", "_", "-", "--", ":", "#", ".", "\u3000", "\u2028", "EKS402,", " , "]
_CONTROL = ["\n", "\r", "\x1b[31m", "\x07", "\x00", "\x7f", "\x85", "\x9b", "\u2028", "\u202e", "\ufeff", "%0A", "::"]


def _run(rnd: random.Random, most: int = 3000) -> str:
    return rnd.choice(_RUNS) * rnd.randint(1, most)


def _manifest(rnd: random.Random, replicas: str = "2", seconds: str = "30", name: str = "web") -> str:
    return (
        f"apiVersion: apps/v1\nkind: {rnd.choice(['Deployment', 'StatefulSet'])}\nmetadata:\n  name: {name}\n"
        f"  namespace: x\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: a}}}}\n  template:\n"
        "    metadata: {labels: {app: a}}\n    spec:\n      tolerations:\n"
        f"        - {{key: k, operator: Exists, effect: NoExecute, tolerationSeconds: {seconds}}}\n"
        "      containers: [{name: c, image: i}]\n"
    )


def suppression_comments(rnd: random.Random) -> bytes:
    """A manifest with suppression comments and an annotation of hostile shapes."""
    lines = _manifest(rnd).split("\n")
    for _ in range(rnd.randint(1, 4)):
        directive = rnd.choice(["disable", "disable-file", "disabled", "disable-", ""])
        comment = (
            f"#{_run(rnd, 5)}ekslint:{_run(rnd, 5)}{directive}{_run(rnd, 5)}={rnd.choice(['EKS402', 'A', ''])}"
            f"{_run(rnd)}{rnd.choice(['', '--', ' -- reason', '!', '#'])}{_run(rnd, 100)}"
        )
        at = rnd.randrange(len(lines))
        lines[at] = f"{lines[at]}  {comment}" if lines[at] and rnd.random() < 0.5 else comment
    annotation = f"{rnd.choice(['EKS402', 'all', ''])}{_run(rnd)}{rnd.choice(['', ':', ': why', '!'])}{_run(rnd, 50)}"
    annotated = f"metadata:\n  name: web\n  annotations:\n    ekslint.io/ignore: {json.dumps(annotation)}"
    text = "\n".join(lines).replace("metadata:\n  name: web", annotated)
    return text.encode()


def toml_keys(rnd: random.Random) -> bytes:
    """Bottlerocket settings with long dotted keys, deep arrays or huge integers."""
    parts = rnd.choice([2, 10, 127, 128, 129, 1000, 10_000])
    key = rnd.choice(["a", '"a.b"', "'q'", "a-b", " a "])
    shape = rnd.randrange(5)
    if shape == 0:
        body = f"[settings.kubernetes]\n{'.'.join([key] * parts)} = 1\n"
    elif shape == 1:
        body = f"[{'.'.join([key] * parts)}]\nx = 1\n"
    elif shape == 2:
        depth = rnd.choice([10, 127, 128, 129, 5000])
        opener, closer = rnd.choice([("[", "]"), ("{a=", "}")])
        body = f"[settings.kubernetes]\nx = {opener * depth}1{closer * depth}\n"
    elif shape == 3:
        body = f'[settings.kubernetes]\nmax-pods = {_huge_number(rnd, toml=True)}\ncluster-name = "c"\n'
    else:
        body = f'[settings.kubernetes]\nnode-labels."{_run(rnd, 200)}" = "{"." * parts}"\n'
    return body.encode()


def mime_parts(rnd: random.Random) -> bytes:
    """MIME userdata of many parts, each base64 and often gzip, some just under the
    per-part limit of a small test (large ones would make the loop slow)."""
    count = 1001 if rnd.random() < 0.03 else rnd.choice([1, 2, 10, 100])
    # Many parts of a large inflated size pass the per-file total (8 MiB by default).
    size = rnd.choice([10, 1000] if count > 10 and rnd.random() < 0.9 else [10, 1000, 100_000])
    encoded = _part_body(size, rnd.random() < 0.8)
    part = f"--//\nContent-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\n{encoded}\n"
    head = 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="//"\n\n'
    return (head + part * count + rnd.choice(["--//--\n", ""])).encode()


@functools.cache
def _part_body(size: int, compressed: bool) -> str:
    body = b"#!/bin/bash\n/etc/eks/bootstrap.sh c\n" + b" " * size
    return base64.b64encode(gzip.compress(body, mtime=0) if compressed else body).decode()


def _huge_number(rnd: random.Random, toml: bool = False) -> str:
    digits = rnd.choice([17, 20, 21, 64, 400, 5000])
    shape = rnd.randrange(6 if not toml else 4)
    sign = rnd.choice(["", "-", "+"]) if not toml or shape < 2 else ""
    if shape == 0:
        return sign + "0x" + "".join(rnd.choice("0123456789abcdefABCDEF") for _ in range(digits))
    if shape == 1:
        return sign + "9" * digits
    if shape == 2:
        return "0b" + "1" * (digits * 4)
    if shape == 3:
        return "0o7" + "7" * digits if toml else "07" + "7" * digits
    return rnd.choice(["1e999", "-1e999", ".nan", ".inf", "1_0" * digits])


def huge_numbers(rnd: random.Random) -> bytes:
    """Numbers past 64 bits where rules read numbers: replicas, tolerationSeconds, a PDB,
    eksctl maxPodsPerNode, a NodeConfig's maxPods and maxPodsExpression."""
    shape = rnd.randrange(4)
    number = _huge_number(rnd)
    if shape == 0:
        return _manifest(rnd, number, _huge_number(rnd)).encode()
    if shape == 1:
        return (
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p, namespace: x}\n"
            f"spec:\n  {rnd.choice(['minAvailable', 'maxUnavailable'])}: {number}\n"
            "  selector: {matchLabels: {app: a}}\n"
            "---\n" + _manifest(rnd)
        ).encode()
    if shape == 2:
        return (
            "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: c, region: us-east-1}\n"
            f"managedNodeGroups:\n  - name: a\n    instanceType: m5.large\n    maxPodsPerNode: {number}\n"
        ).encode()
    depth = rnd.choice([0, 10, 251, 3000])
    expression = rnd.choice(["(", "-", "!", "["]) * depth + rnd.choice([number.lstrip("+"), "max_pods"]) + ""
    expression += {"(": ")", "[": "]"}.get(expression[:1], "") * depth if depth else ""
    return (
        "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n"
        f"    config: {{maxPods: {number}}}\n    maxPodsExpression: {json.dumps(expression)}\n"
    ).encode()


def control_characters(rnd: random.Random) -> bytes:
    """A manifest whose names and values hold control characters (as YAML escapes)."""
    hostile = "".join(rnd.choice(_CONTROL) + _run(rnd, 5) for _ in range(rnd.randint(1, 6)))
    name = json.dumps(f"a{hostile}b")
    text = _manifest(rnd, name=name)
    if rnd.random() < 0.5:
        text = text.replace("operator: Exists", "operator: Exists, value: " + json.dumps(hostile), 1)
        text += f"# ekslint: disable=EKS402 -- {hostile.replace(chr(10), ' ')}\n"
    return text.encode()


def random_name(rnd: random.Random) -> str:
    """A file name with control characters, for the report to escape."""
    if rnd.random() < 0.7:
        return rnd.choice(["input.yaml", "userdata.mime", "settings.toml"])
    return f"in{''.join(rnd.choice(_CONTROL) for _ in range(rnd.randint(1, 4)))}put.yaml"


GENERATORS = (suppression_comments, toml_keys, mime_parts, huge_numbers, control_characters)
