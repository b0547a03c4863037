"""Reading a SageMaker Pipeline definition as SageMaker Pipelines does, for the cost
estimate, the tests and the rehearsal's engine.

``steps``: every step, condition branches included, in definition order. ``resolve``: the
value of an argument once the execution's expressions are evaluated (``Get`` of a
parameter, an execution variable or a step property; ``Std:Join``; ``Std:JsonGet`` of a
property file): the JSON schema of a definition names these forms
(aws-sagemaker-mlops.github.io, sagemaker-model-building-pipeline-definition-JSON-schema).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

GET = re.compile(r"^Steps\.(?P<step>[^.]+)\.(?P<path>.+)$")


def load(definition: str | Mapping[str, Any]) -> dict[str, Any]:
    return dict(json.loads(definition) if isinstance(definition, str) else definition)


def steps(definition: str | Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every step, with the steps of each condition's branches after the condition."""

    def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for step in items:
            yield step
            if step["Type"] == "Condition":
                yield from walk(step["Arguments"].get("IfSteps", []))
                yield from walk(step["Arguments"].get("ElseSteps", []))

    yield from walk(load(definition)["Steps"])


def step(definition: str | Mapping[str, Any], name: str) -> dict[str, Any]:
    found = [s for s in steps(definition) if s["Name"] == name]
    if len(found) != 1:
        raise KeyError(f"the definition has {len(found)} steps named {name!r}")
    return found[0]


def instance_type(step_: Mapping[str, Any]) -> str | None:
    """The instance type a training or processing step's job runs on."""
    arguments = step_.get("Arguments") or {}
    if step_.get("Type") == "Training":
        return str(arguments["ResourceConfig"]["InstanceType"])
    if step_.get("Type") == "Processing":
        return str(arguments["ProcessingResources"]["ClusterConfig"]["InstanceType"])
    return None


Lookup = Callable[[str], Any]
"""``Parameters.X``, ``Execution.X`` or ``Steps.<step>.<path>`` -> its value."""
PropertyFile = Callable[[str, str], Mapping[str, Any]]
"""(step, property file name) -> the file's JSON."""


def resolve(value: Any, get: Lookup, property_file: PropertyFile) -> Any:
    """``value`` with every expression in it evaluated."""
    if isinstance(value, list):
        return [resolve(v, get, property_file) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Get"}:
        return get(value["Get"])
    if set(value) == {"Std:Join"}:
        join = value["Std:Join"]
        parts = resolve(join["Values"], get, property_file)
        return str(join["On"]).join(str(p) for p in parts)
    if set(value) == {"Std:JsonGet"}:
        spec = value["Std:JsonGet"]
        reference = str(spec["PropertyFile"]["Get"])  # Steps.<step>.PropertyFiles.<name>
        match = GET.match(reference)
        if match is None:
            raise ValueError(f"Std:JsonGet of {reference!r}")
        document = property_file(match["step"], match["path"].split(".", 1)[1])
        return json_path(document, str(spec["Path"]))
    return {k: resolve(v, get, property_file) for k, v in value.items()}


def json_path(document: Mapping[str, Any], path: str) -> Any:
    """A dotted path (``a.b``) of a property file, as ``Std:JsonGet`` reads it."""
    found: Any = document
    for part in path.split("."):
        found = found[part]
    return found
