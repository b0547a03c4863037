"""The {{ cookiecutter.project_slug }} project: its lifecycle steps, one module each."""

__version__ = "0.1.0"
