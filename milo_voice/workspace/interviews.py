"""Interviews as recruiters manage them: a slug with versions, edited, published, duplicated, archived.

Versioning rule: a draft is edited in place (no candidate can have taken it: candidates are only
added to published versions). Saving a published interview adds version + 1, published at once,
so new candidates get the new questions while everyone added before keeps the version they were
invited to (their `candidate.interview_id` names it). Archive and template flags are set on every
version of the slug, so all of them list together.

This module is the one writer of the `interview` and `question` tables (see tests/store/test_writers.py):
the editor's forms, scripts stored as they are (`add_script`, the demo, tests, benchmarks) and
rubrics set by position all go through it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from milo_voice.dialogue.script import AnswerShape, InterviewScript
from milo_voice.dialogue.script import Question as ScriptQuestion
from milo_voice.scoring.rubric import QuestionRubric
from milo_voice.stages.types import StageSpec
from milo_voice.store.repo import Invalid, NotFound, Repo, get_row, insert_row
from milo_voice.store.tables import Candidate, Interview, InterviewStatus
from milo_voice.store.tables import Question as QuestionRow
from milo_voice.workspace import interview_stages
from milo_voice.workspace.editor import InterviewForm, QuestionForm


@dataclass(frozen=True, slots=True)
class InterviewSummary:
    """One row of the interviews list: the newest version, and counts over every version."""

    interview: Interview
    candidates: int
    versions: int

    @property
    def published(self) -> bool:
        return self.interview.status == InterviewStatus.PUBLISHED.value


def slugify(title: str) -> str:
    """A URL-safe slug from the title plus 6 random hex digits, so two "Barista" interviews differ."""
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-") or "interview"
    return f"{base}-{secrets.token_hex(3)}"


class Interviews(Repo):
    def summaries(self, *, archived: bool = False, templates: bool | None = None) -> list[InterviewSummary]:
        """Newest version of each slug, newest first; `templates=None` lists both kinds."""
        with self.unit() as session:
            newest = (
                select(Interview.slug, func.max(Interview.version).label("v"), func.count().label("n"))
                .group_by(col(Interview.slug))
                .subquery()
            )
            query = (
                select(Interview, newest.c.n)
                .join(newest, (col(Interview.slug) == newest.c.slug) & (col(Interview.version) == newest.c.v))
                .where(Interview.archived == archived)
                .order_by(col(Interview.created_at).desc(), col(Interview.id).desc())
            )
            if templates is not None:
                query = query.where(Interview.is_template == templates)
            rows = list(session.exec(query))
            counts = dict(
                session.exec(
                    select(Interview.slug, func.count(col(Candidate.id)))
                    .join(Candidate, col(Candidate.interview_id) == col(Interview.id))
                    .group_by(col(Interview.slug))
                ).all()
            )
        return [InterviewSummary(i, int(counts.get(i.slug, 0)), int(n)) for i, n in rows]

    def versions(self, slug: str) -> list[Interview]:
        """Every version of `slug`, newest first; unknown slug: `NotFound`."""
        with self.unit() as session:
            rows = list(
                session.exec(
                    select(Interview).where(Interview.slug == slug).order_by(col(Interview.version).desc())
                )
            )
        if not rows:
            raise NotFound(f"interview {slug!r} does not exist")
        return rows

    def latest(self, slug: str) -> Interview:
        return self.versions(slug)[0]

    def latest_published(self, slug: str) -> Interview | None:
        return next((v for v in self.versions(slug) if v.status == InterviewStatus.PUBLISHED.value), None)

    def published_id(self, slug: str) -> int | None:
        """The newest published version of `slug` (what its public share link opens), or None."""
        with self.unit() as session:
            return session.exec(
                select(Interview.id)
                .where(Interview.slug == slug, Interview.status == InterviewStatus.PUBLISHED.value)
                .order_by(col(Interview.version).desc())
            ).first()

    def script(self, interview_id: int) -> InterviewScript:
        """The version as the dialogue runs it; `key` is "<slug>-v<version>". Unknown id: `NotFound`."""
        with self.unit() as session:
            interview = get_row(session, Interview, interview_id)
            rows = session.exec(
                select(QuestionRow)
                .where(QuestionRow.interview_id == interview_id)
                .order_by(col(QuestionRow.position))
            ).all()
        questions = tuple(
            ScriptQuestion(
                r.text, AnswerShape(r.shape), tuple(r.follow_ups), r.max_follow_ups, r.wants_example
            )
            for r in rows
        )
        return InterviewScript(
            title=interview.title,
            questions=questions,
            greeting=interview.greeting,
            closing=interview.closing,
            role=interview.role,
            version=interview.version,
            key=f"{interview.slug}-v{interview.version}",
            thinking_silence=interview.thinking_silence,
            max_silence=interview.max_silence,
        )

    def add_script(
        self, script: InterviewScript, *, slug: str, status: str = InterviewStatus.PUBLISHED
    ) -> int:
        """Store `script` as version `script.version` of `slug`; a taken (slug, version): IntegrityError."""
        with self.unit() as session:
            return add_script(session, script, slug=slug, status=InterviewStatus(status), now=self.now())

    def set_rubric(self, question_id: int, rubric: QuestionRubric | None) -> QuestionRubric | None:
        """Store `rubric` on the question; a changed rubric gets the next version number."""
        with self.unit() as session:
            row = get_row(session, QuestionRow, question_id)
            if rubric is None:
                row.rubric = None
                return None
            old = QuestionRubric.model_validate(row.rubric) if row.rubric else None
            if old is not None:
                same = old.model_copy(update={"version": rubric.version}) == rubric
                rubric = rubric.model_copy(update={"version": old.version if same else old.version + 1})
            row.rubric = rubric.model_dump(mode="json")
            return rubric

    def set_rubric_at(self, interview_id: int, position: int, rubric: QuestionRubric | None) -> None:
        """`set_rubric` on the question at `position` of one version (tests and scripted setups)."""
        with self.unit() as session:
            question_id = session.exec(
                select(QuestionRow.id).where(
                    QuestionRow.interview_id == interview_id, QuestionRow.position == position
                )
            ).first()
        if question_id is None:
            raise NotFound(f"interview {interview_id} has no question at position {position}")
        self.set_rubric(question_id, rubric)

    def stages(self, interview_id: int) -> tuple[StageSpec, ...]:
        """The stored stages of a version (empty: one voice stage; `pipeline` spells that out)."""
        with self.unit() as session:
            return interview_stages.read(session, interview_id)

    def set_stages(self, slug: str, stages: Sequence[StageSpec]) -> Interview:
        """Replace the newest version's stages: in place on a draft, as a new version if published."""
        return self.save(slug, replace(self.form(self.latest(slug)), logo=None, stages=tuple(stages)))

    def get(self, interview_id: int) -> Interview:
        with self.unit() as session:
            row = session.get(Interview, interview_id)
        if row is None:
            raise NotFound(f"interview version {interview_id} does not exist")
        return row

    def questions(self, interview_id: int) -> list[QuestionRow]:
        with self.unit() as session:
            return list(
                session.exec(
                    select(QuestionRow)
                    .where(QuestionRow.interview_id == interview_id)
                    .order_by(col(QuestionRow.position))
                )
            )

    def form(self, interview: Interview) -> InterviewForm:
        """The editor's view of a stored version."""
        assert interview.id is not None
        return InterviewForm(
            title=interview.title, role=interview.role, greeting=interview.greeting,
            closing=interview.closing, language=interview.language, voice=interview.voice,
            logo=interview.logo, thinking_silence=interview.thinking_silence,
            max_silence=interview.max_silence, retakes_allowed=interview.retakes_allowed,
            stages=self.stages(interview.id),
            questions=tuple(
                QuestionForm(
                    q.text,
                    AnswerShape(q.shape),
                    tuple(q.follow_ups),
                    q.max_follow_ups,
                    q.wants_example,
                    QuestionRubric.model_validate(q.rubric) if q.rubric else None,
                )
                for q in self.questions(interview.id)
            ),
        )

    def create(self, form: InterviewForm, *, template: bool = False) -> Interview:
        """A new interview (version 1, draft) under a fresh slug."""
        with self.unit() as session:
            return self._insert(
                session,
                form,
                slug=slugify(form.title),
                version=1,
                status=InterviewStatus.DRAFT,
                template=template,
                logo=form.logo or "",
            )

    def save(self, slug: str, form: InterviewForm) -> Interview:
        """Store an edit: in place on a draft, as version + 1 (published) on a published interview."""
        with self.unit() as session:
            current = self._latest(session, slug)
            logo = current.logo if form.logo is None else form.logo
            if current.status == InterviewStatus.DRAFT.value:
                assert current.id is not None
                for q in session.exec(select(QuestionRow).where(QuestionRow.interview_id == current.id)):
                    session.delete(q)
                session.flush()
                _apply(current, form, logo)
                _add_questions(session, current.id, form)
                if form.stages is not None:
                    interview_stages.write(session, current.id, form.stages)
                return current
            if form.stages is None:
                form = replace(form, stages=interview_stages.read(session, current.id or 0))
            return self._insert(
                session,
                form,
                slug=slug,
                version=current.version + 1,
                status=InterviewStatus.PUBLISHED,
                template=current.is_template,
                logo=logo,
                archived=current.archived,
            )

    def publish(self, slug: str) -> Interview:
        with self.unit() as session:
            current = self._latest(session, slug)
            if current.archived:
                raise Invalid("unarchive this interview before publishing it")
            current.status = InterviewStatus.PUBLISHED.value
            return current

    def duplicate(self, slug: str, *, template: bool = False, title: str = "") -> Interview:
        """A new draft interview (own slug, version 1) copied from the newest version of `slug`."""
        source = self.latest(slug)
        form = self.form(source)
        copied = form.title if source.is_template and not template else f"{form.title} (copy)"
        new_title = title.strip() or copied
        with self.unit() as session:
            return self._insert(
                session,
                replace(form, title=new_title[:300]),
                slug=slugify(new_title),
                version=1,
                status=InterviewStatus.DRAFT,
                template=template,
                logo=source.logo,
            )

    def set_archived(self, slug: str, archived: bool) -> None:
        self._flag(slug, archived=archived)

    def set_template(self, slug: str, template: bool) -> None:
        self._flag(slug, is_template=template)

    def _flag(self, slug: str, **values: bool) -> None:
        with self.unit() as session:
            rows = list(session.exec(select(Interview).where(Interview.slug == slug)))
            if not rows:
                raise NotFound(f"interview {slug!r} does not exist")
            for row in rows:
                for name, value in values.items():
                    setattr(row, name, value)

    def _latest(self, session: Session, slug: str) -> Interview:
        row = session.exec(
            select(Interview).where(Interview.slug == slug).order_by(col(Interview.version).desc())
        ).first()
        if row is None:
            raise NotFound(f"interview {slug!r} does not exist")
        return row

    def _insert(
        self,
        session: Session,
        form: InterviewForm,
        *,
        slug: str,
        version: int,
        status: InterviewStatus,
        template: bool,
        logo: str,
        archived: bool = False,
    ) -> Interview:
        row = Interview(
            slug=slug,
            version=version,
            title="",
            greeting="",
            closing="",
            status=status.value,
            created_at=self.now(),
            is_template=template,
            archived=archived,
        )
        _apply(row, form, logo)
        session.add(row)
        session.flush()
        assert row.id is not None
        _add_questions(session, row.id, form)
        interview_stages.write(session, row.id, form.stages or ())
        return row


def add_script(
    session: Session, script: InterviewScript, *, slug: str, status: InterviewStatus, now: datetime,
    rubrics: Sequence[QuestionRubric | None] = (),
) -> int:
    """Insert `script` (interview row and questions, `rubrics[i]` on question i where given) inside
    the caller's transaction; returns its id. For writers that must add an interview together with
    other rows (the demo seed)."""
    if len(rubrics) > len(script.questions):
        raise Invalid(f"{len(rubrics)} rubrics for {len(script.questions)} questions")
    stored = [r.model_dump(mode="json") if r else None for r in rubrics]
    interview_id = insert_row(
        session,
        Interview(
            slug=slug,
            version=script.version,
            title=script.title,
            role=script.role,
            greeting=script.greeting,
            closing=script.closing,
            status=status.value,
            created_at=now,
        ),
    )
    session.add_all(
        QuestionRow(
            interview_id=interview_id,
            position=position,
            text=q.text,
            shape=q.shape.value,
            follow_ups=list(q.follow_ups),
            max_follow_ups=q.max_follow_ups,
            wants_example=q.wants_example,
            rubric=stored[position] if position < len(stored) else None,
        )
        for position, q in enumerate(script.questions)
    )
    return interview_id


def _apply(row: Interview, form: InterviewForm, logo: str) -> None:
    row.title, row.role, row.greeting, row.closing = form.title, form.role, form.greeting, form.closing
    row.language, row.voice, row.logo = form.language, form.voice, logo
    row.thinking_silence, row.max_silence = form.thinking_silence, form.max_silence
    row.retakes_allowed = form.retakes_allowed


def _add_questions(session: Session, interview_id: int, form: InterviewForm) -> None:
    session.add_all(
        QuestionRow(
            interview_id=interview_id,
            position=i,
            text=q.text,
            shape=q.shape.value,
            follow_ups=list(q.follow_ups),
            max_follow_ups=q.max_follow_ups,
            wants_example=q.wants_example,
            rubric=q.rubric.model_dump(mode="json") if q.rubric else None,
        )
        for i, q in enumerate(form.questions)
    )
