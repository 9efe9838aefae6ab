"""How a command's process ends: the one definition of the exit codes, termination signals, and an exit that the
Temporal SDK's threads cannot turn into a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from enum import IntEnum
from typing import NoReturn

from liveshift.lifecycle import TERMINAL, Phase


class Exit(IntEnum):
    """The exit codes of every command (README and docs/operations-guide.md list them)."""

    OK = 0
    FAILED = 1  # the migration failed or was rolled back (start --wait, status, demo); plan --rehearse: it failed
    FINDINGS = 1  # lint: hazards found; fleet drift: a member drifted or could not be read
    REFUSED = 2  # bad input or a refused request, unknown migration, Temporal unreachable; dev/demo: no stack
    REVIEW = 3  # convert: written, with values marked for review
    NOTHING = 4  # convert: the SQL holds no DDL (e.g. a Django migration with only Python or no-op operations)
    INTERRUPTED = 130  # Ctrl-C


# phases after which nothing more happens (the lifecycle's terminal ones), and the exit code each one means
FINAL_PHASES: dict[str, Exit] = {p: (Exit.OK if p == Phase.COMPLETE else Exit.FAILED) for p in TERMINAL}


def exit_code_of(phase: str) -> Exit:
    """A migration's phase as an exit code: FAILED once it failed or rolled back, OK otherwise."""
    return FINAL_PHASES.get(phase, Exit.OK)


def _interrupt(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def interrupt_on_signals() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt, so `finally` blocks stop what the command started.

    Explicit: a shell starting us in the background would otherwise leave SIGINT ignored."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


def exit_now(code: int) -> NoReturn:
    """Exit without interpreter finalization: the Temporal SDK's core threads can otherwise crash the process
    (segfault / PyGILState_Release abort) while Python tears down, turning a clean exit code into 134 or 139."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> None:
    """End a child process we started (a worker): SIGTERM so it stops cleanly, SIGKILL after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
