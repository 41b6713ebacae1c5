"""A wrong or damaged secret key never deletes GSP tokens (issue 29.6).

Before: another IMS_SECRET_KEY, a truncated or a deleted secret.key, and every GSTIN's sealed
token was deleted from the store for good (each taxpayer had to send a new OTP); a secret.key
that was a folder gave a traceback. Now the token is kept, the call is skipped with words that
name no file, and the right key brings the token back.
"""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from core.clock import utc_now
from core.portal import sessions
from core.portal.gsp import IssuedToken
from core.portal.secrets_box import key_file
from core.portal.sessions import NeedsOtp, held_token, load_session

GSTIN = "27AAPFU0939F1ZV"


@pytest.fixture
def connected(db_file, monkeypatch):
    monkeypatch.delenv("IMS_SECRET_KEY", raising=False)
    now = utc_now()
    sessions._store_token(GSTIN, IssuedToken("the-gsp-token"), now,
                          {"username": "acme", "access_ends_at": now + dt.timedelta(days=7)},
                          "test")
    assert held_token(GSTIN).token == "the-gsp-token"
    return key_file().read_text()


def refused_but_kept(sealed_before: str) -> str:
    with pytest.raises(NeedsOtp) as refused:
        held_token(GSTIN)
    row = load_session(GSTIN)
    assert row["token_sealed"] == sealed_before and row["state"] == "connected"
    words = str(refused.value)
    assert "token is kept" in words and "secret key" in words
    assert "secret.key" not in words and "delete it" not in words and "Traceback" not in words
    return words


def test_another_key_in_the_environment_keeps_the_token(connected, monkeypatch):
    sealed = load_session(GSTIN)["token_sealed"]
    monkeypatch.setenv("IMS_SECRET_KEY", "another key of at least thirty-two characters")
    refused_but_kept(sealed)
    monkeypatch.delenv("IMS_SECRET_KEY")
    assert held_token(GSTIN).token == "the-gsp-token"


@pytest.mark.parametrize("damage", ["truncated", "deleted", "a folder"])
def test_a_damaged_key_file_keeps_the_token_and_the_right_key_brings_it_back(connected, damage):
    sealed = load_session(GSTIN)["token_sealed"]
    path = key_file()
    if damage == "truncated":
        path.write_text(connected[:10])
    elif damage == "deleted":
        path.unlink()
    else:
        path.unlink()
        path.mkdir()
    words = refused_but_kept(sealed)
    if damage != "deleted":
        assert "cannot be used" in words
    if path.is_dir():
        shutil.rmtree(path)
    path.write_text(connected)                                # the right key, put back
    assert held_token(GSTIN).token == "the-gsp-token"
