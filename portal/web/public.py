"""Public pages: home, search, facility page, red and serious-dishonesty lists. No login.

Everything here reads public views only (DESIGN.md, the privacy boundary)."""
from __future__ import annotations

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for
from sqlalchemy import bindparam, func, select

from ..domain.disclosure import public_subject, public_view
from ..domain.identifiers import classify_code, normalize_code, scrub_personal_data
from ..domain.repair import repair_possible_from
from ..domain.vocab import InfoClass
from ..models import CreditRecord, Subject
from ..search import clean_filters, parse_page, search_public
from ..services import indexing
from ..services.importer import template_csv, template_xlsx
from ..services.list_filters import clean_list_filters, list_conditions, list_csv
from ..services.risk import public_risk
from ..identity import current_identity
from . import abort_with, cached_pages, db, is_htmx, runtime
from .csrf import csrf_token
from .page_cache import tag

bp = Blueprint("public", __name__)

LIST_TYPES = {
    "red": (("redlist",), "守信红名单"),
    "serious": (("serious_list", "blacklist", "joint_punishment"), "严重失信主体名单"),
}
MAX_QUERY = 100
# Built once: the facility and QR pages run them on every cache miss.
_SUBJECT_BY_PUBLIC_ID = select(Subject).where(Subject.public_id == bindparam("public_id"))
_CURRENT_RECORDS = select(CreditRecord).where(CreditRecord.subject_id == bindparam("subject_id"),
                                              CreditRecord.is_current.is_(True))


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
    per_page = int(rt.settings["PORTAL_PAGE_SIZE"])
    results = None
    if q or filters:
        results = search_public(db(), rt.backend, rt.profile, rt.today(), q, filters, page, per_page)
        if results.total and page > results.pages:  # ?page=99 of 5: show the last page, and say so
            results = search_public(db(), rt.backend, rt.profile, rt.today(), q, filters, results.pages,
                                    per_page)
    template = "public/_results.html" if is_htmx() else "public/search.html"
    # a typed ID number (or phone, card number) is searched for but never echoed into the title,
    # the input or the notice, masked as the chatbot does (浏览器历史、页面标题)
    shown = scrub_personal_data(q)
    link_args = request.args.to_dict()  # facet and page links: the masked text, never the number
    if shown != q:
        link_args["q"] = shown
    resp = Response(render_template(template, q=shown, results=results, filters=filters, link_args=link_args,
                                    asked_page=page,
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
    subject = db().execute(_SUBJECT_BY_PUBLIC_ID, {"public_id": public_id}).scalar_one_or_none()
    if subject is None:
        abort_with(404, "未找到该主体。请检查链接是否完整。")
    return subject


def facility_context(subject: Subject) -> dict:
    """Everything the public may see about one subject (facility page and QR page share it)."""
    rt = runtime()
    today = rt.today()
    session = db()
    employer = session.get(Subject, subject.employer_id).name if subject.employer_id else ""
    view = public_subject(subject, today, employer)
    if view is None:
        abort_with(404, "未找到该主体。")
    records = session.execute(_CURRENT_RECORDS, {"subject_id": subject.id}).scalars().all()
    public = []
    from ..services.cases import case_markers  # "异议处理中" / "信用修复中" (profile display.case_markers)
    markers = case_markers(session, rt.profile, subject.id)
    for r in records:
        v = public_view(r, today, subject.birth_on)
        if v is None:
            continue
        v["case_marker"] = markers.get(r.lineage_id)
        if v["info_class"] in (InfoClass.DISHONEST, InfoClass.SERIOUS):
            v["repair_from"] = repair_possible_from(r, rt.profile)
        public.append(v)
    public.sort(key=lambda v: v["decided_on"], reverse=True)
    if view["kind"] == "person" and not public:
        abort_with(404, "未找到该主体。")
    grade = indexing.latest_grade(session, subject.id, today)
    groups = {c: [v for v in public if v["info_class"] == c] for c in InfoClass}
    region = rt.profile.region(subject.region_code)
    return {"subject": view, "groups": groups, "grade": grade,
            "grade_info": rt.profile.grade(grade.letter) if grade else None,
            "region": region, "risk": public_risk(session, view, public, grade, today)}


@bp.get("/facility/<public_id>")
def facility(public_id: str):
    """The facility page. For visitors without a login it is the same page for everyone but the
    CSRF token, so it is rendered once per public data version and day (``page_cache``) with a
    marker where the token goes; a logged-in visitor's header differs, so that page is live."""
    if current_identity() is not None:
        html = render_template("public/facility.html", **facility_context(_load_subject(public_id)))
        return _private(make_response(html))
    cache = cached_pages()
    marker = cache.marker("csrf")

    def build():
        context = facility_context(_load_subject(public_id))  # 404s propagate and are not cached
        return render_template("public/facility.html", csrf_token=lambda: marker, **context), {}

    page = cache.get_or_build("facility", public_id, runtime().today(), build)
    token = csrf_token()  # this visitor's (a new visitor also gets the seed cookie, as before)
    resp = _private(make_response(page.body.replace(marker, token)))
    resp.set_etag(f"{page.etag}-{tag(token)}")
    if "If-None-Match" in request.headers:
        resp.make_conditional(request)
    return resp


def _private(resp):
    # Per visitor (CSRF token, login state): browsers may keep it and revalidate, shared caches not.
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.vary.add("Cookie")
    return resp


@bp.get("/facility/by-code/<code>")
def facility_by_code(code: str):
    """Stable link by USCC for organisations (public registration data)."""
    normalised = normalize_code(code)[:40]
    if classify_code(normalised) != "uscc":
        abort_with(404, "统一社会信用代码格式不正确或校验位错误。")
    subject = db().execute(select(Subject).where(Subject.credit_code == normalised)).scalar_one_or_none()
    if subject is None:
        abort_with(404, "未找到该统一社会信用代码对应的机构。")
    return redirect(url_for("public.facility", public_id=subject.public_id))


@bp.get("/lists/<name>")
def credit_list(name: str):
    return _credit_list(name, csv_download=False)


@bp.get("/lists/<name>.csv")
def credit_list_csv(name: str):
    """The whole (filtered) list as CSV for Excel (issue #13)."""
    return _credit_list(name, csv_download=True)


def _credit_list(name: str, csv_download: bool):
    if name not in LIST_TYPES:
        abort_with(404, "没有这个名单。")
    types, title = LIST_TYPES[name]
    rt = runtime()
    today = rt.today()
    filters = clean_list_filters(request.args, rt.profile)
    page = parse_page(request.args.get("page"))
    per_page = 50
    base = (select(CreditRecord, Subject).join(Subject, Subject.id == CreditRecord.subject_id)
            .where(CreditRecord.record_type.in_(types), CreditRecord.is_current.is_(True),
                   CreditRecord.scope == "public", CreditRecord.status == "active",
                   CreditRecord.publish_from <= today,
                   (CreditRecord.publish_until.is_(None)) | (CreditRecord.publish_until >= today),
                   *list_conditions(filters)))
    total = db().execute(select(func.count()).select_from(base.subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    shown = min(page, pages)  # past the last page: the last page, and the template says so
    ordered = base.order_by(CreditRecord.decided_on.desc(), CreditRecord.id)
    rows = db().execute(ordered if csv_download else ordered.offset((shown - 1) * per_page).limit(per_page)).all()
    entries = []
    for record, subject in rows:
        rv, sv = public_view(record, today, subject.birth_on), public_subject(subject, today)
        if rv is not None and sv is not None:  # the pure rule has the last word
            entries.append({"record": rv, "subject": sv})
    if csv_download:
        return Response(list_csv(entries, rt.profile), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={name}-list-{today}.csv"})
    return render_template("public/list.html", title=title, name=name, entries=entries, page=shown,
                           pages=pages, total=total, filters=filters, asked_page=page)


@bp.get("/downloads/import-template.csv")
def import_template_csv():
    return Response(template_csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=import-template.csv"})


@bp.get("/downloads/import-template.xlsx")
def import_template_xlsx():
    return Response(template_xlsx(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=import-template.xlsx"})


@bp.get("/healthz")
def healthz():
    db().execute(select(1))
    return {"status": "ok"}
