"""Test support for billing: a real localstripe process, a recording fake for the Stripe
endpoints localstripe lacks, and webhook signing exactly like Stripe's.

No stripe-python here on purpose: the helpers speak plain HTTP, so what the tests set up
in localstripe (legacy plans, subscriptions, failed payments) can't hide a bug in
`billing/gateway.py`, which is the code under test.

Adding an endpoint to the fake: add a branch to `RecordingStripe._answer` that returns a
Stripe-shaped object (with `id` and `object`), store it in `objects` if a later GET/POST
on it must see the same state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from billing.gateway import Gateway

API_KEY = "sk_test_local"
WEBHOOK_SECRET = "whsec_test_local"
START_TIMEOUT_S = 15.0


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header built like Stripe's: `t=<ts>,v1=<hex hmac_sha256(secret,
    "<ts>.<payload>")>`. Pass an old `timestamp` to build a stale (replayed) delivery."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    signed = f"{ts}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


_event_ids = itertools.count(1)


def event_payload(
    type: str,
    obj: dict[str, Any],
    *,
    account: str | None = None,
    event_id: str | None = None,
    created: int | None = None,
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Stripe event envelope around `obj` (a dict with at least `id` and `object`), as
    Stripe posts it: `account` is set only for events on a connected account."""
    event: dict[str, Any] = {
        "id": event_id or f"evt_test_{os.getpid()}_{next(_event_ids)}",
        "object": "event",
        "api_version": "2025-08-27.basil",
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
        "data": {"object": obj},
    }
    if previous_attributes is not None:
        event["data"]["previous_attributes"] = previous_attributes
    if account:
        event["account"] = account
    return event


def signed(
    event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[bytes, str]:
    """The bytes Stripe would POST and the matching Stripe-Signature header."""
    payload = json.dumps(event, indent=2).encode()
    return payload, sign(payload, secret, timestamp)


def encode_form(params: dict[str, Any]) -> str:
    """Stripe's form encoding: nested dicts as `a[b]`, lists as `a[0]`, bools as
    true/false, None left out."""
    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}[{key}]" if prefix else str(key), inner)
        elif isinstance(value, list | tuple):
            for index, inner in enumerate(value):
                walk(f"{prefix}[{index}]", inner)
        elif isinstance(value, bool):
            pairs.append((prefix, "true" if value else "false"))
        else:
            pairs.append((prefix, str(value)))

    walk("", params)
    return urlencode(pairs)


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StripeHTTPError(Exception):
    """localstripe answered with an error; `body` is its JSON error object."""

    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class LocalStripe:
    """A running localstripe and raw-HTTP helpers for what the gateway doesn't do
    (legacy plans, direct subscriptions, paying an invoice off-cycle).

    localstripe keeps one global store: it ignores `Stripe-Account` (every connected
    account sees every object) and `Idempotency-Key`, and knows no Prices, Checkout or
    Billing Portal. Subscriptions use legacy plans; `trial_period_days` leaves the status
    at "incomplete" (it has no "trialing"). Test cards (payment method ids):
    "pm_card_visa" pays; "pm_card_chargeCustomerFail" (4000000000000341) attaches but
    every charge is declined; "pm_card_visa_chargeDeclined" (4000000000000002) is declined
    when attached (402 card_declined)."""

    def __init__(self, url: str, *, api_key: str = API_KEY):
        self.url = url.rstrip("/")
        self.api_key = api_key

    def request(
        self, method: str, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = encode_form(params or {}).encode() if method != "GET" else None
        url = self.url + path
        if method == "GET" and params:
            url += "?" + encode_form(params)
        token = base64.b64encode(f"{self.api_key}:".encode()).decode()
        req = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - loopback
        req.add_header("Authorization", f"Basic {token}")
        if body is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            text = exc.read()
            try:
                error = json.loads(text)
            except ValueError:
                error = {"error": {"message": text.decode(errors="replace")}}
            raise StripeHTTPError(exc.code, error) from exc
        return json.loads(raw) if raw.strip() else {}

    def plan_create(
        self,
        *,
        product: str,
        amount: int,
        currency: str = "eur",
        interval: str = "month",
        plan_id: str | None = None,
    ) -> str:
        """A legacy Plan: localstripe's stand-in for a Price (same id slot on items)."""
        params: dict[str, Any] = {
            "product": product,
            "amount": amount,
            "currency": currency,
            "interval": interval,
        }
        if plan_id:
            params["id"] = plan_id
        return str(self.request("POST", "/v1/plans", params)["id"])

    def subscription_create(
        self,
        *,
        customer: str,
        plan: str,
        metadata: dict[str, str] | None = None,
        trial_period_days: int | None = None,
        payment_behavior: str | None = None,
    ) -> dict[str, Any]:
        """What Checkout would have created. Charges the customer's default card at once
        (no trial): a declining card leaves it "incomplete" (or, with
        `payment_behavior="error_if_incomplete"`, a 402 card_declined)."""
        return self.request(
            "POST",
            "/v1/subscriptions",
            {
                "customer": customer,
                "items": [{"plan": plan}],
                "metadata": metadata or {},
                "trial_period_days": trial_period_days,
                "payment_behavior": payment_behavior,
            },
        )

    def customer_default_card(self, customer: str, payment_method: str) -> None:
        """Swap the card future invoices are charged to (e.g. to a declining one)."""
        self.request(
            "POST",
            f"/v1/customers/{customer}",
            {"invoice_settings": {"default_payment_method": payment_method}},
        )

    def subscription_switch_plan(self, subscription: str, plan: str) -> dict[str, Any]:
        """localstripe's only way to bill an existing subscription again: moving it to a
        plan with a different interval (month <-> year) invoices and charges at once.
        With a declining default card an active subscription becomes past_due (invoice
        open); with a working card a past_due one becomes active again (invoice paid).
        (POST /v1/invoices + /pay charges but never touches the subscription's status.)"""
        return self.request(
            "POST", f"/v1/subscriptions/{subscription}", {"items": [{"plan": plan}]}
        )

    def subscription_delete(self, subscription: str) -> dict[str, Any]:
        """Cancel now: status "canceled" (localstripe sets `ended_at`, not `canceled_at`)."""
        return self.request("DELETE", f"/v1/subscriptions/{subscription}")

    def register_webhook(
        self, url: str, *, secret: str = WEBHOOK_SECRET, events: list[str] | None = None
    ) -> None:
        """Make localstripe POST its own signed events to `url` (about 1 s after each
        change)."""
        params: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            params["events"] = events
        self.request("POST", "/_config/webhooks/test", params)

    def flush(self) -> None:
        """Forget every object (localstripe's DELETE /_config/data)."""
        self.request("DELETE", "/_config/data")


def localstripe_command(port: int) -> list[str]:
    """The console script installed beside the running interpreter (the venv's)."""
    script = Path(sys.executable).parent / "localstripe"
    # --from-scratch: localstripe otherwise reloads /tmp/localstripe.pickle, the store
    # any other localstripe on this machine last dumped.
    return [str(script), "--port", str(port), "--from-scratch"]


class LocalStripeProcess:
    """Start, wait for, and stop one localstripe on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.NamedTemporaryFile(  # closed in stop()
            prefix="localstripe-", suffix=".log", delete=False
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = START_TIMEOUT_S) -> LocalStripe:
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, our own venv
            localstripe_command(self.port),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        client = LocalStripe(self.url)
        deadline = time.monotonic() + timeout_s
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"localstripe exited early:\n{self.log()}")
            try:
                client.request("GET", "/v1/customers", {"limit": 1})
                return client
            except (OSError, StripeHTTPError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"localstripe did not answer on {self.url} within {timeout_s:.0f} s:"
                        f"\n{self.log()}"
                    ) from None
                time.sleep(0.1)

    def log(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)


@dataclass
class RecordedRequest:
    """One request as the fake received it. `params` is the form body (or query string)
    decoded to lists, keyed by Stripe's flattened names (`line_items[0][price]`);
    `headers` look up case-insensitively (`headers["Idempotency-Key"]`)."""

    method: str
    path: str
    params: dict[str, list[str]]
    body: bytes
    headers: Message

    def param(self, key: str) -> str | None:
        values = self.params.get(key)
        return values[0] if values else None


@dataclass
class _Failure:
    status: int
    error: dict[str, Any]


@dataclass
class RecordingStripe:
    """A stdlib HTTP server that answers Stripe-shaped JSON for the calls localstripe
    lacks (Checkout, Billing Portal, Prices, Connect accounts and links, Products,
    subscription retrieve/update) and records every request for contract tests."""

    url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    gateway: Gateway = field(init=False)  # set by RecordingServer once the port is known
    _failures: list[_Failure] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def seed(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Make a later GET/POST on `obj["id"]` answer this object."""
        self.objects[obj["id"]] = obj
        return obj

    def fail_next(self, status: int, **error: Any) -> None:
        """Answer the next request with a Stripe error, e.g.
        `fail_next(402, type="card_error", code="card_declined", message="...")`."""
        error.setdefault("type", "invalid_request_error")
        self._failures.append(_Failure(status, error))

    def last(self, method: str, path: str) -> RecordedRequest:
        matches = [r for r in self.requests if r.method == method and r.path == path]
        assert matches, f"no {method} {path} among {[(r.method, r.path) for r in self.requests]}"
        return matches[-1]

    @property
    def deleted(self) -> list[tuple[str, str | None]]:
        """Customers deleted through the API: (customer id, Stripe-Account or None)."""
        return [
            (r.path.rsplit("/", 1)[1], r.headers.get("Stripe-Account"))
            for r in self.requests
            if r.method == "DELETE" and r.path.startswith("/v1/customers/")
        ]

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids)}"

    def _handle(self, method: str, path: str, params: dict[str, list[str]]) -> tuple[int, Any]:
        with self._lock:
            if self._failures:
                failure = self._failures.pop(0)
                return failure.status, {"error": failure.error}
            return self._answer(method, path, params)

    def _answer(self, method: str, path: str, params: dict[str, list[str]]) -> tuple[int, Any]:
        def one(key: str, default: str | None = None) -> str | None:
            values = params.get(key)
            return values[0] if values else default

        def metadata(prefix: str) -> dict[str, str]:
            found = {}
            name = f"{prefix}[metadata]" if prefix else "metadata"
            for key, values in params.items():
                match = re.fullmatch(re.escape(name) + r"\[(.+)\]", key)
                if match:
                    found[match.group(1)] = values[0]
            return found

        now = int(time.time())
        if method == "POST" and path == "/v1/checkout/sessions":
            sid = self._new_id("cs_test")
            return 200, {
                "id": sid,
                "object": "checkout.session",
                "mode": one("mode"),
                "url": f"https://checkout.stripe.test/c/pay/{sid}",
                "customer": one("customer"),
                "subscription": None,
                "success_url": one("success_url"),
                "cancel_url": one("cancel_url"),
                "metadata": metadata(""),
                "status": "open",
            }
        if method == "POST" and path == "/v1/billing_portal/sessions":
            sid = self._new_id("bps")
            return 200, {
                "id": sid,
                "object": "billing_portal.session",
                "customer": one("customer"),
                "return_url": one("return_url"),
                "url": f"https://billing.stripe.test/p/session/{sid}",
            }
        if method == "POST" and path in ("/v1/products", "/v1/prices", "/v1/accounts"):
            kind = path.rsplit("/", 1)[1][:-1]
            obj: dict[str, Any] = {
                "id": self._new_id({"product": "prod", "price": "price", "account": "acct"}[kind]),
                "object": kind,
                "created": now,
                "metadata": metadata(""),
            }
            if kind == "product":
                obj.update(name=one("name"), active=True)
            elif kind == "price":
                obj.update(
                    product=one("product"),
                    unit_amount=int(one("unit_amount") or 0),
                    currency=one("currency"),
                    recurring={"interval": one("recurring[interval]"), "interval_count": 1},
                    active=True,
                    type="recurring",
                )
            else:
                obj.update(
                    type=one("type"),
                    email=one("email"),
                    country=one("country"),
                    charges_enabled=False,
                    payouts_enabled=False,
                    details_submitted=False,
                )
            return 200, self.seed(obj)
        if method == "POST" and path == "/v1/account_links":
            return 200, {
                "object": "account_link",
                "created": now,
                "expires_at": now + 300,
                "url": f"https://connect.stripe.test/setup/e/{one('account')}/{next(self._ids)}",
            }
        if method == "DELETE" and path.startswith("/v1/customers/"):
            # Erasure: Stripe answers a deleted-customer stub (for any id here; the
            # contract tests against localstripe cover "no such customer").
            return 200, {"id": path.rsplit("/", 1)[1], "object": "customer", "deleted": True}
        match = re.fullmatch(r"/v1/(accounts|products|prices|subscriptions)/([^/]+)", path)
        if match:
            obj_id = match.group(2)
            existing = self.objects.get(obj_id)
            if existing is None:
                return 404, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "message": f"No such {match.group(1)[:-1]}: '{obj_id}'",
                        "param": "id",
                    }
                }
            if method == "POST":
                self._update(existing, params)
            return 200, existing
        return 404, {
            "error": {
                "type": "invalid_request_error",
                "message": f"Unrecognized request URL ({method}: {path}).",
            }
        }

    @staticmethod
    def _update(obj: dict[str, Any], params: dict[str, list[str]]) -> None:
        for key, values in params.items():
            value: Any = values[0]
            if value in ("true", "false"):
                value = value == "true"
            if key in ("name", "active", "cancel_at_period_end"):
                obj[key] = value
        price = params.get("items[0][price]")
        if price and obj.get("object") == "subscription":
            item = obj["items"]["data"][0]
            item["price"] = {**item.get("price", {}), "id": price[0], "object": "price"}


def subscription_object(
    *,
    sub_id: str = "sub_fake1",
    customer: str = "cus_fake1",
    price: str = "price_fake1",
    status: str = "active",
    metadata: dict[str, str] | None = None,
    period_start: int | None = None,
    period_end: int | None = None,
) -> dict[str, Any]:
    """A subscription as API "basil" returns it: price and billing period on the item."""
    start = int(time.time()) if period_start is None else period_start
    end = start + 30 * 86400 if period_end is None else period_end
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "trial_end": None,
        "latest_invoice": "in_fake1",
        "metadata": metadata or {},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_fake1",
                    "object": "subscription_item",
                    "price": {"id": price, "object": "price"},
                    "quantity": 1,
                    "current_period_start": start,
                    "current_period_end": end,
                }
            ],
        },
    }


class _Handler(BaseHTTPRequestHandler):
    server: _RecordingHTTPServer

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        source = body.decode(errors="replace") if body else parts.query
        params = parse_qs(source, keep_blank_values=True)
        fake = self.server.fake
        fake.requests.append(RecordedRequest(self.command, parts.path, params, body, self.headers))
        status, payload = fake._handle(self.command, parts.path, params)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_fake{len(fake.requests)}")
        self.end_headers()
        self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line."""


class _RecordingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: RecordingStripe):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class RecordingServer:
    """Runs a `RecordingStripe` on a free loopback port in a background thread."""

    def __init__(self) -> None:
        self.fake = RecordingStripe()
        self._server = _RecordingHTTPServer(self.fake)
        self.fake.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # Retries off: a scripted failure (`fail_next`) must be seen exactly once.
        self.fake.gateway = Gateway(
            api_key=API_KEY,
            api_base=self.fake.url,
            webhook_secret=WEBHOOK_SECRET,
            max_network_retries=0,
        )
        # A short poll keeps shutdown (each test's teardown) from waiting the default 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> RecordingStripe:
        self._thread.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
