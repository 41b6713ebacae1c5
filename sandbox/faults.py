"""Injected faults for tests: armed by the `fault` control or `--fault`, each consumed by the
next matching API requests."""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

# drip: a 200 answer whose body comes one byte every `delay` s (a GSP that never finishes);
# huge: a 200 answer of `size_mb` MB (a GSP that answers too much).
KINDS = ("5xx", "429", "slow", "expire_session", "queue", "save_in_progress", "drip", "huge")


@dataclass
class Fault:
    kind: str
    times: int = 1
    delay: float = 3.0
    status: int = 503
    path_contains: str = ""
    size_mb: int = 0

    def matches(self, target: str, action: str) -> bool:
        if self.path_contains and self.path_contains not in target:
            return False
        if self.kind == "queue":
            return action == "GETINV"
        if self.kind == "save_in_progress":
            return action in ("SAVE", "RESETIMS")
        return True


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.armed: list[Fault] = []

    def arm(self, kind: str, times: int = 1, delay: float = 3.0, status: int = 503,
            path_contains: str = "", size_mb: int = 0) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind '{kind}' (one of {', '.join(KINDS)})")
        with self.lock:
            self.armed.append(Fault(kind, int(times), float(delay), int(status),
                                    path_contains or "", int(size_mb)))

    def arm_spec(self, spec: str) -> None:
        """CLI form KIND[:TIMES], e.g. `5xx:3`."""
        kind, _, times = spec.partition(":")
        self.arm(kind, int(times or 1))

    def take(self, target: str, action: str) -> Fault | None:
        """The first armed fault matching this request, counted down (None if none)."""
        with self.lock:
            for fault in self.armed:
                if fault.matches(target, action):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.armed.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self.lock:
            self.armed.clear()

    def listing(self) -> list[dict]:
        with self.lock:
            return [asdict(f) for f in self.armed]
