"""`milo-voice serve` warns at start-up when candidates could not open the links it prints."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from milo_voice.settings import Settings
from milo_voice.web.server import warn_if_links_unreachable


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """What the server's logger emits (a handler of our own: `log.configure` stops propagation)."""
    logger, handler = logging.getLogger("milo_voice.web.server"), Records()
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


def test_an_unset_public_url_is_a_start_up_warning_that_names_the_setting(
    records: list[logging.LogRecord],
) -> None:
    assert warn_if_links_unreachable(Settings(port=8123)) is True
    (record,) = records
    assert record.levelno == logging.WARNING and record.getMessage() == "serve.public_url_unreachable"
    assert record.__dict__["base_url"] == "http://127.0.0.1:8123"
    assert "Set MILO_PUBLIC_URL" in record.__dict__["warning"]


def test_a_loopback_public_url_is_warned_about_and_a_real_one_is_not(
    records: list[logging.LogRecord],
) -> None:
    assert warn_if_links_unreachable(Settings(public_url="http://localhost:8000")) is True
    assert warn_if_links_unreachable(Settings(public_url="https://interviews.example.com")) is False
    assert [r.__dict__["base_url"] for r in records] == ["http://localhost:8000"]
