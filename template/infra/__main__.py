"""Pulumi program of {{ cookiecutter.project_name }}: thin composition of slipway components."""

import pulumi

from slipway.presets import load_preset

config = pulumi.Config("slipway")
preset = load_preset(config.require("preset"))

pulumi.export("preset", preset.name)
