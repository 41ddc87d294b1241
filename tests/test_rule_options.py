"""Rule options: declared by rules, set under rule-options in the config, validated
with positions once the plugins are loaded, read by checks, documented, and part
of the cache key."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from ekslint import cli, config
from ekslint.engine import parallel, plugins
from ekslint.engine.options import options_for, resolve_rule_options
from ekslint.engine.runner import Runner, RunRequest, RunResult
from ekslint.model.filemodel import FileModel
from ekslint.model.project import Project
from ekslint.plugin import FileRule, ProjectRule, RuleContext, RuleOption, Violation
from ekslint.rules.eks405_fast_eviction_toleration import MIN_SECONDS, FastEvictionToleration
from tests.conftest import chdir, lint, plugin, rule_class, write

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  template:
    spec:
      tolerations:
        - key: node.kubernetes.io/unreachable
          operator: Exists
          effect: NoExecute
          tolerationSeconds: {seconds}
      containers: [{{name: app, image: nginx}}]
"""
# tolerationSeconds 10, 30 and 90 in three files
MANIFESTS = {f"s{seconds:02}.yaml": DEPLOYMENT.format(name=f"s{seconds}", seconds=seconds) for seconds in (10, 30, 90)}


def eks405(result: RunResult) -> list[str]:
    return sorted(f.span.file for f in result.findings if f.rule_id == "EKS405")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- EKS405's threshold --------------------------------------------------------------------


def test_the_default_is_the_threshold_of_before() -> None:
    (option,) = FastEvictionToleration.options
    assert (option.name, option.type, option.default, option.minimum) == ("min-toleration-seconds", int, 60, 0)
    assert MIN_SECONDS == 60


def test_defaults_report_what_they_always_did(tmp_path: Path) -> None:
    write(tmp_path, MANIFESTS)
    result = lint(tmp_path, select=["EKS405"])
    assert eks405(result) == ["s10.yaml", "s30.yaml"]
    assert result.findings[0].message == (
        "Deployment/s10 tolerates node.kubernetes.io/unreachable for only 10s: a node is tainted after 50s "
        "without status (node-monitor-grace-period, fixed on EKS, on Kubernetes 1.36: the newest version "
        "ekslint knows; set kubernetes-version to change it), so its pods are evicted 50s + 10s = 1m "
        "after the node stops reporting (default 5m50s); a brief network blip or kubelet restart then "
        "reschedules it elsewhere. Raise tolerationSeconds to at least 60 (failover 1m50s), or remove it "
        "for the default 300s"
    )


@pytest.mark.parametrize(
    ("seconds", "found"),
    [(20, ["s10.yaml"]), (100, ["s10.yaml", "s30.yaml", "s90.yaml"]), (0, [])],
)
def test_the_option_moves_the_threshold(tmp_path: Path, seconds: int, found: list[str]) -> None:
    write(
        tmp_path, {**MANIFESTS, ".ekslint.yaml": f"rule-options:\n  EKS405:\n    min-toleration-seconds: {seconds}\n"}
    )
    result = lint(tmp_path, select=["EKS405"])
    assert eks405(result) == found
    for finding in result.findings:
        assert f"Raise tolerationSeconds to at least {seconds} " in finding.message


def test_rules_are_named_by_id_or_name_in_any_case(tmp_path: Path) -> None:
    for key in ("eks405", "fast-eviction-toleration"):
        write(tmp_path, {**MANIFESTS, ".ekslint.yaml": f"rule-options:\n  {key}:\n    min-toleration-seconds: 20\n"})
        assert eks405(lint(tmp_path, select=["EKS405"])) == ["s10.yaml"], key


def test_pyproject_sets_options_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **MANIFESTS,
            "pyproject.toml": '[project]\nname = "x"\n\n[tool.ekslint]\nselect = ["EKS405"]\n\n'
            "[tool.ekslint.rule-options.EKS405]\nmin-toleration-seconds = 100\n",
        },
    )
    with chdir(tmp_path):
        code, out, _ = run(capsys, "--format", "json", "--fail-on", "warning")
    assert code == 1
    assert sorted(f["file"] for f in json.loads(out)["findings"]) == ["s10.yaml", "s30.yaml", "s90.yaml"]


def test_an_api_caller_who_never_resolves_gets_the_config_applied(tmp_path: Path) -> None:
    # The CLI resolves rule-options after loading the plugins; a Runner does it
    # itself when its caller did not, so configured options are never ignored.
    write(tmp_path, {**MANIFESTS, ".ekslint.yaml": "rule-options:\n  EKS405:\n    min-toleration-seconds: 20\n"})
    with chdir(tmp_path):
        settings = config.load(Path(".ekslint.yaml"))
        assert settings.rule_options == {}
        result = Runner(plugins.load(), settings).run(RunRequest(["."], settings))
    assert eks405(result) == ["s10.yaml"]
    assert settings.rule_options == {"EKS405": {"min-toleration-seconds": 20}}


def test_settings_give_every_declared_option_its_default() -> None:
    settings = config.Settings()
    assert options_for(settings, FastEvictionToleration) == {"min-toleration-seconds": 60}
    settings.rule_options = {"EKS405": {"min-toleration-seconds": 5}}
    assert options_for(settings, FastEvictionToleration) == {"min-toleration-seconds": 5}
    with pytest.raises(KeyError, match="no option 'nope'"):
        RuleContext(options={"x": 1}).option("nope")


# -- errors: exit code 2, the file, line and column ------------------------------------------

YAML_ERRORS = [
    (
        "rule-options:\n  EKS405:\n    min-toleration-secs: 30\n",
        ".ekslint.yaml:3:5: rule-options.EKS405.min-toleration-secs: unknown option "
        "(did you mean 'min-toleration-seconds'?)",
    ),
    (
        "select: [EKS4]\nrule-options:\n  EKS450:\n    min-toleration-seconds: 30\n",
        ".ekslint.yaml:3:3: rule-options.EKS450: unknown rule (did you mean 'EKS405'?)",
    ),
    (
        "rule-options:\n  fast-eviction-tolerations: {min-toleration-seconds: 30}\n",
        ".ekslint.yaml:2:3: rule-options.fast-eviction-tolerations: unknown rule "
        "(did you mean 'fast-eviction-toleration'?)",
    ),
    (
        "rule-options:\n  EKS405:\n    min-toleration-seconds: true\n",
        ".ekslint.yaml:3:29: rule-options.EKS405.min-toleration-seconds: expected an integer, got true (a boolean)",
    ),
    (
        'rule-options:\n  EKS405:\n    min-toleration-seconds: "30"\n',
        '.ekslint.yaml:3:29: rule-options.EKS405.min-toleration-seconds: expected an integer, got "30" (a string)',
    ),
    (
        "rule-options:\n  EKS405:\n    min-toleration-seconds: 30.5\n",
        ".ekslint.yaml:3:29: rule-options.EKS405.min-toleration-seconds: expected an integer, got 30.5 (a number)",
    ),
    (
        "rule-options:\n  EKS405:\n    min-toleration-seconds: -1\n",
        ".ekslint.yaml:3:29: rule-options.EKS405.min-toleration-seconds: must be at least 0, got -1",
    ),
    (
        "rule-options:\n  EKS401:\n    threshold: 1\n",
        ".ekslint.yaml:3:5: rule-options.EKS401.threshold: unknown option: EKS401 (pdb-blocks-eviction) has no options",
    ),
    (
        "rule-options:\n  EKS405: {min-toleration-seconds: 30}\n  fast-eviction-toleration: {}\n",
        ".ekslint.yaml:3:3: rule-options.fast-eviction-toleration: EKS405 (fast-eviction-toleration) is configured "
        "twice (also as 'EKS405')",
    ),
    (
        "rule-options:\n  EKS405: 30\n",
        ".ekslint.yaml:2:11: rule-options.EKS405: 30 is not of type 'object'",
    ),
]


@pytest.mark.parametrize(("content", "expected"), YAML_ERRORS)
def test_each_mistake_is_a_config_error_where_it_is_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, expected: str
) -> None:
    write(tmp_path, {**MANIFESTS, ".ekslint.yaml": content})
    with chdir(tmp_path):
        code, out, err = run(capsys)
    assert code == 2 and out == ""
    assert err.splitlines() == ["ekslint: error: invalid configuration:", f"  {expected}"]


def test_the_same_mistakes_in_pyproject(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "x"\n\n'
            "[tool.ekslint.rule-options.EKS405]\n"
            "min-toleration-seconds = true\n"
            "min-toleration-secs = 3\n"
            "\n[tool.ekslint.rule-options.EKS409]\nx = 1\n",
        },
    )
    with chdir(tmp_path):
        code, out, err = run(capsys, "--list-rules")  # found before anything is listed or linted
    assert code == 2 and out == ""
    assert err.splitlines()[1:] == [
        "  pyproject.toml:5:1: rule-options.EKS405.min-toleration-seconds: expected an integer, got true (a boolean)",
        "  pyproject.toml:6:1: rule-options.EKS405.min-toleration-secs: unknown option "
        "(did you mean 'min-toleration-seconds'?)",
        "  pyproject.toml:8:1: rule-options.EKS409: unknown rule (did you mean 'EKS405'?)",
    ]


# -- plugin rules declare options too --------------------------------------------------------

ACME_OPTIONS = (
    RuleOption("max-replicas", int, 3, "Most replicas allowed.", minimum=1, maximum=10),
    RuleOption("ratio", float, 0.5, "A ratio.", minimum=0, maximum=1),
    RuleOption("mode", str, "strict", "How strict.", choices=("strict", "lenient")),
    RuleOption("enabled", bool, True, "Whether to report."),
    RuleOption("kinds", list, ("Deployment",), "Kinds to look at.", choices=("Deployment", "Pod")),
)


def _acme_file_rule(self: FileRule, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
    for workload in target.workloads:
        yield Violation(workload.span, f"{workload.name}: {json.dumps(ctx.options, sort_keys=True)}")


def _acme_project_rule(self: ProjectRule, target: Project, ctx: RuleContext) -> Iterator[Violation]:
    for workload in target.workloads[:1]:
        yield Violation(workload.span, f"ratio={ctx.option('ratio')}")


def acme_registry(*extra: type) -> plugins.Registry:
    file_rule = rule_class(FileRule, "ACME001", "acme-file", _acme_file_rule)
    file_rule.options = ACME_OPTIONS
    project_rule = rule_class(ProjectRule, "ACME101", "acme-project", _acme_project_rule)
    project_rule.options = (RuleOption("ratio", float, 0.25, "A ratio."),)
    return plugins.load([("ACME", plugin(file_rule, project_rule, *extra))])


def acme_messages(result: RunResult, rule_id: str = "ACME001") -> list[str]:
    return [f.message for f in result.findings if f.rule_id == rule_id]


def test_a_plugin_rules_options_reach_its_check(tmp_path: Path) -> None:
    write(tmp_path, {"s10.yaml": MANIFESTS["s10.yaml"]})
    registry = acme_registry()
    with chdir(tmp_path):
        settings = config.Settings()
        defaults = Runner(registry, settings).run(RunRequest(["."], settings))
    assert acme_messages(defaults) == [
        's10: {"enabled": true, "kinds": ["Deployment"], "max-replicas": 3, "mode": "strict", "ratio": 0.5}'
    ]
    assert acme_messages(defaults, "ACME101") == ["ratio=0.25"]
    write(
        tmp_path,
        {
            ".ekslint.yaml": "rule-options:\n"
            "  ACME001: {max-replicas: 10, ratio: 1, mode: lenient, enabled: false, kinds: [Pod, Deployment]}\n"
            "  acme-project: {ratio: 0.75}\n"
        },
    )
    with chdir(tmp_path):
        settings = config.load(Path(".ekslint.yaml"))
        resolve_rule_options(settings, registry)
        configured = Runner(registry, settings).run(RunRequest(["."], settings))
    # An int for a float option is a float; a list is a tuple (JSON shows a list).
    assert settings.rule_options["ACME001"]["ratio"] == 1.0 and isinstance(
        settings.rule_options["ACME001"]["ratio"], float
    )
    assert settings.rule_options["ACME001"]["kinds"] == ("Pod", "Deployment")
    assert acme_messages(configured) == [
        's10: {"enabled": false, "kinds": ["Pod", "Deployment"], "max-replicas": 10, "mode": "lenient", "ratio": 1.0}'
    ]
    assert acme_messages(configured, "ACME101") == ["ratio=0.75"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("max-replicas: 11", "rule-options.ACME001.max-replicas: must be at most 10, got 11"),
        ("max-replicas: 0", "rule-options.ACME001.max-replicas: must be at least 1, got 0"),
        ("ratio: true", "rule-options.ACME001.ratio: expected a number, got true (a boolean)"),
        ("ratio: .nan", "rule-options.ACME001.ratio: expected a number, got NaN (a number)"),
        ("mode: loose", 'rule-options.ACME001.mode: must be one of "strict", "lenient", got "loose"'),
        ("enabled: 1", "rule-options.ACME001.enabled: expected a boolean, got 1 (an integer)"),
        ("kinds: Pod", 'rule-options.ACME001.kinds: expected a list of strings, got "Pod" (a string)'),
        ("kinds: [Pod, 1]", 'rule-options.ACME001.kinds: expected a list of strings, got ["Pod", 1] (a list)'),
        ("kinds: [Job]", 'rule-options.ACME001.kinds: must be one of "Deployment", "Pod", got "Job"'),
        ("max-replica: 2", "rule-options.ACME001.max-replica: unknown option (did you mean 'max-replicas'?)"),
        ("zzz: 2", "rule-options.ACME001.zzz: unknown option; ACME001 has max-replicas, ratio, mode, enabled, kinds"),
    ],
)
def test_a_plugin_rules_options_are_validated(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, options: str, message: str
) -> None:
    registry = acme_registry()
    monkeypatch.setattr(plugins, "load", lambda: registry)
    write(tmp_path, {".ekslint.yaml": f"rule-options:\n  ACME001:\n    {options}\n"})
    with chdir(tmp_path):
        code, out, err = run(capsys, ".")
    assert code == 2 and out == ""
    column = 5 if "unknown option" in message else 5 + options.index(":") + 2
    assert f".ekslint.yaml:3:{column}: {message}" in err


def _declaring(*options: object) -> type[FileRule]:
    rule = rule_class(FileRule, "ACME002", "declares", _acme_file_rule)
    rule.options = options  # type: ignore[assignment]
    return rule


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((RuleOption("Max_Replicas", int, 1, "x"),), "option name 'Max_Replicas' is not kebab-case"),
        ((RuleOption("n", dict, {}, "x"),), "option 'n': its type must be int, float, str, bool or list"),
        ((RuleOption("n", int, True, "x"),), "option 'n': default true: expected an integer, got true"),
        ((RuleOption("n", int, "3", "x"),), "option 'n': default \"3\": expected an integer"),
        ((RuleOption("n", int, 0, "x", minimum=1),), "option 'n': default 0: must be at least 1, got 0"),
        ((RuleOption("n", int, 5, "x", minimum=6, maximum=2),), "option 'n': minimum 6 is above maximum 2"),
        ((RuleOption("n", str, "a", "x", minimum=1),), "only int and float options have a minimum or maximum"),
        ((RuleOption("n", str, "c", "x", choices=("a", "b")),), 'option \'n\': default "c": must be one of "a", "b"'),
        ((RuleOption("n", str, "a", "x", choices=("a", 1)),), "choices must be values of the option's type"),
        ((RuleOption("n", list, "a", "x"),), 'default "a": expected a list of strings'),
        ((RuleOption("n", int, 1, ""),), "option 'n' has no description"),
        ((RuleOption("n", int, 1, "x"), RuleOption("n", int, 2, "y")), "option 'n' is declared twice"),
        (("n",), "option 'n' is not a RuleOption"),
    ],
)
def test_bad_option_declarations_are_refused_when_plugins_load(options: tuple[object, ...], message: str) -> None:
    with pytest.raises(plugins.PluginError, match=f"plugin 'ACME': ACME002: .*{re.escape(message)}"):
        plugins.load([("ACME", plugin(_declaring(*options)))])


def test_options_must_be_a_tuple() -> None:
    rule = _declaring()
    rule.options = [RuleOption("n", int, 1, "x")]  # type: ignore[assignment]
    with pytest.raises(plugins.PluginError, match="options must be a tuple of RuleOption"):
        plugins.load([("ACME", plugin(rule))])


# -- documentation ----------------------------------------------------------------------------


def test_explain_lists_the_options_and_what_the_config_sets(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--isolated", "--explain", "EKS405")
    assert code == 0
    options = out.split("Options\n-------\n", 1)[1]
    assert options.startswith(
        "- `min-toleration-seconds` (integer, default `60`, at least 0): Report a `tolerationSeconds` below this."
    )
    assert "Set to" not in options
    assert "rule-options:\n  EKS405:\n    min-toleration-seconds: 60\n```" in options
    assert out.index("Options\n---") < out.index("References\n---")
    write(tmp_path, {".ekslint.yaml": "rule-options:\n  EKS405: {min-toleration-seconds: 20}\n"})
    with chdir(tmp_path):
        _, out, _ = run(capsys, "--explain", "fast-eviction-toleration")
    assert "  Set to `20` in .ekslint.yaml." in out
    # A rule without options has no Options section.
    assert "Options\n" not in run(capsys, "--isolated", "--explain", "EKS401")[1]


def test_list_rules_json_gives_each_option_and_its_value(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, {".ekslint.yaml": "rule-options:\n  EKS405: {min-toleration-seconds: 20}\n"})
    with chdir(tmp_path):
        code, out, _ = run(capsys, "--list-rules", "--format", "json")
    assert code == 0
    rules = {r["id"]: r for r in json.loads(out)}
    assert rules["EKS401"]["options"] == []
    assert rules["EKS405"]["options"] == [
        {
            "name": "min-toleration-seconds",
            "type": "int",
            "default": 60,
            "description": FastEvictionToleration.options[0].description,
            "minimum": 0,
            "maximum": None,
            "choices": None,
            "value": 20,
        }
    ]


def test_generated_page_and_sarif_document_the_options() -> None:
    from ekslint.report import ruledocs

    page = ruledocs.page(FastEvictionToleration)
    assert "## Options\n\n- `min-toleration-seconds` (integer, default `60`, at least 0)" in page
    assert page.index("## Options") < page.index("## References")
    assert "Options" in ruledocs.documented(FastEvictionToleration).markdown()


# -- the cache and parallel runs ---------------------------------------------------------------


def test_a_changed_option_is_never_answered_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = write(tmp_path / "repo", MANIFESTS)
    cache_dir = tmp_path / "cache"
    config_file = tmp_path / ".ekslint.yaml"  # outside what is linted: only the three manifests are cached

    def cached(seconds: int | None) -> RunResult:
        config_file.write_text(
            f"rule-options:\n  EKS405:\n    min-toleration-seconds: {seconds}\n" if seconds is not None else "{}\n"
        )
        with chdir(root):
            settings = config.load(config_file)
            registry = plugins.load()
            resolve_rule_options(settings, registry)
            return Runner(registry, settings).run(RunRequest(["."], settings, cache_dir=cache_dir))

    cold = cached(None)
    assert cold.from_cache == 0 and eks405(cold) == ["s10.yaml", "s30.yaml"]
    assert cached(None).from_cache == 3  # warm
    # The default written out is what the rule ran with: the cache still answers.
    default = cached(60)
    assert default.from_cache == 3 and eks405(default) == ["s10.yaml", "s30.yaml"]
    changed = cached(100)
    assert changed.from_cache == 0 and eks405(changed) == ["s10.yaml", "s30.yaml", "s90.yaml"]
    again = cached(100)
    assert again.from_cache == 3 and eks405(again) == ["s10.yaml", "s30.yaml", "s90.yaml"]
    lowered = cached(20)
    assert lowered.from_cache == 0 and eks405(lowered) == ["s10.yaml"]


@pytest.mark.parametrize("fork", [True, False])
def test_workers_see_the_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork: bool) -> None:
    if not fork:  # spawned workers load the rules again and receive the settings
        monkeypatch.setattr(parallel, "fork_is_safe", lambda: False)
    elif not parallel.fork_is_safe():
        pytest.skip("forks only on Linux")
    write(tmp_path, {**MANIFESTS, ".ekslint.yaml": "rule-options:\n  EKS405:\n    min-toleration-seconds: 100\n"})
    serial = lint(tmp_path, select=["EKS405"])
    with chdir(tmp_path):
        settings = config.load(Path(".ekslint.yaml"))
        settings.select = ["EKS405"]
        two = Runner(plugins.load(), settings).run(RunRequest(["."], settings, jobs=2))
    assert two.jobs == 2
    assert eks405(two) == eks405(serial) == ["s10.yaml", "s30.yaml", "s90.yaml"]
    assert [f.message for f in two.findings] == [f.message for f in serial.findings]


def test_plugin_options_reach_forked_workers(tmp_path: Path) -> None:
    if not parallel.fork_is_safe():
        pytest.skip("forks only on Linux")
    write(
        tmp_path, {**MANIFESTS, ".ekslint.yaml": "rule-options:\n  ACME001: {mode: lenient}\n  ACME101: {ratio: 1}\n"}
    )
    registry = acme_registry()
    with chdir(tmp_path):
        settings = config.load(Path(".ekslint.yaml"))
        settings.select = ["ACME"]
        two = Runner(registry, settings).run(RunRequest(["."], settings, jobs=2))
    assert two.jobs == 2
    assert len(acme_messages(two)) == 3 and all('"mode": "lenient"' in m for m in acme_messages(two))
    assert acme_messages(two, "ACME101") == ["ratio=1.0"]
