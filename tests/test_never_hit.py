"""Topics never hit: listed by ``status`` and the report until a label reaches them."""

from __future__ import annotations

from activelabel.never_hit import never_hit, never_hit_note
from activelabel.workspace import Workspace

from .cli import configure, init_workspace, run


def test_never_hit_keeps_class_order():
    assert never_hit(["a", "b", "c", "d"], ["c", "a", "c"]) == ["b", "d"]
    assert never_hit(["a", "b"], []) == ["a", "b"]


def test_status_and_report_list_topics_never_hit(tmp_path, small_corpus, tiny_model):
    ws = init_workspace(
        tmp_path / "ws", small_corpus, tiny_model, "--strategy", "random", "--cold-start", "random"
    )
    configure(ws, loop={"batch_size": 2, "random_share": 0.0})
    assert never_hit_note(Workspace.open(ws)) is None, "nothing to say before any label"
    for _ in range(2):  # round 1 receives the labels of round 0's two headlines
        assert run("round", ws).exit_code == 0
    workspace = Workspace.open(ws)
    labels = set(workspace.store.active_labels().values())
    missing = [name for name in workspace.class_names if name not in labels]
    assert missing, "two labels cannot cover three topics"

    status = run("status", ws)
    assert status.exit_code == 0
    assert "never hit so far" in status.output
    assert all(name in " ".join(status.output.split()) for name in missing)

    assert run("report", ws, "--out", tmp_path / "report").exit_code == 0
    summary = (tmp_path / "report" / "summary.md").read_text(encoding="utf-8")
    assert f"topics never hit so far ({len(missing)} of 3" in summary
