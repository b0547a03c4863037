"""The policy pack (issue 16 §1): every policy runs, through pulumi-policy's own analyzer, on
every stack of every structural option combination, and each one fails on a resource
broken by the one mutation it forbids.

``PENDING`` pins the findings of advisory policies the platform does not meet yet, each
with its reason; the comparison is strict, so a new finding fails and so does a pending
one that went away without its entry being removed. Mandatory findings are never pinned:
one would fail every user's ``pulumi preview``.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from matrix import STRUCTURAL_COMBOS, combo_id
from program_runs import PROJECT, StackRun, stack_cases
from slipway.policies import POLICIES, pack_policies
from slipway.policies.offline import Report, analyze
from slipway.testing import ProgramRun, RecordedResource

Runs = dict[tuple[str, str], StackRun]
CASES = [(combo_id(c), s) for c, s in stack_cases()]
SAGEMAKER_REALTIME = combo_id(
    next(c for c in STRUCTURAL_COMBOS if c["compute"] == "sagemaker" and c["monitoring"] == "yes")
)
SAGEMAKER_SERVERLESS = combo_id(next(c for c in STRUCTURAL_COMBOS if c["endpoint"] == "serverless"))
EKS = combo_id(
    next(
        c
        for c in STRUCTURAL_COMBOS
        if c["compute"] == "eks" and c["monitoring"] == "yes" and c["ci"] == "github"
    )
)

# policy -> (where it reports today, why it is pending)
PENDING: dict[str, tuple[Callable[[dict[str, str], str], bool], str]] = {
    "iam-roles-have-permissions-boundary": (
        lambda combo, stack: combo["ci"] == "none" or combo["compute"] == "eks",
        "by design (docs/security.md, Permissions boundary): a stack without CI has no "
        "boundary (every `pulumi up` is a person's); the EKS node role holds AWS managed "
        "policies only and, like the load balancer controller's role (public API), only an "
        "administrator changes it. Every other role carries it.",
    ),
    "sns-topics-encrypted-with-kms": (
        lambda combo, stack: combo["monitoring"] == "yes",
        "pending: the alarm topic has no KMS key; CloudWatch alarms need a customer key whose "
        "policy lets cloudwatch.amazonaws.com use it (slipway.aws.Monitoring).",
    ),
}


@pytest.fixture(scope="module")
def reports(structural_runs: Runs) -> dict[tuple[str, str], Report]:
    return {key: _analyze(stack) for key, stack in structural_runs.items()}


def _analyze(stack: StackRun, run: ProgramRun | None = None) -> Report:
    return analyze(run or stack.run, project=PROJECT, stack=stack.stack, config=stack.config)


@pytest.mark.parametrize(("combo", "stack"), CASES, ids=[f"{c}-{s}" for c, s in CASES])
def test_the_pack_passes_every_stack(
    reports: dict[tuple[str, str], Report], structural_runs: Runs, combo: str, stack: str
) -> None:
    report = reports[combo, stack]
    assert [str(f) for f in report.mandatory] == []
    options = structural_runs[combo, stack].combo
    pending = {name for name, (where, _) in PENDING.items() if where(options, stack)}
    assert {f.policy for f in report.findings} == pending
    assert report.not_applicable == []


def test_the_boundary_finding_is_every_role_without_one(
    reports: dict[tuple[str, str], Report], structural_runs: Runs
) -> None:
    """With CI only the EKS node role, the EBS CSI driver's role (it changes volumes, which
    the boundary does not allow: docs/eks.md) and, with the public API, the load balancer
    controller's role have no boundary; without CI no role has one."""
    for key, report in reports.items():
        roles = structural_runs[key].run.of_type("aws:iam/role:Role")
        bare = {r.urn for r in roles if not r.inputs.get("permissionsBoundary")}
        flagged = {
            f.urn for f in report.findings if f.policy == "iam-roles-have-permissions-boundary"
        }
        assert flagged == bare, key
        if structural_runs[key].combo["ci"] == "github":
            prefix = f"{PROJECT}-{key[1]}"
            assert {urn.rsplit("::", 1)[-1] for urn in bare} <= {
                f"{prefix}-node",
                f"{prefix}-ebs-csi",
                f"{prefix}-lb-controller",
            }


def test_every_policy_judges_resources_somewhere(reports: dict[tuple[str, str], Report]) -> None:
    judged: Counter[str] = Counter()
    for report in reports.values():
        judged.update(report.judged)
    assert {p.name for p in POLICIES} == set(judged)
    assert [name for name, count in judged.items() if count == 0] == []


# --- one broken resource per policy -------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The one mutation ``policy`` forbids, applied to the first resource ``pick`` selects
    in ``combo``/``stack``: ``change`` edits a copy of its inputs and outputs alike."""

    policy: str
    combo: str
    stack: str
    pick: Callable[[RecordedResource], bool]
    change: Callable[[dict[str, Any]], None]
    protect: bool | None = None


def _type(type_: str, name_suffix: str = "") -> Callable[[RecordedResource], bool]:
    return lambda r: r.type == type_ and r.name.endswith(name_suffix)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set ``value`` at a dotted path (``a.0.b``); ``...`` deletes the key."""

    def change(props: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = props
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is ...:
            del target[last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _policy_json(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        document = json.loads(props["policy"])
        edit(document)
        props["policy"] = json.dumps(document)

    return change


def _trust_json(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        document = json.loads(props["assumeRolePolicy"])
        edit(document)
        props["assumeRolePolicy"] = json.dumps(document)

    return change


def _tls_allowed(document: dict[str, Any]) -> None:
    document["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"] = "true"


def _github_subject_wildcard(document: dict[str, Any]) -> None:
    condition = document["Statement"][0]["Condition"]["StringEquals"]
    condition["token.actions.githubusercontent.com:sub"] = "repo:example-org/*"


def _disable_rules(props: dict[str, Any]) -> None:
    for rule in props["rules"]:
        rule["status"] = "Disabled"


def _add_serverless_capture(props: dict[str, Any]) -> None:
    props["data_capture"] = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": "s3://bucket/data-capture/",
        "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
        "CaptureOptions": [{"CaptureMode": "Input"}],
    }


S3 = "aws:s3/"
ENCRYPTION = "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
# The endpoint is the deploy runtime's: the pack judges the serving spec, which the
# Endpoint component registers as its inputs (ServingSpec names, SageMaker API names inside).
ENDPOINT = "slipway:aws:Endpoint"
MONITORING_JOB = "monitoring_schedule.MonitoringScheduleConfig.MonitoringJobDefinition"
BREAKS = [
    Break(
        "s3-buckets-encrypted-with-kms",
        SAGEMAKER_REALTIME,
        "dev",
        _type(S3 + ENCRYPTION),
        _set("rules.0.applyServerSideEncryptionByDefault", {"sseAlgorithm": "AES256"}),
    ),
    Break(
        "s3-buckets-tls-only",
        SAGEMAKER_REALTIME,
        "dev",
        _type(S3 + "bucketPolicy:BucketPolicy"),
        _policy_json(_tls_allowed),
    ),
    Break(
        "s3-buckets-private",
        SAGEMAKER_REALTIME,
        "staging",
        _type(S3 + "bucketPublicAccessBlock:BucketPublicAccessBlock"),
        _set("blockPublicPolicy", False),
    ),
    Break(
        "s3-buckets-versioned",
        SAGEMAKER_REALTIME,
        "dev",
        _type(S3 + "bucketVersioning:BucketVersioning"),
        _set("versioningConfiguration.status", "Suspended"),
    ),
    Break(
        "s3-buckets-expire-objects",
        SAGEMAKER_REALTIME,
        "prod",
        _type(S3 + "bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-lifecycle"),
        _disable_rules,
    ),
    Break(
        "stores-encrypted-with-kms",
        EKS,
        "dev",
        _type("aws:rds/instance:Instance"),
        _set("storageEncrypted", False),
    ),
    Break(
        "stores-encrypted-with-kms",
        EKS,
        "dev",
        _type("aws:ecr/repository:Repository"),
        _set("encryptionConfigurations.0.encryptionType", "AES256"),
    ),
    Break(
        "stores-encrypted-with-kms",
        EKS,
        "staging",
        _type("eks:index:Cluster"),
        _set("encryptionConfigKeyArn", ...),
    ),
    Break(
        "stores-encrypted-with-kms",
        SAGEMAKER_REALTIME,
        "dev",
        _type(ENDPOINT),
        _set("data_capture.KmsKeyId", ...),
    ),
    Break(
        "stores-encrypted-with-kms",
        SAGEMAKER_REALTIME,
        "prod",
        _type(ENDPOINT),
        _set("kms_key_id", ...),
    ),
    Break(
        "stores-encrypted-with-kms",
        SAGEMAKER_REALTIME,
        "dev",
        _type(ENDPOINT),
        _set(f"{MONITORING_JOB}.MonitoringResources.ClusterConfig.VolumeKmsKeyId", ...),
    ),
    Break(
        "stores-encrypted-with-kms",
        SAGEMAKER_REALTIME,
        "staging",
        _type(ENDPOINT),
        _set(f"{MONITORING_JOB}.MonitoringOutputConfig.KmsKeyId", ""),
    ),
    Break(
        "kms-keys-rotate",
        SAGEMAKER_SERVERLESS,
        "dev",
        _type("aws:kms/key:Key"),
        _set("enableKeyRotation", False),
    ),
    Break(
        "iam-no-admin-statements",
        SAGEMAKER_REALTIME,
        "dev",
        _type("aws:iam/rolePolicy:RolePolicy", "-exec-policy"),
        _policy_json(lambda d: d["Statement"][0].update(Action=["*"])),
    ),
    Break(
        "iam-trust-names-who",
        SAGEMAKER_REALTIME,
        "prod",
        _type("aws:iam/role:Role", "-deploy"),
        _trust_json(_github_subject_wildcard),
    ),
    Break(
        "iam-trust-names-who",
        SAGEMAKER_SERVERLESS,
        "dev",
        _type("aws:iam/role:Role", "-infer"),
        _trust_json(lambda d: d["Statement"][0].pop("Condition")),
    ),
    Break(
        "nothing-open-to-the-internet",
        EKS,
        "dev",
        _type("aws:rds/instance:Instance"),
        _set("publiclyAccessible", True),
    ),
    Break(
        "nothing-open-to-the-internet",
        EKS,
        "prod",
        _type("aws:ec2/securityGroup:SecurityGroup"),
        _set("ingress.0.cidrBlocks", ["0.0.0.0/0"]),
    ),
    Break(
        "nothing-open-to-the-internet",
        EKS,
        "staging",
        _type("eks:index:Cluster"),
        # the public endpoint is on (slipway:apiAccessCidrs is required): open it to everyone
        _set("publicAccessCidrs", ["0.0.0.0/0"]),
    ),
    Break(
        "nothing-open-to-the-internet",
        EKS,
        "dev",
        _type("aws:ec2/subnet:Subnet", "-private-0"),
        _set("mapPublicIpOnLaunch", True),
    ),
    Break(
        "deletion-protection",
        SAGEMAKER_REALTIME,
        "prod",
        _type("aws:s3/bucket:Bucket", "-bucket"),
        lambda props: None,
        protect=False,
    ),
    Break(
        "deletion-protection",
        EKS,
        "prod",
        _type("aws:rds/instance:Instance"),
        _set("deletionProtection", False),
    ),
    Break(
        "deletion-protection",
        EKS,
        "prod",
        _type("eks:index:Cluster"),
        _set("deletionProtection", False),
    ),
    Break(
        "instance-types-allowed",
        SAGEMAKER_REALTIME,
        "dev",
        _type(ENDPOINT),
        _set("variants.0.InstanceType", "ml.p4d.24xlarge"),
    ),
    Break(
        "instance-types-allowed",
        SAGEMAKER_REALTIME,
        "prod",
        _type(ENDPOINT),
        _set(f"{MONITORING_JOB}.MonitoringResources.ClusterConfig.InstanceType", "ml.p4d.24xlarge"),
    ),
    Break(
        "instance-types-allowed",
        EKS,
        "staging",
        _type("eks:index:ManagedNodeGroup"),
        _set("instanceTypes", ["p4d.24xlarge"]),
    ),
    Break(
        "serverless-endpoints-without-capture",
        SAGEMAKER_SERVERLESS,
        "staging",
        _type(ENDPOINT),
        _add_serverless_capture,
    ),
    Break(
        "resources-tagged",
        SAGEMAKER_SERVERLESS,
        "prod",
        _type("aws:s3/bucket:Bucket", "-bucket"),
        _set("tags.owner", ...),
    ),
    Break(
        "pods-locked-down",
        EKS,
        "dev",
        _type("kubernetes:apps/v1:Deployment"),
        _set("spec.template.spec.containers.0.securityContext.readOnlyRootFilesystem", False),
    ),
]
# Advisory policies that report on today's stacks: a fix removes exactly their finding.
FIXES = [
    Break(
        "iam-roles-have-permissions-boundary",
        EKS,
        "dev",
        _type("aws:iam/role:Role", "-node"),
        _set("permissionsBoundary", "arn:aws:iam::123456789012:policy/churn-model-dev-boundary"),
    ),
    Break(
        "sns-topics-encrypted-with-kms",
        EKS,
        "prod",
        _type("aws:sns/topic:Topic"),
        _set("kmsMasterKeyId", "alias/churn-model-prod"),
    ),
]


def _mutated(run: ProgramRun, case: Break) -> tuple[ProgramRun, str]:
    target = next(r for r in run.resources if case.pick(r))
    inputs, state = copy.deepcopy(target.inputs), copy.deepcopy(target.state)
    case.change(inputs)
    case.change(state)
    protect = target.protect if case.protect is None else case.protect
    changed = replace(target, inputs=inputs, state=state, protect=protect)
    resources = tuple(changed if r is target else r for r in run.resources)
    # a bucket setting's finding is reported on the bucket it targets
    culprit = target.property_dependencies.get("bucket", (target.urn,))[0]
    return ProgramRun(resources=resources, outputs=run.outputs), culprit


def _counts(report: Report) -> Counter[tuple[str, str]]:
    return Counter((f.policy, f.urn) for f in report.findings)


@pytest.mark.parametrize("case", BREAKS, ids=[f"{b.policy}-{i}" for i, b in enumerate(BREAKS)])
def test_each_policy_fails_on_its_broken_resource(
    structural_runs: Runs, reports: dict[tuple[str, str], Report], case: Break
) -> None:
    stack = structural_runs[case.combo, case.stack]
    broken, urn = _mutated(stack.run, case)
    report = _analyze(stack, broken)
    new = _counts(report) - _counts(reports[case.combo, case.stack])
    assert set(new) and {policy for policy, _ in new} == {case.policy}, new
    enforcement = {f.enforcement for f in report.findings if f.policy == case.policy}
    assert enforcement == {"mandatory"}
    assert {u for _, u in new} == {urn}


@pytest.mark.parametrize("case", FIXES, ids=[b.policy for b in FIXES])
def test_each_pending_policy_passes_once_fixed(
    structural_runs: Runs, reports: dict[tuple[str, str], Report], case: Break
) -> None:
    stack = structural_runs[case.combo, case.stack]
    fixed, urn = _mutated(stack.run, case)
    gone = _counts(reports[case.combo, case.stack]) - _counts(_analyze(stack, fixed))
    assert gone == Counter({(case.policy, urn): 1})


def test_every_policy_has_a_broken_case() -> None:
    covered = {b.policy for b in [*BREAKS, *FIXES]}
    assert covered == {p.name for p in pack_policies()}
    assert {b.policy for b in FIXES} == set(PENDING)


# --- the pack as the Pulumi CLI starts it -------------------------------------------------

PLUGIN = """
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy


def _no_public_read(args, report):
    if args.props.get("acl") == "public-read":
        report("public-read ACL", None)


POLICIES = [
    ResourceValidationPolicy(
        name="acme-no-public-read-acl",
        description="ACME: no public-read ACL.",
        validate=_no_public_read,
        enforcement_level=EnforcementLevel.MANDATORY,
    )
]
"""


def _plugin_dir(tmp_path: Path) -> Path:
    """A platform team's distribution: a module and its ``slipway.policies`` entry point."""
    (tmp_path / "acme_policies.py").write_text(PLUGIN)
    info = tmp_path / "acme_policies-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-policies\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[slipway.policies]\nacme = acme_policies:POLICIES\n")
    return tmp_path


def test_the_pack_serves_its_policies_and_a_plugins_to_the_cli(tmp_path: Path) -> None:
    """Start the pack the way pulumi-analyzer-policy-python does (``python3 -u -m
    pulumi.policy <engine> .`` in the pack directory), read the port it prints, then ask it
    over gRPC what it enforces and have it judge a resource."""
    import os
    import subprocess
    import sys

    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime import proto
    from pulumi.runtime.proto import analyzer_pb2_grpc
    from slipway.policies import PACK_DIR

    assert (PACK_DIR / "PulumiPolicy.yaml").is_file()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(_plugin_dir(tmp_path)), *sys.path]),
        "PULUMI_CONFIG": json.dumps({"slipway:preset": "prod"}),
        "PULUMI_PROJECT": PROJECT,
        "PULUMI_STACK": "prod",
        "PULUMI_DRY_RUN": "true",
    }
    pack = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=PACK_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = pack.stdout.readline().strip() if pack.stdout else ""
        assert port.isdigit(), pack.stderr.read() if pack.stderr else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            analyzer = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            served = [p.name for p in info.policies]
            assert served == [p.name for p in pack_policies()] + ["acme-no-public-read-acl"]
            bucket = proto.AnalyzeRequest(
                type="aws:s3/bucket:Bucket",
                urn=f"urn:pulumi:prod::{PROJECT}::aws:s3/bucket:Bucket::b",
                name="b",
                properties=_wire({"acl": "public-read", "tags": {"owner": "x"}}),
                options=proto.AnalyzerResourceOptions(protect=False),
            )
            found = analyzer.Analyze(bucket, timeout=30).diagnostics
    finally:
        pack.kill()
        pack.wait()
    by_policy = {d.policyName: d.enforcementLevel for d in found}
    assert by_policy == {
        "acme-no-public-read-acl": proto.MANDATORY,
        "deletion-protection": proto.MANDATORY,  # prod, read from the stack's config
        "resources-tagged": proto.MANDATORY,
    }


def _wire(values: dict[str, Any]) -> Any:
    from google.protobuf import struct_pb2

    result = struct_pb2.Struct()
    result.update(values)
    return result


def test_a_plugin_that_names_no_policies_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slipway.policies import PluginError, plugin_policies

    plugins = _plugin_dir(tmp_path)
    (plugins / "acme_policies.py").write_text("POLICIES = ['not a policy']\n")
    monkeypatch.syspath_prepend(str(plugins))
    with pytest.raises(PluginError, match=r"^entry point acme = acme_policies:POLICIES"):
        plugin_policies()
