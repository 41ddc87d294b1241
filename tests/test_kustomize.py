"""kustomize builds, understood in Python: what each top-level kustomization builds is
what the rules judge (model/kbuild.py). Shapes follow kustomize's own examples
(kubernetes-sigs/kustomize examples/helloWorld, examples/patchMultipleObjects.md,
examples/jsonpatch.md, examples/components.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ekslint import config
from ekslint.engine import plugins
from ekslint.engine.runner import Runner, RunRequest, RunResult
from tests.conftest import REPO, SHARED, chdir, lint, write

WEB = REPO / "tests" / "fixtures" / "kustomize" / "web"


def notes(result: RunResult) -> list[tuple[str, str]]:
    """The run's not-analysed notes as (file, reason)."""
    return [(note.file, note.reason) for note in result.not_analysed]


def found(result) -> set[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    return {(f.rule_id, f.span.file, f.span.line) for f in result.findings}


@pytest.fixture
def web(tmp_path: Path) -> Path:
    shutil.copytree(WEB, tmp_path / "web")
    return tmp_path / "web"


def test_base_with_dev_and_prod_overlays(web: Path) -> None:
    result = lint(web)
    # The PDB selects app: web, a label only the base's commonLabels gives the pods: no
    # "selects nothing". dev patches replicas 3 -> 1 under minAvailable 1: EKS401, whose
    # replica count points at the patch line. prod moves the PDB to policy/v1 (JSON6902)
    # and runs 4 replicas: nothing. dev keeps policy/v1beta1: one EKS003 at the base line.
    assert found(result) == {("EKS003", "base/pdb.yaml", 3), ("EKS401", "base/pdb.yaml", 9)}
    eks401 = next(f for f in result.findings if f.rule_id == "EKS401")
    assert "dev-web" in eks401.message and "with 1 replica (overlays/dev/replicas.yaml:6)" in eks401.message
    assert [(r.span.file, r.span.line) for r in eks401.related] == [("overlays/dev/replicas.yaml", 6)]
    assert not result.not_analysed


def test_the_patch_is_not_a_second_deployment(web: Path) -> None:
    from ekslint.model import kbuild
    from ekslint.model.context import ModelContext
    from ekslint.model.filemodel import build_file_model
    from ekslint.parse.discovery import walk
    from ekslint.parse.sources import ReadLimits, load_bytes

    with chdir(web):
        facts = []
        for path, shown in walk(["."], [], []):
            source = load_bytes(shown, Path(path).read_bytes(), ReadLimits())
            assert source is not None
            facts.append(build_file_model(source, ModelContext()).facts())
        assembly = kbuild.assemble(facts)
    by_path = {s.path: s for s in assembly.sources}
    # Only the two builds carry objects: base files and the patch are consumed.
    assert sorted(p for p, s in by_path.items() if getattr(s, "workloads", None)) == [
        "overlays/dev/kustomization.yaml",
        "overlays/prod/kustomization.yaml",
    ]
    dev = by_path["overlays/dev/kustomization.yaml"]
    assert [(w.name, w.namespace, w.replicas) for w in dev.workloads] == [("dev-web", "web", 1)]  # type: ignore[union-attr]
    prod = by_path["overlays/prod/kustomization.yaml"]
    assert [(w.name, w.replicas) for w in prod.workloads] == [("prod-web", 4)]  # type: ignore[union-attr]
    assert prod.workloads[0].replicas_span.file == "overlays/prod/kustomization.yaml"  # type: ignore[union-attr]
    assert [p.api_version for p in prod.pdbs] == ["policy/v1"]  # type: ignore[union-attr]


def test_the_base_alone_is_its_own_build(web: Path) -> None:
    # Linting only the base: it is the top-level kustomization; commonLabels still apply.
    result = lint(web, "base")
    assert found(result) == {("EKS003", "base/pdb.yaml", 3)}


def test_without_kustomize_the_pdb_selects_nothing(web: Path) -> None:
    # The same files with the kustomizations removed: what ekslint said before.
    for name in ("base", "overlays/dev", "overlays/prod"):
        (web / name / "kustomization.yaml").unlink()
    assert ("EKS404", "base/pdb.yaml", 10) in found(lint(web, "base"))


def test_a_changed_base_rejudges_the_overlays(web: Path) -> None:
    # pre-commit passes the changed base file; --context reads the rest: the dev build,
    # made from the base, is judged again and breaks the PDB (its location lies in the
    # changed file).
    settings = config.load(None)

    def changed(path: str) -> set[tuple[str, str, int]]:
        with chdir(web):
            request = RunRequest([path], settings, context=["."])
            return found(Runner(plugins.load(), settings).run(request))

    assert changed("base/pdb.yaml") == {("EKS003", "base/pdb.yaml", 3), ("EKS401", "base/pdb.yaml", 9)}
    # The patch's line is a related location of the EKS401 finding: reported too.
    assert changed("overlays/dev/replicas.yaml") == {("EKS401", "base/pdb.yaml", 9)}
    # A change to the Deployment that does not set the replicas the finding is about.
    assert changed("base/deployment.yaml") == set()


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers: [{name: api, image: nginx}]
"""

PDB = """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: api}
"""


def test_alternative_builds_never_meet(tmp_path: Path) -> None:
    # Two overlays of one base, each adding its own PDB in the same namespace: within a
    # build there is one PDB per workload; across builds the PDBs never overlap (EKS403).
    write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources: [deployment.yaml]\n",
            "base/deployment.yaml": DEPLOYMENT,
            "dev/kustomization.yaml": "namespace: shop\nresources: [../base, pdb.yaml]\n",
            "dev/pdb.yaml": PDB,
            "prod/kustomization.yaml": "namespace: shop\nresources: [../base, pdb.yaml]\n",
            "prod/pdb.yaml": PDB.replace("name: api", "name: api-prod"),
        },
    )
    assert not {f for f in found(lint(tmp_path)) if f[0] == "EKS403"}


def test_labels_without_include_selectors_leave_the_pdb(tmp_path: Path) -> None:
    # labels: (not commonLabels) without includeSelectors/includeTemplates sets only
    # metadata.labels (kustomize builtinpluginconsts/metadatalabels.go): the pods never
    # get team: a, and a PDB selecting it selects nothing.
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [deployment.yaml, pdb.yaml]\nlabels:\n  - pairs: {team: a}\n",
            "deployment.yaml": DEPLOYMENT,
            "pdb.yaml": PDB.replace("{app: api}", "{team: a}"),
        },
    )
    assert ("EKS404", "pdb.yaml", 7) in found(lint(tmp_path))
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [deployment.yaml, pdb.yaml]\nlabels:\n  - pairs: {team: a}\n    includeTemplates: true\n"
    )
    assert not {f for f in found(lint(tmp_path)) if f[0] == "EKS404"}


def test_strategic_merge_and_json_patches(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources: [deployment.yaml, pdb.yaml, hpa.yaml]\n",
            "base/deployment.yaml": DEPLOYMENT,
            "base/pdb.yaml": PDB,
            "base/hpa.yaml": (
                "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api}\nspec:\n"
                "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}\n  minReplicas: 2\n"
                "  maxReplicas: 5\n"
            ),
            # patchesJson6902 with a file; patchesStrategicMerge with an inline sysctl patch.
            "overlay/kustomization.yaml": (
                "resources: [../base]\n"
                "namePrefix: x-\n"
                "patchesJson6902:\n"
                "  - target: {group: autoscaling, version: v2, kind: HorizontalPodAutoscaler, name: api}\n"
                "    path: hpa.yaml\n"
                "patchesStrategicMerge:\n"
                "  - |-\n"
                "    apiVersion: apps/v1\n"
                "    kind: Deployment\n"
                "    metadata: {name: api}\n"
                "    spec:\n"
                "      template:\n"
                "        spec:\n"
                "          securityContext:\n"
                "            sysctls: [{name: kernel.msgmax, value: '65536'}]\n"
            ),
            "overlay/hpa.yaml": "- op: replace\n  path: /spec/minReplicas\n  value: 1\n",
        },
    )
    result = lint(tmp_path)
    # The HPA follows the prefixed Deployment (kustomize's nameref) and its patched floor
    # of 1 breaks the PDB; the sysctl of the inline patch is reported at its line.
    assert found(result) == {("EKS401", "base/pdb.yaml", 6), ("EKS101", "overlay/kustomization.yaml", 15)}
    eks401 = next(f for f in result.findings if f.rule_id == "EKS401")
    assert "(overlay/hpa.yaml:3)" in eks401.message


def test_patch_delete_removes_the_object(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": (
                "resources: [deployment.yaml, pdb.yaml]\npatches:\n  - patch: |-\n"
                "      $patch: delete\n      apiVersion: policy/v1\n      kind: PodDisruptionBudget\n"
                "      metadata: {name: api}\n"
            ),
            "deployment.yaml": DEPLOYMENT.replace("replicas: 2", "replicas: 1"),
            "pdb.yaml": PDB,
        },
    )
    assert not found(lint(tmp_path))


def test_components_apply_their_patches(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources: [deployment.yaml, pdb.yaml]\ncomponents: [../single]\n",
            "app/deployment.yaml": DEPLOYMENT,
            "app/pdb.yaml": PDB,
            "single/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n"
                "  - target: {kind: Deployment}\n    patch: |-\n      - op: replace\n"
                "        path: /spec/replicas\n        value: 1\n"
            ),
        },
    )
    result = lint(tmp_path)
    assert found(result) == {("EKS401", "app/pdb.yaml", 6)}
    assert "(single/kustomization.yaml:8)" in result.findings[0].message


def test_a_cycle_is_a_parse_error_and_the_run_goes_on(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a/kustomization.yaml": "resources: [../b, deployment.yaml]\n",
            "a/deployment.yaml": DEPLOYMENT,
            "b/kustomization.yaml": "resources: [../a]\n",
            "top/kustomization.yaml": "resources: [../a]\n",
        },
    )
    result = lint(tmp_path)
    eks001 = [f for f in result.findings if f.rule_id == "EKS001"]
    assert eks001 and "kustomization cycle" in eks001[0].message
    assert any("cycle" in why for _, why in notes(result))


def test_a_cycle_with_no_top_level_kustomization_is_still_reported(tmp_path: Path) -> None:
    # a -> b -> a and nothing above them: no build starts from a top level, but
    # kustomize build refuses either directory, so the cycle is said, not dropped.
    write(
        tmp_path,
        {
            "a/kustomization.yaml": "resources: [../b, deployment.yaml]\n",
            "a/deployment.yaml": DEPLOYMENT,
            "b/kustomization.yaml": "resources: [../a]\n",
        },
    )
    result = lint(tmp_path)
    eks001 = [f for f in result.findings if f.rule_id == "EKS001"]
    assert len(eks001) == 1 and "kustomization cycle" in eks001[0].message
    assert len([why for _, why in notes(result) if "cycle" in why]) == 1


def test_remote_and_out_of_tree_resources_are_not_analysed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"deployment.yaml": DEPLOYMENT})
    tree = tmp_path / "tree"
    write(
        tree,
        {
            "remote/kustomization.yaml": (
                "resources:\n  - github.com/kubernetes-sigs/kustomize/examples/helloWorld?ref=v5.4.0\n"
                "  - deployment.yaml\n"
            ),
            "remote/deployment.yaml": DEPLOYMENT.replace("replicas: 2", "replicas: 1"),
            "remote/pdb.yaml": PDB,
            "escape/kustomization.yaml": "resources: [../../outside/deployment.yaml, /etc/passwd]\n",
        },
    )
    result = lint(tree)
    reasons = dict(notes(result))
    assert reasons["remote/kustomization.yaml"] == (
        "kustomize build not analysed: remote resource "
        "github.com/kubernetes-sigs/kustomize/examples/helloWorld?ref=v5.4.0 at line 2 (not fetched)"
    )
    assert len(notes(result)) == 2
    assert "not among the linted files" in reasons["escape/kustomization.yaml"]
    # The remote build is not analysed: its files are judged as they are (EKS401 on the
    # plain PDB and Deployment), never in silence.
    assert ("EKS401", "remote/pdb.yaml", 6) in found(result)
    assert all("outside" not in f.span.file for f in result.findings)


def test_helm_charts_in_a_kustomization_are_not_analysed(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "helmCharts:\n  - name: web\n    repo: https://charts.example.com\n",
        },
    )
    result = lint(tmp_path)
    assert notes(result) == [("kustomization.yaml", "helmCharts (the chart is not rendered) at line 1")]


def test_public_kustomize_trees_rebuilt(tmp_path: Path) -> None:
    """The public kustomize trees, laid out again as their repositories have them (the
    shared copies are flattened): every build assembles, and the findings are reviewed."""
    public = SHARED / "public-configs"
    if not public.is_dir():
        pytest.skip(f"the public configs are expected at {public}")
    for line in (public / "SOURCES.tsv").read_text().splitlines()[1:]:
        flat, repo, path, _ = line.split("\t")
        if flat.startswith("kustomize/"):
            target = tmp_path / repo / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(public / flat, target)
    result = lint(tmp_path)
    assert not result.crashed and not result.input_errors
    # DevSars24's dev overlay patches the HPA's minReplicas to 1 (a JSON6902 patch) while
    # the base PDB keeps minAvailable: 1: scaled down, no pod can be evicted.
    assert found(result) == {("EKS401", "DevSars24/terraform-eks-devops/k8s/base/pdb.yaml", 15)}
    eks401 = result.findings[0]
    assert "(DevSars24/terraform-eks-devops/k8s/overlays/dev/kustomization.yaml:42)" in eks401.message
    # The one chart and the one helmCharts overlay are said, not dropped.
    assert sorted(p for p, _ in notes(result)) == [
        "yieon-lyon/karpenter-sample/base/charts/nodegroups/Chart.yaml",
        "yieon-lyon/karpenter-sample/overlays/platform/kustomization.yaml",
    ]


def test_a_problem_in_a_shared_base_is_reported_once(web: Path) -> None:
    deployment = web / "base" / "deployment.yaml"
    deployment.write_text(
        deployment.read_text().replace(
            "    spec:\n      containers:",
            "    spec:\n      securityContext:\n        sysctls: [{name: kernel.msgmax, value: '1'}]\n      containers:",
        )
    )
    eks101 = [f for f in lint(web).findings if f.rule_id == "EKS101"]
    assert [(f.span.file, f.span.line) for f in eks101] == [("base/deployment.yaml", 19)]


@pytest.mark.parametrize(
    ("levels", "reason"),
    [
        (30, "kustomizations nested deeper than 20 (in l21/kustomization.yaml)"),
        (16, "more than 5000 files in the build (in l3/kustomization.yaml)"),
    ],
)
def test_a_diamond_of_bases_is_bounded(tmp_path: Path, levels: int, reason: str) -> None:
    # Each level names the next one twice: 2**levels paths to the bottom. Built once per
    # kustomization and copied, it stops at the depth or file bound, saying so.
    import time

    files = {
        f"l{levels}/kustomization.yaml": "resources: [deployment.yaml]\n",
        f"l{levels}/deployment.yaml": DEPLOYMENT,
    }
    for level in range(levels):
        files[f"l{level}/kustomization.yaml"] = f"resources: [../l{level + 1}, ../l{level + 1}]\n"
    write(tmp_path, files)
    start = time.perf_counter()
    result = lint(tmp_path)
    assert time.perf_counter() - start < 30
    assert notes(result) == [("l0/kustomization.yaml", f"kustomize build not analysed: {reason}")]


@pytest.mark.parametrize(
    ("name", "blocked", "reason"),
    [
        ("ap.*", True, None),  # a regular expression matched whole, as kustomize's selector does
        ("a", False, None),  # "a" is not "api"
        ("(a+)+$", False, "the patch target pattern '(a+)+$' (only simple patterns are matched)"),
        # labelSelector reads the object's metadata.labels (the Deployment has none; its
        # pod template's app=api is not the object's): not selected.
        ("api', labelSelector: 'app=api", False, None),
        ("api', labelSelector: '!tier", True, None),
        # Object annotations are not modelled: not analysed, never guessed.
        ("api', annotationSelector: 'tier=web", False, "a patch target with annotationSelector 'tier=web'"),
    ],
)
def test_target_patterns(tmp_path: Path, name: str, blocked: bool, reason: str | None) -> None:
    kustomization = (
        "resources: [deployment.yaml, pdb.yaml]\npatches:\n"
        f"  - target: {{kind: Deployment, name: '{name}'}}\n"
        "    patch: |-\n      - {op: replace, path: /spec/replicas, value: 1}\n"
    )
    write(tmp_path, {"deployment.yaml": DEPLOYMENT, "pdb.yaml": PDB, "kustomization.yaml": kustomization})
    result = lint(tmp_path)
    assert (("EKS401", "pdb.yaml", 6) in found(result)) is blocked
    expected = [("kustomization.yaml", f"kustomize build not analysed: {reason}")] if reason else []
    assert notes(result) == expected
