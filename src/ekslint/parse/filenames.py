"""Which files can be inputs, by name alone: documentation and source code never are.

Decided before a file's content is decoded or parsed (a README that quotes a
bootstrap.sh line, or YAML in a docstring, stays out of the run at no cost; its empty
outcome is cached like any other file's).
"""

from __future__ import annotations

# Documentation and source code are never inputs, whatever they quote (a README's
# bootstrap.sh line, YAML in a docstring or a test string): decided by name. Everything
# else (no extension, .sh, .txt, .yaml, .json, .toml, .mime, .golden, templates,
# Terraform and CloudFormation files) is recognised by content.
NEVER_INPUT_SUFFIXES = frozenset(
    (
        # documentation
        ".md", ".markdown", ".mdx", ".rst", ".adoc", ".asciidoc", ".asc", ".html", ".htm", ".xhtml", ".tex",
        ".org", ".textile", ".rdoc", ".pod",
        # source code
        ".py", ".pyi", ".pyx", ".ipynb", ".go", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx",
        ".java", ".kt", ".kts", ".scala", ".groovy", ".gradle", ".clj", ".rb", ".rs", ".c", ".h", ".cc", ".cpp",
        ".cxx", ".hpp", ".hh", ".cs", ".fs", ".vb", ".php", ".swift", ".m", ".mm", ".lua", ".pl", ".pm", ".r",
        ".jl", ".dart", ".ex", ".exs", ".erl", ".hs", ".ml", ".elm", ".vue", ".svelte", ".css", ".scss", ".less",
        ".zig", ".nim", ".sql",
        # configuration languages that generate manifests (their output is the input):
        # `apiVersion: 'apps/v1',` in a .jsonnet file is Jsonnet, not YAML
        ".jsonnet", ".libsonnet", ".cue", ".dhall", ".pkl", ".ncl",
    )
)  # fmt: skip
_NEVER_INPUT_STEMS = ("readme", "changelog", "license", "licence", "contributing", "code_of_conduct", "authors")
# Build and container recipes: a Makefile's `define` block or a Dockerfile's heredoc may
# hold a manifest (GoogleCloudPlatform/kubernetes-engine-samples
# ai-ml/anthropic-agent-sandbox/Makefile), but the file itself is never one. Also with a
# suffix (Dockerfile.dev, build.mk), unless that suffix names YAML or JSON.
_BUILD_FILES = frozenset(
    ("makefile", "gnumakefile", "dockerfile", "containerfile", "jenkinsfile", "vagrantfile", "tiltfile", "justfile")
)
_DATA_SUFFIXES = (".yaml", ".yml", ".json")


def understood_by_name(shown_as: str) -> bool:
    """Whether a file's name allows it to be an input (see NEVER_INPUT_SUFFIXES):
    documentation and source code are never read."""
    name = shown_as.rsplit("/", 1)[-1].lower()
    if name.startswith(_NEVER_INPUT_STEMS):
        return False
    if name.split(".", 1)[0] in _BUILD_FILES and not name.endswith(_DATA_SUFFIXES):
        return False
    if name.endswith((".mk", ".dockerfile", ".containerfile")):
        return False
    dot = name.rfind(".")
    return dot <= 0 or name[dot:] not in NEVER_INPUT_SUFFIXES
