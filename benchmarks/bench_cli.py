#!/usr/bin/env python
"""Time the light commands in fresh processes: ``activelabel --help`` and ``activelabel status W``.

Each run starts a new Python process (``python -m activelabel ...``), so every import is paid,
as a user typing the command pays it. The figure is the median wall time of ``--repeats`` runs,
and the modules a run loaded are checked: neither command may load torch, transformers,
scikit-learn or Ray.

    python benchmarks/bench_cli.py                    # a fresh BBC workspace in a temp folder
    python benchmarks/bench_cli.py --workspace W      # status of an existing workspace
    python benchmarks/bench_cli.py --repeats 7 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("torch", "transformers", "sklearn", "ray")
TARGETS = {"--help": 0.5, "status": 1.5}  # seconds, median of fresh processes
# runs the command like the console script does, then reports which heavy modules it loaded
PROBE = (
    "import sys\n"
    "sys.argv = ['activelabel'] + sys.argv[1:]\n"
    "try:\n"
    "    from activelabel.cli import main; main()\n"
    "except SystemExit:\n"
    "    pass\n"
    f"print('LOADED', ' '.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
)


def timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "activelabel", *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def loaded(args: list[str], env: dict[str, str]) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, check=True
    )
    line = [x for x in out.stderr.splitlines() if x.startswith("LOADED")][-1]
    return line.split()[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="an existing workspace for status")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    opts = parser.parse_args()
    env = dict(os.environ, COLUMNS="120")
    with tempfile.TemporaryDirectory() as tmp:
        workspace = opts.workspace
        if workspace is None:
            workspace = Path(tmp) / "w"
            subprocess.run(
                [sys.executable, "-m", "activelabel", "init", str(workspace), "--corpus", "bbc"],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        commands = {"--help": ["--help"], "status": ["status", str(workspace)]}
        results = {}
        for name, args in commands.items():
            timed(args, env)  # warm the file cache
            times = [timed(args, env) for _ in range(opts.repeats)]
            results[name] = {
                "median_s": round(statistics.median(times), 3),
                "min_s": round(min(times), 3),
                "max_s": round(max(times), 3),
                "target_s": TARGETS[name],
                "heavy_modules_loaded": loaded(args, env),
            }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{'command':<10} {'median':>8} {'min':>7} {'max':>7} {'target':>7}  heavy modules")
    for name, r in results.items():
        heavy = ", ".join(r["heavy_modules_loaded"]) or "none"
        print(
            f"{name:<10} {r['median_s']:>7.3f}s {r['min_s']:>6.3f}s {r['max_s']:>6.3f}s "
            f"{r['target_s']:>6.1f}s  {heavy}"
        )
    print(f"({opts.repeats} fresh processes each, load average {load:.1f}, {os.cpu_count()} CPUs)")
    if opts.json:
        opts.json.write_text(json.dumps({"load": load, **results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
