"""Mapping numbers to interviews without Python: E.164 validation, the service, `milo-voice phone numbers`."""

from __future__ import annotations

from dataclasses import replace

import pytest
from phone_harness import SCRIPT

from milo_voice import cli
from milo_voice import log as milo_log
from milo_voice.calls.phone.admin import PhoneNumbers
from milo_voice.calls.phone.e164 import display, to_e164
from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.store.repo import Invalid, NotFound
from milo_voice.store.tables import InterviewStatus
from milo_voice.workspace.interviews import Interviews


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+1 415 555 0100", "+14155550100"),
        ("+1 (415) 555-0100", "+14155550100"),
        (" +14155550100 ", "+14155550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+15005550006", "+15005550006"),
    ],
)
def test_readable_numbers_normalise_to_e164(typed: str, stored: str) -> None:
    assert to_e164(typed) == stored


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("12345", "has no country code"),
        ("(415) 555-0100", "has no country code"),
        ("", "a phone number is required"),
        ("+999 123456", "is not a phone number"),
        ("+1 555", "wrong number of digits"),
        ("+1 415 555 01000", "wrong number of digits"),
        ("+1 415 555 0100 ext 3", "has an extension"),
        ("+1 099 555 0100", "not a number in use"),
        ("+1" + "5" * 60, "too long"),
    ],
)
def test_malformed_numbers_are_refused_with_the_expected_form(typed: str, says: str) -> None:
    with pytest.raises(Invalid) as refused:
        to_e164(typed)
    message = str(refused.value)
    assert says in message
    assert "E.164: a + then the country code and the number, e.g. +14155550100" in message


def test_display_is_the_international_form() -> None:
    assert display("+14155550100") == "+1 415-555-0100"
    assert display("+442079460958") == "+44 20 7946 0958"


def test_the_service_maps_lists_and_unmaps_by_interview_slug(store: SessionStore) -> None:
    interviews = Interviews(store.engine)
    first = interviews.add_script(SCRIPT, slug="phone")
    numbers = PhoneNumbers(store.engine)
    mapped = numbers.add("+1 415 555 0100", "phone")
    assert (mapped.number, mapped.interview_id, mapped.version, mapped.newest_version) == (
        "+14155550100", first, 1, None)
    assert PhoneStore(store.engine).interview_for_number("+14155550100") == first
    with pytest.raises(Invalid, match="already mapped"):
        numbers.add("+14155550100", "phone")
    with pytest.raises(NotFound, match="'nope' does not exist"):
        numbers.add("+14155550101", "nope")
    with pytest.raises(NotFound, match="no published version 7"):
        numbers.add("+14155550101", "phone", 7)
    interviews.add_script(SCRIPT, slug="draft", status=InterviewStatus.DRAFT)
    with pytest.raises(Invalid, match="no published version; publish it first"):
        numbers.add("+14155550101", "draft")
    assert [i.slug for i in numbers.choices()] == ["phone"]
    # a newer published version: the listing says the number still reaches version 1
    interviews.add_script(replace(SCRIPT, version=2), slug="phone")
    (listed,) = numbers.mapped()
    assert listed.version == 1 and listed.newest_version == 2
    assert numbers.remove("+1 (415) 555-0100").number == "+14155550100"
    assert numbers.mapped() == [] and PhoneStore(store.engine).interview_for_number("+14155550100") is None
    with pytest.raises(NotFound, match="not mapped"):
        numbers.remove("+14155550100")


def test_the_cli_adds_lists_and_removes(
    settings: Settings, store: SessionStore, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MILO_DATABASE_URL", settings.database_url)
    monkeypatch.setattr(milo_log, "configure", lambda *args: None)  # keep the test run's logging as it is
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="phone")

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(["phone", "numbers", *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("list")
    assert code == 0 and "no numbers mapped" in out
    code, out, _ = run("add", "+1 415 555 0100", "--interview", "phone")
    assert code == 0 and out.startswith("mapped +14155550100  phone version 1  Phone: two questions")
    assert PhoneStore(store.engine).interview_for_number("+14155550100") == interview_id
    code, _, err = run("add", "12345", "--interview", "phone")
    assert code == 2 and "milo-voice phone numbers add: '12345' has no country code" in err
    assert "e.g. +14155550100" in err
    code, _, err = run("add", "+14155550100", "--interview", "phone")
    assert code == 2 and "already mapped" in err
    code, out, _ = run("list")
    assert code == 0 and out.splitlines() == ["+14155550100  phone version 1  Phone: two questions"]
    code, out, _ = run("remove", "+14155550100")
    assert code == 0 and out.startswith("removed +14155550100")
    code, _, err = run("remove", "+14155550100")
    assert code == 2 and "is not mapped to any interview" in err
