"""Checks of a command's arguments before it starts Spark or writes anything.

Local paths (no scheme, or ``file:``) are checked before Spark starts, with Python; other
URIs (``hdfs://``, ``s3a://``) as soon as Spark is up, through Hadoop, still before
anything is written. Each check raises :class:`~jobs.errors.PathError` (exit status 2)
with one clear line naming the option and the path.
"""
from __future__ import annotations

from jobs import fs
from jobs.errors import PathError


def require_folder(path: str, option: str, files, what: str = "folder") -> bool:
    """``path`` exists and is a folder (True), or cannot be checked yet (False: a remote
    URI before Spark starts)."""
    if files is None:
        return False
    kind = files.kind(path)
    if kind == fs.MISSING:
        raise PathError(f"{option} {path}: no such {what}")
    if kind == fs.FILE:
        raise PathError(f"{option} {path}: is a file, not a {what}")
    return True


def require_not_file(path: str, option: str, files) -> bool:
    """``path`` is a folder or does not exist yet (it will be created)."""
    if files is None:
        return False
    if files.kind(path) == fs.FILE:
        raise PathError(f"{option} {path}: is a file, not a folder")
    return True


def check_paths(checks: list[tuple], spark=None) -> bool:
    """Run ``(kind, path, option)`` checks (kind: ``folder``, ``warehouse``, ``new-or-folder``)
    with the backend each path allows now; True when every path could be checked."""
    done = True
    for kind, path, option in checks:
        files = fs.files_for(path, spark)
        if kind == "new-or-folder":
            done &= require_not_file(path, option, files)
        else:
            done &= require_folder(path, option, files, "warehouse" if kind == "warehouse" else "folder")
    return done
