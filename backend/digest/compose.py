"""What a digest holds and how it reads: papers from the recommendations service, rendered
into HTML and plain-text parts (Jinja2 templates in ``templates/``).

The papers are the user's recommendations for the period (the same ranking as the sidebar),
then the period's three most upvoted other papers for what the community reads; papers the
user saved, dismissed or opened are left out of both. No remote images, no tracking, links straight to
huggingface.co.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape

from backend.digest.subscriptions import Subscription
from backend.store import NO_EVENTS

PAPER_URL = "https://huggingface.co/papers/{paper_id}"
TOP = 10
MOST_UPVOTED = 3
WINDOW_DAYS = {"daily": 1, "weekly": 7}
AUTHORS_SHOWN = 3
SUMMARY_CHARS = 320
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")

_environment = Environment(
    loader=PackageLoader("backend.digest", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
)


@dataclass(frozen=True)
class DigestPaper:
    """One paper as the email shows it."""

    paper_id: str
    title: str
    url: str
    authors: str
    upvotes: int
    summary: str
    reason: str = ""
    reason_kind: str = ""


@dataclass(frozen=True)
class Digest:
    """A composed digest, ready to render."""

    frequency: str
    first_day: date
    last_day: date
    personal: bool
    papers: list[DigestPaper]
    most_upvoted: list[DigestPaper] = field(default_factory=list)

    @property
    def subject(self) -> str:
        """"Your trending papers · Wed, Dec 2" or "Your week in papers · Nov 24-30"."""
        if self.frequency == "daily":
            return f"Your trending papers · {self.last_day:%a}, {self.last_day:%b} {self.last_day.day}"
        return f"Your week in papers · {date_range(self.first_day, self.last_day)}"


def date_range(first: date, last: date) -> str:
    """"Nov 24-30", or "Nov 28-Dec 4" across months."""
    if first.month == last.month:
        return f"{first:%b} {first.day}-{last.day}"
    return f"{first:%b} {first.day}-{last:%b} {last.day}"


def first_sentences(text: str | None, count: int = 2, limit: int = SUMMARY_CHARS) -> str:
    """The first ``count`` sentences of an abstract, cut to about ``limit`` characters."""
    words = " ".join((text or "").split())
    summary = " ".join(_SENTENCE_END.split(words)[:count])
    if len(summary) > limit:
        summary = summary[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return summary


def author_line(authors: Any) -> str:
    """The first authors, "et al." after three."""
    names = [str(name) for name in authors or [] if name]
    shown = ", ".join(names[:AUTHORS_SHOWN])
    return shown + (" et al." if len(names) > AUTHORS_SHOWN else "")


def paper_entry(paper: dict[str, Any], reason: dict[str, Any] | None = None) -> DigestPaper:
    """A catalogue entry (``Store.papers``) as the email shows it."""
    reason = reason or {}
    return DigestPaper(
        paper_id=paper["paper_id"], title=" ".join((paper.get("title") or paper["paper_id"]).split()),
        url=PAPER_URL.format(paper_id=paper["paper_id"]), authors=author_line(paper.get("authors")),
        upvotes=int(paper.get("upvotes") or 0), summary=first_sentences(paper.get("abstract")),
        reason=str(reason.get("text") or ""), reason_kind=str(reason.get("kind") or ""))


PAPER_FIELDS = ("title", "authors", "upvotes", "abstract")


class DigestComposer:
    """Builds a user's digest from the store, the recommendations service and trending.

    Parameters
    ----------
    store:
        ``backend.store.Store`` (a run passes its ``RunStore``).
    recommender:
        ``backend.recommendations.serving.PersonalRecommender`` (its public ``recommend``).
    ranker:
        ``backend.feeds.TrendingRanker`` (its public ``ranked``), for the most upvoted papers.
    """

    def __init__(self, store, recommender, ranker):
        self.store = store
        self.recommender = recommender
        self.ranker = ranker
        self._newest: tuple[datetime, date | None] | None = None
        self._by_upvotes: tuple[list, list] | None = None
        self._entries: dict[str, DigestPaper] = {}

    def newest_day(self, now: datetime) -> date | None:
        """The newest Daily Papers day, read once per ``now`` (one run)."""
        if self._newest is None or self._newest[0] != now:
            self._newest = (now, self.store.newest_daily_date())
        return self._newest[1]

    def compose(self, subscription: Subscription, now: datetime) -> Digest | None:
        """The user's digest for the current period, or None when there is nothing new
        (no papers in the period, or the newest day was covered by the previous digest)."""
        newest = self.newest_day(now)
        if newest is None or (subscription.last_until and
                              newest.isoformat() <= subscription.last_until):
            return None
        days = WINDOW_DAYS[subscription.frequency]
        state = self.store.user_state(subscription.user_id)
        # the service leaves out what the user saved, dismissed or opened
        _, items = self.recommender.recommend(subscription.user_id, days=days, limit=TOP,
                                              now=now, until=newest, stamp=state.stamp)
        items = items[:TOP]
        if not items:
            return None
        shown = {item["paper_id"] for item in items} | state.saved | state.dismissed | state.opened
        popular = [c for c in self._most_upvoted(days, now, newest)
                   if c.paper_id not in shown][:MOST_UPVOTED]
        entries = self._paper_entries([item["paper_id"] for item in items]
                                      + [c.paper_id for c in popular])
        return Digest(
            frequency=subscription.frequency, first_day=newest - timedelta(days=days - 1),
            last_day=newest, personal=state.stamp != NO_EVENTS,
            papers=[replace(entry, reason=str((item.get("reason") or {}).get("text") or ""),
                            reason_kind=str((item.get("reason") or {}).get("kind") or ""))
                    for entry, item in zip(entries[:len(items)], items, strict=True)],
            most_upvoted=entries[len(items):],
        )

    def _most_upvoted(self, days: int, now: datetime, newest: date) -> list:
        """The window's papers by upvotes, sorted once per trending ranking."""
        ranked = self.ranker.ranked(days, now, until=newest)
        if self._by_upvotes is None or self._by_upvotes[0] is not ranked:
            self._by_upvotes = (ranked, sorted(ranked, key=lambda c: (-c.upvotes, c.paper_id)))
        return self._by_upvotes[1]

    def _paper_entries(self, paper_ids: list[str]) -> list[DigestPaper]:
        """The papers as the email shows them (without a reason), each made once."""
        missing = [p for p in dict.fromkeys(paper_ids) if p not in self._entries]
        if missing:
            for paper_id, paper in zip(missing, self.store.papers(missing, PAPER_FIELDS),
                                       strict=True):
                self._entries[paper_id] = paper_entry(paper or {"paper_id": paper_id})
        return [self._entries[p] for p in paper_ids]


class MailPolicy(Compat32):
    """compat32, writing a header that needs neither folding nor encoding (most of them) as
    it is instead of through ``email.header``, the same bytes at a fraction of the CPU."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if (isinstance(value, str) and value.isascii() and "\r" not in value
                and "\n" not in value and len(name) + len(value) + 2 <= self.max_line_length):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


MAIL_POLICY = MailPolicy()


def text_part(subtype: str, text: str) -> MIMENonMultipart:
    """A UTF-8 text part in base64 (``email.encoders``' C encoder, not ``email.charset``'s
    line loop: the same bytes)."""
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part.set_payload(text.encode("utf-8"))
    encoders.encode_base64(part)
    return part


class Renderer:
    """Renders digests and confirmation emails into messages.

    Parameters
    ----------
    mail_from:
        The From header.
    public_url:
        Base of the service's links (confirm, unsubscribe).
    """

    def __init__(self, mail_from: str, public_url: str):
        self.mail_from = mail_from
        self.public_url = public_url.rstrip("/")
        self.domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
        self._digest_html = _environment.get_template("digest.html")
        self._digest_text = _environment.get_template("digest.txt")
        self._confirm_html = _environment.get_template("confirm.html")
        self._confirm_text = _environment.get_template("confirm.txt")

    def link(self, path: str, token: str) -> str:
        """An absolute link to one of the service's token pages."""
        return f"{self.public_url}{path}?{urlencode({'token': token})}"

    def digest_html(self, digest: Digest, unsubscribe_url: str) -> str:
        """The HTML part of a digest."""
        return self._digest_html.render(digest=digest, unsubscribe_url=unsubscribe_url)

    def digest_message(self, digest: Digest, to: str, unsubscribe_token: str,
                       now: datetime) -> Message:
        """The digest email (multipart/alternative) with RFC 8058 one-click unsubscribe."""
        unsubscribe_url = self.link("/v1/subscription/unsubscribe", unsubscribe_token)
        message = self._message(
            to, digest.subject, now,
            self._digest_text.render(digest=digest, unsubscribe_url=unsubscribe_url),
            self.digest_html(digest, unsubscribe_url))
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return message

    def confirmation_message(self, to: str, confirm_token: str, frequency: str,
                             now: datetime) -> Message:
        """The confirmation email: a link and nothing else about the user."""
        context = {"confirm_url": self.link("/v1/subscription/confirm", confirm_token),
                   "frequency": frequency}
        return self._message(to, "Confirm your paperfeed digest", now,
                             self._confirm_text.render(**context),
                             self._confirm_html.render(**context))

    def _message(self, to: str, subject: str, now: datetime, text: str, html: str) -> Message:
        # email.mime (compat32) rather than EmailMessage: the same MIME at a fifth of the
        # CPU, which matters for a run of 100,000 digests
        message = MIMEMultipart("alternative", policy=MAIL_POLICY)
        message["From"] = self.mail_from
        message["To"] = to
        message["Subject"] = Header(subject, "utf-8") if not subject.isascii() else subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid("digest", domain=self.domain)
        message["Auto-Submitted"] = "auto-generated"
        message.attach(text_part("plain", text))
        message.attach(text_part("html", html))
        return message


def render_page(title: str, message: str, form_action: str | None = None,
                button: str | None = None) -> str:
    """A small HTML page of the service (confirmed, unsubscribe, bad link)."""
    return _environment.get_template("page.html").render(
        title=title, message=message, form_action=form_action, button=button)
