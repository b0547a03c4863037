"""The cost estimate (issue 16 §2): priced from what each stack declares, idle and per-use
items apart, every declared type priced or known free, the price table sourced and less than
a year old, docs/cost.md equal to what the estimate generates, `slipway cost` on a project."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from matrix import ROOT, STRUCTURAL_COMBOS, combo_id
from program_runs import StackRun
from slipway.cost import estimate, load_prices
from slipway.cost.doc import FLAVORS, STACKS, render_doc
from slipway.cost.prices import PriceError, PriceTable
from slipway.presets import load_preset
from typer.testing import CliRunner

Runs = dict[tuple[str, str], StackRun]
DOC = ROOT / "docs" / "cost.md"


def _flavor_run(structural_runs: Runs, options: dict[str, str], stack: str) -> StackRun:
    combo = next(c for c in STRUCTURAL_COMBOS if all(c[k] == v for k, v in options.items()))
    return structural_runs[combo_id(combo), stack]


def test_the_price_table_is_less_than_a_year_old() -> None:
    table = load_prices()
    age = table.age_days(datetime.date.today())
    assert 0 <= age <= 365, f"prices.yaml was checked {age} days ago: compare it with its sources"


def test_every_price_has_a_source_or_says_why_not() -> None:
    for key, price in load_prices().prices.items():
        if price.price is None:
            assert price.missing, key
        else:
            assert price.source and price.source.startswith("https://") and price.stated, key


def test_a_price_without_source_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "prices.yaml"
    broken.write_text(
        "checked: 2026-01-01\ncurrency: USD\nhours_per_month: 730\n"
        "prices:\n  ec2:t3.large: {price: 0.08, unit: hour, region: us-east-1}\n"
    )
    with pytest.raises(PriceError, match=r"prices\.ec2:t3\.large: .*needs `source`"):
        load_prices.__wrapped__(broken)


def test_every_declared_type_is_priced_or_known_free(structural_runs: Runs) -> None:
    for key, stack in structural_runs.items():
        result = estimate(stack.run, stack.stack, "us-east-1")
        assert result.not_modeled == (), key


def test_every_price_key_the_stacks_use_is_in_the_table(structural_runs: Runs) -> None:
    table = load_prices()
    used = {k for s in structural_runs.values() for k in estimate(s.run, s.stack, "").price_keys}
    assert sorted(used - set(table.prices)) == []


@pytest.mark.parametrize("stack", STACKS)
def test_idle_items_follow_the_preset(structural_runs: Runs, stack: str) -> None:
    preset = load_preset(stack)
    sagemaker = _flavor_run(structural_runs, FLAVORS[next(iter(FLAVORS))], stack)
    result = estimate(sagemaker.run, stack, "us-east-1")
    [instances] = [line for line in result.of_kind("idle") if "endpoint instance" in line.item]
    hours = load_prices().hours_per_month
    assert instances.quantity == preset.sagemaker.initial_instance_count * hours
    assert instances.price_key == f"sagemaker:hosting:{preset.sagemaker.instance_type}"
    eks = _flavor_run(structural_runs, FLAVORS["EKS, monitoring, GitHub CI"], stack)
    result = estimate(eks.run, stack, "us-east-1")
    idle = {line.item: line for line in result.of_kind("idle")}
    nodes = preset.eks.node_group
    assert idle[f"{nodes.desired_size} x {nodes.instance_types[0]} node"].quantity == (
        nodes.desired_size * hours
    )
    nats = [line for line in result.of_kind("idle") if line.item == "NAT gateway"]
    assert len(nats) == (1 if preset.eks.nat_gateways == "one" else preset.eks.availability_zones)
    per_use = {line.price_key for line in result.of_kind("per use")}
    assert {"vpc:nat-gateway-gb", "s3:standard-gb-month"} <= per_use
    assert not per_use & {line.price_key for line in result.of_kind("idle")}


def test_a_priced_total_adds_its_items(structural_runs: Runs) -> None:
    stack = _flavor_run(structural_runs, FLAVORS["EKS, monitoring, GitHub CI"], "dev")
    result = estimate(stack.run, "dev", "us-east-1")
    table = load_prices()
    nat = table.prices["vpc:nat-gateway-hour"].price
    assert nat is not None
    monthly = [
        line.quantity * line.unit_price
        for line in result.of_kind("idle")
        if line.unit_price is not None
    ]
    assert result.idle_total == pytest.approx(sum(monthly))
    assert round(nat * table.hours_per_month, 6) in {round(m, 6) for m in monthly}


def test_an_unpriced_item_is_shown_not_guessed(structural_runs: Runs) -> None:
    table = load_prices()
    prices = dict(table.prices)
    prices["eks:cluster-hour"] = prices["ec2:m6i.large"]  # a price no source gives
    unpriced = PriceTable(checked=table.checked, currency="USD", hours_per_month=730, prices=prices)
    stack = _flavor_run(structural_runs, FLAVORS["EKS, monitoring, GitHub CI"], "dev")
    full = estimate(stack.run, "dev", "us-east-1")
    partial = estimate(stack.run, "dev", "us-east-1", unpriced)
    assert partial.idle_total == pytest.approx(full.idle_total - 73.0)
    assert [line.item for line in partial.unpriced_idle] == ["EKS control plane"]


def test_docs_cost_md_is_what_the_estimate_generates(structural_runs: Runs) -> None:
    estimates = {}
    for flavor, options in FLAVORS.items():
        for stack in STACKS:
            run = _flavor_run(structural_runs, options, stack)
            estimates[flavor, stack] = estimate(run.run, stack, "us-east-1")
    assert DOC.read_text() == render_doc(estimates), "run `make cost-doc` and commit docs/cost.md"


def test_slipway_cost_estimates_a_project_from_its_directory(
    structural_runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slipway.cli import app

    stack = _flavor_run(structural_runs, FLAVORS["EKS, monitoring, GitHub CI"], "staging")
    monkeypatch.chdir(stack.infra.parent)
    runner = CliRunner()
    text = runner.invoke(app, ["cost", "--stack", "staging"])
    assert text.exit_code == 0, text.output
    expected = estimate(stack.run, "staging", "us-east-1")
    assert text.output.startswith("### Stack `staging` (us-east-1): ")
    assert f"**${expected.idle_total:,.2f}**" in text.output
    as_json = runner.invoke(app, ["cost", "--stack", "staging", "--format", "json"])
    assert json.loads(as_json.output)["idle_total"] == pytest.approx(expected.idle_total)
    missing = runner.invoke(app, ["cost", "--stack", "qa"])
    assert missing.exit_code == 1
    assert "Pulumi.qa.yaml: no such stack file" in missing.output
