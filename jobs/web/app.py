"""The Flask application of `hedui serve`: login, work list, one warning, outcome,
withdrawal, unmasking, audit.

Rules every route keeps:

- every page but the login needs a session; the user is read again on each request
  (a disabled account, or one whose password or role changed, is logged out at once);
- a warning is looked up through the user's scope only: outside it the answer is 404,
  the same as for a warning that does not exist (list, page, outcome, withdrawal, unmasking);
- every POST carries the session's CSRF token (``csrf_token``), else 403 before anything
  else happens;
- ID numbers are masked (first 6 + ``********`` + last 4) on every page and in the
  evidence; a role of ``serve.unmask_roles`` may show one warning's in full by a POST,
  and each time leaves an UNMASK row in the audit;
- no URL, log line or error message holds an ID number or a name (warning ids are HMACs).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from flask import Flask, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from jobs import lock
from jobs.config import Config
from jobs.gold.feedback import OUTCOMES
from jobs.masking import mask_id
from jobs.web import accounts, outcomes
from jobs.web.accounts import LoginGuard, UserStore, in_scope, scope_kind, scope_label, verify_password
from jobs.web.audit import ACTIONS, AuditLog
from jobs.web.data import OPEN_STATUSES, SORTS, SOURCE_ZH, STATUS_ZH, WAITING, Filters, WarningsData
from jobs.web.outcomes import OUTCOME_ZH, FeedbackInbox, NotWithdrawable, WaitingAlready

log = logging.getLogger(__name__)

SECRET_FILE = "serve_secret"
ROLE_ZH = {"reviewer": "核查员", "supervisor": "主管", "admin": "管理员"}


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except Exception as exc:   # the page reads it again when asked
        log.warning("warming up %s failed: %s", getattr(fn, "__name__", fn), type(exc).__name__)


def money(value) -> str:
    return "—" if value is None else f"¥{value:,.2f}"


def session_secret(cfg: Config, warehouse: str) -> str:
    """``serve.session_secret``, else the one kept in ``<warehouse>/_hedui/serve_secret``
    (created on first start, readable by its owner only)."""
    if cfg.serve.session_secret:
        return cfg.serve.session_secret
    path = Path(warehouse) / lock.LOCK_FOLDER / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip()


def create_app(cfg: Config, warehouse: str, landing: str,
               clock: Callable[[], dt.datetime] = accounts.utcnow, ttl: float = 1.0) -> Flask:
    warehouse = str(warehouse).rstrip("/")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=session_secret(cfg, warehouse),
        SESSION_COOKIE_NAME="hedui_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=cfg.serve.cookie_secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=cfg.serve.session_hours),
        MAX_CONTENT_LENGTH=64 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    tz = ZoneInfo(cfg.spark.conf.get("spark.sql.session.timeZone", "Asia/Shanghai"))
    users = UserStore(warehouse, ttl=ttl)
    audit = AuditLog(warehouse, ttl=ttl)
    guard = LoginGuard(cfg.serve.max_failed_logins, dt.timedelta(minutes=cfg.serve.lock_minutes), clock)
    guard.replay(audit.login_events())
    data = WarningsData(cfg, warehouse, ttl=ttl)
    # fold the warnings' versions into their status history now, not at the first page
    threading.Thread(target=_quietly, args=(data.timeline.changes, ""), daemon=True,
                     name="hedui-history").start()
    inbox = FeedbackInbox(cfg, landing, warehouse, ttl=ttl)
    app.extensions["hedui"] = {"users": users, "audit": audit, "guard": guard, "data": data,
                               "inbox": inbox, "cfg": cfg}

    def today() -> dt.date:
        return clock().astimezone(tz).date()

    # ------------------------------------------------------------------ helpers
    def remote() -> str | None:
        return request.remote_addr

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return session["csrf"]

    def pw_tag(user) -> str:
        return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]

    def can_unmask(user) -> bool:
        return user.role in cfg.serve.unmask_roles

    def can_withdraw(user) -> bool:
        return user.role in ("supervisor", "admin")

    def record(action: str, warning_id: str | None = None, detail: dict | None = None, user=None) -> None:
        user = user or g.user
        audit.record(action, user.username, user.role, warning_id, detail, remote(), at=clock())

    def in_scope_or_404(warning_id: str) -> dict:
        row = data.warning(g.user.scope, warning_id)
        if row is None:
            abort(404)
        return row

    @app.context_processor
    def helpers():
        return {"csrf_token": csrf_token, "mask_id": mask_id, "STATUS_ZH": STATUS_ZH, "ROLE_ZH": ROLE_ZH,
                "OUTCOME_ZH": OUTCOME_ZH, "SOURCE_ZH": SOURCE_ZH, "rule_name": rule_name,
                "category_name": lambda c: cfg.rules.categories.get(c, c or ""),
                "county_name": lambda c: cfg.geo.counties.get(c, c) if c else "未分配",
                "township_name": lambda t: cfg.geo.townships.get(t, t) if t else "未分配",
                "scope_label": lambda s: scope_label(s, cfg.geo), "money": money, "list_url": list_url,
                "local_time": lambda t: t.astimezone(tz).strftime("%Y-%m-%d %H:%M") if t else "",
                "user": g.get("user")}

    def rule_name(rule_id: str | None) -> str:
        spec = cfg.rules.rules.get(rule_id or "")
        return spec.name_zh if spec else (rule_id or "")

    def list_url(f: Filters, **changes) -> str:
        params = {"rule": f.rule, "category": f.category, "county": f.county, "township": f.township,
                  "status": f.status, "sort": f.sort if f.sort != "score" else "", "page": f.page}
        params.update(changes)
        return url_for("work_list", **{k: v for k, v in params.items() if v not in ("", None, 1)})

    # ------------------------------------------------------------------ every request
    @app.before_request
    def load_user_and_check_csrf():
        g.user = None
        if request.method == "POST":
            sent = request.form.get("csrf_token", "")
            if not sent or "csrf" not in session or not hmac.compare_digest(sent, session["csrf"]):
                abort(403)
        name = session.get("user")
        if name:
            user = users.get(name)
            if user is None or user.disabled or session.get("pw") != pw_tag(user):
                session.clear()
            else:
                g.user = user
        if request.endpoint in ("login", "static") or request.endpoint is None:
            return None
        if g.user is None:
            if request.method == "POST":
                abort(403)
            return redirect(url_for("login"))
        return None

    @app.after_request
    def security_headers(resp):
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "static":
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {403: "请求被拒绝（页面已过期或无权操作），请返回后重试。", 404: "没有这条预警，或它不在您的范围内。",
                    405: "不支持的请求。", 413: "提交的内容过长。"}
        return render_template("error.html", code=exc.code,
                               message=messages.get(exc.code, "出错了。")), exc.code

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        log.error("page error: %s", type(exc).__name__)   # no message: it may quote a value
        return render_template("error.html", code=500, message="服务器出错，请稍后再试。"), 500

    # ------------------------------------------------------------------ login
    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "GET":
            if g.user is not None:
                return redirect(url_for("work_list"))
            csrf_token()
            return render_template("login.html")
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = users.get(username)
        now = clock()
        locked = guard.locked_until(username, now) if user else None
        if locked:
            audit.record("LOGIN_LOCKED", username, user.role, None,
                         {"locked_until": locked.isoformat()}, remote(), at=now)
            minutes = max(1, int((locked - now).total_seconds() // 60) + 1)
            return render_template("login.html", error=f"登录失败次数过多，账户已锁定，请约 {minutes} 分钟后再试。"), 429
        ok = verify_password(user.password_hash if user else None, password)
        if user is None or user.disabled or not ok:
            detail = {"reason": "unknown user" if user is None else "disabled" if user.disabled else "wrong password"}
            if user is not None and not user.disabled:
                failures, until = guard.failed(username, now)
                detail["failures"] = failures
                if until:
                    detail["locked_until"] = until.isoformat()
            audit.record("LOGIN_FAILED", username if user else None, user.role if user else None, None,
                         detail, remote(), at=now)
            return render_template("login.html", error="用户名或密码错误。"), 401
        guard.succeeded(username)
        session.clear()                       # a new session: no fixation
        session.permanent = True
        session["user"], session["pw"] = user.username, pw_tag(user)
        csrf_token()
        audit.record("LOGIN", user.username, user.role, None, None, remote(), at=now)
        return redirect(url_for("work_list"))

    @app.post("/logout")
    def logout():
        record("LOGOUT")
        session.clear()
        return redirect(url_for("login"))

    # ------------------------------------------------------------------ work list
    @app.get("/")
    def work_list():
        args = request.args
        try:
            page = int(args.get("page", "1"))
        except ValueError:
            page = 1
        status = args.get("status", "")
        filters = Filters(rule=args.get("rule", ""), category=args.get("category", ""),
                          county=args.get("county", ""), township=args.get("township", ""),
                          status=status if status in (*OPEN_STATUSES, WAITING) else "",
                          sort=args.get("sort", "score") if args.get("sort") in SORTS else "score",
                          page=page)
        waiting = inbox.pending()
        result = data.work_list(g.user.scope, filters, set(waiting), cfg.serve.page_size)
        return render_template("list.html", r=result, f=filters, waiting=waiting,
                               kind=scope_kind(g.user.scope, cfg.geo), rules=cfg.rules.rules,
                               categories=cfg.rules.categories, sorts=SORTS,
                               statuses=[*OPEN_STATUSES, WAITING])

    # ------------------------------------------------------------------ one warning
    def render_warning(warning_id: str, unmasked: bool = False, status_code: int = 200, **extra):
        row = in_scope_or_404(warning_id)
        waiting = inbox.pending().get(warning_id, [])
        return render_template(
            "warning.html", w=row, unmasked=unmasked,
            person_id=row["person_id"] if unmasked else mask_id(row["person_id"]),
            evidence=data.evidence(row["evidence"], masked=not unmasked),
            history=data.history(warning_id), earlier=data.earlier_outcomes(warning_id),
            waiting=waiting, can_unmask=can_unmask(g.user), can_withdraw=can_withdraw(g.user),
            can_record=row["status"] in OPEN_STATUSES and not waiting,
            today=today().isoformat(), **extra), status_code

    @app.get("/warnings/<warning_id>")
    def warning_page(warning_id: str):
        return render_warning(warning_id)

    @app.post("/warnings/<warning_id>/unmask")
    def unmask(warning_id: str):
        in_scope_or_404(warning_id)
        if not can_unmask(g.user):
            abort(403)
        record("UNMASK", warning_id)
        return render_warning(warning_id, unmasked=True)

    @app.post("/warnings/<warning_id>/outcome")
    def record_outcome(warning_id: str):
        row = in_scope_or_404(warning_id)
        outcome = request.form.get("outcome", "")
        note = " ".join(request.form.get("note", "").split())[:500]
        errors = []
        if outcome not in OUTCOMES:
            errors.append("请选择核查结论（属实或不属实）。")
        try:
            checked = dt.date.fromisoformat(request.form.get("verified_at", ""))
            if checked > today():
                errors.append("核查日期不能晚于今天。")
        except ValueError:
            checked = None
            errors.append("请填写核查日期（YYYY-MM-DD）。")
        if outcome == "DISMISSED" and not note:
            errors.append("结论为不属实时请填写核查说明。")
        if row["status"] not in OPEN_STATUSES:
            errors.append("这条预警已不是待核查状态。")
        if errors:
            return render_warning(warning_id, status_code=400, errors=errors, form=request.form)
        try:
            item = inbox.write(warning_id, outcome, note, g.user.username, checked, today())
        except WaitingAlready:
            return render_warning(warning_id, status_code=409, errors=["已有一条待生效的核查结论；如需更改，请主管先撤回。"])
        try:
            record("OUTCOME", warning_id, {"outcome": outcome, "feedback_id": item.feedback_id,
                                           "batch": item.batch, "verified_at": item.verified_at})
        except Exception:
            inbox.remove(item)      # no outcome without its audit row
            raise
        flash(f"已记录核查结论：{OUTCOME_ZH[outcome]}。下次运行（hedui run）后生效。")
        return redirect(url_for("warning_page", warning_id=warning_id))

    @app.post("/warnings/<warning_id>/withdraw")
    def withdraw(warning_id: str):
        in_scope_or_404(warning_id)
        if not can_withdraw(g.user):
            abort(403)
        feedback_id = request.form.get("feedback_id", "")
        item = next((p for p in inbox.pending().get(warning_id, []) if p.feedback_id == feedback_id), None)
        if item is None:
            abort(404)
        try:
            renamed = inbox.withdraw(item)
        except NotWithdrawable as exc:
            reasons = {"a run is in progress": "正在运行 hedui run，请运行结束后再撤回。",
                       "already loaded": "这条结论已被运行载入，无法撤回。"}
            return render_warning(warning_id, status_code=409,
                                  errors=[reasons.get(str(exc), "乡镇上报的文件不能在页面上撤回。")])
        record("WITHDRAW", warning_id, {"feedback_id": item.feedback_id, "batch": item.batch,
                                        "outcome": item.outcome, "file": renamed})
        flash("已撤回待生效的核查结论。")
        return redirect(url_for("warning_page", warning_id=warning_id))

    # ------------------------------------------------------------------ audit
    @app.get("/audit")
    def audit_page():
        if g.user.role != "admin":
            abort(403)
        action = request.args.get("action", "")
        rows = audit.rows(action=action or None, username=request.args.get("user") or None)
        return render_template("audit.html", rows=rows, action=action,
                               actions=ACTIONS)

    return app
