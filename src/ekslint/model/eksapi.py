"""Values of the EKS API that every source of managed node groups shares (the
eksctl-free ones: Terraform's aws_eks_node_group and the terraform-aws-eks module,
CloudFormation's AWS::EKS::Nodegroup, plan JSON): amiType to AMI family, the default
instance type, taint effects as the API spells them."""

from __future__ import annotations

# EKS amiType values (API Nodegroup.amiType; terraform-aws-eks modules/_user_data/main.tf
# ami_type_to_user_data_path) by prefix, longest first, to ekslint's AMI families.
_AMI_TYPE_FAMILIES = (
    ("AL2023_", "AmazonLinux2023"),
    ("AL2_", "AmazonLinux2"),
    ("BOTTLEROCKET_", "Bottlerocket"),
    ("WINDOWS_CORE_2019", "WindowsServer2019CoreContainer"),
    ("WINDOWS_FULL_2019", "WindowsServer2019FullContainer"),
    ("WINDOWS_CORE_2022", "WindowsServer2022CoreContainer"),
    ("WINDOWS_FULL_2022", "WindowsServer2022FullContainer"),
    ("WINDOWS_CORE_2025", "WindowsServer2025CoreContainer"),
    ("WINDOWS_FULL_2025", "WindowsServer2025FullContainer"),
)
# EKS API CreateNodegroup: "If you don't specify an instance type in a launch template
# or for instanceTypes, then t3.medium is used, by default."
EKS_DEFAULT_INSTANCE_TYPE = "t3.medium"
# Taint effects as the EKS API spells them (Taint.effect), to Kubernetes'.
TAINT_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


def family_of_ami_type(ami_type: str | None) -> str | None:
    """The AMI family of an EKS amiType (``BOTTLEROCKET_X86_64_FIPS``: BottlerocketFips),
    None when it is not one EKS knows (``CUSTOM``, a typo, nothing)."""
    if not ami_type:
        return None
    for prefix, family in _AMI_TYPE_FAMILIES:
        if ami_type.startswith(prefix):
            return "BottlerocketFips" if family == "Bottlerocket" and ami_type.endswith("_FIPS") else family
    return None
