"""Choose a backend by URL: ``memory://``, ``whoosh:///abs/path``, ``whoosh://relative/path`` or
``postgresql[+psycopg]://user@host:port/db[?table_prefix=...&schema=...]``."""
from __future__ import annotations

from .base import SearchBackend

POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")


def open_backend(url: str) -> SearchBackend:
    scheme, sep, rest = (url or "").partition("://")
    if not sep:
        raise ValueError(f"search URL must look like scheme://..., got {url!r}")
    if scheme == "memory":
        from .memory import MemoryBackend

        return MemoryBackend()
    if scheme == "whoosh":
        if not rest.strip("/"):
            raise ValueError(f"whoosh search URL needs a directory: {url!r}")
        from .whoosh_backend import WhooshBackend

        return WhooshBackend(rest)  # "/abs/path" from whoosh:///abs/path, else relative
    if scheme in POSTGRES_SCHEMES:
        from .postgres_backend import PostgresBackend

        # SQLAlchemy no longer reads "postgres://"; psycopg 3 is the driver for all three.
        return PostgresBackend.from_url("postgresql+psycopg://" + rest)
    raise ValueError(f"unknown search backend {scheme!r} in {url!r} (use memory://, whoosh:// or postgresql://)")
