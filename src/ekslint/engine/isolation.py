"""Keeping a run intact whatever a rule does: plugins are code ekslint does not
control, and a run must end with a whole report and the right exit code.

- Output: during a run (and while plugins load) stdout is the report's alone; what
  a rule prints (``print``, ``os.write(1, ...)``, a subprocess) goes to stderr.
- Exits: ``sys.exit`` in a rule is a ``SystemExit`` the engine catches like any
  exception; ``os._exit`` and ``os.abort`` called from inside a rule raise
  ``RuleExited`` instead of ending the process.
- Time: each rule call has a time limit (``limits.rule-time-limit`` in the config).
  A ticking SIGALRM (where there is one, in the main thread) raises ``RuleTimeout``
  in a rule that has run past it; a rule that swallows that and keeps going for as
  long again ends the process with a message naming the rule (a worker that ends is
  replaced and its files are redone, so the run ends with exit code 2 rather than
  hanging forever).

A call costs two attribute writes: the alarm's handler, not the call, looks at the
clock.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any, NoReturn

DEFAULT_RULE_TIME_LIMIT = 10.0  # seconds per rule call (one file, or the whole project)


class RuleAborted(BaseException):  # not an Exception: a rule's ``except Exception`` lets it through
    """A rule was stopped from outside its own code."""


class RuleExited(RuleAborted):
    def __init__(self, how: str, code: object = None) -> None:
        super().__init__(how, code)
        self.how = how
        self.code = code


class RuleTimeout(RuleAborted):
    def __init__(self, limit: float) -> None:
        super().__init__(limit)
        self.limit = limit


class _Watch:
    __slots__ = ("armed", "limit", "plugin", "previous", "rule", "seen_at", "seen_serial", "serial")

    def __init__(self) -> None:
        self.rule: object = None  # the rule whose check is running, None between calls
        self.plugin = ""  # the plugin that registered it
        self.serial = 0  # counts rule calls: the handler tells a new call from a long one
        self.seen_serial = -1
        self.seen_at = 0.0
        self.limit = DEFAULT_RULE_TIME_LIMIT
        self.armed = False
        self.previous: Any = None  # the handler and timer this process had before


_watch = _Watch()
real_exit = os._exit
_real_abort = os.abort


def _guarded_exit(status: int) -> NoReturn:
    if _watch.rule is not None:
        raise RuleExited("os._exit", status)
    real_exit(status)


def _guarded_abort() -> NoReturn:
    if _watch.rule is not None:
        raise RuleExited("os.abort")
    _real_abort()


def _install_exit_guards() -> None:
    os._exit = _guarded_exit
    os.abort = _guarded_abort
    posix = sys.modules.get("posix") or sys.modules.get("nt")
    if posix is not None:
        with contextlib.suppress(AttributeError, TypeError):
            posix._exit = _guarded_exit  # type: ignore[attr-defined]
            posix.abort = _guarded_abort  # type: ignore[attr-defined]


_install_exit_guards()


def _after_fork_in_child() -> None:
    """Timers are not inherited: a child forked during a run (a worker, the
    cross-file stage's fork) starts its own; the handler is inherited."""
    if _watch.armed:
        tick = _tick(_watch.limit)
        with contextlib.suppress(ValueError, OSError):
            signal.setitimer(signal.ITIMER_REAL, tick, tick)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _tick(limit: float) -> float:
    return min(1.0, max(0.01, limit / 10))


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    watch = _watch
    if watch.rule is None:
        return
    now = time.monotonic()
    if watch.serial != watch.seen_serial:
        watch.seen_serial = watch.serial
        watch.seen_at = now
        return
    overdue = now - watch.seen_at - watch.limit
    if overdue < 0:
        return
    grace = max(2.0, watch.limit)
    if overdue > grace:
        # It swallowed RuleTimeout and went on: nothing in this process can stop it.
        rule = getattr(watch.rule, "id", "?")
        message = (
            f"ekslint: error: rule {rule} of plugin {watch.plugin} did not stop {grace:g} s after its time "
            f"limit of {watch.limit:g} s (limits.rule-time-limit); ending this process\n"
        )
        with contextlib.suppress(OSError):
            os.write(2, message.encode("utf-8", "replace"))
        real_exit(2)
    raise RuleTimeout(watch.limit)


def arm(limit: float | None = None) -> None:
    """Start the ticking alarm in this process (main thread, where there is SIGALRM):
    for the length of a run, or the life of a spawned worker."""
    if limit is not None:
        _watch.limit = limit
    if _watch.armed or not hasattr(signal, "setitimer") or _watch.limit <= 0:
        return
    if threading.current_thread() is not threading.main_thread():
        return  # signals reach only the main thread: no time limit here
    try:
        handler = signal.signal(signal.SIGALRM, _on_alarm)
        tick = _tick(_watch.limit)
        timer = signal.setitimer(signal.ITIMER_REAL, tick, tick)
    except (ValueError, OSError):
        return
    _watch.previous = (handler, timer)
    _watch.armed = True


def disarm() -> None:
    if not _watch.armed:
        return
    handler, timer = _watch.previous
    _watch.armed = False
    _watch.previous = None
    with contextlib.suppress(ValueError, OSError):
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, handler if handler is not None else signal.SIG_DFL)
        if timer[0] > 0:  # someone else's timer: give it back
            signal.setitimer(signal.ITIMER_REAL, *timer)


def enter(rule: object, plugin: str) -> None:
    """A rule's check starts (``leave`` when it ends)."""
    watch = _watch
    watch.serial += 1
    watch.plugin = plugin
    watch.rule = rule


def leave() -> None:
    _watch.rule = None


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Everything written to stdout meanwhile, from Python or from a file
    descriptor (a subprocess, a C extension, a forked worker), goes to stderr."""
    saved_fd: int | None = None
    saved_stream = sys.stdout
    with contextlib.suppress(Exception):
        if sys.stdout is not None:
            sys.stdout.flush()
    try:
        saved_fd = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no stdout or stderr descriptor: nothing to protect at that level
        if saved_fd is not None:
            os.close(saved_fd)
        saved_fd = None
    if sys.stderr is not None:
        sys.stdout = sys.stderr
    try:
        yield
    finally:
        # Text a rule left buffered in any stdout object goes where the rest went.
        for stream in {id(s): s for s in (sys.stdout, saved_stream, sys.__stdout__)}.values():
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.flush()
        sys.stdout = saved_stream
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
