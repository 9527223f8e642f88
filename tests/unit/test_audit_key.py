"""The audit chain's key (PORTAL_AUDIT_KEY): outside the database, never another key's twin."""
import base64

import pytest

from portal.crypto import DataProtector, audit_key, new_master_key
from portal.runtime import ConfigError, Runtime


def test_derived_from_the_data_key_under_its_own_label():
    master = new_master_key()
    derived = audit_key("", master)
    assert len(derived) == 32 and derived == audit_key("", master)
    protector = DataProtector(master)
    assert derived not in (protector.signing_key, protector._hash_key, base64.urlsafe_b64decode(master))
    assert audit_key("", new_master_key()) != derived


def test_explicit_key_wins_in_either_base64_alphabet():
    raw = bytes(range(200, 240))  # bytes whose base64 has + and / (or - and _)
    assert audit_key(base64.b64encode(raw).decode(), new_master_key()) == raw
    assert audit_key(base64.urlsafe_b64encode(raw).decode(), new_master_key()) == raw


def test_short_or_garbled_key_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="32"):
        audit_key(base64.b64encode(b"short").decode(), new_master_key())
    settings = {"PORTAL_ENV": "development", "PORTAL_VAR_DIR": str(tmp_path), "PORTAL_PROFILE": "hunan",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "SEARCH_URL": "memory://",
                "PORTAL_AUDIT_KEY": "!!not base64!!"}
    with pytest.raises(ConfigError, match="PORTAL_AUDIT_KEY"):
        Runtime.from_settings(settings)
