"""What billing exports and erases for a client (athletes/privacy.py registries).

Imported from `BillingConfig.ready()`. Stripe is the system of record for money, so:
- the Stripe customer is deleted through the gateway (name, e-mail, cards), then our
  mirror rows (customer, subscriptions, entitlement) are deleted;
- invoices are money records kept for the legal retention period: erasure keeps amounts,
  dates and Stripe ids, cuts the link to the athlete and marks them `pseudonymised`
  (the hosted invoice URL shows the client's name and address, so it goes too).
Adding a billing model that relates to a client: register it here.
"""

from __future__ import annotations

import logging

from athletes.models import AthleteProfile
from athletes.privacy import (
    delete_by,
    note,
    register_athlete_model,
    register_eraser,
    register_exporter,
    register_not_personal,
    rows_by,
)
from billing import selectors, services
from billing.gateway import Gateway
from billing.models import (
    BillingAccount,
    Customer,
    Entitlement,
    Invoice,
    Subscription,
    TenantPlan,
    TierPrice,
    WebhookEvent,
)

logger = logging.getLogger(__name__)


def customer_erase(athlete: AthleteProfile) -> int:
    """Delete the Stripe customer first: if Stripe refuses, the GatewayError rolls the
    whole erasure back and the next run retries, rather than forgetting the id."""
    customers = list(Customer.objects.filter(athlete=athlete))
    services.webhook_payloads_forget_customer([c.stripe_customer_id for c in customers])
    if customers:
        stripe = Gateway.from_settings()
        if stripe.configured:
            row = selectors.billing_account()
            account = (row.stripe_account_id or None) if row is not None else None
            for customer in customers:
                stripe.customer_delete(customer.stripe_customer_id, account=account)
        else:
            note("Billing is not configured: the Stripe customer was not deleted there.")
            logger.warning("erasure: billing not configured, Stripe customer left in Stripe")
    return delete_by(Customer)(athlete)


def invoice_pseudonymise(athlete: AthleteProfile) -> int:
    return Invoice.objects.filter(athlete=athlete).update(
        athlete=None, pseudonymised=True, hosted_invoice_url=""
    )


register_athlete_model(Entitlement, name="entitlement", order=60)
register_exporter(Invoice, name="invoices", rows=rows_by(Invoice), tabular=True)
# Before subscriptions: deleting those would null `Invoice.subscription` anyway.
register_eraser(Invoice, erase=invoice_pseudonymise, order=60)
register_athlete_model(Subscription, name="subscriptions", tabular=True, order=70)
register_exporter(Customer, name="billing_customer", rows=rows_by(Customer))
register_eraser(Customer, erase=customer_erase, order=80)

register_not_personal(TierPrice, "A tier's Stripe price; no relation to a person.")
register_not_personal(BillingAccount, "The tenant's Stripe Connect account (a business).")
register_not_personal(TenantPlan, "What the platform bills a tenant (a business).")
register_not_personal(
    WebhookEvent,
    "Raw Stripe events kept for idempotency, platform data with no FK to a person. "
    "Payloads can quote a customer's e-mail: they are blanked after "
    "STRIPE_EVENT_PAYLOAD_DAYS (billing.prune_webhook_payloads) and at once when the "
    "customer is erased (customer_erase).",
)
