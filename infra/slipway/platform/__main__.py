"""Print the key table of docs/configuration.md (``python -m slipway.platform``)."""

from slipway.platform.config import render_reference

print(render_reference(), end="")
