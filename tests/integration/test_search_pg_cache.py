"""The PostgreSQL search backend's result cache (issue #17): a repeated query is answered from
the process's cache while the store's generation is unchanged, and any write, by this backend
object or by another process's, retires it at once: a search never returns what the store no
longer holds."""
from __future__ import annotations

import pytest

from search_index import SearchQuery
from search_index.postgres_backend import PostgresBackend
from tests.unit.test_search_conformance import doc


@pytest.fixture
def two_backends(pg_schema_url):
    """Two backends on one store: this node's and another node's (its own pool and cache)."""
    here, there = PostgresBackend.from_url(pg_schema_url), PostgresBackend.from_url(pg_schema_url)
    yield here, there
    here.close()
    there.close()


def _names(backend, text, **filters):
    return sorted(h.doc["name"] for h in backend.search(SearchQuery(text, filters)).hits)


def test_repeated_query_is_cached_until_any_node_writes(two_backends):
    here, there = two_backends
    here.upsert([doc("a", "湘雅医院"), doc("b", "湘潭市中心医院", category="clinic")])
    assert _names(here, "医院") == ["湘潭市中心医院", "湘雅医院"]
    misses = here.cache_misses
    first = here.search(SearchQuery("医院"))
    assert here.search(SearchQuery("医院")) == first and here.cache_misses == misses
    assert here.cache_hits >= 2
    assert _names(here, "医院", category="clinic") == ["湘潭市中心医院"]  # filters are part of the key
    assert here.cache_misses == misses + 1

    there.upsert([doc("c", "岳阳医院")])  # another node writes: this node's next search sees it
    assert _names(here, "医院") == ["岳阳医院", "湘潭市中心医院", "湘雅医院"]
    there.delete(["a"])  # a withdrawn document disappears from cached queries too
    assert _names(here, "医院") == ["岳阳医院", "湘潭市中心医院"]
    assert here.search(SearchQuery("医院")).total == 2
    there.clear()
    assert _names(here, "医院") == []


def test_cache_size_zero_disables_it(pg_schema_url):
    backend = PostgresBackend.from_url(pg_schema_url + "&cache_size=0")
    try:
        backend.upsert([doc("a", "湘雅医院")])
        for _ in range(3):
            assert _names(backend, "湘雅") == ["湘雅医院"]
        assert backend.cache_hits == 0 and not backend._cache
    finally:
        backend.close()
