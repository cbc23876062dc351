#!/usr/bin/env python
"""Time one active-learning round with activelabel and the plain Hugging Face way, in one run.

A round = train on the labelled set (fresh from the pre-trained weights), predict the test set
(accuracy), score the unlabelled pool (probabilities, and for activelabel embeddings too).

- activelabel: ``FineTunedClassifier`` (dynamic padding, length-bucketed batches, a max length
  fitted to the corpus, tokenise once, ``torch.inference_mode``, probabilities and embeddings in
  one pass over the pool).
- plain way (the original study): ``transformers.Trainer`` on
  ``AutoModelForSequenceClassification`` from the same model folder, every headline padded to
  32 tokens, then ``pipeline("text-classification", top_k=None)`` over the test set and the pool
  (same padding, same batch size as activelabel's prediction batches).

Both use the same train/test split (20 % stratified test set of the built-in BBC corpus), the
same labelled headlines, seed, epochs, learning rate (5e-5) and batch size (16). Pools larger
than the corpus repeat it; a labelled set larger than the training part repeats it too.

Every measured configuration runs in its own spawned process, so its peak memory (ru_maxrss,
and torch.cuda.max_memory_allocated on a GPU) is its own. Pool sizes are scored in increasing
order inside one process, so the peak after pool P is the peak of the round with pool P.

    python benchmarks/bench_round.py                  # the full table (about 15 min, 2 cores)
    python benchmarks/bench_round.py --quick          # a smoke run (under 2 min)
    python benchmarks/bench_round.py --device cuda    # force the GPU (default: auto)
    python benchmarks/bench_round.py --encode english,multilingual   # encode speed per preset
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

SEED = 0
PLAIN_MAX_LENGTH = 32
LEARNING_RATE = 5e-5
BATCH_SIZE = 16
PREDICT_BATCH_SIZE = 128


# ----------------------------------------------------------------------------- helpers


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _quiet() -> None:
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def _setup(job: dict):
    """Quiet libraries, fix threads, pick the device: the first thing every worker does."""
    _quiet()
    import torch

    from activelabel.model.encoder import pick_device

    torch.set_num_threads(job["threads"])
    device = pick_device(job["device"])
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    return torch, device


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak(device) -> dict:
    """Peak resident memory of this process so far (MiB), and of the GPU where there is one."""
    import torch

    peak = {"rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        peak["cuda_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    return peak


class _Clock:
    """Wall time of a block, with the GPU synchronised on both ends."""

    def __init__(self, device):
        self.device = device
        self.seconds = 0.0

    def __enter__(self):
        _sync(self.device)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        _sync(self.device)
        self.seconds = time.perf_counter() - self.start


def _data(n_labelled: int) -> dict:
    """Texts, class indices, the 20 % test split and the labelled indices (seeded)."""
    from activelabel.corpus import load_corpus
    from activelabel.corpus.split import stratified_split

    corpus = load_corpus("bbc")
    texts, labels = corpus.texts, corpus.labels
    names = sorted(set(labels))
    y = np.array([names.index(label) for label in labels], dtype=np.int64)
    test = stratified_split(labels, round(0.2 * len(texts)), SEED)
    train = np.setdiff1d(np.arange(len(texts)), test)
    rng = np.random.default_rng(SEED)
    labelled = np.resize(rng.permutation(train), n_labelled) if n_labelled else train[:0]
    return {"texts": texts, "y": y, "names": names, "test": test, "labelled": labelled}


def _pool(texts: list[str], size: int) -> list[str]:
    """``size`` headlines: the corpus shuffled and repeated as often as needed."""
    order = np.random.default_rng(SEED + 1).permutation(len(texts))
    return [texts[i] for i in np.resize(order, size)]


def _settings(job: dict):
    from activelabel.model import ModelSettings, resolve_model

    return ModelSettings(
        resolve_model("default"),
        epochs=job.get("epochs", 1),
        min_steps=1,  # the plain way has no such guard: run exactly the same epochs
        learning_rate=LEARNING_RATE,
        batch_size=BATCH_SIZE,
        predict_batch_size=PREDICT_BATCH_SIZE,
        device=job["device"],
    )


# ----------------------------------------------------------------------------- workers


def run_ours(job: dict) -> dict:
    torch, device = _setup(job)
    from activelabel.evaluation import evaluate
    from activelabel.model import FineTunedClassifier

    data = _data(job["labelled"])
    texts, y = data["texts"], data["y"]
    train_texts = [texts[i] for i in data["labelled"]]
    test_texts = [texts[i] for i in data["test"]]
    pools = {size: _pool(texts, size) for size in job["pools"]}
    result = {"device": str(device), "threads": torch.get_num_threads()}

    with _Clock(device) as clock:
        classifier = FineTunedClassifier(len(data["names"]), _settings(job), seed=SEED)
        torch.set_num_threads(job["threads"])  # the classifier sets its own; keep the job's
        classifier.prepare(train_texts + test_texts + [t for p in pools.values() for t in p])
    result["load_s"] = clock.seconds
    result["max_length"] = classifier.tokens.max_length

    seen = [0]
    with _Clock(device) as clock:
        classifier.fit(train_texts, y[data["labelled"]], lambda n: seen.__setitem__(0, seen[0] + n))
    result["train_s"], result["train_items"] = clock.seconds, seen[0]
    result["train_per_s"] = seen[0] / clock.seconds

    with _Clock(device) as clock:
        prediction = classifier.predict(test_texts)
    result["test_s"] = clock.seconds
    scores = evaluate(prediction.probabilities, y[data["test"]], len(data["names"]))
    result["accuracy"], result["macro_f1"] = scores.accuracy, scores.macro_f1
    result["after_train"] = _peak(device)

    result["pools"] = {}
    for size, pool in pools.items():
        with _Clock(device) as clock:
            scored = classifier.predict(pool)
        assert scored.probabilities.shape[0] == size and scored.embeddings.shape[0] == size
        result["pools"][size] = {"s": clock.seconds, "per_s": size / clock.seconds, **_peak(device)}
    return result


def _as_matrix(outputs: list, label2id: dict, n_classes: int) -> np.ndarray:
    matrix = np.zeros((len(outputs), n_classes), dtype=np.float32)
    for row, scores in enumerate(outputs):
        for item in scores:
            matrix[row, label2id[item["label"]]] = item["score"]
    return matrix


def run_plain(job: dict) -> dict:
    torch, device = _setup(job)
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        Trainer,
        TrainingArguments,
        pipeline,
        set_seed,
    )

    from activelabel.evaluation import evaluate
    from activelabel.model import resolve_model

    data = _data(job["labelled"])
    texts, y, n_classes = data["texts"], data["y"], len(data["names"])
    train_texts = [texts[i] for i in data["labelled"]]
    test_texts = [texts[i] for i in data["test"]]
    pools = {size: _pool(texts, size) for size in job["pools"]}
    path = resolve_model("default")
    result = {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "max_length": PLAIN_MAX_LENGTH,
    }

    with _Clock(device) as clock:
        set_seed(SEED)
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=n_classes)
        encoded = tokenizer(
            train_texts, padding="max_length", truncation=True, max_length=PLAIN_MAX_LENGTH
        )
        dataset = [
            {**{key: values[i] for key, values in encoded.items()}, "labels": int(label)}
            for i, label in enumerate(y[data["labelled"]])
        ]
    result["load_s"] = clock.seconds

    with tempfile.TemporaryDirectory() as scratch, _Clock(device) as clock:
        args = TrainingArguments(
            output_dir=scratch,
            num_train_epochs=job["epochs"],
            per_device_train_batch_size=BATCH_SIZE,
            learning_rate=LEARNING_RATE,
            seed=SEED,
            report_to="none",
            save_strategy="no",
            logging_strategy="no",
            disable_tqdm=True,
            use_cpu=device.type == "cpu",
            dataloader_num_workers=0,
        )
        with contextlib.redirect_stdout(io.StringIO()):  # Trainer prints its own metrics
            Trainer(model=model, args=args, train_dataset=dataset).train()
    result["train_s"], result["train_items"] = clock.seconds, len(dataset) * job["epochs"]
    result["train_per_s"] = result["train_items"] / clock.seconds

    model.eval()
    classify = pipeline(
        "text-classification",
        model=model,
        tokenizer=tokenizer,
        top_k=None,
        device=device,
        batch_size=PREDICT_BATCH_SIZE,
    )
    call = {"truncation": True, "padding": "max_length", "max_length": PLAIN_MAX_LENGTH}
    label2id = {f"LABEL_{i}": i for i in range(n_classes)} | dict(model.config.label2id)

    with _Clock(device) as clock:
        probabilities = _as_matrix(classify(test_texts, **call), label2id, n_classes)
    result["test_s"] = clock.seconds
    scores = evaluate(probabilities, y[data["test"]], n_classes)
    result["accuracy"], result["macro_f1"] = scores.accuracy, scores.macro_f1
    result["after_train"] = _peak(device)

    result["pools"] = {}
    for size, pool in pools.items():
        with _Clock(device) as clock:
            scored = _as_matrix(classify(pool, **call), label2id, n_classes)
        assert scored.shape[0] == size
        result["pools"][size] = {"s": clock.seconds, "per_s": size / clock.seconds, **_peak(device)}
    return result


def run_scale(job: dict) -> dict:
    """Score a pool of ``job['size']`` with an untrained classifier (same cost as a trained one)."""
    torch, device = _setup(job)
    from activelabel.corpus import load_corpus
    from activelabel.model import FineTunedClassifier

    texts = load_corpus("bbc").texts
    pool = _pool(texts, job["size"])
    classifier = FineTunedClassifier(5, _settings(job), seed=SEED)
    torch.set_num_threads(job["threads"])
    base = _peak(device)
    with _Clock(device) as clock:
        classifier.prepare(pool)
        kwargs = {} if job["embeddings"] else {"embeddings": False}
        scored = classifier.predict(pool, **kwargs)
    assert scored.probabilities.shape[0] == job["size"]
    return {
        "size": job["size"],
        "embeddings": job["embeddings"],
        "s": clock.seconds,
        "per_s": job["size"] / clock.seconds,
        "base": base,
        **_peak(device),
    }


def run_encode(job: dict) -> dict:
    """A preset's frozen encoder on ``job['size']`` BBC headlines: the time to find (or, the
    first time on a machine, build) and load it, texts per second, and its folder's size."""
    torch, device = _setup(job)
    from activelabel.config import Config, ModelConfig
    from activelabel.corpus import load_corpus
    from activelabel.model import FrozenClassifier, resolve_model

    texts = _pool(load_corpus("bbc").texts, job["size"])
    with _Clock(device) as clock:
        path = resolve_model(job["preset"])
        settings = Config(model=ModelConfig(name=job["preset"], mode="frozen")).model_settings(path)
        classifier = FrozenClassifier(5, settings, seed=SEED)
        torch.set_num_threads(job["threads"])
        classifier.prepare(texts)
        encoder = classifier.encoder(texts)
    load_s = clock.seconds
    with _Clock(device) as clock:
        encoder.encode(texts)
    disk = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    return {
        "preset": job["preset"],
        "folder": path,
        "disk_mb": disk / 2**20,
        "load_s": load_s,
        "per_s": job["size"] / clock.seconds,
        "max_length": classifier.tokens.max_length,
    }


def _spawn(function, job: dict) -> dict:
    """Run one measured configuration in a fresh process (its own peak memory)."""
    context = mp.get_context("spawn")
    with context.Pool(1) as workers:
        return workers.apply(function, (job,))


# ----------------------------------------------------------------------------- tables


def _table(header: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    return "\n".join(lines)


def _mib(peak: dict) -> str:
    return f"{peak['rss_mib']:.0f}" + (
        f" (GPU {peak['cuda_mib']:.0f})" if "cuda_mib" in peak else ""
    )


def report(results: dict) -> str:
    out = []
    rounds, throughput = [], []
    for pair in results["rounds"].values():
        ours, plain = pair["ours"], pair["plain"]
        labelled, epochs = pair["labelled"], pair["epochs"]
        throughput.append(
            [
                labelled,
                epochs,
                f"{ours['train_per_s']:.0f}",
                f"{plain['train_per_s']:.0f}",
                f"{ours['train_per_s'] / plain['train_per_s']:.2f}x",
                f"{100 * ours['accuracy']:.1f}",
                f"{100 * plain['accuracy']:.1f}",
                f"{100 * (ours['accuracy'] - plain['accuracy']):+.1f}",
            ]
        )
        for size in ours["pools"]:
            mine, theirs = ours["pools"][size], plain["pools"][size]
            ours_round = ours["load_s"] + ours["train_s"] + ours["test_s"] + mine["s"]
            plain_round = plain["load_s"] + plain["train_s"] + plain["test_s"] + theirs["s"]
            rounds.append(
                [
                    labelled,
                    epochs,
                    size,
                    f"{ours_round:.0f}",
                    f"{plain_round:.0f}",
                    f"**{plain_round / ours_round:.2f}x**",
                    f"{mine['per_s']:.0f}",
                    f"{theirs['per_s']:.0f}",
                    f"{mine['per_s'] / theirs['per_s']:.2f}x",
                    _mib(mine),
                    _mib(theirs),
                ]
            )
    if rounds:
        out.append(
            "Training (headlines/s = labelled x epochs / training seconds) and test accuracy "
            "(420 headlines)\n"
        )
        out.append(
            _table(
                [
                    "labelled",
                    "epochs",
                    "train/s ours",
                    "train/s plain",
                    "speed-up",
                    "acc % ours",
                    "acc % plain",
                    "diff",
                ],
                throughput,
            )
        )
        out.append("\nFull round (load + tokenise + train + test + score pool), seconds\n")
        out.append(
            _table(
                [
                    "labelled",
                    "epochs",
                    "pool",
                    "round s ours",
                    "round s plain",
                    "speed-up",
                    "score/s ours",
                    "score/s plain",
                    "scoring",
                    "peak MiB ours",
                    "peak MiB plain",
                ],
                rounds,
            )
        )
    if results["scale"]:
        rows = []
        for item in results["scale"]:
            rows.append(
                [
                    item["size"],
                    "yes" if item["embeddings"] else "no",
                    f"{item['s']:.1f}",
                    f"{item['per_s']:.0f}",
                    f"{1e6 / item['per_s']:.0f}",
                    f"{item['base']['rss_mib']:.0f}",
                    _mib(item),
                ]
            )
        out.append("\nPool scoring alone (activelabel, one process per size)\n")
        out.append(
            _table(
                [
                    "pool",
                    "embeddings",
                    "seconds",
                    "headlines/s",
                    "us/headline",
                    "MiB before",
                    "peak MiB",
                ],
                rows,
            )
        )
    return "\n".join(out)


def describe_machine(device: str) -> str:
    import torch
    import transformers

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = (
        f"{cpu}, {len(os.sched_getaffinity(0))} cores usable, Python {platform.python_version()}, "
        f"torch {torch.__version__}, transformers {transformers.__version__}, device {device}"
    )
    if device.startswith("cuda"):
        text += f" ({torch.cuda.get_device_name(0)})"
    with contextlib.suppress(OSError):
        text += f"; load average {os.getloadavg()[0]:.2f}"
    return text


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--labelled", default="500,2000", help="labelled-set sizes (comma list)")
    parser.add_argument(
        "--epochs", default="6,2", help="epochs per labelled size (comma list, one value for all)"
    )
    parser.add_argument("--pool", default="2000,20000", help="pool sizes of the round (comma list)")
    parser.add_argument(
        "--scale",
        default="2000,20000,200000",
        help="pool sizes for the scoring-only scale test (comma list; '' skips)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="torch threads (default: every usable core)",
    )
    parser.add_argument("--no-plain", action="store_true", help="skip the plain way")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a tiny smoke run: 64 labelled, 1 epoch, pool 256, scale 512",
    )
    parser.add_argument(
        "--probabilities-only",
        action="store_true",
        help="also score the largest scale pool with predict(embeddings=False)",
    )
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument(
        "--encode",
        default="",
        help="only time the frozen encoder of these presets (e.g. english,multilingual) on "
        "--encode-size headlines, and print their load time and disk size",
    )
    parser.add_argument("--encode-size", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.encode:
        _quiet()
        rows = []
        for preset in args.encode.split(","):
            job = {"device": args.device, "threads": args.threads}
            r = _spawn(run_encode, {**job, "preset": preset, "size": args.encode_size})
            rows.append(
                [
                    preset,
                    f"{r['per_s']:.0f}",
                    f"{r['load_s']:.1f}",
                    f"{r['disk_mb']:.0f}",
                    r["max_length"],
                    r["folder"],
                ]
            )
        header = ["preset", "headlines/s", "find+load s", "disk MiB", "max length", "folder"]
        print(_table(header, rows))
        machine = describe_machine("cpu")
        print(f"{args.encode_size} BBC headlines, {args.threads} threads; {machine}")
        return 0

    if args.quick:
        args.labelled, args.epochs, args.pool, args.scale = "64", "1", "256", "512"
    labelled, pools, scale = _sizes(args.labelled), _sizes(args.pool), _sizes(args.scale)
    epochs = _sizes(args.epochs)
    if len(epochs) == 1:
        epochs = epochs * len(labelled)
    if len(epochs) != len(labelled):
        parser.error("--epochs needs one value, or one per --labelled size")

    if not args.no_plain:
        try:
            import accelerate  # noqa: F401  (transformers.Trainer needs it)
        except ImportError:
            parser.error(
                "the plain way uses transformers.Trainer, which needs: pip install accelerate"
            )

    _quiet()
    from activelabel.model.encoder import pick_device

    device = str(pick_device(args.device))
    print(describe_machine(device), flush=True)
    started = time.perf_counter()
    results: dict = {
        "command": " ".join([Path(sys.argv[0]).name] + (argv or sys.argv[1:])),
        "machine": describe_machine(device),
        "rounds": {},
        "scale": [],
    }
    base = {"device": args.device, "threads": args.threads}
    for n, e in zip(labelled, epochs, strict=True):
        job = {**base, "labelled": n, "epochs": e, "pools": sorted(pools)}
        pair = {"labelled": n, "epochs": e}
        print(
            f"round: {n} labelled, {e} epochs, pools {sorted(pools)} — activelabel ...", flush=True
        )
        pair["ours"] = _spawn(run_ours, job)
        if not args.no_plain:
            print(
                f"round: {n} labelled, {e} epochs, pools {sorted(pools)} — plain way ...",
                flush=True,
            )
            pair["plain"] = _spawn(run_plain, job)
        results["rounds"][f"{n}x{e}"] = pair
    for size in sorted(scale):
        print(f"scale: scoring {size} headlines ...", flush=True)
        results["scale"].append(_spawn(run_scale, {**base, "size": size, "embeddings": True}))
    if scale and args.probabilities_only:
        size = max(scale)
        print(f"scale: scoring {size} headlines, probabilities only ...", flush=True)
        results["scale"].append(_spawn(run_scale, {**base, "size": size, "embeddings": False}))
    results["seconds"] = time.perf_counter() - started
    results["load_after"] = os.getloadavg()[0]

    if args.no_plain:
        for pair in results["rounds"].values():
            print(json.dumps(pair["ours"], indent=1))
        results["rounds"] = {}
    print()
    print(report(results))
    print(
        f"\n{results['command']}: {results['seconds']:.0f} s; load average at the end "
        f"{results['load_after']:.2f}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
