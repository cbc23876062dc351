"""Accuracy, macro-F1 and training time of the learners (model modes) at fixed label counts.

Every learner trains on the same random labelled subsets of the pool (per seed, nested: the
first n headlines of one permutation), with the rest of the pool as its unlabelled set, and is
scored on one fixed stratified test split (20 %). Corpora: the built-in BBC headlines and, if
present, ``../shared/corpora/reuters-titles.csv`` (24 topics; names as topic descriptions).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_learners.py --seeds 3 \\
        --learners frozen,setfit,finetune --sizes 20,50,120,500,1000 --out cells.jsonl

Each cell (corpus, learner, size, seed) is appended to ``--out`` as soon as it is done; a rerun
with the same file skips finished cells, so a long table can be built in several runs.
Learners: frozen (the frozen learner as configured by default), frozen-plain (no topic
descriptions, no pseudo-labels), frozen/no-pseudo, frozen/predicted-shares,
frozen/balanced-shares (one lever changed), setfit, topic-head (setfit's head on the pre-trained
encoder: no pairs),
finetune (plain, as in the original study: no topic examples, no
teacher), finetune+topics (topic descriptions as weighted examples), finetune+levers (topic
descriptions + frozen-teacher pseudo-labels, 50 per class), auto.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REUTERS = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "reuters-titles.csv"
)
LEARNERS = {  # name: (mode, settings overrides)
    "frozen": ("frozen", {}),
    # the frozen learner with one lever changed; frozen-plain is the original study's head
    "frozen-plain": ("frozen", {"topic_weight": 0.0, "pseudo_labels": "none", "prior": "none"}),
    "frozen/no-pseudo": ("frozen", {"pseudo_labels": "none"}),
    "frozen/predicted-shares": ("frozen", {"pseudo_shares": "predicted"}),
    "frozen/balanced-shares": ("frozen", {"pseudo_shares": "balanced"}),
    "setfit": ("setfit", {}),
    # the setfit head alone (topic descriptions as examples) on the pre-trained encoder
    "topic-head": ("setfit", {"setfit_max_pairs": 0}),
    "finetune": ("finetune", {"topic_weight": 0.0, "teacher_pseudo_labels": 0}),
    "finetune+topics": ("finetune", {"teacher_pseudo_labels": 0}),
    "finetune+levers": ("finetune", {"teacher_pseudo_labels": 50}),
    "auto": ("auto", {}),
}


def load(name: str):
    """(pool texts, pool y, test texts, test y, class names, topic descriptions), or None."""
    from activelabel.corpus import load_corpus
    from activelabel.corpus.split import stratified_split
    from activelabel.corpus.taxonomy import load_taxonomy
    from activelabel.model import topic_descriptions

    if name == "bbc":
        corpus = load_corpus("bbc")
        texts, labels = [r.text for r in corpus.records], list(corpus.labels)
        names = sorted(set(labels))
        topics = topic_descriptions(load_taxonomy("iptc").restrict(names).topics)
    else:
        if not REUTERS.is_file():
            return None
        import csv

        with REUTERS.open(encoding="utf-8") as handle:
            rows = list(
                dict.fromkeys((r["headline"], r["category"]) for r in csv.DictReader(handle))
            )
        texts, labels = [t for t, _ in rows], [c for _, c in rows]
        names = sorted(set(labels))
        topics = [f"{n}: news about {n}" for n in names]
    y = np.array([names.index(label) for label in labels])
    test = set(stratified_split(labels, round(0.2 * len(labels)), 0).tolist())
    pool = [i for i in range(len(texts)) if i not in test]
    test_rows = sorted(test)
    return (
        [texts[i] for i in pool],
        y[pool],
        [texts[i] for i in test_rows],
        y[test_rows],
        names,
        topics,
    )


def load_sib200_en(describe):
    """SIB-200-en with its own split (pool = train + dev, test = test) in the form of
    :func:`load`, each topic described by ``describe(name)``; None if the file is absent."""
    import csv

    path = REUTERS.parent / "sib200-en.csv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names = sorted({r["category"] for r in rows})

    def arrays(part):
        return [r["text"] for r in part], np.array([names.index(r["category"]) for r in part])

    pool_x, pool_y = arrays([r for r in rows if r["split"] != "test"])
    test_x, test_y = arrays([r for r in rows if r["split"] == "test"])
    return pool_x, pool_y, test_x, test_y, names, [describe(n) for n in names]


def run_cell(classifier, data, rows: np.ndarray) -> dict:
    from activelabel.evaluation import evaluate

    pool, pool_y, test, test_y, names, _ = data
    chosen = set(rows.tolist())
    clock = time.perf_counter()
    classifier.fit(
        [pool[i] for i in rows],
        pool_y[rows],
        unlabelled=[t for i, t in enumerate(pool) if i not in chosen],
    )
    seconds = time.perf_counter() - clock
    result = evaluate(classifier.predict(test, embeddings=False).probabilities, test_y, len(names))
    return {
        "accuracy": result.accuracy,
        "macro_f1": result.macro_f1,
        "fit_s": round(seconds, 2),
        "summary": classifier.training_summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", default="bbc,reuters")
    parser.add_argument("--learners", default=",".join(LEARNERS))
    parser.add_argument("--sizes", default="20,50,120,500,1000")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default="bench_learners.jsonl")
    parser.add_argument("--only-table", action="store_true", help="print the table of --out")
    args = parser.parse_args()
    out = Path(args.out)
    done = {}
    if out.is_file():
        for line in out.read_text().splitlines():
            cell = json.loads(line)
            done[(cell["corpus"], cell["learner"], cell["size"], cell["seed"])] = cell
    if not args.only_table:
        run(args, out, done)
    table(done, args)


def run(args, out: Path, done: dict) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from activelabel.model import ModelSettings, make_classifier, resolve_model

    base = ModelSettings(model_path=resolve_model("default"))
    sizes = [int(s) for s in args.sizes.split(",")]
    for corpus in args.corpora.split(","):
        data = load(corpus)
        if data is None:
            print(f"{corpus}: {REUTERS} not found, skipped")
            continue
        pool, pool_y, test, _, names, topics = data
        for learner in args.learners.split(","):
            mode, overrides = LEARNERS[learner]
            for seed in range(args.seeds):
                order = np.random.default_rng(seed).permutation(len(pool))
                # one model per learner x seed: auto's reuse of a choice stays within a seed
                classifier = make_classifier(
                    mode, len(names), replace(base, mode=mode, **overrides), 0, topics
                )
                classifier.prepare(pool + test)
                for size in sizes:
                    key = (corpus, learner, size, seed)
                    if key in done or size > len(pool):
                        continue
                    cell = {"corpus": corpus, "learner": learner, "size": size, "seed": seed}
                    cell |= run_cell(classifier, data, np.sort(order[:size]))
                    done[key] = cell
                    with out.open("a") as handle:
                        handle.write(json.dumps(cell) + "\n")
                    print(
                        f"{corpus} {learner:>16} n={size:>5} seed={seed} "
                        f"acc {cell['accuracy']:.3f} F1 {cell['macro_f1']:.3f} "
                        f"fit {cell['fit_s']:.1f}s {cell['summary'].get('chosen', '')}",
                        flush=True,
                    )


def table(done: dict, args) -> None:
    cells: dict[tuple[str, str, int], list[dict]] = {}
    for (corpus, learner, size, _), cell in sorted(done.items()):
        cells.setdefault((corpus, learner, size), []).append(cell)
    for corpus in args.corpora.split(","):
        sizes = sorted({k[2] for k in cells if k[0] == corpus})
        learners = [x for x in LEARNERS if any(k[:2] == (corpus, x) for k in cells)]
        if not sizes:
            continue
        print(f"\n{corpus}: accuracy / macro-F1 in % (mean ± sd over seeds), fit seconds")
        print(f"| learner | {' | '.join(f'{s} labels' for s in sizes)} |")
        print(f"|---|{'---|' * len(sizes)}")
        for learner in learners:
            row = []
            for size in sizes:
                group = cells.get((corpus, learner, size), [])
                if not group:
                    row.append("–")
                    continue
                acc = 100 * np.array([c["accuracy"] for c in group])
                f1 = 100 * np.array([c["macro_f1"] for c in group])
                fit = np.mean([c["fit_s"] for c in group])
                text = (
                    f"{acc.mean():.1f}±{acc.std():.1f} / {f1.mean():.1f}±{f1.std():.1f} "
                    f"({fit:.0f}s, {len(group)} seeds)"
                )
                chosen = [c["summary"].get("chosen") for c in group if "chosen" in c["summary"]]
                if chosen:
                    text += " " + ",".join(f"{m}×{chosen.count(m)}" for m in sorted(set(chosen)))
                row.append(text)
            print(f"| {learner} | {' | '.join(row)} |")


if __name__ == "__main__":
    main()
