"""Bronze: the files as they arrived, byte for byte (contract s.4).

Each pending landing file is copied to ``<warehouse>/bronze/<source>/<batch>/<file>``;
its size and SHA-256, computed while copying, go to the ingest log. The ingest then reads
the rows from the bronze copy, through the same reader as ever (:mod:`.landing`), so
what silver and the quarantine hold is what bronze keeps, and any file's rows can be
read again from bronze alone.

The copy streams inside the JVM (Hadoop's file systems: any URI; one call per file, no
bytes through Python) into a temporary name, then renames it over the final one: a copy
cut short by a crash is never mistaken for a whole file, and the rerun copies again.

Chosen by measurement over a Delta copy of every row (docs/BENCHMARKS.md, "Bronze").
"""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

from jobs import tables
from jobs.errors import UnreadableFile, safe_message
from jobs.ingest.landing import LandingFile


@dataclass(frozen=True)
class BronzeCopy:
    """A landing file as kept in bronze."""

    file: LandingFile       # the landing file (source, batch, name)
    path: str               # its bronze copy
    size: int
    sha256: str

    def readable(self) -> LandingFile:
        """The landing file as read from its bronze copy (same source, batch and name)."""
        return LandingFile(self.file.source, self.file.batch, self.file.name, self.path, self.size)


def bronze_file_path(warehouse: str, f: LandingFile) -> str:
    return "/".join([tables.bronze_path(warehouse, f.source), f.batch, f.name])


def _raw_fs(spark: SparkSession, path: str):
    """Hadoop's file system for ``path``; for local paths the raw one (no ``.crc`` files)."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    p = jvm.org.apache.hadoop.fs.Path(path)
    fs = p.getFileSystem(conf)
    if fs.getScheme() == "file":
        fs = jvm.org.apache.hadoop.fs.RawLocalFileSystem()
        fs.initialize(jvm.java.net.URI("file:///"), conf)
    return fs, p


def copy_to_bronze(spark: SparkSession, f: LandingFile, warehouse: str) -> BronzeCopy:
    """Copy one landing file into bronze; raises :class:`UnreadableFile` when it cannot
    be read (permissions, a vanished file)."""
    jvm = spark.sparkContext._jvm
    target = bronze_file_path(warehouse, f)
    src_fs, src = _raw_fs(spark, f.path)
    dst_fs, dst = _raw_fs(spark, target)
    tmp = jvm.org.apache.hadoop.fs.Path(dst.getParent(), "." + dst.getName() + ".copying")
    digest = jvm.java.security.MessageDigest.getInstance("SHA-256")
    try:
        stream = jvm.java.security.DigestInputStream(src_fs.open(src), digest)
    except Exception as exc:
        raise UnreadableFile(f"cannot read the file: {safe_message(exc)}") from None
    try:
        dst_fs.mkdirs(dst.getParent())
        out = dst_fs.create(tmp, True)
        try:
            size = int(jvm.org.apache.commons.io.IOUtils.copyLarge(stream, out))
        finally:
            out.close()
    except Exception as exc:
        dst_fs.delete(tmp, False)
        raise UnreadableFile(f"cannot read the file: {safe_message(exc)}") from None
    finally:
        stream.close()
    if dst_fs.exists(dst):
        dst_fs.delete(dst, False)
    if not dst_fs.rename(tmp, dst):
        raise OSError(f"could not move the bronze copy into place: {target}")
    return BronzeCopy(f, str(dst_fs.makeQualified(dst).toString()), size, bytes(digest.digest()).hex())
