"""Billing fixtures: a real localstripe for the whole session, gateways pointed at it
(and the Django settings `Gateway.from_settings()` reads, so services see the same
server), a recording fake for the endpoints localstripe lacks, and signed webhooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from billing.gateway import Gateway
from tests.billing.stripe_server import (
    API_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    LocalStripeProcess,
    RecordingServer,
    RecordingStripe,
    signed,
)


@pytest.fixture(scope="session")
def localstripe_server() -> Iterator[LocalStripe]:
    """One localstripe process per test session (it starts in ~1 s; state is shared, so
    tests create their own customers rather than count global objects)."""
    process = LocalStripeProcess()
    client = process.start()
    try:
        yield client
    finally:
        process.stop()


@pytest.fixture(scope="session")
def localstripe(localstripe_server: LocalStripe) -> str:
    """The base URL of the session's localstripe, e.g. http://127.0.0.1:54321."""
    return localstripe_server.url


@pytest.fixture
def gateway(localstripe: str, settings: Any) -> Gateway:
    """A gateway on localstripe, and settings so `Gateway.from_settings()` matches it."""
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_API_BASE = localstripe
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return Gateway(api_key=API_KEY, api_base=localstripe, webhook_secret=WEBHOOK_SECRET)


@pytest.fixture
def recording_stripe() -> Iterator[RecordingStripe]:
    """A fake Stripe that records requests (`.requests`) and answers Checkout, Portal,
    Prices, Products and Connect calls; `.gateway` is a Gateway pointed at it."""
    with RecordingServer() as fake:
        yield fake


@pytest.fixture
def signed_event() -> Callable[..., tuple[bytes, str]]:
    """`signed_event(event_dict, timestamp=None, secret=WEBHOOK_SECRET)` -> the payload
    bytes and Stripe-Signature header Stripe would send (see `event_payload`)."""

    def build(
        event: dict[str, Any], *, timestamp: int | None = None, secret: str = WEBHOOK_SECRET
    ) -> tuple[bytes, str]:
        return signed(event, secret=secret, timestamp=timestamp)

    return build
