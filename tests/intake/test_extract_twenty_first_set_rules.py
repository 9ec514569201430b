"""General rules found on a twenty-first held-out set (after its first run), on invented text."""

from __future__ import annotations

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.extraction_types import Contacts


def contacts(text: str, region: str = "US") -> Contacts:
    return extract_contacts(text, default_region=region)


def test_a_nickname_in_brackets_after_the_given_name() -> None:
    text = "Junshen (Jason) Tao\nNaperville, IL | (312) 555-9187 | jtao@example.com | US Citizen\n"
    assert contacts(text).name.value == "Junshen (Jason) Tao"
    assert contacts("JUNSHEN (JASON) TAO\njtao@example.com\n").name.value == "Junshen (Jason) Tao"


def test_a_generational_suffix_ends_a_name() -> None:
    text = "Sydney L. Hopson Jr.\nsydney.hopson@example.com\n770-555-1987\nStone Mountain, GA, USA\n"
    assert contacts(text).name.value == "Sydney L. Hopson Jr."


def test_turkish_letters_read_a_national_number_as_turkish() -> None:
    text = ("NUR MİNA ÖZEKES\nBİLGİSAYAR PROGRAMCILIĞI ÖĞRENCİSİ\nİLETİŞİM\n0(530) 555 63 17\n"
            "nur@example.com\n"
            "Hakkımda: Bilgisayar programcılığı öğrencisiyim; yazılım geliştirmeyi, öğrenmeyi ve takım "
            "çalışmasını seviyorum. İngilizce biliyorum. Öğrenci işleri ofisinde çalıştığım dönemde iletişim "
            "becerilerimi geliştirdim.\n")
    assert contacts(text).phone.value == "+905305556317"


def test_the_label_of_a_name_s_reading_is_not_the_name() -> None:
    text = "履歴書\nふりがな\n氏　名\nふりがな\n現住所 〒\nE-mail\nsuzuki@example.com\n"
    assert contacts(text, "JP").name.value != "ふりがな"


def test_a_city_with_its_state_is_not_a_name_with_degrees() -> None:
    text = ("Forklift Operator/Shipping Clerk\nSydneyHopsonJr@example.com\n770-555-1987\n"
            "Stone Mountain, GA, USA\nWork Experience\nSydney L. Hopson Jr.\n")
    assert contacts(text).name.value == "Sydney L. Hopson Jr."
    assert contacts("Jane Doe, MD\njdoe@example.com\n").name.value == "Jane Doe"  # MD stays a degree
