"""The only module that imports `stripe` (DESIGN.md, Billing).

Everything else in the project calls `Gateway` with our own types and never sees a
Stripe object. Every create call carries an idempotency key, so a retried request can't
charge or create twice. Calls on a tenant's own Stripe account (Connect) pass
`account=` (the `Stripe-Account` header).

Adding a call: go through `Gateway._call` (it adds the idempotency key and the account
header and turns every `stripe.StripeError` into a `GatewayError`), map the JSON answer
into a frozen dataclass here, and read fields with `.get()`, because the same call is
answered by real Stripe (API version pinned by stripe-python, currently "basil") and by
localstripe in the tests, which speaks an older dialect (legacy plans, fields at the top
level of a subscription or invoice that basil moved elsewhere). Cover it with a test in
tests/billing/test_gateway.py: against localstripe when it implements the endpoint,
else a contract test on the request parameters against the recording fake.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import stripe  # the one import of stripe in the project
from django.conf import settings

# Stripe's own default; a webhook older than this is treated as a replay.
WEBHOOK_TOLERANCE_S = 300
# The placeholder Stripe replaces with the session id on the return page.
CHECKOUT_SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
PRICE_INTERVALS = ("month", "year")


class GatewayError(Exception):
    """Stripe said no (or could not be reached). `code` is Stripe's error code when it
    gave one (e.g. "card_declined", "resource_missing"); `message` is safe to show."""

    def __init__(self, message: str, *, code: str = "", http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class SignatureError(GatewayError):
    """A webhook whose signature or timestamp doesn't verify."""


@dataclass(frozen=True)
class Account:
    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool


@dataclass(frozen=True)
class Product:
    id: str
    name: str


@dataclass(frozen=True)
class Price:
    id: str
    product: str
    unit_amount: int  # minor units (cents)
    currency: str  # lower case, as Stripe writes it
    interval: str  # "month" | "year"
    active: bool = True


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    customer: str | None = None
    subscription: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Subscription:
    id: str
    customer: str
    status: str  # trialing, active, past_due, canceled, unpaid, incomplete, incomplete_expired
    price: str  # the price (or legacy plan) id of its single item
    current_period_start: datetime.datetime | None
    current_period_end: datetime.datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime.datetime | None
    trial_end: datetime.datetime | None
    latest_invoice: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    quantity: int = 1  # seats: the platform bills a tenant per active client


@dataclass(frozen=True)
class Invoice:
    id: str
    customer: str
    subscription: str | None
    status: str  # draft, open, paid, uncollectible, void
    amount_due: int
    amount_paid: int
    currency: str
    number: str | None
    hosted_invoice_url: str | None
    charge: str | None
    payment_intent: str | None
    application_fee_amount: int | None
    period_start: datetime.datetime | None
    period_end: datetime.datetime | None
    created: datetime.datetime


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    currency: str
    status: str
    charge: str | None


@dataclass(frozen=True)
class Event:
    """A verified webhook event: what it is and which object it names. Handlers re-fetch
    that object rather than trust `data` (events arrive out of order)."""

    id: str
    type: str
    account: str | None  # the connected account it happened on, None for the platform
    created: datetime.datetime
    object_type: str  # "subscription", "invoice", "checkout.session", "charge", "account"
    object_id: str
    data: dict[str, Any]  # the event's data.object as sent (for the record)


class Gateway:
    """One configured Stripe client. Each instance owns its `StripeClient`, so two
    gateways (platform key, test server) never share stripe-python's module globals."""

    def __init__(
        self,
        *,
        api_key: str,
        api_base: str | None = None,
        webhook_secret: str = "",
        max_network_retries: int = 2,
    ) -> None:
        self._api_key = api_key
        self._api_base = api_base or None
        self._webhook_secret = webhook_secret
        # Retries reuse the idempotency key of the first attempt, so they are safe.
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": self._api_base} if self._api_base else {},
            max_network_retries=max_network_retries,
        )

    @classmethod
    def from_settings(cls) -> Gateway:
        """STRIPE_SECRET_KEY (or STRIPE_API_KEY), STRIPE_API_BASE, STRIPE_WEBHOOK_SECRET."""
        api_key = getattr(settings, "STRIPE_SECRET_KEY", "") or getattr(
            settings, "STRIPE_API_KEY", ""
        )
        return cls(
            api_key=api_key or "",
            api_base=getattr(settings, "STRIPE_API_BASE", "") or None,
            webhook_secret=getattr(settings, "STRIPE_WEBHOOK_SECRET", "") or "",
        )

    @property
    def configured(self) -> bool:
        """False without an API key: billing pages explain that billing is off."""
        return bool(self._api_key)

    # Connect ------------------------------------------------------------------------
    def account_create(self, *, email: str, country: str, idempotency_key: str) -> Account:
        """An Express account: Stripe hosts onboarding and the dashboard, we only need
        its id and the charges/payouts flags that `account.updated` keeps current."""
        data = self._call(
            self._client.v1.accounts.create,
            params={
                "type": "express",
                "email": email,
                "country": country.upper(),
                "capabilities": {
                    "card_payments": {"requested": True},
                    "transfers": {"requested": True},
                },
            },
            idempotency_key=idempotency_key,
        )
        return _account(data)

    def account_link(self, *, account: str, refresh_url: str, return_url: str) -> str:
        """A single-use onboarding URL; Stripe expires it, so nothing is worth retrying
        under a key: a new link is requested each time the admin clicks."""
        data = self._call(
            self._client.v1.account_links.create,
            params={
                "account": account,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            },
        )
        return str(data["url"])

    def account_retrieve(self, account_id: str) -> Account:
        return _account(self._call(self._client.v1.accounts.retrieve, account_id))

    # What a tenant sells (on its own account) -----------------------------------------
    def product_create(
        self, *, name: str, metadata: dict[str, str], account: str | None, idempotency_key: str
    ) -> Product:
        data = self._call(
            self._client.v1.products.create,
            params={"name": name, "metadata": dict(metadata)},
            account=account,
            idempotency_key=idempotency_key,
        )
        return Product(id=data["id"], name=data.get("name") or "")

    def product_update(self, product_id: str, *, name: str, account: str | None) -> Product:
        data = self._call(
            self._client.v1.products.update, product_id, params={"name": name}, account=account
        )
        return Product(id=data["id"], name=data.get("name") or "")

    def price_create(
        self,
        *,
        product: str,
        unit_amount: int,
        currency: str,
        interval: str,
        account: str | None,
        idempotency_key: str,
    ) -> Price:
        """Prices are immutable in Stripe: a tier whose amount changes gets a new price
        and the old one is deactivated (existing subscribers keep theirs)."""
        if interval not in PRICE_INTERVALS:
            raise ValueError(f"interval must be one of {PRICE_INTERVALS}, got {interval!r}")
        if unit_amount < 0:
            raise ValueError(f"unit_amount must be >= 0 minor units, got {unit_amount}")
        data = self._call(
            self._client.v1.prices.create,
            params={
                "product": product,
                "unit_amount": unit_amount,
                "currency": currency.lower(),
                "recurring": {"interval": interval},
            },
            account=account,
            idempotency_key=idempotency_key,
        )
        return _price(data)

    def price_deactivate(self, price_id: str, *, account: str | None) -> None:
        self._call(
            self._client.v1.prices.update, price_id, params={"active": False}, account=account
        )

    # Customers, checkout, portal ------------------------------------------------------
    def customer_create(
        self,
        *,
        email: str,
        name: str,
        metadata: dict[str, str],
        account: str | None,
        idempotency_key: str,
        payment_method: str | None = None,
    ) -> str:
        """`payment_method` (optional) attaches a card and makes it the default for
        invoices: Checkout normally collects the card, but tests and back-office
        subscriptions need a customer who can already pay. A declined card surfaces
        here as GatewayError(code="card_declined")."""
        params: dict[str, Any] = {"email": email, "name": name, "metadata": dict(metadata)}
        if payment_method:
            params["payment_method"] = payment_method
            params["invoice_settings"] = {"default_payment_method": payment_method}
        data = self._call(
            self._client.v1.customers.create,
            params=params,
            account=account,
            idempotency_key=idempotency_key,
        )
        return str(data["id"])

    def customer_delete(self, customer_id: str, *, account: str | None) -> bool:
        """Erasure (DESIGN.md, Privacy): Stripe deletes the customer's name, e-mail and
        cards and cancels its subscriptions; invoices stay on Stripe's side as money
        records. True when deleted now, False when Stripe no longer knew it (an earlier
        attempt got through), so a re-run erasure is a no-op. Deletes are idempotent by
        nature, hence no idempotency key."""
        try:
            data = self._call(self._client.v1.customers.delete, customer_id, account=account)
        except GatewayError as exc:
            if exc.code == "resource_missing" or exc.http_status == 404:
                return False
            raise
        return bool(data.get("deleted", True))

    def checkout_session_create(
        self,
        *,
        price: str,
        customer: str,
        success_url: str,
        cancel_url: str,
        trial_days: int | None,
        application_fee_percent: float | None,
        metadata: dict[str, str],
        account: str | None,
        idempotency_key: str,
        quantity: int = 1,
    ) -> CheckoutSession:
        """Subscription-mode Checkout; metadata is copied onto the subscription too.
        `quantity` is 1 for a client's tier, the active clients for a tenant's plan."""
        # The subscription carries the metadata (tenant, tier, client) because its
        # webhooks outlive the session; the session keeps a copy for completed events.
        subscription_data: dict[str, Any] = {"metadata": dict(metadata)}
        if trial_days:
            subscription_data["trial_period_days"] = int(trial_days)
        if application_fee_percent is not None:
            subscription_data["application_fee_percent"] = application_fee_percent
        data = self._call(
            self._client.v1.checkout.sessions.create,
            params={
                "mode": "subscription",
                "customer": customer,
                "line_items": [{"price": price, "quantity": int(quantity)}],
                "success_url": _with_session_placeholder(success_url),
                "cancel_url": cancel_url,
                "metadata": dict(metadata),
                "subscription_data": subscription_data,
            },
            account=account,
            idempotency_key=idempotency_key,
        )
        return CheckoutSession(
            id=data["id"],
            url=data.get("url") or "",
            customer=_id_of(data.get("customer")),
            subscription=_id_of(data.get("subscription")),
            metadata=_metadata(data.get("metadata")),
        )

    def portal_session_create(self, *, customer: str, return_url: str, account: str | None) -> str:
        """A short-lived URL; not idempotent on purpose (each click wants a fresh one)."""
        data = self._call(
            self._client.v1.billing_portal.sessions.create,
            params={"customer": customer, "return_url": return_url},
            account=account,
        )
        return str(data["url"])

    # Subscriptions ----------------------------------------------------------------------
    def subscription_retrieve(self, subscription_id: str, *, account: str | None) -> Subscription:
        data = self._call(self._client.v1.subscriptions.retrieve, subscription_id, account=account)
        return _subscription(data)

    def subscription_cancel_at_period_end(
        self, subscription_id: str, *, cancel: bool, account: str | None, idempotency_key: str
    ) -> Subscription:
        """`cancel=False` undoes a pending cancellation (the client changed their mind
        before the period ended)."""
        data = self._call(
            self._client.v1.subscriptions.update,
            subscription_id,
            params={"cancel_at_period_end": bool(cancel)},
            account=account,
            idempotency_key=idempotency_key,
        )
        return _subscription(data)

    def subscription_change_price(
        self, subscription_id: str, *, price: str, account: str | None, idempotency_key: str
    ) -> Subscription:
        """Swap the single item's price, prorated."""
        item = self._single_item(subscription_id, account)
        data = self._call(
            self._client.v1.subscriptions.update,
            subscription_id,
            params={
                "items": [{"id": item, "price": price}],
                "proration_behavior": "create_prorations",
            },
            account=account,
            idempotency_key=idempotency_key,
        )
        return _subscription(data)

    def subscription_set_quantity(
        self, subscription_id: str, *, quantity: int, account: str | None, idempotency_key: str
    ) -> Subscription:
        """Set the single item's quantity (seats); Stripe prorates by default."""
        if quantity < 1:
            raise GatewayError("A subscription needs a quantity of at least 1.", code="quantity")
        item = self._single_item(subscription_id, account)
        data = self._call(
            self._client.v1.subscriptions.update,
            subscription_id,
            params={"items": [{"id": item, "quantity": int(quantity)}]},
            account=account,
            idempotency_key=idempotency_key,
        )
        return _subscription(data)

    def _single_item(self, subscription_id: str, account: str | None) -> str:
        """The id of the subscription's one item. Ours always have one (a tier, or a
        tenant's seats); anything else was made outside the platform, and changing "the"
        item would be a guess."""
        current = self._call(
            self._client.v1.subscriptions.retrieve, subscription_id, account=account
        )
        items = _list_data(current.get("items"))
        if len(items) != 1:
            raise GatewayError(
                "This subscription has several items; change it in the Stripe dashboard.",
                code="multiple_items",
            )
        return str(items[0]["id"])

    # Invoices and refunds ---------------------------------------------------------------
    def invoice_retrieve(self, invoice_id: str, *, account: str | None) -> Invoice:
        data = self._call(self._client.v1.invoices.retrieve, invoice_id, account=account)
        charge = _id_of(data.get("charge"))
        payment_intent = _id_of(data.get("payment_intent"))
        if "charge" not in data and "payment_intent" not in data and data.get("status") == "paid":
            # API "basil" removed both from the invoice; they live on its payments.
            charge, payment_intent = self._invoice_payment_ids(invoice_id, account=account)
        return _invoice(data, charge=charge, payment_intent=payment_intent)

    def refund_create(
        self,
        *,
        charge: str,
        amount: int | None,
        account: str | None,
        idempotency_key: str,
    ) -> Refund:
        """Full when `amount` is None, else partial (minor units)."""
        params: dict[str, Any] = {"charge": charge}
        if amount is not None:
            if amount <= 0:
                raise ValueError(f"a partial refund needs amount > 0 minor units, got {amount}")
            params["amount"] = amount
        data = self._call(
            self._client.v1.refunds.create,
            params=params,
            account=account,
            idempotency_key=idempotency_key,
        )
        return Refund(
            id=data["id"],
            amount=int(data.get("amount") or 0),
            currency=str(data.get("currency") or ""),
            status=str(data.get("status") or ""),
            charge=_id_of(data.get("charge")),
        )

    # Webhooks ---------------------------------------------------------------------------
    def construct_event(self, payload: bytes, signature_header: str) -> Event:
        """Verify the signature and timestamp (Stripe's 300 s tolerance) and parse; raises
        SignatureError on any failure."""
        if not self._webhook_secret:
            # An empty secret would make any HMAC "verify"; refuse rather than accept.
            raise SignatureError("Webhook secret is not configured.", code="not_configured")
        try:
            stripe.Webhook.construct_event(
                payload, signature_header or "", self._webhook_secret, tolerance=WEBHOOK_TOLERANCE_S
            )
            raw = json.loads(payload)
        except stripe.SignatureVerificationError as exc:
            raise SignatureError(
                "Webhook signature did not verify.", code="invalid_signature"
            ) from exc
        except ValueError as exc:  # bad JSON or bad UTF-8, after a valid signature
            raise SignatureError("Webhook payload is not JSON.", code="invalid_payload") from exc
        try:
            obj = raw["data"]["object"]
            return Event(
                id=str(raw["id"]),
                type=str(raw["type"]),
                account=raw.get("account") or None,
                created=_dt(raw["created"]) or _now(),
                object_type=str(obj.get("object") or ""),
                object_id=str(obj.get("id") or ""),
                data=dict(obj),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise SignatureError(
                "Webhook payload is not a Stripe event.", code="invalid_payload"
            ) from exc

    # Private ----------------------------------------------------------------------------
    def _call(
        self,
        method: Callable[..., Any],
        *args: Any,
        params: Mapping[str, Any] | None = None,
        account: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Run one stripe-python service call and return Stripe's JSON as a plain dict.

        Create calls must pass `idempotency_key`: a network retry or a re-run Celery task
        then gets the first answer instead of a second customer or charge."""
        if not self.configured:
            raise GatewayError("Billing is not configured.", code="not_configured")
        options: dict[str, Any] = {}
        if idempotency_key is not None:
            if not idempotency_key:
                raise ValueError("idempotency_key must not be empty")
            options["idempotency_key"] = idempotency_key
        if account:
            options["stripe_account"] = account
        try:
            obj = method(*args, params=dict(params or {}), options=options)
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        # The parsed JSON of the response: plain dicts, no StripeObject leaves this module.
        response = getattr(obj, "last_response", None)
        if response is not None and isinstance(response.data, dict):
            return response.data
        return json.loads(str(obj))

    def _invoice_payment_ids(
        self, invoice_id: str, *, account: str | None
    ) -> tuple[str | None, str | None]:
        """Charge and PaymentIntent of a paid invoice under API "basil" (best effort: a
        refund needs the charge, the mirror can live without it)."""
        try:
            payments = self._call(
                self._client.v1.invoice_payments.list,
                params={"invoice": invoice_id},
                account=account,
            )
            for row in _list_data(payments):
                payment = row.get("payment") or {}
                charge = _id_of(payment.get("charge"))
                payment_intent = _id_of(payment.get("payment_intent"))
                if charge is None and payment_intent:
                    intent = self._call(
                        self._client.v1.payment_intents.retrieve, payment_intent, account=account
                    )
                    charge = _id_of(intent.get("latest_charge"))
                if charge or payment_intent:
                    return charge, payment_intent
        except GatewayError:
            pass
        return None, None


# Mapping helpers: Stripe JSON -> our dataclasses ------------------------------------------
def _gateway_error(exc: stripe.StripeError) -> GatewayError:
    code = str(getattr(exc, "code", None) or "")
    if not code:
        if isinstance(exc, stripe.APIConnectionError):
            code = "api_connection_error"
        elif isinstance(exc, stripe.AuthenticationError):
            code = "authentication_error"
        elif isinstance(exc, stripe.RateLimitError):
            code = "rate_limit"
        elif isinstance(exc, stripe.CardError):
            code = "card_error"
    if isinstance(exc, stripe.APIConnectionError):
        message = "Stripe could not be reached. Please try again."
    else:
        message = getattr(exc, "user_message", None) or "Stripe refused the request."
    return GatewayError(str(message), code=code, http_status=getattr(exc, "http_status", None))


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


def _dt(value: Any) -> datetime.datetime | None:
    """Stripe timestamps are Unix seconds; we only ever hold aware UTC datetimes."""
    if value is None or value == "":
        return None
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)


def _id_of(value: Any) -> str | None:
    """A reference Stripe may send as an id or as an expanded object."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        return _id_of(value.get("id"))
    return str(value)


def _metadata(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


def _list_data(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, Mapping):
        return list(value.get("data") or [])
    return list(value or [])


def _account(data: Mapping[str, Any]) -> Account:
    return Account(
        id=data["id"],
        charges_enabled=bool(data.get("charges_enabled")),
        payouts_enabled=bool(data.get("payouts_enabled")),
        details_submitted=bool(data.get("details_submitted")),
    )


def _price(data: Mapping[str, Any]) -> Price:
    recurring = data.get("recurring") or {}
    return Price(
        id=data["id"],
        product=_id_of(data.get("product")) or "",
        unit_amount=int(data.get("unit_amount") or 0),
        currency=str(data.get("currency") or "").lower(),
        interval=str(recurring.get("interval") or ""),
        active=bool(data.get("active", True)),
    )


def _subscription(data: Mapping[str, Any]) -> Subscription:
    items = _list_data(data.get("items"))
    item = items[0] if items else {}
    # "basil" prices live on the item; localstripe (and pre-2018 objects) only know plans.
    price = _id_of(item.get("price")) or _id_of(item.get("plan")) or _id_of(data.get("plan"))
    # "basil" moved the billing period from the subscription onto each item.
    start = data.get("current_period_start") or item.get("current_period_start")
    end = data.get("current_period_end") or item.get("current_period_end")
    return Subscription(
        id=data["id"],
        customer=_id_of(data.get("customer")) or "",
        status=str(data.get("status") or ""),
        price=price or "",
        current_period_start=_dt(start),
        current_period_end=_dt(end),
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        canceled_at=_dt(data.get("canceled_at")),
        trial_end=_dt(data.get("trial_end")),
        latest_invoice=_id_of(data.get("latest_invoice")),
        metadata=_metadata(data.get("metadata")),
        quantity=int(item.get("quantity") or 1),
    )


def _invoice(data: Mapping[str, Any], *, charge: str | None, payment_intent: str | None) -> Invoice:
    subscription = _id_of(data.get("subscription"))
    if subscription is None:  # "basil": invoice.parent.subscription_details.subscription
        details = (data.get("parent") or {}).get("subscription_details") or {}
        subscription = _id_of(details.get("subscription"))
    fee = data.get("application_fee_amount")
    return Invoice(
        id=data["id"],
        customer=_id_of(data.get("customer")) or "",
        subscription=subscription,
        status=str(data.get("status") or ""),
        amount_due=int(data.get("amount_due") or 0),
        amount_paid=int(data.get("amount_paid") or 0),
        currency=str(data.get("currency") or "").lower(),
        number=data.get("number") or None,
        hosted_invoice_url=data.get("hosted_invoice_url") or None,
        charge=charge,
        payment_intent=payment_intent,
        application_fee_amount=int(fee) if fee is not None else None,
        period_start=_dt(data.get("period_start")),
        period_end=_dt(data.get("period_end")),
        created=_dt(data.get("created")) or _now(),
    )


def _with_session_placeholder(url: str) -> str:
    """Stripe only substitutes the session id where the URL asks for it; the return page
    needs it to confirm the session, so add it when the caller's URL lacks it."""
    if CHECKOUT_SESSION_PLACEHOLDER in url:
        return url
    parts = urlsplit(url)
    separator = "&" if parts.query else "?"
    base, hash_, fragment = url.partition("#")
    return f"{base}{separator}session_id={CHECKOUT_SESSION_PLACEHOLDER}{hash_}{fragment}"
