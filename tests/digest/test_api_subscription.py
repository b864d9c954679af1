"""The subscription API end to end: confirmation mails through a real SMTP server on loopback."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner

from tests.digest.conftest import link_in, local_path
from tests.reliability.helpers import dump_everything, occurrences

PROBLEM = "application/problem+json"
CONFIRM = "/v1/subscription/confirm"


def put(client, headers, **body):
    return client.put("/v1/me/subscription", json=body, headers=headers)


def status(client, headers) -> dict:
    response = client.get("/v1/me/subscription", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_confirmation_flow_end_to_end(client, make_user, smtp):
    handler, _ = smtp
    _, headers = make_user()
    assert status(client, headers)["status"] == "none"

    response = put(client, headers, email=" Reader@EXAMPLE.com ", frequency="weekly",
                   hour_utc=6, weekday=4)
    assert response.status_code == 202
    assert response.get_json() == {"status": "pending"}
    assert status(client, headers) == {"email": "Reader@example.com", "frequency": "weekly",
                                       "hour_utc": 6, "weekday": 4, "status": "pending",
                                       "last_sent_at": None}
    [confirmation] = handler.messages
    assert confirmation["To"] == "Reader@example.com"
    assert confirmation.get_content_type() == "multipart/alternative"
    link = link_in(confirmation, CONFIRM)
    html = confirmation.get_body(preferencelist=("html",)).get_content()
    assert link.replace("&", "&amp;") in html or link in html

    page = client.get(local_path(link))
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "Subscription confirmed" in page.get_data(as_text=True)
    assert status(client, headers)["status"] == "active"

    again = client.get(local_path(link))  # single use
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)
    assert len(handler.messages) == 1  # nothing but the confirmation was sent


def test_tampered_and_expired_links_get_a_clear_page(client, make_user, smtp, monkeypatch):
    _, headers = make_user()
    put(client, headers, email="reader@example.com", frequency="daily")
    link = link_in(smtp[0].messages[-1], CONFIRM)

    tampered = client.get(local_path(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")))
    assert tampered.status_code == 400
    assert "not valid" in tampered.get_data(as_text=True)
    assert client.get(CONFIRM).status_code == 400

    issued = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp",
                        lambda self: issued(self) + 48 * 3600 + 1)
    expired = client.get(local_path(link))
    assert expired.status_code == 400
    assert "expired" in expired.get_data(as_text=True)
    assert status(client, headers)["status"] == "pending"


@pytest.mark.parametrize("body, field", [
    ({"email": "not an address", "frequency": "daily"}, "email"),
    ({"email": "reader@example.com", "frequency": "hourly"}, "frequency"),
    ({"email": "reader@example.com", "frequency": "daily", "hour_utc": 24}, "hour_utc"),
    ({"email": "reader@example.com", "frequency": "weekly", "weekday": 7}, "weekday"),
    ({"email": "reader@example.com", "frequency": "daily", "hour_utc": "7"}, "hour_utc"),
    ({"frequency": "daily"}, "email"),
    ({"email": "reader@example.com", "frequency": "daily", "admin": True}, "admin"),
])
def test_bad_requests_name_the_field_and_change_nothing(client, make_user, smtp, body, field):
    _, headers = make_user()
    response = client.put("/v1/me/subscription", json=body, headers=headers)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert status(client, headers)["status"] == "none"
    assert smtp[0].messages == []


def test_subscription_needs_a_token(client):
    assert client.get("/v1/me/subscription").status_code == 401
    assert client.put("/v1/me/subscription", json={}).status_code == 401


def test_confirmations_are_limited_per_token_and_per_address(client, make_user, smtp):
    _, headers = make_user()
    for n in range(3):
        assert put(client, headers, email=f"r{n}@example.com", frequency="daily").status_code == 202
    before = status(client, headers)
    refused = put(client, headers, email="r9@example.com", frequency="daily")
    assert refused.status_code == 429
    assert refused.mimetype == PROBLEM
    assert int(refused.headers["Retry-After"]) > 0
    assert status(client, headers) == before  # changed nothing
    assert len(smtp[0].messages) == 3

    for _ in range(2):  # two more for one address from two other users: 3 for that address
        assert put(client, make_user()[1], email="r0@example.com", frequency="daily").status_code == 202
    assert put(client, make_user()[1], email="R0@example.com", frequency="daily").status_code == 429
    assert len(smtp[0].to("r0@example.com")) == 3


def test_same_active_address_changes_the_schedule_without_mail(client, make_user, smtp, subscribe):
    _, headers = make_user()
    subscribe(headers, "reader@example.com")
    sent = len(smtp[0].messages)
    response = put(client, headers, email="reader@example.com", frequency="weekly", weekday=2)
    assert response.status_code == 202
    assert response.get_json() == {"status": "active"}
    assert status(client, headers)["frequency"] == "weekly"
    assert len(smtp[0].messages) == sent

    response = put(client, headers, email="new@example.com", frequency="weekly")
    assert response.get_json() == {"status": "pending"}
    assert smtp[0].messages[-1]["To"] == "new@example.com"
    assert status(client, headers)["status"] == "pending"


def test_an_address_is_active_for_one_user_only(client, make_user, subscribe):
    _, first = make_user()
    _, second = make_user()
    subscribe(first, "shared@example.com")
    subscribe(second, "shared@example.com")  # the owner of the address confirmed again
    assert status(client, second)["status"] == "active"
    assert status(client, first)["status"] == "none"


def test_unsubscribe_and_export(client, make_user, subscribe):
    _, headers = make_user()
    subscribe(headers, "reader@example.com", frequency="weekly", weekday=6, hour_utc=20)
    export = client.get("/v1/me/export", headers=headers).get_json()
    assert export["subscription"]["email"] == "reader@example.com"
    assert export["subscription"]["weekday"] == 6
    assert export["subscription"]["status"] == "active"

    assert client.delete("/v1/me/subscription", headers=headers).status_code == 204
    assert status(client, headers)["status"] == "none"
    assert client.get("/v1/me/export", headers=headers).get_json()["subscription"]["status"] == "none"


def test_deleting_the_user_leaves_no_address(client, make_user, subscribe, redis_client, smtp):
    user_id, headers = make_user()
    subscribe(headers, "gone@example.com")
    put(client, headers, email="pending@example.com", frequency="daily")  # a pending token too
    assert occurrences(dump_everything(redis_client), "pending@example.com")

    assert client.delete("/v1/me", headers=headers).status_code == 204
    dump = dump_everything(redis_client)
    for needle in ("gone@example.com", "pending@example.com", user_id):
        assert occurrences(dump, needle) == [], needle
    # the confirmation link mailed before cannot bring anything back
    page = client.get(local_path(link_in(smtp[0].messages[-1], CONFIRM)))
    assert page.status_code == 400
    assert occurrences(dump_everything(redis_client), user_id) == []


def test_a_refused_address_is_named(client, make_user, smtp):
    _, headers = make_user()
    smtp[0].refuse["nobody@example.com"] = [550]
    response = put(client, headers, email="nobody@example.com", frequency="daily")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "email"
    smtp[0].refuse["later@example.com"] = [451]
    response = put(client, make_user()[1], email="later@example.com", frequency="daily")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
