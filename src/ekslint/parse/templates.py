"""What marks text as an unrendered template: its rendered value is unknown, so rules
treat it as such rather than judge the placeholder.

One definition for every consumer: Terraform and shell interpolation (``${var}``,
``$VAR``, ``$(cmd)``), Terraform directives (``%{ if }``), Go/Helm and Jinja templates
(``{{ }}``, ``{% %}``), ERB (``<% %>``), printf verbs (``%s``) and a whole value in angle
brackets (``<cluster-name>``, as documentation writes a value to fill in).
"""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"\$\{|\$\(|\$[A-Za-z_]|\{\{|\{%|%\{|<%|%[sdvq]\b|^<[^<>]*>$")
# Directives and blocks that make a whole file a template (placeholders alone may sit
# inside valid YAML as strings).
_TEMPLATE_BLOCK = re.compile(r"\{\{|\{%|%\{")


def is_placeholder(value: str) -> bool:
    """Whether ``value`` holds a template placeholder, so its rendered value is unknown."""
    return _PLACEHOLDER.search(value.strip()) is not None


def has_template_blocks(content: str) -> bool:
    """Whether ``content`` holds template directives or expressions (``{{ }}``,
    ``{% %}``, ``%{ }``) that only a template engine understands."""
    return _TEMPLATE_BLOCK.search(content) is not None
