"""Form stages: every question type read as an HTML form posts it (with the candidate's messages), skip
logic, dealbreakers with their quote, rubric-scored text answers and the pass score (issue 18)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from pydantic import ValidationError

from milo_voice.scoring.quotes import normalise
from milo_voice.scoring.result import Judgement
from milo_voice.scoring.rubric import Criterion, CriterionKind, QuestionRubric
from milo_voice.scoring.scorer import QuestionInput
from milo_voice.stages.form import (
    FormParse,
    UploadedFile,
    answer_text,
    judge_form,
    parse_answers,
    visible_fields,
)
from milo_voice.stages.types import (
    END,
    Evidence,
    FieldKind,
    FormField,
    FormSpec,
    KnockoutRule,
    SkipRule,
    StageOutcome,
    StageSpec,
)
from milo_voice.store.tables import StageKind

REQUIRED = "Please answer this question."


def form(*fields: FormField) -> FormSpec:
    return FormSpec(fields=fields)


def one(item: FormField, *values: str) -> FormParse:
    return parse_answers(form(item), {item.id: list(values)} if values else {}, None)


def stage(*fields: FormField, pass_score: float | None = None) -> StageSpec:
    return StageSpec(kind=StageKind.FORM, form=form(*fields), pass_score=pass_score)


def judge(spec: StageSpec, answers: dict[str, Any], scorer: Any = None) -> StageOutcome:
    return asyncio.run(judge_form(spec, answers, scorer=scorer))


# --- every question type ---------------------------------------------------------------------------

SHORT = FormField(id="name", kind=FieldKind.SHORT_TEXT, label="Preferred name")
LONG = FormField(id="why", kind=FieldKind.LONG_TEXT, label="Why this job?", minimum=10, maximum=500)
NUMBER = FormField(id="hours", kind=FieldKind.NUMBER, label="Hours a week", minimum=0, maximum=40)
DATE = FormField(id="start", kind=FieldKind.DATE, label="Earliest start date")
SINGLE = FormField(id="shift", kind=FieldKind.SINGLE_CHOICE, label="Shift", options=("Early", "Late shift"))
MULTI = FormField(id="days", kind=FieldKind.MULTI_CHOICE, label="Days", options=("Saturday", "Sunday"))
YES_NO = FormField(id="car", kind=FieldKind.YES_NO, label="Do you drive?")
FILE = FormField(id="cv", kind=FieldKind.FILE, label="Your CV")


def test_short_text_is_stripped_and_must_not_be_blank() -> None:
    assert one(SHORT, "  Ana  ").answers == {"name": "Ana"}
    assert one(SHORT, "   ").errors == {"name": REQUIRED}
    assert one(SHORT).errors == {"name": REQUIRED}
    assert one(SHORT, "x" * 301).errors == {"name": "Please keep this under 300 characters."}


def test_long_text_counts_characters_against_its_minimum_and_maximum() -> None:
    assert one(LONG, "I like it").errors == {"why": "Please write at least 10 characters."}
    assert one(LONG, "a" * 501).errors == {"why": "Please keep this under 500 characters."}
    assert one(LONG, "é" * 500).answers == {"why": "é" * 500}  # characters, not bytes
    lines = "line one\r\nline two"  # a browser posts CRLF: one character per line end
    assert one(LONG, lines).answers == {"why": "line one\nline two"}


def test_optional_questions_may_be_left_empty() -> None:
    for item in (SHORT, NUMBER, DATE, SINGLE, MULTI, YES_NO, FILE):
        optional = item.model_copy(update={"required": False})
        assert parse_answers(form(optional), {optional.id: [""]}, {}) == FormParse({}, {})


@pytest.mark.parametrize(("text", "value"), [("3", 3.0), ("3.5", 3.5), ("1,5", 1.5), (" 40 ", 40.0),
                                             ("0", 0.0), ("-0", 0.0), (".5", 0.5)])
def test_numbers_read_as_people_write_them(text: str, value: float) -> None:
    assert one(NUMBER, text) == FormParse({"hours": value}, {})


@pytest.mark.parametrize("text", ["abc", "NaN", "nan", "inf", "-Infinity", "1e3", "3 hours", "41", "-1",
                                  "0x10", "1_0", "1.2.3"])
def test_numbers_that_are_not_numbers_or_out_of_range_are_refused(text: str) -> None:
    assert one(NUMBER, text) == FormParse({}, {"hours": "Please enter a number between 0 and 40."})


def test_number_messages_say_the_range_there_is() -> None:
    low = FormField(id="n", kind=FieldKind.NUMBER, label="n", minimum=2.5)
    high = FormField(id="n", kind=FieldKind.NUMBER, label="n", maximum=10)
    free = FormField(id="n", kind=FieldKind.NUMBER, label="n")
    assert one(low, "1").errors == {"n": "Please enter a number of at least 2.5."}
    assert one(high, "11").errors == {"n": "Please enter a number of at most 10."}
    assert one(free, "lots").errors == {"n": "Please enter a number."}
    assert one(free, "1,000").errors == {
        "n": "Please write the number without a thousands separator (1000, not 1,000)."
    }
    assert one(NUMBER, "").errors == {"hours": REQUIRED}


@pytest.mark.parametrize(("text", "error"), [
    ("2027-01-11", ""),
    ("1900-01-01", ""),
    ("2100-12-31", ""),
    ("2024-02-29", ""),
    ("11/01/2027", "Please enter a date as YYYY-MM-DD."),
    ("20270111", "Please enter a date as YYYY-MM-DD."),
    ("2027-W02-1", "Please enter a date as YYYY-MM-DD."),
    ("next week", "Please enter a date as YYYY-MM-DD."),
    ("2023-02-29", "That date does not exist. Please check the day and month (YYYY-MM-DD)."),
    ("2027-13-01", "That date does not exist. Please check the day and month (YYYY-MM-DD)."),
    ("1899-12-31", "Please enter a date between 1900 and 2100."),
    ("2101-01-01", "Please enter a date between 1900 and 2100."),
])
def test_dates_are_real_days_between_1900_and_2100(text: str, error: str) -> None:
    expected = FormParse({}, {"start": error}) if error else FormParse({"start": text}, {})
    assert one(DATE, text) == expected


def test_a_single_choice_is_one_of_its_options_in_the_options_spelling() -> None:
    assert one(SINGLE, "late SHIFT").answers == {"shift": "Late shift"}
    assert one(SINGLE, "Night").errors == {"shift": "Please choose one of the options."}
    assert one(SINGLE, "Early", "Late shift").errors == {"shift": "Please choose only one option."}
    assert one(SINGLE).errors == {"shift": REQUIRED}


def test_yes_no_takes_yes_or_no() -> None:
    assert one(YES_NO, "yes").answers == {"car": "Yes"}
    assert one(YES_NO, "No").answers == {"car": "No"}
    assert one(YES_NO, "maybe").errors == {"car": "Please choose one of the options."}


def test_a_multiple_choice_is_a_list_of_options() -> None:
    assert one(MULTI, "sunday", "Saturday", "Sunday").answers == {"days": ["Sunday", "Saturday"]}
    assert one(MULTI, "Saturday", "Monday").errors == {"days": "Please choose one of the options."}
    assert one(MULTI).errors == {"days": REQUIRED}


def test_a_file_is_stored_by_name_size_and_path() -> None:
    path = "/uploads/cv-ana-cv.pdf"
    cv = UploadedFile(name="ana-cv.pdf", size=1234, path=path, content_type="application/pdf")
    parsed = parse_answers(form(FILE), {}, {"cv": cv})
    assert parsed == FormParse({"cv": {"name": "ana-cv.pdf", "size": 1234, "path": path}}, {})
    assert parse_answers(form(FILE), {}, None).errors == {"cv": "Please choose a file to upload."}
    empty = UploadedFile(name="cv.pdf", size=0, path="/uploads/cv.pdf", content_type="application/pdf")
    assert parse_answers(form(FILE), {}, {"cv": empty}).errors == {
        "cv": "That file is empty. Please choose the file again."
    }


def test_answers_to_unknown_questions_are_ignored() -> None:
    posted = {"name": ["Ana"], "csrf": ["token"], "admin": ["yes"], "cv": ["/etc/passwd"]}
    stray = UploadedFile(name="x.exe", size=10, path="/tmp/x.exe", content_type="")
    optional_cv = FILE.model_copy(update={"required": False})
    assert parse_answers(form(SHORT, optional_cv), posted, {"other": stray}) == FormParse({"name": "Ana"}, {})


def test_every_error_at_once_and_only_valid_answers_kept() -> None:
    spec = form(SHORT, LONG, NUMBER, DATE, SINGLE, MULTI, YES_NO, FILE)
    posted = {"name": ["Ana"], "hours": ["many"], "start": ["soon"], "car": ["Yes"]}
    parsed = parse_answers(spec, posted, None)
    assert parsed.answers == {"name": "Ana", "car": "Yes"}
    assert set(parsed.errors) == {"why", "hours", "start", "shift", "days", "cv"}


def test_answer_text_is_what_is_quoted() -> None:
    assert answer_text(YES_NO, "Yes") == "Yes"
    assert answer_text(NUMBER, 3.0) == "3"
    assert answer_text(NUMBER, 2.5) == "2.5"
    assert answer_text(NUMBER, 1234567.0) == "1234567"
    assert answer_text(MULTI, ["Red", "Blue"]) == "Red, Blue"
    assert answer_text(FILE, {"name": "cv.pdf", "size": 3, "path": "/x"}) == "cv.pdf"
    assert answer_text(DATE, "2027-01-11") == "2027-01-11"


# --- skip logic ------------------------------------------------------------------------------------

WEEKENDS = FormField(id="weekends", kind=FieldKind.YES_NO, label="Can you work weekends?",
                     skip=(SkipRule(when="No", to="years"),))
WHICH = FormField(id="which", kind=FieldKind.MULTI_CHOICE, label="Which days?",
                  options=("Saturday", "Sunday"))
YEARS = FormField(id="years", kind=FieldKind.NUMBER, label="Years of experience", minimum=0, maximum=60)
SKIPS = form(SHORT, WEEKENDS, WHICH, YEARS)


def ids(fields: list[FormField]) -> list[str]:
    return [f.id for f in fields]


def test_a_no_skips_to_a_later_question() -> None:
    assert ids(visible_fields(SKIPS, {})) == ["name", "weekends", "which", "years"]
    assert ids(visible_fields(SKIPS, {"weekends": "Yes"})) == ["name", "weekends", "which", "years"]
    assert ids(visible_fields(SKIPS, {"weekends": "no"})) == ["name", "weekends", "years"]


def test_a_skip_to_the_end_skips_the_rest() -> None:
    done = WEEKENDS.model_copy(update={"skip": (SkipRule(when="No", to=END),)})
    spec = form(SHORT, done, WHICH, YEARS)
    assert ids(visible_fields(spec, {"weekends": "No"})) == ["name", "weekends"]
    parsed = parse_answers(spec, {"name": ["Ana"], "weekends": ["No"]}, None)
    assert parsed == FormParse({"name": "Ana", "weekends": "No"}, {})


def test_a_multiple_choice_skips_when_the_option_is_among_those_picked() -> None:
    pick = FormField(id="langs", kind=FieldKind.MULTI_CHOICE, label="Languages", options=("English", "None"),
                     skip=(SkipRule(when="none", to=END),))
    spec = form(pick, YEARS)
    assert ids(visible_fields(spec, {"langs": ["English"]})) == ["langs", "years"]
    assert ids(visible_fields(spec, {"langs": ["English", "None"]})) == ["langs"]


def test_a_skipped_required_question_has_no_error_and_its_stale_answer_is_dropped() -> None:
    posted = {"name": ["Ana"], "weekends": ["No"], "which": ["Saturday"], "years": ["4"]}
    kept = {"name": "Ana", "weekends": "No", "years": 4.0}
    assert parse_answers(SKIPS, posted, None) == FormParse(kept, {})
    invalid_but_skipped = {"name": ["Ana"], "weekends": ["No"], "which": ["Friday"], "years": ["4"]}
    assert parse_answers(SKIPS, invalid_but_skipped, None).errors == {}
    assert parse_answers(SKIPS, {"name": ["Ana"], "weekends": ["Yes"], "years": ["4"]}, None).errors == {
        "which": REQUIRED
    }


def test_a_skipped_questions_own_skip_rules_do_not_apply() -> None:
    inner = FormField(id="inner", kind=FieldKind.YES_NO, label="Inner", skip=(SkipRule(when="Yes", to=END),))
    spec = form(WEEKENDS.model_copy(update={"skip": (SkipRule(when="No", to="years"),)}), inner, YEARS)
    assert ids(visible_fields(spec, {"weekends": "No", "inner": "Yes"})) == ["weekends", "years"]


# --- spec validation -------------------------------------------------------------------------------


def test_a_skip_must_go_to_a_later_question() -> None:
    back = WEEKENDS.model_copy(update={"skip": ()})
    with pytest.raises(ValidationError, match="skips to 'name': not a later question"):
        form(SHORT, FormField(id="again", kind=FieldKind.YES_NO, label="Again?",
                              skip=(SkipRule(when="No", to="name"),)), back)
    with pytest.raises(ValidationError, match="skips to 'nowhere': not a later question"):
        form(FormField(id="q", kind=FieldKind.YES_NO, label="Q", skip=(SkipRule(when="No", to="nowhere"),)),
             SHORT)


def test_choice_questions_need_their_options() -> None:
    with pytest.raises(ValidationError, match="needs at least two options"):
        FormField(id="shift", kind=FieldKind.SINGLE_CHOICE, label="Shift")
    with pytest.raises(ValidationError, match="needs at least two options"):
        FormField(id="days", kind=FieldKind.MULTI_CHOICE, label="Days", options=("Monday",))
    with pytest.raises(ValidationError, match="'Maybe' is not one of its options"):
        FormField(id="car", kind=FieldKind.YES_NO, label="Drive?", knockout=KnockoutRule(accept=("Maybe",)))
    with pytest.raises(ValidationError, match="skip rules need a choice or yes/no question"):
        FormField(id="name", kind=FieldKind.SHORT_TEXT, label="Name", skip=(SkipRule(when="x", to=END),))
    with pytest.raises(ValidationError, match="question ids must be unique"):
        form(SHORT, SHORT)


# --- dealbreakers ----------------------------------------------------------------------------------

AUTHORISED = FormField(id="authorised", kind=FieldKind.YES_NO, label="Are you authorised to work in the UK?",
                       knockout=KnockoutRule(accept=("Yes",), reason="Not authorised to work in the UK"))
AGE = FormField(id="age", kind=FieldKind.NUMBER, label="Your age",
                knockout=KnockoutRule(minimum=18, maximum=70))
LICENCES = FormField(id="licences", kind=FieldKind.MULTI_CHOICE, label="Licences held",
                     options=("Car", "Van", "Forklift"), knockout=KnockoutRule(accept=("Van", "Forklift")))


def test_a_dealbreaker_knocks_out_with_the_reason_and_the_answer_quoted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spec = stage(SHORT, AUTHORISED)
    with caplog.at_level(logging.INFO, logger="milo_voice.stages.form"):
        outcome = judge(spec, {"name": "Sam", "authorised": "No"})
    assert (outcome.passed, outcome.knocked_out) == (False, True)
    assert outcome.reason == "Not authorised to work in the UK: answered No"
    assert outcome.evidence == (Evidence(quote="No", source="Q2 Are you authorised to work in the UK?"),)
    assert outcome.detail["dealbreakers"] == [{
        "field": "authorised", "label": "Are you authorised to work in the UK?", "answer": "No",
        "reason": "Not authorised to work in the UK: answered No",
        "source": "Q2 Are you authorised to work in the UK?",
    }]
    [record] = [r for r in caplog.records if r.getMessage() == "stages.form.knockout"]
    assert record.__dict__["reason"] == "Not authorised to work in the UK: answered No"


def test_an_accepted_answer_does_not_knock_out() -> None:
    outcome = judge(stage(SHORT, AUTHORISED, AGE, LICENCES),
                    {"name": "Mira", "authorised": "Yes", "age": 30.0, "licences": ["Car", "Van"]})
    assert (outcome.passed, outcome.knocked_out, outcome.reason) == (True, False, "form completed")
    assert outcome.evidence == () and outcome.detail["dealbreakers"] == []


@pytest.mark.parametrize(("age", "out"), [(17.0, True), (17.5, True), (18.0, False), (70.0, False),
                                          (71.0, True)])
def test_a_number_outside_the_range_knocks_out(age: float, out: bool) -> None:
    outcome = judge(stage(AGE), {"age": age})
    assert outcome.knocked_out is out
    if out:
        assert outcome.reason == f"Your age: answered {answer_text(AGE, age)}"  # no reason: the label
        assert outcome.evidence == (Evidence(answer_text(AGE, age), "Q1 Your age"),)


def test_a_multiple_choice_knocks_out_only_when_none_picked_is_accepted() -> None:
    assert not judge(stage(LICENCES), {"licences": ["Car", "Forklift"]}).knocked_out
    outcome = judge(stage(LICENCES), {"licences": ["Car"]})
    assert outcome.knocked_out and outcome.reason == "Licences held: answered Car"


def test_the_first_failed_dealbreaker_decides_and_all_are_kept() -> None:
    outcome = judge(stage(AUTHORISED, AGE), {"authorised": "No", "age": 16.0})
    assert outcome.reason == "Not authorised to work in the UK: answered No"
    assert [d["field"] for d in outcome.detail["dealbreakers"]] == ["authorised", "age"]
    assert outcome.evidence[0] == Evidence("No", "Q1 Are you authorised to work in the UK?")


def test_a_skipped_dealbreaker_or_a_stale_answer_does_not_knock_out() -> None:
    gate = FormField(id="uk", kind=FieldKind.YES_NO, label="Applying in the UK?",
                     skip=(SkipRule(when="No", to=END),))
    outcome = judge(stage(gate, AUTHORISED), {"uk": "No", "authorised": "No"})
    assert (outcome.passed, outcome.knocked_out) == (True, False)
    optional = AUTHORISED.model_copy(update={"required": False})
    assert not judge(stage(SHORT, optional), {"name": "Ana"}).knocked_out


# --- rubric-scored answers and the pass score ------------------------------------------------------

STORY = FormField(
    id="story", kind=FieldKind.LONG_TEXT, label="Tell us about a difficult customer.",
    rubric=QuestionRubric(criteria=(Criterion(
        id="calm", name="Stays calm and solves it",
        anchors={1: "blames the customer", 5: "listened calmly, apologised and solved the refund problem"},
    ),)),
)
GOOD_STORY = ("A customer shouted about a late refund. I listened calmly and apologised. "
              "Then I solved the refund problem the same day, and she thanked me.")


def test_a_long_text_answer_is_scored_with_verbatim_quotes() -> None:
    outcome = judge(stage(SHORT, STORY, pass_score=50), {"name": "Ana", "story": GOOD_STORY})
    card = outcome.detail["card"]
    assert outcome.score == card["overall"] and outcome.score is not None and outcome.score >= 50
    assert outcome.passed is True and outcome.reason.startswith(f"scored {outcome.score:g}, at or above")
    [question] = card["questions"]
    assert question["position"] == 1 and question["answered"] is True
    quotes = [q["text"] for c in question["criteria"] for q in c["quotes"]]
    assert quotes and all(q in GOOD_STORY for q in quotes)
    source = "Q2 Tell us about a difficult customer."
    assert outcome.evidence and all(e.quote in GOOD_STORY and e.source == source for e in outcome.evidence)


def test_a_low_score_does_not_pass() -> None:
    outcome = judge(stage(STORY, pass_score=80), {"story": "It was fine, nothing happened really."})
    assert outcome.score is not None and outcome.score < 80
    assert (outcome.passed, outcome.knocked_out) == (False, False)
    assert "below the pass score 80" in outcome.reason


def test_without_a_pass_score_finishing_is_enough() -> None:
    outcome = judge(stage(STORY), {"story": "It was fine."})
    assert outcome.passed is True and outcome.score is not None


def test_a_pass_score_with_nothing_to_score_goes_to_a_person() -> None:
    optional = STORY.model_copy(update={"required": False})
    outcome = judge(stage(SHORT, optional, pass_score=50), {"name": "Ana"})
    assert outcome.passed is None and outcome.score is None and not outcome.knocked_out
    assert outcome.reason.endswith("a person decides") and "card" not in outcome.detail


class Proposes:
    """A stand-in for an LLM scorer: proposes fixed judgements."""

    name, label, model = "llm", "LLM (stand-in)", "stand-in"

    def __init__(self, *judgements: Judgement) -> None:
        self.judgements = list(judgements)
        self.seen: list[QuestionInput] = []

    def fingerprint(self, question: QuestionInput) -> str:
        return question.question

    async def judge(self, question: QuestionInput) -> list[Judgement]:
        self.seen.append(question)
        return self.judgements


PERMIT = FormField(
    id="permit", kind=FieldKind.LONG_TEXT, label="Describe your right to work.",
    rubric=QuestionRubric(criteria=(Criterion(
        id="permit", name="Has the right to work", kind=CriterionKind.DEALBREAKER, required_answer="yes"),)),
)


def test_the_scorer_sees_the_question_and_the_answer() -> None:
    scorer = Proposes(Judgement("calm", 4, None, "Calm.", ("listened calmly and apologised",)))
    outcome = judge(stage(STORY), {"story": GOOD_STORY}, scorer=scorer)
    [seen] = scorer.seen
    assert seen.answers == (GOOD_STORY,) and seen.asked == ("Tell us about a difficult customer.",)
    assert outcome.score == 75.0 and outcome.evidence == (
        Evidence("listened calmly and apologised", "Q1 Tell us about a difficult customer."),)


def test_a_rubric_dealbreaker_with_a_verified_quote_knocks_out() -> None:
    answer = "I have no visa yet. My permit expired in May."
    scorer = Proposes(Judgement("permit", None, False, "No permit.", ("my permit expired in May",)))
    outcome = judge(stage(SHORT, PERMIT), {"name": "Sam", "permit": answer}, scorer=scorer)
    assert (outcome.passed, outcome.knocked_out) == (False, True)
    assert outcome.reason == "Has the right to work: No permit."
    [evidence] = outcome.evidence
    assert evidence.quote == "My permit expired in May" and evidence.quote in answer  # its own spelling
    assert evidence.source == "Q2 Describe your right to work."
    assert [d["field"] for d in outcome.detail["dealbreakers"]] == ["permit"]


def test_a_rubric_dealbreaker_with_an_invented_quote_goes_to_a_person() -> None:
    scorer = Proposes(Judgement("permit", None, False, "No permit.", ("I am not allowed to work",)))
    outcome = judge(stage(PERMIT), {"permit": "My visa is being renewed."}, scorer=scorer)
    assert not outcome.knocked_out and outcome.passed is None
    assert outcome.reason.endswith("a person decides") and outcome.evidence == ()
    assert outcome.detail["card"]["needs_review"] is True


def test_quotes_of_an_offline_score_are_spans_of_the_answer() -> None:
    outcome = judge(stage(STORY), {"story": GOOD_STORY})
    flat = normalise(GOOD_STORY)
    assert outcome.evidence and all(normalise(e.quote) in flat for e in outcome.evidence)
