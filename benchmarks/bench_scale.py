#!/usr/bin/env python
"""Rounds on pools of 10k, 100k and 1M synthetic headlines: time, headlines/s and peak memory.

Each pool is built from the built-in BBC headlines: a headline, then three words drawn (seeded)
from the corpus's vocabulary, so the texts are distinct and keep their topic; the gold label is
the headline's, and 400 of them form the test set. For each size the workspace is made with
``activelabel init --mode frozen`` and two rounds run, each with ``activelabel round`` in its own
process (its peak RSS, ``ru_maxrss`` from ``wait4``, is its own):

- *cold*: round 0; the embedding cache is empty, so the whole pool is encoded (and cached);
- *warm*: round 1; trains on round 0's labels and scores the pool from the cache.

Sizes above ``--cold-limit`` are not encoded: the table prints the projected cold time from the
encode rate measured on the largest size that was, and no warm round (a warm cache needs the
cold encode first). ``--ray-size`` adds cold rounds with ``[compute] engine = "ray"`` on a local
Ray instance with each of ``--ray-workers`` model actors (Ray's workers are separate processes:
the RSS column is the driver's).

    python benchmarks/bench_scale.py                          # tiny random BERT, 10k/100k/1M
    python benchmarks/bench_scale.py --model default --sizes 10000 --cold-limit 10000
    python benchmarks/bench_scale.py --sizes 10000 --ray-size 10000 --ray-workers 1,2
    python benchmarks/bench_scale.py --scenario round-200k    # the default MiniLM, 200,000 rows

``--scenario round-200k`` is a new user's first two rounds on a 200,000-row CSV (199,600 pool
headlines, 400 test) in frozen mode with the default model (all-MiniLM-L6-v2 unless ``--model``
says otherwise): round 0 with a cold embedding cache, then round 1, which pulls round 0's batch
from the oracle annotator (the gold labels of the CSV) and scores the pool from the warm cache.
It prints each command's time and peak RSS and the progress lines it wrote.

``--scenario export`` measures ``activelabel export predictions`` (train on the labels, predict
every unlabelled headline, write a CSV) on each of ``--sizes`` (default 10k and 100k): the
workspace gets two rounds first (round 1 pulls round 0's batch from the oracle), or is reused
when ``--work`` already holds it.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from activelabel.testing import configure, tiny_bert

ROOT = Path(__file__).resolve().parent.parent
TEST_SIZE = 400


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def write_pool(path: Path, size: int, seed: int = 0) -> None:
    """``size`` distinct synthetic headlines plus the test rows, as a CSV (id, text, label)."""
    from activelabel.corpus.builtin import load_bbc

    records = load_bbc().records
    vocabulary = sorted({w for r in records for w in re.findall(r"[A-Za-z]{4,}", r.text)})
    rng = np.random.default_rng(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        done = 0
        while done < size + TEST_SIZE:
            n = min(100_000, size + TEST_SIZE - done)
            heads = rng.integers(len(records), size=n)
            words = rng.integers(len(vocabulary), size=(n, 3))
            for i in range(n):
                record = records[heads[i]]
                suffix = " ".join(vocabulary[w] for w in words[i])
                writer.writerow([f"s{done + i}", f"{record.text} {suffix}", record.label])
            done += n


def timed(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run ``activelabel ARGS`` in a child; (wall seconds, peak RSS MiB, output)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "activelabel", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"activelabel {' '.join(args)} failed:\n{output[-3000:]}")
    return wall, usage.ru_maxrss / 1024, output


def init(work: Path, name: str, corpus: Path, model: str) -> tuple[Path, float, float]:
    ws = work / name
    wall, rss, _ = timed(
        [
            "init",
            str(ws),
            "--corpus",
            str(corpus),
            "--mode",
            "frozen",
            "--model",
            model,
            "--test-size",
            str(TEST_SIZE),
        ]
    )
    return ws, wall, rss


def scenario_200k(work: Path, model: str, rows: int = 200_000) -> None:
    """``init`` and two rounds on a ``rows``-row CSV, each command timed in its own process."""
    corpus = work / f"scenario-{rows}.csv"
    write_pool(corpus, rows - TEST_SIZE)
    ws, wall, rss = init(work, f"scenario-{rows}", corpus, model)
    print(f"$ activelabel init {ws.name} --corpus {corpus.name} --mode frozen --model {model}")
    print(f"# {wall:.1f} s, peak RSS {rss:.0f} MiB", flush=True)
    for kind in ("cold cache (round 0)", "warm cache (round 1)"):
        wall, rss, output = timed(["round", str(ws)])
        print(f"$ activelabel round {ws.name}    # {kind}")
        print(output.rstrip())
        print(f"# {kind}: {wall:.1f} s, peak RSS {rss:.0f} MiB", flush=True)
    corpus.unlink()


def scenario_export(work: Path, model: str, sizes: list[int]) -> list[list]:
    """Time and peak RSS of ``export predictions`` per pool size; the table's rows."""
    rows = []
    for size in sorted(sizes):
        ws = work / f"export-{size}"
        if not (ws / "activelabel.toml").is_file():
            corpus = work / f"pool-{size}.csv"
            write_pool(corpus, size)
            init(work, ws.name, corpus, model)
            corpus.unlink()
            timed(["round", str(ws), "--rounds", "2"])
        out = work / f"predictions-{size}.csv"
        wall, rss, output = timed(["export", "predictions", str(ws), str(out), "--overwrite"])
        written = sum(1 for _ in out.open(encoding="utf-8")) - 1
        rows.append(
            [size, "export predictions", f"{wall:.1f}", f"{written / wall:.0f}", f"{rss:.0f}"]
        )
        print(output.rstrip())
        print(f"{size}: export predictions {wall:.1f} s, {rss:.0f} MiB", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, help="pool sizes (default 10k,100k,1M)")
    parser.add_argument(
        "--model",
        help="'tiny' (random BERT; default), 'default' (MiniLM; the scenario's default), a path",
    )
    parser.add_argument("--cold-limit", type=int, default=1_000_000, help="largest cold encode")
    parser.add_argument("--ray-size", type=int, default=0, help="pool size of the Ray rounds")
    parser.add_argument("--ray-workers", type=_sizes, default=[1, 2])
    parser.add_argument("--work", default="", help="folder for workspaces (default: a temp dir)")
    parser.add_argument(
        "--scenario", choices=["round-200k", "export"], help="run only this scenario (see above)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.scenario == "round-200k":
        model = tiny_bert(work / "tiny-bert") if args.model == "tiny" else args.model or "default"
        print(f"# model: {model}; machine: {platform.machine()}, {os.cpu_count()} CPUs")
        scenario_200k(work, model)
        return 0
    args.model = args.model or "tiny"
    model = tiny_bert(work / "tiny-bert") if args.model == "tiny" else args.model
    model_name = "tiny random BERT (2x64)" if args.model == "tiny" else args.model
    print(f"# model: {model_name}; machine: {platform.machine()}, {os.cpu_count()} CPUs")
    if args.scenario == "export":
        print_table(scenario_export(work, model, args.sizes or [10_000, 100_000]), model_name)
        return 0
    rows, rate = [], None
    for size in sorted(args.sizes or [10_000, 100_000, 1_000_000]):
        corpus = work / f"pool-{size}.csv"
        write_pool(corpus, size)
        if size > args.cold_limit:
            projected = size / rate if rate else float("nan")
            rows.append([size, "cold (projected)", f"{projected:.0f}", f"{rate or 0:.0f}", "-"])
            print(f"{size}: cold encode projected at {projected:.0f} s", flush=True)
            continue
        ws, init_s, init_rss = init(work, f"ws-{size}", corpus, model)
        print(f"{size}: init {init_s:.1f} s, {init_rss:.0f} MiB", flush=True)
        for kind in ("cold", "warm"):
            wall, rss, _ = timed(["round", str(ws)])
            pool = size - (50 if kind == "warm" else 0)
            rows.append([size, kind, f"{wall:.1f}", f"{pool / wall:.0f}", f"{rss:.0f}"])
            print(f"{size}: {kind} round {wall:.1f} s, {rss:.0f} MiB", flush=True)
            if kind == "cold":
                rate = size / wall
        corpus.unlink()
    if args.ray_size:
        corpus = work / f"pool-{args.ray_size}.csv"
        write_pool(corpus, args.ray_size)
        for workers in args.ray_workers:
            ws, _, _ = init(work, f"ray-{workers}", corpus, model)
            configure(ws, compute={"engine": "ray", "address": "local", "workers": workers})
            wall, rss, _ = timed(["round", str(ws)])
            label = f"cold, Ray {workers} worker{'s' if workers > 1 else ''}"
            rows.append(
                [args.ray_size, label, f"{wall:.1f}", f"{args.ray_size / wall:.0f}", f"{rss:.0f}"]
            )
            print(f"{args.ray_size}: {label} {wall:.1f} s", flush=True)
    print_table(rows, model_name)
    return 0


def print_table(rows: list[list], model_name: str) -> None:
    print()
    print(f"| pool | run | seconds | headlines/s | peak RSS MiB |  ({model_name})")
    print("| ---: | --- | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
    sys.exit(main())
