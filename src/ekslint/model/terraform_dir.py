"""A Terraform module is a directory: the .tf files beside a file, read so that a node
group in node_groups.tf finds its launch template in launch_templates.tf, its
``local.*`` values in locals.tf and its cluster's version in main.tf.

Terraform loads every primary ``.tf`` file of a directory as one module and merges
``override.tf``/``*_override.tf`` files over them afterwards; it ignores names that
begin with ``.`` or end with ``~``, and editor backups ``#...#``
(hashicorp/terraform internal/configs/parser_config_dir.go and
parser_file_matcher.go). Here only the primary ``.tf`` files are read (``.tf.json``
and override files are not).

Each file's facts still come from its own analysis (they are cached per file): the
file records which siblings it read (``module_files``), and the cache keys it on their
stamps and on the directory's list of .tf files, so an edited or added sibling
re-reads it. Only a file
that defines or uses node groups reads its siblings, and each sibling is parsed once
per process (``_parsed``), so a directory costs one parse per file.
"""

from __future__ import annotations

import os
import re

from ekslint.parse.hcl import MAX_HCL_BYTES, HclFile, parse_hcl
from ekslint.parse.sources import ReadLimits, read_head
from ekslint.parse.text import Text, normalize_newlines

# A directory with more .tf files than this is not read as a module (a generated tree).
MAX_MODULE_FILES = 200
_MEMO_SIZE = 512
# path -> (size, mtime_ns, parsed file or None when it does not parse)
_parsed: dict[str, tuple[int, int, HclFile | None]] = {}

# What a sibling must hold to matter to a node group (most files of a module, IAM,
# VPC, outputs, variables, hold none of it and are not parsed): locals, launch
# templates and groups, cloudinit_config, the cluster, the terraform-aws-eks module.
_RELEVANT = re.compile(
    r"^[ \t]*(locals[ \t]*\{|(resource|data)[ \t]+\"(aws_launch_template|aws_eks_node_group|aws_autoscaling_group"
    r"|aws_launch_configuration|cloudinit_config|aws_eks_cluster)\"|module[ \t]+\")",
    re.M,
)

# The resources and module sources whose node groups depend on the rest of the module.
NODE_RESOURCES = ("aws_eks_node_group", "aws_autoscaling_group", "aws_launch_template", "aws_launch_configuration")


def is_primary(name: str) -> bool:
    """A primary configuration file of a module (parser_file_matcher.go)."""
    if not name.endswith(".tf") or name.startswith(".") or name.endswith("~"):
        return False
    if name.startswith("#") and name.endswith("#"):
        return False
    stem = name[: -len(".tf")]
    return stem != "override" and not stem.endswith("_override")


def module_siblings(path: str, limits: ReadLimits) -> tuple[list[HclFile], list[str]]:
    """The other primary .tf files of ``path``'s directory, parsed (those that do not
    parse are left out: their own analysis reports them), and the paths whose stamps
    the result depends on (the directory's .tf listing and every sibling)."""
    directory = os.path.dirname(path)
    own = os.path.basename(path)
    try:
        # Symlinks are not followed: what a module reads stays inside the linted tree.
        names = sorted(
            e.name for e in os.scandir(directory or ".") if e.is_file(follow_symlinks=False) and is_primary(e.name)
        )
    except OSError:
        return [], []
    if len(names) > MAX_MODULE_FILES or own not in names:
        return [], []
    depends = [os.path.join(directory, "*.tf")]  # which .tf files it holds (engine/cache.py LISTING)
    siblings: list[HclFile] = []
    for name in names:
        if name == own:
            continue
        sibling = os.path.join(directory, name) if directory else name
        depends.append(sibling)
        parsed = _parse(sibling, limits)
        if parsed is not None:
            siblings.append(parsed)
    return siblings, depends


def _parse(path: str, limits: ReadLimits) -> HclFile | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = os.path.abspath(path)
    memo = _parsed.get(key)
    if memo is not None and memo[0] == st.st_size and memo[1] == st.st_mtime_ns:
        return memo[2]
    parsed: HclFile | None = None
    if st.st_size <= min(MAX_HCL_BYTES, limits.max_file_bytes):
        try:
            data = read_head(path, limits)
            content = data.decode("utf-8").removeprefix("\ufeff")
        except (OSError, UnicodeDecodeError):
            content = None
        if content is not None and "\x00" not in content and _RELEVANT.search(content):
            parsed, _problem = parse_hcl(Text(path.replace(os.sep, "/"), normalize_newlines(content)))
    if len(_parsed) >= _MEMO_SIZE:
        _parsed.clear()
    _parsed[key] = (st.st_size, st.st_mtime_ns, parsed)
    return parsed


def needs_module(hcl: HclFile, eks_module: bool) -> bool:
    """Whether the file's node groups depend on its siblings: it defines a node group
    or a launch template, or uses the terraform-aws-eks module."""
    for block in hcl.body.blocks:
        if block.type == "resource" and block.labels[:1] and block.labels[0] in NODE_RESOURCES:
            return True
    return eks_module
