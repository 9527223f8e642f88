"""``/api/v1/``: the government sharing API for registered department clients (海南 第二十五条;
湖南 第六条、第二十四条). OAuth 2.0 client credentials (Authlib's authorization server) at
``/api/v1/token``; every other operation takes the bearer token, checks the client's per-client
rate limit, and calls one service verb (``services.api_data`` / ``api_feed``), which checks scope,
region and unit itself. Errors are JSON with a stable code and a Chinese message; a refused
write leaves nothing behind (rollback). The bearer-token API is outside the site's CSRF check
(no cookie authenticates it); every other unsafe request still carries the token.
"""
from __future__ import annotations

import json
import logging

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.util import scope_to_list
from flask import Blueprint, Flask, Response, g, render_template, request
from werkzeug.exceptions import HTTPException

from ..domain.api_access import ERRORS, SCOPES
from ..domain.api_fields import IDEMPOTENCY_KEY
from ..services import api_clients, api_data, api_feed
from ..services.api_data import ApiCaller, ApiError
from ..services.errors import ServiceError
from . import commit, db, runtime
from .csrf import exempt
from .ratelimit import client_address, hit

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_BODY = 64 * 1024  # bytes; a record is a few KB
PUBLIC_ENDPOINTS = frozenset({"api.token", "api.openapi", "api.index", "api.feed_key"})
HTTP_CODES = {400: "invalid_json", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
              415: "unsupported_media_type"}
OAUTH_MESSAGES = {
    "invalid_client": "客户端编号或密钥错误，或客户端已停用",
    "invalid_grant": "授权方式无效",
    "unsupported_grant_type": "只支持 grant_type=client_credentials",
    "invalid_scope": "申请的权限范围无效，可选：" + "、".join(SCOPES),
    "invalid_request": "请求缺少必要参数或格式不正确",
    "unauthorized_client": "该客户端不能使用此授权方式",
}


def error_response(exc: ApiError, headers: dict | None = None) -> Response:
    body = {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}
    response = Response(json.dumps(body, ensure_ascii=False), status=exc.status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def _json(data, status: int = 200) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _ctx():
    return runtime().context(db(), api_data.actor(g.api_caller.client), caller=g.api_caller)


# --- authentication, limits, the access log --------------------------------------------------------

@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    found = api_clients.client_for_token(db(), token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        return error_response(ApiError("invalid_token"), {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    client, scopes = found
    wait = hit("api.client", client.rate_limit, client.client_id)  # per-client limit (portal.web.ratelimit)
    if wait is not None:
        return error_response(ApiError("rate_limited", seconds=wait), {"Retry-After": str(wait)})
    g.api_caller = ApiCaller(client, tuple(scopes))
    return None


@bp.after_request
def _log_call(response: Response) -> Response:
    """Every authenticated call in the audit log, answered or refused (after the request's own
    commit or rollback, in a transaction of its own)."""
    caller = g.get("api_caller")
    if caller is not None:
        code = g.get("api_error_code", "")
        try:
            api_data.log_call(runtime().context(db(), api_data.actor(caller.client)), caller.client,
                              method=request.method, route=request.url_rule.rule if request.url_rule else "-",
                              status=response.status_code, code=code)
            db().commit()
        except Exception:  # the answer stands; the failure is in the server log
            db().rollback()
            log.exception("api call log failed")
    return response


@bp.errorhandler(ServiceError)
def _refused(exc: ServiceError):
    db().rollback()
    err = api_data.as_api_error(exc)
    g.api_error_code = err.code
    return error_response(err)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    db().rollback()
    code = HTTP_CODES.get(exc.code or 400, "invalid_json")
    err = ApiError(code, limit=MAX_BODY) if code == "body_too_large" else ApiError(code)
    g.api_error_code = err.code
    return error_response(err)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    log.exception("unhandled API error")
    try:
        db().rollback()
    except Exception:
        log.warning("rollback after an API error failed", exc_info=True)
    g.api_error_code = "internal_error"
    return error_response(ApiError("internal_error"))


def _api_request():
    """First of every request under /api/v1/: the API's own body limit, set before anything
    reads the body (``hygiene`` reads the form of every unsafe request, which opens the input
    stream with the limit in force then); and a path that matches no operation answered in
    JSON, before the site's page-oriented checks (hygiene, CSRF) could answer in HTML."""
    if not request.path.startswith(bp.url_prefix + "/"):
        return None
    request.max_content_length = MAX_BODY
    exc = request.routing_exception
    if isinstance(exc, HTTPException):
        return error_response(ApiError(HTTP_CODES.get(exc.code or 404, "not_found")))
    return None


# --- OAuth 2.0 client credentials (Authlib) ---------------------------------------------------------

class _OAuthClient(ClientMixin):
    """Authlib's view of a registered client; the secret check is the service's (argon2)."""

    def __init__(self, row):
        self.row = row

    def get_client_id(self):
        return self.row.client_id if self.row is not None else ""

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        granted = self.row.scope_list if self.row is not None else []
        if not scope:
            return " ".join(granted)
        return " ".join(s for s in scope_to_list(scope) if s in granted)

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return api_clients.check_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials"


class _ClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def _query_client(client_id):
    """An unknown or disabled client is a client whose secret never matches (``check_secret``
    does the same argon2 work): the answer and its timing do not tell which client ids exist."""
    row = api_clients.find_client(db(), client_id)
    return _OAuthClient(row if row is not None and row.active else None)


def _save_token(token, oauth_request):
    api_clients.save_token(db(), oauth_request.client.row, token["access_token"],
                           scope_to_list(token.get("scope")) or [], int(token["expires_in"]))
    commit()


def _build_server() -> AuthorizationServer:
    server = AuthorizationServer(query_client=_query_client, save_token=_save_token)
    server.load_config({"OAUTH2_TOKEN_EXPIRES_IN": {
        "client_credentials": int(api_clients.TOKEN_TTL.total_seconds())}})
    server.scopes_supported = list(SCOPES)
    server.register_grant(_ClientCredentials)
    return server


_SERVER = _build_server()  # holds no app state: the clients and tokens are in the database


@bp.post("/token")
@exempt
def token():
    wait = hit("api.token", runtime().settings["PORTAL_RATELIMIT_LOGIN"], client_address())
    if wait is not None:
        return error_response(ApiError("rate_limited", seconds=wait), {"Retry-After": str(wait)})
    response = _SERVER.create_token_response()
    if response.status_code >= 400:  # the OAuth error, with a stable code and a Chinese message
        try:
            body = json.loads(response.get_data(as_text=True))
        except ValueError:
            body = {"error": "invalid_request"}
        error = body.get("error", "invalid_request")
        body.update(code=f"oauth_{error}", message=OAUTH_MESSAGES.get(error, "令牌请求无效"))
        response.set_data(json.dumps(body, ensure_ascii=False))
        response.mimetype = "application/json"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the document ------------------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi():
    from .api_openapi import document

    return _json(document(runtime().settings["PORTAL_BASE_URL"], runtime().profile.document))


@bp.get("/")
def index():
    """A browsable page of the operations (server-rendered from the document, no script)."""
    from .api_openapi import document

    doc = document(runtime().settings["PORTAL_BASE_URL"], runtime().profile.document)
    operations = [{"method": method.upper(), "path": path, **op} for path, item in doc["paths"].items()
                  for method, op in item.items()]
    return render_template("api/index.html", doc=doc, operations=operations, errors=ERRORS, scopes=SCOPES)


# --- reads ---------------------------------------------------------------------------------------------

@bp.get("/subjects/<code>")
def subject(code: str):
    answer = api_data.read_subject(_ctx(), code)
    commit()
    return _json(answer)


@bp.get("/subjects/<code>/records")
def subject_records(code: str):
    answer = api_data.read_records(_ctx(), code)
    commit()  # the access-log event of a non-public read
    return _json(answer)


@bp.get("/subjects/<code>/grades")
def subject_grades(code: str):
    return _json(api_data.read_grades(_ctx(), code))


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not (low <= int(raw) <= high):
        raise ApiError("invalid_parameter", name, reason=f"须为 {low}–{high} 之间的整数")
    return int(raw)


@bp.get("/lists/<name>")
def public_list(name: str):
    return _json(api_data.read_list(_ctx(), name, _int_arg("page", 1, 1, 100_000)))


@bp.get("/feed")
def feed():
    cursor = _int_arg("cursor", 0, 0, 2**31 - 1)
    limit = _int_arg("limit", 500, 1, api_feed.MAX_LIMIT)
    page = api_feed.feed_page(_ctx(), runtime().settings["PORTAL_DATA_KEY"], cursor, limit)
    return Response(page, mimetype="application/x-ndjson", headers={"Cache-Control": "no-store"})


@bp.get("/feed/snapshot")
def feed_snapshot():
    after = _int_arg("after", 0, 0, 2**31 - 1)
    cursor = _int_arg("cursor", -1, 0, 2**31 - 1)
    limit = _int_arg("limit", 500, 1, api_feed.MAX_LIMIT)
    page = api_feed.snapshot_page(_ctx(), runtime().settings["PORTAL_DATA_KEY"], after,
                                  None if cursor < 0 else cursor, limit)
    return Response(page, mimetype="application/x-ndjson", headers={"Cache-Control": "no-store"})


@bp.get("/feed/key")
def feed_key():
    return Response(api_feed.public_key_pem(runtime().settings["PORTAL_DATA_KEY"]), mimetype="application/x-pem-file")


# --- writes (Idempotency-Key required) -------------------------------------------------------------------

def _write(do, status: int = 201) -> Response:
    ctx = _ctx()
    key = request.headers.get("Idempotency-Key", "")
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError("idempotency_key_required", "Idempotency-Key")
    if request.mimetype != "application/json":
        raise ApiError("unsupported_media_type")
    raw = request.get_data(cache=True)  # over MAX_BODY: 413
    fp = api_data.fingerprint(request.method, request.path, raw)
    stored = api_data.stored_answer(ctx, key, fp)
    if stored is not None:
        response = _json(stored[1], 200)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise ApiError("invalid_json") from None
    answer = do(ctx, body)
    api_data.store_answer(ctx, key, fp, status, answer)
    commit()
    return _json(answer, status)


@bp.post("/records")
@exempt
def add_record():
    return _write(api_data.add_record)


@bp.post("/records/<int:record_id>/corrections")
@exempt
def correct_record(record_id: int):
    return _write(lambda ctx, body: api_data.correct_record(ctx, record_id, body))


@bp.post("/records/<int:record_id>/withdrawal")
@exempt
def withdraw_record(record_id: int):
    return _write(lambda ctx, body: api_data.withdraw_record(ctx, record_id, body), status=200)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _api_request)
