"""A decoder process (core/portal/decoders.py starts it, calling `main`; not a command): reads
(module, function, bytes) requests from its standard input, answers function(bytes) pickled on
its standard output (None when the function raised; Polars frames as Arrow IPC), until its
input closes."""
from __future__ import annotations

import importlib
import os
import pickle
import sys

from core.portal.decoders import dumps, receive, send


def serve(source, sink) -> None:
    while (request := receive(source)) is not None:
        module, name, content = pickle.loads(request)
        try:
            value = getattr(importlib.import_module(module), name)(content)
        except Exception:   # noqa: BLE001 - the caller then decodes it itself and says why
            value = None
        send(sink, dumps(value))


def main() -> None:
    """Answers go to the standard output as it was; anything else written there (a stray
    print) goes to the standard error, not into an answer."""
    sink = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, sink)

