"""slipway.environ.environ_changed: the variables it touches are as they were afterwards."""

from __future__ import annotations

import os

import pytest
from slipway.environ import environ_changed


def test_set_default_and_cleared_variables_are_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLIPWAY_T_SET", "before")
    monkeypatch.setenv("SLIPWAY_T_DEFAULT_KEPT", "mine")
    monkeypatch.delenv("SLIPWAY_T_DEFAULT_NEW", raising=False)
    monkeypatch.setenv("SLIPWAY_T_CLEARED", "secret")
    with environ_changed(
        set_={"SLIPWAY_T_SET": "during"},
        default={"SLIPWAY_T_DEFAULT_KEPT": "x", "SLIPWAY_T_DEFAULT_NEW": "y"},
        cleared=("SLIPWAY_T_CLEARED",),
    ):
        assert os.environ["SLIPWAY_T_SET"] == "during"
        assert os.environ["SLIPWAY_T_DEFAULT_KEPT"] == "mine"
        assert os.environ["SLIPWAY_T_DEFAULT_NEW"] == "y"
        assert "SLIPWAY_T_CLEARED" not in os.environ
    assert os.environ["SLIPWAY_T_SET"] == "before"
    assert os.environ["SLIPWAY_T_DEFAULT_KEPT"] == "mine"
    assert "SLIPWAY_T_DEFAULT_NEW" not in os.environ
    assert os.environ["SLIPWAY_T_CLEARED"] == "secret"


def test_restored_when_the_block_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLIPWAY_T_SET", raising=False)
    with pytest.raises(RuntimeError), environ_changed(set_={"SLIPWAY_T_SET": "during"}):
        raise RuntimeError
    assert "SLIPWAY_T_SET" not in os.environ
