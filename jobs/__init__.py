"""hedui (核对): social-assistance verification on Apache Spark and Delta Lake.

Layout: ``config``/``contract`` (typed configuration and the data contract),
``session`` (the one SparkSession factory), ``ingest`` (landing zone -> bronze ->
silver), ``rules`` (the rule catalogue), ``gold`` (warnings lifecycle, exports,
summary), ``generate`` (synthetic Dali), ``report`` (HTML report), ``cli`` (``hedui``).
"""

__version__ = "0.1.0"
