"""One path for what every area needs: a service context that names the caller, the one answer to
a refused service call, the cache headers of private pages, and the downloads of a case's
documents and evidence (subject side and staff side serve the same files the same way)."""
from __future__ import annotations

import io

from flask import Flask, Response, g, render_template, send_file, session

from ..auth.sessions import login_id
from ..services.case_documents import download_name
from ..services.case_reads import read_case_document, read_evidence
from ..services.errors import ServiceError
from . import ERROR_TITLES, commit, db, runtime
from .staff_ended import LoginEnded, ended_response

# Statuses a refusal keeps; anything else is answered as a bad request (400).
KEPT_STATUSES = frozenset({401, 403, 404, 409, 410, 413, 422, 429, 503})


def caller_ctx(actor: str, caller):
    """The service context of a request made by ``caller`` (a ``StaffUser`` or an ``Identity``):
    service verbs check its permissions themselves (``portal.permissions``); a staff caller's
    writes re-check its login in their transaction (``services.staff_guard``)."""
    return runtime().context(db(), actor, caller=caller, web_session=login_id(session))


def on_refusal(render) -> None:
    """The page to show if a service verb of this request refuses: ``render(exc)`` returns the
    response (typically the form again with the message). Without one, the error page."""
    g.on_refusal = render


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _refused(exc: ServiceError):
        """The one answer to a refused service call: nothing of the request is kept (rollback),
        then the page the view registered (``on_refusal``) or the error page with the message."""
        db().rollback()
        if isinstance(exc, LoginEnded):  # the account or login is gone: not a form to show again
            g.pop("on_refusal", None)
            return ended_response(exc)
        render = g.pop("on_refusal", None)
        if render is not None:
            return render(exc)
        code = exc.status if exc.status in KEPT_STATUSES else 400
        return render_template("error.html", code=code, title=ERROR_TITLES.get(code, "出错了"),
                               message=exc.message), code


def private_headers(response: Response, cache: str = "no-store", robots: bool = False) -> Response:
    """Cache headers of pages that are not for shared caches: ``no-store`` (a private page: kept
    nowhere), ``no-cache`` variants for pages a browser may keep and revalidate. ``robots``:
    not for search engines either."""
    response.headers["Cache-Control"] = cache
    if robots:
        response.headers["X-Robots-Tag"] = "noindex"
    return response


def no_store(bp, *, robots: bool = False, prefixes: tuple[str, ...] = ()) -> None:
    """Every response of blueprint ``bp`` (or only those under ``prefixes``) is ``no-store``."""
    from flask import request

    @bp.after_request
    def _private(response):
        if not prefixes or request.path.startswith(prefixes):
            private_headers(response, robots=robots)
        return response


def send_case_document(ctx, case, kind: str, decision=None) -> Response:
    """A case PDF as a download, logged as a read (``case_reads.read_case_document``)."""
    doc = read_case_document(ctx, case, kind, base_url=runtime().settings["PORTAL_BASE_URL"], decision=decision)
    commit()
    return Response(doc.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{download_name(doc)}"'})


# An evidence file shown inside the staff case page (issue 14: inline preview of images and PDFs):
# framed by the portal's own pages only, and able to load nothing itself. Uploads are checked
# when received (images re-encoded; PDFs with JavaScript, embedded files or XFA refused).
PREVIEW_MIMES = frozenset({"application/pdf", "image/jpeg", "image/png"})
PREVIEW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def send_evidence(ctx, case, evidence_id: int, decision=None, inline: bool = False) -> Response:
    """An uploaded evidence file as a download, logged as a read (``case_reads.read_evidence``);
    with ``inline`` an image or PDF for a preview frame on the portal's own page."""
    row, data = read_evidence(ctx, case, evidence_id, var_dir=runtime().settings["PORTAL_VAR_DIR"],
                              decision=decision)
    commit()
    inline = inline and row.mime in PREVIEW_MIMES
    response = send_file(io.BytesIO(data), mimetype=row.mime, as_attachment=not inline,
                         download_name=row.original_name)
    if inline:
        response.headers["Content-Security-Policy"] = PREVIEW_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
