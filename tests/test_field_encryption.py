"""Field-level encryption of free-text health data (coaching/fields.py): the column holds
a Fernet token, the model reads plaintext, blank stays blank, and keys rotate."""

from __future__ import annotations

import datetime
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from athletes.models import AthleteProfile, CheckIn
from coaching import fields
from coaching.fields import EncryptedTextField
from coaching.management.commands.reencrypt_fields import encrypted_fields
from coaching.tenancy import tenant_context

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
DAY = datetime.date(2026, 11, 2)


def _raw(table: str, column: str, pk: int) -> str:
    """The column as stored, past the field's decryption (the tenant's context is on)."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE id = %s', [pk])
        return cursor.fetchone()[0]


@pytest.fixture
def profile(tenant_a, client_a):
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        athlete.injuries = "Left ACL reconstruction 2024; avoid deep knee flexion."
        athlete.coach_notes = ""
        athlete.save()
    return athlete


def test_the_column_holds_a_token_and_the_model_reads_plaintext(tenant_a, profile):
    with tenant_context(tenant_a):
        raw = _raw("athletes_athleteprofile", "injuries", profile.pk)
        assert raw.startswith("gAAAAA")
        assert "ACL" not in raw
        fresh = AthleteProfile.objects.get(pk=profile.pk)
        assert fresh.injuries == "Left ACL reconstruction 2024; avoid deep knee flexion."


def test_blank_stays_blank_with_no_token(tenant_a, profile):
    with tenant_context(tenant_a):
        assert _raw("athletes_athleteprofile", "coach_notes", profile.pk) == ""
        assert AthleteProfile.objects.get(pk=profile.pk).coach_notes == ""


def test_each_write_is_a_fresh_token_so_the_column_is_not_filterable(tenant_a, client_a):
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        one = CheckIn.objects.create(athlete=athlete, date=DAY, notes="Slept badly")
        two = CheckIn.objects.create(
            athlete=athlete, date=DAY + datetime.timedelta(days=1), notes="Slept badly"
        )
        assert _raw("athletes_checkin", "notes", one.pk) != _raw(
            "athletes_checkin", "notes", two.pk
        )
        # documented limit: a lookup compares ciphertexts and finds nothing
        assert not CheckIn.objects.filter(notes="Slept badly").exists()


def test_legacy_plaintext_is_read_as_is_until_migrated(tenant_a, profile):
    with tenant_context(tenant_a):
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE athletes_athleteprofile SET coach_notes = %s WHERE id = %s",
                ["written before encryption", profile.pk],
            )
        assert AthleteProfile.objects.get(pk=profile.pk).coach_notes == "written before encryption"
        rewritten, _current = fields.reencrypt_queryset(AthleteProfile.objects.all(), "coach_notes")
        assert rewritten == 1
        assert _raw("athletes_athleteprofile", "coach_notes", profile.pk).startswith("gAAAAA")
        assert AthleteProfile.objects.get(pk=profile.pk).coach_notes == "written before encryption"


def test_key_rotation_with_reencrypt_fields(tenant_a, tenant_b, client_a, client_b):
    text_a = "Lower back pain since March"
    text_b = "Asthma, carries an inhaler"
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        for tenant, account, text in ((tenant_a, client_a, text_a), (tenant_b, client_b, text_b)):
            with tenant_context(tenant):
                athlete = AthleteProfile.objects.get(user=account)
                athlete.injuries = text
                athlete.save()
                CheckIn.objects.create(athlete=athlete, date=DAY, notes=text)
    # a new key in front: old rows still read
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        with tenant_context(tenant_a):
            assert AthleteProfile.objects.get(user=client_a).injuries == text_a
        call_command("reencrypt_fields", stdout=(out := io.StringIO()))
        assert "4 value(s) rewritten" in out.getvalue()
        call_command("reencrypt_fields", stdout=(again := io.StringIO()))
        assert "0 value(s) rewritten, 4 already current" in again.getvalue()
    # the old key gone: everything still reads
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        for tenant, account, text in ((tenant_a, client_a, text_a), (tenant_b, client_b, text_b)):
            with tenant_context(tenant):
                athlete = AthleteProfile.objects.get(user=account)
                assert athlete.injuries == text
                assert CheckIn.objects.get(athlete=athlete).notes == text
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]), tenant_context(tenant_a):
        # and the old key alone no longer opens them (shown as the opaque token)
        assert AthleteProfile.objects.get(user=client_a).injuries.startswith("gAAAAA")


def test_the_command_finds_every_encrypted_field():
    found = {f"{model._meta.label}.{name}" for model, names in encrypted_fields() for name in names}
    assert {
        "athletes.AthleteProfile.injuries",
        "athletes.AthleteProfile.coach_notes",
        "athletes.CheckIn.notes",
        "athletes.Assessment.notes",
    } <= found


def test_unicode_round_trips(tenant_a, client_a):
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        athlete.coach_notes = "Schulter – Läsion 🩹"
        athlete.save()
        assert AthleteProfile.objects.get(pk=athlete.pk).coach_notes == "Schulter – Läsion 🩹"


def test_no_key_is_a_configuration_error():
    from django.core.exceptions import ImproperlyConfigured

    with override_settings(FIELD_ENCRYPTION_KEYS=[]), pytest.raises(ImproperlyConfigured):
        EncryptedTextField().get_prep_value("text")
