"""Label efficiency of the query strategies on the built-in corpus, against random.

For the BBC headlines and for a variant with one topic thinned to ~3 % of the pool, runs every
strategy x seed along one schedule (frozen encoder + logistic head by default) and prints, per
strategy: AUC of the learning curve, labels needed to reach 95 % of random's final accuracy and
of the full-pool accuracy, and the recall of the rarest topic at fixed budgets (mean ± sd).

    .venv/bin/python benchmarks/bench_strategies.py --seeds 3 --budget 500
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np

from activelabel.config import Config, CorpusConfig, LoopConfig, ModelConfig
from activelabel.corpus import load_corpus
from activelabel.corpus.split import stratified_split
from activelabel.evaluation import evaluate
from activelabel.init import create_workspace
from activelabel.model import make_classifier, resolve_model
from activelabel.report.summary import fmt_mean_sd, summarise_mode
from activelabel.simulate import Plan, run_simulation, schedule
from activelabel.workspace import Workspace

RARE_TOPIC = "science and technology"


def write_variant(folder: Path, thin_to: float | None, seed: int = 0) -> tuple[Path, Path]:
    """The BBC corpus as pool.csv + test.csv (20 % stratified), the pool optionally thinned."""
    corpus = load_corpus("bbc")
    test_rows = set(stratified_split(corpus.labels, round(0.2 * len(corpus)), seed).tolist())
    pool = [r for i, r in enumerate(corpus.records) if i not in test_rows]
    test = [r for i, r in enumerate(corpus.records) if i in test_rows]
    if thin_to is not None:
        others = [r for r in pool if r.label != RARE_TOPIC]
        rare = [r for r in pool if r.label == RARE_TOPIC]
        keep = round(thin_to * len(others) / (1 - thin_to))
        chosen = np.random.default_rng(seed).permutation(len(rare))[:keep]
        pool = others + [rare[i] for i in sorted(chosen)]
    paths = []
    for name, records in (("pool", pool), ("test", test)):
        path = folder / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "text", "label"])
            writer.writerows((r.ext_id, r.text, r.label) for r in records)
        paths.append(path)
    return paths[0], paths[1]


def full_pool_accuracy(ws: Workspace, mode: str) -> float:
    names = ws.class_names
    pool, test = ws.store.items("pool"), ws.store.items("test")
    settings = ws.config.model_settings(resolve_model(ws.config.model.name))
    classifier = make_classifier(mode, len(names), settings)
    classifier.prepare([i.text for i in pool + test])
    classifier.fit([i.text for i in pool], np.array([names.index(i.gold) for i in pool]))
    probabilities = classifier.predict([i.text for i in test]).probabilities
    return evaluate(
        probabilities, np.array([names.index(i.gold) for i in test]), len(names)
    ).accuracy


def run_variant(name: str, folder: Path, thin_to: float | None, args) -> None:
    pool_csv, test_csv = write_variant(folder, thin_to)
    ws_path = folder / "ws"
    config = Config(
        corpus=CorpusConfig(str(pool_csv), id_column="id", test=str(test_csv)),
        model=ModelConfig(mode=args.mode),
        loop=LoopConfig(seed=0),
    )
    create_workspace(ws_path, config)
    ws = Workspace.open(ws_path)
    rare = ws.class_names.index(RARE_TOPIC)
    share = sum(1 for i in ws.store.items("pool") if i.gold == RARE_TOPIC) / len(
        ws.store.items("pool")
    )
    plan = Plan(
        args.strategies,
        list(range(args.seeds)),
        schedule(args.initial, args.step, args.budget),
        args.mode,
        args.cold_start,
    )
    clock = time.perf_counter()
    points = run_simulation(ws, plan)
    elapsed = time.perf_counter() - clock
    full = full_pool_accuracy(ws, args.mode)
    summary = summarise_mode(points, args.mode, rare_class=rare, budgets=tuple(args.budgets))
    target_full = 0.95 * full

    print(
        f"\n## {name}: pool {len(ws.store.items('pool'))} ({RARE_TOPIC} {100 * share:.1f} %), "
        f"test {len(ws.store.items('test'))}, mode {args.mode}, seeds {args.seeds}, "
        f"{plan.sizes[0]}→{plan.sizes[-1]} step {args.step}, {elapsed:.0f} s"
    )
    print(
        f"random final accuracy {100 * summary.baseline_final:.1f} % (target 95 %: "
        f"{100 * summary.target:.1f} %); full-pool accuracy {100 * full:.1f} % "
        f"(target 95 %: {100 * target_full:.1f} %)"
    )
    header = [
        "strategy",
        "AUC",
        "labels→95% random",
        "ratio",
        "labels→95% full",
        "ratio",
        *[f"rare recall @{b}" for b in args.budgets],
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    from activelabel.report.summary import curve, labels_to_reach

    random_full = labels_to_reach(*_xy(curve(points, "random", args.mode)), target_full)
    for row in summary.runs:
        c = curve(points, row.run, args.mode)
        reach_full = labels_to_reach(c.n_labels, c.mean, target_full)
        cells = [
            row.run,
            fmt_mean_sd(row.auc),
            str(row.labels_to_target or f">{plan.sizes[-1]}"),
            f"{row.label_ratio:.2f}" if row.label_ratio else "–",
            str(reach_full or f">{plan.sizes[-1]}"),
            f"{reach_full / random_full:.2f}" if reach_full and random_full else "–",
            *[fmt_mean_sd(row.rare_recall.get(b)) for b in args.budgets],
        ]
        print("| " + " | ".join(cells) + " |")


def _xy(c):
    return c.n_labels, c.mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--strategies", default="random,margin,margin+kmeans,balanced(margin+kmeans)"
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--initial", type=int, default=20)
    parser.add_argument("--step", type=int, default=20)
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--budgets", default="100,200,500")
    parser.add_argument("--mode", default="frozen", choices=["frozen", "finetune"])
    parser.add_argument("--cold-start", default="random")
    parser.add_argument("--variants", default="bbc,bbc-thin")
    args = parser.parse_args()
    args.strategies = [s.strip() for s in args.strategies.split(",")]
    if "random" not in args.strategies:
        args.strategies.insert(0, "random")
    args.budgets = [int(b) for b in args.budgets.split(",")]
    variants = {"bbc": None, "bbc-thin": 0.03}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.variants.split(","):
            folder = Path(tmp) / name
            folder.mkdir()
            run_variant(name, folder, variants[name], args)


if __name__ == "__main__":
    main()
