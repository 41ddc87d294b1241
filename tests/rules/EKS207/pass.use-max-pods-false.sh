#!/bin/bash
/etc/eks/bootstrap.sh prod --use-max-pods false --kubelet-extra-args '--max-pods=110'
# No --max-pods: bootstrap.sh's own value is the only one.
/etc/eks/bootstrap.sh prod --kubelet-extra-args '--node-labels=team=a'
# A value ekslint cannot know.
/etc/eks/bootstrap.sh prod --use-max-pods "$USE_MAX_PODS" --kubelet-extra-args '--max-pods=110'
