"""Crash points for testing crash safety for real: a process that reaches the point named in
``ACTIVELABEL_KILL_AT`` kills itself with SIGKILL (no clean-up, as a power cut would); one that
reaches the point named in ``ACTIVELABEL_INTERRUPT_AT`` sends itself SIGINT (Ctrl+C)."""

from __future__ import annotations

import os
import signal
import threading

KILL_AT = "ACTIVELABEL_KILL_AT"
INTERRUPT_AT = "ACTIVELABEL_INTERRUPT_AT"
POINTS = ("pull", "pull-write", "train", "select", "state-write", "push")  # a round's phases
CACHE_POINTS = ("cache-data", "cache-index")  # inside a write to the embedding cache


def checkpoint(name: str) -> None:
    if os.environ.get(KILL_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(INTERRUPT_AT) == name:
        if threading.current_thread() is threading.main_thread():
            # a process started with SIGINT ignored (a background job of a shell) never turns
            # it into KeyboardInterrupt; a Ctrl+C in a terminal reaches one that does
            signal.signal(signal.SIGINT, signal.default_int_handler)
        # raise_signal runs the handler before it returns, so the KeyboardInterrupt comes from
        # here and not from whatever bytecode runs next (a finalizer would swallow it)
        signal.raise_signal(signal.SIGINT)
