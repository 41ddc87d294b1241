#!/bin/bash
# amazon-eks-ami templates/al2/runtime/bootstrap.sh writes maxPods only when
# --use-max-pods is true, and its kubelet-config.json has none: the kubelet default, 110.
/etc/eks/bootstrap.sh prod --use-max-pods false   # expect: EKS301:43
