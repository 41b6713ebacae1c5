"""The sandbox serves a large GSTR-2B's files encoded once per 2B version and file size
(sandbox/gstr2b.py `answer_bytes`): the same bytes as encoding the answer anew, and a
regenerated 2B, or another file size, never served from the bytes of the one before."""
from __future__ import annotations

import json

import pytest

from sandbox.gstr2b import Gstr2bBook, encoded
from sandbox.state import Portal

G = "27AAACW1234K1ZD"
PERIOD = "102025"


@pytest.fixture(scope="module")
def book():
    return Gstr2bBook(Portal(7, 300, gstins=[G]), per_file=7)


def test_files_are_encoded_once_per_version_and_file_size(book):
    book.per_file = 7
    book.generate(G, PERIOD)
    first = book.answer_bytes(G, PERIOD, "1")
    assert first == encoded(book.answer(G, PERIOD, "1"))
    assert book.answer_bytes(G, PERIOD, "1") is first          # kept, not encoded again
    assert json.loads(book.answer_bytes(G, PERIOD, None))["data"]["fc"] > 2

    book.per_file = 11                                          # files of another size
    resized = book.answer_bytes(G, PERIOD, "1")
    assert resized != first and resized == encoded(book.answer(G, PERIOD, "1"))

    book.generate(G, PERIOD)                                    # regenerated: version 2
    again = json.loads(book.answer_bytes(G, PERIOD, "1"))["data"]
    assert again["version"] == 2 and again == book.answer(G, PERIOD, "1")
