#!/bin/bash
set -ex
/etc/eks/bootstrap.sh prod \
  --b64-cluster-ca "$B64_CLUSTER_CA" \
  --kubelet-extra-args '--node-labels=team=a --max-pods=58'   # expect: EKS207:46
