"""Settings.from_env: defaults, casting, and errors that name the variable, the value and the form."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from milo_voice.calls.run import server_turn_params
from milo_voice.dialogue.turn_policy import TurnParams
from milo_voice.errors import ConfigError
from milo_voice.settings import Secret, Settings


def test_an_empty_environment_gives_the_offline_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.llm_enabled is False
    assert settings.llm_api_key == ""
    assert (settings.min_silence, settings.max_silence, settings.vad_mode) == (1.55, 4.0, 2)
    assert server_turn_params(settings) == TurnParams()  # one source of truth for the defaults
    assert settings.base_url == "http://127.0.0.1:8000"


def test_values_are_cast_to_their_field_types() -> None:
    settings = Settings.from_env(
        {
            "MILO_PORT": "9001",
            "MILO_MIN_SILENCE": "0.9",
            "MILO_MAX_SILENCE": "3",
            "MILO_RECORDINGS_DIR": "/var/lib/milo/rec",
            "MILO_LLM_API_KEY": "sk-test-123",
            "MILO_LLM_BASE_URL": "http://127.0.0.1:8080/v1",
            "MILO_TTS_ENGINE": "espeak",
            "MILO_VAD_MODE": "3",
        }
    )
    assert settings.port == 9001
    assert isinstance(settings.port, int)
    assert (settings.min_silence, settings.max_silence) == (0.9, 3.0)
    assert isinstance(settings.max_silence, float)
    assert settings.recordings_dir == Path("/var/lib/milo/rec")
    assert isinstance(settings.llm_api_key, Secret)
    assert settings.llm_api_key == "sk-test-123"
    assert settings.llm_enabled is True
    assert (settings.tts_engine, settings.vad_mode) == ("espeak", 3)


def test_every_field_can_be_set_by_its_milo_name() -> None:
    names = [f"MILO_{f.name.upper()}" for f in dataclasses.fields(Settings)]
    defaults = Settings()
    environ = {name: str(getattr(defaults, name[5:].lower())) for name in names}
    assert Settings.from_env(environ) == defaults


def test_an_unknown_milo_name_is_refused_listing_the_valid_names() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"MILO_PROT": "8000"})
    message = str(caught.value)
    assert "MILO_PROT" in message
    for valid in ("MILO_PORT", "MILO_HOST", "MILO_DATABASE_URL", "MILO_LLM_API_KEY", "MILO_MAX_SILENCE"):
        assert valid in message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MILO_PORT", "eighty", "int"),
        ("MILO_PORT", "8000.5", "int"),
        ("MILO_ASR_WORKERS", "", "int"),
        ("MILO_LLM_TIMEOUT", "fast", "float"),
        ("MILO_MIN_SILENCE", "1,5", "float"),
    ],
)
def test_a_malformed_number_names_the_variable_the_value_and_the_type(
    name: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    message = str(caught.value)
    assert name in message
    assert repr(value) in message
    assert expected in message


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"MILO_MIN_SILENCE": "3.0", "MILO_MAX_SILENCE": "2.0"}, "MILO_MIN_SILENCE"),
        ({"MILO_MIN_SILENCE": "0"}, "MILO_MIN_SILENCE"),
        ({"MILO_VAD_MODE": "5"}, "MILO_VAD_MODE"),
        ({"MILO_VAD_MODE": "-1"}, "MILO_VAD_MODE"),
        ({"MILO_TTS_ENGINE": "x"}, "MILO_TTS_ENGINE"),
        ({"MILO_LOG_FORMAT": "xml"}, "MILO_LOG_FORMAT"),
        ({"MILO_ASR_WORKERS": "0"}, "MILO_ASR_WORKERS"),
        ({"MILO_CPU_PRICE_PER_HOUR": "-0.01"}, "MILO_CPU_PRICE_PER_HOUR"),
        ({"MILO_MINUTES_PER_SCREEN": "0"}, "MILO_MINUTES_PER_SCREEN"),
    ],
)
def test_invalid_values_and_combinations_are_refused_by_name(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(environ)


def test_the_api_key_masks_itself_in_repr() -> None:
    settings = Settings.from_env({"MILO_LLM_API_KEY": "sk-very-secret-4242"})
    assert "sk-very-secret-4242" not in repr(settings)
    assert "sk-very-secret-4242" not in repr(settings.llm_api_key)
    assert "llm_api_key=Secret('**********')" in repr(settings)
    assert str(settings.llm_api_key) == "sk-very-secret-4242"  # still usable as the key


def test_variables_without_the_milo_prefix_are_ignored() -> None:
    environ = {"PATH": "/usr/bin", "HOME": "/root", "PORT": "1", "MILOPORT": "2", "XMILO_PORT": "3"}
    assert Settings.from_env(environ) == Settings()


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]
    assert settings.with_overrides(port=1).port == 1
    assert settings.port == 8000


def test_the_readme_documents_every_setting_with_its_default() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = dict(re.findall(r"^\| `MILO_([A-Z0-9_]+)` \| (.+?) \|", readme, re.M))
    defaults = Settings()
    names = {f.name for f in dataclasses.fields(Settings)}
    assert {k.lower() for k in rows} == names
    for name in names:
        value, shown = getattr(defaults, name), rows[name.upper()].strip("`")
        if isinstance(value, float):
            assert float(shown) == value, name
        else:
            assert shown == (str(value) or "(empty)"), name


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("TRUE", True), ("1", True), ("off", False),
                                            ("False", False), ("no", False)])
def test_switches_read_the_usual_words(raw: str, value: bool) -> None:
    assert Settings.from_env({"MILO_OUTREACH_ENABLED": raw}).outreach_enabled is value


def test_a_switch_that_is_neither_on_nor_off_is_refused() -> None:
    with pytest.raises(ConfigError, match="MILO_OUTREACH_ENABLED='maybe'"):
        Settings.from_env({"MILO_OUTREACH_ENABLED": "maybe"})
