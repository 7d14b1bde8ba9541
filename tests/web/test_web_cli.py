"""`hedui user add|list|disable` and `hedui serve` on the command line (subprocesses: the
commands leave through os._exit, see jobs/spark/workarounds.py)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from deltalake import DeltaTable

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-long-enough-password"


def hedui(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "JAVA_HOME": "/nonexistent-java"}     # no Spark may start
    return subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def place(tmp_path):
    (tmp_path / "wh").mkdir()
    (tmp_path / "landing").mkdir()
    (tmp_path / "a_file").write_text("x")
    return tmp_path


def test_user_add_list_disable(place):
    add = hedui("user", "add", "--warehouse", "wh", "--name", "li.ming", "--role", "supervisor",
                "--scope", "532923", "--display-name", "李明", "--password-stdin", cwd=place, stdin=SECRET + "\n")
    assert add.returncode == 0, add.stderr
    assert "li.ming" in add.stdout and SECRET not in add.stdout + add.stderr
    again = hedui("user", "add", "--warehouse", "wh", "--name", "li.ming", "--scope", "532923",
                  "--password-stdin", cwd=place, stdin=SECRET + "\n")
    assert again.returncode == 2 and "exists" in again.stderr
    listed = hedui("user", "list", "--warehouse", "wh", cwd=place)
    assert listed.returncode == 0 and "li.ming" in listed.stdout and "supervisor" in listed.stdout
    assert "active" in listed.stdout and "祥云县" in listed.stdout
    off = hedui("user", "disable", "--warehouse", "wh", "--name", "li.ming", cwd=place)
    assert off.returncode == 0, off.stderr
    assert "disabled" in hedui("user", "list", "--warehouse", "wh", cwd=place).stdout
    assert hedui("user", "disable", "--warehouse", "wh", "--name", "nobody", cwd=place).returncode == 2
    # stored: an argon2 hash, never the password; every change a new row; audited
    users = DeltaTable(str(place / "wh" / "meta" / "users")).to_pyarrow_table().to_pylist()
    assert [u["disabled"] for u in sorted(users, key=lambda u: u["changed_at"])] == [False, True]
    assert all(u["password_hash"].startswith("$argon2id$") and SECRET not in u["password_hash"] for u in users)
    actions = [r["action"] for r in DeltaTable(str(place / "wh" / "meta" / "audit")).to_pyarrow_table().to_pylist()]
    assert sorted(actions) == ["USER_ADD", "USER_DISABLE"]
    assert not any(SECRET.encode() in p.read_bytes() for p in (place / "wh").rglob("*") if p.is_file())


@pytest.mark.parametrize("args, stdin, message", [
    (["user", "add", "--warehouse", "wh", "--name", "x1", "--scope", "999999"], SECRET, "--scope 999999"),
    (["user", "add", "--warehouse", "wh", "--name", "x1", "--scope", "prefecture"], "short", "at least 10"),
    (["user", "add", "--warehouse", "wh", "--name", "532901199001011234", "--scope", "prefecture"], SECRET, "--name"),
    (["user", "add", "--warehouse", "missing", "--name", "x1", "--scope", "prefecture"], SECRET, "--warehouse missing: no such warehouse"),
    (["user", "list", "--warehouse", "a_file"], None, "is a file"),
    (["user", "add", "--warehouse", "hdfs://nn/wh", "--name", "x1", "--scope", "prefecture"], SECRET, "local warehouse"),
    (["serve", "--warehouse", "missing", "--landing", "landing"], None, "--warehouse missing: no such warehouse"),
    (["serve", "--warehouse", "wh", "--landing", "missing"], None, "--landing missing: no such folder"),
])
def test_misuse_exits_2_with_one_line(place, args, stdin, message):
    if args[:2] == ["user", "add"]:
        args = [*args, "--password-stdin"]
    proc = hedui(*args, cwd=place, stdin=(stdin + "\n") if stdin else None)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("hedui: ") and message in lines[0], proc.stderr
    assert not (place / "wh" / "meta").exists()


def test_the_password_prompt_does_not_echo(place):
    proc = hedui("user", "add", "--warehouse", "wh", "--name", "wang", "--scope", "532901003",
                 cwd=place, stdin=f"{SECRET}\n{SECRET}\n")
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr and "Password" in proc.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_answers_and_stops(place):
    port = free_port()
    env = {**os.environ, "JAVA_HOME": "/nonexistent-java"}
    proc = subprocess.Popen([sys.executable, "-m", "jobs.cli", "serve", "--warehouse", "wh", "--landing", "landing",
                             "--port", str(port)], cwd=place, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as resp:
                    body = resp.read().decode()
                    cookie = resp.headers.get("Set-Cookie", "")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "timeout"
                time.sleep(0.3)
        assert "登录" in body and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        # the session key was generated once, readable by its owner only; the lock never taken
        secret = place / "wh" / "_hedui" / "serve_secret"
        assert secret.exists() and oct(secret.stat().st_mode & 0o777) == "0o600"
        assert not (place / "wh" / "_hedui" / "lock").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "no accounts yet" in proc.stderr.read()


@pytest.mark.parametrize("text, key", [
    ("serve:\n  max_failed_logins: 0\n", "serve.max_failed_logins"),
    ("serve:\n  unmask_roles: [reviewer, janitor]\n", "serve.unmask_roles"),
    ("serve:\n  session_secret: short\n", "serve.session_secret"),
    ("serve:\n  port: 70000\n", "serve.port"),
    ("serve:\n  lock_minute: 5\n", "serve.lock_minute"),
])
def test_serve_settings_are_validated(tmp_path, text, key):
    from jobs.config import load_config
    from jobs.errors import ConfigError
    extra = tmp_path / "extra.yaml"
    extra.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config("local", extra)


def test_a_bad_serve_setting_stops_the_command_with_exit_2(place):
    (place / "extra.yaml").write_text("serve:\n  page_size: 0\n", encoding="utf-8")
    proc = hedui("serve", "--warehouse", "wh", "--landing", "landing", "--conf", "extra.yaml", cwd=place)
    assert proc.returncode == 2 and "serve.page_size" in proc.stderr
