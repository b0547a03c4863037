"""Markdown of an estimate: idle items per resource type with a total, per-use items with
their unit prices, and the prices used with their sources."""

from __future__ import annotations

from collections import defaultdict

from slipway.cost.estimate import Estimate, Kind, Line

NO_PRICE = "no price"


def money(value: float) -> str:
    return f"${value:,.2f}"


def _grouped(lines: list[Line]) -> list[tuple[str, str, list[Line]]]:
    groups: dict[tuple[str, str], list[Line]] = defaultdict(list)
    for line in lines:
        groups[line.resource_type, line.item].append(line)
    return [(type_, item, found) for (type_, item), found in sorted(groups.items())]


def _idle_row(type_: str, item: str, lines: list[Line]) -> str:
    count = f"{len(lines)} x " if len(lines) > 1 else ""
    prices = {line.unit_price for line in lines}
    if None in prices:
        cost = f"{NO_PRICE} (`{lines[0].price_key}`)"
    else:
        cost = money(sum(line.monthly or 0.0 for line in lines))
    return f"| `{type_}` | {count}{item} | {cost} |"


def _per_use_row(type_: str, item: str, lines: list[Line]) -> str:
    line = lines[0]
    price = NO_PRICE if line.unit_price is None else f"${line.unit_price:g} per {line.unit}"
    return f"| `{type_}` | {item} | {price} (`{line.price_key}`) |"


def summary(estimate: Estimate) -> str:
    """One line: the priced idle total and what it leaves out."""
    unpriced = len(estimate.unpriced_idle)
    missing = f", plus {unpriced} idle item(s) with no price" if unpriced else ""
    return (
        f"{money(estimate.idle_total)} a month idle{missing}, plus per-use charges "
        f"({estimate.table.currency}, on-demand)"
    )


def render(estimate: Estimate, *, heading: str = "###") -> str:
    """The estimate of one stack as Markdown."""
    table = estimate.table
    regions = {p.region for k in estimate.price_keys if (p := table.get(k))} - {"all"}
    out = [
        f"{heading} Stack `{estimate.stack}` ({estimate.region}): {summary(estimate)}",
        "",
        f"Prices from slipway's table (checked {table.checked}, {', '.join(sorted(regions))}, "
        f"{table.hours_per_month} hours a month).",
    ]
    if regions and estimate.region not in regions:
        out.append(
            f"**The stack runs in {estimate.region}; these are {', '.join(sorted(regions))} "
            "prices.**"
        )
    sections: list[tuple[Kind, str, str]] = [
        ("idle", "Idle (always on)", "| resource type | item | a month |\n|---|---|---:|"),
        ("per use", "Per use", "| resource type | item | unit price |\n|---|---|---|"),
    ]
    for kind, title, header in sections:
        rows = _grouped(estimate.of_kind(kind))
        out += ["", f"**{title}**", "", header]
        row = _idle_row if kind == "idle" else _per_use_row
        out += [row(type_, item, lines) for type_, item, lines in rows]
        if kind == "idle":
            out.append(f"| **total (priced items)** | | **{money(estimate.idle_total)}** |")
    if estimate.not_modeled:
        out += [
            "",
            "Not modeled (no price rule): " + ", ".join(f"`{t}`" for t in estimate.not_modeled),
        ]
    return "\n".join(out) + "\n"


def price_table(estimate: Estimate, keys: list[str] | None = None) -> str:
    """The prices an estimate uses, with region, date and source (or why there is none)."""
    table = estimate.table
    rows = ["| price | USD | unit | region | stated | source |", "|---|---:|---|---|---|---|"]
    for key in keys if keys is not None else estimate.price_keys:
        price = table.get(key)
        if price is None:
            rows.append(f"| `{key}` | {NO_PRICE} | | | | not in the table |")
        elif price.price is None:
            rows.append(
                f"| `{key}` | {NO_PRICE} | {price.unit} | {price.region} | | {price.missing} |"
            )
        else:
            rows.append(
                f"| `{key}` | {price.price:g} | {price.unit} | {price.region} | {price.stated} "
                f"| <{price.source}> |"
            )
    return "\n".join(rows) + "\n"
