"""Load a project's YAML config into its pydantic model, failing in one line."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from slipway.lifecycle.errors import LifecycleError

ModelT = TypeVar("ModelT", bound=BaseModel)


def load_config(path: Path, model: type[ModelT]) -> ModelT:
    """Parse ``path`` into ``model``; unknown keys and out-of-range values are errors.

    ``model`` should set ``extra="forbid"`` (see :class:`StrictModel`).
    """
    if not path.is_file():
        raise LifecycleError(str(path), "config file not found")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise LifecycleError(str(path), f"not valid YAML ({type(exc).__name__})") from exc
    if not isinstance(raw, dict):
        raise LifecycleError(str(path), "must be a mapping")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "config"
        rule = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        rule = rule.removeprefix("Value error, ")
        raise LifecycleError(field, rule) from exc


class StrictModel(BaseModel):
    """Base for config sections: unknown keys are rejected, values are read-only.

    Set in ``model_config``, not as class keywords: mypy reads ``frozen=True`` keywords as a
    frozen dataclass and then refuses every subclass that does not repeat it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
