"""Subscriptions of employers to a certificate, webhook endpoints and their deliveries.

Webhook deliveries are an outbox table (:mod:`iris.core.outbox`): a row is written in the
transaction of the change it reports and POSTed afterwards, signed, retried with backoff,
once per endpoint and event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from iris.core.db import Model, PublicIdMixin, TimestampMixin, utcnow
from iris.core.outbox import DeliveryError, OutboxMixin

SIGNATURE_HEADER = "X-IRIS-Signature"


class Subscription(PublicIdMixin, TimestampMixin, Model):
    """An e-mail address that follows one certificate's status changes (no account)."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(320))
    locale: Mapped[str] = mapped_column(sa.String(8), default="en")
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]

    certificate: Mapped[Any] = relationship("Certificate")

    __table_args__ = (sa.UniqueConstraint("certificate_id", "email", name="certificate_email"),)

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class WebhookEndpoint(PublicIdMixin, TimestampMixin, Model):
    """An integrating system's URL; every call to it is signed with its secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    url: Mapped[str] = mapped_column(sa.String(1000))
    #: the HMAC-SHA256 key; shown once when the endpoint is created
    secret: Mapped[str] = mapped_column(sa.String(100))
    #: the events it wants; empty means every webhook event
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    def wants(self, event: str) -> bool:
        return self.is_active and (not self.events or event in self.events)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 over ``<timestamp>.<body>`` with the endpoint's secret.

    The receiver recomputes it with the secret it was given and compares in constant time;
    the timestamp inside the signed text lets it refuse old replays.
    """
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookDelivery(OutboxMixin, PublicIdMixin, Model):
    """One event for one endpoint: POSTed after the commit, retried until it succeeds."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id"), index=True)
    event: Mapped[str] = mapped_column(sa.String(60))
    #: the JSON body, fixed when the event happened (the same bytes on every attempt)
    body: Mapped[str] = mapped_column(sa.Text)
    response_status: Mapped[int | None]

    endpoint: Mapped[WebhookEndpoint] = relationship()

    def transmit(self, config: Any) -> None:
        endpoint = self.endpoint
        if not endpoint.is_active:
            raise DeliveryError("the endpoint was deactivated")
        body = self.body.encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310  (the scheme is checked on entry)
            endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "IRIS-Certify-Webhooks/1",
                "X-IRIS-Event": self.event,
                "X-IRIS-Delivery": self.public_id,
                "X-IRIS-Timestamp": timestamp,
                SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
            },
        )
        timeout = float(config.get("IRIS_WEBHOOK_TIMEOUT_SECONDS", 10))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                self.response_status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"HTTP {exc.code} from {endpoint.url}") from exc
        except OSError as exc:
            raise DeliveryError(f"{endpoint.url}: {exc}") from exc

    def payload(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


def payload_body(delivery_id: str, event: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {"id": delivery_id, "event": event, "occurred_at": utcnow().isoformat(), "data": data},
        sort_keys=True,
        ensure_ascii=False,
    )
