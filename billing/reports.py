"""Revenue reports from the mirror (never from Stripe at read time): per tenant for its
owners, and across tenants for platform staff. Amounts in minor units of the tenant's
currency; monthly recurring revenue counts a yearly price as a twelfth a month."""

from __future__ import annotations

import csv
import datetime
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from billing.models import Invoice, Subscription, TierPrice
from billing.selectors import LIVE
from coaching.models import Tenant
from coaching.tenancy import tenant_context


@dataclass(frozen=True)
class TenantReport:
    tenant: str
    currency: str
    month: str  # YYYY-MM
    mrr: int
    active_subscribers: int
    subscribers_by_tier: dict[str, int] = field(default_factory=dict)
    new_this_month: int = 0
    churned_this_month: int = 0
    failed_payments: int = 0
    revenue: int = 0  # paid this month, less refunds of this month's invoices
    platform_fees: int = 0


def _month_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.date(day.year, day.month, 1)
    end = datetime.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time(), tz),
        datetime.datetime.combine(end, datetime.time(), tz),
    )


def tenant_report(tenant: Tenant, day: datetime.date | None = None) -> TenantReport:
    """Inside the tenant's context: a constant number of queries."""
    day = day or timezone.localdate()
    start, end = _month_bounds(day)
    prices = {
        p.price_id: (p.unit_amount, p.interval)
        for p in TierPrice.objects.all().only("price_id", "unit_amount", "interval")
    }
    subs = list(Subscription.objects.select_related("tier"))
    live = [s for s in subs if s.status in LIVE]
    mrr = 0
    for sub in live:
        amount, interval = prices.get(sub.price_id, (0, "month"))
        mrr += amount // 12 if interval == "year" else amount
    by_tier = Counter(s.tier.name if s.tier else "(unknown tier)" for s in live)
    invoices = list(
        Invoice.objects.filter(issued__gte=start, issued__lt=end).only(
            "amount_paid", "amount_refunded", "application_fee_amount", "payment_failed_at",
            "status",
        )
    )  # fmt: skip
    paid = [i for i in invoices if i.status == "paid"]
    return TenantReport(
        tenant=tenant.slug,
        currency=tenant.currency,
        month=f"{day:%Y-%m}",
        mrr=mrr,
        active_subscribers=len(live),
        subscribers_by_tier=dict(sorted(by_tier.items())),
        new_this_month=sum(1 for s in subs if start <= s.created < end),
        churned_this_month=sum(
            1
            for s in subs
            if s.status == "canceled" and s.canceled_at and start <= s.canceled_at < end
        ),
        failed_payments=sum(1 for i in invoices if i.payment_failed_at is not None),
        revenue=sum(i.amount_paid - i.amount_refunded for i in paid),
        platform_fees=sum(i.application_fee_amount for i in paid),
    )


def platform_report(day: datetime.date | None = None) -> list[TenantReport]:
    """Every tenant's report (platform staff): each read in its own tenant context, as
    row-level security requires."""
    out = []
    for tenant in Tenant.objects.order_by("slug"):
        with tenant_context(tenant):
            out.append(tenant_report(tenant, day))
    return out


def invoices_csv(invoices: Iterable[Invoice]) -> str:
    """Invoices for the accountant: amounts in minor units, as Stripe records them."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["issued", "number", "stripe_invoice_id", "client", "status", "currency", "amount_due",
         "amount_paid", "amount_refunded", "platform_fee", "period_start", "period_end"]
    )  # fmt: skip
    for inv in invoices:
        writer.writerow(
            [inv.issued.date().isoformat(), inv.number, inv.stripe_invoice_id,
             inv.athlete.display_name if inv.athlete else "(erased client)", inv.status,
             inv.currency, inv.amount_due,
             inv.amount_paid, inv.amount_refunded, inv.application_fee_amount,
             inv.period_start.date().isoformat() if inv.period_start else "",
             inv.period_end.date().isoformat() if inv.period_end else ""]
        )  # fmt: skip
    return out.getvalue()
