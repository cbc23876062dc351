"""The light commands stay light: the command line with every sub-command registered, and
``status`` and ``report`` on a workspace with rounds, never load torch, transformers,
scikit-learn or Ray.

Each check runs in a fresh interpreter, since this test process has loaded them already.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli import init_workspace, run

HEAVY = ("torch", "transformers", "sklearn", "ray")
ROOT = Path(__file__).resolve().parents[1]


def loaded_after(code: str, modules: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of ``modules`` a fresh interpreter holds after running ``code``."""
    probe = code + f"\nimport sys\nprint(' '.join(m for m in {modules!r} if m in sys.modules))"
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="120")
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split("\n")[-2].split()


def command(*args: object) -> str:
    """Runs ``activelabel ARGS`` as the console script does, keeping the interpreter alive."""
    argv = ["activelabel", *map(str, args)]
    return (
        f"import sys\nsys.argv = {argv!r}\nfrom activelabel.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code"
    )


def test_the_command_line_with_every_sub_command_loads_no_heavy_module():
    assert loaded_after("import activelabel.cli.commands") == []
    assert loaded_after(command("--help"), HEAVY + ("numpy",)) == []  # --help stays instant
    for name in ("init", "round", "simulate", "export", "serve", "review", "report", "status"):
        assert loaded_after(command(name, "--help")) == [], name


def test_config_loads_no_heavy_module():
    assert loaded_after("import activelabel.config, activelabel.workspace") == []


def test_status_and_report_load_no_heavy_module(tmp_path, small_corpus, tiny_model):
    ws = init_workspace(tmp_path / "w", small_corpus, tiny_model, "--batch-size", 8)
    assert run("round", ws, "--rounds", "2").exit_code == 0
    assert loaded_after("import activelabel.cli.status_cmd, activelabel.stopping") == []
    assert loaded_after(command("status", ws)) == []
    assert loaded_after(command("report", ws)) == []
