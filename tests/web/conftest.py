"""Fixtures of the review page's tests: a copy of the hand-built warehouse
(tests/warehouse_fixture.py, built once per session with Spark) with accounts of every
role and scope, a clock the tests move, and a logged-in Flask test client."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass

import pytest

from jobs.web import accounts
from tests.warehouse_fixture import shared_demo_warehouse

PASSWORD = "correct-horse-42"
DALI, XIANGYUN = "532901", "532923"   # 大理市, 祥云县: both have warnings in the demo warehouse
ACCOUNTS = {  # name: (role, scope)
    "admin": ("admin", "prefecture"),
    "boss": ("supervisor", "prefecture"),
    "dali": ("reviewer", DALI),
    "dali_sup": ("supervisor", DALI),
    "xiangyun": ("reviewer", XIANGYUN),
    "town": ("reviewer", None),          # a township of 大理市 with warnings (set below)
    "gone": ("reviewer", DALI),          # disabled after it is created
}


@dataclass
class WebWarehouse:
    path: str
    person_ids: list[str]
    warnings: list[dict]          # every row of gold/warnings (latest version)
    township: str                 # the scope of "town"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += dt.timedelta(**kwargs)


@pytest.fixture(scope="session")
def web_wh(spark, cfg, tmp_path_factory) -> WebWarehouse:
    from deltalake import DeltaTable

    demo = shared_demo_warehouse(spark, cfg, tmp_path_factory)
    path = str(tmp_path_factory.mktemp("web") / "warehouse")
    shutil.copytree(demo.path, path)    # the demo warehouse is shared read-only
    rows = DeltaTable(f"{path}/gold/warnings").to_pyarrow_table().to_pylist()
    towns = sorted(r["township_code"] for r in rows if r["county_code"] == DALI and r["status"] in ("NEW", "OPEN"))
    township = max(set(towns), key=towns.count)
    store = accounts.UserStore(path)
    for name, (role, scope) in ACCOUNTS.items():
        store.save(accounts.new_user(name, role, scope or township,
                                     accounts.hash_password(PASSWORD, cfg.serve.min_password_length),
                                     None, "tests"))
    import dataclasses
    store.save(dataclasses.replace(store.get("gone"), disabled=True, changed_at=accounts.utcnow()))
    return WebWarehouse(path=path, person_ids=demo.person_ids, warnings=rows, township=township)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def zone(tmp_path):
    """An empty landing zone of its own per test (outcomes are written into it)."""
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def app(cfg, web_wh, zone, clock):
    from jobs.web.app import create_app

    application = create_app(cfg, web_wh.path, str(zone), clock=clock, ttl=0)
    application.testing = False          # errors as the users see them (no exceptions raised)
    return application


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client, name: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"username": name, "password": password,
                                       "csrf_token": csrf_of(page.get_data(as_text=True))})


@pytest.fixture
def as_user(app):
    """``as_user(name)``: a test client logged in as that account."""
    def make(name: str):
        client = app.test_client()
        resp = login(client, name)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/"), resp.status_code
        return client
    return make


def token(client) -> str:
    """The session's CSRF token, as any page of the session shows it."""
    return csrf_of(client.get("/").get_data(as_text=True))
