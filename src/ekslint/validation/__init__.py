"""Validation of documents against what their consumers accept: the schemas of eksctl,
nodeadm, the kubelet, Bottlerocket and Kubernetes (EKS002), and the shapes of the
fields the model reads where no schema covers them (EKS001). Above the model: it reads
parse trees and models, and the model never depends on it."""
