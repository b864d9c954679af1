"""Promise 1: paper ids are arXiv ids in ASCII, titles are text, and neither reaches Redis
unchecked; a bad token is a 401 whatever the body holds."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from backend import ids
from tests.reliability.conftest import assert_problem
from tests.reliability.helpers import event

BAD_IDS = [
    "٢٤٠١.٠٠٠٢١",  # Arabic-Indic digits
    "２４０１.０００２１",  # fullwidth digits
    "𝟐𝟒𝟎𝟏.𝟎𝟎𝟎𝟐𝟏",  # mathematical bold digits
    "a" * 250_000 + "/0000000",  # an unbounded archive part
    "abc/0101001",  # not an arXiv archive
    "math.XX/0309136",  # not a subject class of math
    "hep-th/9913001",  # month 13
    "2413.00001",
    "2412.123",
    "2412.123456",
    "2412.01824v0",
    "2412.01824v" + "9" * 50,
    " 2412.01824",
    "2412.01824\n",
    "HEP-TH/9901001",
]
GOOD_IDS = {
    "2412.01824": "2412.01824", "2412.01824v2": "2412.01824", "0704.0001": "0704.0001",
    "hep-th/9901001v3": "hep-th/9901001", "math.GT/0309136": "math.GT/0309136",
    "cs.AI/0101001": "cs.AI/0101001", "q-bio/0401001": "q-bio/0401001",
    "q-bio.NC/0401001": "q-bio.NC/0401001", "physics.optics/0501001": "physics.optics/0501001",
    "cond-mat.stat-mech/0601001": "cond-mat.stat-mech/0601001",
}


@pytest.mark.parametrize("paper_id", BAD_IDS, ids=lambda v: ascii(v[:24]))
def test_a_paper_id_that_is_not_an_ascii_arxiv_id_is_422_naming_the_field(
        client, make_user, redis_client, paper_id):
    _, headers = make_user()
    before = redis_client.dbsize()
    response = client.post("/v1/events", headers=headers,
                           json={"events": [event("open", paper_id)]})
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["events[0].paper_id"]
    assert redis_client.dbsize() == before  # nothing changed


@pytest.mark.parametrize(("given", "canonical"), GOOD_IDS.items())
def test_arxiv_ids_new_and_old_style_with_subject_classes_are_accepted(
        client, make_user, given, canonical):
    _, headers = make_user()
    response = client.post("/v1/events", headers=headers,
                           json={"events": [event("save", given, title="A title")]})
    assert response.status_code == 202, response.get_json()
    saved = client.get("/v1/saved", headers=headers).get_json()["items"]
    assert [item["paper_id"] for item in saved] == [canonical]


def test_every_accepted_id_is_short_ascii_and_matches_the_documented_pattern():
    import re

    names = sorted(ids.OLD_STYLE_NAMES)
    candidates = [*GOOD_IDS, *(f"{name}/0601001v12" for name in names)]
    for value in candidates:
        assert ids.is_paper_id(value), value
        assert value.isascii() and len(value) <= ids.MAX_LENGTH
        assert re.fullmatch(ids.PATTERN, value), value
    for value in BAD_IDS:
        assert not ids.is_paper_id(value), value


@pytest.mark.parametrize("title", ["\ud800", "ok \udfff", "nul \x00 inside", "bell \x07",
                                   "line\nbreak", "tab\tstop", "delete \x7f", "c1 \x85"],
                         ids=ascii)
def test_a_title_with_a_control_character_or_lone_surrogate_is_422_naming_the_field(
        client, make_user, redis_client, title):
    _, headers = make_user()
    before = redis_client.dbsize()
    response = client.post("/v1/events", headers=headers,
                           json={"events": [event("save", "2412.09999", title=title)]})
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["events[0].paper.title"]
    assert redis_client.dbsize() == before


def test_bidi_overrides_and_isolates_are_stripped_from_titles(client, make_user):
    _, headers = make_user()
    title = "\u202eFREE GPUs\u202c and \u2066isolated\u2069 \u202a\u202b\u202d\u2067\u2068"
    response = client.post("/v1/events", headers=headers,
                           json={"events": [event("save", "2412.09998", title=title)]})
    assert response.status_code == 202
    saved = client.get("/v1/saved", headers=headers).get_json()["items"]
    assert saved[0]["title"] == "FREE GPUs and isolated "


def test_a_title_of_only_bidi_controls_is_422(client, make_user):
    _, headers = make_user()
    response = client.post("/v1/events", headers=headers,
                           json={"events": [event("save", "2412.09998", title="\u202e\u2066")]})
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "events[0].paper.title"


def _poisoned_bodies() -> list[tuple[str, bytes]]:
    """Event bodies with a lone surrogate, a NUL or a huge value in each field in turn."""
    out = []
    for field in ("id", "type", "paper_id", "ts", "source", "title"):
        for poison in ("\ud800", "\x00", "x" * 300_000):
            e = event("save", "2412.01824", title="fine")
            if field == "title":
                e["paper"]["title"] = poison
            else:
                e[field] = poison
            out.append((f"{field}={ascii(poison[:8])}", json.dumps({"events": [e]}).encode()))
    out.append(("unknown field", json.dumps({"events": [event()], "\ud800": 1}).encode()))
    return out


POISONED = _poisoned_bodies()


@pytest.mark.parametrize(("name", "body"), POISONED, ids=[name for name, _ in POISONED])
def test_a_bad_token_is_401_whatever_the_body_holds(client, make_user, name, body):
    for authorization in ("Bearer anything", "Bearer " + "x" * 43, None):
        headers = {"Content-Type": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        response = client.post("/v1/events", data=body, headers=headers)
        assert_problem(response, 401)
    _, headers = make_user()
    response = client.post("/v1/events", data=body,
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code in (413, 422), (name, response.status_code)


def _now_minus(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


@pytest.mark.parametrize(("field", "value"), [
    ("id", uuid.uuid4().hex),  # no dashes
    ("id", "{" + str(uuid.uuid4()) + "}"),
    ("id", "urn:uuid:" + str(uuid.uuid4())),
    ("ts", _now_minus(1).strftime("%Y-%m-%d %H:%M:%S+00:00")),  # a space for the T
    ("ts", _now_minus(1).strftime("%Y%m%dT%H%M%S+0000")),  # ISO 8601 basic format
    ("ts", _now_minus(1).strftime("%Y-W%W-%wT%H:%M:%S+00:00")),  # a week date
    ("ts", "٢٠٢٦" + _now_minus(1).isoformat()[4:]),  # non-ASCII digits
])
def test_event_ids_and_times_only_in_their_documented_format(client, make_user, field, value):
    """The OpenAPI document says uuid and date-time (RFC 3339); nothing else gets in."""
    _, headers = make_user()
    body = {"events": [{**event(), field: value}]}
    problem = assert_problem(client.post("/v1/events", headers=headers, json=body), 422)
    assert [e["field"] for e in problem["errors"]] == [f"events[0].{field}"]


@pytest.mark.parametrize("ts", [_now_minus(1).isoformat(),
                                _now_minus(1).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                                _now_minus(1).strftime("%Y-%m-%dT%H:%M:%S+00:00")])
def test_rfc3339_times_as_clients_send_them_are_accepted(client, make_user, ts):
    _, headers = make_user()
    body = {"events": [{**event(), "id": str(uuid.uuid4()).upper(), "ts": ts}]}
    assert client.post("/v1/events", headers=headers, json=body).status_code == 202
