"""The cross-file indexes, each built from what it indexes (node groups, the files'
object sides, CNI settings), not from the project: the sysctl permissions of node
groups, where pods can be placed, which workloads a PDB selects, and the VPC CNI
settings and pod capacity of each node group."""
