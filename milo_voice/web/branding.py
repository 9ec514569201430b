"""What the candidate's pages show of an interview's branding: its logo, title, role and welcome
message, laid out once by `templates/candidate_base.html`. The pages get a `BrandedScript` (the
interview's script plus its logo) from `BrandedInterviews`, which `candidate.py` uses in place of
`Interviews`.

The welcome greets once: the recruiter's welcome message usually opens with its own "Hello, ...",
so the candidate's name goes into that salutation ("Hello Robin Reader, and thank you ...")
instead of in front of it ("Hello Robin Reader. Hello, and thank you ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from milo_voice.dialogue.script import InterviewScript
from milo_voice.workspace.interviews import Interviews

SALUTATION = re.compile(
    r"(?P<word>hello|hi|hey|hiya|welcome|greetings|good (?:morning|afternoon|evening|day))\b"
    r"(?P<rest>[,!.].*|)",
    re.IGNORECASE | re.DOTALL,
)
"""A welcome message that opens with a greeting, alone or followed by `,` `!` or `.`."""


def welcome(greeting: str, name: str = "") -> str:
    """The welcome line for `name` (may be empty), greeting once (see the module docstring).

    A message that opens with a greeting word followed by punctuation or nothing gets the name after
    that word; one that opens with a greeting inside a phrase ("Welcome to Acme!") is shown as it is;
    any other message gets "Hello <name>." in front."""
    greeting, name = greeting.strip(), " ".join(name.split())
    if not name:
        return greeting
    if not greeting:
        return f"Hello {name}."
    opening = SALUTATION.match(greeting)
    if opening is None:
        return f"Hello {name}. {greeting}"
    rest = opening.group("rest")
    if rest or opening.end() == len(greeting):
        return f"{opening.group('word')} {name}{rest or '.'}"
    return greeting


@dataclass(frozen=True, slots=True)
class BrandedScript(InterviewScript):
    """An interview's script with what its candidate pages show besides: the logo."""

    logo: str = ""
    """The interview's logo as a data URL (`Interview.logo`), or "" for none."""

    def welcome(self, name: str = "") -> str:
        """The welcome message for the candidate `name` ("" when not known yet)."""
        return welcome(self.greeting, name)


def branded_script(interviews: Interviews, interview_id: int) -> BrandedScript:
    """Interview version `interview_id` as its candidate pages show it. Blocking: run in a thread."""
    script = Interviews.script(interviews, interview_id)
    values = {f.name: getattr(script, f.name) for f in fields(script)}
    return BrandedScript(**values, logo=interviews.get(interview_id).logo)


class BrandedInterviews(Interviews):
    """`Interviews` whose `script` is a `BrandedScript`: what the candidate pages read."""

    def script(self, interview_id: int) -> BrandedScript:
        return branded_script(self, interview_id)
