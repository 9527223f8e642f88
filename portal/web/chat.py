"""智能问答 (blueprint ``chat``): a page that works without JavaScript, and an htmx panel on
every public page.

    GET  /chat                      the page; with HX-Request the panel fragment
    POST /chat                      ask: the page again (no JS) or one message fragment (htmx)
    GET  /chat/launcher             the collapsed launcher (htmx "收起")
    GET  /chat/sources/<doc_id>     a regulation text, one anchor per article, for citations

The conversation context (last facility, last topic, ≤ 10 short turns) lives in the session.
Asking is rate-limited per client on the portal's shared limiter (``portal.web.ratelimit``,
store ``PORTAL_RATELIMIT_STORAGE``): ``PORTAL_CHAT_RATE_PER_MINUTE`` per client address and
random per-session id, with a looser per-address limit behind it so that dropping the cookie
does not reset the count. The client address is the one ``PORTAL_TRUSTED_PROXIES`` yields.
"""
from __future__ import annotations

import hashlib
import secrets

from flask import Blueprint, Response, current_app, render_template, request, session, url_for
from werkzeug.routing import BuildError

from ..chatbot import Chatbot, Context, Env, LLMClient, SearchFacilities
from ..chatbot.normalise import clean
from ..domain.identifiers import scrub_personal_data
from ..services import public_pages as pages_svc
from ..services.search import search_public
from . import abort_with, db, is_htmx, ratelimit, runtime

bp = Blueprint("chat", __name__)

SESSION_KEY = "chat"
MAX_FORM_CHARS = 10_000  # anything longer is cut before it reaches the chatbot
ADDRESS_FACTOR = 5  # the per-address bucket allows this many sessions' worth of questions
RATE_LIMITED = "提问过于频繁，请稍等一分钟后再试。如需人工服务，请拨打咨询热线。"

# Where the chatbot's link names point; the first endpoint that exists wins (the subject
# area's forms may live under different endpoint names as it grows).
LINK_ENDPOINTS = {
    "objection_form": ("subject.objection_new", "subject.objections", "subject.me"),
    "repair_form": ("subject.repair_new", "subject.repairs", "subject.me"),
    "login": ("auth.login",),
    "search": ("public.search",),
    "home": ("public.home",),
    "chat": ("chat.page",),
}


def _state() -> dict:
    """Per-app chatbot, limiter and client (built once, on first use)."""
    ext = current_app.extensions.get("chat")
    if ext is None:
        rt = runtime()
        rate = ratelimit.chat_rate(rt.settings)
        ext = current_app.extensions.setdefault("chat", {
            "bot": Chatbot(rt.profile),
            "llm": LLMClient.from_settings(rt.settings),
            # "N per minute" as limits strings; a fractional setting rounds to whole requests
            "session_rate": f"{max(1, round(rate))}/minute",
            "address_rate": f"{max(1, round(rate * ADDRESS_FACTOR))}/minute",
        })
    return ext


def _chat_session() -> tuple[str, Context]:
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
        return secrets.token_urlsafe(12), Context()
    return data["sid"], Context.from_dict(data.get("ctx"))


def _client_key(sid: str) -> tuple[str, str]:
    addr = ratelimit.client_address()
    return (hashlib.sha256(f"{addr}|{sid}".encode()).hexdigest()[:32],
            hashlib.sha256(f"{addr}|*".encode()).hexdigest()[:32])


def _url(name: str, **params: str) -> str:
    if name == "source":
        return url_for("chat.source", doc_id=params["doc_id"], _anchor=params.get("anchor") or None)
    if name == "facility":
        return url_for("public.facility", public_id=params["public_id"])
    if name == "search" and params.get("q"):
        return url_for("public.search", q=params["q"])
    if name in ("list_red", "list_serious"):
        return url_for("public.credit_list", name=name[5:])
    for endpoint in LINK_ENDPOINTS.get(name, ()):
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint)
            except BuildError:
                continue
    return url_for("public.home")


def _facility_details(public_id: str) -> dict | None:
    """The facility page's own public-view context (public views only), read in the page's one
    statement (``public_pages.facility_page``); ``None`` when there is nothing to show."""
    rt = runtime()
    try:
        context = pages_svc.facility_page(db(), rt.profile, public_id, rt.today())
    except pages_svc.NotShown:
        return None
    if context is not None:
        context.pop("cache_scope")
    return context


def _env() -> Env:
    rt = runtime()
    today = rt.today()

    def search(text: str, limit: int):
        return search_public(db(), rt.backend, rt.profile, today, text, {"kind": "org"}, 1, limit)

    return Env(today=today, calendar=rt.calendar(db()), facilities=SearchFacilities(search, _facility_details),
               urls=_url, llm=_state()["llm"])


def _render(template: str, status: int = 200, **kw) -> Response:
    resp = Response(render_template(template, **kw), status=status)
    resp.vary.add("HX-Request")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/chat")
def page():
    _sid, ctx = _chat_session()
    template = "chat/_panel.html" if is_htmx() else "chat/page.html"
    return _render(template, history=ctx.history, exchange=None)


@bp.post("/chat")
def ask():
    state = _state()
    sid, ctx = _chat_session()
    raw = (request.form.get("q") or "")[:MAX_FORM_CHARS]
    shown = scrub_personal_data(clean(raw))[:300]
    per_session, per_address = _client_key(sid)
    retry = ratelimit.hit("chat-session", state["session_rate"], per_session) \
        or ratelimit.hit("chat-address", state["address_rate"], per_address)
    if retry:
        template = "chat/_message.html" if is_htmx() else "chat/page.html"
        response = _render(template, 429, history=ctx.history, exchange={"question": shown, "answer": None},
                           limited=RATE_LIMITED)
        response.headers["Retry-After"] = str(retry)
        return response
    answer, ctx = state["bot"].answer(raw, ctx, _env())
    session[SESSION_KEY] = {"sid": sid, "ctx": ctx.to_dict()}
    exchange = {"question": shown, "answer": answer}
    if is_htmx():
        return _render("chat/_message.html", exchange=exchange)
    return _render("chat/page.html", history=ctx.history[:-1], exchange=exchange)


@bp.get("/chat/launcher")
def launcher():
    return _render("chat/_launcher.html")


@bp.get("/chat/sources/<doc_id>")
def source(doc_id: str):
    regs = _state()["bot"].kb.regulations
    doc = regs.documents.get(doc_id)
    if doc is None:
        abort_with(404, "没有这份文件。")
    return _render("chat/source.html", doc=doc, units=regs.articles.get(doc_id, []))
