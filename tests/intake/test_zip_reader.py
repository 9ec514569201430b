"""The ZIP reader on hostile archives built here (issue 17): bombs refused by ratio, member size and
total, counted on the bytes that come out rather than on the header; unsafe paths, nested ZIPs,
encrypted, corrupt, overlapping and duplicate members each reported; a truncated archive refused
whole. In every case the good files of the same archive still come through."""

from __future__ import annotations

import io
import os
import struct
import time
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from milo_voice.intake.zip_reader import (
    MB,
    UnreadableArchive,
    ZipLimits,
    ZipMember,
    ZipProblem,
    read_zip,
    zip_summary,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DOCX = b"PK\x03\x04 pretend docx"
CSV = b"name,email\nAnna Berg,anna@example.com\n"
NO_RATIO = ZipLimits(max_ratio=10**9)


def write_zip(path: Path, members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are wanted here
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members:
                archive.writestr(info(name, method), data)
    return path


def info(name: str, method: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=(2024, 5, 1, 12, 0, 0))
    entry.compress_type = method
    return entry


def add_zeros(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """A member of `size` zero bytes, deflated, written 1 MB at a time (never held whole here)."""
    with archive.open(info(name), "w") as member:
        block = bytes(MB)
        for _ in range(size // MB):
            member.write(block)


def results(path: Path, limits: ZipLimits | None = None) -> tuple[dict[str, bytes], dict[str, str]]:
    members: dict[str, bytes] = {}
    problems: dict[str, str] = {}
    for result in read_zip(path, limits):
        if isinstance(result, ZipMember):
            members[result.name] = result.data
        else:
            assert isinstance(result, ZipProblem)
            problems[result.name] = result.message
    return members, problems


def patch_member(path: Path, name: bytes, *, flags: int = 0, file_size: int | None = None,
                 header_offset: int | None = None) -> None:
    """Rewrite fields of one member in its local header and its central directory record."""
    data = bytearray(path.read_bytes())
    for signature, name_len_at, name_at, flags_at, size_at in ((b"PK\x03\x04", 26, 30, 6, 22),
                                                                 (b"PK\x01\x02", 28, 46, 8, 24)):
        at = data.find(signature)
        while at >= 0:
            (length,) = struct.unpack_from("<H", data, at + name_len_at)
            if bytes(data[at + name_at:at + name_at + length]) == name:
                (old,) = struct.unpack_from("<H", data, at + flags_at)
                struct.pack_into("<H", data, at + flags_at, old | flags)
                if file_size is not None:
                    struct.pack_into("<L", data, at + size_at, file_size)
                if header_offset is not None and signature == b"PK\x01\x02":
                    struct.pack_into("<L", data, at + 42, header_offset)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_hostile_names_are_reported_and_the_good_files_come_through(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    path = write_zip(tmp_path / "upload.zip", [
        ("resumes/", b""),
        ("resumes/anna.pdf", PDF),
        ("../evil.pdf", PDF),
        ("/etc/passwd", b"root:x:0:0"),
        ("C:\\x.pdf", PDF),
        ("\\\\server\\share\\y.pdf", PDF),
        ("resumes/../../up.pdf", PDF),
        ("resumes/bob.docx", DOCX),
        ("inner.zip", b"PK\x05\x06" + bytes(18)),
        ("notes.txt", b"hello"),
        ("__MACOSX/resumes/._anna.pdf", b"\x00\x05\x16\x07"),
        (".DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("resumes/.hidden/cv.pdf", PDF),
        ("Thumbs.db", b"\xd0\xcf\x11\xe0"),
        ("resumes/anna.pdf", b"%PDF-1.4 second copy"),
        ("list.csv", CSV),
        ("old\\windows\\carl.pdf", PDF),
    ])
    members, problems = results(path)
    assert members == {"resumes/anna.pdf": PDF, "resumes/bob.docx": DOCX, "list.csv": CSV,
                       "old/windows/carl.pdf": PDF}
    assert "goes up with '..'" in problems["../evil.pdf"]
    assert "absolute path" in problems["/etc/passwd"]
    assert problems["C:\\x.pdf"] == "unsafe path 'C:\\x.pdf' (Windows drive path): not read"
    assert "absolute path" in problems["\\\\server\\share\\y.pdf"]
    assert "goes up with '..'" in problems["resumes/../../up.pdf"]
    assert problems["inner.zip"] == "nested ZIP not opened: upload it on its own"
    assert problems["notes.txt"].startswith("skipped: .txt is not read here (only PDF, DOCX, CSV)")
    assert "duplicate name" in next(m for n, m in problems.items() if n == "resumes/anna.pdf")
    assert len(problems) == 8, problems  # folders, __MACOSX, dotfiles and Thumbs.db are skipped silently
    assert os.listdir(work) == [] and sorted(os.listdir(tmp_path)) == ["upload.zip", "work"]
    count, declared = zip_summary(path)
    assert count == len(members) + len(problems)
    assert declared == sum(len(data) for data in members.values())


def test_a_bomb_of_200_mb_of_zeros_is_refused_without_buffering_it(tmp_path: Path) -> None:
    """The ratio is judged against the member's whole compressed size (about 200 kB here), so this one
    is stopped at about 20 MB, by ratio or by member size, whichever limit it crosses first."""
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info("before.pdf"), PDF)
        add_zeros(archive, "bomb.pdf", 200 * MB)
        archive.writestr(info("after.pdf"), PDF)
    assert path.stat().st_size < MB  # about 1000:1
    tracemalloc.start()
    started = time.perf_counter()
    members, problems = results(path)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert members == {"before.pdf": PDF, "after.pdf": PDF}
    assert problems["bomb.pdf"] in ("expands more than 100 times when unpacked (a zip bomb?): not read",
                                    "larger than 20 MB once unpacked: not read")
    assert peak < 2 * 21 * MB, f"peak {peak / MB:.1f} MB: the bomb was buffered past the limits"
    assert elapsed < 3.0


def test_member_size_is_counted_on_the_bytes_that_come_out(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        add_zeros(archive, "big.pdf", 200 * MB)
        archive.writestr(info("ok.pdf"), PDF)
    tracemalloc.start()
    members, problems = results(path, NO_RATIO)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert members == {"ok.pdf": PDF}
    assert problems == {"big.pdf": "larger than 20 MB once unpacked: not read"}
    assert peak < 2 * 20 * MB + 4 * MB, f"peak {peak / MB:.1f} MB: read past the member limit"


def test_the_total_stops_the_archive_and_reports_every_later_file(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(5):
            add_zeros(archive, f"part{n}.pdf", 3 * MB)
        archive.writestr(info("small.pdf"), PDF)
    limits = ZipLimits(max_ratio=10**9, max_total_bytes=10 * MB)
    members, problems = results(path, limits)
    assert sorted(members) == ["part0.pdf", "part1.pdf", "part2.pdf"]
    assert all(len(data) == 3 * MB for data in members.values())
    assert sorted(problems) == ["part3.pdf", "part4.pdf", "small.pdf"]
    assert all("more than 10 MB in all" in message for message in problems.values())


def test_a_42_zip_like_archive_opens_nothing_nested_and_refuses_the_dense_member(tmp_path: Path) -> None:
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as inner:
        add_zeros(inner, "0.pdf", 16 * MB)
    path = tmp_path / "42.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(16):
            archive.writestr(info(f"lib {n}.zip"), layer.getvalue())
        add_zeros(archive, "dense.pdf", 5 * MB)  # under the member limit, over the ratio
        archive.writestr(info("cv.pdf"), PDF)
    members, problems = results(path)
    assert members == {"cv.pdf": PDF}
    nested = [problems[f"lib {n}.zip"] for n in range(16)]
    assert nested == ["nested ZIP not opened: upload it on its own"] * 16
    assert "expands more than 100 times" in problems["dense.pdf"]


def test_a_tiny_blank_file_is_not_taken_for_a_bomb(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "blank.zip", [("blank.csv", b"," * 500_000)])
    members, problems = results(path)
    assert problems == {} and len(members["blank.csv"]) == 500_000


def test_a_header_that_lies_about_the_size_gets_a_problem_not_cut_data(tmp_path: Path) -> None:
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w") as archive:
        add_zeros(archive, "liar.pdf", 5 * MB)
        archive.writestr(info("ok.pdf"), PDF)
    patch_member(path, b"liar.pdf", file_size=1000)
    members, problems = results(path, NO_RATIO)
    assert members == {"ok.pdf": PDF}
    assert problems["liar.pdf"].startswith("damaged in the ZIP (Bad CRC-32")


def test_encrypted_corrupt_and_unreadable_methods_are_reported_per_file(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "mixed.zip", [("secret.pdf", PDF), ("broken.pdf", PDF * 50), ("ok.pdf", PDF)])
    patch_member(path, b"secret.pdf", flags=0x1)  # zipfile cannot write encrypted members: set the flag
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        broken = archive.getinfo("broken.pdf")
    start = broken.header_offset + 30 + len("broken.pdf") + 4
    data[start:start + 16] = bytes(16)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(info("packed.pdf", zipfile.ZIP_BZIP2), PDF)
    members, problems = results(path)
    assert members == {"ok.pdf": PDF}
    assert problems["secret.pdf"].startswith("encrypted in the ZIP (password protected): not read")
    assert problems["broken.pdf"].startswith("damaged in the ZIP (")
    assert problems["packed.pdf"].startswith("compressed with bzip2, which is not read")


def test_members_whose_data_overlaps_are_refused(tmp_path: Path) -> None:
    """The overlapping-file bomb: one member's local header and data sit inside another's data."""
    quoted = io.BytesIO()
    with zipfile.ZipFile(quoted, "w") as inner:
        inner.writestr(info("b.pdf", zipfile.ZIP_STORED), PDF)
    local_record = quoted.getvalue()[:30 + len("b.pdf") + len(PDF)]
    path = write_zip(tmp_path / "overlap.zip", [("a.pdf", local_record), ("b.pdf", PDF), ("c.pdf", PDF)],
                     zipfile.ZIP_STORED)
    patch_member(path, b"b.pdf", header_offset=30 + len("a.pdf"))
    with zipfile.ZipFile(path) as archive:
        assert archive.read("b.pdf") == PDF  # zipfile alone reads it
    members, problems = results(path)
    assert members == {"c.pdf": PDF}
    assert set(problems) == {"a.pdf", "b.pdf"}
    assert all("overlaps another file" in message for message in problems.values())


def test_a_truncated_or_foreign_archive_is_refused_whole(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "cut.zip", [(f"cv{n}.pdf", PDF * 20) for n in range(10)])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UnreadableArchive, match="truncated or damaged"):
        list(read_zip(path))
    with pytest.raises(UnreadableArchive, match="truncated or damaged"):
        zip_summary(path)
    foreign = tmp_path / "photo.zip"
    foreign.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(UnreadableArchive, match=r"^not a ZIP archive$"):
        list(read_zip(foreign))


def test_limits_on_entries_and_files_and_an_empty_archive(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "six.zip", [(f"cv{n}.pdf", PDF) for n in range(6)])
    with pytest.raises(UnreadableArchive, match="lists 6 entries; at most 5"):
        list(read_zip(path, ZipLimits(max_entries=5)))
    with pytest.raises(UnreadableArchive, match="holds 6 files; at most 4"):
        zip_summary(path, ZipLimits(max_files=4))
    assert zip_summary(path) == (6, 6 * len(PDF))
    empty = write_zip(tmp_path / "empty.zip", [("folder/", b""), ("__MACOSX/._x", b"")])
    with pytest.raises(UnreadableArchive, match="no files to read"):
        list(read_zip(empty))


def test_names_in_cp437_and_in_utf8_without_the_flag_are_decoded(tmp_path: Path) -> None:
    names = ["MXller.pdf", "JosXX.pdf", "Jose\u0301 nfd.pdf"]
    path = write_zip(tmp_path / "names.zip", [(name, PDF) for name in names])
    data = path.read_bytes()
    data = data.replace(b"MXller.pdf", b"M\x81ller.pdf")  # cp437 0x81 is u-umlaut; no UTF-8 flag
    data = data.replace(b"JosXX.pdf", "José.pdf".encode())  # UTF-8 bytes, no flag (Linux `zip`, many tools)
    path.write_bytes(data)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist()[:2] == ["Müller.pdf", "Jos├⌐.pdf"]  # what zipfile alone makes of them
    members, problems = results(path)
    assert problems == {}
    assert sorted(members) == ["José nfd.pdf", "José.pdf", "Müller.pdf"]


def test_the_info_zip_unicode_path_field_names_the_file_when_it_matches(tmp_path: Path) -> None:
    def unicode_path(raw: bytes, name: str) -> bytes:
        body = struct.pack("<BL", 1, zlib.crc32(raw)) + name.encode()
        return struct.pack("<HH", 0x7075, len(body)) + body

    path = tmp_path / "unicode.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for raw, extra in ((b"?ukasz.pdf", unicode_path(b"?ukasz.pdf", "Łukasz.pdf")),
                           (b"?ofia.pdf", unicode_path(b"something else", "Zofia.pdf"))):
            entry = info(raw.decode())
            entry.extra = extra
            archive.writestr(entry, PDF)
    members, _ = results(path)
    assert sorted(members) == ["?ofia.pdf", "Łukasz.pdf"]  # a field written for another name is ignored


def test_zip64_end_records_and_a_lying_entry_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)  # makes zipfile write the ZIP64 end records
        path = write_zip(tmp_path / "zip64.zip", [(f"cv{n}.pdf", PDF) for n in range(3)])
    data = bytearray(path.read_bytes())
    assert b"PK\x06\x06" in data
    struct.pack_into("<HH", data, data.rfind(b"PK\x05\x06") + 8, 0xFFFF, 0xFFFF)  # "see the ZIP64 record"
    path.write_bytes(bytes(data))
    assert zip_summary(path) == (3, 3 * len(PDF))
    with pytest.raises(UnreadableArchive, match="lists 3 entries; at most 2"):
        zip_summary(path, ZipLimits(max_entries=2))
    liar = write_zip(tmp_path / "liar.zip", [(f"cv{n}.pdf", PDF) for n in range(6)])
    data = bytearray(liar.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)  # "one entry", while the directory holds six
    liar.write_bytes(bytes(data))
    with pytest.raises(UnreadableArchive, match="more than 5 entries"):
        list(read_zip(liar, ZipLimits(max_entries=5)))
