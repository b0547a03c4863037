"""The price table shipped with the package (``prices.yaml``), typed and checked."""

from __future__ import annotations

import datetime
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PRICES_FILE = Path(__file__).with_name("prices.yaml")


class PriceError(ValueError):
    """The price table is unreadable or breaks a rule."""


class Price(BaseModel):
    """One unit price, with where it holds and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    price: float | None = Field(ge=0)
    """USD per ``unit``; ``None``: no source gives it (``missing`` says why)."""
    unit: str
    region: str
    stated: str | None = None
    """The date the source states for the price (day, month or year), or ``undated``."""
    source: str | None = Field(default=None, pattern=r"^https://")
    missing: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> Price:
        if self.price is None and not self.missing:
            raise ValueError("a null price needs `missing` (why no source gives it)")
        if self.price is not None and not (self.source and self.stated):
            raise ValueError("a price needs `source` and `stated`")
        return self


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    checked: datetime.date
    """When every price was last compared with its source."""
    currency: str
    hours_per_month: int = Field(ge=672, le=744)
    prices: dict[str, Price]

    def get(self, key: str) -> Price | None:
        return self.prices.get(key)

    def age_days(self, today: datetime.date) -> int:
        return (today - self.checked).days


@cache
def load_prices(path: Path = PRICES_FILE) -> PriceTable:
    """The table; a broken one fails naming the key and the rule."""
    try:
        return PriceTable.model_validate(yaml.safe_load(path.read_text()))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise PriceError(f"{path}: {where}: {first['msg']}") from None
