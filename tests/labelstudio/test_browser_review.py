"""The labelling page of a review task: the label it has, why it is suspected, and the model's
suggestion pre-selected. Saves the screenshot used in docs/review.md
(into docs/img with ``ACTIVELABEL_SCREENSHOTS=docs``)."""

from __future__ import annotations

import pytest

from activelabel.integrations.labelstudio import PushItem, ensure_project, push_batch
from activelabel.integrations.labelstudio.review import ReviewPush, push_review_tasks

from .test_browser import browser_page, checked_topics, open_task  # noqa: F401

pytestmark = [pytest.mark.labelstudio, pytest.mark.browser]


def test_review_task_shows_label_reason_and_suggestion(
    client,
    ls_server,
    topics,
    topic_names,
    browser_page,  # noqa: F811
    screenshot,
):
    pid = ensure_project(client, "activelabel review check", topics, "Pick the topic.")
    # an ordinary batch first: the project then shows only that round's predictions
    push_batch(
        client, pid, [PushItem(1, "Shares fall as oil prices climb", 2, topic_names[4], 0.7)]
    )
    headline = "Striker signs four-year deal with champions"
    label, suggested = topic_names[4], "sport"
    assert suggested in topic_names
    why = (
        f"Suspected: a model trained without this headline (5-fold) gives its label '{label}' "
        f"4 % and '{suggested}' 88 %."
    )
    tasks = push_review_tasks(client, pid, [ReviewPush(7, 2, headline, label, suggested, why, 1)])

    page = browser_page
    open_task(page, ls_server, pid, tasks[7], headline)
    assert checked_topics(page) == [suggested], "the suggestion is pre-selected"
    body = page.inner_text("body")
    assert f"this headline is labelled '{label}'" in body
    assert why in body
    saved = screenshot("labelstudio-review.png")
    page.screenshot(path=str(saved))
    assert saved.stat().st_size > 10_000
