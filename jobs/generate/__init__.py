"""`hedui generate`: a synthetic Dali landing zone at any scale, with planted anomalies.

``generate(spark, cfg, out, scale, seed, as_of)`` writes every source that has a
generator profile (conf/generate/<source>.yaml: all but ``feedback``) as
``<out>/<source>/<YYYY-MM-DD>/<file>`` (README s.1, s.6, s.7) plus
``<out>/_truth/expected.csv`` and returns row counts per source (``truth``: POSITIVE
rows, ``near_miss``: NEAR_MISS rows).

Modules: ``settings`` (census figures, rates), ``common`` (hashing, dates, IDs, names),
``population`` (households and people), ``background`` (rows of every source that fire
no rule, one method per source), ``profiles`` (each source's generator profile: volume,
file profiles, dirt, correcting batch), ``world`` (planted people and their rows, their
dirt), ``cases`` (per rule category: each rule's planted cases and, beside them, its
truth), ``oracle`` (plain-Python ingest and the shared facts the truths read),
``writer`` (dirt, formats, files), ``forms`` (section 1's other forms: header-only files,
padded headers, blank lines, ``_SUCCESS``, ``.CSV``...), ``job`` (orchestration).

A new source is its conf/sources.yaml entry, its conf/generate/<source>.yaml and one
``Background`` method; a new rule is its conf/rules.yaml entry, its Spark function and,
in ``cases/<category>.py``, its ``@planted`` cases and its ``@truth``.
"""
from jobs.generate.job import generate
from jobs.generate.settings import GenerateSettings

__all__ = ["generate", "GenerateSettings"]
