"""Slipway: the platform code every Slipway ML project shares."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("slipway-mlops")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
