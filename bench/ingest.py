"""Resume ingestion benchmark: `extract_resume` over every PDF of a folder, against hand-written truth.

For each PDF of the folder (default ../shared/data/resumes, `--dir`) with an entry in the manifest
(`--manifest`, default <dir>/manifest.jsonl; see that folder's README), the offline extraction
(pypdf text, then `extract_contacts` with `--region`, default US) is compared with the truth:

- name: right when equal ignoring case, runs of whitespace and a space after a dot;
- email: the returned email is one of the candidate's emails (case-insensitive);
- phone: the returned phone is one of the candidate's phones. Where the truth fixes the country (the
  manifest entry has a `country`, or the true number is printed with "+"), the full international
  number must match: the returned value read with its own country code, or, printed without one,
  in the truth's country ("+1 313 405 7678" is not the Colombian 313 405 7678; "348 7131298" is the
  Italian +39 348 713 1298). Otherwise, and always with `--phone-match digits` (the rule before
  2026-12-05), the national significant number is compared (digits after the country code, or after
  the trunk 0 of a national form; masked characters ignored), so "+48512514831" matches
  "0048 512 514 831". The digit-only figure is also printed on its own line;
- location (fuzzy): one string contains the other, or difflib's ratio >= 0.6 (case-insensitive);
- false email / false phone: an email (phone) returned where the truth has none, or not among the
  truth's values; counted for the chosen value and, separately, for every value of the lists;
- scanned: `problem == "no text found: scanned document?"` against the manifest's `scanned`.

Accuracy is "right in X/Y of the resumes that contain the field", over all resumes and over the
resumes with a text layer (a scanned resume contains a name, but without OCR nothing can read it).
Throughput: resumes per second (bytes already in memory; text extraction and contact extraction in
one process, one core), the median of `--passes` passes (default 3), with the machine.

Mode comparison (`--modes plain,layout`): the same scores with pypdf's plain and layout extraction.

Leave-one-file-out: the two thresholds of the contact block (`TOP_LINES`: lines of page 1 before the
first heading that count as its top; `ANCHOR_REACH`: lines around an email or phone that belong to
the contact block) are set in the code. To show what choosing them on 15 files is worth, each file
in turn is held out, the pair that scores best on the other files (right fields minus false ones)
is picked from a grid, and the held-out file is scored with it. The other constants (confidences,
MIN_DIGITS = 7, SCRIPT_MIN_CHARS) were set from first principles and not searched.

    .venv/bin/python bench/ingest.py
    .venv/bin/python bench/ingest.py --dir /path/to/resumes --manifest /path/to/manifest.jsonl
    .venv/bin/python bench/ingest.py --modes plain --passes 1

Writes JSON to bench/out/ingest.json unless --json says where.
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import json
import os
import platform
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import phonenumbers

from milo_voice.intake import contact_layout
from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_lexicon import COUNTRY_REGIONS
from milo_voice.intake.document_text import UnreadableDocument, read_document
from milo_voice.intake.extract import BY_OCR, NO_TEXT, extract_resume, has_text
from milo_voice.intake.extraction_types import Contacts, Extraction
from milo_voice.intake.ocr import available as ocr_available

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "resumes"
OUT = REPO / "bench" / "out"
FIELDS = ("name", "email", "phone", "location")
GRID_TOP = (6, 8, 10, 12, 16, 20)
GRID_REACH = (2, 3, 4, 5, 6)
Truth = dict[str, Any]
Outcome = dict[str, Any]


# -- comparing with the truth ------------------------------------------------------------------


HONORIFIC = re.compile(r"^(?:dr|prof|mr|mrs|ms)\.?\s+", re.IGNORECASE)


def same_name(got: str, want: str) -> bool:
    """Equal as `_folded`, and a space after a dot ignored ("A. Aishwarya" is "A.Aishwarya")."""
    return _AFTER_DOT.sub(".", _folded(got)) == _AFTER_DOT.sub(".", _folded(want))


_AFTER_DOT = re.compile(r"\.\s+")


def _folded(text: str) -> str:
    """Spaces, case and a leading honorific ignored ("DR. MOLNÁR JÓZSEF" is "Molnár József": the name
    without its title); composed characters (an "ř" stored as r + combining caron is "ř"); the Turkish
    capital İ folds to a plain i ("BEKİR" is "Bekir"), not to an i with a combining dot as str.casefold
    gives."""
    text = HONORIFIC.sub("", unicodedata.normalize("NFC", " ".join(text.split())))
    return text.casefold().replace("i\u0307", "i")


_AT = re.compile(r"\s*[\[(]\s*at\s*[\])]\s*", re.IGNORECASE)
_DOT = re.compile(r"\s*[\[(]\s*dot\s*[\])]\s*", re.IGNORECASE)


def truth_email(printed: str) -> str:
    """An address as the truth printed it, obfuscations and stray spaces undone ("jb (at) jonasbandi.net"
    is jb@jonasbandi.net, "x@gmail .com" is x@gmail.com: what a recruiter would write to)."""
    return "".join(_DOT.sub(".", _AT.sub("@", printed)).split()).casefold()  # "x@gmail .com" too


def phone_key(printed: str) -> str:
    """The national significant number of a phone as printed (masked characters dropped)."""
    text = printed.replace("(+", "+").strip()
    compact = re.sub(r"[^\d+]", "", text)
    if compact.startswith(("00", "+00")):  # "+0033 6..." is +33 6... as "0033 6..." is
        compact = "+" + compact.lstrip("+")[2:]
    if compact.startswith("+"):
        try:
            return str(phonenumbers.parse(compact, None).national_number)
        except phonenumbers.NumberParseException:
            pass
    return re.sub(r"\D", "", compact).lstrip("0")


PHONE_MATCH = "e164"
"""How phones are compared: "e164" (the full number where the truth fixes the country) or "digits"."""


def _e164(printed: str, region: str) -> str:
    """The E.164 form of a phone as printed: by its own country code, else in `region` ("" if neither)."""
    compact = re.sub(r"[^\d+]", "", printed.replace("(+", "+").strip())
    if compact.startswith(("00", "+00")):  # "+0033 6..." is +33 6... as "0033 6..." is
        compact = "+" + compact.lstrip("+")[2:]
    if not compact.startswith("+") and not region:
        return ""
    try:
        number = phonenumbers.parse(compact, None if compact.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def truth_region(truth: Truth) -> str:
    """The region of the manifest's `country_code` or `country`, "" when none or unknown.

    `country_code` is an ISO 3166-1 alpha-2 code ("BR"); `country` a name in any language the lexicon
    knows ("Germany/Ukraine" -> DE), or itself a two-letter code. An unknown value is an error, not
    silently "no country": a typo would otherwise loosen the phone rule for that file.
    """
    for key in ("country_code", "country"):
        value = (truth.get(key) or "").split("/")[0].strip()
        if not value:
            continue
        if len(value) == 2 and value.upper() in phonenumbers.SUPPORTED_REGIONS:
            return value.upper()
        if value.lower() in COUNTRY_REGIONS:
            return COUNTRY_REGIONS[value.lower()]
        raise SystemExit(f"{truth.get('file')}: {key} {value!r} is neither a country name nor an ISO code")
    return ""


def same_phone(got: str, want: str, region: str, match: str = PHONE_MATCH) -> bool:
    wanted = _e164(want, region) if match == "e164" else ""
    if not wanted:
        return bool(phone_key(got)) and phone_key(got) == phone_key(want)
    own_region = region or phonenumbers.region_code_for_number(phonenumbers.parse(wanted, None)) or ""
    return _e164(got, own_region) == wanted


def same_place(got: str, want: str) -> bool:
    a, b = _folded(got), _folded(want)
    return bool(a and b) and (a in b or b in a or difflib.SequenceMatcher(None, a, b).ratio() >= 0.6)


def score(contacts: Contacts | None, truth: Truth, phone_match: str | None = None) -> Outcome:
    """Per field: "right", "wrong", "missed" (truth has it, nothing returned), "false" (returned, truth
    has none), "none" (neither); plus the false values of the email and phone lists, and "phone_digits"
    (the phone by national digits only, whatever `phone_match`)."""
    match = phone_match or PHONE_MATCH
    emails = [truth_email(e) for e in truth["emails"]]
    phones = [p for p in truth["phones"] if phone_key(p)]
    region = truth_region(truth)

    def phone_right(value: str, how: str = match) -> bool:
        return any(same_phone(value, want, region, how) for want in phones)

    checks: dict[str, tuple[bool, Callable[[str], bool]]] = {
        "name": (bool(truth["name"]), lambda v: same_name(v, truth["name"])),
        "email": (bool(emails), lambda v: v.casefold() in emails),
        "phone": (bool(phones), phone_right),
        "phone_digits": (bool(phones), lambda v: phone_right(v, "digits")),
        "location": (bool(truth["location"]), lambda v: same_place(v, truth["location"] or "")),
    }
    out: Outcome = {}
    for field, (has, right) in checks.items():
        value = getattr(contacts, field.removesuffix("_digits")).value if contacts else ""
        if not value:
            out[field] = "missed" if has else "none"
        elif not has:
            out[field] = "false"
        else:
            out[field] = "right" if right(value) else "wrong"
        if field in FIELDS:
            out[f"{field}_value"] = value
            out[f"{field}_confidence"] = getattr(contacts, field).confidence if contacts else 0.0
    out["false_in_emails"] = [e for e in (contacts.emails if contacts else ()) if e.casefold() not in emails]
    out["false_in_phones"] = [p for p in (contacts.phones if contacts else ()) if not phone_right(p)]
    return out


# -- running -----------------------------------------------------------------------------------


def load(folder: Path, manifest: Path) -> list[tuple[Path, bytes, Truth | None]]:
    truths = {}
    if manifest.exists():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                truths[entry["file"]] = entry
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".pdf", ".docx"))
    return [(p, p.read_bytes(), truths.get(p.name)) for p in files]


def extract(data: bytes, name: str, region: str) -> Extraction:
    """`extract_resume`, with an unreadable file as an Extraction carrying its message."""
    try:
        return extract_resume(data, name, default_region=region)
    except UnreadableDocument as exc:
        return Extraction(None, "", 0, str(exc))


def throughput(files: Sequence[tuple[Path, bytes, Truth | None]], region: str, passes: int) -> dict[str, Any]:
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        for path, data, _truth in files:
            extract(data, path.name, region)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {"passes_s": [round(t, 4) for t in times], "median_s": round(median, 4),
            "resumes_per_s": round(len(files) / median, 2) if median else None,
            "ms_per_resume": round(1000 * median / max(1, len(files)), 1)}


def summary(outcomes: Sequence[Outcome], scanned: Sequence[bool]) -> dict[str, Any]:
    text_layer = [o for o, s in zip(outcomes, scanned, strict=True) if not s]
    result: dict[str, Any] = {"resumes": len(outcomes), "with_text_layer": len(text_layer)}
    for field in (*FIELDS, "phone_digits"):
        for label, group in (("all", outcomes), ("text_layer", text_layer)):
            has = [o for o in group if o[field] in ("right", "wrong", "missed")]
            right = sum(o[field] == "right" for o in has)
            result[f"{field}_{label}"] = [right, len(has)]
        result[f"{field}_false"] = [sum(o[field] in ("false", "wrong") for o in outcomes), len(outcomes)]
    result["false_in_emails"] = [sum(bool(o["false_in_emails"]) for o in outcomes), len(outcomes)]
    result["false_in_phones"] = [sum(bool(o["false_in_phones"]) for o in outcomes), len(outcomes)]
    low = [(o[f] == "right") for o in outcomes for f in FIELDS if o[f] in ("right", "wrong", "false")
           and o[f"{f}_confidence"] < 0.8]
    result["low_confidence_values"] = {"right": sum(low), "not_right": len(low) - sum(low)}
    return result


def ratio(pair: Sequence[int]) -> str:
    right, total = pair
    return f"{right}/{total} ({100 * right / total:.1f}%)" if total else "0/0"


def print_summary(title: str, s: dict[str, Any]) -> None:
    print(f"\n{title} ({s['resumes']} resumes, {s['with_text_layer']} with a text layer)")
    for field in ("name", "email", "phone"):
        print(f"  {field:9} right in {ratio(s[f'{field}_all']):>14} of the resumes that contain it;"
              f" {ratio(s[f'{field}_text_layer']):>14} of those with a text layer")
    print(f"  {'':9} (phone by national digits only, any country code: {ratio(s['phone_digits_all'])})")
    print(f"  {'location':9} fuzzy-right in {ratio(s['location_all'])}; "
          f"{ratio(s['location_text_layer'])} with a text layer; "
          f"returned where absent or wrong {ratio(s['location_false'])}")
    print(f"  false email (chosen value) {ratio(s['email_false'])}; any false in the emails list "
          f"{ratio(s['false_in_emails'])}")
    print(f"  false phone (chosen value) {ratio(s['phone_false'])}; any false in the phones list "
          f"{ratio(s['false_in_phones'])}")
    low = s["low_confidence_values"]
    print(f"  values flagged low-confidence (< 0.8): {low['right']} right, {low['not_right']} not right")


def contacts_of(data: bytes, name: str, mode: str, region: str) -> tuple[Contacts | None, str]:
    try:
        document = read_document(data, name, mode=mode)  # type: ignore[arg-type]
    except UnreadableDocument as exc:
        return None, str(exc)
    if not has_text(document.text):
        return None, NO_TEXT
    return extract_contacts(document.text, default_region=region), document.text


def mode_comparison(files: Sequence[tuple[Path, bytes, Truth]], modes: Sequence[str],
                    region: str) -> dict[str, Any]:
    result = {}
    for mode in modes:
        start = time.perf_counter()
        outcomes = [score(contacts_of(data, path.name, mode, region)[0], truth)
                    for path, data, truth in files]
        seconds = time.perf_counter() - start
        result[mode] = summary(outcomes, [bool(t.get("scanned")) for _, _, t in files])
        result[mode]["seconds"] = round(seconds, 3)
    return result


# -- leave one file out ------------------------------------------------------------------------


def utility(outcome: Outcome) -> int:
    right = sum(outcome[f] == "right" for f in FIELDS)
    bad = sum(outcome[f] in ("wrong", "false") for f in FIELDS)
    return right - bad - bool(outcome["false_in_emails"]) - bool(outcome["false_in_phones"])


def leave_one_out(files: Sequence[tuple[Path, bytes, Truth]], region: str) -> dict[str, Any]:
    texts = [contacts_of(data, path.name, "plain", region)[1] for path, data, _ in files]
    shipped = (contact_layout.TOP_LINES, contact_layout.ANCHOR_REACH)
    grid = list(itertools.product(GRID_TOP, GRID_REACH))
    table: dict[tuple[int, int], list[Outcome]] = {}
    try:
        for top, reach in grid:
            contact_layout.TOP_LINES, contact_layout.ANCHOR_REACH = top, reach
            table[(top, reach)] = [
                score(None if text == NO_TEXT else extract_contacts(text, default_region=region), truth)
                for text, (_, _, truth) in zip(texts, files, strict=True)
            ]
    finally:
        contact_layout.TOP_LINES, contact_layout.ANCHOR_REACH = shipped
    held_out, chosen = [], []
    for i in range(len(files)):
        others = {pair: sum(utility(o) for j, o in enumerate(table[pair]) if j != i) for pair in grid}
        tied = [pair for pair in grid if others[pair] == max(others.values())]
        worst = min(tied, key=lambda pair, i=i: utility(table[pair][i]))  # ties resolved against us
        chosen.append(worst)
        held_out.append(table[worst][i])
    dev_best = max(grid, key=lambda pair: (sum(utility(o) for o in table[pair]), pair == shipped))
    scanned = [bool(t.get("scanned")) for _, _, t in files]
    return {"shipped": list(shipped), "best_on_all_files": list(dev_best),
            "chosen_per_fold": [list(c) for c in chosen],
            "grid": {"TOP_LINES": list(GRID_TOP), "ANCHOR_REACH": list(GRID_REACH)},
            "shipped_summary": summary(table[shipped], scanned),
            "held_out_summary": summary(held_out, scanned),
            "sensitivity": {f"{t},{r}": sum(utility(o) for o in table[(t, r)]) for t, r in grid}}


# -- main --------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {"platform": platform.platform(), "machine": platform.machine(), "processor": platform.processor(),
            "cpu_count": os.cpu_count(), "python": platform.python_version()}


def per_file_lines(files: Sequence[tuple[Path, bytes, Truth]], outcomes: Sequence[Outcome]) -> None:
    print("\nper file (R right, W wrong, M missed, F false, - absent):")
    mark = {"right": "R", "wrong": "W", "missed": "M", "false": "F", "none": "-"}
    for (path, _, _), o in zip(files, outcomes, strict=True):
        marks = " ".join(f"{f}={mark[o[f]]}" for f in FIELDS)
        extra = ""
        if o["false_in_emails"] or o["false_in_phones"]:
            extra = f"  false in lists: {o['false_in_emails'] + o['false_in_phones']}"
        print(f"  {path.name:24} {marks}{extra}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=DATA)
    parser.add_argument("--manifest", type=Path, default=None)
    parser.add_argument("--region", default="US")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--modes", default="plain,layout", help="pypdf extraction modes to compare")
    parser.add_argument("--no-loo", action="store_true", help="skip the leave-one-file-out check")
    parser.add_argument("--json", type=Path, default=OUT / "ingest.json")
    parser.add_argument("--phone-match", choices=("e164", "digits"), default="e164",
                        help="e164: full numbers where the truth fixes the country; digits: national digits")
    args = parser.parse_args(argv)
    global PHONE_MATCH
    PHONE_MATCH = args.phone_match
    files = load(args.dir, args.manifest or args.dir / "manifest.jsonl")
    scored = [(p, d, t) for p, d, t in files if t is not None]
    if not files:
        print(f"no PDF in {args.dir}", file=sys.stderr)
        return 2
    results = [extract(d, p.name, args.region) for p, d, _ in scored]
    outcomes = [score(r.contacts, t) for r, (_, _, t) in zip(results, scored, strict=True)]
    scanned_truth = [bool(t.get("scanned")) for _, _, t in scored]
    detected = [r.problem in (NO_TEXT, BY_OCR) for r in results]  # reported as scanned (OCR'd or not)
    report: dict[str, Any] = {"dir": str(args.dir), "region": args.region, "machine": machine(),
                              "dev": summary(outcomes, scanned_truth)}
    pairs = list(zip(detected, scanned_truth, strict=True))
    report["scanned"] = {"detected": [sum(d and s for d, s in pairs), sum(scanned_truth)],
                         "false_alarms": [sum(d and not s for d, s in pairs),
                                          len(pairs) - sum(scanned_truth)]}
    report["problems"] = {p.name: r.problem for (p, _, _), r in zip(scored, results, strict=True)
                          if r.problem}
    report["throughput"] = throughput(files, args.region, args.passes)
    report["per_file"] = {p.name: o for (p, _, _), o in zip(scored, outcomes, strict=True)}
    print(f"resume ingestion: {len(files)} PDFs in {args.dir} ({len(scored)} with ground truth), "
          f"default region {args.region}")
    print_summary("dev set, extract_resume (pypdf plain; OCR for image-only PDFs when tesseract is "
                  f"{'installed' if ocr_available() else 'NOT installed'})", report["dev"])
    print(f"  scanned detected {ratio(report['scanned']['detected'])}; "
          f"false 'scanned' on text PDFs {ratio(report['scanned']['false_alarms'])}")
    for name, problem in report["problems"].items():
        print(f"  {name}: {problem}")
    per_file_lines(scored, outcomes)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if len(modes) > 1:
        report["modes"] = mode_comparison(scored, modes, args.region)
        print("\npypdf extraction modes (same rules, text from each mode):")
        for mode, s in report["modes"].items():
            fields = ", ".join(f"{f} {ratio(s[f + '_all'])}" for f in FIELDS)
            print(f"  {mode:7} {fields}; false email {ratio(s['email_false'])}, false phone "
                  f"{ratio(s['phone_false'])}; {s['seconds']:.2f} s for {s['resumes']} resumes")
    if not args.no_loo and len(scored) > 2:
        loo = leave_one_out(scored, args.region)
        report["leave_one_out"] = loo
        print(f"\nleave-one-file-out for TOP_LINES, ANCHOR_REACH (shipped {tuple(loo['shipped'])}; grid "
              f"{GRID_TOP} x {GRID_REACH}; best on all files {tuple(loo['best_on_all_files'])}):")
        best = max(loo["sensitivity"].values())
        ties = [pair for pair, u in loo["sensitivity"].items() if u == best]
        print(f"  utility (right - false fields) on all files is at its best ({best}) for {len(ties)} of "
              f"{len(loo['sensitivity'])} pairs: {' '.join(ties)}")
        print(f"  a tie on the other files is resolved against us (the pair worst on the held-out file); "
              f"chosen per fold: {sorted({tuple(c) for c in loo['chosen_per_fold']})}")
        print_summary("  held-out figures (each file scored with the pair chosen without it)",
                      loo["held_out_summary"])
    t = report["throughput"]
    m = report["machine"]
    print(f"\nthroughput: {t['resumes_per_s']} resumes/s ({t['ms_per_resume']} ms each; median of "
          f"{len(t['passes_s'])} passes {t['passes_s']} s; one process) on {m['platform']}, "
          f"{m['cpu_count']} CPUs, Python {m['python']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
