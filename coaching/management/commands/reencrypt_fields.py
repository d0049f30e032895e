"""Re-encrypt every `EncryptedTextField` column with the newest key: `manage.py
reencrypt_fields` (step 2 of a key rotation, see `coaching.fields`).

Finds the fields through `apps.get_models()`, so a new encrypted field needs no change
here. Tenant tables are under row-level security: each tenant's rows are rewritten inside
`tenant_context(tenant)` through the scoped manager. Rows already on the newest key are
skipped, so the command is idempotent and can be re-run after an interruption. Legacy
plaintext rows get encrypted too.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from coaching.fields import EncryptedTextField, reencrypt_queryset
from coaching.models import Tenant
from coaching.tenancy import is_tenant_scoped, tenant_context


def encrypted_fields() -> list[tuple[type, list[str]]]:
    """(model, [field names]) for every concrete model with an encrypted field."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


class Command(BaseCommand):
    help = "Rewrite every encrypted field with the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args, **options) -> None:
        total_rewritten = total_current = 0
        for model, names in encrypted_fields():
            label = model._meta.label
            if is_tenant_scoped(model):
                scopes = [(tenant, tenant.slug) for tenant in Tenant.objects.order_by("pk")]
            else:
                scopes = [(None, "platform")]
            for tenant, scope_name in scopes:
                with tenant_context(tenant), transaction.atomic():
                    queryset = model._default_manager.all()
                    for name in names:
                        rewritten, current = reencrypt_queryset(queryset, name)
                        total_rewritten += rewritten
                        total_current += current
                        if rewritten or current:
                            self.stdout.write(
                                f"{label}.{name} [{scope_name}]: {rewritten} rewritten, "
                                f"{current} already current"
                            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {total_rewritten} value(s) rewritten, {total_current} already current."
            )
        )
