"""The daily digest and the job-failure mail (docs/mail.md): what each user's digest says for
the GSTINs they may see (core/digest/contents.py), its settings (settings.py), and the
worker's mail jobs (job.py: `due_digest`, `send_digests`, `mail_job_failures`)."""
from __future__ import annotations

from core.digest.contents import Digest, digest_for, digest_html, digest_subject
from core.digest.job import (
    DIGEST,
    digest_job,
    digest_readers,
    due_digest,
    mail_job_failures,
    send_digests,
)
from core.digest.settings import (
    OFF,
    DigestSettings,
    digest_settings,
    load_digest_settings,
    save_digest_settings,
)

__all__ = ["DIGEST", "OFF", "Digest", "DigestSettings", "digest_for", "digest_html", "digest_job",
           "digest_readers", "digest_settings", "digest_subject", "due_digest",
           "load_digest_settings", "mail_job_failures", "save_digest_settings", "send_digests"]
