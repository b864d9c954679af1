"""`paperfeed import` on the real Daily Papers fixtures, against a real Redis."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from backend.cli import main
from recommender import progress

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hf"
RAW = FIXTURES / "raw"
QUIRKY = FIXTURES / "quirky"
DEMO = Path(__file__).resolve().parents[2] / "backend" / "demo" / "papers.jsonl.gz"
# file -> number of entries (see tests/backend/test_importer.py)
RAW_COUNTS = {"2024-05-27.json": 13, "2024-12-03.json": 25, "2026-08-21.json": 17}


@pytest.fixture
def run(redis_url, redis_client, tmp_path, monkeypatch):
    """Invoke the CLI with PAPERFEED_REDIS_URL set to the test Redis."""
    monkeypatch.delenv("PAPERFEED_DATA_DIR", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(main, list(args), env={
            "PAPERFEED_REDIS_URL": redis_url, "PAPERFEED_DATA_DIR": str(tmp_path / "data")})
        assert "Traceback" not in result.output
        if result.exception is not None:
            assert isinstance(result.exception, SystemExit), result.exc_info
        return result

    return invoke


@pytest.mark.parametrize("name,count", RAW_COUNTS.items())
def test_import_one_raw_file(run, redis_client, name, count):
    result = run("import", "--quiet", str(RAW / name))
    assert result.exit_code == 0, result.output
    assert f"{count} new, 0 updated, 0 skipped" in result.output
    assert f"catalogue: {count} papers" in result.output
    assert redis_client.zcard("pf:papers:day") == count
    assert redis_client.hget("pf:meta", "newest_daily_date") == name[:10]


def test_import_all_raw_files_then_reimport_updates_never_duplicates(run, redis_client):
    files = [str(p) for p in sorted(RAW.glob("*.json"))]
    total = sum(RAW_COUNTS.values())
    assert run("import", "--quiet", *files).exit_code == 0
    assert redis_client.zcard("pf:papers:day") == total
    keys_before = redis_client.dbsize()
    result = run("import", "--quiet", *files)
    assert result.exit_code == 0
    for name, count in RAW_COUNTS.items():
        assert f"{name}: 0 new, {count} updated, 0 skipped" in result.output
    assert f"catalogue: {total} papers" in result.output
    assert redis_client.zcard("pf:papers:day") == total
    assert redis_client.dbsize() == keys_before
    assert redis_client.hget("pf:meta", "newest_daily_date") == "2026-08-21"


def test_reimport_updates_upvotes(run, redis_client, tmp_path):
    source = RAW / "2024-12-03.json"
    assert run("import", "--quiet", str(source)).exit_code == 0
    assert redis_client.hget("pf:p:2412.01824", "upvotes") == "35"
    entries = json.loads(source.read_text(encoding="utf-8"))
    entries[0]["paper"]["upvotes"] = 99
    changed = tmp_path / "2024-12-03.json"
    changed.write_text(json.dumps(entries), encoding="utf-8")
    result = run("import", "--quiet", str(changed))
    assert "0 new, 25 updated" in result.output
    assert redis_client.hget("pf:p:2412.01824", "upvotes") == "99"
    assert redis_client.zscore("pf:papers:upvotes", "2412.01824") == 99
    assert redis_client.zcard("pf:papers:day") == 25


def test_import_confirms_papers_known_from_events(run, redis_client, app, make_user):
    import uuid
    from datetime import UTC, datetime

    client = app.test_client()
    _, headers = make_user()
    client.post("/v1/events", headers=headers, json={"events": [
        {"id": str(uuid.uuid4()), "type": "save", "paper_id": "2412.01824",
         "ts": datetime.now(UTC).isoformat()}]})
    assert client.get("/v1/papers/2412.01824").status_code == 404  # events never add papers
    assert run("import", "--quiet", str(RAW / "2024-12-03.json")).exit_code == 0
    paper = client.get("/v1/papers/2412.01824").get_json()
    assert paper["title"] and paper["daily_date"] == "2024-12-03" and paper["upvotes"] == 35
    saved = client.get("/v1/saved", headers=headers).get_json()["items"]
    assert saved[0]["title"] == paper["title"]


@pytest.mark.parametrize("name", ["2024-12-11.json", "2025-01-10.json"])
def test_quirky_files_are_rejected_whole(run, redis_client, name):
    result = run("import", "--quiet", str(QUIRKY / name))
    assert result.exit_code == 1
    assert "rejected, nothing imported" in result.output
    assert "catalogue: 0 papers" in result.output
    assert redis_client.dbsize() == 0


def test_repr_file_rejection_names_the_count(run):
    result = run("import", "--quiet", str(QUIRKY / "2024-12-11.json"))
    assert "26" in result.output and "Python repr" in result.output


def test_good_files_are_imported_next_to_a_rejected_one(run, redis_client):
    result = run("import", "--quiet", str(QUIRKY / "2024-12-11.json"),
                 str(RAW / "2024-05-27.json"))
    assert result.exit_code == 1
    assert "rejected" in result.output and "13 new, 0 updated, 0 skipped" in result.output
    assert redis_client.zcard("pf:papers:day") == 13


def test_bad_entries_are_skipped_and_counted(run, redis_client, tmp_path):
    good = json.loads((RAW / "2024-12-03.json").read_text(encoding="utf-8"))
    quirky = json.loads((QUIRKY / "2024-12-11.json").read_text(encoding="utf-8"))
    broken = dict(good[1], paper=dict(good[1]["paper"], id="not-an-id"))
    mixed = tmp_path / "2024-12-03.json"
    mixed.write_text(json.dumps([good[0], quirky[0], broken, *good[2:5]]), encoding="utf-8")
    result = run("import", "--quiet", str(mixed))
    assert result.exit_code == 0, result.output
    assert "4 new, 0 updated, 2 skipped" in result.output
    assert "skipped entry 2" in result.output and "skipped entry 3" in result.output
    assert redis_client.zcard("pf:papers:day") == 4


@pytest.mark.parametrize("content", [b"", b"not json at all", b"{\"a\": 1}", b"\x1f\x8b\x08junk"])
def test_unreadable_files_are_rejected_cleanly(run, redis_client, tmp_path, content):
    path = tmp_path / "2024-12-03.json"
    path.write_bytes(content)
    result = run("import", "--quiet", str(path))
    assert result.exit_code == 1 and "rejected, nothing imported" in result.output
    assert redis_client.dbsize() == 0


def test_catalogue_jsonl_is_imported(run, redis_client, tmp_path):
    lines = [json.dumps({"paper_id": f"2412.{n:05d}", "title": f"T{n}", "upvotes": n,
                         "daily_date": "2024-12-03"}) for n in range(1, 6)]
    path = tmp_path / "papers.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    result = run("import", "--quiet", str(path))
    assert result.exit_code == 0 and "5 new" in result.output
    assert redis_client.hget("pf:p:2412.00003", "title") == "T3"


def test_import_demo(run, redis_client):
    demo_size = sum(1 for _ in gzip.open(DEMO, "rt", encoding="utf-8"))
    result = run("import", "--quiet", "--demo")
    assert result.exit_code == 0, result.output
    assert f"{demo_size} new" in result.output
    assert redis_client.zcard("pf:papers:day") == demo_size
    assert run("import", "--quiet", "--demo").exit_code == 0
    assert redis_client.zcard("pf:papers:day") == demo_size


def test_import_needs_something_to_import(run):
    result = run("import")
    assert result.exit_code == 2 and "--demo" in result.output


def test_import_of_a_missing_file_is_a_usage_error(run, tmp_path):
    result = run("import", str(tmp_path / "nope.json"))
    assert result.exit_code == 2


def test_until_needs_date(run):
    assert run("import", "--until", "2024-12-03").exit_code == 2


def test_bad_date_is_a_usage_error(run):
    result = run("import", "--date", "yesterday")
    assert result.exit_code == 2


def test_import_reports_progress_with_an_eta_off_a_terminal(run, monkeypatch):
    monkeypatch.setattr(progress, "INTERVAL", 0.0)  # a line at every step: the fixtures are small
    result = run("import", str(RAW / "2024-05-27.json"), str(RAW / "2024-12-03.json"))
    assert result.exit_code == 0, result.output
    assert "2024-05-27.json: 100% 13/13 [00:00<00:00," in result.stderr
    assert "import:  50% 1/2 [" in result.stderr and "import: 100% 2/2 [" in result.stderr
    assert "%" not in result.stdout


def test_quiet_import_reports_no_progress(run, monkeypatch):
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    result = run("import", "--quiet", str(RAW / "2024-05-27.json"))
    assert result.exit_code == 0 and "%" not in result.output
