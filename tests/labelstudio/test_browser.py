"""The labelling page really shows a pushed task: headline, every topic, the prediction checked.

Drives headless Chromium (Debian ``chromium``) through Playwright and saves the screenshot used
in docs/labelstudio.md.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from activelabel.integrations.labelstudio import PushItem, ensure_project, push_batch

from .conftest import REPO, skip_or_fail

pytestmark = [pytest.mark.labelstudio, pytest.mark.browser]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOT = REPO / "docs" / "img" / "labelstudio-task.png"


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser_page():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install playwright)")
    exe = chromium_path()
    if exe is None:
        skip_or_fail("chromium is not installed (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="activelabel-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=exe,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
            )
            try:
                yield context.new_page()
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_labelling_page_shows_headline_topics_and_prediction(
    client, ls_server, topics, topic_names, browser_page
):
    pid = ensure_project(client, "activelabel browser check", topics, "Pick the topic.")
    headline = "Flood waters rise as storm batters the coast"
    predicted = "disaster, accident and emergency incident"
    assert predicted in topic_names
    batch = [
        PushItem(1, headline, 0, predicted, 0.81, "active"),
        PushItem(2, "Central bank raises interest rates again", 0, topic_names[4], 0.6),
    ]
    task_id = push_batch(client, pid, batch)[1]

    page = browser_page
    page.goto(f"{ls_server.url}/user/login/")
    page.fill("input[name=email]", ls_server.username)
    page.fill("input[name=password]", ls_server.password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/user/login" not in url, timeout=60_000)

    page.goto(f"{ls_server.url}/projects/{pid}/data?task={task_id}")
    editor = page.locator(".lsf-choice__item").first
    editor.wait_for(timeout=90_000)
    page.get_by_text(headline, exact=True).first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # let the prediction settle into the form

    radios = page.locator("input.ant-radio-input")
    names = radios.evaluate_all("els => els.map(e => e.name)")
    checked = radios.evaluate_all("els => els.filter(e => e.checked).map(e => e.name)")
    assert names == topic_names, "every topic is offered, in taxonomy order"
    assert checked == [predicted], "the model's prediction is pre-selected"
    body = page.inner_text("body")
    assert headline in body
    for name, description in topics:
        assert name in body
        assert description[:40] in body  # the legend shows each description

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert Path(SCREENSHOT).stat().st_size > 10_000
