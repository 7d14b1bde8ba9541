"""Every error hedui raises on purpose, in one place.

Messages never hold an ID number or a name (personal data): they name keys, paths,
files, run ids, dates and counts. The command line maps them to its exit status:

- :class:`UsageError` and its kinds: exit status 2, nothing written;
- :class:`UnreadableFile`: not an exit status of its own; the file is FAILED in the
  ingest log and the run ends with exit status 1;
- :class:`StepFailed`: exit status 3; names the step (and the source and file where
  there is one) and the log under the warehouse that holds the masked traceback;
- anything else that stops a command: exit status 3, its message reworded
  (:func:`safe_message`).
"""
from __future__ import annotations


class HeduiError(Exception):
    """Base of the errors below."""


class UsageError(HeduiError):
    """The command cannot run as asked (exit status 2, nothing written)."""


class ConfigError(UsageError, ValueError):
    """A configuration file or value is wrong; the message names the key."""


class PathError(UsageError):
    """A path argument names nothing usable (missing, a file instead of a folder...)."""


class CheckDateError(UsageError, ValueError):
    """The check date is earlier than the latest check date already applied."""


class WarehouseBusy(UsageError):
    """Another command holds the warehouse (its lock names the run)."""


class SparkSetupError(UsageError, RuntimeError):
    """Spark cannot be started as configured (e.g. the Delta jars are missing)."""


class ExportError(UsageError, RuntimeError):
    """Nothing to export from (no warnings table and no check date given)."""


class UnreadableFile(HeduiError):
    """A landing file that cannot be read at all; the message is its reason."""


class StepFailed(HeduiError):
    """A step of a command failed for a reason that is not one file's content (the
    warehouse's storage, a Delta commit, a defect): exit status 3.

    ``reason`` is the short, personal-data-free line (``meta/runs.error`` holds it too);
    ``log_path`` the log with the masked traceback, once written."""

    def __init__(self, step: str, cause: str, source: str | None = None, file: str | None = None,
                 log_path: str | None = None):
        self.step, self.cause, self.source, self.file, self.log_path = step, cause, source, file, log_path
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        where = f"step {self.step}"
        if self.source:
            where += f", source {self.source}"
        if self.file:
            where += f", file {self.file}"
        return f"{where}: {self.cause}"

    def __str__(self) -> str:
        if self.log_path:
            return f"{self.reason} (traceback, ID numbers and names masked: {self.log_path})"
        return self.reason


# ---------------------------------------------------------------------------------
# Messages of errors that were not ours (Spark's, Java's) without personal data
# ---------------------------------------------------------------------------------
def safe_message(exc: BaseException, limit: int = 300) -> str:
    """``Type: first line`` of an error, fit for logs and the terminal: Spark and Java
    messages quote the values they failed on (``The value '5329...' cannot be cast``), so
    quoted text becomes ``'…'`` and ID-like numbers are masked; for a Spark error its error
    class, for a Java error the Java exception's own first line."""
    import re

    from jobs.masking import mask_personal_text

    java = getattr(exc, "java_exception", None)
    text = str(java) if java is not None else str(exc)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    # py4j errors start with a preamble ("An error occurred while calling o123.x."):
    # keep the Java exception's line
    first = next((line for line in lines if "Exception" in line or "Error" in line), lines[0] if lines else "")
    first = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", first)
    first = mask_personal_text(first)[:limit]
    kind = type(exc).__name__
    error_class = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
    try:
        cls = error_class() if callable(error_class) else None
    except Exception:
        cls = None
    if cls and cls not in first:
        first = f"[{cls}] {first}"
    return first if first.startswith(kind) else f"{kind}: {first}"
