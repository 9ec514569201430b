"""Which servers the stages use, from the settings: the assessment's assistant and the scorer that
judges a stage (one place, for the editor, the candidate pages and the jobs)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from milo_voice.errors import EngineUnavailable
from milo_voice.outreach.sms_channel import SmsConfig
from milo_voice.scoring.scorer import Scorer
from milo_voice.scoring.service import make_scorer, offline_scorer
from milo_voice.settings import Settings
from milo_voice.stages.assistant import Assistant
from milo_voice.stages.types import StageOutcome, StageSpec
from milo_voice.workspace.interview_stages import unpublishable

log = logging.getLogger(__name__)


def assistant_url(settings: Settings) -> str:
    """The LLM assessment's assistant server ("" when none is configured)."""
    return settings.assessment_llm_base_url or settings.llm_base_url


def why_unpublishable(settings: Settings, stages: Sequence[StageSpec]) -> str:
    """"" when this server can run every one of `stages`; else what to configure."""
    sms = SmsConfig.from_settings(settings) is not None
    return unpublishable(stages, assistant=bool(assistant_url(settings)), sms=sms)


def assistant(settings: Settings) -> Assistant | None:
    url = assistant_url(settings)
    if not url:
        return None
    return Assistant(base_url=url, model=settings.assessment_llm_model or settings.llm_model,
                     api_key=str(settings.llm_api_key), timeout=settings.assessment_timeout)


async def judged(settings: Settings, run: Callable[[Scorer], Awaitable[StageOutcome]]) -> StageOutcome:
    """`run` with the configured scorer (offline by default, the LLM with MILO_SCORER=llm); an LLM that
    is unavailable gives way to the offline scorer, and the reason says so."""
    scorer = make_scorer(settings)
    try:
        return await run(scorer)
    except EngineUnavailable as exc:
        if scorer.name == "offline":
            raise
        log.warning("stages.llm_gave_way", extra={"error": str(exc)})
        outcome = await run(offline_scorer(settings))
        return replace(outcome, reason=f"the LLM scorer was unavailable, scored offline: {outcome.reason}")
    finally:
        close = getattr(scorer, "aclose", None)
        if close is not None:
            await close()
