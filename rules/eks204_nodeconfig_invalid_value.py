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
# Instance shapes a maxPodsExpression is tried on (default ENIs, IPv4 per ENI, standard
# max pods), from nodeadm's instance-info.jsonl: t3.micro, m5.large, m5.24xlarge.
PROBES = (("t3.micro", 2, 2, 4), ("m5.large", 3, 10, 29), ("m5.24xlarge", 15, 50, 737))
# aws/eks-hybrid internal/node/hybrid/validator.go
SSM_ACTIVATION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
UNUSABLE_CA = (
    "the kubelet loads it as its client CA bundle and stops at start ('missing content for CA bundle'), so the "
    "node never joins"
)
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
      certificate; an empty `certificateAuthority: ""` is reported on its own;
    - `spec.cluster.cidr` must be a CIDR (`10.100.0.0/16`);
    - every `spec.kubelet.config.clusterDNS` address must be an IP inside `cidr`
      (link-local addresses, as NodeLocal DNSCache uses, are allowed);
    - `spec.kubelet.maxPodsExpression` must compile as nodeadm compiles it (CEL's
      standard library and exactly the int variables `default_enis`, `ips_per_eni`,
      `max_pods`: no `min`/`max`, no arithmetic across int and double) and give a
      positive integer pod count for at least one instance shape (a t3.micro, an
      m5.large, an m5.24xlarge);
    - hybrid nodes (`spec.hybrid`): no `--hostname-override` in `kubelet.flags`, not
      both `ssm` and `iamRolesAnywhere`, an SSM `activationCode` of 20 to 250
      characters and an `activationId` in UUID form, a `nodeName` of at most 64
      characters.

    Values with template placeholders (`${...}`, `{{ }}`, `%s`) are skipped.

    ## Why is this bad?
    nodeadm validates only that the cluster fields are present
    (amazon-eks-ami `nodeadm/internal/api/validation.go`); a wrong value fails later
    and further from its cause. A non-base64 CA fails the decoding of the whole
    userdata (`illegal base64 data`). An empty CA passes the check, which only tests
    for nil, and is written as an empty `/etc/kubernetes/pki/ca.crt`; the kubelet
    loads that file as its client CA bundle and stops at start (`missing content for
    CA bundle`, kubernetes `staging/src/k8s.io/apiserver/pkg/server/dynamiccertificates/dynamic_cafile_content.go`).
    A CA that is not a PEM certificate, an `http://` endpoint or a host without scheme
    leave the kubelet unable to reach the API server; an invalid `cidr` fails the
    cluster DNS derivation; a `clusterDNS` outside the service CIDR points every pod's
    resolver at an address no Service has. An expression that does not compile, or
    whose result is not a positive integer, is dropped with only a warning in the
    node's journal (`Failed to evaluate custom expression, using standard max pods
    value`, amazon-eks-ami `nodeadm/internal/kubelet/eni_max_pods.go`), so the node
    silently runs with the standard max pods. nodeadm for hybrid nodes refuses the
    other hybrid values before it starts (aws/eks-hybrid
    `internal/node/hybrid/validator.go`).

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
    - amazon-eks-ami `nodeadm/internal/kubelet/eni_max_pods.go`
    - aws/eks-hybrid `internal/node/hybrid/validator.go`
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
                yield from self._hybrid(merged)

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
                    f"apiServerEndpoint in {endpoint.source} is not an https URL",
                    detail=f"apiServerEndpoint {endpoint.value!r} in {endpoint.source} is not an https URL: "
                    "the kubelet "
                    "reaches the EKS API server only over https://<host>, so the node never joins. "
                    f"{change} (aws eks describe-cluster --query cluster.endpoint)",
                )
        empty = merged.empty_certificate_authority
        if empty is not None:
            fetch = " (and nodeadm for hybrid nodes does not fetch it with DescribeCluster)" if merged.hybrid else ""
            yield Violation(
                empty.span,
                f'certificateAuthority in {empty.source} is "": nodeadm only checks that it is set, so the config '
                f"passes{fetch}, and it writes an empty /etc/kubernetes/pki/ca.crt: {UNUSABLE_CA}. Set it to the "
                "cluster's base64 CA bundle (aws eks describe-cluster --query cluster.certificateAuthority.data)"
                + (", or remove the key and let nodeadm look it up" if merged.hybrid else ""),
            )
        for written in merged.certificate_authorities:  # each part's: nodeadm decodes each
            if is_placeholder(written.value) or not written.value:
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
        if ca is not None and ca.value and not is_placeholder(ca.value):
            decoded = _decode_ca(ca.value)
            if decoded is not None and PEM_CERTIFICATE not in decoded:
                shown = decoded[:24].decode("utf-8", "replace")
                yield Violation(
                    ca.span,
                    f"certificateAuthority in {ca.source} is not a base64 PEM certificate",
                    detail=f"certificateAuthority in {ca.source} decodes to {shown!r}, not a PEM certificate "
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
        if found is None or found.templated or found.beyond_limits:
            return  # beyond cel-go's parser limits: an EKS001 problem of the file
        expression, source, err = found.expression, found.source, found.error
        fallback = (
            "nodeadm logs 'Failed to evaluate custom expression, using standard max pods value' and the node runs "
            "with the standard max pods (default_enis * (ips_per_eni - 1) + 2)"
        )
        if len(expression) > 80:  # a hostile one can be megabytes: quote its start
            expression = f"{expression[:60]}... ({len(expression):,} characters)"
        if err is not None:
            message = err.message
            if re.match(r"undeclared reference to '(min|max)'", message):
                hint = "CEL has no min/max: write a ternary, e.g. max_pods < 110 ? max_pods : 110"
            elif "double" in message and "overload" in message:
                hint = "CEL does not mix int and double: use integer arithmetic, or int(double(max_pods) * 0.9)"
            elif message.startswith("undeclared reference"):
                hint = f"Use only the variables {', '.join(NODEADM_VARIABLES)}: nodeadm declares no others"
            else:
                hint = "Fix the expression"
            yield Violation(
                found.error_span(),
                f"maxPodsExpression in {source} does not compile",
                detail=f"maxPodsExpression {expression!r} in {source} does not compile: {message}. {fallback}. {hint}",
            )
            return
        failures = [(name, found.failure(enis, ips, standard)) for name, enis, ips, standard in PROBES]
        if all(failure for _, failure in failures):
            name, failure = failures[1]
            yield Violation(
                found.span,
                f"maxPodsExpression in {source} gives no usable pod count on any instance type",
                detail=f"maxPodsExpression {expression!r} in {source} gives no usable pod count on any instance type "
                f"(on an {name}: {failure}); {fallback}. Write an expression with a positive integer result, e.g. "
                "max_pods < 110 ? max_pods : 110",
            )

    def _hybrid(self, merged: MergedNodeConfig) -> Iterator[Violation]:
        hybrid = merged.hybrid
        if hybrid is None:
            return
        for flag in merged.flags:
            if flag.value.startswith("--hostname-override=") and len(flag.value) > len("--hostname-override="):
                yield Violation(
                    flag.span,
                    f"kubelet.flags in {flag.source} sets {flag.value}, but nodeadm for hybrid nodes refuses it "
                    "('hostname-override kubelet flag is not supported for hybrid nodes') and stops. Remove the "
                    "flag: hybrid nodes are named by the SSM managed instance ID or the IAM Roles Anywhere nodeName",
                )
        if hybrid.ssm is not None and hybrid.iam_roles_anywhere is not None:
            yield Violation(
                hybrid.iam_roles_anywhere_span or hybrid.span,
                "spec.hybrid sets both ssm and iamRolesAnywhere: nodeadm for hybrid nodes stops with 'Only one of "
                "IAMRolesAnywhere or SSM must be provided for hybrid node configuration'. Keep the one these "
                "nodes authenticate with and remove the other",
            )
        ssm = hybrid.ssm or {}
        code, ident = ssm.get("activationCode"), ssm.get("activationId")
        if code is not None and not is_placeholder(code.value) and not 20 <= len(code.value) <= 250:
            yield Violation(
                code.span,
                f"ssm.activationCode in {code.source} has {len(code.value)} characters; nodeadm for hybrid nodes "
                "stops with 'invalid ActivationCode format ... Must be 20-250 characters'. Set it to the "
                "ActivationCode that aws ssm create-activation returned",
            )
        if ident is not None and not is_placeholder(ident.value) and not SSM_ACTIVATION_ID.fullmatch(ident.value):
            yield Violation(
                ident.span,
                f"ssm.activationId {ident.value!r} in {ident.source} is not an activation ID (lower-case UUID form); "
                "nodeadm for hybrid nodes stops with 'invalid ActivationID format'. Set it to the ActivationId "
                "that aws ssm create-activation returned",
            )
        node_name = (hybrid.iam_roles_anywhere or {}).get("nodeName")
        if node_name is not None and not is_placeholder(node_name.value) and len(node_name.value) > 64:
            yield Violation(
                node_name.span,
                f"iamRolesAnywhere.nodeName in {node_name.source} has {len(node_name.value)} characters; nodeadm for "
                'hybrid nodes stops with "NodeName can\'t be longer than 64 characters". Use a name of at most 64 '
                "characters",
            )


def _scheme_and_host(endpoint: str) -> tuple[str | None, str | None]:
    """The URL's scheme and host; no scheme (None) when it is no URL at all, such as
    an IPv6 literal without its closing bracket, which urllib refuses to split."""
    try:
        url = urlsplit(endpoint)
    except ValueError:
        return None, None
    return url.scheme, url.hostname
