#!/bin/bash
# amazon-eks-ami templates/al2/runtime/bootstrap.sh: USE_MAX_PODS from the environment
# stands for --use-max-pods; a variable that is not exported is not seen by bootstrap.sh.
export USE_MAX_PODS=false
export KUBELET_EXTRA_ARGS="--max-pods=110"
/etc/eks/bootstrap.sh prod
unset USE_MAX_PODS KUBELET_EXTRA_ARGS
EXTRA="--max-pods=110"
/etc/eks/bootstrap.sh prod
