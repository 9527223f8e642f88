"""Choose a backend by URL: ``memory://``, ``whoosh:///abs/path`` or ``whoosh://relative/path``."""
from __future__ import annotations

from .base import SearchBackend


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
    raise ValueError(f"unknown search backend {scheme!r} in {url!r} (use memory:// or whoosh://)")
