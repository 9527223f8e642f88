"""Hostile input turned away once, before any view runs.

Every outside input is hostile (DESIGN.md). Two kinds of value reached the database or Python
integers and ended in a 500 instead of a clear answer:

* NUL and other control characters: PostgreSQL refuses a string containing NUL ("A string
  literal cannot contain NUL"), so ``/verify/report/<no>``, ``/staff/login`` and every other view
  that looks a value up failed on PostgreSQL. Once, for every route: in query and form fields
  (names and values) and uploaded file names they are removed, as the chat already did for its
  messages (text pasted from elsewhere carries them by accident; tab, line feed and carriage
  return stay: a textarea sends them); in the path or a cookie, which no form produces, the
  request is refused with a 400 and a Chinese message;
* raw bytes in the query string that are not UTF-8 (a client that does not percent-encode):
  Werkzeug decodes ``request.args`` strictly and raised UnicodeDecodeError wherever the args
  were first read. ``RawQueryMiddleware`` percent-encodes such bytes before Flask sees them, so
  they decode to U+FFFD like malformed percent-encoding does;
* path integers beyond the database's id columns (``<int:…>`` above 2**63-1 raised OverflowError in
  the driver; above 2**31-1 PostgreSQL's INTEGER ids raise NumericValueOutOfRange):
  ``BoundedIntConverter`` replaces the ``int`` converter, so an out-of-range value simply matches
  no route (404).
"""
from __future__ import annotations

import re

from flask import Flask, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, ValidationError

from . import abort_with

#: C0 controls but tab, LF and CR; DEL; the C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Lone surrogates cannot be encoded to UTF-8 for the database or a response.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
MESSAGE = "请求地址或 Cookie 中含有不允许的控制字符，请检查链接后重试。"
SENT_ARGS = "portal.sent_args"  # request.environ: the query fields as sent, when some were cleaned
ID_MAX = 2**31 - 1  # the id columns are INTEGER (32-bit on PostgreSQL)


def bad_text(value: str) -> bool:
    """A value no view should see: a control character (but tab/LF/CR) or a lone surrogate."""
    return bool(_CONTROL.search(value) or _SURROGATE.search(value))


def strip_text(value: str) -> str:
    return _SURROGATE.sub("", _CONTROL.sub("", value))


def _stripped(values: MultiDict) -> ImmutableMultiDict | None:
    """The fields without control characters, or None when there was nothing to remove."""
    items = list(values.items(multi=True))
    if not any(bad_text(k) or bad_text(v) for k, v in items):
        return None
    return ImmutableMultiDict([(strip_text(k), strip_text(v)) for k, v in items])


def check_request() -> None:
    """Refuse (400) control characters in the path or a cookie; remove them from query and form
    fields and file names. Reads the form only for unsafe methods (a GET body is never parsed)."""
    if bad_text(request.path) or any(bad_text(k) or bad_text(v) for k, v in request.cookies.items(multi=True)):
        abort_with(400, MESSAGE)
    if (args := _stripped(request.args)) is not None:
        request.environ[SENT_ARGS] = request.args
        request.args = args
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if (form := _stripped(request.form)) is not None:
            request.form = form
        for upload in request.files.values():
            if upload.filename and bad_text(upload.filename):
                upload.filename = strip_text(upload.filename)
    request.__dict__.pop("values", None)  # CombinedMultiDict of the cleaned args and form


def sent_arg(name: str) -> str | None:
    """A query field as the client sent it, control characters included: a view that refuses a
    malformed value (an integer parameter) refuses the value the client sent, under its name,
    instead of the cleaned one failing some later rule."""
    return request.environ.get(SENT_ARGS, request.args).get(name)


class RawQueryMiddleware:
    """WSGI: a QUERY_STRING that is not valid UTF-8 gets its non-ASCII bytes percent-encoded."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if query and not query.isascii():
            raw = query.encode("latin-1", "replace")  # PEP 3333: bytes as latin-1 characters
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                environ["QUERY_STRING"] = "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in raw)
        return self.wsgi_app(environ, start_response)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to what a BIGINT column holds (and to 19 digits, so a megabyte of
    digits is not turned into an integer first): anything larger is no route, a 404."""

    regex = r"[0-9]{1,19}"  # ASCII digits only (``\\d`` would accept other scripts' digits too)

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > ID_MAX:
            raise ValidationError()
        return number


def init_app(app: Flask) -> None:
    """Call before the blueprints are registered (the converter applies to rules added later) and
    before the CSRF check (which reads the form)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.wsgi_app = RawQueryMiddleware(app.wsgi_app)
    app.before_request(check_request)
