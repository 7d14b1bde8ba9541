"""What a failure leaves to read: the masked traceback in ``<warehouse>/_hedui/logs/<run_id>.log``.

A traceback quotes the values an error failed on (Spark's ``The value '…' cannot be cast``,
a Python ``KeyError``, a row's repr), so before it is written or printed it is masked
(:func:`jobs.masking.mask_personal_text`). Code lines, exception types, file paths and
line numbers stay as they are: they are what a developer needs, and hold no personal data.
"""
from __future__ import annotations

import datetime as dt
import traceback

from jobs.masking import mask_personal_text

LOG_FOLDER = ("_hedui", "logs")

mask_traceback = mask_personal_text


def format_exception(exc: BaseException) -> str:
    """The whole traceback of ``exc`` (its causes and, for a Spark error, the Java side),
    masked."""
    text = "".join(traceback.format_exception(exc))
    java = getattr(exc, "java_exception", None) or getattr(exc.__cause__, "java_exception", None)
    if java is not None:
        try:
            text += "\nJava side:\n" + str(java.toString())
            for frame in list(java.getStackTrace())[:60]:
                text += f"\n\tat {frame.toString()}"
        except Exception:  # the gateway may be gone
            pass
    return mask_traceback(text)


def log_path(warehouse: str, run_id: str) -> str:
    return "/".join([warehouse.rstrip("/"), *LOG_FOLDER, f"{run_id}.log"])


def write_log(files, warehouse: str, run_id: str, entries: list[tuple[str, str]]) -> str | None:
    """Write ``entries`` ([(heading, masked traceback)]) to the run's log under the
    warehouse through ``files`` (:func:`jobs.fs.files_for`); its path, or None when it could
    not be written (the failure being reported may be the storage's own)."""
    if not entries or files is None:
        return None
    path = log_path(warehouse, run_id)
    stamp = dt.datetime.now().replace(microsecond=0).isoformat()
    body = "\n".join(f"== {stamp} {heading}\n{text.rstrip()}\n" for heading, text in entries)
    try:
        old = files.read_text(path) or ""
        files.write_text(path, old + body)
    except Exception:
        return None
    return path
