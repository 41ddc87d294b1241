#!/bin/bash
# bootstrap.sh keeps only the last --kubelet-extra-args (KUBELET_EXTRA_ARGS=$2 in
# its option loop): the first one, with the unsafe-sysctl allow-list, is lost.
set -o xtrace
BASE_ARGS="--node-labels=workload=batch --allowed-unsafe-sysctls=kernel.msgmax,kernel.msgmnb"
TUNING_ARGS="--max-pods=58"
/etc/eks/bootstrap.sh batch-cluster --use-max-pods false \
  --kubelet-extra-args "$BASE_ARGS" \
  --kubelet-extra-args "$TUNING_ARGS"
