"""ekslint: a static analyzer for Amazon EKS cluster and node configuration."""

__version__ = "0.1.0"
