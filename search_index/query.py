"""User text → a structured query. Never raises and never interprets query syntax.

- Operators and syntax characters (``AND OR NOT * ? : " ( ) [ ] { } ^ ~`` …) are plain
  separators; the text is cut to MAX_QUERY_CHARS.
- A credit-code-like or licence-number-like token matches ``codes`` exactly.
- A CJK run matches as a substring (bigram phrase), a letter/digit word as a word prefix,
  in the name, titles or address; every term must match (AND).
- Ranking: exact name > name prefix > all terms in the name > elsewhere; among equals the
  riskier document first (the document's ``risk_rank``: on a serious-dishonesty list, D grade …,
  set by the portal), then shorter names, then name, then id (stable).
- ``sort="region"``: by region code, then riskier first, then shorter names, name, id.
"""
from __future__ import annotations

from dataclasses import dataclass

from .analysis import CJK, WORD, looks_like_code, normalize, normalize_code, normalize_with_map, runs
from .base import Hit, SearchQuery, SearchResults, Segments, clamp_paging, clean_filters, clean_sort, sorted_facets

MAX_QUERY_CHARS = 100
MAX_TERMS = 8
_OPERATORS = frozenset({"AND", "OR", "NOT", "&&", "||"})

# Ranking tiers, best first.
EXACT_NAME, NAME_PREFIX, ALL_IN_NAME, ELSEWHERE = 0, 1, 2, 3


@dataclass(frozen=True)
class ParsedQuery:
    cjk: tuple[str, ...] = ()  # CJK runs: substring match
    words: tuple[str, ...] = ()  # letter/digit words: word-prefix match
    codes: tuple[str, ...] = ()  # normalised codes: exact match on ``codes``
    key: str = ""  # the text terms run together, compared with a document's name_key

    @property
    def is_empty(self) -> bool:
        return not (self.cjk or self.words or self.codes)


def parse_query(text) -> ParsedQuery:
    if not isinstance(text, str) or not text:
        return ParsedQuery()
    chunks = [c for c in text[: MAX_QUERY_CHARS * 4].split() if c not in _OPERATORS]
    norm = normalize(" ".join(chunks))[:MAX_QUERY_CHARS]
    terms: list[tuple[str, str]] = []  # (kind, text) in order
    for chunk in norm.split():
        whole = normalize_code(chunk)
        if looks_like_code(whole):  # 湘DA7390008, 湘芙卫公证字〔2025〕第0001号, PDY-…: one code
            if ("code", whole) not in terms:
                terms.append(("code", whole))
            continue
        joined = list(runs(chunk.replace("-", "")))
        if any(kind == WORD and looks_like_code(run) for kind, _, run in joined):
            chunk_runs = joined  # "PDY-1234-…" is a code typed with hyphens
        else:
            chunk_runs = list(runs(chunk))
        for kind, _, run in chunk_runs:
            kind = "code" if kind == WORD and looks_like_code(run) else kind
            if (kind, run) not in terms:
                terms.append((kind, run))
    terms = terms[:MAX_TERMS]
    return ParsedQuery(
        cjk=tuple(t for k, t in terms if k == CJK),
        words=tuple(t for k, t in terms if k == WORD),
        codes=tuple(t for k, t in terms if k == "code"),
        key="".join(t for k, t in terms if k != "code"),
    )


def tier(pq: ParsedQuery, name_key: str, all_in_name: bool) -> int:
    """The ranking tier of a matching document (see the module docstring)."""
    if pq.key and name_key == pq.key:
        return EXACT_NAME
    if pq.key and name_key.startswith(pq.key):
        return NAME_PREFIX
    return ALL_IN_NAME if all_in_name else ELSEWHERE


def sort_key(tier_: int, risk: int, name_key: str, doc_id: str) -> tuple:
    return (tier_, -risk, len(name_key), name_key, doc_id)


def region_sort_key(region: str, risk: int, name_key: str, doc_id: str) -> tuple:
    return (region, -risk, len(name_key), name_key, doc_id)


def order_key(sort: str, tier_: int, region: str, risk: int, name_key: str, doc_id: str) -> tuple:
    """The position of a matching document in the order ``sort`` asks for (see above)."""
    if sort == "region":
        return region_sort_key(region, risk, name_key, doc_id)
    return sort_key(tier_, risk, name_key, doc_id)


def highlight(text: str, pq: ParsedQuery) -> Segments:
    """Split ``text`` into ``(segment, is_match)`` pairs for the query's CJK runs and word
    prefixes. Joining the segments gives ``text`` back unchanged; templates escape them."""
    if not text:
        return []
    if not _matches(normalize(text), pq):  # most addresses and titles of a hit: skip the map
        return [(text, False)]
    norm, origin = normalize_with_map(text)
    marked = [False] * len(text)

    def mark(start: int, stop: int) -> None:
        for i in range(start, stop):
            marked[origin[i]] = True

    for run in pq.cjk:
        i = norm.find(run)
        while i >= 0:
            mark(i, i + len(run))
            i = norm.find(run, i + 1)
    if pq.words:
        for kind, start, run in runs(norm):
            if kind == WORD:
                for w in pq.words:
                    if run.startswith(w):
                        mark(start, start + len(w))
    segments: Segments = []
    for ch, m in zip(text, marked, strict=False):
        if segments and segments[-1][1] == m:
            segments[-1] = (segments[-1][0] + ch, m)
        else:
            segments.append((ch, m))
    return segments


def _matches(norm: str, pq: ParsedQuery) -> bool:
    """Whether :func:`highlight` would mark anything in normalised text ``norm``."""
    if any(run in norm for run in pq.cjk):
        return True
    return bool(pq.words) and any(kind == WORD and run.startswith(w) for kind, _, run in runs(norm)
                                  for w in pq.words)


def has_match(segments: Segments) -> bool:
    return any(m for _, m in segments)



def make_hit(doc: dict, pq: ParsedQuery) -> Hit:
    """A hit with ``name`` always highlighted, ``address`` and the first matching title
    (as ``titles``) only when the query matched them."""
    highlights = {"name": highlight(str(doc.get("name") or ""), pq)}
    address = highlight(str(doc.get("address") or ""), pq)
    if has_match(address):
        highlights["address"] = address
    titles = doc.get("titles") or ()
    for title in [titles] if isinstance(titles, str) else titles:
        segments = highlight(str(title), pq)
        if has_match(segments):
            highlights["titles"] = segments
            break
    return Hit(id=doc["id"], doc=doc, highlights=highlights)


def start_search(q: SearchQuery) -> tuple[ParsedQuery, dict[str, str], int, int, SearchResults | None]:
    """What every backend's ``search`` starts from: the parsed text, clean filters and sane
    paging, and the empty result when there is nothing to search for (no text, no filter).
    The order is ``search_sort(q)``."""
    page, per_page = clamp_paging(q.page, q.per_page)
    filters = clean_filters(q.filters)
    pq = parse_query(q.text)
    empty = SearchResults(0, page, per_page, 0, [], sorted_facets({})) if pq.is_empty and not filters else None
    return pq, filters, page, per_page, empty


def search_sort(q: SearchQuery) -> str:
    return clean_sort(getattr(q, "sort", ""))
