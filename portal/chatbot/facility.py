"""Facility look-ups for the chatbot, through the public search only.

The chatbot never reads models: it asks ``portal.services.search.search_public`` (documents built from
public views, with the publication window re-checked) and, for the record list of one facility,
the same public-view context the facility page renders. Only organisations are looked up: a
natural person's public records are on the public pages, but the chatbot does not profile
people by name.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

MAX_CHOICES = 5
SEARCH_LIMIT = 10


class FacilitySource(Protocol):
    def search(self, text: str, limit: int = 10) -> list[dict]: ...

    def details(self, public_id: str) -> dict | None: ...


@dataclass
class SearchFacilities:
    """A FacilitySource over ``search_public`` and a details callable (the web layer passes
    the facility page's public-view context)."""

    search_fn: Callable[[str, int], Any]  # (text, limit) -> SearchResults
    details_fn: Callable[[str], dict | None] = lambda public_id: None

    def search(self, text: str, limit: int = 10) -> list[dict]:
        results = self.search_fn(text, limit)
        return [h.doc for h in results.hits if h.doc.get("kind", "org") == "org"]

    def details(self, public_id: str) -> dict | None:
        return self.details_fn(public_id)


@dataclass
class Lookup:
    found: dict | None  # the one matching document
    candidates: list[dict]  # several matches: ask which one
    total: int = 0  # how many documents the search returned (up to its limit)


def _compact(s: str) -> str:
    return "".join(s.split()).replace("（", "(").replace("）", ")")


def lookup(source: FacilitySource, query: str, *, code: bool = False, public_id: str = "") -> Lookup:
    """One facility, several to choose from, or none. An exact name (or code) wins over
    partial matches; a remembered ``public_id`` (a follow-up about "it") is re-found by name."""
    docs = source.search(query, limit=SEARCH_LIMIT)
    n = len(docs)
    if public_id:
        doc = next((d for d in docs if d.get("id") == public_id), None)
        return Lookup(doc, [], n)
    if not docs:
        return Lookup(None, [], 0)
    if code:
        exact = [d for d in docs if query in d.get("codes", ())]
        if exact or n == 1:
            return Lookup((exact or docs)[0], [], n)
        return Lookup(None, docs[:MAX_CHOICES], n)
    exact = [d for d in docs if _compact(d.get("name", "")) == _compact(query)]
    if len(exact) == 1:
        return Lookup(exact[0], [], n)
    if n == 1:
        return Lookup(docs[0], [], n)
    return Lookup(None, (exact or docs)[:MAX_CHOICES], n)
