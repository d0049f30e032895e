"""Onboard a coaching business from the shell (platform staff):
`manage.py tenant_create acme --name "Acme Strength" --owner-email owner@example.com`.

Same path as the admin's add form (`coaching.lifecycle.tenant_create`): validated,
audited, default consent texts seeded, and the owner invited by e-mail.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from coaching import lifecycle
from coaching.errors import DomainError
from coaching.routing import tenant_absolute_url


class Command(BaseCommand):
    help = "Create a tenant and e-mail its owner an invitation."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="Lowercase address, e.g. acme (its subdomain).")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--timezone", default="UTC", help="IANA zone, e.g. Europe/Dublin.")
        parser.add_argument("--currency", default="EUR", help="ISO 4217 code.")
        parser.add_argument("--brand-colour", default="", help="Hex colour, e.g. #1f5fbf.")

    def handle(self, *args, **options) -> None:
        try:
            onboarded = lifecycle.tenant_create(
                slug=options["slug"],
                name=options["name"],
                timezone_name=options["timezone"],
                currency=options["currency"],
                brand_colour=options["brand_colour"],
                owner_email=options["owner_email"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        tenant = onboarded.tenant
        self.stdout.write(
            f"Created {tenant.slug} ({tenant.name}) at {tenant_absolute_url(tenant)};"
            " the owner's invitation is on its way."
        )
