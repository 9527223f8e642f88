"""Choose a backend by URL: ``memory://``, ``whoosh:///abs/path``, ``tantivy:///abs/path``
(``whoosh://rel/path`` and ``tantivy://rel/path`` are relative to the working directory), or
``postgresql[+psycopg]://user@host:port/db[?table_prefix=...&schema=...]``."""
from __future__ import annotations

from .base import SearchBackend

FILE_SCHEMES = ("whoosh", "tantivy")
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")


def open_backend(url: str) -> SearchBackend:
    scheme, sep, rest = (url or "").partition("://")
    if not sep:
        raise ValueError(f"search URL must look like scheme://..., got {url!r}")
    if scheme == "memory":
        from .memory import MemoryBackend

        return MemoryBackend()
    if scheme in FILE_SCHEMES:
        if not rest.strip("/"):
            raise ValueError(f"{scheme} search URL needs a directory: {url!r}")
        if scheme == "whoosh":  # each imports its engine only when asked for
            from .whoosh_backend import WhooshBackend as Backend
        else:
            from .tantivy_backend import TantivyBackend as Backend
        return Backend(rest)  # "/abs/path" from scheme:///abs/path, else relative
    if scheme in POSTGRES_SCHEMES:
        from .postgres_backend import PostgresBackend

        # SQLAlchemy no longer reads "postgres://"; psycopg 3 is the driver for all three.
        return PostgresBackend.from_url("postgresql+psycopg://" + rest)
    raise ValueError(f"unknown search backend {scheme!r} in {url!r} "
                     "(use memory://, whoosh://, tantivy:// or postgresql://)")
