"""The drift report as a person sees it: rendered by headless Chromium (Debian's ``chromium``,
installed by ``make chromium``), driven through Playwright over the DevTools protocol.

One browser start for every check of this module (a module fixture); the page is opened
from a file, as from a CI artifact, and must fetch nothing and log no console error.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from report_cases import mixed_result
from slipway.drift import write_report

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RED, BLUE, GREY = (198, 40, 40), (31, 95, 191), (185, 185, 185)
CARDS = """() => [...document.querySelectorAll('section.card')].map(card => {
  const dist = card.querySelector('svg.dist').getBoundingClientRect();
  const rects = [...card.querySelectorAll('svg.dist rect')];
  const step = card.querySelector('svg.dist path.step');
  return {
    feature: card.dataset.feature,
    drifted: card.classList.contains('drift'),
    border: getComputedStyle(card).borderLeftColor,
    plot: [dist.width, dist.height],
    bars: rects.filter(r => r.getBBox().height > 0).length,
    step: step ? step.getTotalLength() : 0,
    gauge: card.querySelector('svg.gauge rect.fill').getBBox().width,
    mark: card.querySelector('svg.gauge line.mark').getBoundingClientRect().height,
  };
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM}: missing; `make chromium` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def open_page(browser: Any, html: Path) -> tuple[Any, list[str]]:
    """``html`` open in a new page, and every console message, page error or other request."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    def request(r: Any) -> None:
        if r.url != html.as_uri():
            problems.append(f"request {r.url}")

    page.on("request", request)
    page.goto(html.as_uri(), wait_until="load")
    return page, problems


@pytest.fixture(scope="module")
def opened(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list]]:
    """The mixed report open in a page."""
    html, _ = write_report(mixed_result()[2], tmp_path_factory.mktemp("report"))
    page, problems = open_page(browser, html)
    yield page, problems
    page.close()


def test_the_checks_see_a_broken_page(browser: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text('<img src="missing.png"><script>console.error("x"); nope();</script>')
    page, problems = open_page(browser, broken)
    page.close()
    assert any(p.startswith("request file://") for p in problems), problems
    assert "console error: x" in problems and any("nope" in p for p in problems), problems


def test_the_page_loads_alone_with_no_console_message(opened: tuple[Any, list]) -> None:
    page, problems = opened
    assert problems == []
    assert page.title() == "Drift report"
    assert page.locator("p.verdict").inner_text().startswith("Retrain needed: 2 of 4")


def test_every_feature_gets_a_drawn_plot_and_gauge_most_drifted_first(
    opened: tuple[Any, list],
) -> None:
    page, _ = opened
    cards = page.evaluate(CARDS)
    assert [c["feature"] for c in cards[:2]] == ["shifted", "plan"] and len(cards) == 4
    for card in cards:
        assert card["plot"] == [300, 96] and card["bars"] >= 3, card
        assert card["gauge"] > 0 and card["mark"] == 14, card
        assert card["drifted"] == (card["border"] == "rgb(176, 0, 32)"), card
    continuous = {c["feature"]: c["step"] for c in cards}
    assert continuous["steady"] > 300 and continuous["shifted"] > 300  # current drawn as a line
    assert continuous["plan"] == 0  # categories: bars side by side


def colours(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)


def share_near(pixels: np.ndarray, colour: tuple[int, int, int]) -> float:
    return float((np.abs(pixels.astype(int) - colour).max(axis=1) < 40).mean())


def test_the_plots_are_painted_reference_grey_and_current_in_colour(
    opened: tuple[Any, list],
) -> None:
    page, _ = opened
    drifted = colours(page.locator('section[data-feature="shifted"] svg.dist').screenshot())
    steady = colours(page.locator('section[data-feature="steady"] svg.dist').screenshot())
    assert share_near(drifted, GREY) > 0.05 and share_near(drifted, RED) > 0.01
    assert share_near(steady, GREY) > 0.05 and share_near(steady, BLUE) > 0.01
    assert share_near(steady, RED) == 0.0
