"""``activelabel simulate``: strategies x seeds with the oracle, against random."""

from __future__ import annotations

from pathlib import Path

import click

from activelabel.cli.app import cli
from activelabel.cli.ui import console, percent, task
from activelabel.config import MODES, LoopConfig
from activelabel.errors import ConfigError


@cli.command("simulate")
@click.argument("workspace", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--strategies",
    default=f"random,margin,{LoopConfig().strategy}",
    show_default=True,
    help="Comma-separated strategy specs; random is always added as the baseline.",
)
@click.option(
    "--plain",
    default="",
    help="Comma-separated strategies to run also with the plain model (the same mode without "
    "topic descriptions or pseudo-labels), e.g. 'random': the report then splits the gain over "
    "plain random labelling into the model's part and the selection's.",
)
@click.option(
    "--seeds",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="Repetitions, each with its own seed set (seeds 0..N-1 plus the workspace seed).",
)
@click.option(
    "--initial",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="Labels in the seed set.",
)
@click.option(
    "--step",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="Labels added per step.",
)
@click.option(
    "--budget",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Labels at the last step.",
)
@click.option(
    "--sizes",
    default="",
    help="Explicit label counts instead of --initial/--step/--budget, e.g. "
    "120,600,1000,1676 (the original study's design).",
)
@click.option(
    "--mode",
    type=click.Choice(list(MODES)),
    default=None,
    help="Model mode (default: the workspace's). frozen is seconds per step.",
)
@click.option(
    "--cold-start",
    default=None,
    help="How the seed set is picked, the same for every strategy: zero-shot, random, kmeans "
    "or topics (default: the workspace's loop.cold_start).",
)
@click.option(
    "--random-share",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1, max_open=True),
    help="Part of each batch drawn at random, as loop.random_share does in live rounds "
    "(0: every pick is the strategy's).",
)
@click.option(
    "--noise",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1, max_open=True),
    help="Share of the oracle's answers that are wrong (another topic, drawn uniformly): each "
    "strategy also runs on these noisy labels, beside its clean curve.",
)
@click.option(
    "--review",
    "review_every",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="With --noise: each strategy also runs with a label review every N steps (the labels "
    "cleanlab flags, answered from the gold labels, as 'activelabel review' with the oracle).",
)
@click.option("--fresh", is_flag=True, help="Forget stored points of this mode and start over.")
@click.option(
    "--report",
    "write_report",
    is_flag=True,
    help="Write the report (as 'activelabel report' does) when the simulation ends.",
)
def simulate_command(
    workspace: Path,
    strategies: str,
    plain: str,
    seeds: int,
    initial: int,
    step: int,
    budget: int,
    sizes: str,
    mode: str | None,
    cold_start: str | None,
    random_share: float,
    noise: float,
    review_every: int,
    fresh: bool,
    write_report: bool,
) -> None:
    """Simulate active learning on WORKSPACE (a fully labelled corpus): every strategy and seed
    labels the pool step by step with the oracle, and every point is stored in the workspace.
    Interrupted? Run the same command again: it continues where it stopped."""
    from activelabel.simulate import Plan, parse_sizes, run_simulation, schedule, validate
    from activelabel.strategies import make_strategy
    from activelabel.workspace import Workspace

    specs = [make_strategy(s).name for s in strategies.split(",") if s.strip()]
    if "random" not in specs:
        specs.insert(0, "random")
    ws = Workspace.open(workspace)
    cold_start = cold_start or ws.config.loop.cold_start
    make_strategy(cold_start)
    base_seed = ws.config.loop.seed
    plan = Plan(
        strategies=specs,
        seeds=[base_seed + i for i in range(seeds)],
        sizes=parse_sizes(sizes) if sizes else schedule(initial, step, budget),
        mode=mode or ws.config.model.mode,
        cold_start=cold_start,
        random_share=random_share,
        plain=tuple(make_strategy(s).name for s in plain.split(",") if s.strip()),
        noise=noise,
        review_every=review_every,
    )
    if review_every and not noise:
        raise ConfigError("--review draws noisy labels with reviews: give --noise too, e.g. 0.1")
    if len(plan.sizes) < 1:
        raise ConfigError("the schedule is empty")
    with ws.lock("a simulation"):
        if fresh:
            validate(ws, plan)  # nothing is deleted for a plan that cannot run
            ws.store.delete_sim_points(plan.mode)
        console.print(
            f"Simulating {', '.join(plan.run_of(*c) for c in plan.curves)} "
            f"× {len(plan.seeds)} seeds, "
            f"{plan.sizes[0]}…{plan.sizes[-1]} labels in {len(plan.sizes)} steps, "
            f"mode {plan.mode}"
        )
        with task("simulate", plan.steps) as progress:

            def show(point) -> None:
                progress.describe(
                    f"{point.run} s{point.seed} "
                    f"{point.n_labels:>5} labels {percent(point.evaluation.accuracy)}"
                )

            points = run_simulation(ws, plan, progress.advance, show)
    finals: dict[str, list[float]] = {}
    for point in points:
        if point.step == len(plan.sizes) - 1:
            finals.setdefault(point.run, []).append(point.evaluation.accuracy)
    for run, values in finals.items():
        console.print(
            f"{run:<32} final accuracy {percent(sum(values) / len(values))} "
            f"at {plan.sizes[-1]} labels (mean of {len(values)} seeds)"
        )
    if write_report:
        from activelabel.cli.report_cmd import report_of

        console.print(f"Report: {report_of(ws, workspace)}")
    else:
        console.print(
            f"Next: activelabel report {workspace} (writes {workspace / 'report' / 'index.html'})"
        )
