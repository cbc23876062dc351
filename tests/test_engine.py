"""The live round and the simulation are the same engine: for the same labelled set, seed and
spec they pick the same headlines, round after round, for every registered strategy spec."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from activelabel.annotators import OracleAnnotator
from activelabel.engine import StreamedPool, Trainer, pick, selection_rng
from activelabel.engine.data import UnknownLabels
from activelabel.errors import ActiveLabelError
from activelabel.loop import run_round
from activelabel.simulate import Plan, run_simulation
from activelabel.store import NewLabel
from activelabel.strategies import Need, QueryStrategy, make_strategy
from activelabel.workspace import Workspace
from tests.cli import configure, init_workspace
from tests.strategies.test_template import SPECS

BATCH = 6
ROUNDS = 3


@pytest.fixture(scope="module")
def template(tmp_path_factory, tiny_model):
    from tests.conftest import write_corpus

    folder = tmp_path_factory.mktemp("engine")
    corpus = write_corpus(folder / "corpus.csv")
    path = init_workspace(folder / "ws", corpus, tiny_model, "--mode", "frozen")
    configure(path, loop={"batch_size": BATCH, "seed": 3}, model={"min_steps": 1})
    return path


def live_batches(path, spec: str, cold_start: str, random_share: float) -> list[list[int]]:
    configure(path, loop={"strategy": spec, "cold_start": cold_start, "random_share": random_share})
    ws = Workspace.open(path)
    for _ in range(ROUNDS):
        run_round(ws, OracleAnnotator(ws.store))
    return [sorted(s.item_id for s in ws.store.selections(round=r)) for r in range(ROUNDS)]


def simulated_batches(path, spec: str, cold_start: str, random_share: float) -> list[list[int]]:
    ws = Workspace.open(path)
    strategy = make_strategy(spec)
    plan = Plan(
        strategies=[strategy],
        seeds=[3],
        sizes=[BATCH * (r + 1) for r in range(ROUNDS)],
        mode="frozen",
        cold_start=make_strategy(cold_start),
        random_share=random_share,
    )
    run_simulation(ws, plan)
    labelled = {p.step: items for p, items, _ in ws.store.sim_points() if p.run == strategy.name}
    batches, before = [], []
    for step in range(ROUNDS):
        items = labelled[step]
        assert items[: len(before)] == before
        batches.append(sorted(items[len(before) :]))
        before = items
    return batches


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS)
def test_live_round_and_simulation_pick_the_same(template, tmp_path, spec):
    live, simulated = tmp_path / "live", tmp_path / "sim"
    shutil.copytree(template, live)
    shutil.copytree(template, simulated)
    cold_start = "kmeans" if spec != "topics" else "topics"
    share = 0.2 if "margin" in spec else 0.0
    assert live_batches(live, spec, cold_start, share) == simulated_batches(
        simulated, spec, cold_start, share
    )


class Spy(QueryStrategy):
    """A strategy that records the view it was given."""

    name = "spy"

    def __init__(self, needs):
        self.needs = frozenset(needs)
        self.view = None

    def select(self, pool, n, rng):
        self.view = pool
        return np.arange(min(n, pool.size), dtype=np.int64)


@pytest.mark.parametrize(
    "needs",
    [set(), {Need.PROBABILITIES}, {Need.EMBEDDINGS, Need.TOPIC_EMBEDDINGS}, set(Need)],
    ids=["nothing", "probabilities", "embeddings+topics", "everything"],
)
def test_a_strategy_gets_exactly_what_it_declares(template, tmp_path, needs):
    shutil.copytree(template, tmp_path / "ws")
    ws = Workspace.open(tmp_path / "ws")
    with ws.store.transaction() as db:
        labels = [NewLabel(i.id, i.gold, "import") for i in ws.store.items("pool")[:10]]
        ws.store.apply_labels(labels, db=db)
    data = StreamedPool.from_workspace(ws)
    trainer = Trainer.for_workspace(ws, data.sample_texts())
    classifier = trainer.fit(
        data.labelled_texts, data.y, data.unlabelled_texts(selection_rng(0, 0))
    )
    spy = Spy(needs)
    pick(
        classifier,
        spy,
        4,
        candidates=data.candidates,
        labelled_texts=data.labelled_texts,
        labelled_classes=data.y,
        class_names=data.class_names,
        seen=None,
        random_share=0.0,
        rng=selection_rng(0, 0),
    )
    for need in Need:
        value = getattr(spy.view, need.value)
        if need is Need.CLASS_RECALL:  # nothing seen yet: declared, but unknown
            continue
        assert (value is not None and len(value) > 0) == (need in needs), need


def test_every_registered_strategy_declares_known_needs():
    for spec in SPECS:
        strategy = make_strategy(spec)
        assert all(isinstance(need, Need) for need in strategy.needs), spec


def test_labels_outside_the_classes_are_one_clear_error(template, tmp_path):
    path = tmp_path / "ws"
    shutil.copytree(template, path)
    ws = Workspace.open(path)
    item = ws.store.items("pool")[0]
    with ws.store.transaction() as db:
        ws.store.apply_labels([NewLabel(item.id, "recipes", "import")], db=db)
    with pytest.raises(UnknownLabels, match="'recipes'.*taxonomy.labels") as error:
        StreamedPool.from_workspace(ws)
    assert isinstance(error.value, ActiveLabelError)
    assert "\n" not in str(error.value)


def test_a_live_round_stores_the_hunted_topic_as_the_reason(template, tmp_path):
    """Every topic but one has labels: the round's hunted rows say which topic they hunt, and
    the row the annotator sees carries the strategy's own sentence."""
    shutil.copytree(template, tmp_path / "ws")
    configure(tmp_path / "ws", loop={"strategy": "hunt(margin)", "random_share": 0.0})
    ws = Workspace.open(tmp_path / "ws")
    pool = ws.store.items("pool")
    missing = sorted({i.gold for i in pool})[0]
    with ws.store.transaction() as db:
        labels = [NewLabel(i.id, i.gold, "import") for i in pool if i.gold != missing][:12]
        ws.store.apply_labels(labels, db=db)
    run_round(ws, OracleAnnotator(ws.store), force=True)
    reasons = [s.reason for s in ws.store.selections(round=0)]
    hunted = [r for r in reasons if r.startswith("Hunting topic ")]
    assert hunted and all(r.startswith(f"Hunting topic {missing}: it has 0 labels") for r in hunted)
    assert all(r.startswith("Picked because the model is unsure") for r in reasons[len(hunted) :])
