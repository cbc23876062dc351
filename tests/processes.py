"""Running ``activelabel`` as a real subprocess, optionally killed at a named point."""

from __future__ import annotations

import os
import subprocess
import sys

from activelabel.faults import KILL_AT


def activelabel(*args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != KILL_AT}
    if kill_at:
        env[KILL_AT] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "activelabel", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
