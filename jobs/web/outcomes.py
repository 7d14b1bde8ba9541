"""Outcomes recorded on the page: feedback files in the landing zone, and which still wait.

An outcome is written as a feedback file of the contract (the export's template:
``反馈编号,预警编号,核查结论,核查说明,核查人,核查日期``, UTF-8 with BOM, CRLF) into a new
batch ``<landing>/feedback/<batch>/serve-<feedback id>.csv``: the folder is written whole
under a ``.``-name first and then renamed, so ``hedui run`` (which skips ``.`` and ``_``
names) never sees half a file, and applies it exactly as it applies a township's CSV.

- **Batch names** sort after every batch the source has (byte order, as the ingest orders
  them): ``<date>-web-<UTC time stamp>``, where ``<date>`` is the later of today and the
  latest batch name not written here, and failing that ``<latest batch>-web-<stamp>``.
- **Waiting**: a feedback file in the landing zone whose latest ingest-log row is not
  LOADED (not yet loaded, or FAILED and retried next run) still waits; its rows with an
  outcome are shown as waiting on their warnings. Townships' own CSV files count too
  (read like the ingest reads them: UTF-8 or GB18030, Chinese or English headers).
- **Withdrawing** renames the file to ``.withdrawn-<name>`` in its folder (kept for the
  record, skipped by every run). Only files written here can be withdrawn, and not while a
  run holds the warehouse (the lock file is read, never taken).
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc

from jobs import lock, tables
from jobs.config import Config
from jobs.gold.export import FEEDBACK_HEADERS, _csv_bytes
from jobs.gold.feedback import OUTCOMES, SOURCE
from jobs.web import deltars

log = logging.getLogger(__name__)

WEB_PREFIX = "serve-"
WITHDRAWN_PREFIX = ".withdrawn-"
OUTCOME_ZH = {"CONFIRMED": "属实", "DISMISSED": "不属实"}
_WEB_BATCH = re.compile(r"^(?P<base>.+)-web-\d{8}T\d{12}$")


@dataclass(frozen=True)
class Pending:
    warning_id: str
    outcome: str
    note: str
    verified_by: str
    verified_at: str
    feedback_id: str
    batch: str
    file: str          # <batch>/<name>, as the ingest log names it
    path: str

    @property
    def from_page(self) -> bool:
        return Path(self.path).name.startswith(WEB_PREFIX)


def new_feedback_id(day: dt.date) -> str:
    """The export template's form: ``FB<date>-<16 hex digits>``."""
    return f"FB{day:%Y%m%d}-{uuid.uuid4().hex[:16].upper()}"


def next_batch(existing: list[str], today: dt.date, now: dt.datetime) -> str:
    """A batch name after every name in ``existing`` (byte order)."""
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    bases = [m["base"] if (m := _WEB_BATCH.match(b)) else b for b in existing]
    base = max([today.isoformat(), *bases])
    name = f"{base}-web-{stamp}"
    latest = max(existing, default="")
    if name.encode() <= latest.encode():
        name = f"{latest}-web-{stamp}"
    return name


class FeedbackInbox:
    """The landing zone's feedback folder as the page sees it."""

    def __init__(self, cfg: Config, landing: str, warehouse: str, ttl: float = 1.0) -> None:
        self.cfg, self.warehouse = cfg, warehouse
        self.folder = Path(landing) / SOURCE
        self.spec = cfg.contract[SOURCE]
        self.ingest_log = deltars.TableCache(tables.table_path(warehouse, *tables.INGEST_LOG), ttl=ttl,
                                             columns=["source", "batch", "file", "status", "logged_at"])
        self._parsed: dict[str, tuple[tuple, list[Pending]]] = {}
        self._loaded_version = -1
        self._loaded: set[str] = set()
        self._lock = threading.RLock()      # one outcome, withdrawal or scan at a time

    # ------------------------------------------------------------------ reading
    def loaded_files(self) -> set[str]:
        """The feedback files (``<batch>/<name>``) whose latest ingest-log row is LOADED."""
        version, data = self.ingest_log.snapshot()
        if version != self._loaded_version:
            latest: dict[str, tuple] = {}
            if data is not None:
                rows = data.filter(pc.equal(data["source"], SOURCE)).to_pylist()
                for r in rows:
                    file_id = f"{r['batch']}/{(r['file'] or '').rsplit('/', 1)[-1]}"
                    if file_id not in latest or r["logged_at"] >= latest[file_id][0]:
                        latest[file_id] = (r["logged_at"], r["status"])
            self._loaded = {f for f, (_, status) in latest.items() if status == "LOADED"}
            self._loaded_version = version
        return self._loaded

    def batches(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(e.name for e in os.scandir(self.folder)
                      if e.is_dir() and not e.name.startswith((".", "_")))

    def pending(self) -> dict[str, list[Pending]]:
        """Warning id -> the outcomes waiting for the next run (oldest first)."""
        with self._lock:
            return self._pending()

    def _pending(self) -> dict[str, list[Pending]]:
        loaded = self.loaded_files()
        out: dict[str, list[Pending]] = {}
        seen = set()
        for batch in self.batches():
            for entry in os.scandir(self.folder / batch):
                if not entry.is_file() or entry.name.startswith((".", "_")):
                    continue
                file_id = f"{batch}/{entry.name}"
                if file_id in loaded:
                    continue
                seen.add(entry.path)
                for p in self._parse(entry, batch, file_id):
                    out.setdefault(p.warning_id, []).append(p)
        for path in [p for p in self._parsed if p not in seen]:
            del self._parsed[path]
        for items in out.values():
            items.sort(key=lambda p: (p.verified_at or "", p.feedback_id, p.batch))
        return out

    def _parse(self, entry: os.DirEntry, batch: str, file_id: str) -> list[Pending]:
        st = entry.stat()
        key = (st.st_size, st.st_mtime_ns)
        cached = self._parsed.get(entry.path)
        if cached and cached[0] == key:
            return cached[1]
        try:
            rows = self._read_rows(entry.path)
        except Exception as exc:   # a file the run will report as FAILED: nothing to show
            log.warning("feedback file %s not readable here: %s", file_id, type(exc).__name__)
            rows = []
        items = []
        for r in rows:
            outcome = self._outcome(r.get("outcome"))
            wid = (r.get("warning_id") or "").strip()
            if not wid or outcome is None:
                continue      # no outcome: no effect when the run applies it either
            items.append(Pending(warning_id=wid, outcome=outcome, note=(r.get("note") or "").strip(),
                                 verified_by=(r.get("verified_by") or "").strip(),
                                 verified_at=(r.get("verified_at") or "").strip(),
                                 feedback_id=(r.get("feedback_id") or "").strip(), batch=batch,
                                 file=file_id, path=entry.path))
        self._parsed[entry.path] = (key, items)
        return items

    def _outcome(self, value: str | None) -> str | None:
        text = (value or "").strip()
        if text.upper() in OUTCOMES:
            return text.upper()
        return self.spec.columns["outcome"].value_aliases.get(text)

    def _read_rows(self, path: str) -> list[dict]:
        from jobs.ingest.landing import detect_encoding

        lower = path.lower()
        if lower.endswith(".parquet"):
            import pyarrow.parquet as pq
            table = pq.read_table(path)
            lookup = self.spec.header_map()
            names = [lookup.get(n.strip().lower()) for n in table.column_names]
            return [{names[i]: (None if v is None else str(v)) for i, v in enumerate(row.values()) if names[i]}
                    for row in table.to_pylist()]
        if lower.endswith(".csv.gz"):
            with gzip.open(path, "rb") as fh:
                data = fh.read()
        elif lower.endswith(".csv"):
            data = Path(path).read_bytes()
        else:
            return []
        encoding = detect_encoding(data[: self.cfg.ingest.sniff_bytes])
        text = data.decode("utf-8-sig" if encoding == "UTF-8" else "gb18030")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None) or []
        lookup = self.spec.header_map()
        names = [lookup.get(h.strip().lower()) for h in header]
        return [{names[i]: v for i, v in enumerate(rec) if i < len(names) and names[i]} for rec in reader]

    # ------------------------------------------------------------------ writing
    def write(self, warning_id: str, outcome: str, note: str, verified_by: str,
              verified_at: dt.date, today: dt.date) -> Pending:
        """Write one outcome as a new batch; refuses a second one while one waits."""
        if outcome not in OUTCOMES:
            raise ValueError("unknown outcome")
        with self._lock:
            if self.pending().get(warning_id):
                raise WaitingAlready()
            self.folder.mkdir(parents=True, exist_ok=True)
            batch = next_batch([*self.batches(), *self._logged_batches()], today,
                               dt.datetime.now(dt.timezone.utc))
            feedback_id = new_feedback_id(verified_at)
            name = f"{WEB_PREFIX}{feedback_id}.csv"
            row = [feedback_id, warning_id, OUTCOME_ZH[outcome], _one_line(note), verified_by,
                   verified_at.isoformat()]
            tmp = self.folder / f".{batch}.tmp-{uuid.uuid4().hex[:8]}"
            tmp.mkdir()
            with open(tmp / name, "wb") as fh:
                fh.write(_csv_bytes(FEEDBACK_HEADERS, [row]))
                fh.flush()
                os.fsync(fh.fileno())
            os.rename(tmp, self.folder / batch)
            _fsync_dir(self.folder)
            log.info("outcome written as feedback batch %s", batch)
            return Pending(warning_id=warning_id, outcome=outcome, note=row[3], verified_by=verified_by,
                           verified_at=row[5], feedback_id=feedback_id, batch=batch,
                           file=f"{batch}/{name}", path=str(self.folder / batch / name))

    def remove(self, item: Pending) -> None:
        """Undo :meth:`write` when its audit row could not be written."""
        with self._lock:
            Path(item.path).unlink(missing_ok=True)
            try:
                Path(item.path).parent.rmdir()
            except OSError:
                pass

    def withdraw(self, item: Pending) -> str:
        """Rename a waiting file written here to ``.withdrawn-<name>``; returns the new name."""
        with self._lock:
            if not item.from_page:
                raise NotWithdrawable("written by a township, not by this page")
            if run_in_progress(self.warehouse, self.cfg):
                raise NotWithdrawable("a run is in progress")
            if item.file in self.loaded_files() or not Path(item.path).is_file():
                raise NotWithdrawable("already loaded")
            target = Path(item.path).with_name(WITHDRAWN_PREFIX + Path(item.path).name)
            os.rename(item.path, target)
            _fsync_dir(target.parent)
            log.info("outcome withdrawn: feedback file %s", item.file)
            return target.name

    def _logged_batches(self) -> list[str]:
        _, data = self.ingest_log.snapshot()
        if data is None:
            return []
        return sorted({b for b in data.filter(pc.equal(data["source"], SOURCE))["batch"].to_pylist() if b})


class WaitingAlready(Exception):
    """An outcome for this warning already waits for the next run."""


class NotWithdrawable(Exception):
    """The waiting outcome cannot be withdrawn (its reason is the message)."""


def run_in_progress(warehouse: str, cfg: Config) -> bool:
    """A live command holds the warehouse lock (read only; the page never takes it)."""
    path = lock.lock_path(warehouse)
    try:
        text = Path(path).read_text(encoding="utf-8")
        modified = os.path.getmtime(path)
    except OSError:
        return False
    try:
        holder = json.loads(text)
    except ValueError:
        return True
    alive = lock.is_alive(holder)
    if alive is not None:
        return alive
    return time.time() - modified <= cfg.run.lock_stale_seconds


def _one_line(text: str) -> str:
    return " ".join(str(text or "").split())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
