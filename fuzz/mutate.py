"""Seeds and mutations for fuzzing: the rule fixtures and examples as seeds, byte-level
and YAML-structure mutations, and generators of MIME, bootstrap scripts and TOML.
Every mutator takes a ``random.Random`` so hypothesis (``st.randoms()``), atheris and a
plain loop can drive the same code."""

from __future__ import annotations

import base64
import copy
import gzip
import random
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SEED_ROOTS = (REPO / "tests" / "rules", REPO / "examples")

# Values that are the wrong type, out of range, or odd for the fields rules read.
ODD_VALUES: list[Any] = [
    None,
    [],
    {},
    [1, "x", None],
    {"a": [1, {"b": None}]},
    "",
    "x",
    "-3%",
    "300%",
    "%",
    "abc%",
    "1.5%",
    "-0%",
    -1,
    0,
    2**70,
    -(2**70),
    1.5,
    float("inf"),
    True,
    "1e400",
    "0x10",
    "yes",
    "~",
    "*",
    "--",
    "-" * 3,
    "a" * 300,
    "\u00e9\u2028\ufeff",
    "kernel.*",
    "net.core.somaxconn=1",
    "/etc/eks/bootstrap.sh c --kubelet-extra-args '--allowed-unsafe-sysctls=kernel.*",
]
INTERESTING_TOKENS = [
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\r\n",
    b"\t",
    b"---\n",
    b"...\n",
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"[",
    b"]",
    b"{",
    b"}",
    b": ",
    b"- ",
    b"'",
    b'"',
    b"\\",
    b"%",
    b"!!binary ",
    b"!Ref ",
    b"? ",
    b"|",
    b">-",
    b"#",
    b"--//\n",
    b"--//--\n",
    b"Content-Type: application/node.eks.aws\n",
    b"Content-Transfer-Encoding: base64\n",
    b"$(",
    b"`",
    b"${X",
    b"<<EOF\n",
    b"\\\n",
    b"[settings.",
    b'"""',
    b"=",
    b"99999999999999999999",
]


def seeds() -> dict[str, dict[str, bytes]]:
    """Every fixture and example: ``{case: {relative path: bytes}}``. A directory
    case keeps its files together so cross-file rules see them."""
    cases: dict[str, dict[str, bytes]] = {}
    for root in SEED_ROOTS:
        for entry in sorted(root.glob("*/*")) if root.name == "rules" else sorted(root.iterdir()):
            if entry.name.startswith(("_", ".")) or entry.suffix == ".py":
                continue
            files = (
                {p.relative_to(entry).as_posix(): p.read_bytes() for p in sorted(entry.rglob("*")) if p.is_file()}
                if entry.is_dir()
                else {entry.name: entry.read_bytes()}
            )
            files = {k: v for k, v in files.items() if not k.endswith(("expect.txt", ".py"))}
            if files:
                cases[entry.relative_to(REPO).as_posix()] = files
    return cases


def mutate_bytes(data: bytes, rnd: random.Random, rounds: int = 0) -> bytes:
    """Flip, insert, delete, duplicate, truncate; a few times."""
    out = bytearray(data)
    for _ in range(rounds or rnd.randint(1, 4)):
        at = rnd.randint(0, len(out))
        op = rnd.randrange(7)
        if op == 0 and out:
            i = min(at, len(out) - 1)
            out[i] ^= 1 << rnd.randrange(8)
        elif op == 1:
            out[at:at] = bytes([rnd.randrange(256)])
        elif op == 2:
            out[at:at] = rnd.choice(INTERESTING_TOKENS)
        elif op == 3:
            del out[at : at + rnd.randint(1, 64)]
        elif op == 4:
            del out[at:]
        elif op == 5 and out:
            start = rnd.randrange(len(out))
            chunk = out[start : start + rnd.randint(1, 200)]
            out[at:at] = chunk * rnd.randint(1, 3)
        else:  # swap two lines
            lines = bytes(out).split(b"\n")
            if len(lines) > 2:
                i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                out = bytearray(b"\n".join(lines))
    return bytes(out)


def _nodes(root: Any, limit: int = 5000) -> list[tuple[Any, ...]]:
    """Paths to the values of a loaded document; an aliased (shared or recursive)
    collection is entered once."""
    found: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[Any, ...]]] = [(root, ())]
    while stack and len(found) < limit:
        value, path = stack.pop()
        found.append(path)
        if isinstance(value, (dict, list)):
            if id(value) in seen:
                continue
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((item, (*path, key)) for key, item in items)
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    value[path[0]] = _replace(value[path[0]], path[1:], new)
    return value


def mutate_yaml(data: bytes, rnd: random.Random) -> bytes | None:
    """Replace a few values of a YAML stream with values of another type (a list for a
    map, a number for a list, a negative or percent string for an int, ...). None when
    ``data`` is not YAML this can load."""
    from io import StringIO

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    try:
        docs = list(yaml.load_all(data.decode("utf-8")))
    except Exception:  # any failure: not a YAML seed
        return None
    if not docs:
        return None
    for _ in range(rnd.randint(1, 3)):
        index = rnd.randrange(len(docs))
        paths = _nodes(docs[index])
        # Prefer deep paths: the values rules read sit several levels down.
        path = max(rnd.sample(paths, min(3, len(paths))), key=len)
        new = copy.deepcopy(rnd.choice(ODD_VALUES))  # a later round may edit it in place
        if rnd.random() < 0.2 and path:
            new = {"nested": [new]} if rnd.random() < 0.5 else [new, new]
        docs[index] = _replace(docs[index], path, new)
    stream = StringIO()
    try:
        yaml.dump_all(docs, stream)
    except Exception:  # e.g. inf/-0 are fine, but be safe: not this mutation
        return None
    return stream.getvalue().encode("utf-8")


# -- generators ---------------------------------------------------------------------------

_SCRIPT_LINES = [
    "#!/bin/bash",
    "set -ex",
    "/etc/eks/bootstrap.sh my-cluster",
    "/etc/eks/bootstrap.sh my-cluster --kubelet-extra-args '--allowed-unsafe-sysctls=net.core.somaxconn'",
    '/etc/eks/bootstrap.sh "$CLUSTER" --kubelet-extra-args "--node-labels=a=b --register-with-taints=k=v:NoSchedule"',
    "/etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=110' --use-max-pods false",
    "/etc/eks/bootstrap.sh c --kubelet-extra-args",
    "/etc/eks/bootstrap.sh c --kubelet-extra-args '--allowed-unsafe-sysctls=",
    'EXTRA="--allowed-unsafe-sysctls=kernel.msg*"',
    'bootstrap.sh c --kubelet-extra-args "$EXTRA"',
    "echo 'unterminated",
    'echo "$(date) `uname`"',
    "cat <<EOF > /etc/kubernetes/kubelet/config.json",
    '{"allowedUnsafeSysctls": ["net.*"]}',
    "EOF",
    "jq '.allowedUnsafeSysctls += [\"kernel.shm*\"]' config.json > tmp",
    "if [ -f x ]; then /etc/eks/bootstrap.sh c; fi",
    "/etc/eks/bootstrap.sh c \\",
    "  --kubelet-extra-args '--node-labels=x=y'",
    "# /etc/eks/bootstrap.sh commented",
    "X=${Y:-z}; /etc/eks/bootstrap.sh $X --b64-cluster-ca $CA --apiserver-endpoint $EP",
    "sed -i 's/a/b/' /etc/eks/bootstrap.sh",
    "function f() { /etc/eks/bootstrap.sh c; }; f",
    "exec /etc/eks/bootstrap.sh c 'a''b'\"c\"",
    "\\",
    "'",
    '"',
    "((",
    ";;",
    "&&",
]

_NODECONFIG = """apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster:
    name: c
    apiServerEndpoint: https://example.com
    certificateAuthority: Y2E=
    cidr: 10.100.0.0/16
  kubelet:
    config:
      allowedUnsafeSysctls: [net.core.somaxconn]
      maxPods: 58
    flags:
      - --node-labels=a=b
      - --register-with-taints=k=v:NoSchedule
"""


def random_script(rnd: random.Random) -> str:
    lines = [rnd.choice(_SCRIPT_LINES) for _ in range(rnd.randint(1, 12))]
    if rnd.random() < 0.7:
        lines.insert(0, "#!/bin/bash")
    return "\n".join(lines) + ("\n" if rnd.random() < 0.8 else "")


def _encode_part(body: bytes, rnd: random.Random) -> tuple[bytes, list[str]]:
    headers: list[str] = []
    choice = rnd.randrange(5)
    if choice == 1:
        body = base64.b64encode(body)
        headers.append("Content-Transfer-Encoding: base64")
    elif choice == 2:
        body = base64.b64encode(gzip.compress(body))
        headers.append("Content-Transfer-Encoding: base64")
    elif choice == 3:
        body = base64.b64encode(body)  # no header: nodeadm still decodes it
    return body, headers


def random_mime(rnd: random.Random) -> bytes:
    """Multipart userdata assembled from random parts, encodings and defects."""
    boundary = rnd.choice(["//", "==BOUNDARY==", "b", "MIMEBOUNDARY", "a b", "--"])
    quoted = rnd.random() < 0.8
    lines = ["MIME-Version: 1.0"] if rnd.random() < 0.9 else []
    ct = f'multipart/mixed; boundary="{boundary}"' if quoted else f"multipart/mixed; boundary={boundary}"
    lines.append(f"Content-Type: {ct}")
    lines.append("")
    for _ in range(rnd.randint(0, 6)):
        lines.append(f"--{boundary}")
        kind = rnd.randrange(4)
        if kind == 0:
            media, body = "application/node.eks.aws", _NODECONFIG
            if rnd.random() < 0.5:
                body = mutate_bytes(body.encode(), rnd).decode("utf-8", "replace")
        elif kind == 1:
            media, body = "text/x-shellscript", random_script(rnd)
        elif kind == 2:
            media, body = rnd.choice(["text/cloud-config", "text/plain", ""]), "#cloud-config\nruncmd: [x]\n"
        else:
            media, body = "multipart/mixed", "nested"
        encoded, headers = _encode_part(body.encode(), rnd)
        if media:
            lines.append(f'Content-Type: {media}; charset="us-ascii"')
        lines.extend(headers)
        if rnd.random() < 0.9:
            lines.append("")
        lines.append(encoded.decode("ascii", "replace"))
    if rnd.random() < 0.8:
        lines.append(f"--{boundary}--")
    if rnd.random() < 0.2:
        lines.append("Content-Type: text/x-shellscript")
    text = "\n".join(lines) + "\n"
    if rnd.random() < 0.2:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    wrap = rnd.randrange(4)
    if wrap == 1:
        data = base64.b64encode(data)
    elif wrap == 2:
        data = base64.b64encode(gzip.compress(data))
    elif wrap == 3 and rnd.random() < 0.5:
        data = gzip.compress(data)
    return data


_TOML_LINES = [
    "[settings.kubernetes]",
    'cluster-name = "c"',
    'api-server = "https://example.com"',
    'cluster-certificate = "Y2E="',
    'allowed-unsafe-sysctls = ["net.core.somaxconn", "kernel.msg*"]',
    "allowed-unsafe-sysctls = 3",
    "max-pods = 110",
    'max-pods = "110"',
    "[settings.kubernetes.node-labels]",
    '"node.kubernetes.io/role" = "x"',
    "node.kubernetes.io/role = 1",
    "[settings.kubernetes.node-taints]",
    'dedicated = ["batch:NoSchedule"]',
    'dedicated = "batch:NoSchedule"',
    "[settings.kernel.sysctl]",
    '"net.core.somaxconn" = "1024"',
    "[settings.kubernetes]",
    "[[settings.x]]",
    'x = """',
    "x = [1, [2, {a = 3}]]",
    "x = 1979-05-27T07:32:00Z",
    "x = inf",
    "= 1",
    "[",
]


def random_toml(rnd: random.Random) -> bytes:
    lines = ["[settings.kubernetes]"] + [rnd.choice(_TOML_LINES) for _ in range(rnd.randint(1, 12))]
    return ("\n".join(lines) + "\n").encode()


def random_input(rnd: random.Random, seed_files: list[bytes]) -> bytes:
    """One input of any kind: a mutated seed, a YAML-mutated seed, a generated one, or
    one of the hostile classes of fuzz/hostile.py."""
    from fuzz import hostile

    kind = rnd.randrange(6 + len(hostile.GENERATORS))
    if kind >= 6:
        return hostile.GENERATORS[kind - 6](rnd)
    if kind == 0:
        return random_mime(rnd)
    if kind == 1:
        return random_script(rnd).encode()
    if kind == 2:
        return random_toml(rnd)
    seed = rnd.choice(seed_files)
    if kind == 3:
        mutated = mutate_yaml(seed, rnd)
        if mutated is not None:
            return mutated
    return mutate_bytes(seed, rnd)
