"""The worker's schedule: the tick that runs due jobs, catch-up, each business's job status, and
the worker's CPU priority below people's (core/schedule/priority.py)."""
from __future__ import annotations

from core.schedule.catch_up import catch_up_notes
from core.schedule.priority import worker_niceness, yield_cpu_to_people
from core.schedule.scheduler import Worker
from core.schedule.status import business_job_status

__all__ = ["Worker", "business_job_status", "catch_up_notes", "worker_niceness",
           "yield_cpu_to_people"]
