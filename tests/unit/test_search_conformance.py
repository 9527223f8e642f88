"""One conformance suite for every search backend: the memory fake, Whoosh, tantivy and PostgreSQL
behave alike. The PostgreSQL variants run on the test server (TEST_DATABASE_URL), each on a fresh
schema; without it they skip (and fail under CI=true), see tests/conftest.py:require_postgres."""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from search_index import (
    MAX_PER_PAGE,
    IndexLocked,
    MemoryBackend,
    SearchBackend,
    SearchQuery,
    SearchResults,
    open_backend,
)
from search_index.analysis import ANALYSIS_VERSION, normalize, stale_index
from search_index.base import FACETS
from search_index.postgres_backend import PostgresBackend
from search_index.query import parse_query
from search_index.storage import ANALYSIS_FILE
from search_index.tantivy_backend import TantivyBackend
from search_index.whoosh_backend import WhooshBackend

USCC = "91430100MA4L12345X"
LICENCE = "PDY12345X43010217A1001"


def doc(id, name, **kw) -> dict:
    base = {
        "id": id, "kind": "org", "name": name, "codes": [], "category": "hospital",
        "category_label": "医院", "region_code": "430102", "region_name": "芙蓉区", "address": "",
        "grade": "", "grade_year": None, "record_types": [], "titles": [], "url": f"/facility/{id}",
        "updated_on": "2026-11-20",
    }
    return base | kw


DOCS = [
    doc("s1", "长沙市第一人民医院", codes=[USCC, LICENCE], grade="A", grade_year=2025,
        address="长沙市芙蓉区解放西路61号", record_types=["penalty", "commendation"],
        titles=["超范围执业行政处罚", "年度先进集体"]),
    doc("s2", "人民医院", region_code="430103", region_name="天心区", record_types=["penalty"]),
    doc("s3", "人民医院分院", region_code="430103", region_name="天心区", grade="B"),
    doc("s4", "南京市鼓楼区口腔诊所", category="clinic", category_label="诊所、门诊部",
        region_code="320106", region_name="鼓楼区", grade="A"),
    doc("s5", "北京市同仁堂大药房", category="pharmacy", category_label="药店", region_code="110101",
        region_name="东城区", record_types=["commitment"]),
    doc("s6", "东京都健康诊所", category="clinic", category_label="诊所、门诊部", region_code="430104",
        region_name="岳麓区"),
    doc("s7", "老百姓大药房（五一店）", category="pharmacy", category_label="药店",
        region_code="430102", record_types=["penalty", "inspection"], titles=["未按规定执业被责令整改"]),
    doc("s8", "王氏口腔诊所", category="clinic", category_label="诊所、门诊部", region_code="430111",
        region_name="雨花区", grade="C", record_types=["commendation"]),
    doc("s9", "ＡＢＣ齿科门诊部", category="clinic", category_label="诊所、门诊部", region_code="430111",
        region_name="雨花区"),
    doc("s10", "张三", kind="person", category="doctor", category_label="医师", region_code="430102",
        codes=["110430100000547"], record_types=["misconduct_points"]),
    doc("s11", "哈哈哈宾馆", category="hotel", category_label="住宿场所", region_code="430105"),
    doc("s12", "哈哈旅社", category="hotel", category_label="住宿场所", region_code="430105"),
]
BY_ID = {d["id"]: d for d in DOCS}


def oracle(text: str) -> set[str]:
    """A single CJK run: the naive substring rule over the searchable text."""
    t = normalize(text)
    fields = ("name", "category_label", "region_name", "address")
    return {d["id"] for d in DOCS
            if any(t in normalize(d[f]) for f in fields) or any(t in normalize(x) for x in d["titles"])}


FILE_BACKENDS = {"whoosh": WhooshBackend, "tantivy": TantivyBackend}
BACKENDS = ["memory", *FILE_BACKENDS, "postgresql", "postgresql-terms"]
OTHER_BACKENDS = [k for k in BACKENDS if k != "memory"]


def pg_url(schema_url: str, **options: str) -> str:
    """The test schema's URL with search URL options (``table_prefix``, ``schema`` ...) added."""
    return make_url(schema_url).update_query_dict(options).render_as_string(hide_password=False)


def opener(kind: str, request, tmp_path):
    """``open(sub)``: a backend of ``kind``; ``sub`` names its store (directory or table prefix),
    so two calls with the same ``sub`` are two views (processes, nodes) of one index."""
    if kind == "memory":
        return lambda sub: MemoryBackend()
    if kind in FILE_BACKENDS:
        return lambda sub: FILE_BACKENDS[kind](tmp_path / sub)
    url = request.getfixturevalue("pg_schema_url")  # skips / fails without a server
    if kind == "postgresql-terms":  # every term frequent: one-term queries read p_terms (#17)
        return lambda sub: open_backend(pg_url(url, table_prefix=f"{sub}_", term_stats_min="1"))
    return lambda sub: open_backend(pg_url(url, table_prefix=f"{sub}_"))


@pytest.fixture(params=BACKENDS)
def make_backend(request, tmp_path):
    opened = []
    open_ = opener(request.param, request, tmp_path)

    def make(sub="ix") -> SearchBackend:
        b = open_(sub)
        opened.append(b)
        return b

    make.kind = request.param
    yield make
    for b in opened:
        b.close()


@pytest.fixture
def backend(make_backend):
    b = make_backend()
    if make_backend.kind == "postgresql-terms":  # term statistics are chosen by a rebuild
        assert b.rebuild(DOCS) == len(DOCS)
    else:
        assert b.upsert(DOCS) == len(DOCS)
    return b


def ids(results: SearchResults) -> list[str]:
    return [h.id for h in results.hits]


def search(backend, text="", filters=None, **kw) -> SearchResults:
    return backend.search(SearchQuery(text=text, filters={} if filters is None else filters, **kw))


def test_is_a_search_backend(backend):
    assert isinstance(backend, SearchBackend)
    assert backend.count() == len(DOCS)


@pytest.mark.parametrize("text", ["民医", "腔诊", "京市", "大药房", "口腔诊所", "人民医院", "第一人民", "百姓大药"])
def test_partial_name_substring(backend, text):
    got = search(backend, text, per_page=50)
    assert set(ids(got)) == oracle(text)
    assert got.total == len(oracle(text)) > 0
    for h in got.hits:
        assert normalize(text) in normalize(h.doc["name"])  # these terms only occur in names


def test_substring_precision():
    assert oracle("京市") == {"s4", "s5"}  # not 东京都健康诊所
    assert oracle("哈哈哈") == {"s11"}


@pytest.mark.parametrize("text, expected", [("京市", {"s4", "s5"}), ("哈哈哈", {"s11"}), ("哈哈", {"s11", "s12"}),
                                            ("京都", {"s6"}), ("医院分", {"s3"}), ("院分院", {"s3"})])
def test_exact_sets(backend, text, expected):
    assert set(ids(search(backend, text))) == expected


@pytest.mark.parametrize("text", ["院", "民", "哈", "张"])
def test_single_character(backend, text):
    assert set(ids(search(backend, text, per_page=50))) == oracle(text) != set()


def test_ranking_exact_then_prefix_then_substring(backend):
    got = ids(search(backend, "人民医院"))
    assert got == ["s2", "s3", "s1"]
    assert ids(search(backend, "长沙市第一人民医院"))[0] == "s1"
    assert ids(search(backend, "长沙市 第一人民医院"))[0] == "s1"


def test_riskier_first_among_equal_matches_then_shorter_names(make_backend):
    """Issue #13: best match first; among equals the unit on a serious-dishonesty list or with a
    D grade (the portal's ``risk_rank``) comes first, not the character-code order."""
    b = make_backend()
    b.upsert([doc("r1", "甲人民医院"), doc("r2", "乙人民医院", risk_rank=2), doc("r3", "丙人民医院", risk_rank=1),
              doc("r4", "人民医院", risk_rank=0), doc("r5", "丁县人民医院", risk_rank=2),
              doc("r6", "戊人民医院", risk_rank="x"), doc("r7", "己人民医院", risk_rank=10**9)])
    got = ids(search(b, "人民医院", per_page=50))
    assert got[0] == "r4"  # the exact name stays first whatever its risk
    assert got[1:] == ["r7", "r2", "r5", "r3", "r6", "r1"]  # clamped to 9; 2 before 1 before 0; then length


def test_sort_by_region(make_backend):
    b = make_backend()
    b.upsert([doc("g1", "甲医院", region_code="430111"), doc("g2", "乙医院", region_code="430102"),
              doc("g3", "丙医院", region_code="430111", risk_rank=1), doc("g4", "医院", region_code="4301"),
              doc("g5", "丁医院", region_code="430102")])
    got = ids(search(b, "医院", sort="region", per_page=50))
    assert got == ["g4", "g5", "g2", "g3", "g1"]  # 4301 < 430102 < 430111; riskier first inside one
    assert [ids(search(b, "医院", sort="region", page=p, per_page=2)) for p in (1, 2, 3)] == [
        ["g4", "g5"], ["g2", "g3"], ["g1"]]
    assert ids(search(b, "医院", sort="nonsense", per_page=50))[0] == "g4"  # unknown: the default order
    assert search(b, "医院", sort="region").facets == search(b, "医院").facets


def test_name_matches_rank_before_other_fields(backend):
    got = ids(search(backend, "执业", per_page=50))
    assert set(got) == {"s1", "s7"}  # only in titles
    got = ids(search(backend, "芙蓉区", per_page=50))  # region names / addresses only
    assert "s1" in got


def test_several_words_all_must_match(backend):
    assert ids(search(backend, "口腔 王氏")) == ["s8"]
    assert ids(search(backend, "口腔 药房")) == []
    assert ids(search(backend, "abc 门诊")) == ["s9"]


@pytest.mark.parametrize("text", [USCC, USCC.lower(), "９１４３０１００ＭＡ４Ｌ１２３４５Ｘ", f"  {USCC}  ", LICENCE,
                                  LICENCE.lower(), "PDY-12345-X43010217A1001"])
def test_codes_exact(backend, text):
    assert ids(search(backend, text)) == ["s1"]


def test_codes_are_exact_only(backend):
    assert search(backend, USCC + "1").total == 0
    assert search(backend, USCC[1:]).total == 0  # a USCC is found by its head, not by any substring
    assert search(backend, LICENCE[:-1]).total == 0  # licence numbers: whole only
    assert ids(search(backend, "110430100000547")) == ["s10"]
    assert search(backend, "11043010000054").total == 0


#: Every licence number format of the demo data and the import template (issue #13).
LICENCES = {
    "drug": "湘DA7390008",  # 药品经营许可证 (drug retail)
    "public_place": "湘芙卫公证字〔2025〕第0001号",  # 卫生许可证 (public places)
    "medical": "PDY00004243010217A1002",  # 医疗机构执业许可证 登记号 (private: PDY + serial)
    "disinfection": "湘卫消证字〔2024〕第0012号",
}


@pytest.mark.parametrize(("text", "expected"), [
    (LICENCES["drug"], "drug"), ("湘da7390008", "drug"), ("ＤＡ７３９０００８", "drug"), ("DA7390008", "drug"),
    (LICENCES["public_place"], "public_place"), ("湘芙卫公证字(2025)第0001号", "public_place"),
    ("湘芙卫公证字[2025]第0001号", "public_place"),
    (LICENCES["medical"], "medical"), ("pdy-000042-430102-17a1002", "medical"),
    (LICENCES["disinfection"], "disinfection"),
])
def test_every_licence_format_is_found(make_backend, text, expected):
    b = make_backend()
    b.upsert([doc(kind, f"持证单位{i}", codes=[code]) for i, (kind, code) in enumerate(LICENCES.items())]
             + [doc("u1", "代码单位", codes=[USCC])])
    assert ids(search(b, text)) == [expected]


DIGIT_NAMES = [doc("d1", "某某诊所12345678"), doc("d2", "仁和堂大药房（20250001）", category="pharmacy"),
               doc("d3", "康宁门诊部 88886666"), doc("d4", "Clinic20251234"), doc("d5", "某某诊所"),
               doc("d6", "持证诊所", codes=[LICENCE]), doc("d7", "第12345678号卫生室")]


@pytest.mark.parametrize(("text", "expected"), [
    ("某某诊所12345678", ["d1"]), ("  某某诊所１２３４５６７８ ", ["d1"]), ("某某诊所 12345678", ["d1"]),
    ("仁和堂大药房（20250001）", ["d2"]), ("仁和堂大药房(20250001)", ["d2"]), ("仁和堂大药房20250001", ["d2"]),
    ("康宁门诊部 88886666", ["d3"]), ("康宁门诊部88886666", ["d3"]), ("clinic20251234", ["d4"]),
    ("第12345678号卫生室", ["d7"]),
    (LICENCE, ["d6"]), ("PDY-12345-X43010217A1001", ["d6"]),  # code lookups keep working
    ("某某诊所", ["d5", "d1"]), ("某某诊所87654321", []), ("12345679", []),
])
def test_a_name_ending_in_digits_is_found_by_its_full_name(make_backend, text, expected):
    """A query shaped like a code (8+ characters, 6+ digits) is matched against codes: a unit
    whose name has that shape is found by its full name as printed, on every backend."""
    b = make_backend()
    b.upsert(DIGIT_NAMES)
    assert ids(search(b, text)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("诊所12345678", ["d1"]), ("某诊所12345678", ["d1"]), ("所１２３４５６７８", ["d1"]), ("诊所-12345678", ["d1"]),
    ("大药房（20250001）", ["d2"]), ("药房20250001", ["d2"]), ("门诊部88886666", ["d3"]),
    ("12345678号卫生室", ["d7"]), ("第12345678号", ["d7"]), ("12345678号", ["d7"]),
    ("12345678", ["d1", "d7"]),
    # a number or a word is never cut: another number, another word
    ("诊所1234567", []), ("诊所23456789", []), ("c20251234", []), ("诊所12345678号", []), ("药店20250001", []),
])
def test_a_part_of_a_name_with_digits_is_found(make_backend, text, expected):
    """A part of such a name typed as one chunk ("诊所12345678") is code-shaped too and is found
    like the full name (issue #17), on every backend; the number in it is matched whole."""
    b = make_backend()
    b.upsert(DIGIT_NAMES)
    assert ids(search(b, text)) == expected


@pytest.mark.parametrize("kind", FILE_BACKENDS)
def test_an_index_built_with_older_analysis_rules_is_reported(kind, tmp_path):
    """A file index records the analysis version it was built with; one built before (no record:
    version 1) still answers, is reported stale until rebuilt (``index status`` says so,
    ``bootstrap`` rebuilds it), and any view of the directory sees the same."""
    b = FILE_BACKENDS[kind](tmp_path / "ix")
    b.upsert(DIGIT_NAMES)
    assert b.analysis_version() == ANALYSIS_VERSION and stale_index(b) is None
    (tmp_path / "ix" / (tmp_path / "ix" / "CURRENT").read_text().strip() / ANALYSIS_FILE).unlink()
    assert stale_index(b) == 1 and stale_index(FILE_BACKENDS[kind](tmp_path / "ix")) == 1
    assert ids(search(b, "某某诊所12345678")) == ["d1"]  # still answers
    b.upsert(DIGIT_NAMES)  # a change does not make the older documents current
    assert stale_index(b) == 1
    b.rebuild(DIGIT_NAMES)
    assert stale_index(b) is None and ids(search(b, "诊所12345678")) == ["d1"]
    assert stale_index(MemoryBackend()) is None


@pytest.mark.parametrize("n", [8, 9, 12, 17, 18])
def test_uscc_by_its_first_characters(make_backend, n):
    other = "91430200MA4L99999Y"
    b = make_backend()
    b.upsert([doc("u1", "代码单位", codes=[USCC]), doc("u2", "另一单位", codes=[other])])
    assert ids(search(b, USCC[:n])) == ["u1"]
    assert ids(search(b, other[:n].lower())) == ["u2"]
    assert search(b, USCC[:7]).total == 0  # 7 characters: too short to be a code, and no word matches


def test_latin_words_fullwidth_and_prefix(backend):
    got = search(backend, "abc")
    assert ids(got) == ["s9"]
    assert search(backend, "ＡＢ").total == 1
    assert search(backend, "bc").total == 0  # words match by prefix, not infix


def test_facets_for_query(backend):
    got = search(backend, "医院")
    assert set(ids(got)) == {"s1", "s2", "s3"}
    assert got.facets["region_code"] == [("430103", 2), ("430102", 1)]
    assert got.facets["grade"] == [("A", 1), ("B", 1)]
    assert got.facets["record_types"] == [("penalty", 2), ("commendation", 1)]
    assert got.facets["kind"] == [("org", 3)]
    assert set(got.facets) == {"kind", "category", "region_code", "grade", "record_types"}


def test_filters(backend):
    assert set(ids(search(backend, "口腔", {"grade": "A"}))) == {"s4"}
    assert set(ids(search(backend, "", {"record_types": "penalty"}))) == {"s1", "s2", "s7"}
    assert set(ids(search(backend, "", {"category": "clinic", "region_code": "430111"}))) == {"s8", "s9"}
    assert set(ids(search(backend, "", {"kind": "person"}))) == {"s10"}
    got = search(backend, "", {"region_code": "430100"}, per_page=50)  # a city covers its districts
    assert set(ids(got)) == {d["id"] for d in DOCS if d["region_code"].startswith("4301")}
    assert search(backend, "", {"region_code": "430000"}, per_page=50).total == got.total
    assert search(backend, "", {"grade": "Z"}).total == 0


def test_filter_only_returns_all_filtered_and_empty_returns_nothing(backend):
    assert search(backend, "").total == 0
    assert search(backend, "  ?! ").total == 0
    assert search(backend, "", {"nope": "x"}).total == 0
    assert search(backend, "", {"category": "hotel"}).total == 2


@pytest.mark.parametrize("filters, total", [
    # a value of a known field is taken literally, cut to its length: it matches nothing
    ({"category": "<script>"}, 0), ({"region_code": "\x00"}, 0), ({"grade": 5}, 0),
    ({"category": "x" * 5000}, 0), ({"record_types": "penalty OR *"}, 0),
    ({"category": "\ud800"}, 0), ({"region_code": "4301\ud800"}, 0),  # a lone surrogate matches nothing
    # what is not a field → string map is dropped: the query alone (3 hospitals)
    ({"kind": ["org"]}, 3), (None, 3), ("category=clinic", 3), ({"nope": "x"}, 3), ({"grade": "  "}, 3),
])
def test_hostile_filters_are_ignored_or_match_nothing(backend, filters, total):
    """Each hostile filter has ONE right answer, the same on every backend (base.clean_filters)."""
    assert search(backend, "医院", filters).total == total


@pytest.mark.parametrize("page, shown", [(0, 1), (-1, 1), (1, 1), (2, 2), (10**9, 10**9)])
def test_pagination_edges(backend, page, shown):
    got = search(backend, "", {"kind": "org"}, page=page, per_page=5)
    assert got.total == 11 and got.pages == 3 and got.page == shown
    expected = {1: 5, 2: 5, 10**9: 0}[shown]
    assert len(got.hits) == expected


def test_pages_cover_everything_once_in_a_stable_order(backend):
    seen = []
    for page in range(1, 5):
        seen += ids(search(backend, "", {"kind": "org"}, page=page, per_page=3))
    assert len(seen) == len(set(seen)) == 11
    assert seen == ids(search(backend, "", {"kind": "org"}, per_page=50))


def test_per_page_is_clamped(backend):
    assert search(backend, "", {"kind": "org"}, per_page=0).per_page == 1
    assert search(backend, "", {"kind": "org"}, per_page=10**6).per_page == MAX_PER_PAGE
    assert search(backend, "", {"kind": "org"}, per_page="x").per_page == 20


HOSTILE = ["x" * 5000, "医" * 5000, "!!!,,,。。。", "name:x OR *", "<script>alert(1)</script>", '"unbalanced',
           "\\", "\\\\", "😀🏥", "医\x00院", "\x00", "(", ")", "[a TO z]", "{", "}", "^2", "~", "a*", "?", "AND",
           "OR NOT", "* OR *", "-", "--", "\ud800", "\u200b", "\ufeff医院", "%", "'", ";drop table", "\t\n\r",
           "ﷺ", "㈱", "İ", "ß" * 30, "9" * 40, "PDY" * 30]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_never_raise(backend, text):
    got = search(backend, text)
    assert isinstance(got, SearchResults)
    for h in got.hits:
        assert "".join(s for s, _ in h.highlights["name"]) == h.doc["name"]


def test_hostile_text_in_results_is_segments_not_html(backend):
    backend.upsert([doc("x1", "<b>医院</b>&amp;")])
    (hit,) = search(backend, "<b>医院").hits  # "b" is a word, "<", ">" separators
    assert hit.highlights["name"] == [("<", False), ("b", True), (">", False), ("医院", True), ("</", False),
                                      ("b", True), (">&amp;", False)]


def test_long_words_match_by_prefix(backend):
    backend.upsert([doc("w1", "x" * 300 + "诊所"), doc("w2", "诊所" + "y" * 150)])
    assert ids(search(backend, "x" * 100)) == ids(search(backend, "x" * 5000)) == ["w1"]  # queries are cut
    assert ids(search(backend, "诊所 " + "y" * 99)) == ["w2"]
    assert search(backend, "x" * 99 + "y").total == 0


def test_upsert_replaces(backend):
    gen = backend.generation()
    assert backend.upsert([doc("s2", "湘雅附属医院")]) == 1
    assert backend.count() == len(DOCS)
    assert "s2" not in ids(search(backend, "人民医院"))
    assert ids(search(backend, "湘雅")) == ["s2"]
    assert backend.generation() != gen


def test_upsert_same_id_twice_in_one_batch_keeps_the_last(backend):
    assert backend.upsert([doc("n1", "甲诊所"), doc("n1", "乙诊所")]) == 1
    assert search(backend, "甲诊所").total == 0
    assert ids(search(backend, "乙诊所")) == ["n1"]


@pytest.mark.parametrize("second_view", [False, True])
def test_upsert_same_id_again_and_again_is_found_once_with_the_newest_values(make_backend, second_view):
    """An upsert of an existing id between searches (a grade becoming formal, a record going
    public) replaces the document for every reader: Whoosh's searcher refresh used to keep the
    old copy visible beside the new one (deletions missed, merged-away segments re-read)."""
    writer = make_backend("up")
    if second_view and isinstance(writer, MemoryBackend):
        pytest.skip("the memory backend has no second view of one index")
    reader = make_backend("up") if second_view else writer  # another process's view of the index
    writer.upsert([doc("u1", "木星口腔诊所", category="clinic", region_code="430102"), doc("u2", "木星医院")])
    assert search(reader, "木星").total == 2
    grades = "ABCDABCDABCD"
    for n, grade in enumerate(grades):
        writer.upsert([doc("u1", "木星口腔诊所", category="clinic", region_code="430102", grade=grade,
                           titles=[f"第{n}次"])])
        got = search(reader, "木星", per_page=50)
        assert sorted(ids(got)) == ["u1", "u2"] and got.total == 2, (n, ids(got))
        assert [h.doc["grade"] for h in got.hits if h.id == "u1"] == [grade]
        assert dict(got.facets["grade"]) == {grade: 1}
        assert dict(got.facets["category"]) == {"clinic": 1, "hospital": 1}
        assert search(reader, "木星口腔诊所").total == 1
        assert search(reader, "", filters={"grade": grade}).total == 1
        assert reader.count() == 2
    assert search(reader, f"第{len(grades) - 1}次").total == 1 and search(reader, "第0次").total == 0
    assert writer.delete(["u1"]) == 1
    assert ids(search(reader, "木星")) == ["u2"] and reader.count() == 1


def test_upsert_rejects_documents_without_id(backend):
    with pytest.raises(ValueError):
        backend.upsert([{"name": "无编号"}])


def test_delete_removes(backend):
    gen = backend.generation()
    assert backend.delete(["s8", "nope"]) == 1
    assert backend.delete(["s8"]) == 0
    assert backend.count() == len(DOCS) - 1
    assert search(backend, "王氏").total == 0
    assert backend.generation() != gen


def test_rebuild_swaps_and_searches_keep_working(backend):
    during = []

    def progress(n):
        during.append((n, search(backend, "人民医院").total))

    new_docs = [doc("r1", "湘雅医院"), doc("r2", "湘雅二医院")]
    gen = backend.generation()
    assert backend.rebuild(iter(new_docs), progress) == 2
    assert during == [(1, 3), (2, 3)]  # the old index answered while the new one was built
    assert backend.count() == 2
    assert search(backend, "人民医院").total == 0
    assert ids(search(backend, "湘雅")) == ["r1", "r2"]
    assert backend.generation() != gen


def test_clear(backend):
    gen = backend.generation()
    backend.clear()
    assert backend.count() == 0
    assert search(backend, "医院").total == 0
    assert backend.generation() != gen


def test_generation_is_stable_without_changes(backend):
    assert backend.generation() == backend.generation()
    search(backend, "医院")
    g = backend.generation()
    backend.upsert([])
    backend.delete([])
    assert backend.generation() == g


@pytest.mark.parametrize("text", ["人民医院", "民", "abc", "ＡＢ 门诊", "大药房", "院", "哈哈", "口腔 王"])
def test_highlight_segments_reconstruct_the_name(backend, text):
    got = search(backend, text, per_page=50)
    assert got.hits
    for h in got.hits:
        segments = h.highlights["name"]
        assert "".join(s for s, _ in segments) == h.doc["name"]
        assert all(isinstance(s, str) and isinstance(m, bool) for s, m in segments)


def test_highlight_marks_the_match(backend):
    (hit,) = search(backend, "ab").hits
    assert hit.highlights["name"] == [("ＡＢ", True), ("Ｃ齿科门诊部", False)]
    hit = search(backend, "超范围").hits[0]
    assert hit.highlights["titles"] == [("超范围", True), ("执业行政处罚", False)]
    assert "address" not in hit.highlights


def test_hit_doc_is_the_indexed_document(backend):
    (hit,) = search(backend, USCC).hits
    assert hit.doc == BY_ID["s1"]
    hit.doc["name"] = "changed"  # callers cannot corrupt the index
    assert search(backend, USCC).hits[0].doc == BY_ID["s1"]


def test_threads_search_while_one_writes(make_backend):
    backend = make_backend()
    backend.upsert(DOCS)
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader():
        try:
            while not stop.is_set():
                got = search(backend, "医院", per_page=5)
                assert got.total >= 3
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def writer():
        try:
            for i in range(15):
                backend.upsert([doc(f"t{i}", f"第{i}号社区医院")])
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
        finally:
            stop.set()

    threads = [threading.Thread(target=reader) for _ in range(4)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert search(backend, "社区医院", per_page=50).total == 15


def agree(memory, other, queries, filter_sets=({},), per_page=50):
    for text in sorted(queries):
        for filters in filter_sets:
            a, b = search(memory, text, filters, per_page=per_page), search(other, text, filters, per_page=per_page)
            assert (a.total, a.facets, a.hits) == (b.total, b.facets, b.hits), (text, filters)


NAME_QUERIES = {d["name"][i:i + n] for d in DOCS for n in range(1, 5) for i in range(len(d["name"]))}
NAME_QUERIES |= {"医院 长沙", "abc 科", "诊所 430", "ab 门诊部", "张三 110430100000547"}


@pytest.mark.parametrize("kind", OTHER_BACKENDS)
def test_memory_and_backends_agree_on_every_name_substring(tmp_path, kind, request):
    """Differential check: every 1–4 character substring of every name (and a few pairs)."""
    memory, other = MemoryBackend(), opener(kind, request, tmp_path)("ix")
    memory.upsert(DOCS)
    other.upsert(DOCS)
    agree(memory, other, NAME_QUERIES, ({}, {"category": "clinic"}, {"region_code": "430100"}))
    other.close()


#: Runs that end where another begins with the same characters: a query joining them across the
#: separator must not match (甲乙丙丁戊 is not in "甲乙丙丁 乙丙丁戊").
TRAPS = [
    doc("t1", "甲乙丙丁 乙丙丁戊", titles=["丙丁戊己（庚辛）", "己庚辛壬癸"], address="子丑寅卯·丑寅卯辰路"),
    doc("t2", "甲乙丙丁戊乙丙丁戊", titles=["戊己庚辛壬"], address="abc子丑寅卯辰def"),
    doc("t3", "乙丙丁 丁戊己", titles=["哈哈哈哈哈哈"], address="哈哈哈 哈哈哈"),
]


@pytest.mark.parametrize("kind", OTHER_BACKENDS)
def test_memory_and_backends_agree_on_long_and_cross_run_substrings(tmp_path, kind, request):
    """Every 1–7 character substring of every searchable text, and queries that straddle runs."""
    memory, other = MemoryBackend(), opener(kind, request, tmp_path)("ix")
    memory.upsert(DOCS + TRAPS)
    other.upsert(DOCS + TRAPS)
    texts = [t for d in DOCS + TRAPS for t in [d["name"], d["address"], *d["titles"]]]
    queries = {t[i:i + n] for t in texts for n in range(1, 8) for i in range(len(t))}
    queries |= {"甲乙丙丁戊", "乙丙丁丁戊", "丁戊己庚", "子丑寅卯辰", "丑寅卯辰路", "哈哈哈哈哈哈哈", "哈哈哈哈 哈",
                "卯辰def", "abc子丑"}
    agree(memory, other, queries)
    assert ids(search(other, "甲乙丙丁戊")) == ["t2"]
    assert ids(search(other, "子丑寅卯辰")) == ["t2"]
    assert ids(search(other, "哈哈哈哈哈哈")) == ["t3"]
    other.close()


@pytest.mark.parametrize("kind", OTHER_BACKENDS)
def test_pages_agree_across_ranking_tiers(tmp_path, kind, request):
    """Every page, for page sizes that cut through the tiers (exact, prefix, in name, elsewhere)."""
    extra = [doc(f"p{i}", name, risk_rank=i % 3, region_code=f"43010{i % 4}") for i, name in enumerate(
        ["人民医院", "人民医院东院", "人民医院西院", "市人民医院", "长沙人民医院", "人民", "民医院"])]
    extra += [doc("q1", "湘雅", titles=["人民医院表彰"]), doc("q2", "康复中心", address="人民医院路1号")]
    memory, other = MemoryBackend(), opener(kind, request, tmp_path)("ix")
    for backend in (memory, other):
        backend.upsert(DOCS)
        backend.upsert(extra)
    for text in ["人民医院", "人民", "民医", "院", "人民 医院", "医院 人民"]:
        total = search(memory, text).total
        for per_page in (1, 2, 3, 7):
            for page in range(1, total // per_page + 3):
                for sort in ("", "region"):
                    a = search(memory, text, page=page, per_page=per_page, sort=sort)
                    b = search(other, text, page=page, per_page=per_page, sort=sort)
                    assert (a.total, a.pages, ids(a)) == (b.total, b.pages, ids(b)), (text, per_page, page, sort)
    other.close()


@pytest.mark.parametrize("kind", OTHER_BACKENDS)
def test_many_small_writes_agree(tmp_path, kind, request):
    """One document per commit (many segments, some merged), with replacements and deletes."""
    memory, other = MemoryBackend(), opener(kind, request, tmp_path)("ix")
    for backend in (memory, other):
        for d in DOCS:
            backend.upsert([d])
        backend.upsert([doc("s3", "人民医院分院", region_code="430104", grade="A")])
        backend.delete(["s12"])
    agree(memory, other, {"医院", "人民医院", "诊所", "哈", "abc"}, ({}, {"region_code": "430100"}), per_page=3)
    agree(memory, other, {""}, ({"kind": "org"}, {"grade": "A"}), per_page=4)
    other.close()


# -- file backends: several processes share one directory ----------------------------------------


@pytest.mark.parametrize("kind", FILE_BACKENDS)
def test_second_instance_sees_writes_and_rebuilds(tmp_path, kind):
    a, b = FILE_BACKENDS[kind](tmp_path / "ix"), FILE_BACKENDS[kind](tmp_path / "ix")
    a.upsert(DOCS)
    assert search(b, "人民医院").total == 3
    a.rebuild([doc("r1", "湘雅医院")])
    assert b.generation() == a.generation()
    assert ids(search(b, "医院")) == ["r1"]
    b.upsert([doc("r2", "湘雅二医院")])
    assert search(a, "湘雅").total == 2
    a.close()
    b.close()
    assert search(a, "湘雅").total == 2  # reopens after close
    assert len(list((tmp_path / "ix").glob("ix-*"))) <= 2  # old generations are removed


def test_threads_search_while_rebuilds_swap(make_backend):
    backend = make_backend()
    backend.upsert(DOCS)
    versions = [DOCS, [doc("r1", "湘雅医院"), doc("r2", "湘雅二医院"), doc("r3", "人民医院")]]
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader():
        try:
            while not stop.is_set():
                assert search(backend, "人民医院", per_page=5).total in (1, 3)  # the old or the new index
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            backend.rebuild(versions[i % 2])
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert not errors, errors
    assert search(backend, "湘雅").total == 2


CHILD = """
import sys, time
from search_index import SearchQuery, open_backend
backend = open_backend(sys.argv[1])
print("ready", flush=True)
seen, deadline = None, time.monotonic() + 60
while time.monotonic() < deadline:
    n = backend.search(SearchQuery("湘雅", per_page=50)).total
    assert backend.search(SearchQuery("医院")).total >= 1
    if n != seen:
        seen = n
        print(n, time.time(), flush=True)
    if n == 3:
        break
    time.sleep(0.005)
"""


@pytest.mark.parametrize("kind", FILE_BACKENDS)
def test_another_process_sees_each_change_within_two_seconds(tmp_path, kind):
    """A gunicorn worker's view: another process searching the same directory while this one
    upserts and rebuilds; every committed change is visible there within 2 s."""
    backend = FILE_BACKENDS[kind](tmp_path / "ix")
    backend.upsert(DOCS)
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen([sys.executable, "-c", CHILD, f"{kind}://{tmp_path / 'ix'}"], cwd=root,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in child.stdout], daemon=True).start()

        def child_reports(expected: str) -> float:
            """Wait for the child to report ``expected``; the time it saw it."""
            while True:
                try:
                    words = lines.get(timeout=30).split()
                except queue.Empty:
                    child.kill()
                    pytest.fail(f"the child process stopped reporting: {child.stderr.read()}")
                if words[0] == expected:
                    return float(words[1]) if len(words) > 1 else 0.0

        try:
            child_reports("ready")
            child_reports("0")
            changes = [
                lambda: backend.upsert([doc("r1", "湘雅医院")]),
                lambda: backend.rebuild(DOCS + [doc("r1", "湘雅医院"), doc("r2", "湘雅二医院")]),
                lambda: backend.upsert([doc("r3", "湘雅三医院")]),
            ]
            for n, change in enumerate(changes, 1):
                change()
                committed = time.time()
                assert child_reports(str(n)) - committed < 2.0
            assert child.wait(timeout=60) == 0, child.stderr.read()
        finally:
            if child.poll() is None:
                child.kill()


@pytest.mark.parametrize("kind", FILE_BACKENDS)
def test_failed_rebuild_keeps_the_old_index(tmp_path, kind):
    backend = FILE_BACKENDS[kind](tmp_path / "ix")
    backend.upsert(DOCS)

    def docs():
        yield doc("r1", "湘雅医院")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        backend.rebuild(docs())
    assert backend.count() == len(DOCS)
    assert len(list((tmp_path / "ix").glob("ix-*"))) == 1


def test_tantivy_on_a_whoosh_directory_asks_for_a_rebuild(tmp_path):
    """Switching SEARCH_URL from whoosh:// to tantivy:// on the same directory: a clear error
    until ``credit-portal index rebuild``, which needs nothing from the old index."""
    WhooshBackend(tmp_path / "ix").upsert(DOCS)
    backend = TantivyBackend(tmp_path / "ix")
    with pytest.raises(RuntimeError, match="rebuild"):
        backend.search(SearchQuery("医院"))
    assert backend.rebuild(DOCS) == len(DOCS)
    assert ids(search(backend, "人民医院")) == ["s2", "s3", "s1"]


def test_tantivy_grams():
    from search_index.tantivy_backend import grams

    assert grams("人民医院 abc 哈") == ("人 民 医 院 a ab abc 哈", "人民 民医 医院", "人民医 民医院", "人民医院 |")
    assert grams("长沙 · 第一（人民）") == ("长 沙 第 一 人 民", "长沙 第一 人民", "", "")
    assert grams("ＡＢ") == ("a ab", "", "", "")


# -- open_backend --------------------------------------------------------------------------------


# -- PostgreSQL only: several web nodes share one store ------------------------------------------


@pytest.fixture
def pg(pg_schema_url):
    """``pg(**options)``: a PostgreSQL backend on this test's schema; each call is another node."""
    opened = []

    def make(**options) -> PostgresBackend:
        b = open_backend(pg_url(pg_schema_url, **options))
        opened.append(b)
        return b

    yield make
    for b in opened:
        b.close()


def pg_tables(backend: PostgresBackend) -> set[str]:
    with backend._conn() as conn:
        return {r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'")}


TOKEN_SAMPLES = [d["name"] for d in DOCS] + [t for d in DOCS for t in d["titles"]] + [
    "〇", "𠀀𠀁医", "豈更", "ＡＢＣ齿科 a1b2 中文x", "abcdefghijklmnopqrst", "㈱医院", "İstanbul", "ß" * 12,
    "한국어 병원", "ひらがな病院", "医院abc医院 123456789012", "", "  ", "a", "医",
]


def test_postgres_token_function_matches_python(pg):
    """The SQL token function (GIN expression index) agrees with analysis.py, character for character."""
    from search_index.postgres_backend import _words, python_tokens

    backend = pg()
    backend.count()  # creates the schema
    facet_samples = [dict.fromkeys(FACETS), {"kind": "org", "category": "hospital", "region_code": "430102",
                                             "grade": "", "record_types": ["penalty", "医院" * 150]},
                     {"kind": "x" * 300, "category": None, "region_code": "4", "grade": "A", "record_types": []},
                     {"kind": None, "category": "c", "region_code": "4301", "grade": None, "record_types": None}]
    with backend._conn() as conn:
        for i, name in enumerate(TOKEN_SAMPLES):
            facets = facet_samples[i % len(facet_samples)]
            for rest in ("", "超范围执业 行政处罚\n长沙市芙蓉区 61号", name):
                n, r = normalize(name), normalize(rest)
                (got,) = conn.execute(
                    f"SELECT {backend._tokens_sql} FROM (SELECT %s AS name_norm, %s AS rest_norm, %s AS name_words, "
                    "%s AS rest_words, %s AS kind, %s AS category, %s AS region_code, %s AS grade, "
                    "%s::text[] AS record_types) t", [n, r, _words(n), _words(r), *facets.values()]).fetchone()
                assert set(got) == python_tokens(n, r, facets), (name, rest, facets)


def test_postgres_two_nodes_share_one_store(pg):
    a, b = pg(), pg()
    a.upsert(DOCS)
    for _ in range(8):  # psycopg prepares a statement on its 5th use: the swap must not break it
        assert search(b, "人民医院").total == 3
    a.rebuild([doc("r1", "湘雅医院")])
    assert search(b, "人民医院").total == 0
    assert b.generation() == a.generation()
    assert ids(search(b, "医院")) == ["r1"]
    b.upsert([doc("r2", "湘雅二医院")])
    assert search(a, "湘雅").total == 2
    a.close()
    b.close()
    assert search(a, "湘雅").total == 2  # reopens after close
    a.rebuild([doc("r3", "湘雅三医院")])
    assert pg_tables(a) == {"search_state", "search_entries", "search_docs", "search_terms", "search_phrases"}  # nothing left over


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_postgres_backend_after_fork(pg):
    """gunicorn --preload: a worker forked from a master that already searched opens its own
    connections and leaves the master's alone."""
    def server_pid() -> int:
        with backend._conn() as conn:
            return conn.execute("SELECT pg_backend_pid()").fetchone()[0]

    backend = pg()
    backend.upsert(DOCS)
    assert search(backend, "人民医院").total == 3
    master = server_pid()  # the pooled connection a worker must not reuse
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        code = 1
        try:
            code = 3 if server_pid() == master else 0
            if not code and not (search(backend, "人民医院").total == 3 and backend.upsert([doc("f1", "分叉诊所")])):
                code = 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert search(backend, "人民医院").total == 3 and ids(search(backend, "分叉")) == ["f1"]


def test_postgres_failed_rebuild_keeps_the_old_index(pg):
    backend = pg()
    backend.upsert(DOCS)
    gen = backend.generation()

    def docs():
        yield doc("r1", "湘雅医院")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        backend.rebuild(docs())
    assert backend.count() == len(DOCS) and backend.generation() == gen
    assert search(backend, "人民医院").total == 3
    assert pg_tables(backend) == {"search_state", "search_entries", "search_docs", "search_terms", "search_phrases"}


def test_postgres_rebuild_holds_writers_off_not_readers(pg):
    builder, other = pg(), pg(lock_timeout="0.2")
    builder.upsert(DOCS)
    started, release = threading.Event(), threading.Event()

    def docs():
        yield doc("r1", "湘雅医院")
        started.set()
        assert release.wait(30)
        yield doc("r2", "湘雅二医院")

    result: list = []
    thread = threading.Thread(target=lambda: result.append(builder.rebuild(docs())))
    thread.start()
    try:
        assert started.wait(30)
        assert search(other, "人民医院").total == 3  # readers use the old tables meanwhile
        with pytest.raises(IndexLocked):
            other.upsert([doc("w1", "等待中的诊所")])
        with pytest.raises(IndexLocked):
            other.delete(["s1"])
    finally:
        release.set()
        thread.join(60)
    assert result == [2]
    assert other.upsert([doc("w1", "等待中的诊所")]) == 1
    assert set(ids(search(other, "湘雅"))) == {"r1", "r2"} and search(other, "人民医院").total == 0


def test_postgres_documents_with_nul_and_lone_surrogates(pg):
    """PostgreSQL text cannot hold NUL or lone surrogates; such documents still round-trip."""
    backend = pg()
    odd = doc("o\x00d\ud800", "医院\x00诊所\ud800", titles=["坏\ud83d标题"], category="a\x00b",
              address="\x01\x02路", record_types=["x\x00"])
    assert backend.upsert([odd, doc("n1", "普通医院")]) == 2
    (hit,) = search(backend, "诊所").hits
    assert hit.doc == odd and hit.id == odd["id"]
    assert "".join(s for s, _ in hit.highlights["name"]) == odd["name"]
    assert search(backend, "标题").total == 1
    assert search(backend, "", {"category": "a\x00b"}).total == 1  # NUL compares as stored
    assert backend.delete([odd["id"]]) == 1 and backend.count() == 1


def test_postgres_text_search_always_uses_the_token_index(pg):
    """Even for a character in every document the planner must not call the token function
    per row (a sequential scan over a province would take seconds)."""
    backend = pg()
    backend.rebuild(doc(f"d{i}", f"长沙市第{i}诊所", address=f"长沙市{i}号") for i in range(3000))
    pq = parse_query("市")
    where, _, params = backend.match_sql(pq, {})
    with backend._conn() as conn:
        plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN SELECT id FROM {backend.entries} WHERE {where}",
                                                     params))
    assert "search_entries_tokens" in plan and "Seq Scan" not in plan, plan
    assert search(backend, "市").total == 3000


def test_postgres_schema_version_mismatch_needs_a_rebuild(pg):
    from search_index.postgres_backend import SchemaMismatch

    backend = pg()
    backend.upsert(DOCS)
    with backend._conn() as conn:
        conn.execute(f"UPDATE {backend.state} SET version = 0")
    stale = pg()
    with pytest.raises(SchemaMismatch):
        search(stale, "医院")
    assert stale.rebuild(DOCS) == len(DOCS)
    assert search(stale, "医院").total == 3 and search(backend, "医院").total == 3


def test_postgres_schema_and_prefix_options(pg_schema_url):
    """``schema=`` qualifies every object (instead of search_path); ``table_prefix`` keeps
    several stores apart in one schema."""
    url = make_url(pg_schema_url)
    schema = url.query["options"].split("=", 1)[1]
    plain = url.difference_update_query(["options"]).render_as_string(hide_password=False)
    a = open_backend(f"{plain}?schema={schema}")
    b = open_backend(f"{plain}?schema={schema}&table_prefix=other_")
    c = open_backend(pg_schema_url)
    try:
        a.upsert(DOCS)
        b.upsert([doc("x1", "别的医院")])
        assert a.count() == len(DOCS) and b.count() == 1
        assert ids(search(b, "医院")) == ["x1"]
        assert c.count() == len(DOCS)  # search_path finds the same tables
        assert {"search_entries", "other_entries"} <= pg_tables(c)
    finally:
        for backend in (a, b, c):
            backend.close()


# -- open_backend --------------------------------------------------------------------------------


def test_open_backend(tmp_path, monkeypatch):
    assert isinstance(open_backend("memory://"), MemoryBackend)
    b = open_backend(f"whoosh://{tmp_path}/abs")
    assert isinstance(b, WhooshBackend) and b.root == tmp_path / "abs"
    monkeypatch.chdir(tmp_path)
    b = open_backend("whoosh://rel/ix")
    assert isinstance(b, WhooshBackend) and (tmp_path / "rel" / "ix" / "CURRENT").exists()
    b = open_backend(f"tantivy://{tmp_path}/tabs")
    assert isinstance(b, TantivyBackend) and b.root == tmp_path / "tabs"
    b = open_backend("tantivy://rel/tix")
    assert isinstance(b, TantivyBackend) and (tmp_path / "rel" / "tix" / "CURRENT").exists()


def test_open_backend_postgres_urls():
    """No server needed: nothing connects before the first search."""
    b = open_backend("postgresql://u:pw@db.example:5433/portal?table_prefix=ix_&schema=search&pool_size=3"
                     "&lock_timeout=2.5&sslmode=require")
    assert isinstance(b, PostgresBackend)
    assert (b.prefix, b.schema, b.pool_size, b.lock_timeout) == ("ix_", "search", 3, 2.5)
    assert b.entries == '"search"."ix_entries"'
    assert b.url.drivername == "postgresql+psycopg" and b.url.password == "pw"
    assert dict(b.url.query) == {"sslmode": "require", "options": "-cjit=off"}  # the rest goes to libpq
    for url in ("postgresql+psycopg://u@h/db", "postgres://u@h/db"):
        b = open_backend(url)
        assert isinstance(b, PostgresBackend) and b.url.drivername == "postgresql+psycopg"
        assert b.entries == '"search_entries"'
    b = open_backend("postgresql://u@h/db?options=-csearch_path%3Dx")
    assert b.url.query["options"] == "-csearch_path=x -cjit=off"


@pytest.mark.parametrize("url", ["", "whoosh://", "tantivy://", "tantivy:///", "elasticsearch://x", "/tmp/ix",
                                 "memory:", None, "postgresql://h/db?table_prefix=Bad-Prefix",
                                 "postgresql://h/db?schema=a.b", "postgresql://h/db?pool_size=x",
                                 "postgresql://h/db?table_prefix=a&table_prefix=b"])
def test_open_backend_rejects(url):
    with pytest.raises(ValueError):
        open_backend(url)


def _random_docs(rng, n: int, start: int = 0) -> list[dict]:
    """Names, titles and addresses from a few characters and words, so that one-term queries
    match many documents in every ranking tier (exact, prefix, in the name, elsewhere)."""
    chars, words = "卫生院医诊所药房长沙市", ["ab", "abc", "abd", "x1", "x12"]
    cats = [("hospital", "医院"), ("clinic", "诊所、门诊部"), ("pharmacy", "药店")]
    out = []
    for i in range(start, start + n):
        name = "".join(rng.choice(chars) for _ in range(rng.randint(1, 5)))
        if rng.random() < 0.3:
            name += " " + rng.choice(words)
        cat, label = rng.choice(cats)
        out.append(doc(f"r{i}", name, category=cat, category_label=label,
                       region_code=rng.choice(["430102", "430103", "320106"]),
                       grade=rng.choice(["", "A", "B"]), risk_rank=rng.choice([0, 0, 0, 1, 3]),
                       record_types=rng.sample(["penalty", "commendation", "inspection"], rng.randint(0, 2)),
                       titles=["".join(rng.choice(chars) for _ in range(3))] if rng.random() < 0.5 else [],
                       address=rng.choice(["", "长沙市卫生路", "ab路 x12号"])))
    return out


def _answer(backend, text: str, page: int) -> tuple:
    r = search(backend, text, page=page, per_page=7)
    return r.total, [h.id for h in r.hits], r.facets


def test_postgres_term_statistics_give_the_statements_answers(pg):
    """One-term queries answered from p_terms (counts) and the rank index (page), walking or
    gathering each tier, equal the memory backend's answers, also after upserts that change
    names, facets and ranks, new documents and deletes (the counts are kept by every write)."""
    import random

    rng = random.Random(17)
    docs = _random_docs(rng, 300)
    walk, gather = pg(term_stats_min="5"), pg(term_stats_min="5", walk_budget="0")
    ref = MemoryBackend()
    walk.rebuild(docs)
    ref.upsert(docs)
    terms = ["卫", "卫生", "生院", "医", "诊所", "长沙", "市", "ab", "abc", "x1", "x12", "路", "院医"]
    with walk._conn() as conn:  # these are frequent: the statistics answer them
        for t in ("卫生", "ab", "市"):
            assert walk._term_rows(conn, parse_query(t), t, 0, 7) is not None, t

    def agree() -> None:
        for t in terms:
            for page in (1, 2, 5, 40):
                want = _answer(ref, t, page)
                assert _answer(walk, t, page) == want, (t, page)
                assert _answer(gather, t, page) == want, (t, page)

    agree()
    changed = [d | {"name": d["name"][::-1], "grade": "C", "risk_rank": 2} for d in docs[:40]]
    changed += [d | {"category": "hotel", "category_label": "住宿场所", "record_types": ["penalty"]}
                for d in docs[40:60]]
    changed += _random_docs(rng, 30, start=300)
    for b in (walk, ref):
        assert b.upsert(changed) == len(changed)
        assert b.delete([d["id"] for d in docs[100:130]]) == 30
    agree()
    walk.upsert(changed[:5])  # the same documents again: counts unchanged
    agree()
    walk.clear()
    assert _answer(walk, "卫生", 1) == (0, [], _answer(MemoryBackend(), "卫生", 1)[2])


def test_postgres_frequent_term_page_walks_the_rank_index(pg):
    """A frequent term's page is read down the rank index and stops after the page: neither
    the token index (every match) nor a sequential scan; its counts come from p_terms."""
    backend = pg(term_stats_min="100")
    backend.rebuild(doc(f"d{i}", f"长沙市第{i}诊所", address=f"长沙市{i}号", risk_rank=i % 3) for i in range(3000))
    pq = parse_query("诊所")
    with backend._conn() as conn:
        stats = conn.execute(*backend.term_stats_sql("诊所")).fetchall()
        assert ("", "", 3000) in stats and ("~tier", "2", 3000) in stats
        _, sql, params = backend.term_page_sql(pq, "诊所", stats, 0, 20)
        plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN (ANALYZE, TIMING OFF) {sql}", params))
    assert "search_entries_rank" in plan and "Seq Scan" not in plan and "tokens" not in plan, plan
    r = search(backend, "诊所")
    assert r.total == 3000 and [h.id for h in r.hits][:2] == ["d2", "d5"]  # riskier first, then shorter


def test_postgres_filters_narrow_the_token_index_lookup(pg):
    """A filter is a facet token in the same GIN lookup as the text (issue #17): only the rows
    that match both are read, and the answers stay the memory backend's (region prefixes of a
    province / city, exact districts and odd codes, record types, filter-only queries)."""
    import random

    rng = random.Random(5)
    docs = [doc(f"d{i}", f"长沙市第{i}{rng.choice(['诊所', '医院', '药房'])}",
                category=rng.choice(["clinic", "hospital", "pharmacy"]), grade=rng.choice(["", "A", "B"]),
                region_code=rng.choice(["430102", "430103", "430211", "320106", "4301", "43", "x" * 250]),
                record_types=rng.sample(["penalty", "commendation"], rng.randint(0, 2)))
            for i in range(2000)]
    backend, ref = pg(), MemoryBackend()
    backend.rebuild(docs)
    ref.upsert(docs)
    filters = [{"category": "clinic"}, {"category": "clinic", "region_code": "430100"},
               {"region_code": "430000"}, {"region_code": "430102"}, {"region_code": "4301"},
               {"region_code": "43"}, {"region_code": "x" * 250}, {"grade": ""}, {"grade": "A", "kind": "org"},
               {"record_types": "penalty", "region_code": "430200"}, {"kind": "person"}]
    for f in filters:
        for text in ("", "诊所", "医", "长沙市第1", "1"):
            want, got = search(ref, text, f, per_page=7, page=2), search(backend, text, f, per_page=7, page=2)
            assert (got.total, [h.id for h in got.hits], got.facets) == (
                want.total, [h.id for h in want.hits], want.facets), (text, f)
    pq = parse_query("诊所")
    where, _, params = backend.match_sql(pq, {"category": "clinic", "region_code": "430100"})
    assert "\x1fcclinic" in params["tokens"] and "\x1fp4301" in params["tokens"]
    with backend._conn() as conn:
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN (ANALYZE, TIMING OFF) SELECT id FROM {backend.entries} WHERE {where}", params))
    want = search(ref, "诊所", {"category": "clinic", "region_code": "430100"}).total
    # The bitmap holds only the rows of both the text and the filters: no row is read and dropped.
    assert "Bitmap Heap Scan" in plan and f"rows={want} " in plan and "Rows Removed" not in plan, plan


def test_postgres_frequent_phrases_give_the_statements_answers(pg):
    """A one-run query of three or more characters that many names contain (a frequent phrase,
    chosen by the rebuild) is answered from p_terms and the rank index like a frequent term,
    equal to the memory backend also after writes; phrases that were not chosen (found only
    outside the names, or rarer) take the statement, still exact (issue #17)."""
    import random

    rng = random.Random(23)

    def phrased(docs: list[dict]) -> list[dict]:
        out = []
        for d in docs:
            r = rng.random()
            name = d["name"] + "人民医院" if r < 0.3 else "人民医" + d["name"] if r < 0.45 else d["name"]
            out.append(d | {"name": name, "address": d["address"] + ("卫生服务站" if rng.random() < 0.4 else "")})
        return out

    docs = phrased(_random_docs(rng, 300))
    walk, gather = pg(term_stats_min="20"), pg(term_stats_min="20", walk_budget="0")
    ref = MemoryBackend()
    walk.rebuild(docs)
    ref.upsert(docs)
    with walk._conn() as conn:
        chosen = {t for (t,) in conn.execute(f"SELECT term FROM {walk.phrases}")}
        assert {"人民医院", "人民医", "民医院"} <= chosen and "卫生服务" not in chosen, chosen
        assert walk._term_rows(conn, parse_query("人民医院"), "人民医院", 0, 7) is not None
        assert walk._term_rows(conn, parse_query("卫生服务"), "卫生服务", 0, 7) is None
    phrases = ["人民医院", "人民医", "民医院", "卫生服务", "卫生服务站", "院人民医", "长沙市"]

    def agree() -> None:
        for t in phrases:
            for page in (1, 2, 9, 40):
                want = _answer(ref, t, page)
                assert _answer(walk, t, page) == want, (t, page)
                assert _answer(gather, t, page) == want, (t, page)

    agree()
    changed = [d | {"name": d["name"].replace("人民医院", "人民"), "risk_rank": 3} for d in docs[:50]]
    changed += [d | {"name": "人民医院" + d["name"], "category": "hotel"} for d in docs[50:80]]
    changed += phrased(_random_docs(rng, 40, start=300))
    for b in (walk, ref):
        assert b.upsert(changed) == len(changed)
        assert b.delete([d["id"] for d in docs[100:140]]) == 40
    agree()
    walk.upsert(changed[:5])  # unchanged documents: the counts stay
    agree()


def test_postgres_writes_recount_only_documents_whose_counted_columns_changed(pg):
    """Re-upserting an unchanged document, or one whose rank or codes changed, does not run the
    counting statements; a changed name, address or facet value does, and the counts follow."""
    from search_index.document import prepare
    from search_index.postgres_backend import _entry

    backend = pg(term_stats_min="2")
    docs = [doc(f"d{i}", f"长沙市第{i}诊所") for i in range(6)]
    backend.rebuild(docs)
    same = [docs[0], docs[1] | {"risk_rank": 3, "codes": ["12430000MB1234567X"]}]
    moved = [docs[2] | {"grade": "A"}, docs[3] | {"address": "长沙市芙蓉区"}, docs[4] | {"name": "株洲市诊所"},
             doc("new", "长沙市诊所")]
    with backend._conn() as conn:
        got = backend._recounted(conn, [_entry(prepare(d)) for d in same + moved])
    assert got == [d["id"] for d in moved]
    backend.upsert(same + moved)
    ref = MemoryBackend()
    ref.upsert(docs + same + moved)
    for text in ("诊所", "长沙", "株洲"):
        assert _answer(backend, text, 1) == _answer(ref, text, 1), text
