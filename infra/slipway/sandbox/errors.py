"""Errors of the sandbox: one line naming the resource and the property."""

from __future__ import annotations


class SandboxError(RuntimeError):
    """The sandbox refused to run, or emulated AWS rejected a declared property."""
