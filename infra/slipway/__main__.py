"""``python -m slipway``: the slipway CLI."""

from slipway.cli import app

app()
