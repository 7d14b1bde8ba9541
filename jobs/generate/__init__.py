"""`hedui generate`: a synthetic Dali landing zone at any scale, with planted anomalies.

``generate(spark, cfg, out, scale, seed, as_of)`` writes every source but ``feedback`` as
``<out>/<source>/<YYYY-MM-DD>/<file>`` (README s.1, s.6, s.7) plus
``<out>/_truth/expected.csv`` and returns row counts per source (``truth``: POSITIVE
rows, ``near_miss``: NEAR_MISS rows).

Modules: ``settings`` (census figures, rates), ``common`` (hashing, dates, IDs, names),
``population`` (households and people), ``background`` (rows of every source that fire
no rule), ``planted`` (cases per rule), ``oracle`` (plain-Python ingest and rules used to
compute the truth), ``writer`` (dirt, formats, files), ``job`` (orchestration).
"""
from jobs.generate.job import generate
from jobs.generate.settings import GenerateSettings

__all__ = ["generate", "GenerateSettings"]
