"""Journey 4 through a real browser: a client opens their settings, asks for a copy of
their data, the export job builds it, and they download the ZIP from the page's link;
the ZIP holds their data."""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from coaching.models import AuditEvent
from coaching.tenancy import tenant_context
from privacy import tasks
from privacy.models import DataRequest
from tests import factories
from tests.e2e.test_login import submit_login

pytestmark = pytest.mark.e2e

TODAY = timezone.localdate()


def test_client_requests_and_downloads_their_data_from_settings(
    page, settings, tmp_path, tenant_a, client_a, client_b, artifacts_dir
):
    # given: a client with a morning check-in, signed in on a phone-sized screen
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    factories.checkin(
        tenant_a, client_a, TODAY - datetime.timedelta(days=1), body_weight_kg=Decimal("64.2")
    )
    factories.checkin(tenant_a, client_a, TODAY, hrv_rmssd_ms=Decimal("57.5"))
    page.set_viewport_size({"width": 360, "height": 740})
    submit_login(page, "client@alpha.test", factories.PASSWORD)
    page.wait_for_url(re.compile(r"/t/alpha/"))

    # when: they open settings and ask for an export
    page.goto("/t/alpha/settings/")
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    expect(page.locator("#data")).to_contain_text("Download a copy")
    page.screenshot(path=artifacts_dir / "e2e-privacy-settings-360.png", full_page=True)
    page.locator("#data").get_by_role("button", name="Request an export").click()

    # then: the privacy page says it is being prepared, and the request is stored
    page.wait_for_url(re.compile(r"/t/alpha/privacy/$"))
    expect(page.locator("[role=status]").first).to_contain_text("being prepared")
    with tenant_context(tenant_a):
        row = DataRequest.objects.get(kind="export", athlete__user=client_a)
    assert row.status == "pending"

    # when: the export job runs (tests have no worker consuming the queue: run the task)
    assert tasks.export_build(tenant_a.pk, row.pk) == "ready"
    page.reload()

    # then: the page links the ZIP, and the browser downloads it
    link = page.get_by_role("link", name="Download")
    expect(link).to_be_visible()
    page.screenshot(path=artifacts_dir / "e2e-privacy-download-360.png", full_page=True)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"data-export-{row.pk}.zip"
    archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))

    # and: the ZIP holds their data and nobody else's
    names = set(archive.namelist())
    assert {"README.txt", "account.json", "checkins.json", "checkins.csv"} <= names
    assert "Alpha Strength (alpha)" in archive.read("README.txt").decode()
    account = json.loads(archive.read("account.json"))
    assert [a["email"] for a in account] == ["client@alpha.test"]
    checkins = json.loads(archive.read("checkins.json"))
    assert sorted(c["date"] for c in checkins) == [
        (TODAY - datetime.timedelta(days=1)).isoformat(),
        TODAY.isoformat(),
    ]
    assert any(c["body_weight_kg"] in ("64.2", "64.20", 64.2) for c in checkins)
    assert "client@bravo.test" not in b"".join(archive.read(n) for n in names).decode(
        errors="ignore"
    )
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action="export.download", actor_user_id=client_a.pk)
