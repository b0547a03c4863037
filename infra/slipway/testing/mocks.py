"""Mock provider for Pulumi programs run in-process: ``SlipwayMocks``.

It answers resource registrations with realistic ids and ARNs and the AWS invokes the
components use (camelCase results, as the provider returns them), plus the outputs of
pulumi-eks's remote ``Cluster`` and Kubernetes object ids.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
PARTITION = "aws"

# Property that carries a resource's physical name, when it is not ``name``.
NAME_PROPERTY = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": "modelPackageGroupName",
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": "trackingServerName",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
    "aws:kms/key:Key": "keyId",
    "aws:sagemaker/pipeline:Pipeline": "pipelineName",
}
# ARN resource part per type; "{name}" is the physical name.
ARN_RESOURCE = {
    "aws:iam/role:Role": "role/{name}",
    "aws:iam/policy:Policy": "policy/{name}",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "oidc-provider/{name}",
    "aws:kms/key:Key": "key/{name}",
    "aws:kms/alias:Alias": "{name}",
    "aws:sns/topic:Topic": "{name}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "alarm:{name}",
    "aws:cloudwatch/dashboard:Dashboard": "dashboard/{name}",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": "endpoint-config/{name}",
    "aws:sagemaker/mlflowApp:MlflowApp": "mlflow-app/app-{hash}",
    "aws:lambda/function:Function": "function:{name}",
    "aws:cloudwatch/logGroup:LogGroup": "log-group:{name}",
    "aws:cognito/userPool:UserPool": "userpool/{name}",
    "aws:wafv2/webAcl:WebAcl": "regional/webacl/{name}/{uuid}",
    "aws:cloudwatch/eventRule:EventRule": "rule/{name}",
}
# ARN service, when it is not the Pulumi module's name.
ARN_SERVICE = {
    "aws:cloudwatch/logGroup:LogGroup": "logs",
    "aws:cognito/userPool:UserPool": "cognito-idp",
    "aws:cloudwatch/eventRule:EventRule": "events",
}
GLOBAL_SERVICES = {"iam", "s3", "cloudwatch/dashboard"}


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:7]


class SlipwayMocks(pulumi.runtime.Mocks):
    """Mock provider: deterministic physical names, ids and ARNs; AWS invokes."""

    def __init__(self, region: str = DEFAULT_REGION, account_id: str = ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        account = "" if service == "s3" else self.account_id
        return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        state = dict(args.inputs)
        if args.typ in REMOTE_COMPONENTS:
            return f"{args.name}_id", {**state, **REMOTE_COMPONENTS[args.typ](self, args.name)}
        if args.typ.startswith("pulumi:providers:") or not args.custom:
            return f"{args.name}_id", state
        if args.typ.startswith("kubernetes:"):
            return _kubernetes_object(args.name, state)
        if args.typ == "random:index/randomPassword:RandomPassword":
            state.setdefault("result", f"mock-{_short_hash(args.name)}-Pw0")
            return f"{args.name}_id", state
        name_key = NAME_PROPERTY.get(args.typ, "name")
        if args.typ in API_GATEWAY:
            return API_GATEWAY[args.typ](self, args.name, state)
        if args.typ == "aws:cognito/userPoolClient:UserPoolClient":
            client_id = hashlib.sha256(args.name.encode()).hexdigest()[:26]
            state.setdefault("clientSecret", f"mock-secret-{_short_hash(args.name)}")
            return client_id, state
        if args.typ == "aws:kms/key:Key":
            physical = str(uuid.UUID(hashlib.md5(args.name.encode()).hexdigest()))
        elif args.typ == "aws:cognito/userPool:UserPool":  # the id, e.g. us-east-1_AbC123
            physical = f"{self.region}_{_short_hash(args.name).upper()}Ab"
            name_key = "userPoolId"
        else:
            physical = str(state.get(name_key) or f"{args.name}-{_short_hash(args.typ, args.name)}")
        state.setdefault(name_key, physical)
        service = ARN_SERVICE.get(args.typ) or args.typ.split(":")[1].split("/")[0]
        module_type = args.typ.split(":")[1]
        if args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            physical = str(state.get("url", physical)).removeprefix("https://")
        kebab = re.sub(r"(?<!^)(?=[A-Z])", "-", module_type.split("/")[1]).lower()
        template = ARN_RESOURCE.get(args.typ, kebab + "/{name}")
        regional = service not in GLOBAL_SERVICES and module_type not in GLOBAL_SERVICES
        resource = template.format(
            name=physical,
            hash=_short_hash(args.typ, physical).upper(),
            uuid=str(uuid.UUID(hashlib.md5(physical.encode()).hexdigest())),
        )
        arn = self.arn(service, resource, regional=regional)
        if service == "s3" and args.typ == "aws:s3/bucket:Bucket":
            arn = f"arn:{PARTITION}:s3:::{physical}"
            state.setdefault("bucketDomainName", f"{physical}.s3.amazonaws.com")
            state.setdefault(
                "bucketRegionalDomainName", f"{physical}.s3.{self.region}.amazonaws.com"
            )
        if args.typ == "aws:cloudwatch/dashboard:Dashboard":
            state.setdefault("dashboardArn", arn)
        if args.typ == "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer":
            state.setdefault(
                "trackingServerUrl",
                f"https://t-{_short_hash(physical)}.{self.region}.experiments.sagemaker.aws",
            )
        if args.typ == "aws:rds/instance:Instance":
            address = f"{physical}.c{_short_hash(physical)}.{self.region}.rds.amazonaws.com"
            state.setdefault("address", address)
            state.setdefault("endpoint", f"{address}:{state.get('port', 5432)}")
        if args.typ == "aws:lambda/function:Function":
            state.setdefault(
                "invokeArn",
                f"arn:{PARTITION}:apigateway:{self.region}:lambda:path/2015-03-31/functions/"
                f"{arn}/invocations",
            )
        if args.typ == "aws:ecr/repository:Repository":
            state.setdefault(
                "repositoryUrl", f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com/{physical}"
            )
        state.setdefault("arn", arn)
        state.setdefault("tagsAll", dict(state.get("tags") or {}))
        return physical, state

    def eks_cluster(self, name: str) -> dict[str, Any]:
        """Outputs of a pulumi-eks ``Cluster`` (a remote component: no children under mocks)."""
        issuer = f"oidc.eks.{self.region}.amazonaws.com/id/{_short_hash(name).upper()}"
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": name,
            "clusters": [
                {
                    "name": name,
                    "cluster": {
                        "server": f"https://{_short_hash(name)}.gr7.{self.region}.eks.amazonaws.com"
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "users": [{"name": name, "user": {}}],
        }
        return {
            "kubeconfigJson": json.dumps(kubeconfig),
            "oidcIssuer": issuer,
            "oidcProviderUrl": f"https://{issuer}",
            "oidcProviderArn": self.arn("iam", f"oidc-provider/{issuer}", regional=False),
            "clusterSecurityGroupId": f"sg-{_short_hash(name, 'cluster')}",
            "nodeSecurityGroupId": f"sg-{_short_hash(name, 'node')}",
        }

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        token, inputs = args.token, args.args
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:{PARTITION}:iam::{self.account_id}:user/slipway-test",
                "userId": "AIDASLIPWAYTEST",
                "id": self.account_id,
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {
                "region": self.region,
                "name": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
                "description": self.region,
                "id": self.region,
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {
                "partition": PARTITION,
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": PARTITION,
            }, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return _availability_zones(self.region, inputs), []
        if token == "aws:sagemaker/getPrebuiltEcrImage:getPrebuiltEcrImage":
            repo = inputs.get("repositoryName", "")
            tag = inputs.get("imageTag") or "1"
            registry = f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com"
            return {
                "registryId": self.account_id,
                "registryPath": f"{registry}/{repo}:{tag}",
                "repositoryName": repo,
                "imageTag": tag,
                "id": self.account_id,
            }, []
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            return _policy_document(inputs), []
        raise NotImplementedError(f"SlipwayMocks: no mock for invoke {token}")


def _http_api(mocks: SlipwayMocks, name: str, state: dict[str, Any]) -> tuple[str, dict]:
    """An API Gateway HTTP API: a 10-character id, its endpoint and execution ARN."""
    api_id = _short_hash("api", name) + "x1a"
    state.setdefault("apiEndpoint", f"https://{api_id}.execute-api.{mocks.region}.amazonaws.com")
    state.setdefault("executionArn", mocks.arn("execute-api", api_id))
    state.setdefault("arn", f"arn:{PARTITION}:apigateway:{mocks.region}::/apis/{api_id}")
    return api_id, state


def _http_api_part(
    collection: str,
) -> Callable[[SlipwayMocks, str, dict[str, Any]], tuple[str, dict]]:
    """Authorizers, integrations, routes and stages: an id (a stage's is its name) and the
    ARN ``arn:aws:apigateway:<region>::/apis/<api id>/<collection>/<id>``."""

    def part(mocks: SlipwayMocks, name: str, state: dict[str, Any]) -> tuple[str, dict]:
        part_id = str(state.get("name")) if collection == "stages" else _short_hash("part", name)
        api = f"arn:{PARTITION}:apigateway:{mocks.region}::/apis/{state.get('apiId')}"
        state.setdefault("arn", f"{api}/{collection}/{part_id}")
        return part_id, state

    return part


API_GATEWAY: dict[str, Callable[[SlipwayMocks, str, dict[str, Any]], tuple[str, dict]]] = {
    "aws:apigatewayv2/api:Api": _http_api,
    "aws:apigatewayv2/authorizer:Authorizer": _http_api_part("authorizers"),
    "aws:apigatewayv2/integration:Integration": _http_api_part("integrations"),
    "aws:apigatewayv2/route:Route": _http_api_part("routes"),
    "aws:apigatewayv2/stage:Stage": _http_api_part("stages"),
}


# DescribeAvailabilityZones filter names -> zone fields (EC2 API reference).
ZONE_FILTERS = {
    "opt-in-status": "optInStatus",
    "zone-type": "zoneType",
    "state": "state",
    "zone-name": "name",
    "zone-id": "zoneId",
    "group-name": "groupName",
}


def _availability_zones(region: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """getAvailabilityZones as EC2 answers an account opted in to a Local Zone group: three
    regular AZs and one Local Zone, filtered as DescribeAvailabilityZones filters, then
    sorted by name as the provider sorts them (so the Local Zone comes first)."""
    zones = [
        {
            "name": f"{region}-bos-1a",
            "zoneId": "use1-bos1-az1",
            "groupName": f"{region}-bos-1",
            "state": "available",
            "optInStatus": "opted-in",
            "zoneType": "local-zone",
        },
        *(
            {
                "name": f"{region}{suffix}",
                "zoneId": f"use1-az{index}",
                "groupName": region,
                "state": "available",
                "optInStatus": "opt-in-not-required",
                "zoneType": "availability-zone",
            }
            for index, suffix in enumerate("abc", start=1)
        ),
    ]
    wanted = [("state", [inputs["state"]])] if inputs.get("state") else []
    wanted += [(f["name"], f["values"]) for f in inputs.get("filters") or []]
    for name, values in wanted:
        if name not in ZONE_FILTERS:
            raise NotImplementedError(f"SlipwayMocks: getAvailabilityZones filter {name}")
        zones = [z for z in zones if z[ZONE_FILTERS[name]] in values]
    zones = [
        z
        for z in sorted(zones, key=lambda z: z["name"])
        if z["name"] not in (inputs.get("excludeNames") or [])
        and z["zoneId"] not in (inputs.get("excludeZoneIds") or [])
    ]
    return {
        "names": [z["name"] for z in zones],
        "zoneIds": [z["zoneId"] for z in zones],
        "groupNames": sorted({z["groupName"] for z in zones}),
        "id": region,
    }


REMOTE_COMPONENTS: dict[str, Callable[[SlipwayMocks, str], dict[str, Any]]] = {
    "eks:index:Cluster": SlipwayMocks.eks_cluster,
}


def _kubernetes_object(name: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Kubernetes objects: id ``<namespace>/<name>``, metadata.name defaulted as Pulumi does."""
    metadata = dict(state.get("metadata") or {})
    metadata.setdefault("name", state.get("name") or f"{name}-{_short_hash(name)}")
    namespace = metadata.get("namespace") or state.get("namespace")
    state["metadata"] = metadata
    if "status" not in state and state.get("chart"):  # helm.v3.Release
        state["status"] = {"name": state.get("name") or metadata["name"], "namespace": namespace}
    return (f"{namespace}/{metadata['name']}" if namespace else metadata["name"]), state


def _policy_document(inputs: dict[str, Any]) -> dict[str, Any]:
    """Render aws.iam.get_policy_document arguments the way IAM reads them."""
    statements = []
    for stmt in inputs.get("statements") or []:
        rendered: dict[str, Any] = {"Effect": stmt.get("effect", "Allow")}
        for key, out in (("sid", "Sid"), ("actions", "Action"), ("resources", "Resource")):
            if stmt.get(key):
                rendered[out] = stmt[key]
        for principal_key, out in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if stmt.get(principal_key):
                rendered[out] = {p["type"]: p["identifiers"] for p in stmt[principal_key]}
        conditions: dict[str, dict[str, Any]] = {}
        for cond in stmt.get("conditions") or []:
            conditions.setdefault(cond["test"], {})[cond["variable"]] = cond["values"]
        if conditions:
            rendered["Condition"] = conditions
        statements.append(rendered)
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return {"json": document, "minifiedJson": document, "id": _short_hash(document)}
