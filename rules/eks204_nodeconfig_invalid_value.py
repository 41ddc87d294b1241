"""EKS204 nodeconfig-invalid-value."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from ekslint.plugin import (
    NODEADM_VARIABLES,
    FileModel,
    FileRule,
    MergedNodeConfig,
    RuleContext,
    Severity,
    Violation,
    is_placeholder,
)

PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _decode_ca(value: str) -> bytes | None:
    """Go's encoding/json decodes []byte with base64.StdEncoding, which skips line
    breaks and nothing else."""
    try:
        return base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return None


def _network(value: str) -> IPNetwork | None:
    """Go net.ParseCIDR: an address, a slash and a prefix length (host bits allowed)."""
    if "/" not in value:
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


class NodeconfigInvalidValue(FileRule):
    """## What it does
    Checks the values of a NodeConfig (a userdata part, a NodeConfig file, or an
    eksctl AmazonLinux2023 `overrideBootstrapCommand`), as nodeadm merges them:
    - `spec.cluster.apiServerEndpoint` must be an `https://` URL with a host;
    - `spec.cluster.certificateAuthority` must be base64 (in every part: nodeadm
      cannot decode a part otherwise), and the value that wins must decode to a PEM
      certificate;
    - `spec.cluster.cidr` must be a CIDR (`10.100.0.0/16`);
    - every `spec.kubelet.config.clusterDNS` address must be an IP inside `cidr`
      (link-local addresses, as NodeLocal DNSCache uses, are allowed);
    - `spec.kubelet.maxPodsExpression` must be a CEL expression nodeadm can compile
      (its variables are `default_enis`, `ips_per_eni`, `max_pods`, and in newer
      releases `vcpus` and `physical_memory_mib`; CEL has no `min`/`max` and no mixed
      int/double arithmetic) with an integer result.

    Values with template placeholders (`${...}`, `{{ }}`, `%s`) are skipped.

    ## Why is this bad?
    nodeadm validates only that the cluster fields are present (DOMAIN.md §2.2); a
    wrong value fails later and further from its cause. A non-base64 CA fails the
    decoding of the whole userdata (`illegal base64 data`); a CA that is not a PEM
    certificate, an `http://` endpoint or a host without scheme leave the kubelet
    unable to reach the API server; an invalid `cidr` fails the cluster DNS
    derivation; a `clusterDNS` outside the service CIDR points every pod's resolver at
    an address no Service has. An expression that does not compile is dropped with
    only a warning in the node's journal (`Failed to evaluate custom expression,
    using standard max pods value`, DOMAIN.md §1.4), so the node silently runs with
    the default max pods.

    ## Example
    ```yaml
    apiVersion: node.eks.aws/v1alpha1
    kind: NodeConfig
    spec:
      cluster:
        apiServerEndpoint: EXAMPLE.gr7.us-west-2.eks.amazonaws.com
        cidr: 10.100.0.0/16
      kubelet:
        maxPodsExpression: min(max_pods, 110)
    ```

    ## Use instead
    ```yaml
    apiVersion: node.eks.aws/v1alpha1
    kind: NodeConfig
    spec:
      cluster:
        apiServerEndpoint: https://EXAMPLE.gr7.us-west-2.eks.amazonaws.com
        cidr: 10.100.0.0/16
      kubelet:
        maxPodsExpression: "max_pods < 110 ? max_pods : 110"
    ```

    ## References
    - https://awslabs.github.io/amazon-eks-ami/nodeadm/doc/api/
    - https://awslabs.github.io/amazon-eks-ami/nodeadm/doc/examples/#defining-a-max-pods-expression
    - https://github.com/google/cel-spec/blob/master/doc/langdef.md
    """

    id = "EKS204"
    name = "nodeconfig-invalid-value"
    severity = Severity.ERROR
    summary = "A NodeConfig value nodeadm or the kubelet cannot use"
    tags = ("nodeadm", "al2023", "bootstrap")
    precision = "high"

    def check(self, target: FileModel, ctx: RuleContext) -> Iterator[Violation]:
        for userdata in target.userdata:
            merged = userdata.nodeconfig
            if merged is not None:
                yield from self._cluster(merged)
                yield from self._cluster_dns(merged)
                yield from self._expression(merged)

    def _cluster(self, merged: MergedNodeConfig) -> Iterator[Violation]:
        endpoint = merged.cluster.get("apiServerEndpoint")
        if endpoint is not None and not is_placeholder(endpoint.value):
            scheme, host = _scheme_and_host(endpoint.value.strip())
            if scheme != "https" or not host:
                if scheme is None:
                    change = "Close the IPv6 address with ']', or set it to the cluster's endpoint"
                elif scheme == "http":
                    change = f"Write https://{endpoint.value.strip()[7:]}"
                elif not scheme:
                    change = f"Add the scheme: https://{endpoint.value.strip()}"
                else:
                    change = "Set it to the cluster's endpoint, https://<id>.<zone>.<region>.eks.amazonaws.com"
                yield Violation(
                    endpoint.span,
                    f"apiServerEndpoint {endpoint.value!r} in {endpoint.source} is not an https URL: the kubelet "
                    "reaches the EKS API server only over https://<host>, so the node never joins. "
                    f"{change} (aws eks describe-cluster --query cluster.endpoint)",
                )
        for written in merged.certificate_authorities:  # each part's: nodeadm decodes each
            if is_placeholder(written.value):
                continue
            if _decode_ca(written.value) is None:
                yield Violation(
                    written.span,
                    f"certificateAuthority in {written.source} is not base64 ({written.value[:24]!r}...): nodeadm "
                    "cannot "
                    "decode this NodeConfig ('illegal base64 data') and the node never joins. Set it to the "
                    "cluster's base64 CA bundle (aws eks describe-cluster --query "
                    "cluster.certificateAuthority.data), on one line",
                )
        ca = merged.cluster.get("certificateAuthority")
        if ca is not None and not is_placeholder(ca.value):
            decoded = _decode_ca(ca.value)
            if decoded is not None and PEM_CERTIFICATE not in decoded:
                shown = decoded[:24].decode("utf-8", "replace")
                yield Violation(
                    ca.span,
                    f"certificateAuthority in {ca.source} decodes to {shown!r}, not a PEM certificate "
                    "(-----BEGIN CERTIFICATE-----): the kubelet cannot load the CA and never trusts the API "
                    "server. Set it to the cluster's base64 CA bundle (aws eks describe-cluster --query "
                    "cluster.certificateAuthority.data)",
                )
        cidr = merged.cluster.get("cidr")
        if cidr is not None and not is_placeholder(cidr.value) and _network(cidr.value) is None:
            yield Violation(
                cidr.span,
                f"cidr {cidr.value!r} in {cidr.source} is not a CIDR: nodeadm derives the cluster DNS address from "
                "it and fails. Set it to the cluster's service CIDR, e.g. 10.100.0.0/16 or 172.20.0.0/16 "
                "(aws eks describe-cluster --query cluster.kubernetesNetworkConfig.serviceIpv4Cidr)",
            )

    def _cluster_dns(self, merged: MergedNodeConfig) -> Iterator[Violation]:
        cidr = merged.cluster.get("cidr")
        network = _network(cidr.value) if cidr is not None else None
        for item in merged.cluster_dns:
            if is_placeholder(item.value):
                continue
            source = item.source
            try:
                address = ipaddress.ip_address(item.value.strip())
            except ValueError:
                yield Violation(
                    item.span,
                    f"clusterDNS entry {item.value!r} in {source} is not an IP address: the kubelet refuses its "
                    "configuration. Set it to the kube-dns Service IP (the tenth address of the service CIDR, "
                    "e.g. 10.100.0.10), or remove clusterDNS and let nodeadm derive it from cidr",
                )
                continue
            # A link-local address is NodeLocal DNSCache (169.254.20.10), which is meant to be outside.
            if network is not None and cidr is not None and address not in network and not address.is_link_local:
                yield Violation(
                    item.span,
                    f"clusterDNS {address} in {source} is outside the service CIDR {cidr.value}, so it is not the "
                    "cluster's DNS Service: pods use it as their nameserver and cluster.local names do not resolve. "
                    "Set it to the kube-dns "
                    f"Service IP inside {cidr.value} (usually its tenth address), or remove clusterDNS and let "
                    "nodeadm derive it",
                )

    def _expression(self, merged: MergedNodeConfig) -> Iterator[Violation]:
        found = merged.max_pods_expression
        if found is None or found.templated:
            return
        expression, source, err = found.expression, found.source, found.error
        if len(expression) > 80:  # a hostile one can be megabytes: quote its start
            expression = f"{expression[:60]}... ({len(expression):,} characters)"
        variables = ", ".join(NODEADM_VARIABLES[:3])
        if err is not None:
            hint = (
                "CEL has no min/max: write a ternary, e.g. max_pods < 110 ? max_pods : 110"
                if re.match(r"undeclared reference to '(min|max)'", err.message)
                else "CEL does not mix int and double: use integer arithmetic, or int(double(max_pods) * 0.9)"
                if "(int, double)" in err.message or "(double, int)" in err.message
                else f"use only the variables {variables} (and vcpus, physical_memory_mib on newer nodeadm)"
                if err.message.startswith("undeclared reference")
                else "fix the expression"
            )
            yield Violation(
                found.error_span(),
                f"maxPodsExpression {expression!r} in {source} does not compile: {err.message}. nodeadm logs "
                "'Failed to evaluate custom expression, using standard max pods value' and the node runs with "
                f"the default max pods. {hint[0].upper()}{hint[1:]}",
            )
            return
        result = found.result
        if result is None:
            return
        problem = None
        if result.type in ("bool", "null", "list", "map", "bytes"):
            problem = f"its result is a {result.type}, which nodeadm cannot convert to a pod count"
        elif result.literal is not None and result.literal <= 0:
            problem = f"its result {result.literal} is not a positive pod count"
        if problem is not None:
            yield Violation(
                found.span,
                f"maxPodsExpression {expression!r} in {source}: {problem}; nodeadm falls back to the standard "
                f"max pods. Write an expression with a positive integer result, e.g. max_pods or "
                "max_pods < 110 ? max_pods : 110",
            )


def _scheme_and_host(endpoint: str) -> tuple[str | None, str | None]:
    """The URL's scheme and host; no scheme (None) when it is no URL at all, such as
    an IPv6 literal without its closing bracket, which urllib refuses to split."""
    try:
        url = urlsplit(endpoint)
    except ValueError:
        return None, None
    return url.scheme, url.hostname
