"""Test harness: real PostgreSQL with row-level security on, as in production.

The test database is created and migrated by the owner role (settings DATABASE_URL);
then the default connection is switched to the application role, which owns no table,
so every test query is subject to RLS. Personas: owner, coach and client in tenant A,
and a client in tenant B.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connections
from hypothesis import settings as hypothesis_settings

from tests import factories

# Property tests check behaviour, never speed: no per-example deadline on a shared machine.
hypothesis_settings.register_profile("project", deadline=None)
hypothesis_settings.load_profile("project")


def _reconnect_as(user: str) -> None:
    connection = connections["default"]
    connection.close()
    connection.settings_dict["USER"] = user


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    owner = connections["default"].settings_dict["USER"]
    with django_db_blocker.unblock():
        with connections["default"].cursor() as cursor:
            # Test-only: flushes between transactional tests need TRUNCATE, which would
            # bypass RLS; the production app role never gets it.
            cursor.execute(
                f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{settings.DATABASE_APP_ROLE}"'
            )
    _reconnect_as(settings.DATABASE_APP_ROLE)
    yield
    _reconnect_as(owner)


@pytest.fixture
def owner_connection(django_db_blocker):
    """A separate connection as the table owner, for catalog checks and raw setup."""
    import psycopg

    db = connections["default"].settings_dict
    conninfo = (
        f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} "
        f"dbname={db['NAME']} user=postgres"
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        yield conn


@pytest.fixture
def tenant_a(db):
    return factories.TenantFactory(slug="alpha", name="Alpha Strength")


@pytest.fixture
def tenant_b(db):
    return factories.TenantFactory(slug="bravo", name="Bravo Endurance")


@pytest.fixture
def owner_a(tenant_a):
    return factories.member(tenant_a, "owner", email="owner@alpha.test", mfa=True)


@pytest.fixture
def coach_a(tenant_a):
    return factories.member(tenant_a, "coach", email="coach@alpha.test", mfa=True)


@pytest.fixture
def client_a(tenant_a):
    return factories.member(tenant_a, "client", email="client@alpha.test")


@pytest.fixture
def client_b(tenant_b):
    return factories.member(tenant_b, "client", email="client@bravo.test")


@pytest.fixture
def shared_private_root(tmp_path, monkeypatch, settings):
    """PRIVATE_MEDIA_ROOT for this process and a worker it starts: list the fixture before
    `worker`, so the worker inherits the environment variable."""
    root = tmp_path / "private"
    monkeypatch.setenv("PRIVATE_MEDIA_ROOT", str(root))
    settings.PRIVATE_MEDIA_ROOT = root
    return root
