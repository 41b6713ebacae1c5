"""The worker's schedule: the tick that runs due jobs, catch-up, and each business's job status."""
from __future__ import annotations

from core.schedule.catch_up import catch_up_notes
from core.schedule.scheduler import Worker
from core.schedule.status import business_job_status

__all__ = ["Worker", "business_job_status", "catch_up_notes"]
