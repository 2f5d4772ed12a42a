"""The cohort report's plots, made to be read: titles that fit, labels that never overlap,
one histogram per module in a grid, and a check that says so.

:func:`figure_problems` draws a figure and measures every piece of text with matplotlib's own
renderer: each must lie inside the figure, and no two may overlap. The report runs it on every
plot it saves (and the tests assert it finds nothing).
"""

from __future__ import annotations

import base64
import math
import textwrap
from pathlib import Path
from typing import Any

DPI = 110
#: widest a plot may be, in inches: it is shown at no more than 1,100 px on a 1,280 px page
MAX_WIDTH = 10.0


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def module_name(assignment: str) -> str:
    """``m1_double_bind`` -> ``M1 double bind``."""
    head, _, rest = assignment.partition("_")
    return f"{head.upper()} {rest.replace('_', ' ')}".strip()


def wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=max(8, width), break_long_words=False)) or text


def _texts(fig: Any) -> list[Any]:
    """Every piece of text the figure draws (tick labels only for ticks inside the axis' view)."""
    from matplotlib.text import Text

    ticks: set[int] = set()
    drawn = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            span = (high - low) * 1e-9
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                labels = (tick.label1, tick.label2)
                ticks.update(id(t) for t in labels)
                if ax.get_visible() and low - span <= tick.get_loc() <= high + span:
                    drawn += [t for t in labels if t.get_visible() and t.get_text().strip()]
    for t in fig.findobj(Text):
        if id(t) in ticks or not t.get_visible() or not t.get_text().strip():
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        drawn.append(t)
    return drawn


def figure_problems(fig: Any, tolerance: float = 1.0) -> list[str]:
    """Every text that sticks out of the figure or overlaps another text, in words (empty: none)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    problems = []
    placed: list[tuple[str, Any]] = []
    for t in _texts(fig):
        bb = t.get_window_extent(renderer)
        name = t.get_text().replace("\n", " ")[:40]
        if (
            bb.x0 < box.x0 - tolerance
            or bb.y0 < box.y0 - tolerance
            or bb.x1 > box.x1 + tolerance
            or bb.y1 > box.y1 + tolerance
        ):
            problems.append(f"'{name}' runs outside the figure")
        shrunk = bb.expanded(1.0, 1.0).padded(-tolerance)
        for other_name, other in placed:
            if shrunk.overlaps(other):
                problems.append(f"'{name}' overlaps '{other_name}'")
        placed.append((name, shrunk))
    return problems


def save(fig: Any, path: Path) -> Path:
    plt = _plt()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


# --------------------------------------------------------------------------- the plots


def scores_figure(scores: Any, columns: int = 3) -> Any:
    """One histogram of percentage scores per module, in a grid ``columns`` wide."""
    plt = _plt()
    order = list(dict.fromkeys(scores["assignment"]))
    n = max(1, len(order))
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.7 * rows), squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, a in zip(axes.flat, order, strict=False):
        s = scores[scores["assignment"] == a]
        pct = 100 * s["score"] / s["max_score"]
        ax.hist(pct, bins=[i * 10 for i in range(11)], color="#4c72b0", edgecolor="white")
        if len(pct):
            ax.axvline(pct.median(), color="#c44e52", linestyle="--")
        ax.set_title(wrap(f"{module_name(a)} (n={len(s)}, median {pct.median():.0f}%)", 34), fontsize=9)
        ax.set_xlim(0, 100)
        ax.set_xlabel("score (%)", fontsize=8)
        ax.set_ylabel("trainees", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.yaxis.get_major_locator().set_params(integer=True)
    return fig


def items_figure(stats: Any, low_r: float) -> tuple[Any, dict[str, int]]:
    """Difficulty against discrimination; flagged items numbered (numbers placed so none overlap).
    Returns the figure and item id -> its number on the plot."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.6), layout="constrained")
    flagged = stats["flag"] != ""
    ax.axvspan(0.9, 1.02, color="#eeeeee", zorder=0)
    ax.text(0.96, 0.02, "easy:\nexempt", transform=ax.get_xaxis_transform(), ha="center", fontsize=7, color="#666")
    ax.scatter(stats.loc[~flagged, "p"], stats.loc[~flagged, "r_rest"], s=18, color="#4c72b0", label="item")
    ax.scatter(
        stats.loc[flagged, "p"], stats.loc[flagged, "r_rest"], s=30, color="#c44e52", marker="D", label="flagged"
    )
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axhline(low_r, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("difficulty p (proportion correct)")
    ax.set_ylabel(wrap("discrimination r_rest (corrected point-biserial)", 30), fontsize=9)
    ax.set_xlim(-0.02, 1.02)
    ax.set_title("Items: difficulty against discrimination (flagged items numbered)", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    numbers = {}
    rows = stats[flagged].sort_values(["assignment", "item"])
    for k, (_, r) in enumerate(rows.iterrows(), 1):
        numbers[r["item"]] = k
    fig.canvas.draw()
    _place_labels(fig, ax, [(str(numbers[r["item"]]), r["p"], r["r_rest"]) for _, r in rows.iterrows()])
    return fig, numbers


def _place_labels(fig: Any, ax: Any, labels: list[tuple[str, float, float]]) -> None:
    """Annotate points so that no label overlaps another label, the axes' other text, or leaves the axes."""
    renderer = fig.canvas.get_renderer()
    taken = [t.get_window_extent(renderer) for t in _texts(fig)]
    frame = ax.get_window_extent(renderer)
    offsets = [(d * dx, d * dy) for d in (5, 11, 18, 26, 36) for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0))]
    for text, x, y in labels:
        if math.isnan(x) or math.isnan(y):
            continue
        for dx, dy in offsets:
            ann = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=7, color="#a00")
            bb = ann.get_window_extent(renderer)
            inside = frame.x0 <= bb.x0 and bb.x1 <= frame.x1 and frame.y0 <= bb.y0 and bb.y1 <= frame.y1
            if inside and not any(bb.overlaps(o) for o in taken):
                taken.append(bb)
                break
            ann.remove()


def confusion_figure(table: Any, title: str, short: Any) -> Any:
    """A confusion matrix as a heat map (rows: the key; columns: the trainee's answer), rates shaded, counts written."""
    plt = _plt()
    rates = table.div(table.sum(axis=1).replace(0, 1), axis=0)
    ncol, nrow = len(table.columns), len(table.index)
    cell_w = 1.0
    width = min(MAX_WIDTH, 2.2 + cell_w * ncol)
    fig, ax = plt.subplots(figsize=(width, 1.6 + 0.5 * nrow), layout="constrained")
    ax.imshow(rates.values, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    col_chars = max(6, int(11 * (width - 2.2) / max(1, ncol)))
    ax.set_xticks(range(ncol), [wrap(short(c) if c != "(blank)" else c, col_chars) for c in table.columns])
    ax.set_yticks(range(nrow), [wrap(short(r), 22) for r in table.index])
    plt.setp(ax.get_xticklabels(), fontsize=7)
    plt.setp(ax.get_yticklabels(), fontsize=7)
    for i in range(nrow):
        for j in range(ncol):
            n = int(table.values[i, j])
            if n:
                color = "white" if rates.values[i, j] > 0.5 else "black"
                ax.text(j, i, n, ha="center", va="center", fontsize=7, color=color)
    ax.set_xlabel("trainee's answer", fontsize=8)
    ax.set_ylabel("the key", fontsize=8)
    ax.set_title(wrap(title, int(width * 11)), fontsize=9)
    return fig


def progress_figure(table: Any) -> Any:
    """Each trainee's percentage across modules (light lines) and the median (bold)."""
    plt = _plt()
    n = len(table.columns)
    fig, ax = plt.subplots(figsize=(min(MAX_WIDTH, max(6.5, 1.3 * n + 1.5)), 4.2), layout="constrained")
    xs = list(range(n))
    for _, row in table.iterrows():
        ax.plot(xs, row.values, color="#4c72b0", alpha=0.25, marker="o", markersize=3)
    ax.plot(xs, table.median().values, color="#c44e52", linewidth=2.5, marker="o", label="median")
    ax.set_xticks(xs, [wrap(module_name(c), 12) for c in table.columns], fontsize=8)
    ax.set_xlim(-0.4, n - 0.6)
    ax.set_ylim(0, 100)
    ax.set_ylabel("score (%)")
    title = f"Progress across modules ({len(table)} trainees; gaps are missing submissions)"
    ax.set_title(wrap(title, 80), fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return fig
