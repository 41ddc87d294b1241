"""The ``ekslint`` command. Exit codes: 0 clean, 1 findings at or above the fail level,
2 usage, config or internal error (including a rule that crashed or a path that could
not be read). Only the report goes to stdout; everything else to stderr."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ekslint import __version__, capacity_cli
from ekslint.parse.escape import visible, visible_lines

if TYPE_CHECKING:
    from pathlib import Path

    from ekslint.config import Overrides, Settings
    from ekslint.engine.hookspecs import Formatter, Registry, ReportOptions
    from ekslint.engine.results import RunRequest, RunResult

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
    parser.add_argument(
        "paths",
        nargs="*",
        help="files and directories to lint (default: .); - reads stdin. `ekslint nodes [PATH...]` lists the node "
        "groups found instead (a path named nodes: write ./nodes)",
    )
    parser.add_argument("--version", action="version", version=f"ekslint {__version__}")
    _add_rule_docs_options(parser)
    _add_output_options(parser)
    _add_selection_options(parser)
    _add_suppression_options(parser)
    _add_config_options(parser)
    _add_speed_options(parser)
    capacity_cli.add_arguments(parser)  # --max-pods calculator, --update-instance-data
    return parser


def _add_rule_docs_options(parser: argparse.ArgumentParser) -> None:
    info = parser.add_argument_group("rule documentation")
    info.add_argument("--list-rules", action="store_true", help="list every rule (with --format json: as JSON)")
    info.add_argument("--explain", metavar="RULE", help="show the documentation of a rule (ID or name)")


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    out.add_argument(
        "-f",
        "--format",
        default="text",
        help="text (default), concise, json, sarif, github, gitlab, junit or markdown",
    )
    out.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the report to FILE (folders are created; - is stdout) instead of stdout",
    )
    out.add_argument(
        "--output-format",
        action="append",
        default=[],
        type=_extra_output,
        metavar="FORMAT=FILE",
        help="also write a report in FORMAT to FILE (- is stdout); repeatable, e.g. sarif=ekslint.sarif",
    )
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


def _add_selection_options(parser: argparse.ArgumentParser) -> None:
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


def _add_suppression_options(parser: argparse.ArgumentParser) -> None:
    sup = parser.add_argument_group("suppressions and baselines")
    sup.add_argument(
        "--report-unused-suppressions", action="store_true", help="report suppressions that hide nothing (EKS005)"
    )
    sup.add_argument("--disallow-suppressions", action="store_true", help="ignore every suppression (strict pipelines)")
    sup.add_argument("--baseline", metavar="FILE", help="hide the findings recorded in FILE (see --write-baseline)")
    sup.add_argument("--write-baseline", metavar="FILE", help="record the current findings in FILE and exit 0")


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    cfg = parser.add_argument_group("configuration")
    cfg.add_argument(
        "--config", metavar="FILE", help="use this config file instead of searching for .ekslint.yaml / pyproject.toml"
    )
    cfg.add_argument("--isolated", action="store_true", help="ignore every config file")
    cfg.add_argument(
        "--kubernetes-version", metavar="X.Y", help="cluster version when no ClusterConfig says (overrides the config)"
    )
    cfg.add_argument(
        "--cluster",
        metavar="NAME",
        help="lint only the files of this cluster (a key of clusters: in the config, else a ClusterConfig's "
        "metadata.name)",
    )
    cfg.add_argument("--stdin-filename", metavar="NAME", default="-", help="name of the input read from - in reports")
    cfg.add_argument(
        "--context",
        nargs="?",
        const="auto",
        metavar="DIR",
        help="also read DIR (default: the config file's directory, else the git root) for cross-file facts, "
        "and report the findings in the paths given or with a related location in them "
        "(pre-commit passes only changed files)",
    )


def _add_speed_options(parser: argparse.ArgumentParser) -> None:
    perf = parser.add_argument_group("speed")
    perf.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        metavar="N",
        help="worker processes (default: one per core when there are enough files; 1: no workers)",
    )
    perf.add_argument(
        "--render-helm",
        action="store_true",
        help="render each Helm chart directory (Chart.yaml + templates/) with `helm template DIR` when helm is on "
        "PATH, and lint what it renders (default: charts are reported as not analysed)",
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


def _extra_output(text: str) -> tuple[str, str]:
    fmt, sep, destination = text.partition("=")
    if not sep or not fmt.strip() or not destination:
        raise argparse.ArgumentTypeError(f"{text!r} is not FORMAT=FILE (e.g. sarif=ekslint.sarif)")
    return fmt.strip(), destination


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--jobs needs at least 1")
    return value


class UsageError(Exception):
    """A usage, config or output problem: said as one ``ekslint: error:`` line, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    given = list(argv) if argv is not None else sys.argv[1:]
    if given[:1] == ["nodes"]:  # `ekslint nodes PATH...`: the node groups, no findings
        from ekslint import nodes_cli

        return nodes_cli.main(given[1:])
    args = build_parser().parse_args(argv)
    try:
        if capacity_cli.wanted(args):  # the calculator and the instance-data refresh lint nothing
            return capacity_cli.run(args)
        return _run(args, list(argv) if argv is not None else sys.argv[1:])
    except UsageError as err:
        print(f"ekslint: error: {visible_lines(str(err))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("ekslint: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception as err:  # the promise: never a traceback for the user
        if os.environ.get("EKSLINT_DEBUG"):
            raise
        print(
            f"ekslint: internal error: {type(err).__name__}: {visible_lines(str(err))} "
            "(set EKSLINT_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    """The lint command, step by step; a step that cannot go on raises UsageError."""
    settings = _resolve_settings(args)
    registry = _load_registry()
    _check_rule_options(settings, registry)
    if args.list_rules or args.explain:
        return _answer_rule_docs(args, registry, settings)
    _check_codes(registry, settings)
    outputs = _outputs(args, registry)
    request = _build_request(args, settings)
    result = _lint(registry, request)
    if args.write_baseline:
        return write_baseline(args.write_baseline, result)
    _report(result, registry, settings, outputs, _report_options(args, argv))
    return _exit_code(result, settings, args)


def _resolve_settings(args: argparse.Namespace) -> Settings:
    """The config file found for this run (the nearest above the linted paths, unless
    --config or --isolated), with the command-line options over it."""
    from pathlib import Path

    from ekslint import config

    try:
        if args.isolated:
            path = None
        elif args.config:
            path = Path(args.config)
        else:
            path = config.discover_for(args.paths, args.stdin_filename)
        if args.config and not Path(args.config).is_file():
            raise config.ConfigError(f"{args.config}: no such config file")
        return config.resolve(path, _overrides(args))
    except config.ConfigError as err:
        raise UsageError(str(err)) from err


def _overrides(args: argparse.Namespace) -> Overrides:
    from ekslint.config import Overrides

    return Overrides(
        select=tuple(args.select) if args.select is not None else None,
        ignore=tuple(args.ignore or ()),
        fail_on=args.fail_on,
        kubernetes_version=args.kubernetes_version,
    )


def _load_registry() -> Registry:
    from ekslint.engine import plugins

    try:
        return plugins.load()
    except plugins.PluginError as err:
        raise UsageError(str(err)) from err


def _check_rule_options(settings: Settings, registry: Registry) -> None:
    """``rule-options`` against what the loaded rules declare (plugins' too)."""
    from ekslint.config import ConfigError
    from ekslint.engine.options import resolve_rule_options

    try:
        resolve_rule_options(settings, registry)
    except ConfigError as err:
        raise UsageError(str(err)) from err


def _answer_rule_docs(args: argparse.Namespace, registry: Registry, settings: Settings) -> int:
    """--list-rules and --explain: the answer on stdout, or the error on stderr."""
    from ekslint.report import ruledocs

    if args.list_rules and args.format == "sarif":  # the rules as tool.driver, no results
        from ekslint.engine.results import RunResult

        formatter = registry.formatters["sarif"]()
        options = _report_options(args, ["--list-rules", "--format", "sarif"])
        text, ok = formatter.render(RunResult(), registry, settings, options), True
    elif args.list_rules:
        try:
            text, ok = ruledocs.list_rules(registry, settings, args.format), True
        except ValueError as err:
            raise UsageError(str(err)) from err
    else:
        text, ok = ruledocs.explain(registry, args.explain, settings)
    if ok and args.output not in (None, "-"):
        _write_file(text, args.output)
    else:
        (sys.stdout if ok else sys.stderr).write(text)
    return EXIT_CLEAN if ok else EXIT_ERROR


def _check_codes(registry: Registry, settings: Settings) -> None:
    """Every code in select and ignore names at least one rule."""
    codes = (settings.select or []) + settings.ignore
    unknown = [c for c in codes if c != "ALL" and not any(r.startswith(c) for r in registry.rules)]
    if unknown:
        raise UsageError(f"no rule matches {', '.join(unknown)} (see the rule table in the README)")


@dataclass(frozen=True, slots=True)
class Output:
    """One report of the run: a format and where it goes (None: stdout)."""

    format: str
    formatter_class: type[Formatter]
    destination: str | None


def _outputs(args: argparse.Namespace, registry: Registry) -> list[Output]:
    """The reports asked for: -f/-o, then each --output-format; at most one on stdout."""
    asked = [(args.format, args.output), *args.output_format]
    outputs = []
    for fmt, destination in asked:
        formatter_class = registry.formatters.get(fmt)
        if formatter_class is None:
            choices = ", ".join(sorted(registry.formatters))
            raise UsageError(f"unknown format {fmt!r}; choose from {choices}")
        outputs.append(Output(fmt, formatter_class, None if destination in (None, "-") else destination))
    if sum(1 for o in outputs if o.destination is None) > 1:
        raise UsageError("more than one report on stdout; give all but one of them a file (-o FILE, FORMAT=FILE)")
    files = [os.path.abspath(o.destination) for o in outputs if o.destination is not None]
    if len(set(files)) < len(files):
        raise UsageError("two reports to the same file")
    return outputs


def _build_request(args: argparse.Namespace, settings: Settings) -> RunRequest:
    """What to lint: the paths (stdin read now if - is one), the baseline, the
    context directories and the cache."""
    from ekslint.engine.results import RunRequest

    paths = args.paths or ["."]
    stdin = sys.stdin.buffer.read() if "-" in paths else None
    try:
        baseline = load_baseline(args.baseline) if args.baseline else frozenset()
    except ValueError as err:
        raise UsageError(str(err)) from err
    root = context_root(settings.path, paths[0] if paths[0] != "-" else args.stdin_filename)
    return RunRequest(
        paths,
        settings,
        stdin,
        args.stdin_filename,
        context=[root] if args.context == "auto" else [args.context] if args.context else [],
        baseline=baseline,
        report_unused_suppressions=args.report_unused_suppressions,
        disallow_suppressions=args.disallow_suppressions,
        jobs=args.jobs,
        cache_dir=_cache_dir(args, root),
        render_helm=args.render_helm,
        cluster=_cluster(args, settings),
    )


def _cluster(args: argparse.Namespace, settings: Settings) -> str | None:
    """--cluster, checked now against ``clusters:`` when the config has the key (else
    the run finds the clusters in the files)."""
    name: str | None = args.cluster
    known = [c.name for c in settings.context.clusters]
    if name is not None and known and name not in known:
        raise UsageError(f"--cluster {name!r}: no such cluster; known clusters: {', '.join(known)}")
    return name


def _cache_dir(args: argparse.Namespace, root: str) -> Path | None:
    """--cache-dir, else EKSLINT_CACHE_DIR, else .ekslint_cache in ``root``; None: no cache."""
    from pathlib import Path

    from ekslint.engine.cache import DIRECTORY_NAME

    if args.no_cache or os.environ.get("EKSLINT_NO_CACHE"):
        return None
    chosen = args.cache_dir or os.environ.get("EKSLINT_CACHE_DIR")
    return Path(chosen) if chosen else Path(root) / DIRECTORY_NAME


def _lint(registry: Registry, request: RunRequest) -> RunResult:
    from ekslint.engine.reach import UnknownCluster
    from ekslint.engine.runner import Runner

    try:
        return Runner(registry, request.settings).run(request)
    except UnknownCluster as err:
        raise UsageError(str(err)) from err


def _report_options(args: argparse.Namespace, argv: list[str]) -> ReportOptions:
    from ekslint.engine.hookspecs import ReportOptions

    return ReportOptions(
        color=_use_color(args),
        sarif_category=args.sarif_category,
        include_suppressed=args.include_suppressed,
        working_directory=os.getcwd(),
        command_line=["ekslint", *argv],
    )


def _report(
    result: RunResult, registry: Registry, settings: Settings, outputs: list[Output], options: ReportOptions
) -> None:
    """Input errors and the formatters' notices on stderr; every report rendered
    first, then each file written whole (a one-line summary on stderr for each) and
    the stdout report last."""
    from dataclasses import replace

    from ekslint.report.text import summary_line

    for error in result.input_errors:
        level = "warning" if error.skipped else "error"
        print(f"ekslint: {level}: {visible(error.path)}: {visible(error.message)}", file=sys.stderr)
    rendered = []
    for output in outputs:
        formatter = output.formatter_class()
        colored = options.color and output.format == "text" and output.destination is None
        rendered.append((output, formatter.render(result, registry, settings, replace(options, color=colored))))
        for notice in formatter.notices:
            print(f"ekslint: {visible(notice)}", file=sys.stderr)
    for output, report in rendered:
        if output.destination is not None:
            _write_file(report, output.destination)
            summary = summary_line(result).removesuffix(".")
            print(f"ekslint: {summary}; {output.format} report written to {output.destination}", file=sys.stderr)
    for output, report in rendered:
        if output.destination is None:
            sys.stdout.write(report)
            sys.stdout.flush()


def _exit_code(result: RunResult, settings: Settings, args: argparse.Namespace) -> int:
    if result.crashed or any(not error.skipped for error in result.input_errors):
        return EXIT_ERROR
    if result.failed(settings.fail_on) and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def context_root(config_path: str | None, linted: str = ".") -> str:
    """The directory whose files give cross-file context (and that holds the cache):
    the config file's, else the git root above the linted path, else the working
    directory."""
    from pathlib import Path

    if config_path:
        return str(Path(config_path).resolve().parent)
    start = Path(linted if linted != "-" else ".").resolve()
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return str(folder)
    return str(Path.cwd().resolve())


BASELINE_VERSION = 1


MAX_BASELINE_BYTES = 64 * 1024 * 1024


def load_baseline(path: str) -> frozenset[str]:
    """The fingerprints a baseline file records. Anything else (a FIFO, a file over
    64 MiB, JSON nested 100,000 deep, the wrong shape) is "not a readable baseline",
    never an internal error or a hang."""
    import json
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ValueError("not a regular file")
            raw = handle.read(MAX_BASELINE_BYTES + 1)
        if len(raw) > MAX_BASELINE_BYTES:
            raise ValueError(f"larger than {MAX_BASELINE_BYTES:,} bytes")
        data = json.loads(raw.decode("utf-8"))
        return frozenset(str(entry["fingerprint"]) for entry in data["findings"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError, MemoryError) as err:
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)[:200]
        raise ValueError(f"{path}: not a readable ekslint baseline ({reason})") from None


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
    from ekslint.report.files import write_atomically

    try:
        write_atomically(path, json.dumps(document, indent=2) + "\n")
    except OSError as err:
        print(f"ekslint: error: cannot write {path}: {err.strerror or err}", file=sys.stderr)
        return EXIT_ERROR
    print(f"ekslint: wrote {len(entries)} findings to the baseline {path}", file=sys.stderr)
    return EXIT_ERROR if result.crashed else EXIT_CLEAN


def _use_color(args: Any) -> bool:
    if args.color == "always":
        return True
    if args.color == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()  # only the text report on stdout is coloured (_report)


def _write_file(report: str, output: str) -> None:
    """The report in ``output``, whole or not at all (never through a symlink)."""
    from ekslint.report.files import write_atomically

    try:
        write_atomically(output, report)
    except OSError as err:
        raise UsageError(f"cannot write {output}: {err.strerror or err}") from err


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
