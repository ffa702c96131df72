"""The records keys: HMAC-SHA256 over completion records and checkpoints, keyed from settings."""

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class RecordsKeyUnknown(LookupError):
    """A record or checkpoint names a key id that AWARE_RECORDS_KEYS does not hold."""


def records_key_current() -> tuple[str, bytes]:
    """The id and secret that sign new records and checkpoints.

    Raises ImproperlyConfigured, naming the settings to fix, when either is missing."""
    key_id, keys = settings.AWARE_RECORDS_KEY_ID, settings.AWARE_RECORDS_KEYS
    if not key_id:
        raise ImproperlyConfigured(
            "AWARE_RECORDS_KEY_ID is not set, so completion records cannot be signed: "
            "nothing was written."
        )
    if key_id not in keys:
        held = ", ".join(sorted(keys)) or "none"
        raise ImproperlyConfigured(
            f"AWARE_RECORDS_KEY_ID is {key_id!r} but AWARE_RECORDS_KEYS holds no key with that id "
            f"(it holds: {held}), so completion records cannot be signed: nothing was written."
        )
    return key_id, keys[key_id]


def records_key(key_id: str) -> bytes:
    """The secret of `key_id`; RecordsKeyUnknown when it is not configured."""
    try:
        return settings.AWARE_RECORDS_KEYS[key_id]
    except KeyError:
        raise RecordsKeyUnknown(key_id) from None


def records_hmac(*, key: bytes, content: str) -> str:
    """HMAC-SHA256 of `content` under `key`, in hex (64 characters, as the legacy SHA-256)."""
    return hmac.new(key, content.encode(), hashlib.sha256).hexdigest()


def legacy_sha256(content: str) -> str:
    """The unkeyed hash the first records were written with (key_id empty): anyone can
    recompute it, so it proves nothing on its own; the chain and checkpoints do."""
    return hashlib.sha256(content.encode()).hexdigest()
