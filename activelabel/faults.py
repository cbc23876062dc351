"""Crash points for testing crash safety for real: a process that reaches the point named in
``ACTIVELABEL_KILL_AT`` kills itself with SIGKILL (no clean-up, as a power cut would)."""

from __future__ import annotations

import os
import signal

KILL_AT = "ACTIVELABEL_KILL_AT"
POINTS = ("pull", "pull-write", "train", "select", "state-write", "push")


def checkpoint(name: str) -> None:
    if os.environ.get(KILL_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)
