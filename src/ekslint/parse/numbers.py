"""Numbers written in YAML that no 64-bit integer or float holds.

go-yaml (kubectl, eksctl) reads a plain scalar as an integer when ``strconv.ParseInt``
or ``ParseUint`` accepts it (64 bits), else as a float when ``ParseFloat`` does, else as
a string, which the API server then refuses for a number field. Python's ``int`` has no
such bound, and converting one of 5,000 digits to text fails: such values are kept as
``OutOfRange`` strings, found without converting their digits, and reported on the file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from ekslint.parse.text import Span, Text


class OutOfRange(str):
    """A plain scalar written as a number that no 64-bit integer or float holds
    (``0xfff…`` past 64 bits, a 5,000-digit integer). go-yaml cannot read it as a
    number either and makes it a string, which the API server refuses for a number
    field; ``number_problems`` reports each one on the file."""

    __slots__ = ()


UINT64 = 2**64
INT64_MIN = -(2**63)


def based_int(raw: str, base: int, bits: int) -> int | OutOfRange:
    """A hexadecimal, binary or octal literal; OutOfRange past 64 bits (go-yaml's
    ParseInt and ParseUint both fail, and it is no float)."""
    plain = raw.replace("_", "")
    sign = -1 if plain.startswith("-") else 1
    digits = plain.lstrip("+-")
    digits = digits[2:] if base != 8 else digits  # 0x, 0b; octal is a leading 0
    digits = digits.lstrip("0") or "0"
    if len(digits) * bits > 64 + bits:
        return OutOfRange(raw)
    value = int(digits, base)
    if value >= UINT64 or sign * value < INT64_MIN:
        return OutOfRange(raw)
    return sign * value


def abbreviate(text: str, width: int = 40) -> str:
    """``text``, or its start and its length when it is longer than ``width``."""
    if len(text) <= width:
        return text
    return f"{text[: width - 12]}... ({len(text):,} characters)"


# The number settings ekslint reads (Kubernetes workloads, PDBs, HPAs, eksctl node
# groups, kubelet and NodeConfig): an out-of-range value there is EKS001 on the file.
# Elsewhere it is reported by schema validation where the schema wants a number, and
# is no problem where a string is wanted (``address: 0x5aAeb6…`` in a ConfigMap is a
# string to go-yaml too).
NUMBER_SETTINGS = frozenset(
    (
        "replicas",
        "minReplicas",
        "maxReplicas",
        "parallelism",
        "completions",
        "tolerationSeconds",
        "minAvailable",
        "maxUnavailable",
        "maxPods",
        "maxPodsPerNode",
        "desiredCapacity",
        "minSize",
        "maxSize",
        "volumeSize",
        "maxSurge",
        "terminationGracePeriodSeconds",
    )
)


# PDB budgets are checked by validation.shapes, which knows their percentages.
_FLOAT_CHECKED = NUMBER_SETTINGS - {"minAvailable", "maxUnavailable"}
# .nan, .inf and an exponent of three digits (1e999): a float no integer setting takes.


def not_an_integer(value: Any, key: str) -> bool:
    """Whether a resolved value at setting ``key`` is NaN or infinite (1e999, .nan):
    no integer, and go-yaml does not even read 1e999 as a number."""
    return key in _FLOAT_CHECKED and isinstance(value, float) and not math.isfinite(value)


# A literal long enough to be out of range (uint64 has 20 decimal, 16 hex digits; a
# binary or octal literal is longer still), or a float no integer holds (1e999, .nan):
# number_problems walks a document only when the text has one. Each branch ends where
# a scalar can end (not inside a hex digest such as 7e2261ab..., which would make a
# quarter of all files "suspect").
_SUSPECT = re.compile(
    r"[0-9][0-9_]{16,}(?![0-9A-Za-z_])|0[xX][0-9a-fA-F_]{15,}(?![0-9A-Za-z_])"
    r"|[0-9][eE][-+]?[0-9]{3,}(?![0-9A-Za-z_])|\.(?:nan|NaN|NAN|inf|Inf|INF)"
)
_NAN_OR_INF = re.compile(r"\.(?:nan|NaN|NAN|inf|Inf|INF)")
# Digits and underscores as "0": the fixed strings below then stand for the branches of
# _SUSPECT (substring search is a hundred times faster than its scan).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789_", b"0000000000")
_EXPONENTS = (b"0e000", b"0E000", b"0e+000", b"0E+000", b"0e-000", b"0E-000")


def may_hold_bad_numbers(content: str) -> bool:
    """Whether a text may hold a number no integer or float holds (cheap: substring
    searches first, the pattern only on a text they let through)."""
    if _NAN_OR_INF.search(content) is not None:
        return True
    shape = content.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ZERO)
    if b"0" * 17 in shape or _long_hex(shape) or _exponent_ends_a_word(shape):
        return _SUSPECT.search(content) is not None
    return False


_WORD_BYTES = frozenset(b"0ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")  # after _DIGITS_AS_ZERO


_HEX_BYTES = frozenset(b"0abcdefABCDEF")  # after _DIGITS_AS_ZERO (underscores are "0")


def _long_hex(shape: bytes) -> bool:
    """``0x`` and fifteen hex digits: _SUSPECT's second branch (without its end check),
    on the digits-as-zero text ("2xlarge" has an "0x" too)."""
    for prefix in (b"0x", b"0X"):
        at = shape.find(prefix)
        while at >= 0:
            digits = shape[at + 2 : at + 17]
            if len(digits) == 15 and all(byte in _HEX_BYTES for byte in digits):
                return True
            at = shape.find(prefix, at + 1)
    return False


def _exponent_ends_a_word(shape: bytes) -> bool:
    """A three-digit (or longer) exponent after a digit that ends where a scalar can end:
    _SUSPECT's third branch, on the digits-as-zero text."""
    size = len(shape)
    for exponent in _EXPONENTS:
        at = shape.find(exponent)
        while at >= 0:
            end = at + len(exponent)
            while end < size and shape[end] == 0x30:
                end += 1
            if end == size or shape[end] not in _WORD_BYTES:
                return True
            at = shape.find(exponent, at + 1)
    return False


def number_problems(text: Text, root: Any, resolve: Callable[[str], Any]) -> list[tuple[Span, str]]:
    """Each plain scalar of the YAML document ``root`` (a composed node of ``text``)
    that is written as a number no integer or float holds, with its span and a message
    naming the key; shared (aliased) nodes are visited once. ``resolve`` gives a plain
    scalar's value (yamltree.resolve_plain). Callers check the whole text once with
    ``may_hold_bad_numbers`` first: most files cannot hold such a number."""
    found: list[tuple[Span, str]] = []
    seen: set[int] = set()
    stack: list[tuple[Any, str, str]] = [(root, "", "")]
    while stack:
        node, path, name = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.id == "mapping":
            for key, value in reversed(node.value):
                key_name = str(key.value) if key.id == "scalar" else "?"
                if value.id != "scalar" or key_name in NUMBER_SETTINGS:
                    stack.append((value, f"{path}.{key_name}" if path else key_name, key_name))
        elif node.id == "sequence":
            for index in range(len(node.value) - 1, -1, -1):
                if node.value[index].id != "scalar":
                    stack.append((node.value[index], f"{path}[{index}]", ""))
        elif not node.style and node.value:
            value = resolve(node.value)
            where = f"{abbreviate(path, 80)}: " if path else ""
            if isinstance(value, OutOfRange):
                message = (
                    f"{where}the number {abbreviate(node.value)} is out of range: no 64-bit integer holds it, so "
                    "kubectl, eksctl and the API server read it as a string and refuse it; write a number in the "
                    "range the field takes"
                )
            elif not_an_integer(value, name):
                message = (
                    f"{where}{abbreviate(node.value)} is not an integer (NaN or infinite): kubectl, eksctl and the "
                    "API server refuse it; write a whole number in the range the field takes"
                )
            else:
                continue
            start, end = node.start_mark, node.end_mark
            found.append((text.span(start.line, start.column, end.line, end.column, path), message))
    return found


def decimal_int32(text: str) -> int | OutOfRange | None:
    """A flag value the kubelet parses as a decimal int32 (``--max-pods``, ``MAX_ENI``):
    the number; OutOfRange past 32 bits; None when it is no decimal number at all.
    ASCII digits only (``str.isdigit`` also takes "²"), and never a conversion of a
    huge digit string."""
    digits = text.strip()
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    stripped = digits.lstrip("0") or "0"
    if len(stripped) > 10 or int(stripped) > 2**31 - 1:
        return OutOfRange(text)
    return int(stripped)
