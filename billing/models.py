"""Billing mirrors what Stripe says (DESIGN.md, Billing): Stripe is the system of record
for money. Rows here are copies refreshed from Stripe when a webhook names them, plus the
one thing the product reads: each client's `Entitlement`.

Amounts are integers in minor units (cents), as Stripe counts them, so no float or
rounding ever touches money.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from athletes.models import AthleteProfile
from coaching.tenancy import TenantScoped


class BillingAccount(models.Model):
    """The platform's record of a tenant's own Stripe account (Connect), its fee and its
    billing settings. Platform data, not tenant data: a webhook is routed to its tenant by
    the account id before any tenant is known, which row-level security would hide."""

    tenant = models.OneToOneField(
        "coaching.Tenant", on_delete=models.CASCADE, related_name="billing_account"
    )
    stripe_account_id = models.CharField(max_length=64, blank=True, db_index=True)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    # The platform's cut of every subscription, set per tenant plan by platform staff.
    application_fee_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(0), MaxValueValidator(50)],
    )
    grace_days = models.PositiveSmallIntegerField(
        default=7, validators=[MaxValueValidator(60)], help_text="Access kept while past due."
    )
    trial_days = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(90)])
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.stripe_account_id or "not connected"

    @property
    def can_sell(self) -> bool:
        return bool(self.stripe_account_id) and self.charges_enabled


class TierPrice(TenantScoped):
    """The Stripe Product and Price selling a tier. Prices are immutable in Stripe, so a
    new tier price makes a new row and retires the old one."""

    tier = models.ForeignKey("coaching.Tier", on_delete=models.RESTRICT, related_name="+")
    product_id = models.CharField(max_length=64)
    price_id = models.CharField(max_length=64)
    unit_amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    interval = models.CharField(max_length=8)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "price_id"], name="tierprice_unique_price"),
        ]

    def __str__(self) -> str:
        return f"{self.price_id} ({self.unit_amount} {self.currency}/{self.interval})"


class Customer(TenantScoped):
    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    stripe_customer_id = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "athlete"], name="customer_unique_athlete"),
            models.UniqueConstraint(
                fields=["tenant", "stripe_customer_id"], name="customer_unique_stripe_id"
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_customer_id


class Subscription(TenantScoped):
    """A client's subscription as Stripe last described it."""

    class Status(models.TextChoices):
        TRIALING = "trialing", "Trial"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Payment overdue"
        UNPAID = "unpaid", "Unpaid"
        CANCELED = "canceled", "Cancelled"
        INCOMPLETE = "incomplete", "Incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired", "Expired"
        PAUSED = "paused", "Paused"

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    tier = models.ForeignKey(
        "coaching.Tier", on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    stripe_subscription_id = models.CharField(max_length=64)
    stripe_customer_id = models.CharField(max_length=64)
    price_id = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    # When we first saw it past due: the grace period counts from here.
    past_due_since = models.DateTimeField(null=True, blank=True)
    latest_invoice = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "stripe_subscription_id"], name="subscription_unique_stripe_id"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "athlete"])]

    def __str__(self) -> str:
        return f"{self.stripe_subscription_id} ({self.status})"


class Entitlement(TenantScoped):
    """What the product reads to decide access; derived from the subscription (or a comp),
    never from Stripe directly. `until` ends access without a webhook: the grace period's
    end, or the period end of a subscription cancelled at period end."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        GRACE = "grace", "Active while payment is retried"
        NONE = "none", "No access"

    class Source(models.TextChoices):
        SUBSCRIPTION = "subscription", "Subscription"
        COMPED = "comped", "Complimentary (granted without payment)"
        NONE = "none", "None"

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NONE)
    source = models.CharField(max_length=14, choices=Source.choices, default=Source.NONE)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    until = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete"], name="entitlement_unique_athlete"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} ({self.source})"


class Invoice(TenantScoped):
    # Money records outlive the client (legal retention): erasure cuts this link and sets
    # `pseudonymised` instead of deleting the row (privacy: billing/privacy.py).
    athlete = models.ForeignKey(
        AthleteProfile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pseudonymised = models.BooleanField(default=False)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices"
    )
    stripe_invoice_id = models.CharField(max_length=64)
    number = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16)
    amount_due = models.PositiveIntegerField(default=0)
    amount_paid = models.PositiveIntegerField(default=0)
    amount_refunded = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    application_fee_amount = models.PositiveIntegerField(default=0)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    charge_id = models.CharField(max_length=64, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    issued = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-issued", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "stripe_invoice_id"], name="invoice_unique_stripe_id"
            ),
        ]

    def __str__(self) -> str:
        return self.number or self.stripe_invoice_id


class WebhookEvent(models.Model):
    """Every verified Stripe event, stored once (UNIQUE event id) before anything acts on
    it: a redelivery finds its row and changes nothing. Not tenant-scoped: an event
    arrives before we know whose it is; `tenant_id` is filled in when it's resolved."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be processed"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Stored, nothing to do"
        FAILED = "failed", "Failed"

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=80)
    account = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    stripe_created = models.DateTimeField()
    payload = models.JSONField()
    tenant = models.ForeignKey(
        "coaching.Tenant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    received = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received"]
        indexes = [models.Index(fields=["status", "received"])]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type} ({self.status})"


class TenantPlan(models.Model):
    """What the platform charges a coaching business: a price per active client, billed
    on the platform's own Stripe account (no Connect), with the same machinery as a
    client's tier. Platform data: routed by webhook before any tenant is known."""

    tenant = models.OneToOneField(
        "coaching.Tenant", on_delete=models.CASCADE, related_name="platform_plan"
    )
    price_id = models.CharField(max_length=64, help_text="Platform price per active client.")
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=20, blank=True)
    quantity = models.PositiveIntegerField(default=0, help_text="Active clients billed.")
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        state = self.status or "not started"
        return f"{self.tenant_id}: {self.quantity} × {self.price_id} ({state})"
