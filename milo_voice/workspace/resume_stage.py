"""The resume-screen job (issue 18): when a candidate at a resume stage has a resume, screen it
and move them on (the pipeline's rules). Queued by `Pipeline.resume_arrived` and on entering a
resume stage; the offline screen takes milliseconds, an LLM screen longer, so it runs as a job."""

from __future__ import annotations

from milo_voice.intake.resumes import Resumes
from milo_voice.settings import Settings
from milo_voice.stages.resume_screen import screen_resume
from milo_voice.store.tables import CandidateStatus, Job, StageKind
from milo_voice.workspace.pipeline import Pipeline
from milo_voice.workspace.stage_settings import judged

WAITING = (CandidateStatus.NEW.value, CandidateStatus.INVITED.value)


class ResumeScreen:
    def __init__(self, pipeline: Pipeline, resumes: Resumes, settings: Settings | None = None) -> None:
        self.pipeline, self.resumes, self.settings = pipeline, resumes, settings or Settings()

    async def handle(self, job: Job, final: bool) -> None:
        await self.screen(int(job.payload["candidate_id"]))

    async def screen(self, candidate_id: int) -> bool:
        """Screen the candidate's resume if they wait at a resume stage and have one (True: screened)."""
        place = self.pipeline.place(candidate_id)
        if place.stage.kind is not StageKind.RESUME or place.candidate.status not in WAITING:
            return False
        resume = self.resumes.get(candidate_id)
        if resume is None:
            return False  # no resume yet: the candidate waits (a recruiter may advance them)
        text, spec = resume.text, place.stage
        outcome = await judged(self.settings, lambda scorer: screen_resume(text, spec, scorer=scorer))
        self.pipeline.record(candidate_id, place.position, outcome)
        return True
