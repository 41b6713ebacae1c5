"""One writer at a time among the threads (sessions) of a process, first come first served.

A plain lock hands itself to whichever waiting thread the scheduler wakes first: with a dozen
sessions saving at once on a loaded machine, one of them could watch the others take the lock
again and again and give up after the busy timeout with "database is busy" although every
save ahead of it finished in a second (issue 29.8, `bench/load.py`). Here the waiters queue in
order of arrival, and a waiter gives up only when the queue has not moved for `timeout`
seconds: when one writer held it that long, not when many writers each held it briefly. The
holder's wait for another process to let go of the file does not count either (`working()`
marks the end of it): that wait has its own busy timeout, and ends the holder's turn with
"database is busy" when it runs out.
"""
from __future__ import annotations

import threading
import time
from collections import deque


class WriterQueue:
    """A re-entrant lock granted in order of arrival; `acquire(timeout)` fails only when no
    writer has handed it on, or started its work (`working()`), for `timeout` seconds."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._waiting: deque[int] = deque()
        self._moves = 0              # counts hand-overs and starts of work: the queue moved
        self._holder_outside = False # the holder waits for another process to let go the file

    def acquire(self, timeout: float) -> bool:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return True
            self._waiting.append(me)
            seen, moved_at = self._moves, time.monotonic()
            while not (self._owner is None and self._waiting[0] == me):
                if self._moves != seen or self._holder_outside:
                    seen, moved_at = self._moves, time.monotonic()
                left = moved_at + timeout - time.monotonic()
                if left <= 0:
                    self._waiting.remove(me)
                    self._cond.notify_all()      # the next in line may be first now
                    return False
                self._cond.wait(left)
            self._waiting.popleft()
            self._owner, self._depth = me, 1
            return True

    def release(self) -> None:
        with self._cond:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a writer turn this thread does not hold")
            self._depth -= 1
            if self._depth == 0:
                self._owner, self._holder_outside = None, False
                self._moves += 1
                self._cond.notify_all()

    def waiting_for_file(self) -> None:
        """The holder waits for another process to let go of the file (a wait bounded by the
        holder's own busy timeout): the waiters' clocks stand still until it works or leaves."""
        with self._cond:
            if self._owner == threading.get_ident():
                self._holder_outside = True
                self._cond.notify_all()

    def working(self) -> None:
        """The holder has the file and starts its work: the waiters' clocks start again."""
        with self._cond:
            if self._owner == threading.get_ident():
                self._moves += 1
                self._holder_outside = False
                self._cond.notify_all()
