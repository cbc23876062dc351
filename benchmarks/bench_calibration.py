"""Calibration of the model's confidence: expected calibration error (ECE) on the test split,
raw and after temperature scaling fitted on held-out folds of the labels (as a round does).

The default learner (frozen encoder) trains on random labelled subsets of the pool (per seed,
nested: the first n of one permutation; the rest of the pool unlabelled) and is scored on one
fixed stratified test split (20 %; sib200-en: its own test split). Nothing is tuned here: the
folds (5) and bins (15) are fixed. Corpora: BBC headlines (built in),
``../shared/corpora/reuters-titles.csv`` and ``../shared/corpora/sib200-en.csv``.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_calibration.py \\
        --seeds 5 --sizes 50,200,500 --out calibration.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"


def load(name: str):
    """(pool texts, pool y, test texts, test y, class names, topic descriptions), or None."""
    from benchmarks.bench_learners import load as load_learners_corpus
    from benchmarks.bench_learners import load_sib200_en

    if name in ("bbc", "reuters"):
        return load_learners_corpus(name)
    return load_sib200_en(lambda n: f"{n}: {n}")


def cell(classifier, data, rows: np.ndarray, seed: int) -> dict:
    from activelabel.model.calibration import expected_calibration_error, fit_calibration, scaled

    pool, pool_y, test, test_y, _, _ = data
    chosen = set(rows.tolist())
    texts = [pool[i] for i in rows]
    unlabelled = [t for i, t in enumerate(pool) if i not in chosen]
    classifier.fit(texts, pool_y[rows], unlabelled=unlabelled)
    p = classifier.predict(test, embeddings=False).probabilities
    fitted = fit_calibration(classifier, texts, pool_y[rows], unlabelled, seed=seed)
    temperature = fitted["temperature"] if fitted else 1.0
    return {
        "accuracy": float((p.argmax(axis=1) == test_y).mean()),
        "confidence": float(p.max(axis=1).mean()),
        "confidence_after": float(scaled(p, temperature).max(axis=1).mean()),
        "ece_before": expected_calibration_error(p, test_y),
        "ece_after": expected_calibration_error(scaled(p, temperature), test_y),
        "temperature": temperature,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", default="bbc,reuters,sib200-en")
    parser.add_argument("--sizes", default="50,200,500")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default="calibration.jsonl")
    parser.add_argument("--only-table", action="store_true", help="print the table of --out")
    args = parser.parse_args()
    out = Path(args.out)
    done = {}
    if out.is_file():
        for line in out.read_text().splitlines():
            c = json.loads(line)
            done[(c["corpus"], c["size"], c["seed"])] = c
    if not args.only_table:
        run(args, out, done)
    table(done)


def run(args, out: Path, done: dict) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from activelabel.model import ModelSettings, make_classifier, resolve_model

    settings = ModelSettings(model_path=resolve_model("default"))
    for corpus in args.corpora.split(","):
        data = load(corpus)
        if data is None:
            print(f"{corpus}: not found, skipped")
            continue
        pool, _, test, _, names, topics = data
        for seed in range(args.seeds):
            order = np.random.default_rng(seed).permutation(len(pool))
            classifier = make_classifier("frozen", len(names), settings, seed, topics)
            classifier.prepare(pool + test)
            for size in (int(s) for s in args.sizes.split(",")):
                key = (corpus, size, seed)
                if key in done or size > len(pool):
                    continue
                c = {"corpus": corpus, "size": size, "seed": seed}
                c |= cell(classifier, data, np.sort(order[:size]), seed)
                done[key] = c
                with out.open("a") as handle:
                    handle.write(json.dumps(c) + "\n")
                print(
                    f"{corpus} n={size} seed={seed} acc {c['accuracy']:.3f} ECE "
                    f"{c['ece_before']:.3f} -> {c['ece_after']:.3f} (T {c['temperature']:.2f})",
                    flush=True,
                )


def table(done: dict) -> None:
    print(
        "| corpus | labels | seeds | accuracy | mean confidence raw → scaled | ECE raw | "
        "ECE scaled | temperature |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    groups: dict[tuple[str, int], list[dict]] = {}
    for c in done.values():
        groups.setdefault((c["corpus"], c["size"]), []).append(c)
    for (corpus, size), cells in sorted(groups.items()):

        def mean(key: str, scale: float = 100.0, cells=cells) -> str:
            values = np.array([c[key] for c in cells]) * scale
            return f"{values.mean():.1f} ± {values.std():.1f}"

        print(
            f"| {corpus} | {size} | {len(cells)} | {mean('accuracy')} | "
            f"{mean('confidence')} → {mean('confidence_after')} | {mean('ece_before')} | "
            f"{mean('ece_after')} | {mean('temperature', 1.0)} |"
        )


if __name__ == "__main__":
    main()
