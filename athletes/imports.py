"""File imports: Apple Health exports, FIT activities, CSV check-ins and lifts.

Apps register an importer per kind (`register_importer`, filled from `ready()`: the FIT
and lift importers live in programs, which athletes may not import). An upload becomes
an `ImportJob`; a Celery task runs the importer inside ONE transaction, so a malformed
file (the error names the record or line) stores nothing, and every importer writes by
idempotent keys, so importing the same file twice creates nothing new. Progress (records
read) goes to the cache while the transaction is open, since the job row's own updates
are invisible until it commits.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from athletes import consent
from athletes.models import AthleteProfile, ImportJob
from coaching.errors import DomainError

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # a decade of Apple Health fits in far less
PROGRESS_EVERY = 5_000  # records between progress reports
PROGRESS_TTL_S = 6 * 3600


class ImportFailed(DomainError):
    """A file that cannot be imported; the message names the record or line."""

    code = "import_failed"


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # records of kinds we do not use (e.g. Apple Health's flights climbed)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "notes": self.notes,
        }


Progress = Callable[[int], None]
ImportRun = Callable[[AthleteProfile, BinaryIO, Progress], ImportCounts]


@dataclass(frozen=True)
class Importer:
    kind: str
    label: str
    extensions: tuple[str, ...]  # accepted file name endings, lower case
    help: str
    run: ImportRun


IMPORTERS: dict[str, Importer] = {}


def register_importer(
    kind: str, *, label: str, extensions: tuple[str, ...], help: str, run: ImportRun
) -> None:
    IMPORTERS[kind] = Importer(kind=kind, label=label, extensions=extensions, help=help, run=run)


def importers() -> list[Importer]:
    return sorted(IMPORTERS.values(), key=lambda i: i.label)


def _path(job: ImportJob) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / job.file


def _progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def progress_of(job: ImportJob) -> int:
    """Records read so far: live from the cache while running, then the stored total."""
    if job.status == ImportJob.Status.RUNNING:
        return int(cache.get(_progress_key(job.pk)) or 0)
    return job.records


@transaction.atomic
def import_create(*, athlete: AthleteProfile, kind: str, upload: UploadedFile) -> ImportJob:
    """Keep the upload in private storage and queue its import (after commit, so the
    worker finds the row)."""
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise DomainError(
            f"Unknown import kind {kind!r}.",
            code="unknown_import_kind",
            fields={"kind": [f"Expected one of: {', '.join(sorted(IMPORTERS))}."]},
        )
    consent.consent_require(athlete, consent.HEALTH_DATA)
    name = Path(upload.name or "upload").name[:200]
    if not name.lower().endswith(importer.extensions):
        raise DomainError(
            f"{importer.label} takes {' or '.join(importer.extensions)} files.",
            code="wrong_file_type",
            fields={"file": [f"Expected a {' or '.join(importer.extensions)} file."]},
        )
    if upload.size == 0:
        raise DomainError("The file is empty.", code="empty_file", fields={"file": ["Empty."]})
    if upload.size > MAX_UPLOAD_BYTES:
        raise DomainError(
            "The file is larger than 512 MB.", code="file_too_large", fields={"file": ["Too big."]}
        )
    job = ImportJob(athlete=athlete, kind=kind, filename=name, size_bytes=upload.size)
    job.assign_current_tenant()
    job.file = f"imports/{job.tenant_id}/{uuid.uuid4().hex}"
    path = _path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    job.save()
    from athletes.tasks import import_run as task

    transaction.on_commit(lambda: task.delay(job.tenant_id, job.pk))
    return job


def import_run(*, job: ImportJob) -> ImportJob:
    """Run a job once: all of the file or none of it. Safe to call twice (a redelivered
    task finds the job finished and returns it)."""
    claimed = (
        type(job)
        .objects.filter(pk=job.pk, status=ImportJob.Status.PENDING)
        .update(status=ImportJob.Status.RUNNING, started=timezone.now())
    )
    job.refresh_from_db()
    if not claimed:
        return job
    importer = IMPORTERS[job.kind]
    key = _progress_key(job.pk)
    read = 0

    def progress(records: int) -> None:
        nonlocal read
        read = records
        cache.set(key, records, PROGRESS_TTL_S)

    path = _path(job)
    try:
        with path.open("rb") as stream, transaction.atomic():
            consent.consent_require(job.athlete, consent.HEALTH_DATA)
            counts = importer.run(job.athlete, stream, progress)
    except (ImportFailed, consent.ConsentRequired) as exc:
        job.status, job.error = ImportJob.Status.FAILED, exc.message
        job.counts = {}
    except FileNotFoundError:
        job.status = ImportJob.Status.FAILED
        job.error = "The uploaded file is gone; upload it again."
    else:
        job.status, job.error, job.counts = ImportJob.Status.DONE, "", counts.as_dict()
    job.records = read
    job.finished = timezone.now()
    job.save(update_fields=["status", "error", "counts", "records", "finished"])
    cache.delete(key)
    # Data minimisation: the upload was only needed to import it.
    path.unlink(missing_ok=True)
    logger.info("import %s %s: %s", job.pk, job.kind, job.status)
    return job


def import_files_erase(jobs: list[ImportJob]) -> None:
    """Remove uploads still waiting (erasure of the athlete)."""
    for job in jobs:
        if job.file:
            _path(job).unlink(missing_ok=True)
