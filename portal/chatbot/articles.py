"""Regulation texts split into citable units, and citation references parsed from profiles.

Measures (办法) are split per article (第N条, with its 【heading】 when the text has one);
implementation plans (方案) that number sections instead are split per section and item
(``三（七）``). The texts ship in ``data/regulations`` with ``SOURCES.toml`` naming each document.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .normalise import cn_number, cn_numeral

REGULATIONS_DIR = Path(__file__).resolve().parent / "data" / "regulations"

_NUM = "零〇一二三四五六七八九十百两"
_ARTICLE = re.compile(rf"^第([{_NUM}]+)条\s*(?:【([^】]*)】)?\s*(.*)$")
_CHAPTER = re.compile(rf"^第([{_NUM}\d]+)章\s*(.*)$")
_BARE_CHAPTER = re.compile(r"^(总\s*则|附\s*则)$")
_ANNEX = re.compile(r"^附件\s*(\d+)\s*$")
_SECTION = re.compile(rf"^(?:#+\s*)?(?:\*\*)?([{_NUM}]+)、\s*(.*?)(?:\*\*)?\s*$")
_ITEM = re.compile(rf"^[（(]([{_NUM}]+)[)）]\s*(.*)$")
_BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")
_SENTENCE_END = tuple("。；：！？.;:!?）)」”")


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    short: str
    aliases: tuple[str, ...]
    doc_no: str
    issuer: str
    status: str
    profiles: tuple[str, ...]
    structure: str
    public: str
    file: str
    basis: str = ""

    @property
    def cite_title(self) -> str:
        """《title》（文号） as shown in a citation."""
        return f"《{self.title}》" + (f"（{self.doc_no}）" if self.doc_no else "")


@dataclass(frozen=True)
class Article:
    """One citable unit: an article (``第二十八条``) or a plan's section/item (``三（七）``)."""

    doc_id: str
    label: str  # 第二十八条 | 三（七） | 附件1 | 前言
    anchor: str  # a28 | s3-7 | annex1 | intro
    heading: str  # 【异议处理】 text, or the section title
    chapter: str
    text: str
    number: int | None = None  # the article number (articles only)


@dataclass
class Regulations:
    documents: dict[str, Document]
    articles: dict[str, list[Article]] = field(default_factory=dict)

    def article(self, doc_id: str, label: str) -> Article | None:
        return next((a for a in self.articles.get(doc_id, ()) if a.label == label), None)

    def doc_by_short(self, name: str) -> Document | None:
        """The document a short name points to; a name may carry a lead-in such as
        ``时限参照湖南`` (the longest known name at its end wins)."""
        best, size = None, 0
        for d in self.documents.values():
            for known in (d.short, *d.aliases, d.id):
                if name.endswith(known) and len(known) > size:
                    best, size = d, len(known)
        return best


def _clean_lines(text: str) -> list[str]:
    """Lines without bookmarks, markdown emphasis, issuing trailers; paragraphs broken by a page
    break in the middle of a sentence joined again."""
    out: list[str] = []
    pending_join = False
    for raw in text.splitlines():
        line = _BOOKMARK.sub("", raw).replace("\u3000", " ").strip()
        line = line.replace("**", "")
        if not line:
            continue
        if re.match(r"^-\s*\d+\s*-$", line) or line.endswith("印发") and re.search(r"\d{4}年\d+月\d+日印发$", line):
            continue
        heading = bool(_ARTICLE.match(line) or _CHAPTER.match(line) or _SECTION.match(line) or _ITEM.match(line))
        if pending_join and out and not heading:
            out[-1] += line
        else:
            out.append(line)
        pending_join = len(out[-1]) >= 30 and not out[-1].endswith(_SENTENCE_END)
    return out


def split_articles(doc_id: str, text: str) -> list[Article]:
    """Split a measures text per 第N条. Chapter titles are kept on each article; annexes
    (附件1 …) become units of their own; text before the first article is dropped (title,
    issuing notice)."""
    articles: list[Article] = []
    chapter = ""
    current: dict | None = None

    def flush() -> None:
        if current is not None:
            body = "\n".join(current["lines"]).strip()
            articles.append(Article(doc_id=doc_id, label=current["label"], anchor=current["anchor"],
                                    heading=current["heading"], chapter=current["chapter"], text=body,
                                    number=current["number"]))

    for line in _clean_lines(text):
        if m := _CHAPTER.match(line):
            flush()
            current = None
            chapter = f"第{m.group(1)}章 {m.group(2).strip()}".strip()
            continue
        if _BARE_CHAPTER.match(line):
            flush()
            current = None
            chapter = line.replace(" ", "")
            continue
        if m := _ANNEX.match(line):
            flush()
            n = int(m.group(1))
            current = {"label": f"附件{n}", "anchor": f"annex{n}", "heading": "", "chapter": "附件",
                       "number": None, "lines": []}
            continue
        if (m := _ARTICLE.match(line)) and not (current and current["chapter"] == "附件"):
            flush()
            n = cn_number(m.group(1))
            current = {"label": f"第{m.group(1)}条", "anchor": f"a{n}", "heading": (m.group(2) or "").strip(),
                       "chapter": chapter, "number": n, "lines": [m.group(3).strip()] if m.group(3).strip() else []}
            continue
        if current is not None:
            if current["chapter"] == "附件" and not current["heading"]:
                current["heading"] = line
            current["lines"].append(line)
    flush()
    return articles


def split_sections(doc_id: str, text: str) -> list[Article]:
    """Split a plan per top-level section (一、) and item (（一）): ``三（七）``. A section's
    own text before its first item is the unit ``三``; text before the first section is
    ``前言``."""
    units: list[Article] = []
    section_no: str | None = None
    section_title = ""
    current: dict = {"label": "前言", "anchor": "intro", "heading": "", "lines": []}

    def flush() -> None:
        body = "\n".join(current["lines"]).strip()
        if body:
            units.append(Article(doc_id=doc_id, label=current["label"], anchor=current["anchor"],
                                 heading=current["heading"], chapter=section_title, text=body))

    for line in _clean_lines(text):
        if line.startswith("#") and not _SECTION.match(line):
            line = line.lstrip("#").strip()
        if m := _SECTION.match(line):
            flush()
            section_no, section_title = m.group(1), m.group(2).strip()
            n = cn_number(section_no)
            current = {"label": section_no, "anchor": f"s{n}", "heading": section_title, "lines": []}
            continue
        if (m := _ITEM.match(line)) and section_no is not None:
            flush()
            item = m.group(1)
            rest = m.group(2).strip()
            heading = re.split(r"[。．.]", rest, maxsplit=1)[0] if rest else ""
            current = {"label": f"{section_no}（{item}）", "anchor": f"s{cn_number(section_no)}-{cn_number(item)}",
                       "heading": heading, "lines": [rest] if rest else []}
            continue
        current["lines"].append(line)
    flush()
    return units


def _document(doc_id: str, entry: dict) -> Document:
    return Document(id=doc_id, title=entry["title"], short=entry["short"], aliases=tuple(entry.get("aliases", ())),
                    doc_no=entry.get("doc_no", ""), issuer=entry["issuer"], status=entry["status"],
                    profiles=tuple(entry.get("profiles", ())), structure=entry["structure"],
                    public=entry["public"], file=entry["file"], basis=entry.get("basis", ""))


def load_regulations(directory: Path = REGULATIONS_DIR) -> Regulations:
    """Every document named in ``SOURCES.toml``, split into citable units."""
    sources = tomllib.loads((directory / "SOURCES.toml").read_text(encoding="utf-8"))
    regs = Regulations(documents={})
    for doc_id, entry in sources.items():
        doc = _document(doc_id, entry)
        regs.documents[doc_id] = doc
        text = (directory / doc.file).read_text(encoding="utf-8")
        split = split_articles if doc.structure == "articles" else split_sections
        regs.articles[doc_id] = split(doc_id, text)
    return regs


@lru_cache(maxsize=4)
def default_regulations(directory: str = str(REGULATIONS_DIR)) -> Regulations:
    return load_regulations(Path(directory))


# ---------------------------------------------------------------------------------------------
# Citation references as profiles write them


@dataclass(frozen=True)
class Ref:
    """One reference: a document (``doc_id`` None when not in our corpus, e.g. a State Council
    notice) and a unit label (``第二十八条``, ``三（七）``, or "" for the whole document);
    ``detail`` keeps what narrows it (``（二）``, ``第一、二款``, a note)."""

    doc_id: str | None
    doc_name: str
    label: str
    detail: str = ""


def _top_level_split(text: str, seps: str) -> list[str]:
    """Split on any of ``seps`` outside （）/() brackets."""
    parts, depth, buf = [], 0, []
    for c in text:
        if c in "（(":
            depth += 1
        elif c in "）)":
            depth = max(0, depth - 1)
        if c in seps and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(c)
    parts.append("".join(buf))
    return [p.strip() for p in parts if p.strip()]


_REF_ARTICLE = re.compile(rf"^第([{_NUM}]+)(?:[–\-—~～至到]第?([{_NUM}]+))?条(.*)$")
_REF_SECTION = re.compile(rf"^([{_NUM}]+)(?:[（(]([{_NUM}]+)[)）])?(.*)$")
_DOC_PREFIX = re.compile(r"^(\S+?)\s+(.*)$")


def parse_refs(text: str, regs: Regulations) -> list[Ref]:
    """Parse a profile citation such as ``湖南 第二十条（二）、第二十一条（二）、第二十三条``,
    ``湖南 第二十六–二十八条`` (a range: one ref per article), ``湖南 第二十九条（二）；
    国办发〔2025〕22号`` or ``淮安 三（七）``. Unknown documents give a ref without ``doc_id``."""
    refs: list[Ref] = []
    for part in _top_level_split(text or "", "；;"):
        m = _DOC_PREFIX.match(part)
        name, rest = (m.group(1), m.group(2)) if m else (part, "")
        doc = regs.doc_by_short(name)
        if doc is None:
            # e.g. 国办发〔2025〕22号（一般：3个月至1年）: cite the document as written
            note = re.search(r"[（(]([^（）()]*)[)）]$", part)
            refs.append(Ref(None, part[:note.start()] if note else part, "", note.group(1) if note else ""))
            continue
        found = False
        pieces: list[str] = []
        for piece in _top_level_split(rest, "、，,"):
            if pieces and doc.structure == "articles" and not piece.startswith("第"):
                pieces[-1] += "、" + piece  # 第二十八条第一、二款
            else:
                pieces.append(piece)
        for piece in pieces:
            if am := _REF_ARTICLE.match(piece):
                first = cn_number(am.group(1))
                last = cn_number(am.group(2)) if am.group(2) else first
                for n in range(first, max(first, last) + 1):
                    refs.append(Ref(doc.id, doc.title, f"第{cn_numeral(n)}条", am.group(3).strip()))
                found = True
            elif doc.structure == "sections" and (sm := _REF_SECTION.match(piece)):
                label = sm.group(1) + (f"（{sm.group(2)}）" if sm.group(2) else "")
                refs.append(Ref(doc.id, doc.title, label, sm.group(3).strip()))
                found = True
        if not found:
            refs.append(Ref(doc.id, doc.title, "", rest))
    return refs
