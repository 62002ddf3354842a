"""Report charts as base64 PNG (matplotlib's Agg backend: no display, safe in worker threads)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def volume_chart(days: Sequence[str], created: Sequence[float], completed: Sequence[float]) -> str:
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot(days, created, label="created", color="#1f77b4")
    ax.plot(days, completed, label="completed", color="#2ca02c")
    ax.set_title("Tickets per day")
    ax.legend()
    step = max(1, len(days) // 8)
    ax.set_xticks(range(0, len(days), step))
    ax.set_xticklabels([days[i] for i in range(0, len(days), step)], rotation=30, ha="right", fontsize=7)
    return _png(fig)


def team_bar_chart(names: Sequence[str], values: Sequence[float], title: str) -> str:
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.3 * len(names) + 1)))
    ax.barh(list(names), list(values), color="#ff7f0e")
    ax.set_title(title)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    return _png(fig)
