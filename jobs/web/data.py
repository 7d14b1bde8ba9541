"""What the pages show, read from the warehouse with delta-rs and Arrow (no Spark).

- :class:`WarningsData`: ``gold/warnings`` as an Arrow table cached per Delta version;
  the work list (scope, filters, sort, page, counts) and one warning, always through the
  user's scope first: a warning outside it does not exist for that user.
- A warning's **history**: its status in each of the table's last versions (Delta time
  travel, ``serve``'s ``history_versions``), the runs that changed it (``meta/runs``), and
  the feedback rows already loaded for it (``silver/feedback``, with ``meta/feedback_applied``
  saying which run applied each).
- The **evidence**: the ``evidence`` JSON column as the rules wrote it (``source``, ``key``,
  ``values``), labelled with the contract's Chinese column names and value names.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from jobs import tables
from jobs.config import Config
from jobs.gold.feedback import feedback_applied_path
from jobs.masking import mask_id, mask_ids_in_text
from jobs.web import deltars
from jobs.web.accounts import scope_kind

log = logging.getLogger(__name__)

OPEN_STATUSES = ("NEW", "OPEN")
WAITING = "WAITING"
STATUS_ZH = {"NEW": "新预警", "OPEN": "待核查", "RESOLVED": "已消除", "CONFIRMED": "属实",
             "DISMISSED": "不属实", WAITING: "待生效"}
SOURCE_ZH = {
    "enrollment": "救助对象名册", "payments": "资金发放", "marriage": "婚姻登记", "funeral": "殡葬",
    "household": "户籍", "deaths": "死亡登记", "prison": "监狱服刑", "corrections": "司法矫正与羁押",
    "public_employees": "财政供养人员", "provident_fund": "住房公积金", "tax": "个人所得税",
    "medical": "医保结算", "disability": "残疾人证", "education": "学籍", "vehicles": "机动车登记",
    "business": "市场主体登记", "social_insurance": "社会保险", "rural_monitoring": "防返贫监测",
    "disasters": "灾害救助", "feedback": "核查反馈",
}
SORTS = {"score": "风险分", "amount": "涉及金额"}
LIST_COLUMNS = ["warning_id", "rule_id", "category", "person_id", "person_name", "county_code",
                "township_code", "score", "amount_at_risk", "status", "first_detected", "last_detected"]


@dataclass(frozen=True)
class Filters:
    rule: str = ""
    category: str = ""
    county: str = ""
    township: str = ""
    status: str = ""          # NEW, OPEN, WAITING or "" (all open)
    sort: str = "score"
    page: int = 1


def scope_mask(data: pa.Table, scope: str, cfg: Config):
    kind = scope_kind(scope, cfg.geo)
    if kind == "prefecture":
        return pa.array([True] * data.num_rows, pa.bool_())
    column = data["county_code"] if kind == "county" else data["township_code"]
    return pc.fill_null(pc.equal(column, scope), False)


class WarningsData:
    def __init__(self, cfg: Config, warehouse: str, ttl: float = 1.0) -> None:
        self.cfg, self.warehouse = cfg, warehouse
        self.path = tables.table_path(warehouse, *tables.WARNINGS)
        self.cache = deltars.TableCache(self.path, ttl=ttl)
        self.versions = deltars.VersionReader(self.path)
        self.runs = deltars.TableCache(tables.table_path(warehouse, *tables.RUNS), ttl=ttl,
                                       columns=["run_id", "command", "check_date", "started_at"])
        self.feedback = deltars.TableCache(tables.silver_path(warehouse, "feedback"), ttl=ttl)
        self.applied = deltars.TableCache(feedback_applied_path(warehouse), ttl=ttl)
        self.timeline = StatusTimeline(self.versions, cfg.serve.history_versions)

    # ------------------------------------------------------------------ list
    def snapshot(self) -> tuple[int | None, pa.Table | None]:
        return self.cache.snapshot()

    def work_list(self, scope: str, filters: Filters, waiting: set[str], page_size: int) -> dict:
        """The open warnings in scope (NEW, OPEN, or with an outcome waiting): counts by
        rule and township, the filtered rows of one page, the number of pages."""
        version, data = self.snapshot()
        empty = {"version": version, "rows": [], "total": 0, "open_total": 0, "pages": 1, "page": 1,
                 "by_rule": [], "by_township": [], "townships": [], "counties": []}
        if data is None or data.num_rows == 0:
            return empty
        waiting_arr = pa.array(sorted(waiting), pa.string())
        is_waiting = pc.is_in(data["warning_id"], value_set=waiting_arr)
        open_mask = pc.or_(pc.is_in(data["status"], value_set=pa.array(OPEN_STATUSES)), is_waiting)
        base_mask = pc.and_(scope_mask(data, scope, self.cfg), open_mask)
        base = data.filter(base_mask)
        base_waiting = pc.is_in(base["warning_id"], value_set=waiting_arr)

        mask = pa.array([True] * base.num_rows, pa.bool_())
        for column, value in (("rule_id", filters.rule), ("category", filters.category),
                              ("county_code", filters.county), ("township_code", filters.township)):
            if value:
                mask = pc.and_(mask, pc.fill_null(pc.equal(base[column], value), False))
        if filters.status == WAITING:
            mask = pc.and_(mask, base_waiting)
        elif filters.status in OPEN_STATUSES:
            mask = pc.and_(mask, pc.fill_null(pc.equal(base["status"], filters.status), False))
        chosen = base.filter(mask)
        # nulls last: sorted as -1 (scores and amounts are never negative)
        ranks = pa.table({"score": pc.fill_null(pc.cast(chosen["score"], pa.float64()), -1.0),
                          "amount": pc.fill_null(pc.cast(chosen["amount_at_risk"], pa.float64()), -1.0),
                          "warning_id": chosen["warning_id"]})
        first, second = ("amount", "score") if filters.sort == "amount" else ("score", "amount")
        order = pc.sort_indices(ranks, sort_keys=[(first, "descending"), (second, "descending"),
                                                  ("warning_id", "ascending")])
        pages = max(1, -(-chosen.num_rows // page_size))
        page = min(max(1, filters.page), pages)
        rows = chosen.take(order[(page - 1) * page_size: page * page_size]).select(LIST_COLUMNS).to_pylist()
        for r in rows:
            r["waiting"] = r["warning_id"] in waiting
        return {"version": version, "rows": rows, "total": chosen.num_rows, "open_total": base.num_rows,
                "pages": pages, "page": page,
                "by_rule": _counts(base, "rule_id"), "by_township": _counts(base, "township_code"),
                "townships": sorted({t for t in base["township_code"].to_pylist() if t}),
                "counties": sorted({c for c in base["county_code"].to_pylist() if c})}

    # ------------------------------------------------------------------ one warning
    def warning(self, scope: str, warning_id: str) -> dict | None:
        """The warning's row, or None when there is none in the user's scope."""
        _, data = self.snapshot()
        if data is None or not warning_id:
            return None
        hit = data.filter(pc.equal(data["warning_id"], warning_id))
        hit = hit.filter(scope_mask(hit, scope, self.cfg))
        rows = hit.to_pylist()
        return rows[0] if rows else None

    def history(self, warning_id: str) -> list[dict]:
        """Status changes over the table's last versions, oldest first: version, time,
        status, the run that wrote it and its check date."""
        runs = self.run_dates()
        return [{**change, "check_date": runs.get(change.get("run_id"))}
                for change in self.timeline.changes(warning_id)]

    def run_dates(self) -> dict[str, dt.date]:
        _, data = self.runs.snapshot()
        if data is None:
            return {}
        return {r["run_id"]: r["check_date"] for r in data.select(["run_id", "check_date"]).to_pylist()}

    def earlier_outcomes(self, warning_id: str) -> list[dict]:
        """The feedback rows loaded for the warning (silver/feedback), each with the run
        that applied it (meta/feedback_applied) or None."""
        _, fb = self.feedback.snapshot()
        if fb is None:
            return []
        rows = fb.filter(pc.equal(fb["warning_id"], warning_id)).to_pylist()
        _, applied = self.applied.snapshot()
        by_key = {}
        if applied is not None:
            for a in applied.filter(pc.equal(applied["warning_id"], warning_id)).to_pylist():
                by_key[(a["feedback_id"], a["_batch"])] = a["run_id"]
        for r in rows:
            r["applied_by"] = by_key.get((r.get("feedback_id"), r.get("_batch")))
        return sorted(rows, key=lambda r: (str(r.get("verified_at") or ""), r.get("feedback_id") or ""))

    # ------------------------------------------------------------------ evidence
    def evidence(self, text: str | None, masked: bool) -> list[dict]:
        """The evidence items: source (and its Chinese name), key and labelled values."""
        if not text:
            return []
        try:
            items = json.loads(text)
        except ValueError:
            shown = mask_ids_in_text(text) if masked else text
            return [{"source": "", "source_zh": "", "key": "", "values": [("证据", shown)]}]
        out = []
        for item in items or []:
            source = item.get("source") or ""
            spec = self.cfg.contract[source] if source in self.cfg.contract else None
            values = []
            order = list(spec.columns) if spec else []
            ranked = sorted((item.get("values") or {}).items(),
                            key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]))
            for name, value in ranked:
                col = spec.columns.get(name) if spec else None
                label = col.aliases[0] if col is not None and col.aliases else name
                shown = _value_text(value, col)
                if col is not None and col.type == "id" and masked:
                    shown = mask_id(shown) if shown else shown
                values.append((label, mask_ids_in_text(shown) if masked else shown))
            key = str(item.get("key") or "")
            out.append({"source": source, "source_zh": SOURCE_ZH.get(source, source),
                        "key": mask_ids_in_text(key) if masked else key, "values": values})
        return out


class StatusTimeline:
    """Every warning's status changes over the table's last ``limit`` versions, kept up to
    date one new version at a time: each version's (warning_id, status, run_id) is compared
    with the previous one's, and only the rows whose status changed are kept. A warning's
    history is then a lookup, not a scan of every version (50,000 warnings over 60
    versions: about 0.4 s a warning page by scanning, against a millisecond)."""

    def __init__(self, versions: deltars.VersionReader, limit: int) -> None:
        self.versions, self.limit = versions, limit
        self._lock = threading.Lock()
        self._done: int | None = None                   # the last version folded in
        self._last: pa.Table | None = None              # warning_id, status of that version
        self._changes: dict[str, list[dict]] = {}

    def changes(self, warning_id: str) -> list[dict]:
        with self._lock:
            self._update()
            return list(self._changes.get(warning_id, []))

    def _update(self) -> None:
        entries = self.versions.history(self.limit)
        if not entries:
            return
        if self._done is not None and entries[0]["version"] > self._done + 1:
            self._done, self._last, self._changes = None, None, {}   # history cleaned up: start again
        for entry in entries:
            version = entry["version"]
            if self._done is not None and version <= self._done:
                continue
            current = self.versions.columns_at_version(version, ["warning_id", "status", "run_id"])
            if current is None:
                continue
            if self._last is None:
                changed = current
            else:
                joined = current.join(self._last.rename_columns(["warning_id", "_before"]), "warning_id",
                                      join_type="left outer")
                differs = pc.invert(pc.fill_null(pc.equal(joined["status"], joined["_before"]), False))
                changed = joined.filter(differs).select(["warning_id", "status", "run_id"])
            when = (dt.datetime.fromtimestamp(entry["timestamp"] / 1000, dt.timezone.utc)
                    if entry.get("timestamp") else None)
            for row in changed.to_pylist():
                self._changes.setdefault(row["warning_id"], []).append(
                    {"version": version, "at": when, "status": row["status"], "run_id": row["run_id"]})
            self._last = current.select(["warning_id", "status"])
            self._done = version


def _value_text(value, col) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(_value_text(v, col) for v in value)
    text = str(value)
    if col is not None and col.type == "enum" and col.value_aliases:
        names = {code: zh for zh, code in reversed(list(col.value_aliases.items()))}
        if text in names:
            return f"{names[text]}（{text}）"
    return text


def _counts(data: pa.Table, column: str) -> list[tuple[str | None, int]]:
    if data.num_rows == 0:
        return []
    grouped = data.group_by(column).aggregate([("warning_id", "count")]).to_pylist()
    return sorted(((g[column], g["warning_id_count"]) for g in grouped), key=lambda x: (-x[1], x[0] or ""))
