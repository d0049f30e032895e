"""Field-level encryption for free-text health data (DESIGN.md, Privacy).

`EncryptedTextField` stores a Fernet token (AES-128-CBC + HMAC-SHA256, `cryptography`)
instead of the text, so a database dump, a replica or a backup leaks no injury, medical
or coach note. Keys come from `settings.FIELD_ENCRYPTION_KEYS`, a list of Fernet keys,
NEWEST FIRST: new writes use the first key, reads try every key (`MultiFernet`), so a key
can be rotated without downtime:

1. put the new key in front of the list and deploy (reads still work with the old one);
2. run `manage.py reencrypt_fields` (rewrites every row with the newest key);
3. drop the old key from the list and deploy.

Limits, by design: the column is opaque to the database. You cannot filter, order,
search or index on it (`filter(notes__icontains=...)` compares ciphertext and finds
nothing); each token is randomised, so even equality does not work. Keep such fields
for free text that is only ever shown to the people allowed to see it.

Empty strings are stored as empty strings (no token), so `blank=True` works and an
empty note is not a token-shaped row. A value that is not a valid token (plaintext
written before the field was encrypted) is returned as it is: the migration that turns
a plain TextField into this one encrypts those rows, and until then they still read.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models

# Every Fernet token starts with version byte 0x80 and a 64-bit timestamp whose high bytes
# are zero until 2106: base64url "gAAAAA".
FERNET_PREFIX = "gAAAAA"


@functools.cache
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: no key to encrypt with.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes; make one with Fernet.generate_key())."
        ) from exc


def keyring() -> MultiFernet:
    """The MultiFernet for the current settings (cached per key list, so tests that
    override the setting get a fresh one)."""
    return _multifernet(tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", ()) or ()))


def _reset_keyring(*, setting: str, **kwargs: Any) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _multifernet.cache_clear()


setting_changed.connect(_reset_keyring)


def encrypt(value: str) -> str:
    if value == "":
        return ""
    return keyring().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(value: str) -> str:
    """The plaintext of a token; a value that is not a token of ours comes back as is
    (legacy plaintext, not yet migrated)."""
    if not value or not value.startswith(FERNET_PREFIX):
        return value
    try:
        return keyring().decrypt(value.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        return value


def is_token(value: str) -> bool:
    """True when `value` is a token that one of the current keys opens."""
    if not value or not value.startswith(FERNET_PREFIX):
        return False
    try:
        keyring().decrypt(value.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True


def rotate(value: str) -> str:
    """`value` re-encrypted with the newest key; plaintext gets encrypted, "" stays ""."""
    if value == "":
        return ""
    if is_token(value):
        return keyring().rotate(value.encode("ascii")).decode("ascii")
    return encrypt(value)


class EncryptedTextField(models.TextField):
    """A TextField whose column holds a Fernet token. Not searchable or filterable:
    see the module docstring."""

    description = "Text, encrypted at rest with the field encryption keys"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return value
        return decrypt(value)

    def to_python(self, value: Any) -> str | None:
        value = super().to_python(value)
        if value is None:
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(str(value))


def _is_current(value: str) -> bool:
    """True when `value` is a token of the NEWEST key (nothing to rotate)."""
    newest = tuple(settings.FIELD_ENCRYPTION_KEYS)[:1]
    try:
        _multifernet(newest).decrypt(value.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True


def reencrypt_queryset(queryset: models.QuerySet, field_name: str) -> tuple[int, int]:
    """Rewrite `field_name` of every row of `queryset` whose column is not yet a token of
    the newest key (older key, or legacy plaintext); return (rewritten, already current).

    Reads the raw column (a Cast skips the field's decryption), so rows already current
    are left alone and running it twice rewrites nothing the second time. Writes go
    through `update()`, which encrypts with the newest key and fires no signals."""
    from django.db.models.functions import Cast

    rewritten = current = 0
    rows = (
        queryset.exclude(**{field_name: None})
        .annotate(_raw_ciphertext=Cast(field_name, models.TextField()))
        .values_list("pk", "_raw_ciphertext")
    )
    for pk, raw in rows.iterator():
        if not raw:
            continue
        if _is_current(raw):
            current += 1
            continue
        queryset.filter(pk=pk).update(**{field_name: decrypt(raw)})
        rewritten += 1
    return rewritten, current


def decrypt_queryset(queryset: models.QuerySet, field_name: str) -> int:
    """Write `field_name` back as plaintext (reverse of the encrypting migration); a Value
    expression skips the field's encryption. Returns the rows rewritten."""
    from django.db.models import Value
    from django.db.models.functions import Cast

    rewritten = 0
    rows = (
        queryset.exclude(**{field_name: None})
        .annotate(_raw_ciphertext=Cast(field_name, models.TextField()))
        .values_list("pk", "_raw_ciphertext")
    )
    for pk, raw in rows.iterator():
        if raw and raw.startswith(FERNET_PREFIX):
            plain = Value(decrypt(raw), output_field=models.TextField())
            queryset.filter(pk=pk).update(**{field_name: plain})
            rewritten += 1
    return rewritten
