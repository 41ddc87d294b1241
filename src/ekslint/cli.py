"""The ``ekslint`` command. Exit codes: 0 clean, 1 findings at or above the fail level,
2 usage, config or internal error (including a rule that crashed or a path that could
not be read). Only the report goes to stdout; everything else to stderr."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from ekslint import __version__, capacity_cli

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(value: str) -> list[str]:
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ekslint",
        description="Find Amazon EKS cluster and node misconfigurations in eksctl configs, "
        "Kubernetes manifests, PDBs and EC2 userdata before they reach AWS.",
        epilog="Exit codes: 0 no findings at the fail level, 1 findings, 2 usage/config/internal error.",
    )
    parser.add_argument("paths", nargs="*", help="files and directories to lint (default: .); - reads stdin")
    parser.add_argument("--version", action="version", version=f"ekslint {__version__}")
    info = parser.add_argument_group("rule documentation")
    info.add_argument("--list-rules", action="store_true", help="list every rule (with --format json: as JSON)")
    info.add_argument("--explain", metavar="RULE", help="show the documentation of a rule (ID or name)")
    out = parser.add_argument_group("output")
    out.add_argument("-f", "--format", default="text", help="text (default), json, sarif, github or junit")
    out.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    out.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text report (default: auto, only on a terminal)",
    )
    out.add_argument(
        "--include-suppressed", action="store_true", help="also report suppressed findings, marked as such"
    )
    out.add_argument(
        "--sarif-category", metavar="CATEGORY", help="SARIF runAutomationDetails.id category (GitHub code scanning)"
    )
    sel = parser.add_argument_group("rule selection")
    sel.add_argument(
        "--select", type=_codes, metavar="CODES", help="comma-separated rule IDs or prefixes to run (EKS1,EKS401)"
    )
    sel.add_argument("--ignore", type=_codes, metavar="CODES", help="comma-separated rule IDs or prefixes to skip")
    sel.add_argument(
        "--fail-on", choices=("error", "warning", "note"), help="lowest severity that fails the run (default: error)"
    )
    sel.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when there are findings (errors still exit 2)"
    )
    sup = parser.add_argument_group("suppressions and baselines")
    sup.add_argument(
        "--report-unused-suppressions", action="store_true", help="report suppressions that hide nothing (EKS005)"
    )
    sup.add_argument("--disallow-suppressions", action="store_true", help="ignore every suppression (strict pipelines)")
    sup.add_argument("--baseline", metavar="FILE", help="hide the findings recorded in FILE (see --write-baseline)")
    sup.add_argument("--write-baseline", metavar="FILE", help="record the current findings in FILE and exit 0")
    cfg = parser.add_argument_group("configuration")
    cfg.add_argument(
        "--config", metavar="FILE", help="use this config file instead of searching for .ekslint.yaml / pyproject.toml"
    )
    cfg.add_argument("--isolated", action="store_true", help="ignore every config file")
    cfg.add_argument(
        "--kubernetes-version", metavar="X.Y", help="cluster version when no ClusterConfig says (overrides the config)"
    )
    cfg.add_argument("--stdin-filename", metavar="NAME", default="-", help="name of the input read from - in reports")
    cfg.add_argument(
        "--context",
        nargs="?",
        const="auto",
        metavar="DIR",
        help="also read DIR (default: the config file's directory, else the git root) for cross-file facts, "
        "but report only on the paths given (pre-commit passes only changed files)",
    )
    perf = parser.add_argument_group("speed")
    perf.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        metavar="N",
        help="worker processes (default: one per core when there are enough files; 1: no workers)",
    )
    perf.add_argument(
        "--no-cache",
        action="store_true",
        help="do not read or write the cache of unchanged files (also: EKSLINT_NO_CACHE=1)",
    )
    perf.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where the cache lives (default: .ekslint_cache beside the config file, else in the git root; "
        "also: EKSLINT_CACHE_DIR)",
    )
    capacity_cli.add_arguments(parser)  # --max-pods calculator, --update-instance-data
    return parser


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--jobs needs at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if capacity_cli.wanted(args):  # the calculator and the instance-data refresh lint nothing
            return capacity_cli.run(args)
        return _run(args, list(argv) if argv is not None else sys.argv[1:])
    except KeyboardInterrupt:
        print("ekslint: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception as err:  # the promise: never a traceback for the user
        if os.environ.get("EKSLINT_DEBUG"):
            raise
        print(
            f"ekslint: internal error: {type(err).__name__}: {err} (set EKSLINT_DEBUG=1 for details)", file=sys.stderr
        )
        return EXIT_ERROR


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from pathlib import Path

    from ekslint import config
    from ekslint.engine import plugins
    from ekslint.engine.rule import Severity
    from ekslint.engine.runner import Runner, RunRequest
    from ekslint.model.sysctls import parse_version
    from ekslint.report import ReportOptions

    try:
        path = None if args.isolated else (Path(args.config) if args.config else config.discover())
        if args.config and not Path(args.config).is_file():
            raise config.ConfigError(f"{args.config}: no such config file")
        settings = config.load(path)
        registry = plugins.load()
        config.resolve_rule_options(settings, registry)  # options are declared by rules, plugins' too
    except (config.ConfigError, plugins.PluginError) as err:
        print(f"ekslint: error: {err}", file=sys.stderr)
        return EXIT_ERROR

    if args.select is not None:
        settings.select = args.select
    if args.ignore is not None:
        settings.ignore = settings.ignore + args.ignore
    if args.fail_on:
        settings.fail_on = Severity.parse(args.fail_on)
    if args.kubernetes_version:
        version = parse_version(args.kubernetes_version)
        if version is None:
            print(
                f"ekslint: error: --kubernetes-version {args.kubernetes_version!r} is not a version like 1.31",
                file=sys.stderr,
            )
            return EXIT_ERROR
        settings.context.kubernetes_version = version
    unknown = [
        c
        for c in (settings.select or []) + settings.ignore
        if c != "ALL" and not any(r.startswith(c) for r in registry.rules)
    ]
    if args.list_rules or args.explain:
        from ekslint import ruledocs

        if args.list_rules:
            text, ok = ruledocs.list_rules(registry, settings, args.format), True
        else:
            text, ok = ruledocs.explain(registry, args.explain, settings)
        (sys.stdout if ok else sys.stderr).write(text)
        return EXIT_CLEAN if ok else EXIT_ERROR
    if unknown:
        print(
            f"ekslint: error: no rule matches {', '.join(unknown)} (see the rule table in the README)", file=sys.stderr
        )
        return EXIT_ERROR
    formatter_class = registry.formatters.get(args.format)
    if formatter_class is None:
        print(
            f"ekslint: error: unknown --format {args.format!r}; choose from {', '.join(sorted(registry.formatters))}",
            file=sys.stderr,
        )
        return EXIT_ERROR

    paths = args.paths or ["."]
    stdin = sys.stdin.buffer.read() if "-" in paths else None
    try:
        baseline = load_baseline(args.baseline) if args.baseline else frozenset()
    except ValueError as err:
        print(f"ekslint: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    root = context_root(settings.path)
    context = [root] if args.context == "auto" else [args.context] if args.context else []
    cache_dir: Path | None = None
    if not (args.no_cache or os.environ.get("EKSLINT_NO_CACHE")):
        from ekslint.engine.cache import DIRECTORY_NAME

        chosen = args.cache_dir or os.environ.get("EKSLINT_CACHE_DIR")
        cache_dir = Path(chosen) if chosen else Path(root) / DIRECTORY_NAME
    request = RunRequest(
        paths,
        settings,
        stdin,
        args.stdin_filename,
        context=context,
        baseline=baseline,
        report_unused_suppressions=args.report_unused_suppressions,
        disallow_suppressions=args.disallow_suppressions,
        jobs=args.jobs,
        cache_dir=cache_dir,
    )
    result = Runner(registry, settings).run(request)
    if args.write_baseline:
        return write_baseline(args.write_baseline, result)

    for error in result.input_errors:
        print(f"ekslint: error: {error.path}: {error.message}", file=sys.stderr)
    options = ReportOptions(
        color=_use_color(args),
        sarif_category=args.sarif_category,
        include_suppressed=args.include_suppressed,
        working_directory=os.getcwd(),
        command_line=["ekslint", *argv],
    )
    formatter = formatter_class()
    report = formatter.render(result, registry, settings, options)
    for notice in formatter.notices:
        print(f"ekslint: {notice}", file=sys.stderr)
    if not _write(report, args.output):
        return EXIT_ERROR
    if result.crashed or result.input_errors:
        return EXIT_ERROR
    if result.failed(settings.fail_on) and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def context_root(config_path: str | None) -> str:
    """The directory whose files give cross-file context: the config file's, else
    the git root, else the working directory."""
    from pathlib import Path

    if config_path:
        return str(Path(config_path).resolve().parent)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return str(folder)
    return str(here)


BASELINE_VERSION = 1


def load_baseline(path: str) -> frozenset[str]:
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return frozenset(str(entry["fingerprint"]) for entry in data["findings"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: not a readable ekslint baseline ({err})") from err


def write_baseline(path: str, result: Any) -> int:
    """Record every finding that is not suppressed (including those an older baseline
    hid), keyed by fingerprint (rule, file and logical path), so that the baseline
    survives edits elsewhere in a file."""
    import json

    findings = sorted(result.findings + result.baselined, key=lambda f: f.sort_key())
    entries = [
        {
            "fingerprint": f.fingerprint,
            "rule": f.rule_id,
            "file": f.span.file,
            "path": f.span.logical,
            "message": f.message,
        }
        for f in findings
    ]
    document = {"version": BASELINE_VERSION, "tool": f"ekslint {__version__}", "findings": entries}
    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
    except OSError as err:
        print(f"ekslint: error: cannot write {path}: {err.strerror or err}", file=sys.stderr)
        return EXIT_ERROR
    print(f"ekslint: wrote {len(entries)} findings to the baseline {path}", file=sys.stderr)
    return EXIT_ERROR if result.crashed else EXIT_CLEAN


def _use_color(args: Any) -> bool:
    if args.color == "always":
        return True
    if args.color == "never" or args.output or args.format != "text" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _write(report: str, output: str | None) -> bool:
    if output is None:
        sys.stdout.write(report)
        sys.stdout.flush()
        return True
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(report)
    except OSError as err:
        print(f"ekslint: error: cannot write {output}: {err.strerror or err}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
