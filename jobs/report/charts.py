"""Charts for the report and the notebooks: matplotlib (Agg), Noto Sans CJK, no missing glyph.

- :func:`find_cjk_font` finds an installed Noto Sans CJK face (``fonts-noto-cjk``) through
  ``matplotlib.font_manager`` and raises :class:`CjkFontError` when there is none.
- :class:`GlyphMonitor` records matplotlib's "Glyph ... missing from font(s)" warnings (the
  ``warnings`` module) and its font/glyph log messages (``logging``) while a chart is
  built and drawn; :class:`ChartRenderer` renders each chart inside one and, when strict,
  raises :class:`MissingGlyphError`; either way ``ChartRenderer.glyph_problems`` lists them.
- The drawing functions take plain Python lists and return a ``Figure`` (no pyplot, so no
  global backend state): ``hbar``, ``stacked_hbar``, ``vbar``, ``lines``.
"""
from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg  # drawn without pyplot
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

log = logging.getLogger(__name__)

# Preferred faces, best first: Simplified Chinese glyph forms for Dali's place names.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK JP",
                "Noto Sans CJK KR", "Noto Sans CJK HK")
CJK_FILE_HINTS = ("NotoSansCJK", "NotoSansSC")
DPI = 100
PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860",
           "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD", "#2F4B7C", "#A05195")


class CjkFontError(RuntimeError):
    """No CJK font is installed: Chinese labels would render as empty boxes."""


class MissingGlyphError(RuntimeError):
    """A chart drew a character its fonts do not have."""


@dataclass(frozen=True)
class CjkFont:
    name: str
    path: str


def _cjk_entries() -> list:
    return [f for f in font_manager.fontManager.ttflist
            if f.name.startswith("Noto Sans CJK") and "Mono" not in f.name]


def find_cjk_font() -> CjkFont:
    """The installed Noto Sans CJK face to draw with (Simplified Chinese preferred).

    matplotlib caches its font list on first use; fonts installed after that are not in
    the cache, so a miss rescans the system font folders once before giving up.
    """
    entries = _cjk_entries()
    if not entries:
        for path in font_manager.findSystemFonts():
            if any(hint in os.path.basename(path) for hint in CJK_FILE_HINTS):
                try:
                    font_manager.fontManager.addfont(path)
                except Exception as exc:  # an unreadable font file: keep looking
                    log.debug("cannot load font %s: %s", path, exc)
        entries = _cjk_entries()
    if not entries:
        raise CjkFontError(
            "no Noto Sans CJK font found by matplotlib: install the fonts-noto-cjk package "
            "(apt-get install -y fonts-noto-cjk, as scripts/setup.sh does); without it "
            "Chinese labels cannot be drawn")
    rank = {name: i for i, name in enumerate(CJK_FAMILIES)}
    best = min(entries, key=lambda f: (rank.get(f.name, len(rank)),
                                       f.weight not in (400, "normal", "regular"), f.fname))
    return CjkFont(name=best.name, path=best.fname)


def chart_rc(font: CjkFont) -> dict:
    """rcParams for every chart: the CJK face first, DejaVu Sans only as a fallback."""
    return {
        "font.family": [font.name, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 13,
        "axes.titleweight": "bold",
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
    }


def use_cjk_font() -> CjkFont:
    """For notebooks: make the CJK font the default of every later plot."""
    font = find_cjk_font()
    matplotlib.rcParams.update(chart_rc(font))
    return font


# ---------------------------------------------------------------------------------
# Missing glyphs
# ---------------------------------------------------------------------------------
def is_glyph_problem(message: str) -> bool:
    text = message.lower()
    return ("missing from font" in text or "does not have a glyph" in text
            or ("findfont" in text and "not found" in text))


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]):
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if is_glyph_problem(message):
            self.sink.append(message)


class GlyphMonitor:
    """Context manager: collects missing-glyph and missing-font messages in ``problems``.

    ``warnings`` are recorded with the "always" filter (matplotlib would otherwise warn
    once per call site); other warnings are re-issued unchanged on exit.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._catcher = None
        self._caught: list = []
        self._handler = _ListHandler(self.problems)
        self._logger = logging.getLogger("matplotlib")

    def __enter__(self) -> "GlyphMonitor":
        self._catcher = warnings.catch_warnings(record=True)
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        self._logger.addHandler(self._handler)
        return self

    def __exit__(self, *exc) -> None:
        self._logger.removeHandler(self._handler)
        self._catcher.__exit__(*exc)
        for w in self._caught:
            message = str(w.message)
            if is_glyph_problem(message):
                self.problems.append(message)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure, drawn with the Agg canvas."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


@dataclass
class ChartRenderer:
    """Renders charts with the CJK font and checks every one for missing glyphs."""

    strict: bool = True
    font: CjkFont = field(default_factory=find_cjk_font)
    glyph_problems: list[str] = field(default_factory=list)

    def render(self, chart_id: str, draw: Callable[[], Figure]) -> bytes:
        with matplotlib.rc_context(chart_rc(self.font)), GlyphMonitor() as monitor:
            png = figure_png(draw())
        if monitor.problems:
            found = [f"{chart_id}: {p}" for p in dict.fromkeys(monitor.problems)]
            self.glyph_problems.extend(found)
            if self.strict:
                raise MissingGlyphError("; ".join(found))
        return png


# ---------------------------------------------------------------------------------
# Drawing (plain data in, Figure out)
# ---------------------------------------------------------------------------------
def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _height_for(n: int) -> float:
    return max(3.0, 0.38 * n + 1.4)


def _fmt(value: float) -> str:
    return f"{value:,.2f}" if value != int(value) else f"{int(value):,}"


def hbar(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str,
         color: str = PALETTE[0], width: float = 10.0, integer: bool = True) -> Figure:
    """Horizontal bars, first label on top, each bar annotated with its value."""
    fig = _figure(width, _height_for(len(labels)))
    ax = fig.add_subplot()
    pos = list(range(len(labels)))[::-1]
    bars = ax.barh(pos, list(values), color=color)
    ax.set_yticks(pos, list(labels))
    ax.bar_label(bars, labels=[_fmt(v) for v in values], padding=3, fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.margins(x=0.12)
    ax.xaxis.set_major_locator(MaxNLocator(integer=integer))
    return fig


def stacked_hbar(labels: Sequence[str], series: dict[str, Sequence[float]], title: str,
                 xlabel: str, colors: dict[str, str] | None = None,
                 width: float = 10.0, integer: bool = True) -> Figure:
    """Horizontal stacked bars: one bar per label, one segment per series (legend)."""
    fig = _figure(width, _height_for(len(labels)) + 0.4)
    ax = fig.add_subplot()
    pos = list(range(len(labels)))[::-1]
    left = [0.0] * len(labels)
    for i, (name, values) in enumerate(series.items()):
        color = (colors or {}).get(name, PALETTE[i % len(PALETTE)])
        ax.barh(pos, list(values), left=left, color=color, label=name)
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(pos, list(labels))
    for p, total in zip(pos, left):
        ax.text(total, p, " " + _fmt(total), va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.margins(x=0.12)
    ax.xaxis.set_major_locator(MaxNLocator(integer=integer))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def vbar(labels: Sequence[str], values: Sequence[float], title: str, ylabel: str,
         color: str = PALETTE[0], width: float = 10.0, integer: bool = True) -> Figure:
    """Vertical bars with slanted labels (counties)."""
    fig = _figure(width, 4.6)
    ax = fig.add_subplot()
    bars = ax.bar(range(len(labels)), list(values), color=color)
    ax.set_xticks(range(len(labels)), list(labels), rotation=30, ha="right")
    ax.bar_label(bars, labels=[_fmt(v) for v in values], padding=2, fontsize=8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.margins(y=0.12)
    ax.yaxis.set_major_locator(MaxNLocator(integer=integer))
    return fig


def lines(x_labels: Sequence[str], series: dict[str, Sequence[float]], title: str,
          ylabel: str, colors: dict[str, str] | None = None, width: float = 10.0,
          integer: bool = True) -> Figure:
    """One line with markers per series over categorical x positions (runs, versions)."""
    fig = _figure(width, 4.6)
    ax = fig.add_subplot()
    xs = list(range(len(x_labels)))
    for i, (name, values) in enumerate(series.items()):
        color = (colors or {}).get(name, PALETTE[i % len(PALETTE)])
        ax.plot(xs, list(values), marker="o", color=color, label=name, linewidth=2)
    ax.set_xticks(xs, list(x_labels))
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=integer))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig
