"""The labelling page really shows a pushed task: headline, every topic, the prediction checked.

Drives headless Chromium (Debian ``chromium``) through Playwright and saves the screenshots used
in docs/labelstudio.md (into docs/img with ``ACTIVELABEL_SCREENSHOTS=docs``).
"""

from __future__ import annotations

import shutil
import tempfile

import pytest

from activelabel.integrations.labelstudio import PushItem, ensure_project, push_batch
from activelabel.integrations.labelstudio.annotator import INSTRUCTIONS
from activelabel.integrations.labelstudio.project import hotkeys
from activelabel.integrations.labelstudio.tasks import refresh_predictions

from .conftest import skip_or_fail

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


def login(page, server) -> None:
    page.goto(f"{server.url}/user/login/")
    if "/user/login" not in page.url:
        return  # already logged in
    page.fill("input[name=email]", server.username)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/user/login" not in url, timeout=60_000)


def open_task(page, server, project: int, task: int, headline: str) -> None:
    login(page, server)
    page.goto(f"{server.url}/projects/{project}/data?task={task}")
    page.locator(".lsf-choice__item").first.wait_for(timeout=90_000)
    page.get_by_text(headline, exact=True).first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # let the prediction settle into the form


def checked_topics(page) -> list[str]:
    radios = page.locator("input.ant-radio-input")
    return radios.evaluate_all("els => els.filter(e => e.checked).map(e => e.name)")


def test_labelling_page_shows_headline_topics_and_prediction(
    client, ls_server, topics, topic_names, browser_page, screenshot
):
    pid = ensure_project(client, "activelabel browser check", topics, "Pick the topic.")
    headline = "Flood waters rise as storm batters the coast"
    predicted = "disaster, accident and emergency incident"
    assert predicted in topic_names
    why = (
        "Picked because the model is unsure between disaster, accident and emergency incident "
        "and weather."
    )
    batch = [
        PushItem(1, headline, 0, predicted, 0.81, "active", why),
        PushItem(2, "Central bank raises interest rates again", 0, topic_names[4], 0.6),
    ]
    task_id = push_batch(client, pid, batch)[1]

    page = browser_page
    open_task(page, ls_server, pid, task_id, headline)
    names = page.locator("input.ant-radio-input").evaluate_all("els => els.map(e => e.name)")
    checked = checked_topics(page)
    assert names == topic_names, "every topic is offered, in taxonomy order"
    assert checked == [predicted], "the model's prediction is pre-selected"
    body = page.inner_text("body")
    assert headline in body
    assert f"The model's guess: {predicted} (81 % sure)." in body
    assert why in body
    for name, description in topics:
        assert name in body
        assert description[:40] in body  # the legend shows each description

    saved = screenshot("labelstudio-task.png")
    page.screenshot(path=str(saved))
    assert saved.stat().st_size > 10_000


def test_submit_keeps_the_guess_and_its_key_clears_it(
    client, ls_server, topics, topic_names, browser_page
):
    """What the labelling guide tells people, done with the keyboard in the real page."""
    pid = ensure_project(client, "activelabel keyboard check", topics, INSTRUCTIONS)
    guessed, other = topic_names[3], topic_names[6]
    key, other_key = hotkeys(len(topic_names))[3], hotkeys(len(topic_names))[6]
    first = "Parliament passes the budget after a long night"
    untrained = "Local team celebrates promotion with parade"
    tasks = push_batch(
        client,
        pid,
        [PushItem(1, first, 1, guessed, 0.55), PushItem(2, untrained, 0)],
    )
    page = browser_page

    open_task(page, ls_server, pid, tasks[1], first)
    assert checked_topics(page) == [guessed], "the guess is pre-selected"
    page.keyboard.press(key)  # Label Studio toggles: the selected topic's key clears it
    assert checked_topics(page) == []
    page.keyboard.press("Control+Enter")  # Submit with nothing selected is refused, and says why
    page.get_by_text("Pressing the key of the selected topic clears it").first.wait_for(
        timeout=10_000
    )
    assert client.annotations.list(id=tasks[1]) == []
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)
    page.keyboard.press(key)  # pressed again: selected again
    assert checked_topics(page) == [guessed]
    page.keyboard.press("Control+Enter")  # Submit keeps the guess
    deadline = 0
    while not client.annotations.list(id=tasks[1]) and deadline < 60:
        page.wait_for_timeout(500)
        deadline += 1
    [annotation] = client.annotations.list(id=tasks[1])
    assert annotation.result[0]["value"]["choices"] == [guessed]

    open_task(page, ls_server, pid, tasks[2], untrained)
    assert checked_topics(page) == [], "round 0 has no guess to pre-select"
    body = page.inner_text("body")
    assert "No model guess yet" in body and "The model's guess:" not in body
    page.keyboard.press(other_key)  # another topic's key picks it
    assert checked_topics(page) == [other]


def test_task_from_round_0_opens_with_round_1_guess_selected(
    client, ls_server, topics, topic_names, browser_page, screenshot
):
    """After round 1, a task sent in round 0 is served by the queue ("Label All Tasks") and
    opened from the list with round 1's guess pre-selected and its lines saying that guess."""
    pid = ensure_project(client, "activelabel queue check", topics, INSTRUCTIONS)
    old_headline = "Minister resigns after vote on school funding"
    first_guess, newest_guess = topic_names[0], topic_names[10]
    tasks = push_batch(
        client,
        pid,
        [
            PushItem(1, old_headline, 0, first_guess, 0.98, "active", "First batch."),
            PushItem(2, "Striker scores twice in cup final", 0, topic_names[14], 0.9),
        ],
    )
    client.annotations.create(
        id=tasks[2],
        result=[
            {
                "from_name": "topic",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": [topic_names[14]]},
            }
        ],
    )
    # round 1: a new pick, and the round-0 task still waiting gets round 1's guess
    push_batch(client, pid, [PushItem(3, "Heat wave grips the south", 1, topic_names[16], 0.7)])
    why = (
        f"Sent in round 0. Picked because the model is unsure between {newest_guess} "
        f"and {first_guess}."
    )
    refreshed = refresh_predictions(
        client,
        pid,
        [PushItem(1, old_headline, 0, newest_guess, 0.41, "active", why)],
        {1: tasks[1]},
        1,
    )
    assert refreshed == 1

    page = browser_page
    login(page, ls_server)
    page.goto(f"{ls_server.url}/projects/{pid}/data?labeling=1")  # "Label All Tasks"
    page.get_by_text(old_headline, exact=True).first.wait_for(timeout=90_000)
    page.wait_for_timeout(1000)
    assert checked_topics(page) == [newest_guess], "the queue serves it with round 1's guess"
    body = page.inner_text("body")
    assert f"The model's guess: {newest_guess} (41 % sure)." in body and why in body
    assert "98 %" not in body
    assert page.get_by_role("button", name="Skip").count() >= 1  # the queue offers Skip
    instructions = page.get_by_text("Labeling Instructions").first
    if instructions.is_visible():  # they open over the first task of the queue
        page.keyboard.press("Escape")
        page.wait_for_timeout(500)
    if instructions.is_visible():
        page.locator("[class*=modal] [class*=close]").first.click()
        page.wait_for_timeout(500)
    assert not instructions.is_visible()
    assert checked_topics(page) == [newest_guess]
    page.screenshot(path=str(screenshot("labelstudio-queue-round1.png")))

    open_task(page, ls_server, pid, tasks[1], old_headline)  # opened from the task list
    assert checked_topics(page) == [newest_guess]
