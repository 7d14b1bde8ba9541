"""`hedui report`: a static HTML report of a warehouse, and helpers for the notebooks.

- :func:`build_report` / :func:`generate_report` (``build``): index.html + report.json
- ``data``: DataFrame transforms over gold/warnings, quarantine, meta/ingest_log, meta/runs
- ``drilldown``: from a warning's evidence to its silver rows
- ``charts``: matplotlib with the Noto Sans CJK font and the missing-glyph check
- ``jobs.masking``: ID numbers as first 6 + ``********`` + last 4
"""
from jobs.report.build import Report, build_report, generate_report
from jobs.report.charts import CjkFontError, MissingGlyphError
from jobs.masking import mask_id, mask_ids_in_text, masked_id

__all__ = ["Report", "build_report", "generate_report", "CjkFontError", "MissingGlyphError",
           "mask_id", "mask_ids_in_text", "masked_id"]
