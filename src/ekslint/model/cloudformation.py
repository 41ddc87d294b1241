"""CloudFormation templates as node groups: ``AWS::EKS::Nodegroup`` (managed),
``AWS::AutoScaling::AutoScalingGroup`` with a launch template or launch configuration
(self-managed), the ``UserData`` of ``AWS::EC2::LaunchTemplate`` and
``AWS::AutoScaling::LaunchConfiguration``, and ``AWS::EKS::Cluster`` as their cluster.

Intrinsic functions come in both forms, the short YAML tags (``!Sub``, ``!Base64``) and
the one-key mappings JSON uses (``{"Fn::Sub": ...}``). A value only known when the stack
is created (``${Param}``, ``!Ref``, ``!GetAtt``) stays a placeholder: ``${Name}`` in the
userdata text, which the shell reads as an unknown expansion, so nothing is judged
because of it. Shapes follow the template AWS published for self-managed nodes
(awslabs/amazon-eks-ami ``amazon-eks-nodegroup.yaml``: a launch template whose UserData
is ``!Base64`` of a ``!Sub`` script calling bootstrap.sh and cfn-signal, and an ASG
naming it) and the aws-quickstart/quickstart-amazon-eks-nodegroup template (managed
``AWS::EKS::Nodegroup`` with ``LaunchTemplate``, ``Labels`` and ``Taints``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ekslint.model import sysctls
from ekslint.model.context import DeclaredNodeGroup, ModelContext
from ekslint.model.eksapi import EKS_DEFAULT_INSTANCE_TYPE, TAINT_EFFECTS, family_of_ami_type
from ekslint.model.nodeconfig import merge
from ekslint.model.nodegroup import Cluster, InstanceType, NodeGroup, Origin, normalize_family
from ekslint.model.scheduling import Taint
from ekslint.model.userdata import UserdataModel, embedded_userdata, node_group_from_userdata
from ekslint.parse.cfnfunctions import concatenate, function, literal, placed
from ekslint.parse.sources import ReadLimits, SourceFile
from ekslint.parse.text import Problem, Span, Text
from ekslint.parse.yamltree import DEFAULT_LIMITS, YamlLimits, YMap, YNode, YScalar, YSeq

# SSM public parameters of the EKS-optimized and Bottlerocket AMIs, as a Parameter's
# Default or a {{resolve:ssm:...}} reference names them (docs.aws.amazon.com/eks/latest/
# userguide/retrieve-ami-id.html, retrieve-ami-id-bottlerocket.html).
_SSM_FAMILIES = (
    ("/amazon-linux-2023/", "AmazonLinux2023"),
    ("/amazon-linux-2/", "AmazonLinux2"),
    ("/amazon-linux-2-gpu/", "AmazonLinux2"),
    ("/amazon-linux-2-arm64/", "AmazonLinux2"),
    ("/aws/service/bottlerocket/", "Bottlerocket"),
)
_LAUNCH_TEMPLATE = "AWS::EC2::LaunchTemplate"
_DECLARED_BY = "the CloudFormation template"
# What puts a value only the stack knows on a line: a !Sub variable, or a function among
# the pieces of an Fn::Join.
_PLACEHOLDER_MARKS = ("${", "Ref", "!GetAtt", "Fn::GetAtt", "ImportValue", "!Select", "Fn::Select")
_LAUNCH_CONFIGURATION = "AWS::AutoScaling::LaunchConfiguration"


@dataclass(slots=True)
class TemplateModel:
    """What a template says about clusters, node groups and their userdata."""

    clusters: list[Cluster] = field(default_factory=list)
    node_groups: list[NodeGroup] = field(default_factory=list)
    userdata: list[UserdataModel] = field(default_factory=list)


@dataclass(slots=True)
class _Resource:
    name: str
    type: str
    node: YMap
    properties: YMap | None

    @property
    def span(self) -> Span:
        return self.node.entry_span("Type")


@dataclass(slots=True)
class _LaunchSpec:
    """A launch template or launch configuration: its userdata and AMI."""

    resource: _Resource
    data: YMap | None
    userdata: UserdataModel | None = None
    userdata_unknown: Span | None = None  # UserData is there but cannot be read
    image: YNode | None = None
    image_family: str | None = None
    # The first node group that uses it gives its userdata its context.
    used: bool = False


class _Template:
    def __init__(self, source: SourceFile, root: YMap, context: ModelContext, limits: YamlLimits) -> None:
        self.source = source
        self.root = root
        self.context = context
        self.limits = ReadLimits(yaml=limits)
        self.problems: list[Problem] = []
        self.parameters = root.map("Parameters")
        self.resources: dict[str, _Resource] = {}
        section = root.get("Resources")
        if isinstance(section, YMap):
            for name, node in section.items():
                if isinstance(node, YMap):
                    kind = literal(node.get("Type")) or ""
                    self.resources[name] = _Resource(name, kind, node, node.map("Properties"))
        elif section is not None:
            self.problems.append(
                Problem(
                    section.start_span,
                    "Resources must be a mapping of logical IDs to resources: CloudFormation refuses this template "
                    "('Template format error'). Write each resource as `Name:` with `Type:` and `Properties:`",
                )
            )
        self.model = TemplateModel()
        self.clusters: dict[str, Cluster] = {}
        self.specs: dict[str, _LaunchSpec] = {}

    # -- parameters --------------------------------------------------------------------
    def ref_default(self, node: YNode | None) -> tuple[str, str, YMap] | None:
        """``!Ref Param`` (or ``!Sub ${Param}``) of a parameter with a Default:
        (parameter, default, its declaration)."""
        found = function(node) if node is not None else None
        if found is None or self.parameters is None:
            return None
        name = literal(found[1])
        if found[0] == "Fn::Sub" and name is not None:
            whole = name.startswith("${") and name.endswith("}") and name.count("${") == 1
            name = name[2:-1] if whole else None
        elif found[0] != "Ref":
            return None
        param = self.parameters.map(name) if name else None
        default = literal(param.get("Default")) if param is not None else None
        if name is None or param is None or default is None:
            return None
        return name, default, param

    def instance_types(self, node: YNode | None, span: Span) -> list[InstanceType]:
        """The instance type(s) a value names: written as is, or the Default of the
        Parameter it references (``!Ref NodeInstanceType``, as AWS's node group templates
        write it: awslabs/amazon-eks-ami ``amazon-eks-nodegroup.yaml``,
        aws-quickstart/quickstart-amazon-eks-nodegroup). A stack created without that
        parameter runs its Default, so the Default is judged, and the type says whose
        Default it is (messages name the Parameter). A ``CommaDelimitedList`` parameter's
        Default lists several. Nothing when the value is only known to the stack."""
        text = literal(node)
        if text is not None and isinstance(node, YScalar):
            return [InstanceType(node.text, span)] if text else []
        default = self.ref_default(node)
        if default is None:
            return []
        name, value, param = default
        where = param.entry_span("Default")
        kind = literal(param.get("Type")) or ""
        names = [v.strip() for v in value.split(",")] if kind.endswith(("DelimitedList", "List<String>")) else [value]
        return [InstanceType(n, where, parameter=name) for n in names if n]

    def launch_instance_types(self, data: YMap) -> list[InstanceType]:
        if "InstanceType" not in data:
            return []
        return self.instance_types(data.get("InstanceType"), data.entry_span("InstanceType"))

    # -- clusters ----------------------------------------------------------------------
    def read_clusters(self) -> None:
        for resource in self.resources.values():
            if resource.type != "AWS::EKS::Cluster":
                continue
            props = resource.properties
            name = literal(props.get("Name")) if props is not None else None
            version_node = props.get("Version") if props is not None else None
            text = literal(version_node)
            source = f"Version {text} of {resource.name}" if text else ""
            if text is None and version_node is not None:
                default = self.ref_default(version_node)
                if default is not None:
                    text = default[1]
                    source = (
                        f"Version of {resource.name} is !Ref {default[0]}, whose Default is {text}; a stack "
                        "created with another value runs that version"
                    )
            version = sysctls.parse_version(text)
            cluster = Cluster(
                name=name or resource.name,
                version=version,
                version_text=text,
                version_span=props.entry_span("Version") if props is not None and version_node is not None else None,
                span=resource.span,
                file=self.source.path,
            )
            if version is not None:
                cluster.effective_version, cluster.version_source = version, source
            elif self.context.kubernetes_version is not None:
                configured = self.context.kubernetes_version
                cluster.effective_version = configured
                cluster.version_source = (
                    f"kubernetes-version {sysctls.format_version(configured)} in the ekslint config"
                )
            self.clusters[resource.name] = cluster
            self.model.clusters.append(cluster)

    def cluster_of(self, node: YNode | None) -> Cluster | None:
        """The cluster a ``ClusterName`` names (``!Ref Cluster`` or its name), else the
        template's only cluster."""
        found = function(node) if node is not None else None
        if found is not None and found[0] == "Ref":
            ref = literal(found[1])
            if ref in self.clusters:
                return self.clusters[ref]
        name = literal(node)
        for cluster in self.clusters.values():
            if name is not None and cluster.name == name:
                return cluster
        return next(iter(self.clusters.values())) if len(self.clusters) == 1 else None

    # -- launch templates --------------------------------------------------------------
    def launch_spec(self, name: str | None) -> _LaunchSpec | None:
        resource = self.resources.get(name or "")
        if resource is None or resource.type not in (_LAUNCH_TEMPLATE, _LAUNCH_CONFIGURATION):
            return None
        cached = self.specs.get(resource.name)
        if cached is not None:
            return cached
        props = resource.properties
        data = props.map("LaunchTemplateData") if props is not None and resource.type == _LAUNCH_TEMPLATE else props
        spec = _LaunchSpec(resource, data)
        if data is not None:
            spec.image = data.get("ImageId")
            spec.image_family = self.image_family(spec.image)
            userdata = data.get("UserData")
            if userdata is not None:
                self.read_userdata(spec, data, userdata)
        self.specs[resource.name] = spec
        return spec

    def image_family(self, node: YNode | None) -> str | None:
        """The family an ImageId's SSM parameter names (a Parameter's Default, or a
        ``{{resolve:ssm:...}}`` reference), else None."""
        if node is None:
            return None
        path = literal(node)
        found = function(node)
        if found is not None and found[0] == "Fn::Sub":
            path = literal(found[1])
        default = self.ref_default(node)
        if default is not None and "SSM::Parameter" in (literal(default[2].get("Type")) or ""):
            path = default[1]
        if path is None or "/aws/service/" not in path:
            return None
        for marker, family in _SSM_FAMILIES:
            if marker in path:
                return family
        return None

    def read_userdata(self, spec: _LaunchSpec, data: YMap, node: YNode) -> None:
        label = f"UserData of {spec.resource.name}"
        found = function(node)
        if found is not None and found[0] == "Fn::Base64":
            node = found[1]
            found = function(node)
        text, templated = self.string_of(node, found, label)
        if text is None:
            spec.userdata_unknown = data.entry_span("UserData")
            return
        problems: list[Problem] = []
        model = embedded_userdata(text, label, self.limits, problems)
        lines = self.source.text.lines()
        for problem in problems:
            line = problem.span.line - 1
            # A ${Param} is filled in when the stack is created: what it breaks is unknown.
            if templated and 0 <= line < len(lines) and any(mark in lines[line] for mark in _PLACEHOLDER_MARKS):
                spec.userdata_unknown = data.entry_span("UserData")
                continue
            self.problems.append(problem)
        spec.userdata = model

    def string_of(self, node: YNode, found: tuple[str, YNode] | None, label: str) -> tuple[Text | None, bool]:
        """The text a string-valued node will have, placeholders for what only the
        stack knows; (None, _) when it cannot be read (``!If``, ``!GetAtt``, ...).
        The flag says whether it holds placeholders from Fn::Sub or Fn::Join."""
        if found is None:
            if isinstance(node, YScalar):
                return (node.as_text(), False) if node.value is not None else (None, False)
            self.problems.append(
                Problem(
                    node.start_span,
                    f"{label}: Fn::Base64 needs a string here, not a {'list' if isinstance(node, YSeq) else 'mapping'}"
                    ": CloudFormation refuses the template. Give it a string, or !Sub / !Join that make one",
                )
            )
            return None, False
        name, argument = found
        if name == "Fn::Sub":
            template = argument
            if isinstance(argument, YSeq) and len(argument):
                template = argument.item(0)  # [string, {Var: value}]: the variables stay placeholders
            if isinstance(template, YScalar) and literal(template) is not None:
                return template.as_text(), True
            return None, False
        if name == "Fn::Join" and isinstance(argument, YSeq) and len(argument) == 2:
            return self.joined(argument), True
        return None, False

    def joined(self, argument: YSeq) -> Text | None:
        """``Fn::Join [delimiter, [pieces]]``: literal pieces joined, a reference as a
        ``${...}`` placeholder; each line is placed at the piece it starts in."""
        delimiter = literal(argument.item(0)) or ""
        pieces = argument.item(1)
        if not isinstance(pieces, YSeq):
            return None
        texts: list[Text] = []
        file = self.source.path
        for index, piece in enumerate(pieces):
            if index and delimiter:
                texts.append(placed(file, delimiter, piece))
            found = function(piece)
            if found is None and isinstance(piece, YScalar):
                texts.append(piece.as_text() if piece.value is not None else placed(file, "", piece))
                continue
            if found is not None and found[0] == "Fn::Sub":
                sub, _ = self.string_of(piece, found, "")
                if sub is not None:
                    texts.append(sub)
                    continue
            what = literal(found[1]) if found is not None else None
            texts.append(placed(file, "${" + (what or "?") + "}", piece))
        return concatenate(file, texts)

    # -- node groups -------------------------------------------------------------------
    def read_node_groups(self) -> None:
        for resource in self.resources.values():
            if resource.type == "AWS::EKS::Nodegroup":
                self.managed_group(resource)
            elif resource.type == "AWS::AutoScaling::AutoScalingGroup":
                self.self_managed_group(resource)
        # A launch template no node group here uses (another stack's, or one named by
        # a parameter) is judged as a userdata file would be, when it boots a node.
        for resource in self.resources.values():
            spec = self.launch_spec(resource.name)
            if spec is not None and not spec.used and spec.userdata is not None:
                group = node_group_from_userdata(spec.userdata, Origin.CLOUDFORMATION, self.context.kubernetes_version)
                if group is not None:
                    self.model.userdata.append(spec.userdata)
                    group.name, group.span = resource.name, self.key_span(resource.name)
                    self.model.node_groups.append(group)

    def key_span(self, name: str) -> Span:
        section = self.root.map("Resources")
        return section.key_span(name) if section is not None else self.root.start_span

    def managed_group(self, resource: _Resource) -> None:
        props = resource.properties
        if props is None:
            return  # CloudFormation refuses a node group without ClusterName, NodeRole and Subnets
        template = props.map("LaunchTemplate")
        spec = None
        if template is not None:
            spec = self.launch_spec(self.local_ref(template.get("Id") or template.get("Name")))
        ami_type = literal(props.get("AmiType"))
        family = family_of_ami_type(ami_type.upper() if ami_type else ami_type)
        custom_ami = (ami_type or "").upper() == "CUSTOM" or bool(spec is not None and spec.image is not None)
        cluster = self.cluster_of(props.get("ClusterName"))
        version = sysctls.parse_version(literal(props.get("Version")))
        version = version or (cluster.effective_version if cluster else None) or self.context.kubernetes_version
        name = (literal(props.get("NodegroupName"))) or resource.name
        declared = DeclaredNodeGroup(
            name,
            resource.span,
            ami_family=family or (spec.image_family if spec else None),
            custom_ami=custom_ami,
            declared_by=_DECLARED_BY,
        )
        declared.self_managed = False
        first = spec is not None and not spec.used
        group = self.group_for(resource, spec, declared, version)
        userdata = spec.userdata if spec is not None else None
        if first and not custom_ami and userdata is not None and userdata.nodeconfig is not None:
            # On EKS's own AMI, EKS merges its NodeConfig (cluster details) with the launch
            # template's, as for eksctl and Terraform managed groups (eksctl.py, terraform.py).
            userdata.nodeconfig = merge(userdata.nodeconfig.parts, implicit_cluster="EKS")
        group.name = name
        group.cluster = cluster
        group.ami_family = family or group.ami_family
        group.ami_family_explicit = family is not None
        group.ami_family_span = props.entry_span("AmiType") if family is not None else None
        group.custom_ami = custom_ami
        group.launch_template = template is not None
        group.labels_complete = False  # EKS adds its own labels to managed nodes
        labels = props.map("Labels")
        for key, value in labels.items() if labels is not None else ():
            text = literal(value)
            if text is not None:
                group.labels.setdefault(key, text)
        # The labels EKS puts on every node of a managed group (EKS user guide,
        # managed-node-groups.html "Managed node group capacity types" and the
        # eks.amazonaws.com/nodegroup label), as the eksctl and Terraform readers add them.
        capacity = literal(props.get("CapacityType"))
        if capacity in ("ON_DEMAND", "SPOT", "CAPACITY_BLOCK") or "CapacityType" not in props:
            group.labels.setdefault("eks.amazonaws.com/capacityType", capacity or "ON_DEMAND")
        written_name = literal(props.get("NodegroupName"))
        if written_name:
            group.labels.setdefault("eks.amazonaws.com/nodegroup", written_name)
        for item in (props.seq("Taints")) or ():
            taint = _taint(item)
            if taint is not None and taint not in group.taints:
                group.taints.append(taint)
        group.eks_managed = True
        types = props.seq("InstanceTypes")
        if types is not None:
            group.instance_types = [found for t in types for found in self.instance_types(t, t.span)]
        elif "InstanceTypes" in props:  # !Ref of a list Parameter
            group.instance_types = self.instance_types(props.get("InstanceTypes"), props.entry_span("InstanceTypes"))
        if not group.instance_types and spec is not None and spec.data is not None:
            group.instance_types = self.launch_instance_types(spec.data)
        launch_data = spec.data if spec is not None else None
        if "InstanceTypes" not in props and (
            template is None or (launch_data is not None and "InstanceType" not in launch_data)
        ):
            group.instance_types = [InstanceType(EKS_DEFAULT_INSTANCE_TYPE, group.span, default=True)]
        self.model.node_groups.append(group)

    def self_managed_group(self, resource: _Resource) -> None:
        props = resource.properties
        if props is None:
            return
        spec, overrides = self.asg_launch(props)
        tagged = any(
            (literal(tag.get("Key")) or "").startswith("kubernetes.io/cluster/")
            or _sub_text(tag.get("Key")).startswith("kubernetes.io/cluster/")
            for tag in props.seq("Tags") or ()
            if isinstance(tag, YMap)
        )
        boots_node = spec is not None and spec.userdata is not None and spec.userdata.ami_family() is not None
        if not boots_node and not tagged:
            return  # an ASG of other instances (bastions, NAT): not a node group
        declared = DeclaredNodeGroup(
            resource.name,
            resource.span,
            ami_family=spec.image_family if spec else None,
            custom_ami=None,
            declared_by=_DECLARED_BY,
        )
        declared.self_managed = True
        version = self.context.kubernetes_version
        cluster = self.cluster_of(None)
        if cluster is not None:
            version = cluster.effective_version or version
        group = self.group_for(resource, spec, declared, version)
        group.cluster = cluster
        group.instance_types = overrides or (self.launch_instance_types(spec.data) if spec and spec.data else [])
        self.model.node_groups.append(group)

    def asg_launch(self, props: YMap) -> tuple[_LaunchSpec | None, list[InstanceType]]:
        """The launch template (or configuration) an ASG starts instances from, and the
        instance types a MixedInstancesPolicy overrides it with."""
        overrides: list[InstanceType] = []
        template = props.map("LaunchTemplate")
        mixed = props.map("MixedInstancesPolicy")
        if template is None and mixed is not None:
            inner = mixed.map("LaunchTemplate")
            template = inner.map("LaunchTemplateSpecification") if inner is not None else None
            for item in (inner.seq("Overrides") if inner is not None else None) or ():
                if isinstance(item, YMap) and "InstanceType" in item:
                    overrides.extend(self.instance_types(item.get("InstanceType"), item.entry_span("InstanceType")))
        ref: YNode | None = None
        if template is not None:
            ref = template.get("LaunchTemplateId") or template.get("LaunchTemplateName")
        elif "LaunchConfigurationName" in props:
            ref = props.get("LaunchConfigurationName")
        return self.launch_spec(self.local_ref(ref)), overrides

    def local_ref(self, node: YNode | None) -> str | None:
        """The resource of this template a ``!Ref`` names; of an ``!If``, the branch that
        names one (the other is typically an ID given as a parameter)."""
        found = function(node) if node is not None else None
        if found is None:
            return None
        if found[0] == "Ref":
            name = literal(found[1])
            return name if name in self.resources else None
        if found[0] == "Fn::If" and isinstance(found[1], YSeq) and len(found[1]) == 3:
            for branch in (found[1].item(1), found[1].item(2)):
                name = self.local_ref(branch)
                if name is not None:
                    return name
        return None

    def group_for(
        self,
        resource: _Resource,
        spec: _LaunchSpec | None,
        declared: DeclaredNodeGroup,
        version: tuple[int, int] | None,
    ) -> NodeGroup:
        """The node group of a resource, with its launch template's userdata folded in
        as a userdata file of a node group the config declares would be."""
        model = spec.userdata if spec is not None else None
        group: NodeGroup | None = None
        if model is not None:
            first = not spec.used  # type: ignore[union-attr]
            saved = model.context
            model.context = declared
            if first:
                model.must_be_complete = bool(declared.self_managed or declared.custom_ami)
            group = node_group_from_userdata(model, Origin.CLOUDFORMATION, version)
            if first:
                self.model.userdata.append(model)
            else:
                model.context = saved  # the userdata is judged once, for its first node group
        if spec is not None:
            spec.used = True
        if group is None:
            group = NodeGroup(
                name=declared.name,
                origin=Origin.CLOUDFORMATION,
                span=resource.span,
                file=self.source.path,
                ami_family=normalize_family(declared.ami_family),
                custom_ami=declared.custom_ami,
                labels_complete=False,
                kubernetes_version=version,
            )
        group.span = self.key_span(resource.name)
        group.instance_types = []
        if spec is not None and spec.userdata_unknown is not None:
            group.allowances_unknown = spec.userdata_unknown
            group.labels_complete = False
        return group


def template_model(
    source: SourceFile,
    context: ModelContext,
    limits: YamlLimits = DEFAULT_LIMITS,
    problems: list[Problem] | None = None,
) -> TemplateModel:
    """The clusters, node groups and userdata of a CloudFormation template; what cannot
    be read goes to ``problems`` (EKS001)."""
    docs = source.yaml_docs
    root = docs[0].root("Template") if docs else None
    if not isinstance(root, YMap):
        if root is not None and problems is not None:
            problems.append(Problem(root.start_span, "a CloudFormation template is a mapping with a Resources section"))
        return TemplateModel()
    template = _Template(source, root, context, limits)
    template.read_clusters()
    template.read_node_groups()
    if problems is not None:
        problems.extend(template.problems)
    return template.model


# -- helpers ----------------------------------------------------------------------------


def _sub_text(node: YNode | None) -> str:
    found = function(node) if node is not None else None
    if found is not None and found[0] == "Fn::Sub":
        return literal(found[1]) or ""
    return ""


def _taint(item: YNode) -> Taint | None:
    if not isinstance(item, YMap):
        return None
    key, effect = literal(item.get("Key")), literal(item.get("Effect"))
    if key is None or effect is None:
        return None
    return Taint(key, literal(item.get("Value")) or "", TAINT_EFFECTS.get(effect.upper(), effect))
