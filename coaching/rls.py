"""PostgreSQL row-level security for every tenant table, installed by `migrate`.

You don't write SQL for a new tenant model: `install_row_level_security` runs after
every `migrate` (post_migrate) and, for each `TenantScoped` model whose table exists,
enables and FORCEs RLS and creates the `tenant_isolation` policy. It also makes sure
the application role (settings.DATABASE_APP_ROLE) exists and may read and write, but
owns nothing. It only issues the statements that are missing, so re-running it (and
running it as the app role, as test flushes do) changes nothing.

Extra policies: a model may declare `rls_extra_select_policies = {name: sql_predicate}`
for narrow cross-tenant reads (Membership: a user's own memberships).
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

from coaching.tenancy import is_tenant_scoped

POLICY_NAME = "tenant_isolation"
TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def tenant_tables() -> list[tuple[type, str]]:
    return [
        (model, model._meta.db_table)
        for model in apps.get_models(include_auto_created=True)
        if is_tenant_scoped(model) and not model._meta.proxy
    ]


def _statements_for(cursor, model: type, table: str) -> list[str]:
    cursor.execute(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = to_regclass(%s)",
        [table],
    )
    row = cursor.fetchone()
    if row is None:
        return []  # table not created yet (partial migrate)
    enabled, forced = row
    statements = []
    quoted = f'"{table}"'
    if not enabled:
        statements.append(f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY")
    if not forced:
        statements.append(f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY")
    wanted = {POLICY_NAME: ("ALL", TENANT_PREDICATE)}
    for name, predicate in getattr(model, "rls_extra_select_policies", {}).items():
        wanted[name] = ("SELECT", predicate)
    cursor.execute(
        "SELECT policyname FROM pg_policies WHERE schemaname = current_schema() AND tablename = %s",
        [table],
    )
    existing = {r[0] for r in cursor.fetchall()}
    for name, (command, predicate) in wanted.items():
        if name not in existing:
            statements.append(
                f'CREATE POLICY "{name}" ON {quoted} AS PERMISSIVE '
                f"FOR {command} USING ({predicate})"
            )
    return statements


def _grant_statements(cursor, role: str) -> list[str]:
    statements = []
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    role_exists = cursor.fetchone() is not None
    if not role_exists:
        statements.append(f'CREATE ROLE "{role}" LOGIN')
        missing = True
    else:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S') AND NOT "
            "CASE c.relkind WHEN 'S' THEN has_sequence_privilege(%s, c.oid, 'USAGE') "
            "ELSE has_table_privilege(%s, c.oid, 'SELECT, INSERT, UPDATE, DELETE') END",
            [role, role],
        )
        missing = cursor.fetchone()[0] > 0
    if missing:
        statements.append(f'GRANT USAGE ON SCHEMA "{_schema(cursor)}" TO "{role}"')
        statements.append(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{_schema(cursor)}" '
            f'TO "{role}"'
        )
        statements.append(
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{_schema(cursor)}" TO "{role}"'
        )
    return statements


def _schema(cursor) -> str:
    cursor.execute("SELECT current_schema()")
    return cursor.fetchone()[0]


def install_row_level_security(connection: BaseDatabaseWrapper) -> list[str]:
    """Bring RLS and the app role's grants up to date; return the statements run."""
    if connection.vendor != "postgresql":
        return []
    role = settings.DATABASE_APP_ROLE
    run: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role:
            # The app role owns nothing and may alter nothing: only the owner installs.
            return []
        statements = []
        for model, table in tenant_tables():
            statements.extend(_statements_for(cursor, model, table))
        statements.extend(_grant_statements(cursor, role))
        for statement in statements:
            cursor.execute(statement)
            run.append(statement)
    return run
