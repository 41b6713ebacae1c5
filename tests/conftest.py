"""Shared fixtures: a fresh DuckDB file per test, and the real sandbox over HTTP."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLES = SHARED / "samples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def db_file(tmp_path, monkeypatch) -> str:
    """A fresh store file; IMS_DB_PATH points at it for the code under test."""
    path = str(tmp_path / "ims.duckdb")
    monkeypatch.setenv("IMS_DB_PATH", path)
    return path


class Sandbox:
    """A running `python -m sandbox` process on a free port."""

    def __init__(self, port: int, proc: subprocess.Popen):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = proc

    def control(self, name: str, **payload) -> dict:
        """POST /_control/<name>: fault injection, day advance, reset (sandbox/README.md)."""
        r = requests.post(f"{self.url}/_control/{name}", json=payload, timeout=30)
        r.raise_for_status()
        return r.json()


def start_sandbox(seed: int = 7, scale: int = 300, extra: list[str] | None = None) -> Sandbox:
    port = free_port()
    cmd = [sys.executable, "-m", "sandbox", "--port", str(port), "--seed", str(seed),
           "--scale", str(scale), *(extra or [])]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sandbox exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return Sandbox(port, proc)
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("sandbox did not start within 60 s")


def stop_sandbox(sb: Sandbox) -> None:
    sb.proc.terminate()
    try:
        sb.proc.wait(10)
    except subprocess.TimeoutExpired:
        sb.proc.kill()


@pytest.fixture
def sandbox(monkeypatch):
    """A fresh sandbox per test (state changes never leak between tests)."""
    sb = start_sandbox()
    monkeypatch.setenv("GSTN_API_URL", sb.url)
    yield sb
    stop_sandbox(sb)
