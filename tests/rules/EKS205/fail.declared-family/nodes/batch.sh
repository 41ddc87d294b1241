#!/bin/bash
/etc/eks/bootstrap.sh prod   # expect: EKS205:1
