"""Positioned YAML: spans, scalar resolution, merge keys, guards against hostile input."""

from __future__ import annotations

import time

import pytest

from ekslint.parse.text import Text
from ekslint.parse.yamltree import (
    YamlLimits,
    YMap,
    YScalar,
    YSeq,
    c_composer_available,
    compose,
    nesting_bound,
    resolve_plain,
)


def root(content: str) -> YMap:
    docs, error = compose(Text.whole_file("f.yaml", content))
    assert error is None, error and error.message
    node = docs[0].root("Doc/x")
    assert isinstance(node, YMap)
    return node


def test_the_c_composer_is_used() -> None:
    # ruamel.yaml >= 0.19 needs ruamel.yaml.clib declared explicitly; without it the
    # parse silently falls back to pure Python, ~7x slower.
    assert c_composer_available()


def test_key_and_entry_spans_are_one_based_and_narrow() -> None:
    doc = root("spec:\n  maxUnavailable: 0\n  selector:\n    matchLabels: {app: web}\n")
    spec = doc.map("spec")
    assert spec is not None
    entry = spec.entry_span("maxUnavailable")
    assert (entry.line, entry.col, entry.end_line, entry.end_col) == (2, 3, 2, 20)
    key = spec.key_span("selector")
    assert (key.line, key.col, key.end_line, key.end_col) == (3, 3, 3, 11)
    assert entry.logical == "Doc/x.spec.maxUnavailable"


def test_block_mapping_span_ends_on_its_last_content_line() -> None:
    doc = root("a:\n  b: 1\n  c:\n    d: 2\n\n# trailing comment\nz: 3\n")
    inner = doc.map("a")
    assert inner is not None
    span = inner.span
    assert (span.line, span.end_line, span.end_col) == (2, 4, 9)


def test_sequence_items_are_named_by_their_name_key() -> None:
    doc = root("items:\n  - name: ng-1\n    x: 1\n  - other: 2\n")
    items = doc.seq("items")
    assert isinstance(items, YSeq)
    first, second = list(items)
    assert first.logical == "Doc/x.items[ng-1]"
    assert second.path == "items[1]"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("yes", True),
        ("off", False),
        ("True", True),
        ("~", None),
        ("", None),
        ("0755", 0o755),
        ("0x1F", 31),
        ("1_000", 1000),
        ("1.30", 1.3),
        ("-2", -2),
        ("1e3", 1000.0),
        (".inf", float("inf")),
        ("web", "web"),
        ("10%", "10%"),
        ("1.2.3", "1.2.3"),
        ("+", "+"),
        (".", "."),
    ],
)
def test_plain_scalars_resolve_like_go_yaml_v2(raw: str, value: object) -> None:
    assert resolve_plain(raw) == value


def test_raw_text_is_kept_for_versions() -> None:
    doc = root("metadata:\n  version: 1.30\n  quoted: 'yes'\n  tagged: !!str 1\n")
    meta = doc.map("metadata")
    assert meta is not None
    assert meta.text("version") == "1.30" and meta.value("version") == 1.3
    assert meta.value("quoted") == "yes"
    assert meta.value("tagged") == "1"


def test_merge_keys_fill_in_missing_keys() -> None:
    doc = root("base: &b {a: 1, b: 2}\nmine:\n  <<: *b\n  b: 3\n")
    mine = doc.map("mine")
    assert mine is not None
    assert (mine.value("a"), mine.value("b")) == (1, 3)


def test_custom_tags_do_not_hide_structure() -> None:
    doc = root("a: !Ref {b: 1}\nc: !Sub [x]\n")
    assert isinstance(doc.get("a"), YMap)
    assert isinstance(doc.get("c"), YSeq)


def test_literal_block_scalar_maps_positions_into_the_file() -> None:
    doc = root("cmd: |\n  #!/bin/bash\n  echo hi --flag\n")
    scalar = doc.scalar("cmd")
    assert isinstance(scalar, YScalar)
    text = scalar.as_text()
    offset = text.content.index("--flag")
    span = text.span_of(offset, offset + len("--flag"))
    assert (span.line, span.col, span.end_col) == (3, 11, 17)


def test_single_line_quoted_scalar_maps_positions() -> None:
    doc = root('flag: "--max-pods=20"\n')
    scalar = doc.scalar("flag")
    assert isinstance(scalar, YScalar)
    span = scalar.as_text().span_of(11, 13)
    assert (span.line, span.col) == (1, 19)


def test_documents_before_a_syntax_error_are_kept() -> None:
    docs, error = compose(Text.whole_file("f.yaml", "a: 1\n---\nb: [\n"))
    assert len(docs) == 1
    assert error is not None and error.line == 3


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    # The C composer recurses and overflows the C stack near 25,000 levels.
    deep = "[" * 50_000 + "]" * 50_000
    docs, error = compose(Text.whole_file("f.yaml", deep))
    assert docs == [] and error is not None and "nesting deeper" in error.message


def test_nesting_bound_is_cheap_and_sound_for_normal_files() -> None:
    content = "a:\n  b:\n    c: [1, [2, {d: 3}]]\n"
    assert nesting_bound(content, 1000)[0] >= 4


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 12):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    start = time.perf_counter()
    _, error = compose(Text.whole_file("bomb.yaml", "\n".join(lines) + "\n"), YamlLimits(max_alias_expansion=100_000))
    assert error is not None and "alias" in error.message
    assert time.perf_counter() - start < 2


def test_reader_errors_have_positions() -> None:
    _, error = compose(Text.whole_file("f.yaml", "a: 1\nb: \x07\n"))
    assert error is not None and (error.line, error.col) == (1, 3)


def test_recursive_alias_is_an_error_not_a_hang() -> None:
    # The composer links an alias to its anchor even from inside the anchored node;
    # walking that graph never ended (found by fuzzing).
    content = "a: &s\n  b: [1, *s]\n"
    start = time.perf_counter()
    docs, error = compose(Text.whole_file("f.yaml", content))
    assert docs == [] and error is not None and "alias" in error.message
    assert (error.line, error.col) == (0, 3)  # the anchored node
    assert time.perf_counter() - start < 2
    # A shared (not recursive) alias is fine.
    docs, error = compose(Text.whole_file("f.yaml", "a: &s [1]\nb: [*s, *s]\n"))
    assert error is None and len(docs) == 1
