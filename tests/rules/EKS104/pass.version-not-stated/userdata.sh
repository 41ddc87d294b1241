#!/bin/bash
# No ClusterConfig and no kubernetes-version: ekslint does not know whether the
# keepalive sysctls are safe here (they are from 1.29), so it says nothing.
/etc/eks/bootstrap.sh batch --kubelet-extra-args '--allowed-unsafe-sysctls=net.ipv4.tcp_keepalive_time'
