"""Webhooks: the organisation's feed POSTed to integration systems, signed, retried.

Each feed entry for coordinators (events, jobs, plans, alerts; of the kinds a webhook
asked for) becomes a delivery to each of the organisation's active webhooks. A delivery
is tried until the receiver answers 2xx: after a failure (an error status, a timeout, a
refused connection) it waits ``webhook_backoff_seconds``, doubled after each further
failure, and after ``webhook_max_attempts`` tries it is given up (``failed``). Every
delivery is kept with its last answer (the delivery log); a replay sends one again.

The signature follows the Standard Webhooks convention (standardwebhooks.com): headers
``webhook-id`` (the same for every try of one entry, so a receiver can drop repeats),
``webhook-timestamp`` (Unix seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}" keyed with the secret's bytes>``; the secret reads
``whsec_<base64>``. Several watch processes (or service instances on PostgreSQL) share
the work: a delivery is leased with ``FOR UPDATE SKIP LOCKED`` before it is sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from carescheduler import InputError

from .config import Settings
from .db import transaction
from .feed import as_message
from .models import Delivery, FeedEntry, Webhook, utcnow

ENQUEUE_LAG = 200
"""Feed entries this far behind a webhook's cursor are looked at again: on PostgreSQL an
entry can become visible after one with a larger id (its transaction committed later)."""

BATCH = 50
"""Deliveries leased per round."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header's value for ``body``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def check_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise InputError("url", "give an absolute http:// or https:// URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InputError("url", "give an absolute http:// or https:// URL")
    return url


def register(session: Session, org: str, url: str, kinds: list[str], created_by: str) -> Webhook:
    """A new webhook, sent what is posted from now on."""
    last = session.scalar(select(FeedEntry.id).order_by(FeedEntry.id.desc()).limit(1)) or 0
    hook = Webhook(org_id=org, url=check_url(url), secret=new_secret(), kinds=kinds, cursor=last, created_by=created_by)
    session.add(hook)
    session.flush()
    return hook


def enqueue(session: Session) -> int:
    """A delivery for each new feed entry each active webhook wants; returns how many."""
    added = 0
    for hook in session.scalars(select(Webhook).where(Webhook.active.is_(True)).with_for_update(skip_locked=True)):
        entries = list(
            session.scalars(
                select(FeedEntry)
                .where(
                    FeedEntry.org_id == hook.org_id,
                    FeedEntry.carer_id.is_(None),
                    FeedEntry.id > hook.cursor - ENQUEUE_LAG,
                )
                .order_by(FeedEntry.id)
                .limit(1000)
            )
        )
        if not entries:
            continue
        known = set(
            session.scalars(
                select(Delivery.feed_id).where(Delivery.webhook_id == hook.id, Delivery.feed_id >= entries[0].id)
            )
        )
        for entry in entries:
            if entry.id in known or (hook.kinds and entry.kind not in hook.kinds):
                continue
            if entry.id <= hook.cursor and entry.created_at < hook.created_at:
                continue  # posted before the webhook existed
            session.add(Delivery(webhook_id=hook.id, feed_id=entry.id))
            added += 1
        hook.cursor = max(hook.cursor, entries[-1].id)
    session.flush()
    return added


def deliver_due(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: dt.datetime | None = None,
    client: httpx.Client | None = None,
) -> int:
    """Send the deliveries due at ``now`` (UTC, default the real time); returns how many
    were tried."""
    now = now or utcnow()
    with transaction(sessions) as session:
        enqueue(session)
        due = select(Delivery.id).where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
        leased = session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(due.order_by(Delivery.id).limit(BATCH).with_for_update(skip_locked=True)))
            .values(next_attempt_at=now + dt.timedelta(seconds=2 * settings.webhook_timeout_seconds + 1))
            .returning(Delivery.id)
        ).all()
    if not leased:
        return 0
    own = client is None
    client = client or httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False)
    try:
        for delivery_id in sorted(leased):
            _send(sessions, settings, delivery_id, now, client)
    finally:
        if own:
            client.close()
    return len(leased)


def _send(sessions, settings: Settings, delivery_id: int, now: dt.datetime, client: httpx.Client) -> None:
    with sessions() as session:
        delivery = session.get_one(Delivery, delivery_id)
        hook = session.get_one(Webhook, delivery.webhook_id)
        entry = session.get_one(FeedEntry, delivery.feed_id)
        url, secret = hook.url, hook.secret
        message = as_message(entry)
    body = json.dumps(
        {"id": int(message["id"]), "type": message["event"], "data": json.loads(message["data"])}, separators=(",", ":")
    ).encode()
    message_id = f"feed-{entry.id}"
    timestamp = int(now.replace(tzinfo=dt.UTC).timestamp())
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
        "user-agent": "carescheduler-webhooks",
    }
    status, error = None, None
    try:
        answer = client.post(url, content=body, headers=headers)
        status = answer.status_code
        if not answer.is_success:
            error = f"the receiver answered {status}"
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
    with transaction(sessions) as session:
        delivery = session.get_one(Delivery, delivery_id)
        delivery.attempts += 1
        delivery.last_status, delivery.last_error = status, error
        if error is None:
            delivery.status, delivery.delivered_at = "delivered", now
        elif delivery.attempts >= settings.webhook_max_attempts:
            delivery.status = "failed"
        else:
            wait = settings.webhook_backoff_seconds * 2 ** (delivery.attempts - 1)
            delivery.next_attempt_at = now + dt.timedelta(seconds=wait)


def replay(session: Session, delivery: Delivery) -> Delivery:
    """Send a delivery again (whatever became of it), from its first try."""
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    delivery.last_error = None
    return delivery
