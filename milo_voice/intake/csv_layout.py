"""How a candidate list (CSV) is laid out: its encoding, delimiter, header row and a suggested mapping
from its columns to our fields. The pieces `csv_reader.sniff_csv` puts together.

Encoding, in order: a byte-order mark (UTF-8, UTF-16, UTF-32); then UTF-8 if the first non-ASCII
bytes of the file are valid UTF-8 (the file is scanned in 1 MB chunks up to them, so a list whose
first 64 kB are ASCII is still judged on its accents); then `charset-normalizer`, trusted only for
non-Latin scripts (Cyrillic, Greek, Hebrew, Arabic, Thai, CJK); for Latin text it prefers cp1250,
cp852 or mac_latin2 over cp1252 on short samples (measured), which turns "Ñ" into "Ń" and "Å" into
"Ĺ". Latin text is read as Windows-1252, or Windows-1250 when that gives fewer non-letters among the
accented characters (Polish, Czech, Hungarian lists), or Latin-1 when neither decodes.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from charset_normalizer import from_bytes

OUR_FIELDS = ("name", "first_name", "last_name", "email", "phone", "location", "external_id")
DELIMITERS = (",", ";", "\t", "|")
HEAD_BYTES = 64 * 1024
SCAN_BYTES = 1024 * 1024
BOMS = ((b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
NON_LATIN = frozenset({
    "cp1251", "koi8_r", "koi8_u", "mac_cyrillic", "iso8859_5", "cp866", "cp1253", "iso8859_7", "cp1255",
    "iso8859_8", "cp1256", "iso8859_6", "cp874", "tis_620", "cp932", "shift_jis", "euc_jp", "iso2022_jp",
    "gb2312", "gbk", "gb18030", "big5", "big5hkscs", "cp949", "euc_kr", "cp950",
})
LATIN_CODEPAGES = ("cp1252", "cp1250")
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (with BOM)", "utf-16": "UTF-16", "utf-32": "UTF-32",
                  "cp1252": "Windows-1252 (Western European)", "cp1250": "Windows-1250 (Central European)",
                  "latin-1": "Latin-1 (ISO 8859-1)"}

HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("full name", "fullname", "candidate name", "candidate", "applicant name", "applicant",
             "contact name", "display name", "nom complet", "nom et prenom", "prenom et nom",
             "nombre completo", "nombre y apellidos", "vollstandiger name", "vor und nachname",
             "nome completo", "volledige naam", "imie i nazwisko"),
    "first_name": ("first name", "firstname", "given name", "forename", "first", "prenom", "vorname",
                   "primer nombre", "nombre de pila", "voornaam", "nome proprio", "imie", "fornavn",
                   "fornamn", "имя"),
    "last_name": ("last name", "lastname", "surname", "family name", "last", "nom de famille", "nachname",
                  "familienname", "apellido", "apellidos", "achternaam", "cognome", "sobrenome", "nazwisko",
                  "efternavn", "efternamn", "фамилия"),
    "email": ("email", "e mail", "email address", "e mail address", "mail", "work email", "personal email",
              "courriel", "adresse e mail", "adresse mail", "e mail adresse", "correo", "correo electronico",
              "indirizzo email", "e mailadres", "emailadres", "электронная почта", "почта"),
    "phone": ("phone", "phone number", "mobile", "mobile phone", "mobile number", "cell", "cell phone",
              "telephone", "telephone number", "tel", "telefon", "telefonnummer", "handy", "mobil",
              "mobilnummer", "telefono", "movil", "celular", "portable", "numero de telephone", "telefoon",
              "telefoonnummer", "gsm", "cellulare", "numer telefonu", "телефон"),
    "location": ("location", "city", "town", "city state", "address", "current location", "place", "region",
                 "country", "ort", "stadt", "wohnort", "standort", "ville", "localisation", "adresse",
                 "ciudad", "ubicacion", "localidad", "citta", "woonplaats", "plaats", "miasto", "город"),
    "external_id": ("candidate id", "applicant id", "external id", "id", "candidate number",
                    "applicant number", "ats id", "person id", "id candidat",
                    "identifiant", "bewerber id", "bewerbernummer", "kandidaten id", "id candidato",
                    "numero de candidato", "kandidaat id"),
}
AMBIGUOUS_NAME = ("name", "nom", "nombre", "naam", "nome", "navn", "namn")
"""Full name alone; the surname next to a first-name column, the first name next to a surname column."""
TOKENS: dict[str, frozenset[str]] = {
    "email": frozenset({"email", "mail", "courriel", "correo"}),
    "phone": frozenset({"phone", "mobile", "telephone", "tel", "cell", "telefon", "telefono", "handy",
                        "mobil", "movil", "celular", "gsm"}),
}
ID_OWNERS = frozenset({"candidate", "applicant", "candidat", "candidato", "bewerber", "kandidat"})
PHONE_LIKE = re.compile(r"\+?[\d ().\-/]{6,}")


class CsvTooLarge(ValueError):
    """The CSV is over the size limit; refused by its size on disk, before it is read."""


@dataclass(frozen=True)
class CsvLayout:
    """What `sniff_csv` found; stored as JSON on the batch (`dataclasses.asdict`) and rebuilt from it."""

    encoding: str
    delimiter: str
    has_header: bool
    columns: list[str]
    preview: list[list[str]]
    mapping: dict[str, str]
    """Suggested: our field (OUR_FIELDS) -> column name."""
    row_estimate: int
    notes: list[str] = field(default_factory=list)


def detect_encoding(path: Path) -> str:
    """The codec to open `path` with (see the module notes)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        for bom, codec in BOMS:
            if head.startswith(bom):
                return codec
        sample = head if not head.isascii() else _first_non_ascii(handle)
    if not sample or _is_utf8(sample):
        return "utf-8"
    best = from_bytes(sample).best()
    if best is not None and best.encoding in NON_LATIN and best.percent_coherence >= 10:
        return str(best.encoding)
    return _latin_codepage(sample)


def describe_encoding(codec: str) -> str:
    return ENCODING_NAMES.get(codec, codec)


def _first_non_ascii(handle: BinaryIO) -> bytes:
    """Up to 64 kB from the line holding the file's first non-ASCII byte ("" if it is all ASCII)."""
    while chunk := handle.read(SCAN_BYTES):
        if not chunk.isascii():
            at = next(i for i, byte in enumerate(chunk) if byte > 0x7F)
            start = chunk.rfind(b"\n", 0, at) + 1
            return chunk[start:start + HEAD_BYTES]
    return b""


def _is_utf8(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data" and exc.start >= len(sample) - 3
    return True


def _latin_codepage(sample: bytes) -> str:
    """cp1252, unless cp1250 reads the accented characters as fewer non-letters; latin-1 if none decodes."""
    scores = []
    for rank, codec in enumerate(LATIN_CODEPAGES):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        odd = sum(1 for ch in text if ord(ch) > 0x7F and not ch.isalpha())
        scores.append((odd, rank, codec))
    return min(scores)[2] if scores else "latin-1"


def choose_delimiter(text: str) -> str:
    """The delimiter that splits the sample's records most consistently into the most fields.

    `csv.Sniffer` (restricted to , ; tab |) breaks ties; a single-column list gets ","."""
    try:
        sniffed = csv.Sniffer().sniff(text, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = ""
    best, best_key = ",", (0.0, 0, False)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in parse(text, delimiter, limit=50) if any(cell.strip() for cell in row)]
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        key = (round(counts.count(modal) / len(counts), 2), modal, delimiter == sniffed)
        if modal >= 2 and key > best_key:
            best, best_key = delimiter, key
    return best


def parse(text: str, delimiter: str, limit: int | None = None) -> list[list[str]]:
    """Records of a text sample (a malformed record ends the sample)."""
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for row in reader:
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def looks_like_header(first: list[str], sample: str) -> bool:
    """A first row naming one of our fields is a header; one holding an email or phone is data."""
    if any(field_for(cell) for cell in first):
        return True
    if any("@" in cell or sum(ch.isdigit() for ch in cell) >= 6 for cell in first):
        return False
    try:
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return True


def column_names(first: list[str], has_header: bool, width: int) -> list[str]:
    """Unique, non-empty column names ("Column 3" for a blank or missing header cell)."""
    names: list[str] = []
    for index in range(width):
        raw = first[index].strip()[:100] if has_header and index < len(first) else ""
        name = base = raw or f"Column {index + 1}"
        copy = 2
        while name in names:
            name, copy = f"{base} ({copy})", copy + 1
        names.append(name)
    return names


def normal(header: str) -> str:
    """Lower case, accents and punctuation gone: "E-Mail" -> "e mail", "Téléphone" -> "telephone"."""
    text = unicodedata.normalize("NFKD", header.replace("ß", "ss"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[\W_]+", " ", text).strip()


NORMAL_HEADERS = {field_name: tuple(normal(name) for name in names) for field_name, names in HEADERS.items()}


def field_for(header: str) -> tuple[str, int] | None:
    """(our field, rank: lower is a better match) for a header, or None."""
    key = normal(header)
    if not key:
        return None
    if key in AMBIGUOUS_NAME:
        return ("name", 50)
    for field_name, names in NORMAL_HEADERS.items():
        if key in names:
            return (field_name, names.index(key))
    tokens = set(key.split())
    for field_name, words in TOKENS.items():
        if tokens & words or (field_name == "email" and "e mail" in key):
            return (field_name, 100)
    if "id" in tokens and tokens & ID_OWNERS:
        return ("external_id", 100)
    return None


def suggest_mapping(columns: list[str]) -> dict[str, str]:
    """Our field -> the best-matching column, each column used at most once."""
    best: dict[str, tuple[int, str]] = {}
    ambiguous: list[str] = []
    for column in columns:
        hit = field_for(column)
        if hit is None:
            continue
        if normal(column) in AMBIGUOUS_NAME:
            ambiguous.append(column)
        elif hit[0] not in best or hit[1] < best[hit[0]][0]:
            best[hit[0]] = (hit[1], column)
    for column in ambiguous:
        has_first, has_last = "first_name" in best, "last_name" in best
        target = "last_name" if has_first and not has_last else "first_name" if has_last and not has_first \
            else "name"
        if target not in best:
            best[target] = (50, column)
    return {field_name: best[field_name][1] for field_name in OUR_FIELDS if field_name in best}


def suggest_from_content(columns: list[str], rows: list[list[str]]) -> dict[str, str]:
    """For a list without a header: email where most cells hold "@", phone where most look like phone
    numbers, name in the first other column whose cells hold letters."""
    mapping: dict[str, str] = {}
    for at, column in enumerate(columns):
        cells = [row[at].strip() for row in rows if at < len(row) and row[at].strip()]
        if not cells:
            continue
        if "email" not in mapping and _most(cells, lambda cell: "@" in cell):
            mapping["email"] = column
        elif "phone" not in mapping and _most(cells, lambda cell: PHONE_LIKE.fullmatch(cell) is not None):
            mapping["phone"] = column
        elif "name" not in mapping and _most(cells, lambda cell: any(ch.isalpha() for ch in cell)):
            mapping["name"] = column
    return {field_name: mapping[field_name] for field_name in OUR_FIELDS if field_name in mapping}


def _most(cells: list[str], test: Callable[[str], bool]) -> bool:
    return sum(1 for cell in cells if test(cell)) * 2 > len(cells)
