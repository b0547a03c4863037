"""Pulumi mocks that apply each supported resource to moto and return its real ids."""

from __future__ import annotations

import threading
from dataclasses import replace

import pulumi

from slipway.sandbox.appliers import APPLIERS, Declared
from slipway.sandbox.errors import SandboxError
from slipway.sandbox.server import AwsClients
from slipway.sandbox.state import Entry, fingerprint
from slipway.testing.mocks import SlipwayMocks


class SandboxMocks(SlipwayMocks):
    """``new_resource`` creates the resource in moto; unchanged inputs reuse the last apply.

    A resource whose declared inputs changed since the last apply is replaced (deleted,
    then created again). Types without an applier stay mock-only and are listed as such.
    Registrations arrive from several threads; they are applied one at a time.
    """

    def __init__(self, aws: AwsClients, previous: dict[str, Entry]) -> None:
        super().__init__(region=aws.region)
        self.aws = aws
        self.previous = previous
        self.entries: list[Entry] = []
        self.error: SandboxError | None = None
        self._lock = threading.Lock()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        if args.typ.startswith("pulumi:providers:") or not args.custom:
            return super().new_resource(args)
        with self._lock:
            try:
                entry = self._apply(args)
            except SandboxError as exc:
                self.error = self.error or exc
                raise
            self.entries.append(entry)
            return entry.id, entry.state

    def _apply(self, args: pulumi.runtime.MockResourceArgs) -> Entry:
        inputs = dict(args.inputs)
        digest = fingerprint(inputs)
        old = self.previous.get(f"{args.typ}::{args.name}")
        if old is not None and old.fingerprint == digest:
            return replace(old, action="unchanged")
        action = "created"
        if old is not None:
            delete(self.aws, old)
            action = "replaced"
        mock_id, mock_state = super().new_resource(args)
        applier = APPLIERS.get(args.typ)
        if applier is None:
            return Entry(args.typ, args.name, str(mock_id), digest, mock_state, False, action)
        applied = applier.create(self.aws, Declared(args.typ, args.name, inputs, mock_state))
        state = {**mock_state, **applied.state}
        return Entry(args.typ, args.name, applied.id, digest, state, True, action)


def delete(aws: AwsClients, entry: Entry) -> None:
    """Remove one applied resource from moto (mock-only ones have nothing to remove)."""
    if entry.in_moto:
        APPLIERS[entry.type].delete(aws, entry.id, entry.state)
