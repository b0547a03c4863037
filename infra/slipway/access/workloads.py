"""What the roles' jobs need besides their recorded AWS calls, and what they must not do.

* MLflow on the stack's tracking server or App (SigV4 REST calls, not botocore): the
  ``sagemaker-mlflow`` plugin describes the server or App for its URL, then each call is
  ``sagemaker-mlflow:<Call>`` on a server, ``sagemaker:CallMlflowAppApi`` on an App;
* the EKS release's kubeconfig (its image push: ``slipway.access.release``), the
  preview's availability-zone lookup, the in-cluster pods' S3 access, Alertmanager's SNS
  publish;
* model packages: the deploy flow registers packages as PendingManualApproval and approves
  them (job `release`, which a reviewer unlocks outside dev, docs/promotion.md); the roles
  that train (candidate, execution, training) must not approve;
* release.yml's job `candidate`: the training data, the run's MLflow artifacts; on
  SageMaker, starting and following the training pipeline (``pipeline run --on aws``);
* the stack's own Pulumi state in a self-managed backend: ``pulumi up`` reads, writes and
  decrypts it, a pull request's preview reads and decrypts only an unreviewed stack's, the
  drift check reads outputs (no secrets).
"""

from __future__ import annotations

from collections.abc import Iterator

from slipway.access.denials import key_alias_of, state_objects
from slipway.access.request import AccessRequest
from slipway.access.services import s3_object
from slipway.access.stack import StackAccess
from slipway.names import DRIFT_NAMESPACE

Row = tuple[str, AccessRequest, bool]  # (role kind, request, allowed?)
# Which MLflow calls each role's job makes (MLflow client API -> the REST call IAM names).
# What a training job calls: train, track, evaluate against the champion, register.
_TRAINING_CALLS = (
    "GetExperimentByName",
    "CreateExperiment",
    "CreateRun",
    "LogBatch",
    "UpdateRun",
    "CreateRegisteredModel",
    "CreateModelVersion",
    "GetModelVersionByAlias",
)
MLFLOW_CALLS = {
    # release.yml `pipeline run`: a training job that also aliases the champion
    "deploy": (*_TRAINING_CALLS, "SetRegisteredModelAlias"),
    # drift.yml `monitor`: the champion's reference profile
    "monitor": ("GetModelVersionByAlias", "GetRun", "ListArtifacts"),
    # release.yml job `candidate` (`pipeline run`)
    "candidate": _TRAINING_CALLS,
}
# MLflow calls a reader must not make.
MLFLOW_WRITES = ("CreateRegisteredModel", "SetRegisteredModelAlias", "DeleteRegisteredModel")


def _req(action: str, resource: str, origin: str, **context: object) -> AccessRequest:
    return AccessRequest("", action, resource, dict(context), origin)  # type: ignore[arg-type]


def workload_requests(stack: StackAccess, reviewed: bool) -> Iterator[Row]:
    """Every workload row of ``stack`` (``reviewed``: its preset reviews releases)."""
    yield from mlflow_requests(stack)
    yield from cluster_requests(stack)
    yield from package_requests(stack)
    if stack.state_bucket:
        yield from state_requests(stack, reviewed)
    topic = stack.outputs.get("alarmTopicArn")
    if topic:
        yield "alertmanager", _req("sns:Publish", str(topic), "workload:Alertmanager SNS"), True


def mlflow_requests(stack: StackAccess) -> Iterator[Row]:
    tracking = str(stack.outputs.get("trackingUri", ""))
    origin = "workload:mlflow (slipway.aws.tracking)"
    for role, calls in MLFLOW_CALLS.items():
        if ":mlflow-app/" in tracking:
            yield role, _req("sagemaker:DescribeMlflowApp", tracking, origin), True
            yield role, _req("sagemaker:CallMlflowAppApi", tracking, origin), True
        elif ":mlflow-tracking-server/" in tracking:
            yield role, _req("sagemaker:DescribeMlflowTrackingServer", tracking, origin), True
            for call in calls:
                yield role, _req(f"sagemaker-mlflow:{call}", tracking, origin), True
            if role == "monitor":
                for call in MLFLOW_WRITES:
                    action = f"sagemaker-mlflow:{call}"
                    yield role, _req(action, tracking, "deny:drift check writes MLflow"), False
    yield from drift_check_requests(stack)
    yield from candidate_requests(stack)


def candidate_requests(stack: StackAccess) -> Iterator[Row]:
    """release.yml job `candidate`: read the training data, write and read the run's MLflow
    artifacts (the client writes them to S3 itself), list them; on EKS find the cluster."""
    bucket = stack.outputs.get("bucketName")
    if not bucket or "candidate" not in stack.roles:
        return
    origin = "workload:release.yml candidate"
    artifact = f"s3://{bucket}/mlflow/1/run/artifacts/model/MLmodel"
    for uri, write in (
        (f"s3://{bucket}/data/train.csv", False),
        (artifact, True),
        (artifact, False),
    ):
        for request in s3_object(stack, uri, write, origin):
            yield "candidate", request, True
    prefix = {"s3:prefix": "mlflow/1/run/artifacts/"}
    yield "candidate", _req("s3:ListBucket", f"arn:aws:s3:::{bucket}", origin, **prefix), True
    cluster = stack.outputs.get("clusterName")
    if cluster:
        arn = f"arn:aws:eks:{stack.region}:{stack.account}:cluster/{cluster}"
        yield "candidate", _req("eks:DescribeCluster", arn, origin), True
    yield from pipeline_starter_requests(stack)


def pipeline_starter_requests(stack: StackAccess) -> Iterator[Row]:
    """release.yml job `candidate` on SageMaker: `pipeline run --on aws` starts the training
    pipeline and follows it (slipway.jobs.sagemaker); it never changes the pipeline nor
    passes the role the steps run as."""
    name = stack.outputs.get("trainingPipelineName")
    if not name:
        return
    origin = "workload:release.yml candidate pipeline run --on aws"
    sagemaker = f"arn:aws:sagemaker:{stack.region}:{stack.account}"
    pipeline = f"{sagemaker}:pipeline/{str(name).lower()}"
    execution = f"{pipeline}/execution/0a1b2c3d4e5f"
    for action, resource in (
        ("sagemaker:StartPipelineExecution", pipeline),
        ("sagemaker:ListPipelineExecutions", pipeline),
        ("sagemaker:DescribePipelineExecution", execution),
        ("sagemaker:ListPipelineExecutionSteps", execution),
        ("sagemaker:DescribeProcessingJob", f"{sagemaker}:processing-job/pipelines-0a1b-register"),
        ("sagemaker:DescribeTrainingJob", f"{sagemaker}:training-job/pipelines-0a1b-train"),
    ):
        yield "candidate", _req(action, resource, origin), True
    why = "deny:candidate changes the pipeline"
    yield "candidate", _req("sagemaker:UpdatePipeline", pipeline, why), False
    yield "candidate", _req("sagemaker:DeletePipeline", pipeline, why), False
    other = f"{sagemaker}:pipeline/{stack.project}-other-training"
    yield "candidate", _req("sagemaker:StartPipelineExecution", other, "deny:another stack"), False
    training_role = stack.outputs.get("trainingRoleArn")
    if training_role:
        passed = {"iam:PassedToService": "sagemaker.amazonaws.com"}
        yield "candidate", _req("iam:PassRole", str(training_role), why, **passed), False


def drift_check_requests(stack: StackAccess) -> Iterator[Row]:
    """drift.yml `monitor --input s3://<bucket>/data-capture/`: list and read the capture,
    read the champion's profile (an MLflow artifact), put the drift metrics (SageMaker)."""
    bucket = stack.outputs.get("bucketName")
    if not bucket or "monitor" not in stack.roles:
        return
    origin = "workload:drift.yml monitor"
    listing = _req(
        "s3:ListBucket", f"arn:aws:s3:::{bucket}", origin, **{"s3:prefix": "data-capture/"}
    )
    yield "monitor", listing, True
    for uri in (
        f"s3://{bucket}/data-capture/endpoint/variant/2026/01/01/00/x.jsonl",
        f"s3://{bucket}/mlflow/1/run/artifacts/reference/profile.json",
    ):
        for request in s3_object(stack, uri, False, origin):
            yield "monitor", request, True
    if "endpointName" in stack.outputs:  # SLIPWAY_DRIFT_PUBLISH=cloudwatch (SageMaker)
        metrics = {"cloudwatch:namespace": DRIFT_NAMESPACE}
        yield "monitor", _req("cloudwatch:PutMetricData", "*", origin, **metrics), True


def cluster_requests(stack: StackAccess) -> Iterator[Row]:
    region, account = stack.region, stack.account
    cluster = stack.outputs.get("clusterName")
    if not cluster:
        return
    arn = f"arn:aws:eks:{region}:{account}:cluster/{cluster}"
    yield "deploy", _req("eks:DescribeCluster", arn, "workload:release.yml kubeconfig"), True
    yield "monitor", _req("eks:DescribeCluster", arn, "workload:drift.yml kubeconfig"), True
    invoke = _req("ec2:DescribeAvailabilityZones", "*", "workload:pulumi preview invoke")
    yield "preview", invoke, True
    bucket = stack.outputs.get("bucketName")
    if not bucket:
        return
    artifact = f"s3://{bucket}/mlflow/1/run/artifacts/model/MLmodel"
    capture = f"s3://{bucket}/data-capture/model-server/2026/01/01/00/x.jsonl"
    in_cluster = (
        ("mlflow", artifact, True, "workload:MLflow server artifact store (eks/tracking.py)"),
        ("mlflow", artifact, False, "workload:MLflow server artifact store (eks/tracking.py)"),
        ("serving", capture, True, "workload:model server request capture (SSE-KMS header)"),
        ("drift", capture, False, "workload:drift CronJob reads the capture"),
    )
    for role, uri, write, origin in in_cluster:
        for request in s3_object(stack, uri, write, origin, sse_header="SSE-KMS" in origin):
            yield role, request, True
    # MLflow proxies artifacts (eks/tracking.py, docs/eks.md#artifact-access): the model
    # server and the drift job get models and profiles over HTTP, never from S3 mlflow/.
    profile = f"s3://{bucket}/mlflow/1/run/artifacts/reference/profile.json"
    for role, uri in (("serving", artifact), ("drift", profile)):
        denied = s3_object(stack, uri, False, "deny:mlflow artifacts (proxied by MLflow)")
        for request in denied:  # the S3 read (the key serves the roles' captures too)
            if request.action == "s3:GetObject":
                yield role, request, False
    yield from ebs_csi_requests(stack)
    report = f"s3://{bucket}/monitoring/drift/2026-01-01/drift_report.html"
    for request in s3_object(stack, report, True, "workload:drift CronJob writes its report"):
        yield "drift", request, True
    arn = f"arn:aws:s3:::{bucket}"
    for role, prefix, origin in (
        ("mlflow", "mlflow/1/run/artifacts/", "workload:MLflow server lists artifacts"),
        ("drift", "data-capture/", "workload:drift CronJob lists the capture"),
    ):
        yield role, _req("s3:ListBucket", arn, origin, **{"s3:prefix": prefix}), True


def ebs_csi_requests(stack: StackAccess) -> Iterator[Row]:
    """The EBS CSI controller provisioning Prometheus' encrypted volume (aws-ebs-csi-driver:
    volumes tagged ``ebs.csi.aws.com/cluster=true``; the project key through EC2 grants)."""
    if "ebs-csi" not in stack.roles:
        return
    region, account = stack.region, stack.account
    origin = "workload:EBS CSI controller (eks/cluster.py)"
    volume = f"arn:aws:ec2:{region}:{account}:volume/vol-0123456789abcdef0"
    tag = "ebs.csi.aws.com/cluster"
    create = _req("ec2:CreateVolume", volume, origin, **{f"aws:RequestTag/{tag}": "true"})
    yield "ebs-csi", create, True
    instance = f"arn:aws:ec2:{region}:{account}:instance/i-0123456789abcdef0"
    for target in (volume, instance):
        yield "ebs-csi", _req("ec2:AttachVolume", target, origin), True
    delete = _req("ec2:DeleteVolume", volume, origin, **{f"ec2:ResourceTag/{tag}": "true"})
    yield "ebs-csi", delete, True
    key = str(stack.outputs.get("kmsKeyArn", ""))
    if key:
        grant = {"kms:GrantIsForAWSResource": "true"}
        yield "ebs-csi", _req("kms:CreateGrant", key, origin, **grant), True
        yield "ebs-csi", _req("kms:DescribeKey", key, origin), True


def package_requests(stack: StackAccess) -> Iterator[Row]:
    """Registering and approving by the deploy flow (job `release`, which a reviewer unlocks
    outside dev); approving by the execution and training roles never."""
    group = next(
        (r.arn for r in stack.resources if r.type.endswith("modelPackageGroup:ModelPackageGroup")),
        None,
    )
    if group is None or "endpointName" not in stack.outputs:
        return
    package = group.replace(":model-package-group/", ":model-package/") + "/1"
    pending = {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    approved = {"sagemaker:ModelApprovalStatus": "Approved"}
    register = _req("sagemaker:CreateModelPackage", package, "workload:deploy flow", **pending)
    yield "deploy", register, True
    approve = _req("sagemaker:UpdateModelPackage", package, "workload:deploy flow", **approved)
    yield "deploy", approve, True
    for role in ("exec", "train", "candidate"):  # the roles of the jobs that train never approve
        for action in ("sagemaker:UpdateModelPackage", "sagemaker:CreateModelPackage"):
            yield role, _req(action, package, "deny:self-approval", **approved), False


def state_requests(stack: StackAccess, reviewed: bool) -> Iterator[Row]:
    """The stack's own Pulumi state: ``pulumi up`` (deploy), a pull request's preview, the
    drift check's ``pulumi stack output``."""
    aliases = {"kms:ResourceAliases": (key_alias_of(stack),)}
    decrypt = _req("kms:Decrypt", stack.state_key_arn, "workload:pulumi secrets", **aliases)
    objects = list(state_objects(stack))
    meta = f"arn:aws:s3:::{stack.state_bucket}/.pulumi/meta.yaml"
    for action, key in [*objects, ("s3:GetObject", meta)]:
        yield "deploy", _req(action, key, "workload:pulumi up state"), True
    yield "deploy", decrypt, True
    read = [(a, k) for a, k in objects if a == "s3:GetObject"]
    for action, key in read:
        # unreviewed branch code must not read a reviewed stack's state
        why = "workload:pull-request preview" if not reviewed else "deny:pull-request preview"
        yield "preview", _req(action, key, why), not reviewed
        yield "monitor", _req(action, key, "workload:drift.yml stack output"), True
        yield "candidate", _req(action, key, "workload:release.yml stack output"), True
    preview_why = "workload:pull-request preview" if not reviewed else "deny:pull-request preview"
    yield "preview", _req("kms:Decrypt", stack.state_key_arn, preview_why, **aliases), not reviewed
    monitor_why = "deny:drift check secrets"
    yield "monitor", _req("kms:Decrypt", stack.state_key_arn, monitor_why, **aliases), False
    candidate_why = "deny:candidate job secrets"
    yield "candidate", _req("kms:Decrypt", stack.state_key_arn, candidate_why, **aliases), False
