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


# ---------------------------------------------------------------------------------
# Small files (the warehouse lock, the check-date marker) and path checks, through one
# interface with two backends: local paths (no scheme, or file:) through Python, so the
# command line can check and lock them before Spark starts; any other URI through Hadoop.
# ---------------------------------------------------------------------------------
MISSING, FILE, FOLDER = "missing", "file", "folder"


def is_local(path: str) -> bool:
    """A path of the local file system: no URI scheme, or ``file:``."""
    scheme = path.split(":", 1)[0] if ":" in path.split("/", 1)[0] else ""
    return scheme in ("", "file")


def local_path(path: str) -> str:
    """The operating system's form of a local path (``file:///a`` -> ``/a``)."""
    if path.startswith("file://"):
        return path[len("file://"):] or "/"
    if path.startswith("file:"):
        return path[len("file:"):]
    return path


class LocalFiles:
    """Small files on the local file system, with Python (no Spark needed)."""

    def kind(self, path: str) -> str:
        import os
        p = local_path(path)
        return FOLDER if os.path.isdir(p) else FILE if os.path.exists(p) else MISSING

    def read_text(self, path: str) -> str | None:
        try:
            with open(local_path(path), encoding="utf-8") as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def create_new(self, path: str, text: str) -> bool:
        """Create ``path`` with ``text`` unless it exists (atomic: O_EXCL)."""
        import os
        p = local_path(path)
        os.makedirs(os.path.dirname(p) or ".", exist_ok=True)
        try:
            fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return True

    def write_text(self, path: str, text: str) -> None:
        """Replace ``path`` atomically (a temporary file renamed over it)."""
        import os
        p = local_path(path)
        os.makedirs(os.path.dirname(p) or ".", exist_ok=True)
        tmp = f"{p}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, p)

    def delete(self, path: str) -> None:
        import os
        try:
            os.remove(local_path(path))
        except FileNotFoundError:
            pass

    def remove_empty_folders(self, path: str, upto: str) -> None:
        """Remove ``path`` and its parents up to ``upto`` (included) while they are empty."""
        import os
        p, stop = os.path.abspath(local_path(path)), os.path.abspath(local_path(upto))
        while p.startswith(stop):
            try:
                os.rmdir(p)
            except OSError:
                return
            if p == stop:
                return
            p = os.path.dirname(p)

    def touch(self, path: str) -> None:
        import os
        os.utime(local_path(path))

    def modified(self, path: str) -> float | None:
        """Seconds since the epoch of the last change, None when missing."""
        import os
        try:
            return os.stat(local_path(path)).st_mtime
        except FileNotFoundError:
            return None


class HadoopFiles:
    """The same small-file operations on any URI Spark reads (``hdfs://``, ``s3a://``)."""

    def __init__(self, spark: SparkSession):
        self.spark = spark

    def kind(self, path: str) -> str:
        fs, p = _fs_and_path(self.spark, path)
        if not fs.exists(p):
            return MISSING
        return FOLDER if fs.getFileStatus(p).isDirectory() else FILE

    def read_text(self, path: str) -> str | None:
        fs, p = _fs_and_path(self.spark, path)
        if not fs.exists(p):
            return None
        stream = fs.open(p)
        try:
            jvm = _jvm(self.spark)
            return bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(stream)).decode("utf-8")
        finally:
            stream.close()

    def create_new(self, path: str, text: str) -> bool:
        """Create ``path`` unless it exists: ``create(overwrite=false)`` (atomic on HDFS; on
        S3 the check and the write are separate requests, see docs/CLUSTER.md)."""
        fs, p = _fs_and_path(self.spark, path)
        try:
            out = fs.create(p, False)
        except Exception as exc:  # FileAlreadyExistsException (a Py4JJavaError)
            if fs.exists(p):
                return False
            raise OSError(f"could not create {path}: {type(exc).__name__}") from None
        try:
            out.write(bytearray(text.encode("utf-8")))
        finally:
            out.close()
        return True

    def write_text(self, path: str, text: str) -> None:
        write_bytes(self.spark, path, text.encode("utf-8"))

    def delete(self, path: str) -> None:
        delete(self.spark, path, recursive=False)

    def remove_empty_folders(self, path: str, upto: str) -> None:
        fs, p = _fs_and_path(self.spark, path)
        _, stop = _fs_and_path(self.spark, upto)
        stop_uri = str(fs.makeQualified(stop).toString())
        while p is not None and fs.exists(p) and len(fs.listStatus(p)) == 0:
            fs.delete(p, False)
            if str(fs.makeQualified(p).toString()) == stop_uri:
                return
            p = p.getParent()

    def touch(self, path: str) -> None:
        import time
        fs, p = _fs_and_path(self.spark, path)
        fs.setTimes(p, int(time.time() * 1000), -1)

    def modified(self, path: str) -> float | None:
        fs, p = _fs_and_path(self.spark, path)
        if not fs.exists(p):
            return None
        return fs.getFileStatus(p).getModificationTime() / 1000.0


def files_for(path: str, spark: SparkSession | None = None) -> LocalFiles | HadoopFiles | None:
    """The backend for ``path``: local paths need no Spark; other URIs need a session (None
    without one: such a path can only be checked once Spark has started)."""
    if is_local(path):
        return LocalFiles()
    return HadoopFiles(spark) if spark is not None else None
