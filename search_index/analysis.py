"""Text analysis shared by every backend: normalisation, CJK runs, bigram tokens, codes.

Names are matched by substring, so CJK text is indexed as overlapping bigrams (plus a unigram
for the last character of a run, so that every character starts exactly one token and a
one-character query can be a prefix match). A CJK query run matches when it is a substring of
the normalised text: its bigrams find the candidates, the substring check confirms them (what
a bigram phrase query does). Letter/digit runs are whole tokens, matched by prefix.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

CJK = "cjk"
WORD = "word"

#: Bump when what an index holds for a document changes (tokens, codes: anything ``prepare``
#: derives). An index built by an older version still answers, but documents indexed before miss
#: the new terms until re-indexed: ``credit-portal index status`` says so (:func:`stale_index`).
#: 1: until 2026-12; 2: ``name_codes`` indexes parts of a name with digits (诊所12345678, #17).
ANALYSIS_VERSION = 2

_CJK_CLASS = (
    "\u3007"  # 〇
    "\u3400-\u4dbf"  # Extension A
    "\u4e00-\u9fff"  # Unified Ideographs
    "\uf900-\ufaff"  # Compatibility Ideographs
    "\U00020000-\U0003134f"  # Extensions B–G
)
# A CJK run, or a run of letters/digits ([^\W_] is str.isalnum()) that are not CJK.
_RUN_RE = re.compile(f"([{_CJK_CLASS}]+)|((?:(?![{_CJK_CLASS}])[^\\W_])+)")
_CJK_RE = re.compile(f"[{_CJK_CLASS}]")

# A credit code (USCC, 18 chars, or its first 8+), a licence / certificate number (PDY…, 15-digit
# practising numbers) or one with Chinese characters (湘DA7390008, 湘芙卫公证字〔2025〕第0001号 once
# compacted): 8–40 letters, digits and CJK, of which at least 6 are digits.
_MIN_CODE_CHARS, _MAX_CODE_CHARS = 8, 40
_CODE_CHAR_RE = re.compile(f"[{_CJK_CLASS}0-9a-z]")
_CODE_RE = re.compile(f"{_CODE_CHAR_RE.pattern}{{{_MIN_CODE_CHARS},{_MAX_CODE_CHARS}}}")
_MIN_CODE_DIGITS = 6
_USCC_RE = re.compile(r"[0-9a-z]{18}")
_MIN_CODE_PREFIX = 8


def is_cjk(ch: str) -> bool:
    return bool(_CJK_RE.fullmatch(ch))


@functools.lru_cache(maxsize=65536)
def _normalize_char(ch: str) -> str:
    if unicodedata.category(ch)[0] == "C":  # control, format, surrogate, private use, unassigned
        return " "
    return unicodedata.normalize("NFKC", ch).lower()


def normalize(text: str | None) -> str:
    """Full-width → half-width (NFKC), lower-case, control characters → space. Character by
    character, so that :func:`normalize_with_map` can map results back to the original."""
    if not text:
        return ""
    return "".join(map(_normalize_char, text))


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """Normalise ``text`` and return, for every normalised character, the index of the
    original character it came from (NFKC may change lengths, e.g. ``㈱`` → ``(株)``)."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        n = _normalize_char(ch)
        out.append(n)
        origin.extend([i] * len(n))
    return "".join(out), origin


def runs(norm: str) -> Iterator[tuple[str, int, str]]:
    """Yield ``(kind, start, text)`` for each CJK run and each word (letter/digit) run of
    already-normalised text. Everything else separates runs."""
    for m in _RUN_RE.finditer(norm):
        yield (CJK if m.group(1) else WORD), m.start(), m.group()


def compact(norm: str) -> str:
    """The letters, digits and CJK characters of normalised text, without separators."""
    return "".join(text for _, _, text in runs(norm))


def index_tokens(text: str | None) -> Iterator[tuple[str, int]]:
    """``(token, position)`` pairs for indexing; position is the character offset in the
    normalised text, so consecutive bigrams of one run have consecutive positions."""
    for kind, start, run in runs(normalize(text)):
        if kind == WORD:
            yield run, start
        else:
            for i in range(len(run)):
                yield run[i : i + 2], start + i


def bigrams(run: str) -> list[str]:
    """The consecutive bigrams of a CJK run of at least two characters."""
    return [run[i : i + 2] for i in range(len(run) - 1)]


def normalize_code(code: str | None) -> str:
    """Codes match exactly but case-insensitively; full-width, spaces, hyphens and brackets are
    ignored: only letters, digits and CJK characters count (〔2025〕 = (2025) = 2025)."""
    return compact(normalize(code))


def looks_like_code(token: str) -> bool:
    """True for a normalised token shaped like a credit code or licence number."""
    return bool(_CODE_RE.fullmatch(token)) and sum("0" <= c <= "9" for c in token) >= _MIN_CODE_DIGITS


def code_variants(code: str) -> set[str]:
    """What an indexed code is also found by, besides itself (issue #13): a USCC by its first 8
    to 17 characters (8 = up to the region code); a number with a Chinese province head
    (湘DA7390008) also without that head, as people copy it from a receipt."""
    out = {code}
    if _USCC_RE.fullmatch(code):
        out.update(code[:n] for n in range(_MIN_CODE_PREFIX, len(code)))
    head = 0
    while head < len(code) and is_cjk(code[head]):
        head += 1
    if 0 < head < len(code) and looks_like_code(code[head:]):
        out.add(code[head:])
    return out


def name_codes(name: str | None) -> set[str]:
    """What a name is also found by as a code: a query chunk shaped like a code (8+ characters,
    6+ digits, e.g. "某某诊所12345678" or "仁和堂大药房（20250001）") is matched against ``codes``
    only, so every stretch of the name that a user may type as one such chunk is indexed as a
    code too: the full name as printed, and also a part of it ("诊所12345678", "药房20250001",
    "12345678号卫生室"), the way a CJK query finds a name by any substring.

    A stretch is cut from the compact name (separators dropped, as :func:`normalize_code` drops
    them from the query) anywhere inside a CJK run but never inside a letter/digit run: a number
    is whole ("诊所1234567" is another number, as for licence codes) and a word is not cut
    ("c20251234" does not find "Clinic20251234"). Only names with 6+ digits have any; the 40
    character limit of a code bounds how many (a few hundred for the longest names)."""
    pieces = list(runs(normalize(name)))
    text = "".join(run for _, _, run in pieces)
    digits, others = [0], [0]  # of text[:k]: how many are digits, how many cannot be in a code
    for c in text:
        digits.append(digits[-1] + ("0" <= c <= "9"))
        others.append(others[-1] + (not _CODE_CHAR_RE.match(c)))
    if digits[-1] < _MIN_CODE_DIGITS:
        return set()
    cuts: list[int] = []  # where a stretch may start or end, in ``text`` offsets
    offset = 0
    for kind, _, run in pieces:
        cuts.extend(range(offset, offset + len(run)) if kind == CJK else [offset])
        offset += len(run)
    cuts.append(offset)
    out: set[str] = set()
    for n, i in enumerate(cuts):
        for j in cuts[n + 1:]:
            if j - i > _MAX_CODE_CHARS:
                break
            if j - i >= _MIN_CODE_CHARS and digits[j] - digits[i] >= _MIN_CODE_DIGITS and others[j] == others[i]:
                out.add(text[i:j])  # looks_like_code(text[i:j]), from the counts
    return out


def stale_index(backend) -> int | None:
    """The older :data:`ANALYSIS_VERSION` ``backend``'s live index was built with, or None when it
    is current or the backend does not record it (memory: always current; PostgreSQL records its
    ``SCHEMA_VERSION`` only and refuses a store of another one until rebuilt, so a change of
    analysis that must reach its stores bumps that too)."""
    version = getattr(backend, "analysis_version", None)
    built = version() if version is not None else None
    return built if built is not None and built < ANALYSIS_VERSION else None
