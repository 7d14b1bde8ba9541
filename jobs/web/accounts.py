"""Accounts of the review page: ``<warehouse>/meta/users``, scopes, passwords, lockout.

- **Users** are rows of the Delta table ``meta/users``, written only by appending: adding,
  disabling or replacing an account appends its new state, and the latest row per user
  name is the account (earlier rows are its history). Columns: ``username``,
  ``display_name``, ``role`` (reviewer, supervisor, admin), ``scope``, ``password_hash``
  (argon2id, never the password), ``disabled``, ``changed_at`` (UTC), ``changed_by``.
- **Scope**: ``prefecture`` (all of Dali, also warnings without a county), a county code
  (``532901``) or a township code (``532901003``): a user sees and acts on the warnings
  of that place only.
- **Lockout** (:class:`LoginGuard`): ``serve.max_failed_logins`` wrong passwords in a row
  lock the account for ``serve.lock_minutes``; meanwhile even the right password is
  refused. The state is rebuilt from the audit table when the server starts.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from typing import Callable

import pyarrow as pa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from jobs import tables
from jobs.config import ROLES, Geo
from jobs.errors import UsageError
from jobs.web import deltars

USERS = ("meta", "users")
PREFECTURE = "prefecture"
USERS_SCHEMA = pa.schema([
    pa.field("username", pa.string()),
    pa.field("display_name", pa.string()),
    pa.field("role", pa.string()),
    pa.field("scope", pa.string()),
    pa.field("password_hash", pa.string()),
    pa.field("disabled", pa.bool_()),
    pa.field("changed_at", pa.timestamp("us", tz="UTC")),
    pa.field("changed_by", pa.string()),
])
# letters, digits and . _ -, at least one letter: an ID number can never be a user name
_USERNAME = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9_.-]{2,32}$")
_HASHER = PasswordHasher()   # argon2id with the library's recommended parameters


def users_path(warehouse: str) -> str:
    return tables.table_path(warehouse, *USERS)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# ---------------------------------------------------------------------------------
# Scope
# ---------------------------------------------------------------------------------
def parse_scope(text: str, geo: Geo) -> str:
    """``prefecture``, a county code or a township code of Dali (else UsageError)."""
    value = (text or "").strip()
    if value.lower() == PREFECTURE:
        return PREFECTURE
    if value in geo.counties or value in geo.townships:
        return value
    raise UsageError(f"--scope {value}: expected 'prefecture', one of the {len(geo.counties)} county "
                     f"codes (e.g. {min(geo.counties)}) or a township code (e.g. {min(geo.townships)})")


def scope_kind(scope: str, geo: Geo) -> str:
    if scope == PREFECTURE:
        return "prefecture"
    return "county" if scope in geo.counties else "township"


def scope_label(scope: str, geo: Geo) -> str:
    if scope == PREFECTURE:
        return "大理州（全州）"
    if scope in geo.counties:
        return geo.counties[scope]
    county = geo.township_county.get(scope)
    return f"{geo.townships.get(scope, scope)}（{geo.counties.get(county, county or '')}）"


def in_scope(scope: str, geo: Geo, county_code: str | None, township_code: str | None) -> bool:
    kind = scope_kind(scope, geo)
    if kind == "prefecture":
        return True
    if kind == "county":
        return county_code == scope
    return township_code == scope


# ---------------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    scope: str
    password_hash: str
    disabled: bool
    changed_at: dt.datetime | None = None
    changed_by: str | None = None


def check_username(username: str) -> str:
    if not _USERNAME.match(username or ""):
        raise UsageError("--name: 2 to 32 letters, digits, '.', '_' or '-', at least one letter")
    return username


def hash_password(password: str, min_length: int) -> str:
    if len(password) < min_length:
        raise UsageError(f"the password must have at least {min_length} characters")
    return _HASHER.hash(password)


_DUMMY_HASH = _HASHER.hash("hedui-no-such-user")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown user costs the same time (a dummy hash)."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class UserStore:
    """The accounts of ``meta/users`` (latest row per name), read through a version cache."""

    def __init__(self, warehouse: str, ttl: float = 1.0) -> None:
        self.path = users_path(warehouse)
        self.cache = deltars.TableCache(self.path, ttl=ttl)
        self._version = None
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()

    def all(self) -> dict[str, User]:
        version, data = self.cache.snapshot()
        with self._lock:
            if version != self._version:
                users: dict[str, User] = {}
                rows = data.to_pylist() if data is not None else []
                for row in sorted(rows, key=lambda r: r["changed_at"]):   # the latest row wins
                    users[row["username"]] = User(**{k: row.get(k) for k in User.__dataclass_fields__})
                self._users, self._version = users, version
            return dict(self._users)

    def get(self, username: str) -> User | None:
        return self.all().get(username)

    def save(self, user: User) -> None:
        row = {**user.__dict__, "changed_at": user.changed_at or utcnow()}
        deltars.append(self.path, pa.Table.from_pylist([row], schema=USERS_SCHEMA))
        self.cache.invalidate()


def new_user(username: str, role: str, scope: str, password_hash: str, display_name: str | None,
             changed_by: str) -> User:
    if role not in ROLES:
        raise UsageError(f"--role {role}: expected one of {', '.join(ROLES)}")
    return User(username=check_username(username), display_name=(display_name or username).strip(),
                role=role, scope=scope, password_hash=password_hash, disabled=False,
                changed_at=utcnow(), changed_by=changed_by)


# ---------------------------------------------------------------------------------
# Lockout
# ---------------------------------------------------------------------------------
@dataclass
class _Failures:
    count: int = 0
    locked_until: dt.datetime | None = None


class LoginGuard:
    """Counts wrong passwords per user; ``max_failed`` in a row lock the account for
    ``lock_for``. Replaying the audit's LOGIN / LOGIN_FAILED rows in time order
    (:meth:`replay`) gives the state a server had when it stopped."""

    def __init__(self, max_failed: int, lock_for: dt.timedelta,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.max_failed, self.lock_for, self.clock = max_failed, lock_for, clock
        self._state: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def locked_until(self, username: str, now: dt.datetime | None = None) -> dt.datetime | None:
        now = now or self.clock()
        with self._lock:
            st = self._state.get(username)
            if st and st.locked_until and now < st.locked_until:
                return st.locked_until
            return None

    def failed(self, username: str, now: dt.datetime | None = None) -> tuple[int, dt.datetime | None]:
        """Record a wrong password; returns (failures in a row, locked until or None)."""
        now = now or self.clock()
        with self._lock:
            st = self._state.setdefault(username, _Failures())
            if st.locked_until and now >= st.locked_until:   # the lock has expired: count afresh
                st.count, st.locked_until = 0, None
            st.count += 1
            if st.count >= self.max_failed:
                st.locked_until = now + self.lock_for
            return st.count, st.locked_until

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._state.pop(username, None)

    def replay(self, events: list[tuple[dt.datetime, str, str]]) -> None:
        """``(at, username, action)`` rows of the audit, in any order."""
        for at, username, action in sorted(events, key=lambda e: e[0]):
            if action == "LOGIN":
                self.succeeded(username)
            elif action == "LOGIN_FAILED":
                self.failed(username, at)
