"""The server's background worker: scoring and webhooks, and the other rooms' job kinds (reading
upload batches; ATS results), on the job queue MILO_JOB_QUEUE names (`milo_voice.scoring.queue`)."""

from __future__ import annotations

import asyncio

from milo_voice.errors import ConfigError
from milo_voice.intake.batches import IntakeBatches
from milo_voice.intake.llm_extract import LlmExtractor
from milo_voice.intake.reading import READ_JOB, BatchReader
from milo_voice.intake.resumes import Resumes
from milo_voice.scoring.jobs import Handler
from milo_voice.scoring.queue import queue_for
from milo_voice.scoring.service import ScoringRuntime
from milo_voice.scoring.service import build as build_scoring
from milo_voice.settings import Settings
from milo_voice.store.db import DbEngine
from milo_voice.store.tables import Job
from milo_voice.workspace.ats import RESULT_JOB, AnnouncingStatuses, Ats
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.pipeline import RESUME_JOB, Pipeline
from milo_voice.workspace.resume_stage import ResumeScreen
from milo_voice.workspace.voice_stage import StagedStatuses


def llm_extractor(settings: Settings) -> LlmExtractor | None:
    """The resume LLM (the scoring LLM's server and model) when MILO_INTAKE_LLM is on."""
    base_url = settings.scoring_llm_base_url or settings.llm_base_url
    if not settings.intake_llm:
        return None
    if not base_url:
        raise ConfigError("MILO_INTAKE_LLM=true needs MILO_SCORING_LLM_BASE_URL or MILO_LLM_BASE_URL")
    return LlmExtractor(base_url=base_url, model=settings.scoring_llm_model or settings.llm_model,
                        api_key=str(settings.llm_api_key), timeout=settings.scoring_timeout,
                        json_mode=settings.scoring_json_mode)


def intake_handlers(settings: Settings, engine: DbEngine) -> dict[str, Handler]:
    batches = IntakeBatches(engine)
    reader = BatchReader(batches, settings.uploads_dir, region=settings.default_region,
                         llm=llm_extractor(settings))

    async def read_batch(job: Job, final: bool) -> None:
        batch_id = int(job.payload["batch_id"])
        try:
            await asyncio.to_thread(reader.read, batch_id)  # extraction is CPU work: off the worker's loop
        except Exception as exc:
            if final:
                batches.fail(batch_id, f"reading stopped on an unexpected error: {type(exc).__name__}: {exc}")
            raise

    return {READ_JOB: read_batch}


def build_worker(settings: Settings, engine: DbEngine) -> ScoringRuntime:
    """What `milo-voice serve` runs in the background (start it; stop it on shutdown). A candidate
    scored to completed or knocked out also has their result queued for the ATS that sent them."""
    queue = queue_for(settings, engine)
    ats = Ats(engine, settings, queue)
    pipeline = Pipeline(engine, queue=queue)
    statuses = StagedStatuses(AnnouncingStatuses(Candidates(engine), ats), pipeline)
    handlers = {**intake_handlers(settings, engine), RESULT_JOB: ats.deliver,
                RESUME_JOB: ResumeScreen(pipeline, Resumes(engine), settings).handle}
    return build_scoring(settings, engine, statuses, handlers)
