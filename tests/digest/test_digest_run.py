"""Digest runs against a real Redis and a real SMTP server on loopback: content, one-click
unsubscribe, retries and suppression."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from backend.digest.run import digest_run, period_of
from backend.digest.subscriptions import Subscription
from backend.extensions import get_store
from tests.digest.conftest import NEWEST, NEWEST_PAPERS, event, local_path

NOW = datetime.now(UTC).replace(minute=30)


@pytest.fixture
def run(app):
    """Run the digests due at ``now`` in process (``retries``: only the retries due);
    returns the report."""

    def go(now: datetime = NOW, retries: bool = False, **options):
        with app.app_context():
            digest = digest_run(get_store(), app.config)
            return digest.retry(now) if retries else digest.run(now, **options)

    return go


def status(client, headers) -> dict:
    return client.get("/v1/me/subscription", headers=headers).get_json()


def digest_to(handler, address: str):
    return [m for m in handler.to(address) if m["Subject"] != "Confirm your paperfeed digest"]


def test_digest_content_against_the_store(client, make_user, subscribe, catalogue, smtp, run):
    handler, _ = smtp
    _, headers = make_user()
    saved, dismissed, opened = (p["paper_id"] for p in NEWEST_PAPERS[:3])
    response = client.post("/v1/events", headers=headers, json={"events": [
        event("save", saved), event("dismiss", dismissed), event("open", opened)]})
    assert response.status_code == 202
    subscribe(headers, "reader@example.com")

    report = run()
    assert report.outcomes["sent"] == 1
    [message] = digest_to(handler, "reader@example.com")
    assert message["Subject"] == f"Your trending papers · {NEWEST:%a}, {NEWEST:%b} {NEWEST.day}"
    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()

    expected = client.get("/v1/recommendations?days=1&limit=20", headers=headers).get_json()["items"]
    top = [item for item in expected if item["paper_id"] not in {opened}][:10]
    links = re.findall(r'href="https://huggingface.co/papers/([^"]+)"', html)
    assert links[:10] == [item["paper_id"] for item in top]
    for item in top:
        assert f"https://huggingface.co/papers/{item['paper_id']}" in text
        assert item["reason"]["text"] in text
    for left_out in (saved, dismissed, opened):
        assert left_out not in links[:10]
    # then the three most upvoted other papers of the day, the user's own left out too
    shown = set(links[:10]) | {saved, dismissed, opened}
    popular = sorted((p for p in NEWEST_PAPERS if p["paper_id"] not in shown),
                     key=lambda p: -p["upvotes"])[:3]
    assert links[10:] == [p["paper_id"] for p in popular]
    assert "Most upvoted" in html and "MOST UPVOTED" in text
    first = next(p for p in NEWEST_PAPERS if p["paper_id"] == top[0]["paper_id"])
    assert "We study question" in text and "A third sentence" not in text
    assert f"{first['authors'][0]}, {first['authors'][1]}, {first['authors'][2]} et al." in html
    assert "Ranked for you" in text
    assert "<img" not in html and "src=" not in html  # no remote images, no pixels
    assert set(re.findall(r'href="([^"]+)"', html)) <= {
        *(f"https://huggingface.co/papers/{p}" for p in links),
        message["List-Unsubscribe"].strip(" <>").replace("&", "&amp;")}
    assert status(client, headers)["last_sent_at"]

    assert run().outcomes["sent"] == 0  # a rerun sends nothing more
    assert len(digest_to(handler, "reader@example.com")) == 1


def test_a_user_without_events_gets_the_community_ranking(client, make_user, subscribe, catalogue,
                                                          smtp, run):
    _, headers = make_user()
    subscribe(headers, "new@example.com")
    run()
    [message] = digest_to(smtp[0], "new@example.com")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "this is the community ranking" in text
    assert "Trending on Daily Papers" in text


def test_weekly_digest_covers_seven_days(client, make_user, subscribe, catalogue, smtp, run):
    _, headers = make_user()
    subscribe(headers, "weekly@example.com", frequency="weekly", weekday=NOW.weekday())
    run(frequency="daily")
    assert digest_to(smtp[0], "weekly@example.com") == []
    run(frequency="weekly")
    [message] = digest_to(smtp[0], "weekly@example.com")
    assert message["Subject"].startswith("Your week in papers · ")
    first = NEWEST - timedelta(days=6)
    assert f"{first:%b} {first.day}-" in message["Subject"]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "https://huggingface.co/papers/2412.10054" in html  # a paper of an earlier day


def test_no_new_papers_no_digest(client, make_user, subscribe, catalogue, smtp, run):
    _, headers = make_user()
    subscribe(headers, "reader@example.com")
    assert run().outcomes["sent"] == 1
    report = run(NOW + timedelta(days=1))  # the next day, but no newer Daily Papers day
    assert report.outcomes == {"empty": 1}
    assert len(digest_to(smtp[0], "reader@example.com")) == 1


def test_one_click_unsubscribe(client, make_user, subscribe, catalogue, smtp, run):
    _, headers = make_user()
    subscribe(headers, "reader@example.com")
    run()
    [message] = digest_to(smtp[0], "reader@example.com")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip(" <>")

    page = client.get(local_path(url))
    assert page.status_code == 200
    assert '<form method="post"' in page.get_data(as_text=True)
    assert status(client, headers)["status"] == "active"  # a GET changes nothing

    response = client.post(local_path(url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert status(client, headers)["status"] == "none"
    assert client.post(local_path(url), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert client.post(local_path(url) + "x").status_code == 400


def test_transient_failures_are_retried_with_backoff(client, make_user, subscribe, catalogue,
                                                     smtp, run):
    handler, _ = smtp
    _, headers = make_user()
    subscribe(headers, "flaky@example.com")
    handler.refuse["flaky@example.com"] = [451]
    assert run().outcomes == {"deferred": 1}  # the run goes on; the retry is due in 10 s
    assert run(NOW + timedelta(seconds=9), retries=True).due == 0
    assert run(NOW + timedelta(seconds=9)).due == 0  # a run meanwhile leaves it to its retry
    assert run(NOW + timedelta(seconds=10), retries=True).outcomes == {"sent": 1}
    assert [code for _, code in handler.refused] == [451]
    assert len(digest_to(handler, "flaky@example.com")) == 1
    assert run(NOW + timedelta(minutes=1), retries=True).due == 0


def test_retries_back_off_then_leave_it_to_the_next_run(client, make_user, subscribe, catalogue,
                                                        smtp, run, redis_client):
    from backend import keys

    handler, _ = smtp
    subscribe(make_user()[1], "down@example.com")
    handler.refuse["down@example.com"] = [451, 451, 451]
    assert run().outcomes == {"deferred": 1}  # attempt 1; retry after RETRY_DELAYS[0]
    assert run(NOW + timedelta(seconds=10), retries=True).outcomes == {"deferred": 1}
    assert run(NOW + timedelta(seconds=69), retries=True).due == 0  # then after 60 s
    assert run(NOW + timedelta(seconds=70), retries=True).outcomes == {"deferred": 1}
    # the delays are used up: no retry listed, the claim released for the next hourly run
    assert redis_client.zcard(keys.DIGEST_RETRIES) == 0
    assert run(NOW + timedelta(minutes=30), retries=True).due == 0
    assert [code for _, code in handler.refused] == [451, 451, 451]
    assert digest_to(handler, "down@example.com") == []
    assert run(NOW + timedelta(minutes=30)).outcomes == {"sent": 1}
    assert len(digest_to(handler, "down@example.com")) == 1


def test_a_deleted_user_leaves_no_retry(client, make_user, subscribe, catalogue, smtp, run,
                                        redis_client):
    from backend import keys

    user_id, headers = make_user()
    subscribe(headers, "gone@example.com")
    smtp[0].refuse["gone@example.com"] = [451]
    assert run().outcomes == {"deferred": 1}
    assert redis_client.zrange(keys.DIGEST_RETRIES, 0, -1) == [f"{user_id}|{period_of_now()}"]
    assert client.delete("/v1/me", headers=headers).status_code == 204
    assert redis_client.zcard(keys.DIGEST_RETRIES) == 0
    assert run(NOW + timedelta(seconds=10), retries=True).due == 0


def period_of_now() -> str:
    return f"daily:{NOW.date().isoformat()}"


def test_a_run_over_worker_processes_sends_each_digest_once(make_user, subscribe, catalogue,
                                                           smtp, run):
    addresses = [subscribe(make_user()[1], f"reader{n}@example.com") for n in range(6)]
    report = run(workers=2, min_share=1)
    assert report.due == 6 and report.outcomes == {"sent": 6}
    assert sorted(m["To"] for m in smtp[0].messages if m["Subject"].startswith("Your ")) \
        == sorted(addresses)
    assert run(workers=2, min_share=1).due == 0


def test_three_permanent_failures_in_a_row_suppress(client, make_user, subscribe, catalogue,
                                                    smtp, run):
    handler, _ = smtp
    _, headers = make_user()
    subscribe(headers, "bounce@example.com")
    handler.refuse["bounce@example.com"] = [550, 550, 550]
    for day in range(3):
        outcome = run(NOW + timedelta(days=day)).outcomes
        assert outcome == ({"suppressed": 1} if day == 2 else {"failed": 1}), day
    assert status(client, headers)["status"] == "suppressed"
    assert run(NOW + timedelta(days=3)).due == 0
    assert handler.to("bounce@example.com")[1:] == []  # only the confirmation got through
    # subscribing again asks for a new confirmation
    response = client.put("/v1/me/subscription", headers=headers,
                          json={"email": "bounce@example.com", "frequency": "daily"})
    assert response.get_json() == {"status": "pending"}


def test_an_abandoned_claim_is_taken_again_after_its_lease(app, make_user, subscribe, catalogue,
                                                           smtp, run):
    user_id, headers = make_user()
    subscribe(headers, "reader@example.com")
    with app.app_context():
        digest = digest_run(get_store(), app.config)
        subscription = digest.subscriptions.get(user_id)
        assert digest.subscriptions.claim(subscription, period_of(subscription, NOW), "dead-run", NOW)
    assert run().outcomes == {"skipped": 1}
    assert digest_to(smtp[0], "reader@example.com") == []
    assert run(NOW + timedelta(minutes=31)).outcomes == {"sent": 1}


@pytest.mark.parametrize("frequency, weekday, hour, now, period", [
    ("daily", 0, 7, datetime(2026, 12, 3, 6, 59, tzinfo=UTC), None),
    ("daily", 0, 7, datetime(2026, 12, 3, 7, 0, tzinfo=UTC), "daily:2026-12-03"),
    ("daily", 0, 7, datetime(2026, 12, 3, 23, 0, tzinfo=UTC), "daily:2026-12-03"),
    ("weekly", 3, 7, datetime(2026, 12, 3, 8, 0, tzinfo=UTC), "weekly:2026-12-03"),
    ("weekly", 4, 7, datetime(2026, 12, 3, 8, 0, tzinfo=UTC), None),
    ("weekly", 0, 7, datetime(2026, 12, 6, 8, 0, tzinfo=UTC), "weekly:2026-11-30"),
])
def test_period_of(frequency, weekday, hour, now, period):
    subscription = Subscription("u", "a@example.com", frequency, hour, weekday, "active", "s")
    assert period_of(subscription, now) == period


def test_a_user_who_leaves_mid_run_gets_nothing_and_leaves_no_key(app, client, make_user,
                                                                    subscribe, redis_client):
    from backend import keys

    user_id, headers = make_user()
    subscribe(headers, "leaving@example.com")
    with app.app_context():
        subscriptions = digest_run(get_store(), app.config).subscriptions
        read = subscriptions.get(user_id)  # what a run read before the user left
        period = period_of(read, NOW)
        assert subscriptions.claim(read, period, "run-a", NOW)
        assert client.delete("/v1/me/subscription", headers=headers).status_code == 204
        assert not subscriptions.advance(read, period, "run-a", "sending", NOW)  # not sent
        assert redis_client.hget(keys.user(user_id, "digests"), period) is None

        subscribe(headers, "leaving@example.com")
        read = subscriptions.get(user_id)
        assert client.delete("/v1/me", headers=headers).status_code == 204
        assert not subscriptions.claim(read, period, "run-b", NOW)
        assert not redis_client.exists(*keys.user_keys(user_id))


def test_the_schedulers_retry_job_sends_what_is_due(redis_url, smtp, tmp_path, make_user,
                                                    subscribe, catalogue):
    """``send_digests`` as the scheduler's hourly and every-minute jobs call it."""
    from backend.cli import send_digests
    from backend.config import load_config
    from tests.digest.conftest import PUBLIC_URL

    handler, url = smtp
    subscribe(make_user()[1], "later@example.com")
    handler.refuse["later@example.com"] = [451]
    config = load_config({"REDIS_URL": redis_url, "SMTP_URL": url, "DATA_DIR": str(tmp_path),
                          "PUBLIC_URL": PUBLIC_URL, "DIGEST_RETRY_DELAYS": [10]})
    assert send_digests(config, now=NOW).outcomes == {"deferred": 1}
    assert send_digests(config, now=NOW + timedelta(seconds=5), retries=True).due == 0
    assert send_digests(config, now=NOW + timedelta(seconds=10), retries=True).outcomes \
        == {"sent": 1}
    assert len(digest_to(handler, "later@example.com")) == 1
