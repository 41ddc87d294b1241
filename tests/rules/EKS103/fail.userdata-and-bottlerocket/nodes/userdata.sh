#!/bin/bash
# AL2 self-managed nodes: "net*" is no namespace prefix (the kubelet takes the part
# before `*`, "net", and only "net." is one), and fs.inotify.* is node-level.
/etc/eks/bootstrap.sh batch \
  --kubelet-extra-args '--allowed-unsafe-sysctls=net*,fs.inotify.max_user_watches,net.core.somaxconn'  # expect: EKS103:50 EKS103:55
