"""File access through Hadoop's FileSystem, so that every path may be any URI Spark
reads (local paths, ``hdfs://``, ``s3a://``). Nothing here uses ``os`` for data files."""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession


@dataclass(frozen=True)
class FileEntry:
    path: str        # fully qualified URI as Hadoop reports it
    name: str
    is_dir: bool
    size: int


def _jvm(spark: SparkSession):
    return spark.sparkContext._jvm


def _fs_and_path(spark: SparkSession, path: str):
    jvm = _jvm(spark)
    p = jvm.org.apache.hadoop.fs.Path(path)
    return p.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), p


def qualify(spark: SparkSession, path: str) -> str:
    """The fully qualified URI of ``path`` (a relative local path becomes
    ``file:/<working directory>/...``): SQL's ``delta.`<path>``` takes absolute paths only."""
    fs, p = _fs_and_path(spark, path)
    return str(fs.makeQualified(p).toString())


def exists(spark: SparkSession, path: str) -> bool:
    fs, p = _fs_and_path(spark, path)
    return bool(fs.exists(p))


def list_dir(spark: SparkSession, path: str) -> list[FileEntry]:
    """Entries directly below ``path``, sorted by name; [] when it does not exist."""
    fs, p = _fs_and_path(spark, path)
    if not fs.exists(p):
        return []
    out = [FileEntry(path=s.getPath().toString(), name=s.getPath().getName(),
                     is_dir=bool(s.isDirectory()), size=int(s.getLen()))
           for s in fs.listStatus(p)]
    return sorted(out, key=lambda e: e.name.encode("utf-8"))


def read_head(spark: SparkSession, path: str, nbytes: int) -> bytes:
    """Up to ``nbytes`` bytes from the start of a file, decompressed when the file name
    says so (``.gz``); raises the Java IO error for unreadable files."""
    jvm = _jvm(spark)
    fs, p = _fs_and_path(spark, path)
    codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(
        spark.sparkContext._jsc.hadoopConfiguration()).getCodec(p)
    raw = fs.open(p)
    try:
        stream = codec.createInputStream(raw) if codec is not None else raw
        bounded = jvm.org.apache.commons.io.input.BoundedInputStream(stream, nbytes)
        return bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(bounded))
    finally:
        raw.close()


def write_bytes(spark: SparkSession, path: str, data: bytes) -> None:
    """Create (or replace) a file with the given content (on the local file system
    without Hadoop's ``.crc`` side files, which would confuse people opening the folder)."""
    fs, p = _fs_and_path(spark, path)
    if fs.getScheme() == "file":
        jvm = _jvm(spark)
        fs = jvm.org.apache.hadoop.fs.RawLocalFileSystem()
        fs.initialize(jvm.java.net.URI("file:///"), spark.sparkContext._jsc.hadoopConfiguration())
    out = fs.create(p, True)
    try:
        out.write(bytearray(data))
    finally:
        out.close()


def mkdirs(spark: SparkSession, path: str) -> None:
    fs, p = _fs_and_path(spark, path)
    fs.mkdirs(p)


def delete(spark: SparkSession, path: str, recursive: bool = True) -> None:
    fs, p = _fs_and_path(spark, path)
    if fs.exists(p):
        fs.delete(p, recursive)


def rename(spark: SparkSession, src: str, dst: str) -> None:
    fs, p = _fs_and_path(spark, src)
    _, q = _fs_and_path(spark, dst)
    if not fs.rename(p, q):
        raise OSError(f"could not rename {src} to {dst}")
