"""The serving image a release uses: the project's own, pushed to the stack's repository.

SageMaker pulls the image when it starts instances; one missing from ECR fails the
endpoint. An image in the stack's repository must already hold the tag (checked with
reads only, before anything is written).
"""

from __future__ import annotations

from typing import Any

from slipway.deploy.errors import DeployError


def image_in_repository(repository: str, tag: str) -> str:
    return f"{repository}:{tag}"


def require_image(ecr: Any, image_uri: str, repository: str) -> None:
    """Refuse an image of the stack's repository whose tag was never pushed."""
    name, _, tag = image_uri.rpartition(":")
    if not repository or name != repository or "/" in tag:
        return
    try:
        ecr.describe_images(
            repositoryName=repository.split("/", 1)[1], imageIds=[{"imageTag": tag}]
        )
    except ecr.exceptions.ClientError:
        raise DeployError(
            "image", f"{image_uri} is not in ECR: build and push it before the release"
        ) from None
