"""The review page in a real browser (Playwright driving Debian's chromium): a township
reviewer logs in, filters, opens a warning, sees its evidence, records DISMISSED with a
note and sees it waiting; `hedui run` applies it and the page shows DISMISSED.

Runs on a copy of the shared end-to-end warehouse (tests/conftest.py ``first_run``) and its
landing zone. Screenshots at desktop (1280) and phone (390) width go to the test's folder,
and to ``$HEDUI_SCREENSHOTS`` when set (docs/img/serve.png comes from there).
"""
from __future__ import annotations

import os
import shutil
import threading
from collections import Counter
from pathlib import Path

import pytest
from deltalake import DeltaTable

from jobs.pipeline import run
from tests.e2e.params import E2E_DATE
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: the browser test drives Debian's chromium "
                    "(bash scripts/setup.sh installs it; nothing is downloaded by Playwright)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


@pytest.fixture
def served(cfg, landing, first_run, tmp_path):
    """A copy of the first run's warehouse and landing zone, a township reviewer, and the
    page on 127.0.0.1 (a free port) in a thread."""
    from werkzeug.serving import make_server

    from jobs.web import accounts
    from jobs.web.app import create_app

    wh, zone = tmp_path / "warehouse", tmp_path / "landing"
    shutil.copytree(first_run[0], wh)
    shutil.copytree(landing, zone)
    rows = DeltaTable(str(wh / "gold" / "warnings")).to_pyarrow_table().to_pylist()
    open_rows = [r for r in rows if r["status"] in ("NEW", "OPEN") and r["township_code"]]
    rules_by_town = {}
    for r in open_rows:
        rules_by_town.setdefault(r["township_code"], set()).add(r["rule_id"])
    town = max(rules_by_town, key=lambda t: (len(rules_by_town[t]), t))
    assert len(rules_by_town[town]) >= 2, "the generated warehouse has a township with warnings of two rules"
    accounts.UserStore(str(wh)).save(accounts.new_user(
        "xiangzhen", "reviewer", town, accounts.hash_password(PASSWORD, cfg.serve.min_password_length),
        "乡镇核查员", "tests"))
    app = create_app(cfg, str(wh), str(zone), ttl=0.2)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "wh": wh, "zone": zone, "town": town,
               "rows": [r for r in open_rows if r["township_code"] == town]}
    finally:
        server.shutdown()
        thread.join(timeout=10)


def shots(tmp_path: Path, page, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("HEDUI_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def log_in(page, url: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=username]", "xiangzhen")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("table.warnings")


def test_a_township_reviewer_dismisses_a_warning_and_the_next_run_applies_it(spark, cfg, served, browser, tmp_path):
    url, rows = served["url"], served["rows"]
    rule = Counter(r["rule_id"] for r in rows).most_common(1)[0][0]
    target = sorted((r for r in rows if r["rule_id"] == rule), key=lambda r: r["warning_id"])[0]
    rule_zh = cfg.rules.rules[rule].name_zh

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, url)
    assert "乡镇核查员" in page.inner_text("header")
    listed = page.locator("table.warnings tbody tr")
    assert listed.count() == len(rows)
    shots(tmp_path, page, "serve-list-desktop")

    # filter by the rule: the select submits by itself
    with page.expect_navigation():
        page.select_option("select[name=rule]", rule)
    assert f"rule={rule}" in page.url
    names = page.locator("table.warnings tbody td[data-label=规则]").all_inner_texts()
    assert names and set(names) == {rule_zh}
    assert len(names) == sum(1 for r in rows if r["rule_id"] == rule)

    # the warning and its evidence
    page.click(f'a[href="/warnings/{target["warning_id"]}"]')
    page.wait_for_selector("section.evidence")
    assert rule_zh in page.inner_text("h1")
    evidence = page.inner_text("section.evidence")
    import json
    from jobs.web.data import SOURCE_ZH
    items = json.loads(target["evidence"])
    for item in items:
        assert SOURCE_ZH.get(item["source"], item["source"]) in evidence
    assert target["person_id"] not in page.content()      # masked for a reviewer
    assert target["person_id"][:6] + "********" + target["person_id"][-4:] in page.inner_text("#person-id")

    # record DISMISSED with a note
    page.check("input[name=outcome][value=DISMISSED]")
    page.fill("textarea[name=note]", "入户核查：情况已变化，预警不属实")
    with page.expect_navigation():
        page.click("section.outcome button[type=submit]")
    status = page.inner_text("#status")
    assert "待生效" in status and "不属实" in status
    assert "入户核查" in page.inner_text("section.waiting-box")
    shots(tmp_path, page, "serve-warning-desktop")

    # the same at phone width
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    log_in(phone, url)
    shots(tmp_path, phone, "serve-list-phone")
    phone.goto(f"{url}/warnings/{target['warning_id']}")
    assert "待生效" in phone.inner_text("#status")
    shots(tmp_path, phone, "serve-warning-phone")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the phone page scrolls sideways ({width}px)"
    phone.close()

    # the next run loads the file and applies it as it applies a township's CSV
    result = run(spark, cfg, str(served["zone"]), str(served["wh"]), E2E_DATE, "web-run-2")
    assert result.exit_code == 0, result.failed_files
    page.reload()
    status = page.inner_text("#status")
    assert "不属实" in status and "待生效" not in status
    history = page.inner_text("section.history")
    assert "入户核查" in history and "web-run-2" in history
    after = {r["warning_id"]: r["status"] for r in
             DeltaTable(str(served["wh"] / "gold" / "warnings")).to_pyarrow_table().to_pylist()}
    assert after[target["warning_id"]] == "DISMISSED"
    # and it has left the work list
    page.goto(url + "/")
    assert f'/warnings/{target["warning_id"]}"' not in page.content()
    page.close()
