"""Large answers decoded in other processes (docs/month-close.md, "How the code does it
(GSTR-2B)"): decoding JSON into Python objects and taking their fields into columns holds the
interpreter lock, so the files of a large GSTR-2B, read in threads, use one core however many
the machine has. Decoder processes (core/portal/decoder.py, at most DECODERS, one per
core) read them instead: the answer's bytes go to a decoder through a pipe, what it made
of them (columns and a small rest) comes back pickled.

- `decode_elsewhere(fn, content)` -> fn(content) run by an idle decoder (one is started when
  none is idle and fewer than DECODERS run); None when no decoder can run it (one core, or the
  decoder failed): the caller then decodes the bytes itself, as it always did.
- `with decoding(fn):` decoders for the time inside: started at once, each importing `fn`'s
  module (about half a second of CPU each) while the first answers are on their way, and
  ended when the last reader leaves (each holds about 0.25 GiB once it has decoded: not kept
  between a month's fetches).

Decoders end at the latest with the process that started them (their pipe closes). They are
plain processes, not `multiprocessing` ones: those import the main module of the program
again, which not every program allows.
"""
from __future__ import annotations

import io
import os
import pickle
import queue
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import polars as pl

DECODERS = min(2, os.cpu_count() or 1)   # more would only wait for the cores
ROOT = Path(__file__).resolve().parents[2]
HEADER = 8   # bytes of a message's length, big-endian
START = "from core.portal.decoder import main; main()"

_LOCK = threading.Lock()
_idle: queue.SimpleQueue = queue.SimpleQueue()
_started: list[subprocess.Popen] = []


def send(pipe, payload: bytes) -> None:
    pipe.write(len(payload).to_bytes(HEADER, "big"))
    pipe.write(payload)
    pipe.flush()


def receive(pipe) -> bytes | None:
    """One message, or None when the other side is gone."""
    head = pipe.read(HEADER)
    if len(head) < HEADER:
        return None
    size = int.from_bytes(head, "big")
    payload = pipe.read(size)
    return payload if len(payload) == size else None


def _start() -> subprocess.Popen:
    """A decoder, in the repository (`-c` puts it first on the import path)."""
    return subprocess.Popen([sys.executable, "-c", START], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def _take() -> subprocess.Popen | None:
    """An idle decoder, else a new one while fewer than DECODERS run, else the first one
    that comes back (looked for again every few hundredths of a second: one may die)."""
    if DECODERS < 2:   # one core: a second process would only add the hand-over
        return None
    while True:
        try:
            return _idle.get_nowait()
        except queue.Empty:
            pass
        with _LOCK:
            _started[:] = [p for p in _started if p.poll() is None]
            if len(_started) < DECODERS:
                try:
                    proc = _start()
                except OSError:
                    return None
                _started.append(proc)
                return proc
        try:
            return _idle.get(timeout=0.05)
        except queue.Empty:
            continue


def frame_from_ipc(data: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(data))


class FramePickler(pickle.Pickler):
    """Pickles Polars frames as Arrow IPC (a quarter of the CPU of their own pickling)."""

    def reducer_override(self, obj):
        if isinstance(obj, pl.DataFrame):
            out = io.BytesIO()
            obj.write_ipc(out, compat_level=pl.CompatLevel.oldest())
            return frame_from_ipc, (out.getvalue(),)
        return NotImplemented


def dumps(value) -> bytes:
    out = io.BytesIO()
    FramePickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return out.getvalue()


def _ask(proc: subprocess.Popen, fn, content: bytes):
    """fn(content) by `proc` -> (ok, value); not ok when the decoder is gone."""
    try:
        send(proc.stdin, pickle.dumps((fn.__module__, fn.__qualname__, content),
                                      protocol=pickle.HIGHEST_PROTOCOL))
        answer = receive(proc.stdout)
    except (OSError, ValueError):
        answer = None
    if answer is None:
        return False, None
    return True, pickle.loads(answer)


def decode_elsewhere(fn, content: bytes):
    """fn(content) in a decoder process (`fn` a function at the top of its module, returning
    something picklable; an error it raises comes back as None); None when there is no
    decoder to run it (the caller decodes as usual)."""
    proc = _take()
    if proc is None:
        return None
    ok, value = _ask(proc, fn, content)
    if not ok:   # the decoder died (e.g. out of memory): let it go, another starts next time
        _stop(proc)
        return None
    _idle.put(proc)
    return value


_users = {"n": 0}


@contextmanager
def decoding(fn):
    """Decoders for the time inside (started now, each importing `fn`'s module; ended when
    the last reader inside leaves): a large answer read, not 0.5 GiB held between fetches."""
    with _LOCK:
        _users["n"] += 1
    warming = warm_decoders(fn)
    try:
        yield
    finally:
        for thread in warming:   # long done after a large answer
            thread.join()
        with _LOCK:
            _users["n"] -= 1
            last = _users["n"] == 0
        if last:
            stop_decoders()


def warm_decoders(fn) -> list[threading.Thread]:
    """Start the decoders now, each importing `fn`'s module (fn(b"") run and dropped) ->
    the threads doing it."""
    threads = [threading.Thread(target=decode_elsewhere, args=(fn, b""), daemon=True)
               for _ in range(DECODERS if DECODERS > 1 else 0)]
    for thread in threads:
        thread.start()
    return threads


def _stop(proc: subprocess.Popen) -> None:
    with _LOCK:
        if proc in _started:
            _started.remove(proc)
    for pipe in (proc.stdin, proc.stdout):
        try:
            pipe.close()
        except OSError:
            pass
    threading.Thread(target=_reap, args=(proc,), daemon=True).start()   # not waited for here


def _reap(proc: subprocess.Popen) -> None:
    """Wait for a decoder whose input is closed to end (it then does), else end it."""
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_decoders() -> None:
    """End every decoder (they also end with this process)."""
    while True:
        try:
            _idle.get_nowait()
        except queue.Empty:
            break
    with _LOCK:
        running = list(_started)
    for proc in running:
        _stop(proc)
