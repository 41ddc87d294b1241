#!/bin/bash
# Launch template userdata of the self-managed AL2 "batch" nodes: bootstrap.sh
# hands the kubelet an allow-list of unsafe sysctls in --kubelet-extra-args.
set -o xtrace
/etc/eks/bootstrap.sh batch-cluster \
  --b64-cluster-ca 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K' \
  --apiserver-endpoint 'https://9F8E7D6C5B4A3F2E1D0C.gr7.eu-west-1.eks.amazonaws.com' \
  --kubelet-extra-args '--node-labels=workload=batch --allowed-unsafe-sysctls=kernel.msgmax,kernel.msgmnb'
