"""The platform of one stack: its options (``slipway:*`` stack config) and their composition.

A generated ``infra/__main__.py`` is ``compose(load_config(), cli=...).export()``; see
``slipway.platform.config`` for the keys and ``slipway.platform.compose`` for what each
option declares.
"""

from slipway.platform.compose import Platform, compose
from slipway.platform.config import ConfigError, StackConfig, load_config

__all__ = ["ConfigError", "Platform", "StackConfig", "compose", "load_config"]
