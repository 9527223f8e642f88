"""Encryption at rest and keyed hashing for identity numbers (DOMAIN.md: store encrypted,
look up by keyed hash, show masked; 海南 第五十一条 security of personal information)."""
from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(master: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(master)


class DataProtector:
    """Derives separate keys for encryption, lookup hashes and signed tokens from one master key."""

    def __init__(self, master_key_b64: str):
        master = base64.urlsafe_b64decode(master_key_b64.encode())
        if len(master) < 32:
            raise ValueError("PORTAL_DATA_KEY must decode to at least 32 bytes")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(master, b"encrypt-id-v1")))
        self._blob_fernet = Fernet(base64.urlsafe_b64encode(_derive(master, b"encrypt-blob-v1")))
        self._hash_key = _derive(master, b"lookup-hash-v1")
        self.signing_key = _derive(master, b"signing-v1")

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # wrong key or tampered value
            raise ValueError("cannot decrypt: wrong PORTAL_DATA_KEY?") from exc

    def encrypt_bytes(self, plaintext: bytes) -> bytes:
        """A stored file with non-public content (an issued credit report), under its own key."""
        return self._blob_fernet.encrypt(plaintext)

    def decrypt_bytes(self, token: bytes) -> bytes:
        try:
            return self._blob_fernet.decrypt(token)
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: wrong PORTAL_DATA_KEY?") from exc

    def lookup_hash(self, normalised_code: str) -> str:
        return hmac.new(self._hash_key, normalised_code.encode(), hashlib.sha256).hexdigest()

    def sign(self, message: str, length: int = 16) -> str:
        mac = hmac.new(self.signing_key, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:length]

    def verify(self, message: str, signature: str, length: int = 16) -> bool:
        return hmac.compare_digest(self.sign(message, length), signature)


def audit_key(audit_key_b64: str, master_key_b64: str) -> bytes:
    """The audit chain's HMAC key: ``PORTAL_AUDIT_KEY`` when set (base64, at least 32 bytes, kept
    outside the database), else derived from the data key under its own label, so it is never
    the same key as any other use of the master key."""
    if audit_key_b64:
        try:
            key = base64.b64decode(audit_key_b64.encode(), altchars=b"-_", validate=False)
        except ValueError as exc:
            raise ValueError("PORTAL_AUDIT_KEY must be base64") from exc
        if len(key) < 32:
            raise ValueError("PORTAL_AUDIT_KEY must decode to at least 32 bytes")
        return key
    return _derive(base64.urlsafe_b64decode(master_key_b64.encode()), b"audit-chain-v1")


def new_master_key() -> str:
    import os

    return base64.urlsafe_b64encode(os.urandom(32)).decode()
