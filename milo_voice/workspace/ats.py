"""ATS connections as the workspace runs them (Greenhouse Assessment Partner, Workable assessment
provider): which interviews an ATS may send, an ATS order becoming an invited candidate, where that
candidate stands, and the result written back when the interview is scored.

Credentials are server secrets (`app_secret`), set on the settings page:
- `ats_greenhouse_key`: the key Greenhouse sends as its Basic username, and the one our PATCH sends
  back (Greenhouse uses the same organisation key both ways);
- `ats_workable_token`: the bearer token Workable sends us; `ats_workable_callback_token`: the
  token Workable issued, which our result callback sends.
An order is idempotent: the same ATS reference again returns the first partner id, and the
candidate's external id is "<provider>:<reference>", so a retried send never duplicates anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime

import httpx

from milo_voice.intake import ats_greenhouse, ats_workable
from milo_voice.intake.ats_callback import post_result
from milo_voice.intake.ats_orders import AtsOrders
from milo_voice.intake.ats_types import GREENHOUSE, AtsResult, TestOffer, ats_status
from milo_voice.intake.ats_types import AtsOrder as Order
from milo_voice.outreach.phones import phone_problem
from milo_voice.scoring.jobs import JobQueue
from milo_voice.settings import Settings
from milo_voice.store.repo import Invalid, NotFound, Repo
from milo_voice.store.tables import AtsOrder, CandidateSource, CandidateStatus, Job
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import CandidateQuery, Candidates
from milo_voice.workspace.interviews import Interviews

log = logging.getLogger(__name__)

RESULT_JOB = "ats.result"
"""Job kind: payload {"order_id": int}; sends the order's current result to its callback URL."""
SECRETS = {"greenhouse": "ats_greenhouse_key", "workable": "ats_workable_token"}
WORKABLE_CALLBACK = "ats_workable_callback_token"
FINAL = (CandidateStatus.COMPLETED, CandidateStatus.KNOCKED_OUT)
"""Statuses after which the ATS is told (scoring set them)."""


class Ats(Repo):
    def __init__(self, engine: object, settings: Settings, queue: JobQueue | None = None,
                 **kw: object) -> None:
        super().__init__(engine, **kw)  # type: ignore[arg-type]
        self.settings, self.queue = settings, queue
        self.orders = AtsOrders(self.engine, now=self.now)
        self.accounts = Accounts(self.engine, now=self.now)
        self.candidates = Candidates(self.engine, now=self.now)
        self.interviews = Interviews(self.engine, now=self.now)

    def authorised(self, provider: str, presented: str | None) -> bool:
        """The presented key or token is the one set for `provider` (compared in constant time)."""
        stored = self.accounts.stored_secret(SECRETS[provider])
        if not stored or not presented:
            return False
        digest = hashlib.sha256
        return hmac.compare_digest(digest(stored.encode()).digest(), digest(presented.encode()).digest())

    def offers(self) -> list[TestOffer]:
        """Every published, unarchived interview (not templates), as the tests an ATS may send."""
        out = []
        for summary in self.interviews.summaries(templates=False):
            published = self.interviews.latest_published(summary.interview.slug)
            if published is not None:
                out.append(TestOffer(id=published.slug, name=published.title))
        return out

    def take(self, order: Order) -> str:
        """The partner id of `order`: the first one's for a repeated reference, else a new candidate."""
        found = self.orders.find(order.provider, order.external_id)
        if found is not None:
            return found.partner_id
        if order.test_id not in {t.id for t in self.offers()}:
            raise NotFound(f"no published interview {order.test_id!r}; pick one from the list of tests")
        phone = order.phone if not phone_problem(order.phone, self.settings.default_region) else ""
        name = f"{order.first_name} {order.last_name}".strip()
        candidate, _ = self.candidates.put(
            slug=order.test_id, name=name, email=order.email, phone=phone, source=CandidateSource.ATS,
            external_id=f"{order.provider}:{order.external_id}"[:200], region=self.settings.default_region)
        row = self.orders.add(order.provider, order.external_id, candidate.id or 0,
                              callback_url=order.callback_url, api_key_id=None)
        Audit(self.engine, now=self.now).record(None, "ats_order", "candidate", candidate.id,
                                                provider=order.provider, partner_id=row.partner_id)
        log.info("ats.order", extra={"provider": order.provider, "candidate_id": candidate.id})
        return row.partner_id

    def result(self, provider: str, partner_id: str) -> AtsResult:
        order = self.orders.by_partner_id(provider, partner_id)
        if order is None:
            raise NotFound(f"no {provider} order {partner_id!r}")
        return self._result(order)

    def _result(self, order: AtsOrder) -> AtsResult:
        rows = self.candidates.search(CandidateQuery(ids=(order.candidate_id,)))
        if not rows:
            raise NotFound(f"the candidate of order {order.partner_id} no longer exists")
        row = rows[0]
        session = row.last_session
        has_result = row.score is not None or session is not None
        passed = self.candidates.deadline(order.candidate_id) < self.now()
        status = ats_status(row.candidate.status, has_result=has_result, deadline_passed=passed)
        ended: datetime | None = session.ended_at if session is not None else None
        outcome = row.candidate.status if row.candidate.status in ("knocked_out", "ended_early") else ""
        report = f"{self.settings.base_url}/app/candidates/{order.candidate_id}"
        return AtsResult(partner_interview_id=order.partner_id, status=status, score=row.score, band=row.band,
                         report_url=report, completed_at=ended if status == "completed" else None,
                         outcome=outcome)

    def announce(self, candidate_id: int) -> list[int]:
        """Queue one result delivery per ATS order of this candidate."""
        if self.queue is None:
            raise RuntimeError("Ats needs a job queue to announce results")
        orders = self.orders.for_candidate(candidate_id)
        return [self.queue.enqueue(RESULT_JOB, {"order_id": o.id}) for o in orders]

    async def deliver(self, job: Job, final: bool) -> None:
        """Job handler: send the order's current result; a refusal raises, so the job retries."""
        order = self._order(int(job.payload["order_id"]))
        if order is None or not order.callback_url:
            return
        result = self._result(order)
        greenhouse = order.provider == GREENHOUSE
        body = ats_greenhouse.callback_body(result) if greenhouse else ats_workable.callback_body(result)
        auth = self.accounts.stored_secret(SECRETS[GREENHOUSE] if greenhouse else WORKABLE_CALLBACK)
        if not auth:
            raise Invalid(f"no {order.provider} credential is set for results (settings page, ATS)")
        async with httpx.AsyncClient() as client:
            await post_result(client, order.provider, order.callback_url, body, auth)
        self.orders.delivered(order.id or 0, result.status)
        log.info("ats.result_sent", extra={"provider": order.provider, "order_id": order.id,
                                           "status": result.status})

    def _order(self, order_id: int) -> AtsOrder | None:
        with self.unit() as session:
            return session.get(AtsOrder, order_id)


class AnnouncingStatuses:
    """The candidate-status writer scoring uses, which also queues ATS results once a candidate is
    completed or knocked out (so the ATS hears as soon as the score is stored)."""

    def __init__(self, candidates: Candidates, ats: Ats) -> None:
        self.candidates, self.ats = candidates, ats

    def set_status(self, candidate_id: int, status: CandidateStatus) -> None:
        self.candidates.set_status(candidate_id, status)
        if CandidateStatus(status) in FINAL:
            self.ats.announce(candidate_id)
