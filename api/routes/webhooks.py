"""Webhooks for integration systems: register, list, remove; each one's delivery log,
and replaying a delivery. How deliveries are signed and retried: ``api/webhooks.py``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import store, webhooks
from ..deps import MAX_ID, Number, Planner, SessionDep
from ..models import Delivery, FeedEntry, Webhook
from ..pagination import PageDep
from ..problems import error_responses
from ..schemas import DeliveryOut, WebhookIn, WebhookOut
from ..security import Principal

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=error_responses(401, 403, 404, 422))


def _own(session: Session, principal: Principal, webhook_id: int) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.org_id != principal.org or not hook.active:
        raise HTTPException(404, f"no webhook {webhook_id}")
    return hook


def _out(hook: Webhook, secret: bool = False) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        kinds=list(hook.kinds),
        active=hook.active,
        created_at=hook.created_at,
        secret=hook.secret if secret else None,
    )


@router.post("", response_model=WebhookOut, status_code=201, summary="Register a webhook (its secret is shown once)")
def register_webhook(body: WebhookIn, session: SessionDep, principal: Planner, response: Response) -> WebhookOut:
    """Sent every feed entry for coordinators posted from now on (of ``kinds``), signed
    with the secret returned here."""
    hook = webhooks.register(session, principal.org, body.url, list(body.kinds), store.actor(principal))
    store.audit(session, principal, "register webhook", body.url, webhook=hook.id)
    response.headers["Location"] = f"/v1/webhooks/{hook.id}"
    return _out(hook, secret=True)


@router.get("", response_model=list[WebhookOut], summary="The organisation's webhooks")
def list_webhooks(
    session: SessionDep,
    principal: Planner,
    page: PageDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the id of the last webhook you have")] = 0,
) -> list[WebhookOut]:
    query = select(Webhook).where(Webhook.org_id == principal.org, Webhook.active.is_(True), Webhook.id > after)
    hooks = session.scalars(query.order_by(Webhook.id).limit(page.fetch))
    return [_out(hook) for hook in page.of(hooks, lambda hook: hook.id)]


@router.delete("/{webhook_id}", status_code=204, summary="Remove a webhook (nothing more is sent to it)")
def remove_webhook(webhook_id: Number, session: SessionDep, principal: Planner) -> Response:
    hook = _own(session, principal, webhook_id)
    hook.active = False
    store.audit(session, principal, "remove webhook", hook.url, webhook=hook.id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut], summary="The webhook's delivery log")
def list_deliveries(
    webhook_id: Number,
    session: SessionDep,
    principal: Planner,
    page: PageDep,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the id of the last delivery you have")] = 0,
) -> list[DeliveryOut]:
    hook = _own(session, principal, webhook_id)
    query = (
        select(Delivery, FeedEntry.kind)
        .join(FeedEntry, FeedEntry.id == Delivery.feed_id)
        .where(Delivery.webhook_id == hook.id, Delivery.id > after)
    )
    if status is not None:
        query = query.where(Delivery.status == status)
    found = session.execute(query.order_by(Delivery.id).limit(page.fetch))
    return [_delivery_out(d, kind) for d, kind in page.of(found, lambda pair: pair[0].id)]


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    response_model=DeliveryOut,
    status_code=202,
    summary="Send a delivery again",
)
def replay_delivery(
    webhook_id: Number, delivery_id: Number, session: SessionDep, principal: Planner, response: Response
) -> DeliveryOut:
    hook = _own(session, principal, webhook_id)
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.webhook_id != hook.id:
        raise HTTPException(404, f"no delivery {delivery_id} of webhook {webhook_id}")
    webhooks.replay(session, delivery)
    session.flush()
    store.audit(session, principal, "replay delivery", hook.url, webhook=hook.id, delivery=delivery.id)
    response.headers["Location"] = f"/v1/webhooks/{hook.id}/deliveries?after={delivery.id - 1}&limit=1"
    return _delivery_out(delivery, session.get_one(FeedEntry, delivery.feed_id).kind)


def _delivery_out(delivery: Delivery, kind: str) -> DeliveryOut:
    return DeliveryOut.model_validate(
        {
            "id": delivery.id,
            "feed_id": delivery.feed_id,
            "kind": kind,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "next_attempt_at": delivery.next_attempt_at if delivery.status == "pending" else None,
            "last_status": delivery.last_status,
            "last_error": delivery.last_error,
            "delivered_at": delivery.delivered_at,
            "created_at": delivery.created_at,
        }
    )
