"""search_index.analysis and search_index.query: normalisation, tokens, the query builder."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from search_index.analysis import (
    compact,
    index_tokens,
    looks_like_code,
    name_codes,
    normalize,
    normalize_code,
    normalize_with_map,
    runs,
)
from search_index.query import (
    ALL_IN_NAME,
    ELSEWHERE,
    EXACT_NAME,
    MAX_QUERY_CHARS,
    NAME_PREFIX,
    ParsedQuery,
    highlight,
    parse_query,
    sort_key,
    tier,
)


def test_normalize_fullwidth_case_and_controls():
    assert normalize("ＡＢＣ１２３　医院") == "abc123 医院"
    assert normalize("Ａ\x00Ｂ\u200b") == "a b "
    assert normalize("") == normalize(None) == ""


def test_normalize_with_map_points_back_to_the_original():
    norm, origin = normalize_with_map("㈱医")
    assert norm == "(株)医"
    assert origin == [0, 0, 0, 1]


def test_runs_split_cjk_and_words():
    assert list(runs("长沙abc12号-门诊")) == [("cjk", 0, "长沙"), ("word", 2, "abc12"), ("cjk", 7, "号"),
                                              ("cjk", 9, "门诊")]
    assert list(runs("!!! 😀 _")) == []


def test_bigram_tokens_with_a_trailing_unigram():
    assert list(index_tokens("人民医院")) == [("人民", 0), ("民医", 1), ("医院", 2), ("院", 3)]
    assert list(index_tokens("Ａ区3号")) == [("a", 0), ("区", 1), ("3", 2), ("号", 3)]
    assert list(index_tokens("")) == []


def test_compact():
    assert compact(normalize("长沙 · 第一（人民）医院")) == "长沙第一人民医院"


@pytest.mark.parametrize("code", ["91430100MA4L12345X", "PDY12345X43010217A1001", "110430100000547"])
def test_codes_look_like_codes(code):
    assert looks_like_code(normalize_code(code))


@pytest.mark.parametrize("text", ["12345", "abcdefghijklmn", "hospital2025", "x" * 50 + "123456"])
def test_other_words_do_not(text):
    assert not looks_like_code(normalize_code(text))


def test_normalize_code():
    assert normalize_code(" ９１４３-0100 ma4l ") == "91430100ma4l"


def test_parse_cjk_words_and_codes():
    pq = parse_query("长沙 人民医院 ABC 91430100MA4L12345X")
    assert pq == ParsedQuery(cjk=("长沙", "人民医院"), words=("abc",), codes=("91430100ma4l12345x",),
                             key="长沙人民医院abc")


def test_parse_code_with_hyphens_and_fullwidth():
    assert parse_query("PDY-12345-X43010217A1001").codes == ("pdy12345x43010217a1001",)
    assert parse_query("９１４３０１００ＭＡ４Ｌ１２３４５Ｘ").codes == ("91430100ma4l12345x",)


def test_hyphenated_words_that_are_not_codes_stay_words():
    assert parse_query("a-b").words == ("a", "b")


@pytest.mark.parametrize("text", ['name:x OR *', 'AND OR NOT', '"unbalanced', "(a) [b] {c} ^d ~e f? g*", "\\"])
def test_syntax_is_only_separators(text):
    pq = parse_query(text)
    assert all(t.isalnum() for t in pq.words)
    assert "or" not in pq.words and "and" not in pq.words


def test_operators_in_lower_case_are_words():
    assert parse_query("and").words == ("and",)


@pytest.mark.parametrize("text", ["", "   ", "!!!", "。，、", "😀", "\x00", None, 42, ["医院"], "AND OR"])
def test_nothing_to_search(text):
    assert parse_query(text).is_empty


def test_length_and_term_limits():
    pq = parse_query("医" * 5000)
    assert pq.cjk == ("医" * MAX_QUERY_CHARS,)
    pq = parse_query(" ".join(f"词{i}" for i in range(50)))
    assert len(pq.cjk) + len(pq.words) <= 8


def test_duplicate_terms_collapse():
    assert parse_query("医院 医院 ab AB").cjk == ("医院",)
    assert parse_query("医院 医院 ab AB").words == ("ab",)


def test_tiers():
    pq = parse_query("人民医院")
    assert tier(pq, "人民医院", True) == EXACT_NAME
    assert tier(pq, "人民医院分院", True) == NAME_PREFIX
    assert tier(pq, "长沙人民医院", True) == ALL_IN_NAME
    assert tier(pq, "长沙市卫健委", False) == ELSEWHERE
    assert tier(parse_query("91430100MA4L12345X"), "", False) == ELSEWHERE
    assert sort_key(1, 0, "ab", "s1") < sort_key(1, 0, "abc", "s0") < sort_key(2, 0, "a", "s0")
    # among equal matches the riskier document first, before the shorter name (#13)
    assert sort_key(1, 2, "abc", "s0") < sort_key(1, 1, "ab", "s1") < sort_key(1, 0, "a", "s2") < sort_key(2, 9, "a", "s0")


@pytest.mark.parametrize("text, query", [("长沙市第一人民医院", "人民"), ("ＡＢＣ齿科", "ab"), ("㈱医疗", "医"),
                                         ("İstanbul诊所", "i̇s"), ("a\x00b", "ab"), ("", "x"), ("😀医院😀", "医院"),
                                         ("人民人民", "人民"), ("abc", "")])
def test_highlight_reconstructs(text, query):
    segments = highlight(text, parse_query(query))
    assert "".join(s for s, _ in segments) == text
    assert all(s for s, _ in segments)  # no empty segments
    assert all(a[1] != b[1] for a, b in zip(segments, segments[1:], strict=False))  # merged


def test_highlight_marks_cjk_runs_and_word_prefixes():
    assert highlight("长沙市第一人民医院", parse_query("人民 长沙")) == [("长沙", True), ("市第一", False), ("人民", True),
                                                                    ("医院", False)]
    assert highlight("ＡＢＣ齿科", parse_query("ab")) == [("ＡＢ", True), ("Ｃ齿科", False)]
    assert highlight("哈哈哈", parse_query("哈哈")) == [("哈哈哈", True)]  # overlapping matches
    assert highlight("长沙市 bc㈱", parse_query("人民 abc")) == [("长沙市 bc㈱", False)]  # no match at all


def test_search_index_never_imports_portal_or_flask():
    root = Path(__file__).resolve().parents[2]
    code = ("import sys, search_index, search_index.whoosh_backend, search_index.tantivy_backend, search_index.urls; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('portal', 'flask')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


def test_name_codes_are_the_code_shaped_stretches_of_a_name():
    """Cut anywhere inside a CJK run, never inside a number or a word; 8–40 characters, 6+ digits."""
    assert name_codes("某某诊所１２３４５６７８") == {"某某诊所12345678", "某诊所12345678", "诊所12345678", "所12345678",
                                           "12345678"}
    assert name_codes("仁和堂（2025 0001）") == {"仁和堂20250001", "和堂20250001", "堂20250001", "20250001"}
    assert name_codes("Clinic20251234 门诊") == {"clinic20251234", "clinic20251234门", "clinic20251234门诊"}
    assert name_codes("某某诊所") == name_codes("诊所12345") == name_codes(None) == set()
    long = "长" * 40 + "123456"
    assert max(map(len, name_codes(long))) == 40 and "长" * 34 + "123456" in name_codes(long)
