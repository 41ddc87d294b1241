#!/bin/bash
# A comment that names the flag (--allowed-unsafe-sysctls) or allowedUnsafeSysctls
# changes nothing on the node: only kernel.msgmax is allowed, kernel.msgmnb is not.
set -o xtrace
/etc/eks/bootstrap.sh batch-cluster \
  --kubelet-extra-args '--node-labels=workload=batch --allowed-unsafe-sysctls=kernel.msgmax'
