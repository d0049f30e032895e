"""DataRequest in the registries: exported like any other row; on erasure, export
requests and their ZIPs go, erasure requests stay without the person's link."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction

from athletes.models import AthleteProfile
from athletes.privacy import register_eraser, register_exporter, rows_by
from privacy.models import DataRequest

logger = logging.getLogger(__name__)


def _remove_files(paths: list[str]) -> None:
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    for rel in paths:
        (root / rel).unlink(missing_ok=True)


def data_requests_erase(athlete: AthleteProfile) -> int:
    mine = DataRequest.objects.filter(athlete=athlete)
    exports = mine.filter(kind=DataRequest.Kind.EXPORT)
    files = [f for f in exports.values_list("file", flat=True) if f]
    # Files only once the rows are surely gone: a rolled-back erasure keeps both.
    transaction.on_commit(lambda: _remove_files(files))
    _, per_model = exports.delete()
    kept = mine.filter(kind=DataRequest.Kind.ERASURE)
    kept.filter(requested_by=athlete.user_id).update(requested_by=None)
    changed = kept.update(athlete=None)
    return per_model.get(DataRequest._meta.label, 0) + changed


register_exporter(DataRequest, name="data_requests", rows=rows_by(DataRequest))
register_eraser(DataRequest, erase=data_requests_erase, order=5)
