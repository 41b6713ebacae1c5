"""The product never imports the sandbox, yet logs in to it on loopback out of the box: the
login it tries there (core/portal/gsp.py) must be the one the sandbox publishes."""
from __future__ import annotations

from core.portal.gsp import LOOPBACK_OTP, LOOPBACK_USERNAME
from sandbox.demo import DEMO_OTP, DEMO_USERNAME


def test_the_loopback_login_is_the_sandboxs_demo_login():
    assert (LOOPBACK_USERNAME, LOOPBACK_OTP) == (DEMO_USERNAME, DEMO_OTP)

