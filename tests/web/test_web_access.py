"""The review page's rules of access: scope (list, warning, outcome, withdrawal, unmasking,
by any URL), CSRF, lockout, disabled accounts, masking, and an audit row per action."""
from __future__ import annotations

import re

import pytest
from deltalake import DeltaTable

from jobs.masking import mask_id
from tests.web.conftest import DALI, PASSWORD, XIANGYUN, csrf_of, login, token

WARNING_LINK = re.compile(r'href="/warnings/([^"/]+)"')


def listed(client, query: str = "") -> set[str]:
    """Every warning id of every page of the work list."""
    ids, page = set(), 1
    while True:
        html = client.get(f"/?page={page}{'&' + query if query else ''}").get_data(as_text=True)
        found = set(WARNING_LINK.findall(html))
        if not found or found <= ids:
            return ids
        ids |= found
        page += 1


def open_ids(wh, pred) -> set[str]:
    return {w["warning_id"] for w in wh.warnings if w["status"] in ("NEW", "OPEN") and pred(w)}


def audit_rows(wh, **match) -> list[dict]:
    rows = DeltaTable(f"{wh.path}/meta/audit").to_pyarrow_table().to_pylist()
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


# ---------------------------------------------------------------------------------
# Login and sessions
# ---------------------------------------------------------------------------------
def test_every_page_needs_a_login(app, web_wh):
    client = app.test_client()
    wid = web_wh.warnings[0]["warning_id"]
    for url in ("/", f"/warnings/{wid}", "/audit", "/?status=WAITING"):
        resp = client.get(url)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/login"), url
    for url in (f"/warnings/{wid}/outcome", f"/warnings/{wid}/unmask", f"/warnings/{wid}/withdraw", "/logout"):
        assert client.post(url, data={"csrf_token": "x"}).status_code == 403, url


def test_session_cookie_is_signed_httponly_samesite(app):
    client = app.test_client()
    resp = login(client, "dali")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert PASSWORD not in cookie
    # a forged cookie (same payload, another signature) is no session
    forged = app.test_client()
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    forged.set_cookie("hedui_session", value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
    assert forged.get("/").status_code == 302


def test_wrong_password_and_unknown_user_are_refused_alike(app, web_wh):
    a = login(app.test_client(), "dali", "wrong-password-1")
    b = login(app.test_client(), "nobody", "wrong-password-1")
    assert a.status_code == b.status_code == 401
    assert "用户名或密码错误" in a.get_data(as_text=True) and "用户名或密码错误" in b.get_data(as_text=True)


def test_disabled_account_cannot_log_in(app):
    resp = login(app.test_client(), "gone")
    assert resp.status_code == 401


def test_disabling_ends_open_sessions(app, web_wh, as_user, cfg):
    import dataclasses

    from jobs.web.accounts import UserStore, hash_password, new_user, utcnow
    store = UserStore(web_wh.path)
    store.save(new_user("temp", "reviewer", DALI, hash_password(PASSWORD, 10), None, "tests"))
    client = as_user("temp")
    assert client.get("/").status_code == 200
    store.save(dataclasses.replace(store.get("temp"), disabled=True, changed_at=utcnow()))
    assert client.get("/").status_code == 302


# ---------------------------------------------------------------------------------
# Scope: nothing of another county, by any URL
# ---------------------------------------------------------------------------------
def test_county_reviewer_lists_exactly_the_open_warnings_of_the_county(as_user, web_wh):
    client = as_user("dali")
    assert listed(client) == open_ids(web_wh, lambda w: w["county_code"] == DALI)
    # filters naming another county or its townships give nothing
    other_town = next(w["township_code"] for w in web_wh.warnings if w["county_code"] == XIANGYUN)
    assert listed(client, f"county={XIANGYUN}") == set()
    assert listed(client, f"township={other_town}") == set()


def test_township_reviewer_lists_exactly_the_township(as_user, web_wh):
    got = listed(as_user("town"))
    assert got and got == open_ids(web_wh, lambda w: w["township_code"] == web_wh.township)


def test_prefecture_supervisor_lists_every_open_warning_also_without_county(as_user, web_wh):
    got = listed(as_user("boss"))
    assert got == open_ids(web_wh, lambda w: True)
    assert any(w["county_code"] is None for w in web_wh.warnings if w["warning_id"] in got)


def test_no_warning_outside_the_scope_by_any_url(as_user, web_wh, zone):
    client = as_user("dali_sup")      # a supervisor: may unmask and withdraw, in 大理市 only
    csrf = token(client)
    outside = [w for w in web_wh.warnings if w["county_code"] != DALI]
    inside = [w for w in web_wh.warnings if w["county_code"] == DALI]
    assert outside and inside
    for w in outside:
        wid = w["warning_id"]
        assert client.get(f"/warnings/{wid}").status_code == 404
        body = {"csrf_token": csrf, "outcome": "DISMISSED", "note": "x", "verified_at": "2026-10-16",
                "feedback_id": "FB1"}
        for action in ("outcome", "unmask", "withdraw"):
            resp = client.post(f"/warnings/{wid}/{action}", data=body)
            assert resp.status_code == 404, (action, resp.status_code)
            assert w["person_id"] not in resp.get_data(as_text=True)
    assert not (zone / "feedback").exists() or not any((zone / "feedback").rglob("*.csv"))
    assert not audit_rows(web_wh, username="dali_sup", action="UNMASK")
    # every warning of its own county opens, whatever its status
    for w in inside:
        assert client.get(f"/warnings/{w['warning_id']}").status_code == 200
    # no such warning: the same 404
    assert client.get("/warnings/no-such-warning").status_code == 404
    assert client.get("/warnings/../audit").status_code in (403, 404)


# ---------------------------------------------------------------------------------
# CSRF
# ---------------------------------------------------------------------------------
def test_missing_or_wrong_csrf_is_refused_and_changes_nothing(app, as_user, web_wh, zone):
    client = app.test_client()
    client.get("/login")
    for data in ({"username": "dali", "password": PASSWORD},
                 {"username": "dali", "password": PASSWORD, "csrf_token": "forged"}):
        assert client.post("/login", data=data).status_code == 403
    assert client.get("/").status_code == 302        # not logged in

    client = as_user("boss")
    wid = sorted(open_ids(web_wh, lambda w: w["county_code"] == DALI))[0]
    form = {"outcome": "CONFIRMED", "note": "n", "verified_at": "2026-10-16"}
    for extra in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
        assert client.post(f"/warnings/{wid}/outcome", data={**form, **extra}).status_code == 403
        assert client.post(f"/warnings/{wid}/unmask", data=extra).status_code == 403
        assert client.post(f"/warnings/{wid}/withdraw", data={"feedback_id": "x", **extra}).status_code == 403
        assert client.post("/logout", data=extra).status_code == 403
    assert not (zone / "feedback").exists()
    # another session's token is wrong too
    other = as_user("admin")
    assert client.post(f"/warnings/{wid}/outcome", data={**form, "csrf_token": token(other)}).status_code == 403
    assert client.get("/").status_code == 200        # still logged in


# ---------------------------------------------------------------------------------
# Lockout
# ---------------------------------------------------------------------------------
def test_repeated_wrong_passwords_lock_the_account_until_the_lock_expires(cfg, app, clock, web_wh, zone):
    from jobs.web.accounts import UserStore, hash_password, new_user
    from jobs.web.app import create_app
    UserStore(web_wh.path).save(new_user("locky", "reviewer", DALI, hash_password(PASSWORD, 10), None, "tests"))
    n = cfg.serve.max_failed_logins
    for _ in range(n):
        assert login(app.test_client(), "locky", "not-the-password").status_code == 401
    # locked: the right password is refused, and stays refused until the lock expires
    for _ in range(3):
        resp = login(app.test_client(), "locky")
        assert resp.status_code == 429
        assert "锁定" in resp.get_data(as_text=True)
        clock.advance(minutes=cfg.serve.lock_minutes / 4)
    # a restarted server (state replayed from the audit) still refuses
    restarted = create_app(cfg, web_wh.path, str(zone), clock=clock, ttl=0)
    assert login(restarted.test_client(), "locky").status_code == 429
    clock.advance(minutes=cfg.serve.lock_minutes)
    assert login(app.test_client(), "locky").status_code == 302
    assert login(restarted.test_client(), "locky").status_code == 302
    failed = audit_rows(web_wh, username="locky", action="LOGIN_FAILED")
    assert len(failed) == n and '"locked_until"' in sorted(r["detail"] for r in failed)[-1]
    assert len(audit_rows(web_wh, username="locky", action="LOGIN_LOCKED")) == 4
    assert len(audit_rows(web_wh, username="locky", action="LOGIN")) == 2


# ---------------------------------------------------------------------------------
# Masking
# ---------------------------------------------------------------------------------
def pages_of(client, wh, scope_pred) -> list[str]:
    bodies = []
    for query in ("", "status=WAITING", "status=NEW", "sort=amount", "page=2", "page=999"):
        bodies.append(client.get(f"/?{query}").get_data(as_text=True))
    for w in wh.warnings:
        resp = client.get(f"/warnings/{w['warning_id']}")
        assert resp.status_code == (200 if scope_pred(w) else 404)
        bodies.append(resp.get_data(as_text=True))
    bodies.append(client.get("/audit").get_data(as_text=True))
    bodies.append(client.get("/login").get_data(as_text=True))
    return bodies


@pytest.mark.parametrize("name", ["dali", "town", "xiangyun"])
def test_no_full_id_number_in_any_response_for_reviewers(as_user, web_wh, name):
    from tests.web.conftest import ACCOUNTS
    role, scope = ACCOUNTS[name]
    scope = scope or web_wh.township
    client = as_user(name)
    pred = (lambda w: w["county_code"] == scope) if len(scope) == 6 else (lambda w: w["township_code"] == scope)
    bodies = pages_of(client, web_wh, pred)
    # a reviewer may not unmask
    some = next(w for w in web_wh.warnings if pred(w))
    resp = client.post(f"/warnings/{some['warning_id']}/unmask", data={"csrf_token": token(client)})
    assert resp.status_code == 403
    bodies.append(resp.get_data(as_text=True))
    text = "\n".join(bodies)
    assert mask_id(some["person_id"]) in text          # masked ones are there
    for pid in web_wh.person_ids:
        assert pid not in text, "a full ID number in a reviewer's page"
        assert pid[:-1] not in text


def test_supervisor_unmasks_one_warning_and_it_is_audited(as_user, web_wh):
    client = as_user("boss")
    w = next(w for w in web_wh.warnings if w["rule_id"] == "CHILD_UNSUPPORTED")   # the father's ID in the evidence
    page = client.get(f"/warnings/{w['warning_id']}").get_data(as_text=True)
    assert w["person_id"] not in page and "显示完整号码" in page
    assert not any(pid in page for pid in web_wh.person_ids)
    before = len(audit_rows(web_wh, username="boss", action="UNMASK"))
    resp = client.post(f"/warnings/{w['warning_id']}/unmask", data={"csrf_token": csrf_of(page)})
    assert resp.status_code == 200 and w["person_id"] in resp.get_data(as_text=True)
    rows = audit_rows(web_wh, username="boss", action="UNMASK")
    assert len(rows) == before + 1 and rows[-1]["warning_id"] == w["warning_id"]
    # the next page is masked again
    assert w["person_id"] not in client.get(f"/warnings/{w['warning_id']}").get_data(as_text=True)


# ---------------------------------------------------------------------------------
# Audit page
# ---------------------------------------------------------------------------------
def test_only_an_admin_reads_the_audit(as_user):
    for name in ("dali", "boss"):
        assert as_user(name).get("/audit").status_code == 403
    page = as_user("admin").get("/audit").get_data(as_text=True)
    assert "LOGIN" in page
