"""Spark: the one session factory (:mod:`jobs.spark.session`) and every workaround for
Spark, Delta or the JVM (:mod:`jobs.spark.workarounds`), each with its reason."""
