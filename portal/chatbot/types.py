"""Plain value types shared by the chatbot modules."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .articles import Ref

INTENTS = ("policy", "objection", "repair", "fee", "deadline", "facility", "grade", "refusal", "handoff",
           "greeting", "out_of_scope", "foreign_language")


@dataclass(frozen=True)
class Citation:
    """Where an answer comes from: the document, the article (第二十八条 / 三（七）), a link to
    the article's text, and what narrows it (（二）, 第一款, or a note)."""

    doc: str
    article: str
    url: str = ""
    doc_id: str | None = None
    detail: str = ""

    @property
    def label(self) -> str:
        return f"{self.doc}{self.article}{self.detail if self.article else ''}"


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Choice:
    """A follow-up the user can send with one click (facility disambiguation)."""

    label: str
    question: str
    url: str = ""


@dataclass
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    intent: str = "policy"
    handoff: bool = False
    choices: list[Choice] = field(default_factory=list)
    notice: str = ""  # e.g. "问题过长，只处理了前300字"
    generated: bool = False  # True when the text came from the language model
    passages: list[Passage] = field(default_factory=list, repr=False)  # public sources used

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n") if p.strip()]

    @property
    def citation_groups(self) -> list[tuple[str, list[Citation]]]:
        """Citations grouped by document, in order of first appearance (for display)."""
        groups: dict[str, list[Citation]] = {}
        for c in self.citations:
            groups.setdefault(c.doc, []).append(c)
        return list(groups.items())


@dataclass(frozen=True)
class Passage:
    """A unit of the knowledge base; every text here is public."""

    id: str
    kind: str  # rule | faq | article
    topic: str
    title: str
    text: str
    refs: tuple[Ref, ...] = ()
    links: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    aspect: str = ""


class Urls(Protocol):
    def __call__(self, name: str, **params: str) -> str: ...


def plain_urls(name: str, **params: str) -> str:
    """URL builder without Flask (unit tests, CLI); the web layer passes one built on url_for."""
    if name == "source":
        return f"/chat/sources/{params['doc_id']}" + (f"#{params['anchor']}" if params.get("anchor") else "")
    if name == "facility":
        return f"/facility/{params['public_id']}"
    if name == "search":
        return "/search" + (f"?q={params['q']}" if params.get("q") else "")
    if name in ("list_red", "list_serious"):
        return f"/lists/{name[5:]}"
    return {"objection_form": "/subject/objections/new", "repair_form": "/subject/repairs/new",
            "login": "/login", "subject_home": "/subject/", "chat": "/chat", "home": "/"}.get(name, "/")
