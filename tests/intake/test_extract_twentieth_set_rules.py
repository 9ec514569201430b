"""General rules found on a twentieth held-out set (after its first run), on invented text."""

from __future__ import annotations

import io
import zipfile

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.contact_layout import heading_kind
from milo_voice.intake.document_text import docx_text
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_dutch_labels_with_a_tab_before_the_colon() -> None:
    text = ("\tCurriculum Vitae\n\tPersoonsgegevens\n\tNaam\t:D. Dibbets\n\tAdres\t:Kerkstraat 3\n"
            "\tTelefoonnummer\t:06-30015535\n\tE-mailadres\t:ddib@example.com\n")
    assert contacts(text, "NL").name.value == "D. Dibbets"


def test_gsm_labels_a_belgian_mobile() -> None:
    text = ("Curriculum Vitae\nPersonalia\nMike Vlegels\n2040 Berendrecht\nGSM: 0471555945\n"
            "E-mail: mv@example.com\n")
    assert contacts(text, "BE").phone.value.endswith("471555945")


def test_a_stop_typed_after_a_name_in_capitals() -> None:
    text = "AKOTH SHARON.\nContact\n0725 555 657\nakoth.s@example.com\n"
    assert contacts(text, "KE").name.value == "Akoth Sharon"


def test_a_running_header_s_short_name_gives_way_to_the_full_one() -> None:
    text = ("Samuel Odu\nPage| 1\nSAMUEL ADEWOLE ODU\nBSc (Hons) Software Engineering\nTel: +44 7931 555878\n"
            "Personal-Email: samuel.a.odu@example.com\nProfessional Summary\n")
    assert contacts(text, "GB").name.value == "Samuel Adewole Odu"


def test_two_phones_with_a_slash_between_them() -> None:
    text = "Setiawan\nNomor Telepon / Phone : 08995551929/085641555353\nsetiawan@example.com\n"
    assert len(contacts(text, "ID").phones) == 2


def test_indonesian_title_and_abbreviated_references_are_headings() -> None:
    assert heading_kind("DAFTAR RIWAYAT HIDUP") == "title"
    assert heading_kind("Ref. Personal") == "excluded"


def _docx(body: str, footer: str) -> bytes:
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        paragraph = f"<w:p><w:r><w:t>{body}</w:t></w:r></w:p>"
        archive.writestr("word/document.xml", f"<w:document {w}><w:body>{paragraph}</w:body></w:document>")
        archive.writestr("word/footer1.xml", f"<w:ftr {w}><w:p><w:r><w:t>{footer}</w:t></w:r></w:p></w:ftr>")
    return out.getvalue()


def test_a_word_footer_is_read_after_the_body() -> None:
    text = docx_text(_docx("Ruben Flores", "ruben@example.com 0972 555 723")).text
    assert text.splitlines() == ["Ruben Flores", "ruben@example.com 0972 555 723"]


def test_a_full_name_label_after_other_cells_of_its_row() -> None:
    text = ("رزومه کاری\nنام پدر:ناصر نام مستعار:--------------- نام و نام خانوادگی:چنور حسینی\n"
            "جنسیت: زن محل تولد:بانه\nپست الکترونیکی:ch.h@example.com\n")
    assert contacts(text, "IR").name.value == "چنور حسینی"
    assert contacts("Date of birth: 1990 | Full name: Ana Ruiz\nana@example.com\n").name.value == "Ana Ruiz"


def test_a_persian_label_glued_to_the_address_and_a_persian_mobile() -> None:
    text = ("  روژینا اسماعیلی          برنامه نویس اندروید\nسن   : 21    سال\nتلفن : 09191555511\n"
            "  :ایمیلrozhina83@example.com\nخلاصه\n"
            "برنامه‌نویس اندروید با دو سال تجربه در توسعه‌ی اپلیکیشن‌های مدرن\n"
            "پیاده‌سازی پروژه‌های شخصی، یادگیری مداوم و کار گروهی در پروژه‌های بزرگ\n")
    found = contacts(text)
    assert found.email.value == "rozhina83@example.com"
    assert found.phone.value == "+989191555511"
    assert found.name.value == "روژینا اسماعیلی"
    assert contacts("Jane Doe\nxjane@example.com\n").email.value == "xjane@example.com"  # Latin: all of it


def test_a_chinese_name_over_its_sidebar_s_contact_heading_in_the_middle_of_the_text() -> None:
    text = ("项目经历\n参加智能车竞赛, 负责 SLAM 算法的实现与调试, 锻炼了快速定位与解决问题的能力\n"
            "王苏湖\n学 生\n联系信息\n电话：\n15251555560\n电子邮件：\nwang5991@example.com\n")
    assert contacts(text, "CN").name.value == "王苏湖"
