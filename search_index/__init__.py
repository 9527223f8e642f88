"""Self-contained search for the portal's public credit subjects. Never imports portal or flask.

>>> backend = open_backend("memory://")
>>> backend.upsert([{"id": "s1", "name": "长沙市第一人民医院"}])
1
>>> backend.search(SearchQuery("人民")).total
1
"""
from .base import (
    FACETS,
    MAX_PER_PAGE,
    MAX_WINDOW,
    Hit,
    IndexLocked,
    SearchBackend,
    SearchQuery,
    SearchResults,
)
from .memory import MemoryBackend
from .query import ParsedQuery, highlight, parse_query
from .urls import open_backend

__all__ = [
    "FACETS",
    "MAX_PER_PAGE",
    "MAX_WINDOW",
    "Hit",
    "IndexLocked",
    "MemoryBackend",
    "ParsedQuery",
    "PostgresBackend",
    "SearchBackend",
    "SearchQuery",
    "SearchResults",
    "TantivyBackend",
    "WhooshBackend",
    "highlight",
    "open_backend",
    "parse_query",
]


def __getattr__(name: str):
    if name == "WhooshBackend":  # imports whoosh only when asked for
        from . import whoosh_backend

        return getattr(whoosh_backend, name)
    if name == "TantivyBackend":
        from . import tantivy_backend

        return tantivy_backend.TantivyBackend
    if name == "PostgresBackend":  # imports SQLAlchemy and psycopg only when asked for
        from .postgres_backend import PostgresBackend

        return PostgresBackend
    raise AttributeError(name)
