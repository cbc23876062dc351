"""Label review on labels with known noise: does cleanlab find the flipped labels, and does one
review bring the accuracy back?

For each corpus, seed and label count n, n pool headlines are drawn at random and 10 % of their
labels flipped, (a) uniformly to another topic, (b) to the topic a clean model most often
confuses the true one with (from the confusion matrix, on the test set, of the model trained on
the clean labels). Out-of-sample probabilities come from 5-fold cross-validation with the
default frozen learner (topic descriptions and pseudo-labels), exactly as ``activelabel review``
computes them (:func:`activelabel.review.out_of_sample`). Measured: precision of the top-k
(k = the number of flipped labels) and recall of the top-2k, for cleanlab's rankings and for
plain self-confidence; what cleanlab's ``find_label_issues`` flags; test accuracy with the
clean labels, the noisy labels, and after one oracle review (the gold label restored) of the
labels ``activelabel review`` sends by default (cleanlab's flags) and of the top 2k.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_review.py \\
        --corpora bbc,reuters,sib200 --sizes 200,500 --seeds 5 --out bench_review.jsonl

Cells are appended to ``--out`` as they finish; a rerun skips finished cells.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "corpora"
sys.path.insert(0, str(HERE))
NOISE = ("uniform", "confusable")
FOLDS = 5


def load(name: str):
    """(pool texts, pool y, test texts, test y, class names, topic descriptions), or None."""
    from bench_learners import load as load_learners
    from bench_learners import load_sib200_en

    if name in ("bbc", "reuters"):
        return load_learners(name)
    return load_sib200_en(lambda n: f"{n}: texts about {n}")


def confusable(probabilities: np.ndarray, test_y: np.ndarray, n_classes: int) -> np.ndarray:
    """Per true topic, the topic the model most often predicts instead (ties and topics it
    never gets wrong: the highest mean probability among the other topics)."""
    predicted = probabilities.argmax(axis=1)
    out = np.zeros(n_classes, dtype=np.int64)
    for c in range(n_classes):
        rows = test_y == c
        counts = np.bincount(predicted[rows], minlength=n_classes).astype(float)
        mean = probabilities[rows].mean(axis=0) if rows.any() else np.zeros(n_classes)
        key = counts + mean  # mean < 1: breaks ties only
        key[c] = -np.inf
        out[c] = int(key.argmax())
    return out


def flip(y: np.ndarray, k: int, how: str, confusion: np.ndarray, n_classes: int, rng):
    rows = np.sort(rng.choice(len(y), size=k, replace=False))
    noisy = y.copy()
    for r in rows:
        if how == "uniform":
            noisy[r] = rng.choice([c for c in range(n_classes) if c != y[r]])
        else:
            noisy[r] = confusion[y[r]]
    return noisy, rows


def ranking_scores(order: np.ndarray, flipped: set[int], k: int) -> tuple[float, float]:
    """(precision of the top k, recall of the top 2k)."""
    top = order[:k].tolist()
    top2 = order[: 2 * k].tolist()
    return (
        sum(r in flipped for r in top) / k,
        sum(r in flipped for r in top2) / len(flipped),
    )


def run_group(trainer, data, corpus: str, size: int, seed: int, todo: set[str]) -> list[dict]:
    from activelabel.review import METHODS, out_of_sample, rank_labels, self_confidence_order

    pool, pool_y, test, test_y, names, _ = data
    n_classes = len(names)
    rng = np.random.default_rng([seed, size])
    rows = np.sort(rng.choice(len(pool), size=size, replace=False))
    texts = [pool[i] for i in rows]
    y = pool_y[rows]
    chosen = set(rows.tolist())
    unlabelled = [t for i, t in enumerate(pool) if i not in chosen]

    def accuracy(labels: np.ndarray) -> float:
        model = trainer.fit_separate(texts, labels, unlabelled)
        return trainer.evaluate(model, test, test_y).accuracy

    clean_model = trainer.fit_separate(texts, y, unlabelled)
    clean_probs = clean_model.predict(test, embeddings=False).probabilities
    clean = float((clean_probs.argmax(axis=1) == test_y).mean())
    confusion = confusable(clean_probs, test_y, n_classes)
    cells = []
    for how in NOISE:
        if how not in todo:
            continue
        clock = time.perf_counter()
        k = size // 10
        flip_rng = np.random.default_rng([seed, size, NOISE.index(how)])
        noisy, flipped_rows = flip(y, k, how, confusion, n_classes, flip_rng)
        flipped = set(flipped_rows.tolist())
        probabilities = out_of_sample(trainer, texts, noisy, unlabelled, folds=FOLDS, seed=seed)
        cell = {"corpus": corpus, "size": size, "seed": seed, "noise": how, "k": k}
        baseline = self_confidence_order(noisy, probabilities)
        cell["self_confidence"] = ranking_scores(baseline, flipped, k)
        for method in METHODS:  # cleanlab's self_confidence score is the baseline's number
            for adjust in (False, True) if method != "confidence_weighted_entropy" else (False,):
                from cleanlab.rank import get_label_quality_scores

                p = np.clip(probabilities, 1e-9, None)
                p = p / p.sum(axis=1, keepdims=True)
                scores = get_label_quality_scores(noisy, p, method=method, adjust_pred_probs=adjust)
                name = method + ("+adjust" if adjust else "")
                if name != "self_confidence":
                    cell[name] = ranking_scores(np.argsort(scores, kind="stable"), flipped, k)
        ranking = rank_labels(noisy, probabilities)
        flagged = np.flatnonzero(ranking.flagged)
        cell["flagged"] = len(flagged)
        cell["flagged_true"] = int(sum(r in flipped for r in flagged))
        cell["acc_clean"] = clean
        cell["acc_noisy"] = accuracy(noisy)
        reviewed = noisy.copy()
        reviewed[flagged] = y[flagged]  # the oracle reviewer restores the gold label
        cell["acc_review_flags"] = accuracy(reviewed)
        top2k = ranking.order[: 2 * k]
        reviewed = noisy.copy()
        reviewed[top2k] = y[top2k]
        cell["acc_review_top2k"] = accuracy(reviewed)
        cell["seconds"] = round(time.perf_counter() - clock, 1)
        cells.append(cell)
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", default="bbc,reuters,sib200")
    parser.add_argument("--sizes", default="200,500")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default="bench_review.jsonl")
    parser.add_argument("--cache", default=str(HERE / ".cache-review"))
    parser.add_argument("--only-table", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    done = {}
    if out.is_file():
        for line in out.read_text().splitlines():
            c = json.loads(line)
            done[(c["corpus"], c["size"], c["seed"], c["noise"])] = c
    if not args.only_table:
        run(args, out, done)
    table(done, args)


def run(args, out: Path, done: dict) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from activelabel.engine.training import Trainer
    from activelabel.model import ModelSettings, make_classifier, resolve_model

    base = ModelSettings(model_path=resolve_model("default"), mode="frozen", cache_dir=args.cache)
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    for corpus in args.corpora.split(","):
        data = load(corpus)
        if data is None:
            print(f"{corpus}: corpus not found under {SHARED}, skipped")
            continue
        pool, _, test, _, names, topics = data
        classifier = make_classifier("frozen", len(names), replace(base), 0, topics)
        classifier.prepare(pool + test)
        trainer = Trainer(classifier)
        for size in [int(s) for s in args.sizes.split(",")]:
            for seed in range(args.seeds):
                todo = {how for how in NOISE if (corpus, size, seed, how) not in done}
                if not todo:
                    continue
                classifier.seed = seed
                for cell in run_group(trainer, data, corpus, size, seed, todo):
                    done[(corpus, size, seed, cell["noise"])] = cell
                    with out.open("a") as handle:
                        handle.write(json.dumps(cell) + "\n")
                    margin, plain = cell["normalized_margin"], cell["self_confidence"]
                    print(
                        f"{corpus} n={size} seed={seed} {cell['noise']:>10}: "
                        f"P@k {margin[0]:.2f} / self {plain[0]:.2f}, "
                        f"R@2k {margin[1]:.2f} / self {plain[1]:.2f}, "
                        f"flags {cell['flagged']} ({cell['flagged_true']} true), acc noisy "
                        f"{cell['acc_noisy']:.3f} review {cell['acc_review_flags']:.3f} clean "
                        f"{cell['acc_clean']:.3f} ({cell['seconds']} s)",
                        flush=True,
                    )


def _mean(values) -> str:
    a = 100 * np.array(values, dtype=float)
    return f"{a.mean():.1f}±{a.std():.1f}"


def table(done: dict, args) -> None:
    groups: dict[tuple, list[dict]] = {}
    for key, cell in sorted(done.items()):
        groups.setdefault((key[0], key[3], key[1]), []).append(cell)
    rankers = [
        "normalized_margin",
        "self_confidence",
        "confidence_weighted_entropy",
        "normalized_margin+adjust",
        "self_confidence+adjust",
    ]
    print(
        "\nRanking: precision@k / recall@2k in % (mean ± sd over seeds); k = flipped labels; "
        "self_confidence = the plain baseline (cleanlab's self_confidence score is that number)"
    )
    print("| corpus | noise | labels | seeds | " + " | ".join(rankers) + " |")
    print("|---|---|---|---|" + "---|" * len(rankers))
    for (corpus, how, size), cells in groups.items():
        row = [
            f"{_mean([c[r][0] for c in cells])} / {_mean([c[r][1] for c in cells])}"
            for r in rankers
        ]
        print(f"| {corpus} | {how} | {size} | {len(cells)} | " + " | ".join(row) + " |")
    print("\nAccuracy in % (mean ± sd); cleanlab's flags: how many, of which flipped")
    print(
        "| corpus | noise | labels | clean | noisy | after review of flags | "
        "after review of top 2k | flags (flipped) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (corpus, how, size), cells in groups.items():
        flags = np.mean([c["flagged"] for c in cells])
        true = np.mean([c["flagged_true"] for c in cells])
        print(
            f"| {corpus} | {how} | {size} | {_mean([c['acc_clean'] for c in cells])} | "
            f"{_mean([c['acc_noisy'] for c in cells])} | "
            f"{_mean([c['acc_review_flags'] for c in cells])} | "
            f"{_mean([c['acc_review_top2k'] for c in cells])} | {flags:.0f} ({true:.0f}) |"
        )


if __name__ == "__main__":
    main()
