"""The evaluation plots logged to MLflow: each one readable on its own (title names the
data it was drawn from, axes are labelled, the deciding value is marked) and ordered by
what matters (best model first, most important feature first, threshold drawn in).

Figures are built with ``matplotlib.figure.Figure`` (no pyplot, no global state, no
display): the PNG is rendered only when MLflow saves it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve
from slipway.lifecycle import GroupMetrics, Importance

TOP_FEATURES = 15
PASS, FAIL = "#2e7d32", "#c62828"
COLOURS = ("#1565c0", "#ef6c00")


def _title(figure: Figure, what: str, data: str) -> None:
    """What the plot shows, then (smaller, wrapped to the figure) the data it was drawn from."""
    width = int(figure.get_figwidth() * 13)
    figure.suptitle(f"{what}\n{textwrap.fill(data, width)}", fontsize=10)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def roc(truth: pd.Series, scores: Mapping[str, np.ndarray], data: str) -> Figure:
    """ROC curves of every model on the same evaluation data, best AUC first in the legend."""
    figure = Figure(figsize=(6, 5), layout="constrained")
    ax = figure.add_subplot()
    ranked = sorted(scores.items(), key=lambda item: -roc_auc_score(truth, item[1]))
    for colour, style, (label, score) in zip(COLOURS, ("-", "--"), ranked, strict=False):
        fpr, tpr, _ = roc_curve(truth, score)
        ax.plot(
            fpr,
            tpr,
            color=colour,
            ls=style,
            lw=2,  # dashed: equal curves stay visible
            label=f"{label}: AUC {roc_auc_score(truth, score):.4f}",
        )
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="chance: AUC 0.5")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", xlim=(0, 1), ylim=(0, 1.02))
    _title(figure, "ROC curve, every model on the same evaluation data", data)
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return figure


def confusion(truth: pd.Series, predicted: Mapping[str, np.ndarray], data: str) -> Figure:
    """Confusion matrices side by side: counts and the share of each true class."""
    figure = Figure(figsize=(5 * len(predicted), 4.5), layout="constrained")
    axes = figure.subplots(1, len(predicted), squeeze=False)[0]
    for ax, (label, values) in zip(axes, predicted.items(), strict=True):
        counts = confusion_matrix(truth, values, labels=[0, 1])
        shares = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for (row, col), count in np.ndenumerate(counts):
            ax.text(
                col,
                row,
                f"{count}\n{100 * shares[row, col]:.1f} %",
                ha="center",
                va="center",
                color="white" if shares[row, col] > 0.5 else "black",
                fontsize=12,
            )
        errors = int(counts[0, 1] + counts[1, 0])
        ax.set(
            xticks=[0, 1],
            yticks=[0, 1],
            xlabel="Predicted class",
            ylabel="True class",
            title=f"{label}: {_plural(errors, 'error')} in {int(counts.sum())} rows",
        )
    _title(figure, "Confusion matrix: count and share of each true class", data)
    return figure


def importance(found: list[Importance], metric: str, data: str) -> Figure:
    """The most important features, largest drop at the top, spread as error bars."""
    top = found[:TOP_FEATURES][::-1]
    figure = Figure(figsize=(7, 0.35 * len(top) + 1.5), layout="constrained")
    ax = figure.add_subplot()
    ax.barh(
        [i.feature for i in top],
        [i.mean for i in top],
        xerr=[i.std for i in top],
        color=COLOURS[0],
        alpha=0.85,
        capsize=2,
    )
    ax.axvline(0, color="grey", lw=1)
    ax.set(xlabel=f"drop in {metric} when the feature is shuffled (mean, spread)")
    _title(figure, f"Permutation importance: top {len(top)} of {len(found)} features", data)
    ax.grid(axis="x", alpha=0.3)
    return figure


def fairness(group: GroupMetrics, data: str) -> Figure:
    """``metric`` per group, best first; the lowest value the gate allows (best minus
    ``max_difference``) is drawn in, and a group below it is red."""
    ranked = sorted(group.groups.items(), key=lambda item: -item[1][group.metric])
    values = [metrics[group.metric] for _, metrics in ranked]
    floor = values[0] - group.max_difference
    figure = Figure(figsize=(6, 4.5), layout="constrained")
    ax = figure.add_subplot()
    colours = [PASS if value >= floor else FAIL for value in values]
    bars = ax.bar([name for name, _ in ranked], values, color=colours, alpha=0.85)
    for bar, (_, metrics) in zip(bars, ranked, strict=True):
        ax.text(
            bar.get_x() + bar.get_width() / 2,
            bar.get_height() / 2,
            f"{bar.get_height():.3f}\nn={int(metrics.get('count', 0))}",
            ha="center",
            va="center",
            color="white",
            fontsize=11,
        )
    ok = group.difference <= group.max_difference
    ax.axhline(
        floor,
        color="black",
        ls="--",
        lw=1.5,
        label=f"lowest allowed: best - max_difference {group.max_difference:.3f}",
    )
    ax.set(ylim=(0, 1.05), ylabel=group.metric, xlabel=group.column)
    ax.legend(loc="lower right", framealpha=0.95)
    verdict = "within the limit" if ok else "over the limit: refused"
    _title(
        figure,
        f"{group.metric} per {group.column} group: difference {group.difference:.3f}, {verdict}",
        data,
    )
    return figure
