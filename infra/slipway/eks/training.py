"""ModelTraining: the lifecycle steps as Kubernetes Jobs in the project's image (EKS flavor).

* namespace ``training`` (Pod Security "restricted") and service account ``training``
  with an IRSA role that reads ``data/`` and ``batch/input/`` and writes ``pipelines/``,
  ``models/`` and ``batch/predictions/`` (MLflow keeps its own artifacts: the server
  proxies them);
* CronJob ``training`` (the preset's schedule; suspended without one): one pod whose init
  containers run validate, train and evaluate (+ gate), in order, and whose container
  runs register; each is the image's entry point with the step as its argument, sharing
  an ``emptyDir`` at ``/opt/ml`` (``slipway.jobs.contract``). A step that fails stops the
  pod: its exit code is the local run's (1 gate refused, 2 bad input);
* CronJob ``batch``, suspended: the template ``batch --on aws`` instantiates (scores
  ``batch/input/`` with the champion, writes ``batch/predictions/<job>/``);
* with ``retrain_from`` (the drift check's service account) or ``starter_group`` (the
  Kubernetes group of release.yml's candidate role, ``TRAINING_STARTER_GROUP``), a Role and
  RoleBinding that let them ``get`` the training CronJob, ``create`` Jobs in this namespace
  and follow them (jobs, their status, their pods), and a ValidatingAdmissionPolicy that
  refuses any Job either creates whose pod spec is not exactly the CronJob's (RBAC cannot
  name an object on create: Kubernetes docs, "Using RBAC Authorization", resourceNames;
  ValidatingAdmissionPolicy with the CronJob as its parameter does it, GA since Kubernetes
  1.30).

No workflow engine: four steps in a fixed order are one pod's init containers; Argo
Workflows or Kubeflow Pipelines would add a controller, CRDs, their own RBAC and a chart to
keep upgraded for that (docs/engines.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from slipway.aws.context import StackContext
from slipway.aws.policy import kms_key_statement, step_bucket_statements
from slipway.eks import pods
from slipway.eks.irsa import ROLE_ANNOTATION, Oidc, service_account_role
from slipway.envvars import (
    BATCH_URI_ENV,
    DATA_URI_ENV,
    ENGINE_ENV,
    JOB_ENV,
    PIPELINES_URI_ENV,
    STACK_ENV,
    TRIGGER_ENV,
)
from slipway.jobs import contract
from slipway.names import BATCH_CRONJOB, BUCKET_PREFIXES, TRAINING_CRONJOB, TRAINING_NAMESPACE

NAMESPACE = TRAINING_NAMESPACE
ACCOUNT = "training"
TRAINING_JOB = TRAINING_CRONJOB
BATCH_JOB = BATCH_CRONJOB
STARTER = "training-starter"
WORK_VOLUME = "work"
SAME_POD_SPEC = "object.spec.template.spec == params.spec.jobTemplate.spec.template.spec"
JOB_NAME_LABEL = "metadata.labels['batch.kubernetes.io/job-name']"
TRIGGER_LABEL = "metadata.labels['slipway/trigger']"
# CronJob needs a schedule even when suspended (a template only).
NEVER = "0 0 1 1 *"


@dataclass(frozen=True)
class RetrainFrom:
    """The service account (the drift check's) allowed to start exactly the training Job."""

    namespace: str
    service_account: str

    @property
    def username(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


@dataclass(frozen=True)
class Starters:
    """Who may start the training Job: the drift check's service account, a group."""

    retrain: RetrainFrom | None = None
    group: str | None = None

    def subjects(self) -> list[dict[str, str]]:
        found = []
        if self.retrain is not None:
            found.append(
                {
                    "kind": "ServiceAccount",
                    "name": self.retrain.service_account,
                    "namespace": self.retrain.namespace,
                }
            )
        if self.group is not None:
            found.append(
                {"kind": "Group", "name": self.group, "apiGroup": "rbac.authorization.k8s.io"}
            )
        return found

    def condition(self) -> str:
        """CEL: the request comes from one of them."""
        tests = []
        if self.retrain is not None:
            tests.append(f"request.userInfo.username == '{self.retrain.username}'")
        if self.group is not None:
            tests.append(f"'{self.group}' in request.userInfo.groups")
        return " || ".join(tests)


@dataclass(frozen=True)
class ModelTrainingArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    provider: k8s.Provider
    """Kubernetes provider of the cluster: ``Cluster.provider``."""
    oidc: Oidc
    """The cluster's OIDC provider for IRSA: ``Cluster.oidc``."""
    image: pulumi.Input[str]
    """The project's image: ``ModelServing.image`` (the same image serves and trains)."""
    bucket_name: pulumi.Input[str]
    """``ArtifactStore.bucket_name``: the Jobs' ``s3://`` data and batch locations."""
    bucket_arn: pulumi.Input[str]
    """``ArtifactStore.bucket_arn``: the prefixes the Jobs read and write
    (``policy.step_bucket_statements``)."""
    kms_key_arn: pulumi.Input[str]
    """Project key: the Jobs' IRSA role encrypts and decrypts with it."""
    tracking_uri: pulumi.Input[str]
    """The in-cluster MLflow: ``Tracking.tracking_uri``."""
    retrain_from: RetrainFrom | None = None
    """Default ``None``: nothing but a person or CI starts a training Job."""
    starter_group: str | None = None
    """Default ``None``. A Kubernetes group that may start the training Job and follow it
    (``TRAINING_STARTER_GROUP``: release.yml's job `candidate`, ``CiAccess``)."""


class ModelTraining(pulumi.ComponentResource):
    """Outputs: namespace, training_cronjob, batch_cronjob, role_arn."""

    namespace: str
    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ModelTrainingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:eks:ModelTraining", name, None, opts)
        ctx = args.context
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespace = pods.namespace(name, ctx, NAMESPACE, "restricted", k8s_opts)
        opts_in_ns = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=[namespace]
        )
        role = service_account_role(
            f"{name}-training",
            ctx,
            args.oidc,
            NAMESPACE,
            ACCOUNT,
            [*step_bucket_statements(args.bucket_arn), kms_key_statement(args.kms_key_arn)],
            parent=self,
        )
        labels = pods.labels(ctx, TRAINING_JOB)
        k8s.core.v1.ServiceAccount(
            f"{name}-training-account",
            metadata={
                "name": ACCOUNT,
                "namespace": NAMESPACE,
                "labels": labels,
                "annotations": {ROLE_ANNOTATION: role.arn},
            },
            opts=opts_in_ns,
        )
        env = step_environment(ctx, args)
        schedule = ctx.preset.training.eks.schedule
        training = self._cronjob(
            f"{name}-cronjob",
            ctx,
            TRAINING_JOB,
            schedule or NEVER,
            suspend=schedule is None,
            steps=contract.STEPS,
            env=env,
            image=args.image,
            opts=opts_in_ns,
        )
        self._cronjob(
            f"{name}-batch",
            ctx,
            BATCH_JOB,
            NEVER,
            suspend=True,
            steps=(contract.BATCH,),
            env=env,
            image=args.image,
            opts=opts_in_ns,
        )
        starters = Starters(args.retrain_from, args.starter_group)
        if starters.subjects():
            self._starter(name, ctx, starters, training, opts_in_ns)
        self.namespace = NAMESPACE
        self.role_arn = role.arn
        self.register_outputs(
            {
                "namespace": NAMESPACE,
                "training_cronjob": TRAINING_JOB,
                "batch_cronjob": BATCH_JOB,
                "role_arn": self.role_arn,
            }
        )

    def _cronjob(
        self,
        resource_name: str,
        ctx: StackContext,
        job: str,
        schedule: str,
        *,
        suspend: bool,
        steps: Sequence[str],
        env: list[dict[str, Any]],
        image: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> k8s.batch.v1.CronJob:
        labels = {**pods.labels(ctx, job), "app.kubernetes.io/component": "training"}
        return k8s.batch.v1.CronJob(
            resource_name,
            metadata={"name": job, "namespace": NAMESPACE, "labels": labels},
            spec={
                "schedule": schedule,
                "suspend": suspend,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {"spec": job_spec(ctx, labels, steps, env, image)},
            },
            opts=opts,
        )

    def _starter(
        self,
        name: str,
        ctx: StackContext,
        starters: Starters,
        training: k8s.batch.v1.CronJob,
        opts: pulumi.ResourceOptions,
    ) -> None:
        """RBAC for the drift check and CI, narrowed by an admission policy to the training
        Job."""
        labels = pods.labels(ctx, STARTER)
        meta = {"name": STARTER, "namespace": NAMESPACE, "labels": labels}
        k8s.rbac.v1.Role(f"{name}-starter", metadata=meta, rules=starter_rules(), opts=opts)
        k8s.rbac.v1.RoleBinding(
            f"{name}-starter",
            metadata=meta,
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": STARTER},
            subjects=starters.subjects(),
            opts=opts,
        )
        policy_name = f"{ctx.prefix}-training-jobs-only"
        k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            f"{name}-jobs-only",
            metadata={"name": policy_name, "labels": labels},
            spec=admission_policy(starters),
            opts=opts,
        )
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            f"{name}-jobs-only",
            metadata={"name": policy_name, "labels": labels},
            spec={
                "policyName": policy_name,
                "validationActions": ["Deny"],
                "paramRef": {
                    "name": TRAINING_JOB,
                    "namespace": NAMESPACE,
                    "parameterNotFoundAction": "Deny",
                },
                "matchResources": {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}}
                },
            },
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[training])),
        )


def job_spec(
    ctx: StackContext,
    labels: dict[str, str],
    steps: Sequence[str],
    env: list[dict[str, Any]],
    image: pulumi.Input[str],
) -> dict[str, Any]:
    """One pod: every step but the last an init container (in order), the last the container."""
    sizes = ctx.preset.training.eks
    containers = [
        {
            "name": step,
            "image": image,
            "args": [step],  # the image's ENTRYPOINT with the step, as SageMaker runs it
            "env": env,
            "workingDir": "/tmp",
            "resources": pods.resources(sizes.resources),
            "securityContext": pods.container_security(),
            "volumeMounts": [
                {"name": WORK_VOLUME, "mountPath": contract.ML},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }
        for step in steps
    ]
    return {
        "backoffLimit": 0,  # exit 1 (gate refused) or 2 (bad input) is an answer, not a fault
        "activeDeadlineSeconds": sizes.deadline_minutes * 60,
        "ttlSecondsAfterFinished": 7 * 86400,
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "serviceAccountName": ACCOUNT,
                "restartPolicy": "Never",
                "securityContext": pods.pod_security(),
                "initContainers": containers[:-1],
                "containers": containers[-1:],
                "volumes": [
                    {"name": WORK_VOLUME, "emptyDir": {"sizeLimit": "10Gi"}},
                    {"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}},
                ],
            },
        },
    }


def step_environment(ctx: StackContext, args: ModelTrainingArgs) -> list[dict[str, Any]]:
    bucket = pulumi.Output.from_input(args.bucket_name)
    return [
        {"name": ENGINE_ENV, "value": "kubernetes"},
        {"name": STACK_ENV, "value": ctx.environment},
        {"name": "MLFLOW_TRACKING_URI", "value": args.tracking_uri},
        {
            "name": DATA_URI_ENV,
            "value": pulumi.Output.concat("s3://", bucket, "/", BUCKET_PREFIXES["data"]),
        },
        {
            "name": PIPELINES_URI_ENV,
            "value": pulumi.Output.concat("s3://", bucket, "/", BUCKET_PREFIXES["pipelines"]),
        },
        {
            "name": BATCH_URI_ENV,
            "value": pulumi.Output.concat("s3://", bucket, "/", BUCKET_PREFIXES["batch"]),
        },
        {"name": "HOME", "value": "/tmp"},
        {"name": "TMPDIR", "value": "/tmp"},
        # The Job controller labels each pod with its Job's name (batch predictions go to
        # batch/predictions/<job>/); `slipway.jobs.kubernetes.start` labels the pod with what
        # started it (a CronJob's own runs have no such label: empty). Downward API
        # (Kubernetes docs, "Expose Pod Information to Containers Through Environment
        # Variables": metadata.labels['<KEY>']).
        {"name": JOB_ENV, "valueFrom": {"fieldRef": {"fieldPath": JOB_NAME_LABEL}}},
        {"name": TRIGGER_ENV, "valueFrom": {"fieldRef": {"fieldPath": TRIGGER_LABEL}}},
    ]


def starter_rules() -> list[dict[str, Any]]:
    """Read the training CronJob (the template), create Jobs, follow the one it created
    (``slipway.jobs.kubernetes``: the Job's status, its pod's containers)."""
    return [
        {
            "apiGroups": ["batch"],
            "resources": ["cronjobs"],
            "resourceNames": [TRAINING_JOB],
            "verbs": ["get"],
        },
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "list"]},
        {"apiGroups": ["batch"], "resources": ["jobs/status"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
    ]


def admission_policy(starters: Starters) -> dict[str, Any]:
    """Jobs created by ``starters`` must carry the training CronJob's pod spec unchanged
    (the CronJob is the policy's parameter: ``params``)."""
    return {
        "failurePolicy": "Fail",
        "paramKind": {"apiVersion": "batch/v1", "kind": "CronJob"},
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": ["batch"],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE"],
                    "resources": ["jobs"],
                }
            ]
        },
        "matchConditions": [{"name": "created-by-a-starter", "expression": starters.condition()}],
        "validations": [
            {
                "expression": SAME_POD_SPEC,
                "message": f"only the {TRAINING_JOB} CronJob's Job may be created here",
                "reason": "Forbidden",
            }
        ],
    }
