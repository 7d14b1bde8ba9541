"""HTML pieces of the report: one self-contained page, no external assets.

Charts are PNG data URIs. ``index.html#only=<chart_id>`` shows a single chart alone at
the top-left corner of the page (used to screenshot each chart in the tests).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from html import escape
from typing import Any, Iterable, Sequence

CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans CJK", "Source Han Sans SC",
       "Microsoft YaHei", "PingFang SC", sans-serif; margin: 0; color: #222; background: #fff; }
main { max-width: 1160px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 2px solid #4C72B0; }
h3 { font-size: 16px; margin: 20px 0 8px; }
.meta { color: #666; font-size: 13px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; min-width: 150px; }
.card .v { font-size: 22px; font-weight: bold; }
.card .k { font-size: 12px; color: #666; }
figure.chart { margin: 12px 0 20px; }
figure.chart img { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
figure.chart figcaption { font-size: 12px; color: #666; margin-top: 4px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bad { background: #fde2e2; }
td.good { background: #e3f4e1; }
.note { color: #8a6d3b; background: #fcf8e3; padding: 6px 10px; border-radius: 4px; font-size: 13px; }
body.solo { margin: 0; }
body.solo figure.chart { margin: 0; }
body.solo figure.chart img { max-width: none; border: 0; }
"""

# index.html#only=<chart_id>: the page shows that chart alone, at (0, 0).
SOLO_SCRIPT = """
(function () {
  var m = /^#only=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  if (!m) { return; }
  var fig = document.getElementById("chart-" + m[1]);
  if (!fig) { return; }
  document.body.replaceChildren(fig);
  document.body.className = "solo";
})();
"""


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    section: str
    png: bytes
    width: int
    height: int

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def figure(chart: Chart, caption: str = "") -> str:
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return (f'<figure class="chart" id="chart-{escape(chart.chart_id)}" data-chart="{escape(chart.chart_id)}">'
            f'<img src="{chart.data_uri()}" alt="{escape(chart.title)}" width="{chart.width}" '
            f'height="{chart.height}">{cap}</figure>')


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Iterable[int] = (),
          classes: Sequence[Sequence[str]] | None = None) -> str:
    """An HTML table; ``numeric`` column indexes are right-aligned; ``classes`` per cell."""
    numeric = set(numeric)
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for r, row in enumerate(rows):
        cells = []
        for i, value in enumerate(row):
            cls = ["num"] if i in numeric else []
            if classes is not None and classes[r][i]:
                cls.append(classes[r][i])
            attr = f' class="{" ".join(cls)}"' if cls else ""
            cells.append(f"<td{attr}>{escape(fmt(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def cards(items: Sequence[tuple[str, Any]]) -> str:
    inner = "".join(f'<div class="card"><div class="v">{escape(fmt(v))}</div>'
                    f'<div class="k">{escape(k)}</div></div>' for k, v in items)
    return f'<div class="cards">{inner}</div>'


def page(title: str, meta: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head>"
            f"<body><main><h1>{escape(title)}</h1><p class=\"meta\">{escape(meta)}</p>{body}</main>"
            f"<script>{SOLO_SCRIPT}</script></body></html>\n")
