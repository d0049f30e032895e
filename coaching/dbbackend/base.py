"""Django's PostgreSQL backend, plus: every transaction carries the current tenant.

Row-level security policies read `current_setting('app.tenant_id', true)`. We set it
with `set_config(..., true)`, which lasts only until the end of the transaction: a
session-level setting would leak to the next request through a pooled connection.

Rule: before any statement, if the tenant in context differs from what this
transaction has been told, tell it. Statements outside a transaction (autocommit) are
wrapped in one so the setting applies to them too. Commit, rollback and rollback to a
savepoint forget what the transaction was told, so the next statement sets it again.
"""

from typing import Any

from django.db import transaction
from django.db.backends.postgresql import base

from coaching.context import current_tenant_id_or_none

_UNKNOWN = object()
# Transaction control runs as is: it carries no data, and after an error the
# transaction accepts nothing but the rollback.
_CONTROL = ("SAVEPOINT", "ROLLBACK TO SAVEPOINT", "RELEASE SAVEPOINT")


def _set_tenant_guc(execute: Any, sql: Any, params: Any, many: bool, context: dict) -> Any:
    connection = context["connection"]
    if isinstance(sql, str) and sql.startswith(_CONTROL):
        return execute(sql, params, many, context)
    tenant_id = current_tenant_id_or_none()
    if connection.in_atomic_block or not connection.get_autocommit():
        connection.ensure_tenant_setting(tenant_id)
        return execute(sql, params, many, context)
    if tenant_id is None:
        # A fresh implicit transaction starts with the setting empty: nothing to do.
        return execute(sql, params, many, context)
    with transaction.atomic(using=connection.alias):
        connection.ensure_tenant_setting(tenant_id)
        return execute(sql, params, many, context)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tenant_told = _UNKNOWN
        self.execute_wrappers.append(_set_tenant_guc)

    def ensure_tenant_setting(self, tenant_id: int | None) -> None:
        if self._tenant_told is not _UNKNOWN and self._tenant_told == tenant_id:
            return
        # A raw cursor of its own: the caller's may be a named (server-side) cursor.
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('app.tenant_id', %s, true)",
                ["" if tenant_id is None else str(tenant_id)],
            )
        self._tenant_told = tenant_id

    def forget_tenant_setting(self) -> None:
        self._tenant_told = _UNKNOWN

    def _commit(self) -> None:
        self.forget_tenant_setting()
        super()._commit()

    def _rollback(self) -> None:
        self.forget_tenant_setting()
        super()._rollback()

    def _savepoint_rollback(self, sid: str) -> None:
        super()._savepoint_rollback(sid)
        # A set_config made inside the savepoint is undone with it.
        self.forget_tenant_setting()

    def _set_autocommit(self, autocommit: bool) -> None:
        self.forget_tenant_setting()
        super()._set_autocommit(autocommit)

    def connect(self) -> None:
        self.forget_tenant_setting()
        super().connect()
