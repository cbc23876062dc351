"""Oracle experiments on a fully labelled workspace: strategies x seeds along one schedule.

For a given seed every strategy starts from the same seed set and follows the same schedule of
label counts, so curves differ only by what the strategies picked. Every point is stored as
soon as it is measured; running the simulation again continues where it stopped.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from activelabel.errors import ActiveLabelError, ConfigError
from activelabel.evaluation import CurvePoint, evaluate
from activelabel.model import TextClassifier, make_classifier, pretrained_encoder, resolve_model
from activelabel.strategies import PoolView, make_strategy
from activelabel.workspace import Workspace


def schedule(initial: int, step: int, budget: int) -> list[int]:
    """Label counts ``initial, initial+step, ...`` up to and including ``budget``."""
    if initial < 1 or step < 1 or budget < initial:
        raise ConfigError("--initial and --step must be positive and --budget at least --initial")
    sizes = list(range(initial, budget + 1, step))
    return sizes if sizes[-1] == budget else [*sizes, budget]


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"--sizes '{text}' must be comma-separated whole numbers") from exc
    if not sizes or any(b <= a for a, b in zip(sizes, sizes[1:], strict=False)) or sizes[0] < 1:
        raise ConfigError(f"--sizes '{text}' must be positive and increasing")
    return sizes


@dataclass(frozen=True)
class Plan:
    strategies: list[str]
    seeds: list[int]
    sizes: list[int]
    mode: str
    cold_start: str = "random"

    @property
    def steps(self) -> int:
        return len(self.strategies) * len(self.seeds) * len(self.sizes)


class _Data:
    """The workspace's pool and test set as arrays, gold labels as class indices."""

    def __init__(self, ws: Workspace):
        index = {name: i for i, name in enumerate(ws.class_names)}
        pool, test = ws.store.items("pool"), ws.store.items("test")
        unlabelled = [item.ext_id for item in pool if item.gold not in index]
        if unlabelled:
            raise ActiveLabelError(
                f"simulate needs gold labels for the whole pool; {len(unlabelled)} pool items "
                f"have none (first: {unlabelled[0]}); use 'activelabel round' with Label Studio"
            )
        if not test:
            raise ActiveLabelError(
                "simulate needs a labelled test set; init with --test-size or --test"
            )
        self.ids = np.array([item.id for item in pool])
        self.texts = [item.text for item in pool]
        self.gold = np.array([index[item.gold] for item in pool])
        self.test_texts = [item.text for item in test]
        self.test_gold = np.array([index[item.gold] for item in test])
        self.n_classes = len(index)
        self.row_of = {item_id: row for row, item_id in enumerate(self.ids)}


def _rng(*parts: int | str) -> np.random.Generator:
    return np.random.default_rng(
        [p if isinstance(p, int) else zlib.crc32(p.encode()) for p in parts]
    )


def _seed_set(
    data: _Data,
    classifier: TextClassifier,
    cold_start: str,
    seed: int,
    size: int,
    topics: list[str],
) -> np.ndarray:
    """The first labels, the same for every strategy of a seed: drawn by the cold start on the
    pre-trained encoder's embeddings (never on a model fine-tuned for an earlier curve)."""
    if size > len(data.texts):
        raise ConfigError(f"the first size {size} is larger than the pool ({len(data.texts)})")
    strategy = make_strategy(cold_start)
    embeddings = topic_embeddings = None
    if strategy.needs:
        encoder = pretrained_encoder(classifier)
        embeddings = encoder.encode(data.texts)
        topic_embeddings = encoder.encode(topics)
    view = PoolView(
        probabilities=np.full((len(data.texts), data.n_classes), 1 / data.n_classes),
        embeddings=embeddings,
        topic_embeddings=topic_embeddings,
        class_names=tuple(str(i) for i in range(data.n_classes)),
        n_candidates=len(data.texts),
    )
    return np.asarray(strategy.select(view, size, _rng(seed, "seed-set")), dtype=np.int64)


def run_simulation(
    ws: Workspace,
    plan: Plan,
    advance: Callable[[int], None] = lambda n: None,
    on_point: Callable[[CurvePoint], None] = lambda p: None,
) -> list[CurvePoint]:
    """Run (or continue) every curve of ``plan``; returns all its points."""
    data = _Data(ws)
    if plan.sizes[-1] > len(data.texts):
        raise ConfigError(
            f"the schedule goes to {plan.sizes[-1]} labels but the pool has "
            f"{len(data.texts)}; lower --budget or --sizes"
        )
    settings = ws.config.model_settings(resolve_model(ws.config.model.name))
    classifier = make_classifier(plan.mode, data.n_classes, settings, topics=ws.taxonomy.prompts)
    classifier.prepare(data.texts + data.test_texts)
    stored = {
        (p.run, p.seed, p.step): (p, items, state)
        for p, items, state in ws.store.sim_points(plan.mode)
    }
    points: list[CurvePoint] = []
    for seed in plan.seeds:
        seed_rows = None
        for spec in plan.strategies:
            strategy = make_strategy(spec)
            labelled: np.ndarray | None = None
            seen = _SeenRecall(data.n_classes)
            trained_on_labelled = False  # does the classifier hold the model of `labelled`?
            for step, size in enumerate(plan.sizes):
                done = stored.get((spec, seed, step))
                if done is not None:
                    point, items, state = done
                    if point.n_labels != size:
                        raise ConfigError(
                            f"the workspace holds a '{spec}' curve (seed {seed}, {plan.mode}) with "
                            f"another schedule; use the same sizes or 'simulate --fresh'"
                        )
                    labelled = np.array([data.row_of[i] for i in items], dtype=np.int64)
                    seen.restore(state)
                    trained_on_labelled = False
                    points.append(point)
                    advance(1)
                    continue
                clock = time.perf_counter()
                if labelled is None:
                    if seed_rows is None:
                        seed_rows = _seed_set(
                            data,
                            classifier,
                            plan.cold_start,
                            seed,
                            size,
                            [topic.prompt for topic in ws.taxonomy.topics],
                        )
                    labelled = seed_rows
                else:
                    if not trained_on_labelled:  # continuing a stored curve: its model first
                        classifier.seed = seed
                        _fit(classifier, data, labelled)
                    labelled = np.concatenate(
                        [
                            labelled,
                            _select(
                                classifier, strategy, data, labelled, size, seed, spec, step, seen
                            ),
                        ]
                    )
                classifier.seed = seed
                _fit(classifier, data, labelled)
                trained_on_labelled = True
                evaluation = evaluate(
                    classifier.predict(data.test_texts).probabilities,
                    data.test_gold,
                    data.n_classes,
                )
                counts = np.bincount(data.gold[labelled], minlength=data.n_classes).tolist()
                point = CurvePoint(
                    spec,
                    seed,
                    step,
                    len(labelled),
                    plan.mode,
                    evaluation,
                    counts,
                    time.perf_counter() - clock,
                )
                ws.store.add_sim_point(point, data.ids[labelled].tolist(), seen.state())
                points.append(point)
                on_point(point)
                advance(1)
    return points


def _fit(classifier: TextClassifier, data: _Data, labelled: np.ndarray) -> None:
    """Train on the rows ``labelled``; the rest of the pool is the unlabelled set."""
    rest = np.ones(len(data.texts), dtype=bool)
    rest[labelled] = False
    classifier.fit(
        [data.texts[r] for r in labelled],
        data.gold[labelled],
        unlabelled=[data.texts[r] for r in np.flatnonzero(rest)],
    )


class _SeenRecall:
    """Per-class recall of the model's predictions on the items it picked, once labelled:
    what the model got wrong among what it has seen, without looking at the test set."""

    def __init__(self, n_classes: int):
        self.correct = np.zeros(n_classes)
        self.total = np.zeros(n_classes)

    def add(self, predicted: np.ndarray, gold: np.ndarray) -> None:
        np.add.at(self.total, gold, 1)
        np.add.at(self.correct, gold[predicted == gold], 1)

    def state(self) -> dict:
        return {"seen_correct": self.correct.tolist(), "seen_total": self.total.tolist()}

    def restore(self, state: dict) -> None:
        self.correct = np.array(state.get("seen_correct", self.correct), dtype=float)
        self.total = np.array(state.get("seen_total", self.total), dtype=float)

    @property
    def recall(self) -> np.ndarray | None:
        if not self.total.any():
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.total > 0, self.correct / self.total, np.nan)


def _select(
    classifier: TextClassifier,
    strategy,
    data: _Data,
    labelled: np.ndarray,
    size: int,
    seed: int,
    spec: str,
    step: int,
    seen: _SeenRecall,
) -> np.ndarray:
    """Pick ``size - len(labelled)`` new rows with the model trained on ``labelled``."""
    mask = np.ones(len(data.texts), dtype=bool)
    mask[labelled] = False
    candidates = np.flatnonzero(mask)
    needs = strategy.needs
    view_kwargs: dict = {
        "class_names": tuple(str(i) for i in range(data.n_classes)),
        "labeled_classes": data.gold[labelled],
        "class_recall": seen.recall,
        "n_candidates": len(candidates),
    }
    scored = None
    if needs - {"labeled_classes", "class_names", "class_recall"}:
        scored = classifier.predict([data.texts[r] for r in candidates])
        view_kwargs.update(probabilities=scored.probabilities, embeddings=scored.embeddings)
        if "labeled_embeddings" in needs:
            view_kwargs["labeled_embeddings"] = classifier.predict(
                [data.texts[r] for r in labelled]
            ).embeddings
    picked = np.asarray(
        strategy.select(PoolView(**view_kwargs), size - len(labelled), _rng(seed, spec, step)),
        dtype=np.int64,
    )
    if scored is not None:
        seen.add(scored.probabilities[picked].argmax(axis=1), data.gold[candidates[picked]])
    return candidates[picked]
