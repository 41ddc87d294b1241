"""Unrendered templates: what marks text as one, and the one template step every
format goes through before it is parsed.

One definition of a placeholder for every consumer: Terraform and shell interpolation
(``${var}``, ``$VAR``, ``$(cmd)``), Terraform directives (``%{ if }``), Go/Helm and Jinja
templates (``{{ }}``, ``{% %}``), ERB (``<% %>``), printf verbs (``%s``) and a whole value
in angle brackets (``<cluster-name>``, as documentation writes a value to fill in).

The template step (:func:`render`) turns a template into text that parses in every
format ekslint reads (YAML, JSON, TOML, MIME, shell), as one rendering of it would:

- an expression (``${var.x}``, ``{{ .Values.x }}``, ``{{cluster-name}}``) becomes an
  opaque token of the same length, ``$_`` padded with ``_`` (``"$_…"`` where TOML needs
  a quoted value or key). YAML reads it as a plain string, a shell as an unset
  variable, and :func:`is_placeholder` knows it: rules treat its value as unknown.
  A ``${NAME}`` shell/envsubst variable stays as written where it already parses
  (a shell script substitutes variables it assigned);
- a line that holds nothing but an expression (``${node_labels}`` inside a TOML table,
  ``{{- include "x.labels" . | nindent 4 }}`` under ``labels:``) is an unknown number
  of entries: a placeholder key with a placeholder value (or a placeholder value where
  the parent key has none);
- directives (Terraform ``%{ if }``/``%{ for }``, Go ``{{ if }}``/``{{ range }}``,
  Jinja ``{% if %}``) render one branch: the ``if`` body is kept, an ``else`` body is
  dropped, a loop body is kept once. A line that holds only directives is dropped.

Positions stay the template's own: tokens keep the length of what they replace, and
the rendered text maps every kept line back to its line in the file. The step is
only run when a fast scan finds ``${``, ``%{``, ``{{`` or ``{%``.

Sources: Terraform's template syntax (hashicorp/hcl hclsyntax, spec.md "Template
Expressions": ``$${``/``%%{`` escapes, ``~`` strip markers), Go text/template
(``{{-``/``-}}`` trim markers, if/else/range/with/define/end), Jinja2's default
delimiters (``{% %}``, ``{{ }}``, ``{# #}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ekslint.parse.text import Text

_PLACEHOLDER = re.compile(r"\$\{|\$\(|\$[A-Za-z_]|\{\{|\{%|%\{|<%|%[sdvq]\b|^<[^<>]*>$")
# Directives and blocks that make a whole file a template (placeholders alone may sit
# inside valid YAML as strings).
_TEMPLATE_BLOCK = re.compile(r"\{\{|\{%|%\{")
# What the template step looks for; a file without any of these is not touched.
_OPENERS = re.compile(r"\$\{|%\{|\{\{|\{%|\{#|(?<=: )%[sdvq]$", re.M)
_OPENER_STRINGS = ("${", "%{", "{{", "{%", "{#")  # _OPENERS' fixed strings
# A printf verb as a whole YAML value (a Go test's fmt.Sprintf template): ``name: %s``.
_PRINTF_VALUE = re.compile(r"(?<=: )%[sdvq]$", re.M)
# File names that say "template" (Terraform templatefile, Go, Jinja, envsubst).
TEMPLATE_SUFFIXES = (
    ".tpl",
    ".tftpl",
    ".tmpl",
    ".gotmpl",
    ".j2",
    ".jinja",
    ".jinja2",
    ".yaml-template",
    ".yml-template",
)
# A shell/envsubst parameter expansion: valid shell as written.
_SHELL_PARAM = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?[-=?+]|##?|%%?|/)[^{}\"'`$]*)?\}")
_TOML_KEY_BEFORE = re.compile(r"[ \t]*[A-Za-z0-9_.\"'-]+[ \t]*")
_TOML_KEY_AFTER = re.compile(r"^\s*=")
# A TOML table header or ``key = value`` line (YAML writes ``key: value``).
_TOML_LINE = re.compile(r"^[ \t]*(?:\[[^\]\n]*\][ \t]*$|[\w.\"$-][^:\n=]*=[ \t])", re.M)
_IDENT = re.compile(r"[A-Za-z_]\w*")
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def is_placeholder(value: str) -> bool:
    """Whether ``value`` holds a template placeholder, so its rendered value is unknown."""
    return _PLACEHOLDER.search(value.strip()) is not None


def has_template_blocks(content: str) -> bool:
    """Whether ``content`` holds template directives or expressions (``{{ }}``,
    ``{% %}``, ``%{ }``) that only a template engine understands."""
    return _TEMPLATE_BLOCK.search(content) is not None


def named_as_template(path: str) -> bool:
    return path.lower().endswith(TEMPLATE_SUFFIXES)


@dataclass(slots=True)
class Rendered:
    """A template after the template step: ``text`` parses as one rendering would,
    with positions in the template; ``touched`` the 0-based lines of ``text`` where a
    line of its own was an expression, whose rendering decides the structure (an error
    there comes from the template's values; an expression inside a line is a value);
    ``dynamic`` says why the structure cannot be known when a line generates it."""

    text: Text
    touched: set[int]
    dynamic: list[tuple[int, str]]  # (0-based line of text, what generates structure there)


@dataclass(slots=True)
class _Piece:
    start: int  # offsets in the line
    end: int
    kind: str  # "expr" | "directive" | "comment"; "token" once an expr is replaced
    word: str  # the directive's keyword ("if", "else", "end", ...), or the expression
    body: str


def _pieces(line: str) -> list[_Piece]:
    """Template constructs on one line, left to right (an expression that goes on past
    the end of the line ends there: the rest of its lines are dropped by the caller)."""
    found: list[_Piece] = []
    pos = 0
    while True:
        m = _OPENERS.search(line, pos)
        if m is None:
            return found
        start = m.start()
        opener = m.group()
        if start > 0 and line[start - 1] == opener[0] and opener[0] in "$%":
            pos = start + 2  # ``$${`` / ``%%{``: Terraform's escape for a literal
            continue
        if opener in ("${", "%{"):
            end = _close_brace(line, start + 2)
        else:
            closer = {"{{": "}}", "{%": "%}", "{#": "#}"}[opener]
            found_at = line.find(closer, start + 2)
            end = len(line) if found_at == -1 else found_at + 2
        if opener in ("${", "%{"):
            inner = line[start + 2 : end - 1] if line[end - 1 : end] == "}" else line[start + 2 :]
        else:
            closed = found_at != -1
            inner = line[start + 2 : end - 2] if closed else line[start + 2 :]
        body = inner.strip().strip("-~").strip()
        word_match = _IDENT.match(body)
        word = word_match.group() if word_match else ""
        if opener == "{#" or body.startswith("/*"):
            found.append(_Piece(start, end, "comment", "", body))
        elif opener in ("%{", "{%") or (opener == "{{" and word in _GO_DIRECTIVES):
            found.append(_Piece(start, end, "directive", word, body))
        else:
            found.append(_Piece(start, end, "expr", word, line[start:end]))
        pos = end


def _close_brace(line: str, i: int) -> int:
    """End (exclusive) of a Terraform ``${ … }``/``%{ … }`` starting before ``i``:
    braces nest, quoted strings are skipped."""
    depth = 1
    quote = False
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == '"':
                quote = False
        elif c == '"':
            quote = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(line)


_GO_DIRECTIVES = frozenset(("if", "else", "end", "range", "with", "define", "block", "break", "continue"))
_OPENING = frozenset(("if", "for", "range", "with", "define", "block", "macro", "call", "filter", "raw"))
_ELSE = frozenset(("else", "elif"))
_CLOSING_PREFIX = "end"
# Expressions that write YAML of their own (a mapping, a list) rather than one value.
_STRUCTURE = re.compile(r"\b(toYaml|toJson|include|template|nindent|indent|yamlencode|jsonencode|tpl)\b")


def may_be_template(content: str) -> bool:
    """Whether ``_OPENERS`` finds something in ``content``, answered by substring
    searches for the usual text that has none (the pattern's scan costs 0.3 ms on a
    4 KB file)."""
    if not any(opener in content for opener in _OPENER_STRINGS) and ": %" not in content:
        return False
    return _OPENERS.search(content) is not None


def render(text: Text) -> Rendered | None:
    """The template step; None when ``text`` holds no template syntax (the common
    case costs one regular-expression scan)."""
    content = text.content
    if not may_be_template(content):
        return None
    changed = False
    if _PRINTF_VALUE.search(content):
        content = _PRINTF_VALUE.sub("$_", content)
        changed = True
    lines = content.split("\n")
    toml_like = "=" in content and _TOML_LINE.search(content) is not None
    # JSON (or a YAML flow document): every ``${NAME}`` sits in a flow collection.
    flow = content.lstrip()[:1] in ("{", "[")
    script = any(line.lstrip().startswith("#!") for line in lines[:3])
    out: list[str] = []
    origins: list[int] = []
    touched: set[int] = set()
    dynamic: list[tuple[int, str]] = []
    # One entry per open block: whether its current branch is dropped.
    stack: list[bool] = []
    counter = 0
    skip_to = -1  # an expression spanning lines: the lines it covers are dropped
    for number, line in enumerate(lines):
        if number <= skip_to:
            changed = True
            continue
        pieces = _pieces(line) if ("{" in line) else []
        if not pieces:
            if stack and stack[-1]:
                changed = True
                continue
            out.append(line)
            origins.append(number)
            continue
        chars = list(line)
        only_template = True
        cursor = 0
        dropped_line = bool(stack and stack[-1])
        for piece in pieces:
            if line[cursor : piece.start].strip():
                only_template = False
            cursor = piece.end
            dropped = bool(stack and stack[-1])
            if piece.kind == "directive":
                word = piece.word
                if word in _OPENING:
                    stack.append(dropped)
                elif word in _ELSE and stack:
                    stack[-1] = True  # one branch is rendered: the first
                elif word.startswith(_CLOSING_PREFIX) and stack:
                    stack.pop()
                _blank(chars, piece.start, piece.end)
            elif piece.kind == "comment":
                _blank(chars, piece.start, piece.end)
            else:
                if dropped:
                    _blank(chars, piece.start, piece.end)
                    continue
                if piece.end == len(line) and not line.rstrip().endswith(("}", "}}")):
                    # An expression that goes on over the next lines (a multi-line
                    # Terraform call): its first line becomes the token, the rest go.
                    skip_to = _continued_until(lines, number, piece.start)
                if _SHELL_PARAM.fullmatch(piece.body) and not flow and not _breaks(line, piece, toml_like):
                    continue  # ``${NAME}`` as a shell or envsubst variable: valid as written
                piece.kind = "token"
                counter += 1
                _put(chars, piece.start, piece.end, _token(piece, line, counter, toml_like))
        if line[cursor:].strip():
            only_template = False
        new = "".join(chars)
        directives_only = all(p.kind not in ("expr", "token") for p in pieces)
        if only_template and directives_only:
            changed = True
            continue  # a line of directives: rendered, it is gone
        if dropped_line and (stack and stack[-1]):
            changed = True
            continue
        if only_template and len(pieces) == 1 and pieces[0].kind in ("expr", "token") and not script:
            if pieces[0].kind == "expr":
                counter += 1
                pieces[0].kind = "token"
            in_table = toml_like and _in_toml_table(lines, number)
            new = _whole_line(lines, number, pieces[0], counter, in_table)
            touched.add(len(out))
            if not in_table and _STRUCTURE.search(pieces[0].body):
                dynamic.append((len(out), pieces[0].body.strip()))
        if new != line:
            changed = True
        out.append(new)
        origins.append(number)
    if not changed:
        return None
    rendered = "\n".join(out)
    if len(origins) == len(lines):
        result = Text(text.file, rendered, text.line_origins, text.collapsed)
    else:
        result = Text(text.file, rendered, [text.point(n, 0) for n in origins], text.collapsed)
    return Rendered(result, touched, dynamic)


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, min(end, len(chars))):
        chars[i] = " "


def _put(chars: list[str], start: int, end: int, token: str) -> None:
    for offset, char in enumerate(token[: end - start]):
        chars[start + offset] = char


def _token(piece: _Piece, line: str, counter: int, toml_like: bool) -> str:
    length = piece.end - piece.start
    if toml_like and _toml_bare(line, piece):
        return '"' + _bare_token(length - 2, counter) + '"' if length >= 4 else _bare_token(length, counter)
    return _bare_token(length, counter)


def _bare_token(length: int, counter: int) -> str:
    digits = ""
    while counter:
        counter, rest = divmod(counter, 36)
        digits = _BASE36[rest] + digits
    token = "$_" + digits
    if len(token) > length:
        token = "$_" + digits[-max(length - 2, 0) :] if length > 2 else "$_"[:length]
    return token.ljust(length, "_")


def _toml_bare(line: str, piece: _Piece) -> bool:
    """A placeholder where TOML expects a value or key of its own (not inside a string)."""
    before = line[: piece.start]
    if before.count('"') % 2 or before.count("'") % 2:
        return False
    if _toml_value_position(before):
        return True
    return not before.strip() and _TOML_KEY_AFTER.match(line[piece.end :]) is not None


def _toml_value_position(before: str) -> bool:
    """``key = `` (a value), ``= [``/``= {``/``, `` (an item of an array or inline table)."""
    text = before.rstrip()
    if text.endswith(","):
        return True
    if text.endswith(("[", "{")):
        return text[:-1].rstrip().endswith("=")
    return text.endswith("=") and _TOML_KEY_BEFORE.fullmatch(text[:-1]) is not None


def _breaks(line: str, piece: _Piece, toml_like: bool) -> bool:
    """Whether ``${NAME}`` left as written would not parse here: a TOML value or key, or
    an item of a YAML/JSON flow collection (``[${A}, ${B}]``)."""
    if toml_like and _toml_bare(line, piece):
        return True
    before = line[: piece.start]
    if before.count('"') % 2 or before.count("'") % 2:
        return False
    opened = before.count("[") + before.count("{") - before.count("]") - before.count("}")
    return opened > 0 or before.rstrip().endswith(("- {", ": {", ": [", "- ["))


def _continued_until(lines: list[str], number: int, start: int) -> int:
    """Last line of a Terraform ``${ … }`` opened at ``lines[number][start:]`` that
    only closes on a later line."""
    depth = 0
    for n in range(number, min(len(lines), number + 200)):
        text = lines[n][start:] if n == number else lines[n]
        depth += text.count("{") - text.count("}")
        if depth <= 0:
            return n
    return number


def _whole_line(lines: list[str], number: int, piece: _Piece, counter: int, in_table: bool) -> str:
    """A line that holds nothing but an expression: an unknown number of entries of the
    mapping or table it sits in (a placeholder key and value), or the value of the key
    just above it when that key has none."""
    line = lines[number]
    indent = line[: piece.start]
    key = _bare_token(max(piece.end - piece.start, 4), counter)
    if in_table:
        return f'{indent}"{key}" = "$_"'
    above = _significant(lines, range(number - 1, -1, -1))
    below = _significant(lines, range(number + 1, len(lines)))
    if above is not None and above.rstrip().endswith(":") and _indent(above) > len(indent):
        # The rendering brings its own indentation (``${subnets}`` at column 0 under
        # ``private:``): entries of the key above.
        return f"{' ' * (_indent(above) + 2)}{key}: $_"
    if above is not None and above.rstrip().endswith(":") and _indent(above) == len(indent):
        return f"{indent}- {key}"  # a list at the key's own indentation (YAML allows it)
    opens_value = above is not None and above.rstrip().endswith(":") and _indent(above) < len(indent)
    if opens_value and (below is None or _indent(below) < len(indent) or not _mapping_entry(below)):
        return f"{indent}{key}"  # the value of the key above
    return f"{indent}{key}: $_"


def _in_toml_table(lines: list[str], number: int) -> bool:
    for n in range(number - 1, -1, -1):
        stripped = lines[n].strip()
        if stripped.startswith("["):
            return True
        if stripped and not stripped.startswith("#") and "=" not in stripped and not _OPENERS.search(stripped):
            return False
    return False


def _significant(lines: list[str], order: range) -> str | None:
    for n in order:
        stripped = lines[n].strip()
        if stripped and not stripped.startswith("#") and not _only_directives(lines[n]):
            return lines[n]
    return None


def _only_directives(line: str) -> bool:
    pieces = _pieces(line) if "{" in line else []
    if not pieces or any(p.kind == "expr" for p in pieces):
        return False
    rest = line
    for piece in reversed(pieces):
        rest = rest[: piece.start] + rest[piece.end :]
    return not rest.strip()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _mapping_entry(line: str) -> bool:
    stripped = line.strip()
    return not stripped.startswith("- ") and (": " in stripped or stripped.endswith(":"))


# -- what a rendering that does not parse means ----------------------------------------------


def structure_reason(rendered: Rendered | None, text: Text, line: int, language: str) -> str | None:
    """Why a template whose rendering does not parse at ``line`` (0-based, of ``text``,
    the rendering) is not analysed, or None when the error is in its own text: then no
    values make it valid, an EKS001 error (with :func:`template_note`)."""
    lines = text.lines()
    error_line = lines[line] if line < len(lines) else ""
    if rendered is None:
        if is_placeholder(error_line):  # ``$VAR``, ``<name>``: a value to fill in decides it
            where, _ = text.point(line, 0)
            return f"line {where}: a placeholder decides the {language} structure here, so its rendering is unknown"
        return None
    for at, expression in rendered.dynamic:
        if at <= line:
            where, _ = text.point(at, 0)
            return f"line {where}: `{short(expression)}` writes {language} of its own, so the structure is unknown"
    near = [n for n in (line, line - 1, line + 1) if n in rendered.touched]
    if near:
        where, _ = text.point(near[0], 0)
        return f"line {where}: a template expression decides the {language} structure here, so it was not analysed"
    return None


def dynamic_reason(rendered: Rendered) -> str | None:
    """Why a YAML template whose structure an expression writes is not analysed."""
    if not rendered.dynamic:
        return None
    at, expression = rendered.dynamic[0]
    where, _ = rendered.text.point(at, 0)
    return (
        f"line {where}: `{short(expression)}` writes YAML of its own (mappings or lists only a render knows), "
        "so the template was not analysed; lint its rendered output (helm template, terraform console) instead"
    )


def template_note(rendered: Rendered | None, path: str) -> str:
    """What an EKS001 syntax error in a template adds to its message."""
    if rendered is None and not named_as_template(path):
        return ""
    return " (this file is a template: the error is in its own text, so it renders invalid whatever its values)"


def short(expression: str) -> str:
    expression = " ".join(expression.split())
    return expression if len(expression) <= 60 else expression[:57] + "..."
