#!/bin/bash
/etc/eks/bootstrap.sh prod --use-max-pods true --kubelet-extra-args "--max-pods 20"   # expect: EKS207:70
