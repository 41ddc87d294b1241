#!/bin/bash
# The kubelet flags are collected in a variable first and handed to bootstrap.sh
# as "$KUBELET_EXTRA_ARGS": the allowance in the variable counts.
set -euo pipefail
KUBELET_EXTRA_ARGS="--node-labels=workload=edge --allowed-unsafe-sysctls=net.ipv4.ip_nonlocal_bind"
/etc/eks/bootstrap.sh edge-cluster --kubelet-extra-args "$KUBELET_EXTRA_ARGS"
