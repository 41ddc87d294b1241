#!/bin/bash
set -o xtrace
/etc/eks/bootstrap.sh prod --use-max-pods false --kubelet-extra-args '--max-pods=35'   # expect: EKS301:82
