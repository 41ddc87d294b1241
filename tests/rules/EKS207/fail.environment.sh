#!/bin/bash
# amazon-eks-ami templates/al2/runtime/bootstrap.sh reads KUBELET_EXTRA_ARGS and
# USE_MAX_PODS from its environment ("${KUBELET_EXTRA_ARGS:-}", "${USE_MAX_PODS:-true}"):
# an exported value counts like the option.
set -o xtrace
export KUBELET_EXTRA_ARGS="--node-labels=team=a --max-pods=58"   # expect: EKS207:49
/etc/eks/bootstrap.sh prod
# On the call's own line, as the environment of that one command.
KUBELET_EXTRA_ARGS='--max-pods=20' /etc/eks/bootstrap.sh prod   # expect: EKS207:21
