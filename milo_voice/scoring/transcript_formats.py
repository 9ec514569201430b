"""The stored transcript as plain text and as WebVTT captions (times on the recording's timeline)."""

from __future__ import annotations

from milo_voice.scoring.transcript import CANDIDATE, Transcript


def speaker_name(speaker: str) -> str:
    return "Candidate" if speaker == CANDIDATE else "Interviewer"


def as_text(transcript: Transcript) -> str:
    lines = [
        f"[{u.start_s:8.2f} - {u.end_s:8.2f}] {speaker_name(u.speaker)}: {u.text}"
        for u in transcript.utterances
        if u.text.strip()
    ]
    return "\n".join(lines) + "\n"


def vtt_time(seconds: float) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def as_webvtt(transcript: Transcript) -> str:
    """WebVTT cues, one per turn, with a `<v Speaker>` voice span; "-->" in text is defused."""
    cues = ["WEBVTT", ""]
    for u in transcript.utterances:
        if not u.text.strip():
            continue
        end = max(u.end_s, u.start_s + 0.001)
        text = u.text.replace("-->", "->").replace("\n", " ").strip()
        cues += [
            str(u.index + 1),
            f"{vtt_time(u.start_s)} --> {vtt_time(end)}",
            f"<v {speaker_name(u.speaker)}>{text}",
            "",
        ]
    return "\n".join(cues)
