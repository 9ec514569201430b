"""The ingestion bench (bench/ingest.py) on the developers' resumes: it runs, scores against the
manifest, and writes the figures it prints (per-field accuracy, false rates, scanned detection,
throughput with the machine, the mode comparison and the leave-one-file-out check) as JSON."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest.py"
RESUMES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "resumes"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ingest_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_phone_comparison_uses_the_national_significant_number() -> None:
    bench = load_bench()
    assert bench.phone_key("0048 512 514 831") == bench.phone_key("+48512514831") == "512514831"
    assert bench.phone_key("(+82) 10-9030-1843") == bench.phone_key("+821090301843")
    assert bench.phone_key("090-1234-5678") == bench.phone_key("+819012345678")
    assert bench.phone_key("0120-000-XXX") == "120000"
    assert bench.phone_key("607.379.5733") != bench.phone_key("607.379.5734")


def test_a_name_in_turkish_capitals_matches_its_normal_case() -> None:
    bench = load_bench()
    assert bench.same_name("Bekir Eren Keskin", "BEKİR EREN KESKİN")
    assert bench.same_name("Jane  Doe", "jane doe")
    assert not bench.same_name("Bekir Keskin", "BEKİR EREN KESKİN")


def test_a_truths_honorific_decomposed_letters_and_obfuscated_address_are_graded_as_meant() -> None:
    bench = load_bench()
    assert bench.same_name("Molnár József", "DR. MOLNÁR JÓZSEF")
    assert bench.same_name("Karel Ulčák", "Karel Ul\u010dák".replace("\u010d", "c\u030c"))
    assert not bench.same_name("Dr Molnár", "Molnár József")
    assert bench.truth_email("jb (at) example.net") == "jb@example.net"
    assert bench.truth_email("Jane [at] example [dot] org") == "jane@example.org"


def test_the_truths_country_is_read_as_an_iso_code_or_a_name_and_an_unknown_one_stops_the_bench() -> None:
    bench = load_bench()
    assert bench.truth_region({"file": "a.pdf", "country_code": "br", "country": "brazil"}) == "BR"
    assert bench.truth_region({"file": "a.pdf", "country": "KR"}) == "KR"
    assert bench.truth_region({"file": "a.pdf", "country": "Germany/Ukraine"}) == "DE"
    assert bench.truth_region({"file": "a.pdf", "country": None}) == ""
    with pytest.raises(SystemExit, match=r"a\.pdf: country 'Atlantis'"):
        bench.truth_region({"file": "a.pdf", "country": "Atlantis"})


def test_location_is_compared_fuzzily() -> None:
    bench = load_bench()
    assert bench.same_place("Manchester, UK", "Manchester, UK-")
    assert bench.same_place("Musterweg 42, 12345 Berlin", "Musterweg 42, 12345 Berlin, Deutschland")
    assert not bench.same_place("Phoenix, AZ", "Los Angeles")


def test_the_bench_scores_the_resumes_and_writes_its_figures(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    if not (RESUMES / "manifest.jsonl").exists():
        pytest.skip("no resume corpus")
    bench = load_bench()
    monkeypatch.setattr(bench, "GRID_TOP", (8, 12))
    monkeypatch.setattr(bench, "GRID_REACH", (2, 4))
    out = tmp_path / "ingest.json"
    assert bench.main(["--passes", "1", "--modes", "plain,layout", "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    dev = report["dev"]
    for field in ("name", "email", "phone"):
        right, total = dev[f"{field}_text_layer"]
        assert total > 0 and right / total >= 0.95
    assert dev["email_false"][0] == 0 and dev["phone_false"][0] == 0
    assert report["scanned"]["detected"][0] == report["scanned"]["detected"][1] >= 1
    assert report["throughput"]["resumes_per_s"] > 0
    assert {"platform", "cpu_count", "python"} <= set(report["machine"])
    assert set(report["modes"]) == {"plain", "layout"}
    loo = report["leave_one_out"]
    assert len(loo["chosen_per_fold"]) == dev["resumes"]
    assert loo["held_out_summary"]["resumes"] == dev["resumes"]
