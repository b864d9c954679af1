"""Tests of backend.importer against real Daily Papers responses saved in tests/fixtures/hf/."""

from __future__ import annotations

import copy
import gzip
import io
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from backend.ids import is_paper_id
from backend.importer import (
    ImportFetchError,
    ImportFormatError,
    ParsedFile,
    clean_abstract,
    fetch_daily_papers,
    iter_dates,
    parse_daily_papers,
    read_papers,
    write_demo_catalogue,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hf"
RAW = FIXTURES / "raw"
QUIRKY = FIXTURES / "quirky"
SAMPLE = FIXTURES / "catalogue-sample.jsonl.gz"
DEMO = Path(__file__).resolve().parents[2] / "backend" / "demo" / "papers.jsonl.gz"

RECORD_KEYS = {
    "paper_id",
    "title",
    "abstract",
    "authors",
    "published_at",
    "daily_date",
    "upvotes",
    "num_comments",
    "github_repo",
    "ai_keywords",
}

# file, entries, first id, its upvotes (entry.paper.upvotes), papers with a GitHub repo
ERAS = [
    ("2024-05-27.json", 13, "2405.15738", 32, 0),
    ("2024-12-03.json", 25, "2412.01824", 35, 0),
    ("2026-08-21.json", 17, "2608.19880", 163, 12),
]


def load_raw(name: str) -> list[dict[str, Any]]:
    return json.loads((RAW / name).read_text(encoding="utf-8"))


def check_record(record: dict[str, Any]) -> None:
    assert set(record) == RECORD_KEYS
    assert is_paper_id(record["paper_id"]) and "v" not in record["paper_id"]
    for key in ("title", "abstract"):
        assert record[key] is None or isinstance(record[key], str)
    assert record["title"] is None or ("\n" not in record["title"] and "  " not in record["title"])
    assert all(isinstance(name, str) and name for name in record["authors"])
    assert isinstance(record["upvotes"], int) and record["upvotes"] >= 0
    assert record["num_comments"] is None or record["num_comments"] >= 0
    assert all(isinstance(word, str) for word in record["ai_keywords"])


# --- the three API eras -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "count", "first_id", "first_upvotes", "with_repo"), ERAS)
def test_raw_era_parses(
    name: str, count: int, first_id: str, first_upvotes: int, with_repo: int
) -> None:
    parsed = read_papers(RAW / name)
    assert isinstance(parsed, ParsedFile)
    assert parsed.source == str(RAW / name)
    assert (len(parsed.papers), parsed.skipped) == (count, [])
    assert parsed.papers[0]["paper_id"] == first_id
    assert parsed.papers[0]["upvotes"] == first_upvotes
    assert {paper["daily_date"] for paper in parsed.papers} == {name.removesuffix(".json")}
    assert sum(paper["github_repo"] is not None for paper in parsed.papers) == with_repo
    for record in parsed.papers:
        check_record(record)


@pytest.mark.parametrize("name", [era[0] for era in ERAS])
def test_fields_come_from_the_paper_object(name: str) -> None:
    entries = load_raw(name)
    papers = read_papers(RAW / name).papers
    for entry, record in zip(entries, papers, strict=True):
        assert record["paper_id"] == entry["paper"]["id"]
        assert record["upvotes"] == entry["paper"]["upvotes"]
        assert record["published_at"] == entry["paper"]["publishedAt"]
        assert record["num_comments"] == entry["numComments"]
        assert record["authors"] == [author["name"].strip() for author in entry["paper"]["authors"]]
        assert record["title"] == " ".join(entry["paper"]["title"].split())


def test_title_and_abstract_are_cleaned() -> None:
    paper = read_papers(RAW / "2024-05-27.json").papers[0]
    assert paper["title"] == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    )
    assert paper["abstract"].startswith(
        "High-resolution Large Multimodal Models (LMMs) encounter the challenges of excessive"
    )
    assert "\n" not in paper["abstract"]


def test_abstract_paragraphs_are_kept() -> None:
    assert clean_abstract("We study\nthings.\n  Then we   show\nmore.\n") == (
        "We study things.\n\nThen we show more."
    )
    assert clean_abstract("One.\n\n\nTwo\nlines.") == "One.\n\nTwo lines."
    assert clean_abstract(" \n ") is None


def test_reparse_gives_identical_records() -> None:
    for name, *_ in ERAS:
        first, second = read_papers(RAW / name), read_papers(RAW / name)
        assert first == second
        assert json.loads(json.dumps(first.papers)) == first.papers


def test_versioned_id_is_normalised() -> None:
    entries = load_raw("2024-12-03.json")[:1]
    entries[0]["paper"]["id"] = "2412.01824v2"
    parsed = parse_daily_papers(entries, date="2024-12-03")
    assert parsed.papers[0]["paper_id"] == "2412.01824"


def test_empty_day_is_not_an_error() -> None:
    assert parse_daily_papers([], date="2024-06-01") == ParsedFile([], [], "")


# --- the daily date ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [era[0] for era in ERAS])
def test_daily_date_inferred_without_a_query_date(name: str) -> None:
    parsed = parse_daily_papers(load_raw(name), date=None)
    assert {paper["daily_date"] for paper in parsed.papers} == {name.removesuffix(".json")}


def test_early_submissions_belong_to_the_response_day() -> None:
    # Five 2024-12-03 entries were submitted on 2024-12-02 (UTC): the day is the response's.
    entries = load_raw("2024-12-03.json")
    assert {entry["publishedAt"][:10] for entry in entries} == {"2024-12-02", "2024-12-03"}
    parsed = parse_daily_papers(entries, date=None)
    assert {paper["daily_date"] for paper in parsed.papers} == {"2024-12-03"}


def test_submitted_on_daily_at_wins_over_entry_published_at() -> None:
    entries = load_raw("2026-08-21.json")
    # entry.publishedAt is 2026-08-19T20:00Z there: never the daily date.
    assert entries[0]["publishedAt"].startswith("2026-08-19")
    entries[1]["paper"]["submittedOnDailyAt"] = "2026-08-20T00:00:00.000Z"
    days = [paper["daily_date"] for paper in parse_daily_papers(entries, date=None).papers]
    assert days[0] == "2026-08-21" and days[1] == "2026-08-20"


def test_query_date_is_authoritative() -> None:
    parsed = parse_daily_papers(load_raw("2026-08-21.json"), date="2026-08-22")
    assert {paper["daily_date"] for paper in parsed.papers} == {"2026-08-22"}


def test_date_from_file_name_then_default_date(tmp_path: Path) -> None:
    entries = load_raw("2024-05-27.json")
    undated = tmp_path / "latest.json"
    undated.write_text(json.dumps(entries), encoding="utf-8")
    assert read_papers(undated).papers[0]["daily_date"] == "2024-05-27"  # from entries
    given = read_papers(undated, default_date="2024-05-28")
    assert {paper["daily_date"] for paper in given.papers} == {"2024-05-28"}
    named = tmp_path / "2024-05-27.json.gz"
    named.write_bytes(gzip.compress(json.dumps(entries).encode()))
    assert read_papers(named, default_date="2024-05-28").papers[0]["daily_date"] == "2024-05-27"


def test_bad_dates_are_rejected() -> None:
    with pytest.raises(ImportFormatError, match="YYYY-MM-DD"):
        parse_daily_papers([], date="27/05/2024")
    with pytest.raises(ImportFormatError, match="default_date"):
        read_papers(RAW / "2024-05-27.json", default_date="2024-02-30")


# --- bad entries ---------------------------------------------------------------------------------


def _set(path: str, value: Any):
    """An edit of an API entry: set ``paper.title`` etc. (``"-"`` deletes the key)."""

    def edit(entry: dict[str, Any]) -> Any:
        *parents, leaf = path.split(".")
        target = entry
        for key in parents:
            target = target[key]
        if value == "-":
            del target[leaf]
        else:
            target[leaf] = value
        return entry

    return edit


BAD_ENTRIES = [
    ("bad id", _set("paper.id", "not-an-id"), "paper.id"),
    ("id missing", _set("paper.id", "-"), "paper.id"),
    ("id a number", _set("paper.id", 2412.01824), "paper.id"),
    ("negative upvotes", _set("paper.upvotes", -3), "paper.upvotes"),
    ("upvotes a string", _set("paper.upvotes", "12"), "paper.upvotes"),
    ("upvotes a boolean", _set("paper.upvotes", True), "paper.upvotes"),
    ("upvotes a float", _set("paper.upvotes", 1.5), "paper.upvotes"),
    ("upvotes missing", _set("paper.upvotes", "-"), "paper.upvotes"),
    ("title not a string", _set("paper.title", ["a title"]), "paper.title"),
    ("huge title", _set("paper.title", "x" * 1_001), "paper.title"),
    ("huge abstract", _set("paper.summary", "word " * 5_000), "paper.summary"),
    ("missing paper object", _set("paper", "-"), "paper"),
    ("paper not an object", _set("paper", "2412.01824"), "paper"),
    ("authors not a list", _set("paper.authors", "A. Author"), "paper.authors"),
    ("author name not a string", _set("paper.authors", [{"name": 7}]), "paper.authors[0].name"),
    ("published_at garbage", _set("paper.publishedAt", "yesterday"), "paper.publishedAt"),
    ("negative comments", _set("numComments", -1), "numComments"),
    ("github repo not a URL", _set("paper.githubRepo", "rm -rf /"), "paper.githubRepo"),
    ("keywords not a list", _set("paper.ai_keywords", "llm"), "paper.ai_keywords"),
    ("keyword not a string", _set("paper.ai_keywords", ["ok", 3]), "paper.ai_keywords[1]"),
    ("entry a Python repr", lambda entry: repr(entry), "Python repr"),
    ("entry a list", lambda entry: [entry], "expected a JSON object"),
]


@pytest.mark.parametrize(
    ("edit", "field_name"), [case[1:] for case in BAD_ENTRIES], ids=[c[0] for c in BAD_ENTRIES]
)
def test_bad_entry_is_skipped_with_a_message(edit: Any, field_name: str) -> None:
    entries = load_raw("2026-08-21.json")[:3]
    entries[1] = edit(copy.deepcopy(entries[1]))
    parsed = parse_daily_papers(entries, date="2026-08-21")
    assert [paper["paper_id"] for paper in parsed.papers] == ["2608.19880", "2608.20335"]
    assert len(parsed.skipped) == 1
    assert parsed.skipped[0].startswith(f"entry 2: {field_name}") or (
        parsed.skipped[0].startswith("entry 2: ") and field_name in parsed.skipped[0]
    )


def test_huge_title_within_limit_is_kept_whole() -> None:
    entries = load_raw("2026-08-21.json")[:1]
    entries[0]["paper"]["title"] = "t" * 999
    assert parse_daily_papers(entries, date=None).papers[0]["title"] == "t" * 999


def test_duplicate_entry_is_skipped() -> None:
    entries = load_raw("2024-05-27.json")
    parsed = parse_daily_papers(entries + entries[:2], date="2024-05-27")
    assert len(parsed.papers) == 13
    assert parsed.skipped == [
        "entry 14: paper.id: duplicate of entry 1 (2405.15738)",
        "entry 15: paper.id: duplicate of entry 2 (2405.15574)",
    ]


# --- quirky files --------------------------------------------------------------------------------


def test_python_repr_file_is_rejected_with_a_count() -> None:
    with pytest.raises(ImportFormatError) as caught:
        read_papers(QUIRKY / "2024-12-11.json")
    message = str(caught.value)
    assert "none of its 26 entries is usable" in message and "Python repr" in message
    assert len(caught.value.skipped) == 26
    assert all("Python repr" in line for line in caught.value.skipped)


def test_wrapper_file_is_rejected() -> None:
    with pytest.raises(ImportFormatError, match=r"wrapper is not the API's format"):
        read_papers(QUIRKY / "2025-01-10.json")


def test_a_few_repr_entries_among_good_ones_are_skipped() -> None:
    quirky = json.loads((QUIRKY / "2024-12-11.json").read_text(encoding="utf-8"))
    parsed = parse_daily_papers(load_raw("2024-12-03.json") + quirky[:2], date="2024-12-03")
    assert (len(parsed.papers), len(parsed.skipped)) == (25, 2)
    assert parsed.skipped[0].startswith("entry 26: expected a JSON object, got a string")


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"error": "Invalid date"}, "API answered with an error"),
        ("[]", "got a string"),
        (None, "got null"),
    ],
)
def test_other_payload_shapes_are_rejected(payload: Any, match: str) -> None:
    with pytest.raises(ImportFormatError, match=match):
        parse_daily_papers(payload, date=None)


def test_unreadable_files_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="cannot read"):
        read_papers(tmp_path / "missing.jsonl")
    broken = tmp_path / "2024-05-27.json"
    broken.write_text('[{"paper": ', encoding="utf-8")
    with pytest.raises(ImportFormatError, match="not valid JSON"):
        read_papers(broken)
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(SAMPLE.read_bytes()[: SAMPLE.stat().st_size // 2])
    with pytest.raises(ImportFormatError, match="cannot read"):
        read_papers(truncated)


# --- JSON lines ----------------------------------------------------------------------------------


def test_catalogue_sample_parses() -> None:
    parsed = read_papers(SAMPLE)
    assert (len(parsed.papers), parsed.skipped) == (50, [])
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as stream:
        lines = [json.loads(line) for line in stream]
    for line, record in zip(lines, parsed.papers, strict=True):
        check_record(record)
        assert record["paper_id"] == line["id"]
        assert record["daily_date"] == line["daily_date"]
        assert record["upvotes"] == line["upvotes"]
        assert record["ai_keywords"] == (line["ai_keywords"] or [])
        assert record["abstract"] == clean_abstract(line["summary"])
    assert parsed.papers[0]["daily_date"] == "2024-05-27"
    assert parsed == read_papers(SAMPLE)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "2024-05-27.json"
    path.write_bytes(b"\xef\xbb\xbf" + (RAW / "2024-05-27.json").read_bytes())
    assert read_papers(path) == ParsedFile(
        read_papers(RAW / "2024-05-27.json").papers, [], str(path)
    )


def test_record_form_round_trips(tmp_path: Path) -> None:
    papers = read_papers(SAMPLE).papers
    plain = tmp_path / "papers.jsonl"
    plain.write_text("".join(json.dumps(paper) + "\n" for paper in papers), encoding="utf-8")
    assert read_papers(plain).papers == papers


def test_bad_jsonl_lines_are_skipped(tmp_path: Path) -> None:
    good = [json.dumps(paper) for paper in read_papers(SAMPLE).papers[:3]]
    lines = [
        good[0],
        "{not json",
        json.dumps({"id": "2401.00001", "upvotes": -1}),
        "",
        json.dumps(["a list"]),
        good[1],
        json.dumps({"title": "no id"}),
        json.dumps({"paper_id": "2401.00002", "daily_date": "2024-13-01"}),
        good[1],
        good[2],
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parsed = read_papers(path)
    assert len(parsed.papers) == 3
    assert [message.split(":")[0] for message in parsed.skipped] == [
        "line 2",
        "line 3",
        "line 5",
        "line 7",
        "line 8",
        "line 9",
    ]
    assert "invalid JSON" in parsed.skipped[0]
    assert "upvotes: must be >= 0" in parsed.skipped[1]
    assert "paper_id: missing" in parsed.skipped[3]
    assert "daily_date" in parsed.skipped[4]
    assert "duplicate of line 6" in parsed.skipped[5]


def test_jsonl_messages_name_each_field_as_the_file_spells_it(tmp_path: Path) -> None:
    good = json.dumps(read_papers(SAMPLE).papers[0])
    lines = [
        good,
        json.dumps({"id": "nope"}),
        json.dumps({"paper_id": "2401.00002", "authors": ["A. Author", 1]}),
        json.dumps({"id": "2401.00003", "summary": 5, "num_comments": -2}),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_papers(path).skipped == [
        "line 2: id: not an arXiv id: 'nope'",
        "line 3: authors[1]: Not a valid string",
        "line 4: num_comments: must be >= 0, got -2; summary: Not a valid string",
    ]


def test_jsonl_defaults(tmp_path: Path) -> None:
    path = tmp_path / "hand-made.jsonl"
    path.write_text(
        json.dumps({"id": "2401.00001v3", "title": " A\n  title "})
        + "\n"
        + json.dumps({"paper_id": "2401.00002", "submitted_on_daily_at": "2025-03-04T00:00:00Z"})
        + "\n",
        encoding="utf-8",
    )
    first, second = read_papers(path, default_date="2025-03-03").papers
    assert first == {
        "paper_id": "2401.00001",
        "title": "A title",
        "abstract": None,
        "authors": [],
        "published_at": None,
        "daily_date": "2025-03-03",
        "upvotes": 0,
        "num_comments": None,
        "github_repo": None,
        "ai_keywords": [],
    }
    assert second["daily_date"] == "2025-03-04"


def test_all_bad_jsonl_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "api-dump.jsonl"
    path.write_text((RAW / "2024-05-27.json").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ImportFormatError, match="none of its .* lines is usable"):
        read_papers(path)


# --- dates and the live endpoint -----------------------------------------------------------------


def test_iter_dates() -> None:
    assert iter_dates("2024-05-27", None) == ["2024-05-27"]
    assert iter_dates("2024-02-28", "2024-03-01") == ["2024-02-28", "2024-02-29", "2024-03-01"]
    for start, until in [("2024-05-27", "2024-05-26"), ("2024-5-27", None), ("x", "2024-01-01")]:
        with pytest.raises(ValueError):
            iter_dates(start, until)


class _Response(io.BytesIO):
    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_fetch_parses_the_response(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    def fake_urlopen(request: Any, timeout: float) -> _Response:
        seen["url"], seen["timeout"] = request.full_url, timeout
        return _Response((RAW / "2024-05-27.json").read_bytes())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    parsed = fetch_daily_papers("2024-05-27", timeout=5)
    assert seen == {"url": "https://huggingface.co/api/daily_papers?date=2024-05-27", "timeout": 5}
    assert parsed.source == seen["url"]
    assert parsed.papers == read_papers(RAW / "2024-05-27.json").papers


@pytest.mark.parametrize(
    ("error", "match"),
    [
        (urllib.error.URLError("Name or service not known"), "cannot reach"),
        (TimeoutError("timed out"), "cannot reach"),
        (urllib.error.HTTPError("u", 429, "Too Many Requests", {}, None), "HTTP 429"),  # type: ignore[arg-type]
    ],
)
def test_fetch_network_errors(
    monkeypatch: pytest.MonkeyPatch, error: Exception, match: str
) -> None:
    def fake_urlopen(request: Any, timeout: float) -> _Response:
        raise error

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    with pytest.raises(ImportFetchError, match=match):
        fetch_daily_papers("2024-05-27")


def test_fetch_bad_body_and_bad_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urllib.request, "urlopen", lambda request, timeout: _Response(b"<html>"))
    with pytest.raises(ImportFormatError, match="not valid JSON"):
        fetch_daily_papers("2024-05-27")
    with pytest.raises(ValueError):
        fetch_daily_papers("yesterday")


# --- the demo catalogue --------------------------------------------------------------------------


def test_demo_catalogue() -> None:
    assert DEMO.stat().st_size < 1_000_000
    parsed = read_papers(DEMO)
    assert parsed.skipped == []
    assert len(parsed.papers) >= 300
    for paper in parsed.papers:
        check_record(paper)
        assert paper["title"] and paper["abstract"] and paper["daily_date"]
    days = [paper["daily_date"] for paper in parsed.papers]
    assert days == sorted(days)
    # Already in the record form: re-normalising changes nothing.
    with gzip.open(DEMO, "rt", encoding="utf-8") as stream:
        lines = [json.loads(line) for line in stream]
    assert lines == parsed.papers


def test_write_demo_catalogue_takes_whole_recent_days(tmp_path: Path) -> None:
    source = tmp_path / "source.jsonl"
    papers = read_papers(SAMPLE).papers
    for index, paper in enumerate(papers):
        paper["daily_date"] = f"2025-01-{1 + index // 4:02d}"  # four papers a day
    source.write_text("".join(json.dumps(paper) + "\n" for paper in papers), encoding="utf-8")
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    # Days 11 and 12 have four papers, day 13 two: 10 fit, day 10 would make 14.
    assert write_demo_catalogue(source, first, n=13) == 10
    write_demo_catalogue(source, second, n=13)
    assert first.read_bytes() == second.read_bytes()
    written = read_papers(first).papers
    assert written == papers[40:]
    assert {paper["daily_date"] for paper in written} == {"2025-01-11", "2025-01-12", "2025-01-13"}
