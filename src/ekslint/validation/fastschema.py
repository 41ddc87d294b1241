"""A compiled yes/no check for the JSON-schema subset ekslint's schemas use.

jsonschema walks a schema anew for every document and spent more time on a 10k-file
repository than parsing it. Nearly every document is valid, and a valid document
needs no error messages. So each schema is compiled once into nested closures that
answer "certainly valid" or "not sure"; only a document that is not certainly valid
goes through jsonschema, which then finds and explains the errors as before.

The check must never call an invalid document valid. It implements the keywords the
schemas use with jsonschema's semantics (types as Draft 7 and 2020-12 define them,
``$ref`` siblings ignored in Draft 7); a keyword it does not know, a value type it does
not know, or an equality it cannot decide exactly makes it answer "not sure".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

# Keywords that do not constrain a document (annotations, and ``format`` which
# jsonschema asserts only when given a format checker, as ekslint does not).
_ANNOTATIONS = frozenset(
    (
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "definitions",
        "title",
        "description",
        "default",
        "examples",
        "format",
        "readOnly",
        "writeOnly",
        "deprecated",
    )
)


def _always(_value: Any) -> bool:
    return True


def _unsure(_value: Any) -> bool:
    return False


# The Python types of the JSON types, as jsonschema tells them apart (a bool is no
# integer; a float with an integral value is an integer).
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "integer": (int,),
    "number": (int, float),
}


def _type_test(names: list[str]) -> Check:
    """The test of a ``type`` keyword: one set lookup of the value's exact type (the
    documents are plain data: ``plain`` makes only these types)."""
    allowed = frozenset(t for name in names for t in _PYTHON_TYPES[name])
    if "integer" in names and float not in allowed:
        return lambda value: type(value) in allowed or (type(value) is float and value.is_integer())
    return lambda value: type(value) in allowed


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    return lambda value: all(check(value) for check in checks)


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _same(a: Any, b: Any) -> bool:
    """Equal as jsonschema's enum/const compare, decided only for plain scalars of the
    same type; anything else counts as unequal (the answer becomes "not sure")."""
    return type(a) is type(b) and type(a) in (str, int, float, bool, type(None)) and a == b


class Compiler:
    def __init__(self, resolver: Any, draft7: bool) -> None:
        self.resolver = resolver
        self.draft7 = draft7
        self.memo: dict[int, Check] = {}

    def compile(self, schema: Any, resolver: Any = None) -> Check:
        resolver = resolver or self.resolver
        if schema is True:
            return _always
        if schema is False or not isinstance(schema, dict):
            return _unsure
        key = id(schema)
        known = self.memo.get(key)
        if known is not None:
            return known
        # A recursive schema (JSONSchemaProps) reaches itself: answer through a cell.
        cell: list[Check] = []

        def forward(value: Any) -> bool:
            return cell[0](value)

        self.memo[key] = forward
        check = self._build(schema, resolver)
        cell.append(check)
        self.memo[key] = check
        return check

    def _build(self, schema: dict[str, Any], resolver: Any) -> Check:
        if "$ref" in schema:
            target = self._ref(schema["$ref"], resolver)
            if self.draft7:
                return target  # Draft 7 ignores the siblings of $ref
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            others = self._build(rest, resolver)
            return lambda value: target(value) and others(value)
        checks: list[Check] = []
        for keyword, argument in schema.items():
            if keyword in _ANNOTATIONS or keyword.startswith("x-"):
                continue
            if keyword in ("properties", "additionalProperties", "patternProperties"):
                continue  # built together below
            built = self._keyword(keyword, argument, schema, resolver)
            if built is None:
                return _unsure
            checks.append(built)
        if any(k in schema for k in ("properties", "additionalProperties", "patternProperties")):
            if "patternProperties" in schema:
                return _unsure
            checks.append(self._object(schema, resolver))
        return _all_of(checks)

    def _ref(self, ref: str, resolver: Any) -> Check:
        try:
            resolved = resolver.lookup(ref)
        except Exception:
            return _unsure
        return self.compile(resolved.contents, resolved.resolver)

    def _bare_type(self, schema: Any) -> Check | None:
        """The exact type test of a schema that only says ``type``, else None."""
        if not isinstance(schema, dict):
            return None
        keywords = [k for k in schema if k not in _ANNOTATIONS and not k.startswith("x-")]
        if keywords != ["type"]:
            return None
        return self._keyword("type", schema["type"], schema, self.resolver)

    def _type_gate(self, schema: Any) -> Check | None:
        """An exact test that fails only for values ``schema`` rejects by their type
        alone (its ``type`` keyword), else None: no such test can be had."""
        if not isinstance(schema, dict) or "type" not in schema or (self.draft7 and "$ref" in schema):
            return None  # Draft 7 ignores the siblings of $ref, ``type`` among them
        return self._keyword("type", schema["type"], schema, self.resolver)

    def _one_of(self, branches: Any, resolver: Any) -> Check | None:
        """Exactly one branch holds: certain when one branch is certainly valid and every
        other one certainly invalid. A branch counts as certainly invalid only when
        its ``type`` rejects the value (eksctl's taints: a list or a mapping;
        Bottlerocket's string-or-list settings), and a bare-type branch (IntOrString,
        Quantity) is decided exactly both ways."""
        if not isinstance(branches, list) or not branches:
            return None
        valid = [self.compile(branch, resolver) for branch in branches]
        gates = [self._type_gate(branch) for branch in branches]
        exact = [self._bare_type(branch) is not None for branch in branches]

        def check(value: Any) -> bool:
            chosen = False
            for is_valid, gate, bare in zip(valid, gates, exact, strict=True):
                if gate is not None and not gate(value):
                    continue  # certainly invalid
                if chosen or (not bare and not is_valid(value)):
                    return False  # a second branch that may hold, or one not decided
                chosen = True  # a bare type that holds, or a branch certainly valid
            return chosen

        return check

    def _object(self, schema: dict[str, Any], resolver: Any) -> Check:
        properties = {name: self.compile(sub, resolver) for name, sub in (schema.get("properties") or {}).items()}
        additional = schema.get("additionalProperties", True)
        extra: Check | None = None if additional is True else self.compile(additional, resolver)
        closed = additional is False

        def check(value: Any) -> bool:
            if type(value) is not dict:
                return True  # properties constrain objects only
            for name, item in value.items():
                sub = properties.get(name)
                if sub is not None:
                    if not sub(item):
                        return False
                elif closed or (extra is not None and not extra(item)):
                    return False
            return True

        return check

    def _keyword(self, keyword: str, argument: Any, schema: dict[str, Any], resolver: Any) -> Check | None:
        if keyword == "type":
            names = [argument] if isinstance(argument, str) else argument
            if not isinstance(names, list) or not all(n in _PYTHON_TYPES for n in names):
                return None
            return _type_test(names)
        if keyword == "enum":
            choices = list(argument)
            return lambda value: any(_same(value, choice) for choice in choices)
        if keyword == "const":
            return lambda value: _same(value, argument)
        if keyword == "enumIgnoreCase":  # ekslint's own keyword (schemacheck._enum_ignore_case)
            lowered = {str(c).lower() for c in argument if c is not None}
            return lambda value: not isinstance(value, str) or value.lower() in lowered
        if keyword == "required":
            names = list(argument)
            return lambda value: type(value) is not dict or all(n in value for n in names)
        if keyword == "items":
            if isinstance(argument, list):
                return None  # tuple validation: not used by the schemas
            item = self.compile(argument, resolver)
            return lambda value: type(value) is not list or all(item(v) for v in value)
        if keyword == "allOf":
            return _all_of([self.compile(s, resolver) for s in argument])
        if keyword == "anyOf":
            parts = [self.compile(s, resolver) for s in argument]
            return lambda value: any(p(value) for p in parts)
        if keyword == "oneOf":
            return self._one_of(argument, resolver)
        if keyword == "propertyNames":
            names_check = self.compile(argument, resolver)
            return lambda value: type(value) is not dict or all(names_check(k) for k in value)
        if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if not _is_number(argument):
                return None
            bound = argument
            compare: Callable[[Any], bool] = {
                "minimum": lambda v: v >= bound,
                "maximum": lambda v: v <= bound,
                "exclusiveMinimum": lambda v: v > bound,
                "exclusiveMaximum": lambda v: v < bound,
            }[keyword]
            return lambda value: not _is_number(value) or compare(value)
        if keyword in ("minLength", "maxLength"):
            limit = argument
            if keyword == "minLength":
                return lambda value: type(value) is not str or len(value) >= limit
            return lambda value: type(value) is not str or len(value) <= limit
        if keyword == "pattern":
            try:
                pattern = re.compile(argument)
            except re.error:
                return None
            return lambda value: type(value) is not str or pattern.search(value) is not None
        return None


def compile_check(schema: Any, registry: Any, draft7: bool) -> Check:
    """The check for ``schema``, whose ``$ref``s resolve in ``registry`` (a
    ``referencing.Registry``, None for a self-contained schema)."""
    from referencing import Registry
    from referencing.jsonschema import DRAFT7, DRAFT202012

    resource = (DRAFT7 if draft7 else DRAFT202012).create_resource(schema)
    base = resource.id() or ""
    resolver = (registry or Registry()).with_resource(base, resource).resolver(base_uri=base)
    return Compiler(resolver, draft7).compile(schema)
