#!/bin/bash
# A deploy script that never calls the EKS bootstrap is not an input: skipped quietly.
set -euo pipefail
aws eks update-kubeconfig --name shop --region eu-west-1
kubectl apply -f workloads/
kubectl rollout status deployment/api -n shop --timeout=300s
