"""EKS207 max-pods-without-use-max-pods-false."""

from __future__ import annotations

from collections.abc import Iterator

from ekslint.plugin import FileModel, FileRule, Related, RuleContext, Severity, Violation


class MaxPodsWithoutUseMaxPodsFalse(FileRule):
    """## What it does
    Flags a `/etc/eks/bootstrap.sh` call (in userdata, an eksctl
    `overrideBootstrapCommand` or `preBootstrapCommands`) that passes `--max-pods` to
    the kubelet in `--kubelet-extra-args` without `--use-max-pods false`.

    bootstrap.sh reads both from its environment when the option is not given
    (`KUBELET_EXTRA_ARGS="${KUBELET_EXTRA_ARGS:-}"`, `USE_MAX_PODS="${USE_MAX_PODS:-true}"`),
    so `export KUBELET_EXTRA_ARGS='--max-pods=110'` before the call, `NAME=value` on
    the call's own line, or a script that sources bootstrap.sh count the same.

    ## Why is this bad?
    With `--use-max-pods` at its default (`true`), bootstrap.sh also writes its own
    `maxPods` (from `eni-max-pods.txt`, or the calculator when the type is missing)
    into `/etc/kubernetes/kubelet/kubelet-config.json` (amazon-eks-ami
    `templates/al2/runtime/bootstrap.sh`). The node then carries two different
    max-pods values: the command-line flag wins today, but the config file, the
    kube-reserved memory bootstrap.sh derives from its own value and anything that
    reads the config disagree with what the kubelet does. `--use-max-pods false`
    together with `--max-pods` in `--kubelet-extra-args` is the documented way to
    override it, as EKS managed node groups and Karpenter do. (`--use-max-pods false`
    with no `--max-pods` leaves the kubelet at its default, 110.)

    ## Example
    ```bash
    /etc/eks/bootstrap.sh my-cluster --kubelet-extra-args '--max-pods=110'
    ```

    ## Use instead
    ```bash
    /etc/eks/bootstrap.sh my-cluster --use-max-pods false --kubelet-extra-args '--max-pods=110'
    ```

    ## References
    - amazon-eks-ami `templates/al2/runtime/bootstrap.sh` (`--use-max-pods`, its environment variables)
    - https://docs.aws.amazon.com/eks/latest/userguide/choosing-instance-type.html
    """

    id = "EKS207"
    name = "max-pods-without-use-max-pods-false"
    severity = Severity.WARNING
    summary = "bootstrap.sh gets --max-pods in --kubelet-extra-args without --use-max-pods false"
    tags = ("al2", "bootstrap", "max-pods")
    precision = "very-high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for userdata in target.userdata:
            for script, call in userdata.bootstrap_calls:
                use = call.option("--use-max-pods")
                # bootstrap.sh writes maxPods only when the value is exactly "true".
                if use is not None and (use.unknown or use.text != "true"):
                    continue
                for flag in call.extra_kubelet_flags:
                    if flag.name != "max-pods":
                        continue
                    # A value only the shell or a template render knows is not quoted as "".
                    known = flag.value is not None and not flag.value.unknown and flag.value.text
                    shown = f"--max-pods={flag.value.text}" if known and flag.value is not None else "--max-pods"
                    related: tuple[Related, ...] = ()
                    if use is not None:
                        related = (Related(script.span_of(use), "--use-max-pods is true here"),)
                    through = (
                        "--kubelet-extra-args"
                        if "--kubelet-extra-args" in call.options
                        else "KUBELET_EXTRA_ARGS, which bootstrap.sh reads from its environment"
                    )
                    yield Violation(
                        script.span_of(flag.flag),
                        f"{shown} is set without --use-max-pods false: bootstrap.sh also writes its own",
                        related,
                        detail=f"{shown} reaches the kubelet through {through} in {script.source}, "
                        "but bootstrap.sh still writes its own maxPods from eni-max-pods.txt into "
                        "kubelet-config.json (it does unless --use-max-pods is false), so the node carries two "
                        "different values. Add --use-max-pods false to the bootstrap.sh call (or export "
                        "USE_MAX_PODS=false)",
                    )
                    break
