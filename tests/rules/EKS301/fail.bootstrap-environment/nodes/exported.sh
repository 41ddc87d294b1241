#!/bin/bash
# amazon-eks-ami templates/al2/runtime/bootstrap.sh reads USE_MAX_PODS and
# KUBELET_EXTRA_ARGS from its environment: these exports count like the options.
export USE_MAX_PODS=false
export KUBELET_EXTRA_ARGS="--max-pods=58"   # expect: EKS301:39
/etc/eks/bootstrap.sh prod
