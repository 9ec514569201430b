"""The scoring service: what the rest of milo-voice calls, and the job handlers behind it.

- `enqueue_scoring(session_id)` when a session has ended: the candidate becomes *evaluating*,
  `interview.completed` goes out, and a durable `score_session` job is queued.
- `notify_started(session_id)` when a session starts: `interview.started` goes out.
- `send_test(endpoint_id)` from the webhooks page: a `webhook.test` delivery to one endpoint.
- The worker runs `score_session`: transcript + rubrics -> scorer -> verified card -> `score`
  row -> candidate *completed* or *knocked_out* -> `report.available`.
An LLM scorer that is still unreachable on the job's last attempt gives way to the offline
scorer, and that card is flagged for review, so no candidate stays *evaluating* for ever.

Candidate status is the workspace's table: the composition (web/server.py, calls/run.py) hands
in its writer as `CandidateStatuses`, since scoring imports nothing above the store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from milo_voice.errors import ConfigError, EngineUnavailable
from milo_voice.scoring import webhooks
from milo_voice.scoring.card import score_transcript
from milo_voice.scoring.jobs import Handler, JobQueue
from milo_voice.scoring.llm import JSON_MODES, LlmScorer
from milo_voice.scoring.meaning import reader_for
from milo_voice.scoring.offline import OfflineScorer
from milo_voice.scoring.queue import Runner, backend_for, close_queues, queue_for, worker_for
from milo_voice.scoring.result import ScoreCard
from milo_voice.scoring.rubric import Bands
from milo_voice.scoring.scorer import Scorer
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.store.db import DbEngine
from milo_voice.store.tables import CandidateStatus, Job

log = logging.getLogger(__name__)

SCORE_JOB = "score_session"
TEST_EVENT = "webhook.test"


def check_settings(settings: Settings) -> None:
    """Refuse scoring settings that cannot work, naming the variable."""
    if settings.scorer not in ("offline", "llm"):
        raise ConfigError(f"MILO_SCORER={settings.scorer!r}: expected 'offline' or 'llm'")
    if settings.scorer == "llm" and not (settings.scoring_llm_base_url or settings.llm_base_url):
        raise ConfigError("MILO_SCORER=llm needs MILO_SCORING_LLM_BASE_URL or MILO_LLM_BASE_URL")
    if settings.scoring_json_mode not in JSON_MODES:
        raise ConfigError(
            f"MILO_SCORING_JSON_MODE={settings.scoring_json_mode!r}: expected one of {JSON_MODES}"
        )
    if not 0 <= settings.band_good <= settings.band_great <= 100:
        raise ConfigError(
            f"MILO_BAND_GOOD={settings.band_good} / MILO_BAND_GREAT={settings.band_great}: "
            "expected 0 <= good <= great <= 100"
        )
    if settings.job_max_attempts < 1 or settings.job_backoff < 0:
        raise ConfigError("MILO_JOB_MAX_ATTEMPTS must be >= 1 and MILO_JOB_BACKOFF >= 0")
    backend_for(settings)  # MILO_JOB_QUEUE


def offline_scorer(settings: Settings) -> OfflineScorer:
    """The offline scorer over the configured models directory (MILO_MODELS_DIR)."""
    return OfflineScorer(reader_for(Path(settings.models_dir)))


def make_scorer(settings: Settings) -> Scorer:
    if settings.scorer != "llm":
        return offline_scorer(settings)
    return LlmScorer(
        base_url=settings.scoring_llm_base_url or settings.llm_base_url,
        model=settings.scoring_llm_model or settings.llm_model,
        api_key=str(settings.llm_api_key),
        timeout=settings.scoring_timeout,
        json_mode=settings.scoring_json_mode,
        cross_check=offline_scorer(settings),
    )


class CandidateStatuses(Protocol):
    """The writer of candidate status (`milo_voice.workspace.candidates.Candidates`)."""

    def set_status(self, candidate_id: int, status: CandidateStatus) -> None: ...


@dataclass
class ScoringService:
    settings: Settings
    store: ScoringStore
    queue: JobQueue
    candidates: CandidateStatuses

    @property
    def bands(self) -> Bands:
        return Bands(great=self.settings.band_great, good=self.settings.band_good)

    def report_url(self, session_id: int) -> str:
        """The public share link (no login; a recruiter can revoke it from the workspace report)."""
        return f"{self.settings.base_url}/reports/{self.store.report_token(session_id=session_id)}"

    def workspace_url(self, candidate_id: int, session_id: int) -> str:
        """The same report behind the recruiter login."""
        return f"{self.settings.base_url}/app/candidates/{candidate_id}/sessions/{session_id}/report"

    def enqueue_scoring(self, session_id: int) -> int:
        """Call when a session has ended: status evaluating, `interview.completed`, a scoring job."""
        context = self.store.context(session_id)
        if context.candidate.id is not None:
            self.candidates.set_status(context.candidate.id, CandidateStatus.EVALUATING)
        self._publish("interview.completed", self._session_data(context.session.id or session_id))
        return self.queue.enqueue(SCORE_JOB, {"session_id": session_id})

    def notify_started(self, session_id: int) -> None:
        """Call when a session has started: `interview.started` to the subscribed endpoints."""
        _notify_started(self.store, self.queue, session_id)

    def send_test(self, endpoint_id: int) -> int:
        """A `webhook.test` delivery to one endpoint (active or not), signed and logged like any other."""
        return _send_test(self.store, self.queue, endpoint_id)

    def _session_data(self, session_id: int) -> dict[str, Any]:
        return _session_data(self.store, session_id)

    def _publish(self, event: str, data: dict[str, Any]) -> None:
        webhooks.publish(self.store, self.queue, event, data)

    async def score_session(self, job: Job, final: bool) -> None:
        """Job handler: score the session, store the card, move the candidate on, announce the report."""
        session_id = int(job.payload["session_id"])
        card = await self.score(session_id, final=final)
        context = self.store.context(session_id)
        self.store.add_score(context, card)
        status = CandidateStatus.KNOCKED_OUT if card.knockout is not None else CandidateStatus.COMPLETED
        if context.candidate.id is not None:
            self.candidates.set_status(context.candidate.id, status)
        if not self.store.endpoints_for("report.available"):
            return  # nobody listens: do not mint a public report link for nothing
        data = {
            **self._session_data(session_id),
            "overall": card.overall,
            "band": card.band,
            "knocked_out": card.knockout is not None,
            "needs_review": card.needs_review,
            "scorer": card.scorer,
            "report_url": self.report_url(session_id),
            "workspace_url": self.workspace_url(context.candidate.id or 0, session_id),
        }
        self._publish("report.available", data)

    async def score(self, session_id: int, *, final: bool = True, scorer: Scorer | None = None) -> ScoreCard:
        """A card for the session (not stored); on the last attempt a dead LLM gives way to offline."""
        context = self.store.context(session_id)
        questions = self.store.questions(context.interview.id or 0)
        transcript = self.store.transcript(session_id)
        chosen = scorer or make_scorer(self.settings)
        try:
            return await score_transcript(chosen, questions, transcript, bands=self.bands)
        except EngineUnavailable as exc:
            if not final or chosen.name == "offline":
                raise
            log.warning("scoring.llm_gave_way", extra={"session_id": session_id, "why": str(exc)})
            offline = offline_scorer(self.settings)
            card = await score_transcript(offline, questions, transcript, bands=self.bands)
            reason = f"the LLM scorer was unavailable ({exc}); the offline scorer was used instead"
            return card.model_copy(
                update={"needs_review": True, "review_reasons": [reason, *card.review_reasons]}
            )
        finally:
            close = getattr(chosen, "aclose", None)
            if close is not None and scorer is None:
                await close()

    async def deliver_webhook(self, job: Job, final: bool) -> None:
        await webhooks.deliver(self.store, job, final=final, request_timeout=self.settings.webhook_timeout,
                               allow_private=self.settings.webhook_allow_private_targets)


@dataclass
class ScoringRuntime:
    """The service plus its worker, as the server runs them."""

    service: ScoringService
    worker: Runner

    def start(self) -> list[int]:
        return self.worker.start()

    def stop(self) -> None:
        self.worker.stop()
        close_queues()


def build(
    settings: Settings, engine: DbEngine, candidates: CandidateStatuses,
    more_handlers: Mapping[str, Handler] | None = None,
) -> ScoringRuntime:
    """Wire the scoring area over `engine`: store, durable queue, worker with its two handlers
    (the queue and worker of MILO_JOB_QUEUE: `milo_voice.scoring.queue`).

    `candidates` writes candidate status (the workspace's `Candidates` over the same engine);
    `more_handlers` are the other rooms' job kinds (intake, ATS), run by the same worker."""
    check_settings(settings)
    service = ScoringService(settings, ScoringStore(engine), queue_for(settings, engine), candidates)
    handlers = {SCORE_JOB: service.score_session, webhooks.JOB_KIND: service.deliver_webhook,
                **(more_handlers or {})}
    return ScoringRuntime(service, worker_for(settings, engine, handlers))


def enqueue_scoring(
    settings: Settings, engine: DbEngine, session_id: int, *, candidates: CandidateStatuses
) -> int:
    """The one call a session runner needs when a session ends (any process on the same database)."""
    service = ScoringService(settings, ScoringStore(engine), queue_for(settings, engine), candidates)
    return service.enqueue_scoring(session_id)


def notify_started(settings: Settings, engine: DbEngine, session_id: int) -> None:
    """The one call a session runner needs once the session row exists: `interview.started`."""
    _notify_started(ScoringStore(engine), queue_for(settings, engine), session_id)


def notify_erased(settings: Settings, engine: DbEngine, *, candidate_id: int, tombstone_id: int,
                  initiated_by: str, erased_at: datetime) -> list[int]:
    """`candidate.erased`: ids only (nothing personal is left to send), so that a receiver holding the
    candidate's earlier events (an ATS, a data warehouse) can erase its copy too."""
    data = {"candidate_id": candidate_id, "tombstone_id": tombstone_id, "initiated_by": initiated_by,
            "erased_at": erased_at.isoformat()}
    return webhooks.publish(ScoringStore(engine), queue_for(settings, engine), "candidate.erased", data)


def send_test_event(settings: Settings, engine: DbEngine, endpoint_id: int) -> int:
    """A test delivery to one endpoint (the webhooks page's button); returns the delivery id."""
    return _send_test(ScoringStore(engine), queue_for(settings, engine), endpoint_id)


def _notify_started(store: ScoringStore, queue: JobQueue, session_id: int) -> None:
    webhooks.publish(store, queue, "interview.started", _session_data(store, session_id))


def _send_test(store: ScoringStore, queue: JobQueue, endpoint_id: int) -> int:
    """Not one of `webhooks.EVENTS`: nobody subscribes to it, it goes only where an admin sends it."""
    body = json.dumps(
        {
            "event": TEST_EVENT,
            "created_at": datetime.now(UTC).isoformat(),
            "data": {"endpoint_id": endpoint_id, "message": "A test event from milo-voice."},
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    delivery_id = store.add_delivery(endpoint_id, TEST_EVENT, body)
    queue.enqueue(webhooks.JOB_KIND, {"delivery_id": delivery_id})
    return delivery_id


def _session_data(store: ScoringStore, session_id: int) -> dict[str, Any]:
    context = store.context(session_id)
    return {
        "session_id": session_id,
        "candidate_id": context.candidate.id,
        "candidate_name": context.candidate.name,
        "interview_id": context.interview.id,
        "interview_title": context.interview.title,
        "channel": context.session.channel,
        "status": context.session.status,
        "started_at": context.session.started_at.isoformat(),
    }
