"""Citations in formal documents: the regulation's full name, never a shorthand or a key.

Profiles cite articles in shorthand ("湖南 第二十八条", "湖南医保 第二十五条第二款", "阳山 四（六）").
A formal PDF names the regulation in full, from the active profile's ``document``
(《湖南省卫生健康信用信息管理办法（试行）》第二十八条), and cites only the active regulation and
national documents (国办发…): a Hunan portal's letter never rests on 海南's draft or on another
place's plan, so a borrowed citation is left out, and when nothing of the active regulation
remains the text says the regulation does not specify it (``unspecified``).

Pure functions over strings; no Flask, no database.
"""
from __future__ import annotations

import re

# The shorthand each profile uses for its own document (portal/profiles/*.toml "article" values).
SHORTHANDS = ("湖南医保", "湖南", "海南", "淮安", "阳山")  # longest first: 湖南医保 before 湖南
_PART = re.compile(rf"^({'|'.join(SHORTHANDS)})\s*(.*)$", re.S)
_DOC_NO = re.compile(r"（[^（）]*〔\d{4}〕[^（）]*）$")  # a trailing （湘卫发〔2025〕11号）
_SEPARATORS = "；;"
# Notes for maintainers inside a citation ("（…；此处为可编辑默认值）") are not for a formal document.
_EDITOR_NOTE = re.compile(r"（[^（）]*默认[^（）]*）")


# A shorthand used as a citation: followed by an article (第N条), a section of a plan (四（七）, 二、) or
# an annex (附件), or after "参照" ("时限参照湖南 第二十八条", "参照湖南").
_NUMERAL = "一二三四五六七八九十百"
_CITATION = re.compile(rf"(?:参照\s*({'|'.join(SHORTHANDS)}))"
                       rf"|({'|'.join(SHORTHANDS)})\s*(?=第[{_NUMERAL}]+条|[{_NUMERAL}]+[（、]|[{_NUMERAL}]+$|附件)")


def foreign_citations(text: str, document: str) -> list[str]:
    """The shorthands ``text`` cites that are not the profile's own (from its ``document``):
    "阳山 四（七）；湖南 第二十六条（一）（参照）" under 阳山 → ["湖南"]. National documents (国办发…)
    and place names ("湖南省医疗保障局") are not shorthand citations."""
    own = own_shorthand(document)
    found = [m.group(1) or m.group(2) for m in _CITATION.finditer(text or "")]
    return [short for short in found if short != own]


def regulation_name(document: str) -> str:
    """The profile's ``document`` without a trailing document number:
    "《湖南省卫生健康信用信息管理办法（试行）》（湘卫发〔2025〕11号）" → "《湖南省卫生健康信用信息管理办法（试行）》";
    a draft keeps its "（征求意见稿）"."""
    return _DOC_NO.sub("", document.strip())


def own_shorthand(document: str) -> str | None:
    """Which shorthand is the profile's own, from the name of its document."""
    for short, needle in (("湖南医保", "湖南省医疗保障"), ("湖南", "湖南省卫生健康"), ("海南", "海南省"),
                          ("淮安", "淮安市"), ("阳山", "阳山县")):
        if needle in document:
            return short
    return None


def cite(article: str, document: str) -> str:
    """``article`` (profile shorthand, parts joined by "；") as a formal citation.

    Parts citing the active regulation get its full name; national documents stay as written;
    parts citing another place's document are dropped. With nothing left: ``unspecified``."""
    own = own_shorthand(document)
    name = regulation_name(document)
    kept = []
    for part in (p.strip() for p in _parts(_EDITOR_NOTE.sub("", article or ""))):
        if not part:
            continue
        m = _PART.match(part)
        if m is None and "默认" in part:
            continue  # "预警规则：办法未作规定，为本平台可编辑默认值": a note for maintainers, not a citation
        if m is None:
            kept.append(part)  # 国办发〔2025〕22号 and the like: a national document, cited by number
        elif m.group(1) == own:
            kept.append(f"{name}{m.group(2).strip()}")
    return "；".join(kept) if kept else unspecified(document)


def own_parts(article: str, document: str) -> str:
    """The parts of ``article`` a page may show under the profile whose ``document`` is given, in
    shorthand: the own regulation's and national documents'; another place's and editors' notes
    ("本平台可编辑默认值") are left out. "" when nothing remains.
    "海南 第五十一条；湖南 第三十三条" under 湖南 → "湖南 第三十三条"; under 阳山 → ""."""
    own = own_shorthand(document)
    kept = []
    for part in (p.strip() for p in _parts(article or "")):
        m = _PART.match(part)
        if not part or (m is None and "默认" in part) or (m is not None and m.group(1) != own):
            continue
        kept.append(part)
    return "；".join(kept)


def own_note(article: str, document: str) -> str:
    """``own_parts`` in brackets for running text ("（湖南 第三十三条）"), or "" when nothing is own."""
    kept = own_parts(article, document)
    return f"（{kept}）" if kept else ""


def _parts(text: str) -> list[str]:
    """Split at "；" outside brackets ("海南 第二十七条（实名认证；参照）" is one part)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(0, depth - 1)
        elif ch in _SEPARATORS and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def unspecified(document: str) -> str:
    return f"{regulation_name(document)}未作具体规定，为本平台执行的做法"


def profile_cite(profile, article: str) -> str:
    """``cite`` with the active profile's document name."""
    return cite(article, profile.document)
