"""The public-URL rule on its own: can candidates open links built on MILO_PUBLIC_URL?"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from milo_voice.settings import Settings
from milo_voice.workspace.public_url import problem, reachable, warning

THIS_MACHINE_ONLY = [
    "http://localhost:8000",
    "http://LOCALHOST.:8000/",
    "https://app.localhost",
    "http://127.0.0.1:8000",
    "http://127.9.8.7",
    "http://127.1:8000",
    "http://2130706433/",
    "http://[::1]:8000",
    "http://[::ffff:127.0.0.1]:8000",
    "http://0.0.0.0:8000",
    "http://[::]:8000",
]
REACHABLE = [
    "https://interviews.example.com",
    "https://interviews.example.com/",
    "http://192.168.1.20:8000",
    "http://10.0.0.5",
    "https://[2001:db8::1]:8443",
    "https://localhost-jobs.example.org",
    "https://jobs.example.com/milo",
]


@pytest.mark.parametrize("url", THIS_MACHINE_ONLY)
def test_loopback_and_wildcard_addresses_are_this_machine_only(url: str) -> None:
    assert not reachable(url)
    assert "names this machine only" in problem(url)


@pytest.mark.parametrize("url", REACHABLE)
def test_names_and_lan_or_public_addresses_are_reachable(url: str) -> None:
    assert reachable(url) and problem(url) == ""


@pytest.mark.parametrize("url", ["", "   "])
def test_an_unset_public_url_is_a_problem(url: str) -> None:
    assert problem(url) == "MILO_PUBLIC_URL is not set"


@pytest.mark.parametrize("url", ["interviews.example.com", "ftp://example.com", "https://", "http://[::1"])
def test_a_url_without_http_scheme_or_host_is_a_problem(url: str) -> None:
    assert "is not an http:// or https:// address" in problem(url)


@given(st.integers(0x7F000000, 0x7FFFFFFF), st.integers(1, 65535))
def test_every_address_in_127_0_0_0_8_is_this_machine_only(address: int, port: int) -> None:
    assert not reachable(f"http://{ipaddress.IPv4Address(address)}:{port}")


@given(st.from_regex(r"[a-z][a-z0-9-]{0,20}\.(com|org|io|example)", fullmatch=True))
def test_ordinary_host_names_are_reachable(host: str) -> None:
    assert reachable(f"https://{host}")


def test_the_warning_says_where_links_point_and_what_to_set() -> None:
    text = warning(Settings(port=8123))
    assert "MILO_PUBLIC_URL is not set" in text
    assert "http://127.0.0.1:8123" in text and "Set MILO_PUBLIC_URL to" in text
    assert "localhost" in warning(Settings(public_url="http://localhost:9000"))
    assert warning(Settings(public_url="https://interviews.example.com")) == ""
