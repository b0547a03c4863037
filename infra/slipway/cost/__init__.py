"""A stack's monthly cost from its declarations (``slipway cost``, docs/cost.md).

``estimate`` prices what a program run under mocks declares with the table shipped in
``prices.yaml``; ``report.render`` writes it as Markdown; ``doc`` generates docs/cost.md.
"""

from slipway.cost.estimate import Estimate, Line, estimate
from slipway.cost.prices import PriceError, PriceTable, load_prices

__all__ = ["Estimate", "Line", "PriceError", "PriceTable", "estimate", "load_prices"]
