"""The audit trail of the review page: ``<warehouse>/meta/audit``, append-only.

One row per action: ``at`` (UTC), ``username``, ``role``, ``action``, ``warning_id``,
``detail`` (JSON: outcome, feedback id, batch, failures...; never an ID number, a name or
a note's text) and ``remote_addr``. Actions: LOGIN, LOGIN_FAILED, LOGIN_LOCKED (refused
while locked), LOGOUT, OUTCOME, WITHDRAW, UNMASK, USER_ADD, USER_DISABLE. An ``admin``
sees it at ``/audit``; Spark and delta-rs read it like any table of the warehouse.
"""
from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pyarrow.compute as pc

from jobs import tables
from jobs.web import deltars

AUDIT = ("meta", "audit")
ACTIONS = ("LOGIN", "LOGIN_FAILED", "LOGIN_LOCKED", "LOGOUT", "OUTCOME", "WITHDRAW", "UNMASK",
           "USER_ADD", "USER_DISABLE")
AUDIT_SCHEMA = pa.schema([
    pa.field("at", pa.timestamp("us", tz="UTC")),
    pa.field("username", pa.string()),
    pa.field("role", pa.string()),
    pa.field("action", pa.string()),
    pa.field("warning_id", pa.string()),
    pa.field("detail", pa.string()),
    pa.field("remote_addr", pa.string()),
])


def audit_path(warehouse: str) -> str:
    return tables.table_path(warehouse, *AUDIT)


class AuditLog:
    def __init__(self, warehouse: str, ttl: float = 1.0) -> None:
        self.path = audit_path(warehouse)
        self.cache = deltars.TableCache(self.path, ttl=ttl)

    def record(self, action: str, username: str | None, role: str | None = None,
               warning_id: str | None = None, detail: dict | None = None,
               remote_addr: str | None = None, at: dt.datetime | None = None) -> None:
        assert action in ACTIONS, action
        row = {"at": at or dt.datetime.now(dt.timezone.utc), "username": username, "role": role,
               "action": action, "warning_id": warning_id,
               "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None,
               "remote_addr": remote_addr}
        deltars.append(self.path, pa.Table.from_pylist([row], schema=AUDIT_SCHEMA))
        self.cache.invalidate()

    def rows(self, action: str | None = None, username: str | None = None, limit: int = 200) -> list[dict]:
        """The latest rows first (at most ``limit``), optionally of one action or user."""
        _, data = self.cache.snapshot()
        if data is None:
            return []
        if action:
            data = data.filter(pc.equal(data["action"], action))
        if username:
            data = data.filter(pc.equal(data["username"], username))
        order = pc.sort_indices(data, sort_keys=[("at", "descending")])
        return data.take(order[:limit]).to_pylist()

    def login_events(self) -> list[tuple[dt.datetime, str, str]]:
        _, data = self.cache.snapshot()
        if data is None:
            return []
        data = data.filter(pc.is_in(data["action"], pa.array(["LOGIN", "LOGIN_FAILED"])))
        return [(r["at"], r["username"], r["action"]) for r in
                data.select(["at", "username", "action"]).to_pylist() if r["username"]]
