"""Oracle experiments on a fully labelled workspace: strategies x seeds along one schedule.

Each curve is a sequence of rounds run by the same engine as ``activelabel round``: train on the
labels so far, evaluate, select the next batch. For a given seed every strategy starts from the
same seed set (the cold start, round 0) and follows the same schedule of label counts, so curves
differ only by what the strategies picked; a strategy may also run with the plain learner
(:mod:`activelabel.arms`), from the same seed set, to show the model's gain. Every point is
stored as soon as it is measured; running the simulation again continues where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from activelabel.arms import PLAIN_SETTINGS, run_name
from activelabel.engine import SeenRecall, Trainer, pick, selection_rng
from activelabel.engine.training import informed
from activelabel.errors import ActiveLabelError, ConfigError
from activelabel.evaluation import CurvePoint
from activelabel.strategies import make_strategy
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
    random_share: float = 0.0  # part of each batch drawn at random, as in live rounds
    plain: tuple[str, ...] = ()  # strategies also run with the plain learner (activelabel.arms)
    noise: float = 0.0  # share of the oracle's answers that are wrong (noisy label curves)
    review_every: int = 0  # with noise: a label review every N steps (0: none)

    @property
    def curves(self) -> list[tuple[str, str, str]]:
        """(strategy, learner, labels) of every curve per seed, the workspace's learner first;
        labels are "clean" (the gold labels), "noisy" or "reviewed" (noisy, with reviews)."""
        curves = [(s, "default", "clean") for s in self.strategies]
        curves += [(s, "plain", "clean") for s in self.plain]
        if self.noise > 0:
            curves += [(s, "default", "noisy") for s in self.strategies]
            if self.review_every:
                curves += [(s, "default", "reviewed") for s in self.strategies]
        return curves

    def run_of(self, spec: str, learner: str, labels: str) -> str:
        """The stored name of a curve: ``margin (noise 10 %, review every 5)``."""
        run = run_name(spec, learner)
        if labels == "clean":
            return run
        noise = f"noise {100 * self.noise:g} %"
        if labels == "noisy":
            return f"{run} ({noise})"
        return f"{run} ({noise}, review every {self.review_every})"

    @property
    def steps(self) -> int:
        return len(self.curves) * len(self.seeds) * len(self.sizes)

    @property
    def recipe(self) -> dict:
        """What every stored point of this mode must share to continue a curve."""
        return {"cold_start": self.cold_start, "random_share": self.random_share}


class _Data:
    """The workspace's pool and test set, gold labels as class indices."""

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
        self.class_names = ws.class_names
        self.ids = np.array([item.id for item in pool])
        self.texts = [item.text for item in pool]
        self.gold = np.array([index[item.gold] for item in pool])
        self.test_texts = [item.text for item in test]
        self.test_gold = np.array([index[item.gold] for item in test])
        self.n_classes = len(index)
        self.row_of = {item_id: row for row, item_id in enumerate(self.ids)}

    def rest(self, labelled: np.ndarray) -> np.ndarray:
        """Rows without a label, in pool order."""
        mask = np.ones(len(self.texts), dtype=bool)
        mask[labelled] = False
        return np.flatnonzero(mask)

    def texts_of(self, rows: np.ndarray) -> list[str]:
        return [self.texts[r] for r in rows]


def validate(ws: Workspace, plan: Plan) -> None:
    """Everything that can be checked before a simulation starts (or deletes anything)."""
    n_pool = len(ws.store.items("pool"))
    if plan.sizes[-1] > n_pool:
        raise ConfigError(
            f"the schedule goes to {plan.sizes[-1]} labels but the pool has "
            f"{n_pool}; lower --budget or --sizes"
        )
    for spec in [*plan.strategies, *plan.plain, plan.cold_start]:
        make_strategy(spec)


def run_simulation(
    ws: Workspace,
    plan: Plan,
    advance: Callable[[int], None] = lambda n: None,
    on_point: Callable[[CurvePoint], None] = lambda p: None,
) -> list[CurvePoint]:
    """Run (or continue) every curve of ``plan``; returns all its points."""
    validate(ws, plan)
    data = _Data(ws)
    texts = data.texts + data.test_texts
    trainers = {"default": Trainer.for_workspace(ws, texts, mode=plan.mode)}
    if plan.plain:
        trainers["plain"] = Trainer.for_workspace(
            ws, texts, mode=plan.mode, overrides=PLAIN_SETTINGS
        )
    stored = {
        (p.run, p.seed, p.step): (p, items, state)
        for p, items, state in ws.store.sim_points(plan.mode)
    }
    learner_settings = model_recipe(ws)
    _check_recipe(plan, [state for _, _, state in stored.values()], learner_settings)
    points: list[CurvePoint] = []
    for seed in plan.seeds:
        seed_rows, seed_seen = None, SeenRecall(data.n_classes)
        answers = oracle_answers(data.gold, data.n_classes, plan.noise, seed)
        for spec, learner, variant in plan.curves:
            run, trainer = plan.run_of(spec, learner, variant), trainers[learner]
            y = data.gold if variant == "clean" else answers.copy()  # the labels it trains on
            reviewed: set[int] = set()  # rows a review has looked at (never flagged again)
            labelled: np.ndarray | None = None
            seen = SeenRecall(data.n_classes)
            fitted: np.ndarray | None = None  # the labelled rows the classifier holds
            for step, size in enumerate(plan.sizes):
                done = stored.get((run, seed, step))
                if done is not None:
                    point, items, state = done
                    if point.n_labels != size:
                        raise ConfigError(
                            f"the workspace holds a '{run}' curve (seed {seed}, {plan.mode}) with "
                            f"another schedule; use the same sizes or 'simulate --fresh'"
                        )
                    labelled = np.array([data.row_of[i] for i in items], dtype=np.int64)
                    seen.restore(state)
                    reviewed = {data.row_of[i] for i in state.get("reviewed", [])}
                    y[list(reviewed)] = data.gold[list(reviewed)]
                    points.append(point)
                    advance(1)
                    continue
                clock = time.perf_counter()
                if labelled is None:
                    if seed_rows is None:
                        seed_seen = SeenRecall(data.n_classes)
                        seed_rows = _next_batch(  # the workspace's learner picks it
                            trainers["default"],
                            data,
                            plan,
                            plan.cold_start,
                            np.empty(0, np.int64),
                            size,
                            seed,
                            0,
                            seed_seen,
                        )
                    labelled = seed_rows
                    seen.restore(seed_seen.state())
                else:
                    if fitted is not labelled:  # continuing a stored curve: its model first
                        _fit(trainer, data, labelled, seed, y)
                    new = _next_batch(
                        trainer,
                        data,
                        plan,
                        spec,
                        labelled,
                        size - len(labelled),
                        seed,
                        step,
                        seen,
                        y,
                    )
                    labelled = np.concatenate([labelled, new])
                if variant == "reviewed" and step % plan.review_every == 0 and step > 0:
                    for row in review_rows(trainer, data, labelled, y, reviewed, seed + step):
                        reviewed.add(row)
                        y[row] = data.gold[row]  # the oracle reviewer answers with the gold label
                _fit(trainer, data, labelled, seed, y)
                fitted = labelled
                evaluation = trainer.evaluate(trainer.classifier, data.test_texts, data.test_gold)
                counts = np.bincount(data.gold[labelled], minlength=data.n_classes).tolist()
                point = CurvePoint(
                    run,
                    seed,
                    step,
                    len(labelled),
                    plan.mode,
                    evaluation,
                    counts,
                    time.perf_counter() - clock,
                )
                state = {
                    **seen.state(),
                    **plan.recipe,
                    "learner": learner,
                    MODEL_KEY: learner_settings,
                }
                if variant != "clean":
                    state["reviewed"] = data.ids[sorted(reviewed)].tolist()
                ws.store.add_sim_point(point, data.ids[labelled].tolist(), state)
                points.append(point)
                on_point(point)
                advance(1)
    return points


MODEL_KEY = "model"
#: ``[model]`` keys that do not change what a curve measures
NOT_RECIPE = ("device", "mode")


def model_recipe(ws: Workspace) -> dict:
    """The ``[model]`` settings a stored point was made with (the mode is stored apart)."""
    return {k: v for k, v in asdict(ws.config.model).items() if k not in NOT_RECIPE}


def _check_recipe(plan: Plan, states: list[dict], model: dict) -> None:
    """Stored curves continue only with the settings they were made with (points from before
    the ``[model]`` settings were stored are taken as they are)."""
    for state in states:
        for key, value in plan.recipe.items():
            stored = state.get(key, "random" if key == "cold_start" else 0.0)
            if stored != value:
                raise ConfigError(
                    f"the workspace holds {plan.mode} curves made with {key} = {stored!r}, not "
                    f"{value!r}; run with the same setting, or add --fresh to start over"
                )
        made = state.get(MODEL_KEY)
        if not isinstance(made, dict):
            continue
        for key in sorted(set(made) | set(model)):
            if made.get(key) != model.get(key):
                raise ConfigError(
                    f"the workspace holds {plan.mode} curves made with model.{key} = "
                    f"{made.get(key)!r}, but activelabel.toml now says {model.get(key)!r}; "
                    f"restore the setting to continue them, or add --fresh to start over"
                )


def oracle_answers(gold: np.ndarray, n_classes: int, noise: float, seed: int) -> np.ndarray:
    """The label the oracle gives each pool row: gold, or with probability ``noise`` another
    topic drawn uniformly (the same answers for every curve of a seed)."""
    if noise <= 0:
        return gold.copy()
    rng = np.random.default_rng([seed, 11])
    wrong = rng.random(len(gold)) < noise
    other = (gold + rng.integers(1, n_classes, len(gold))) % n_classes
    return np.where(wrong, other, gold)


def review_rows(
    trainer: Trainer,
    data: _Data,
    labelled: np.ndarray,
    y: np.ndarray,
    reviewed: set[int],
    seed: int,
) -> list[int]:
    """The labelled rows a review flags, as ``activelabel review`` does by default: cleanlab's
    issues among out-of-sample probabilities, those never reviewed before."""
    from activelabel.review import TooFewLabels, out_of_sample, rank_labels

    try:
        probabilities = out_of_sample(
            trainer,
            data.texts_of(labelled),
            y[labelled],
            data.texts_of(data.rest(labelled)),
            seed=seed,
        )
    except TooFewLabels:
        return []
    ranking = rank_labels(y[labelled], probabilities)
    flagged = [int(labelled[r]) for r in ranking.order if ranking.flagged[r]]
    return [row for row in flagged if row not in reviewed]


def _fit(
    trainer: Trainer, data: _Data, labelled: np.ndarray, seed: int, y: np.ndarray | None = None
) -> None:
    """Train on the rows ``labelled`` with labels ``y`` (default: gold); the rest of the pool
    is the unlabelled set."""
    y = data.gold if y is None else y
    trainer.fit(data.texts_of(labelled), y[labelled], data.texts_of(data.rest(labelled)), seed=seed)


def _next_batch(
    trainer: Trainer,
    data: _Data,
    plan: Plan,
    spec: str,
    labelled: np.ndarray,
    n: int,
    seed: int,
    round: int,
    seen: SeenRecall,
    y: np.ndarray | None = None,
) -> np.ndarray:
    """The rows a round with ``labelled`` labels picks (round 0: the cold start, with the model
    trained on no labels), as ``activelabel round`` would; ``y`` are the labels (default: gold)."""
    y = data.gold if y is None else y
    if round == 0:
        _fit(trainer, data, labelled, seed)
    candidates = data.rest(labelled)
    classifier = trainer.classifier
    trusted = informed(classifier, len(labelled))  # then its suggestions count as seen
    choice = pick(
        classifier,
        spec,
        n,
        candidates=data.texts_of(candidates),
        labelled_texts=data.texts_of(labelled),
        labelled_classes=y[labelled],
        class_names=data.class_names,
        seen=seen,
        random_share=plan.random_share,
        rng=selection_rng(seed, round),
        score_candidates=trusted,
    )
    if trusted:
        picked = choice.rows
        seen.add(choice.scored.probabilities[picked].argmax(axis=1), y[candidates[picked]])
    return candidates[choice.rows]
