"""Deploy runtime: champion -> model.tar.gz in S3 -> approved model package -> endpoint.

Called by a generated project's CLI and CI (``<package> deploy``); see docs/deploy.md.
"""

from slipway.deploy.errors import DeployError
from slipway.deploy.flow import Deployed, deploy_champion
from slipway.deploy.outputs import StackOutputs
from slipway.deploy.rollout import Rollout, rollback

__all__ = ["DeployError", "Deployed", "Rollout", "StackOutputs", "deploy_champion", "rollback"]
