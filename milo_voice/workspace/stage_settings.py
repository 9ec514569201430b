"""Which servers the stages use, from the settings (one place, for the editor and the candidate pages)."""

from __future__ import annotations

from milo_voice.settings import Settings
from milo_voice.stages.assistant import Assistant


def assistant_url(settings: Settings) -> str:
    """The LLM assessment's assistant server ("" when none is configured)."""
    return settings.assessment_llm_base_url or settings.llm_base_url


def assistant(settings: Settings) -> Assistant | None:
    url = assistant_url(settings)
    if not url:
        return None
    return Assistant(base_url=url, model=settings.assessment_llm_model or settings.llm_model,
                     api_key=str(settings.llm_api_key), timeout=settings.assessment_timeout)
