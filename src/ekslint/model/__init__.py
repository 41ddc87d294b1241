"""What the inputs mean: clusters, node groups, workloads, PDBs, and the cross-file index."""
