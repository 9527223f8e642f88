"""Public pages: home, search, facility page, red and serious-dishonesty lists. No login.

Everything here reads public views only (DESIGN.md, the privacy boundary)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, make_response, redirect, render_template, request, url_for

from ..domain.identifiers import classify_code, normalize_code, scrub_personal_data
from ..identity import current_identity
from ..services import public_pages as pages_svc
from ..services import search_opens
from ..services.importer import template_csv, template_xlsx
from ..services.list_filters import clean_list_filters, list_csv
from ..services.search import SORT_LABELS, clean_filters, parse_page, parse_sort, search_public
from . import abort_with, cached_pages, data_time, db, is_htmx, runtime
from .common import private_headers
from .csrf import csrf_token
from .facility import _is_prefetch  # a browser's prefetch is no visit (as for scans)
from .page_cache import tag

if TYPE_CHECKING:
    from ..models import Subject

bp = Blueprint("public", __name__)

LIST_TYPES = pages_svc.LIST_TYPES
MAX_QUERY = 100
OPEN_COUNTER = "portal.search_open_counter"


@bp.record_once
def _setup(state) -> None:
    state.app.extensions[OPEN_COUNTER] = search_opens.open_counter(state.app.extensions["portal"].sessions)


def search_open_counter(app=None):
    """The buffer of facility pages opened from a search result (``services.search_opens``)."""
    return (app or current_app).extensions[OPEN_COUNTER]


def _count_search_open(subject_id: int, kind: str) -> None:
    """A facility page opened from a search result link (``?from=search``): one more for the
    anonymous per-subject daily counter, organisations only. The marker changes nothing else:
    same page, same cache entry, same ETag (a 304 counts too, like a plate scan)."""
    if (request.args.get(search_opens.MARKER_ARG) == search_opens.MARKER_VALUE and request.method == "GET"
            and search_opens.counted(kind) and not _is_prefetch()):
        search_open_counter().add(subject_id, runtime().today())


def _query_text() -> str:
    return (request.args.get("q") or "").replace("\x00", "")[:MAX_QUERY].strip()


@bp.get("/")
def home():
    return render_template("public/home.html", q="", results=None, filters={})


@bp.get("/search")
def search():
    rt = runtime()
    q = _query_text()
    filters = clean_filters(request.args, rt.profile)
    page = parse_page(request.args.get("page"))
    sort = parse_sort(request.args.get("sort"))
    per_page = int(rt.settings["PORTAL_PAGE_SIZE"])
    results = None
    if q or filters:
        results = search_public(db(), rt.backend, rt.profile, rt.today(), q, filters, page, per_page, sort)
        if results.total and page > results.pages:  # ?page=99 of 5: show the last page, and say so
            results = search_public(db(), rt.backend, rt.profile, rt.today(), q, filters, results.pages,
                                    per_page, sort)
    template = "public/_results.html" if is_htmx() else "public/search.html"
    # a typed ID number (or phone, card number) is searched for but never echoed into the title,
    # the input or the notice, masked as the chatbot does (浏览器历史、页面标题)
    shown = scrub_personal_data(q)
    link_args = request.args.to_dict()  # facet and page links: the masked text, never the number
    if shown != q:
        link_args["q"] = shown
    resp = Response(render_template(template, q=shown, results=results, filters=filters, link_args=link_args,
                                    asked_page=page, sort=sort, sort_labels=SORT_LABELS,
                                    too_long=len(request.args.get("q") or "") > MAX_QUERY),
                    headers={"Vary": "HX-Request"})
    if shown != q:
        resp.headers["HX-Push-Url"] = "false"  # htmx would put the number into the history
        resp.headers["HX-Replace-Url"] = "false"  # (typing replaces the entry: _search_form.html)
        resp.headers["Cache-Control"] = "no-store"
    return resp


def _load_subject(public_id: str) -> Subject:
    if not (1 <= len(public_id) <= 16) or not public_id.replace("-", "").replace("_", "").isalnum():
        abort_with(404, "未找到该主体。请检查链接是否完整。")
    subject = pages_svc.subject_by_public_id(db(), public_id)
    if subject is None:
        abort_with(404, "未找到该主体。请检查链接是否完整。")
    return subject


def facility_context(subject: Subject) -> dict:
    """Everything the public may see about one subject, as plain values
    (``services.public_pages.facility_view``)."""
    rt = runtime()
    context = pages_svc.facility_view(db(), rt.profile, subject, rt.today())
    if context is None:
        abort_with(404, "未找到该主体。")
    return context


def _facility_page(public_id: str) -> tuple[dict, dict]:
    """The facility page's template context and its cache scope, read in one statement
    (``services.public_pages.facility_page``); 404 when there is nothing to show."""
    if not (1 <= len(public_id) <= 16) or not public_id.replace("-", "").replace("_", "").isalnum():
        abort_with(404, "未找到该主体。请检查链接是否完整。")
    rt = runtime()
    try:
        context = pages_svc.facility_page(db(), rt.profile, public_id, rt.today())
    except pages_svc.NotShown:
        abort_with(404, "未找到该主体。")
    if context is None:
        abort_with(404, "未找到该主体。请检查链接是否完整。")
    scope = context.pop("cache_scope")
    return {**context, "data_updated_at": data_time(context.pop("data_changed_at"))}, scope


@bp.get("/facility/<public_id>")
def facility(public_id: str):
    """The facility page. For visitors without a login it is the same page for everyone but the
    CSRF token, so it is rendered once per public data version and day (``page_cache``) with a
    marker where the token goes; a logged-in visitor's header differs, so that page is live."""
    if current_identity() is not None:
        context, scope = _facility_page(public_id)
        html = render_template("public/facility.html", canonical_url=_canonical_url(public_id), **context)
        _count_search_open(scope["subject_id"], context["subject"]["kind"])
        return _private(make_response(html))
    cache = cached_pages()
    marker = cache.marker("csrf")

    def build():
        context, scope = _facility_page(public_id)  # 404s propagate and are not cached
        # the subject and its stamp (read with the content): the page survives changes scoped to
        # other subjects (web.page_cache)
        return (render_template("public/facility.html", csrf_token=lambda: marker, canonical_url=_canonical_url(public_id),
                                **context),
                {"opened_subject": (scope["subject_id"], context["subject"]["kind"]), **scope})

    page = cache.get_or_build("facility", public_id, runtime().today(), build)
    token = csrf_token()  # this visitor's (a new visitor also gets the seed cookie, as before)
    resp = _private(make_response(page.body.replace(marker, token)))
    resp.set_etag(f"{page.etag}-{tag(token)}")
    if "If-None-Match" in request.headers:
        resp.make_conditional(request)
    _count_search_open(*page.meta["opened_subject"])
    return resp


def _canonical_url(public_id: str) -> str:
    """The facility page's one URL for search engines: absolute from PORTAL_BASE_URL, without the
    query string (``?from=search`` and the like make duplicates of the same page)."""
    return f"{runtime().settings['PORTAL_BASE_URL'].rstrip('/')}/facility/{public_id}"


def _private(resp):
    # Per visitor (CSRF token, login state): browsers may keep it and revalidate, shared caches not.
    private_headers(resp, "private, no-cache")
    resp.vary.add("Cookie")
    return resp


@bp.get("/facility/by-code/<code>")
def facility_by_code(code: str):
    """Stable link by USCC for organisations (public registration data)."""
    normalised = normalize_code(code)[:40]
    if classify_code(normalised) != "uscc":
        abort_with(404, "统一社会信用代码格式不正确或校验位错误。")
    public_id = pages_svc.public_id_by_credit_code(db(), normalised)
    if public_id is None:
        abort_with(404, "未找到该统一社会信用代码对应的机构。")
    return redirect(url_for("public.facility", public_id=public_id))


@bp.get("/lists/<name>")
def credit_list(name: str):
    """A public list, counted by the same rule that shows it (``services.public_pages.public_list``),
    filtered by city, county, category and name (issue #13)."""
    rt = runtime()
    filters = clean_list_filters(request.args, rt.profile)
    page = parse_page(request.args.get("page"))
    result = pages_svc.public_list(db(), name, rt.today(), page, profile=rt.profile, filters=filters)
    if result is None:
        abort_with(404, "没有这个名单。")
    return render_template("public/list.html", **result, filters=filters, asked_page=page)


@bp.get("/lists/<name>.csv")
def credit_list_csv(name: str):
    """The whole (filtered) list as CSV, UTF-8 with BOM for Excel (issue #13)."""
    rt = runtime()
    filters = clean_list_filters(request.args, rt.profile)
    result = pages_svc.public_list(db(), name, rt.today(), per_page=None, profile=rt.profile, filters=filters)
    if result is None:
        abort_with(404, "没有这个名单。")
    return Response(list_csv(result["entries"], rt.profile), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}-list-{rt.today()}.csv"})


@bp.get("/downloads/import-template.csv")
def import_template_csv():
    return Response(template_csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=import-template.csv"})


@bp.get("/downloads/import-template.xlsx")
def import_template_xlsx():
    return Response(template_xlsx(runtime().profile),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=import-template.xlsx"})


@bp.get("/healthz")
def healthz():
    pages_svc.ping(db())
    return {"status": "ok"}
