"""Compiled Jinja templates shared by the bakes of one test process.

cookiecutter makes a new Jinja environment per bake, so every bake compiles every template
file again: ~18 s of the suite's CPU for its ~60 bakes. Jinja's own bytecode cache
(``jinja2.BytecodeCache``) keeps the code compiled from a template's source and checks the
source's checksum before reusing it; this in-memory one is given to cookiecutter's
environments in test processes only. Its key adds what the compiled code also depends on:
the template directory (cookiecutter loads files relative to it), the extensions and the
syntax settings of the environment.
"""

from __future__ import annotations

import os
from typing import Any

from cookiecutter.environment import StrictEnvironment
from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache

# Environment settings the lexer, parser or code generator reads.
SETTINGS = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "autoescape",
)


def signature(environment: Environment) -> tuple[Any, ...]:
    """What, besides a template's source, its compiled code depends on."""
    return (
        os.getcwd(),
        tuple(sorted(environment.extensions)),
        environment.undefined,
        *(repr(getattr(environment, name)) for name in SETTINGS),
    )


class SharedBytecode(BytecodeCache):
    """Compiled templates in memory, per environment signature and template name."""

    def __init__(self) -> None:
        self.code: dict[tuple[Any, ...], bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.code.get((signature(bucket.environment), bucket.key))
        if code is not None:
            bucket.bytecode_from_string(code)  # Jinja drops it if the checksum differs

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[(signature(bucket.environment), bucket.key)] = bucket.bytecode_to_string()


CACHE = SharedBytecode()
_init = StrictEnvironment.__init__


def _init_with_cache(self: StrictEnvironment, **kwargs: Any) -> None:
    _init(self, **kwargs)
    self.bytecode_cache = CACHE


def share_compiled_templates() -> None:
    """Give every cookiecutter environment made in this process ``CACHE``."""
    StrictEnvironment.__init__ = _init_with_cache  # type: ignore[method-assign]
