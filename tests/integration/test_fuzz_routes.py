"""Every route against hostile input: no 5xx, ever (issue 12, "Must show"; DESIGN.md: every outside
input is hostile; a clear Chinese message and a correct status, never a 500).

Every rule of ``app.url_map`` is requested by three visitors (anonymous, a logged-in subject who
may manage an organisation, a logged-in staff member) with path parameters, query fields and form
fields filled from a seeded generator of hostile values: NUL and control characters, huge and
negative integers, lone surrogates, non-ASCII and invisible characters, very long strings, SQL,
HTML and JavaScript fragments, template syntax, malformed percent-encoding and invalid UTF-8 bytes
in the raw path and query. Half of the path parameters are real values (the world's subjects, a
real case), so the hostile query and form fields reach the views' own code, not only the 404.
The field names are read from the portal's source (``request.args.get("…")`` and the like), so a
new field is fuzzed without editing this file.

Reproducible: ``FUZZ_SEED`` (default fixed) and ``FUZZ_REQUESTS`` (per visitor) set the run; a
failure prints the seed, visitor, method and URL of each 5xx. Runs in process (Flask test client)
on SQLite and PostgreSQL.
"""
from __future__ import annotations

import io
import os
import random
import re
import secrets
import time
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from sqlalchemy import select

from portal.identity import ACR_FACE
from portal.models import CreditRecord
from portal.services import cases
from portal.services import staff as staff_svc
from portal.services.errors import ServiceError
from portal.web.csrf import COOKIE as CSRF_COOKIE
from portal.web.csrf import token_for_seed

from ..conftest import DATABASES
from .subject_world import TODAY, build_world
from .test_access_matrix import _database

SEED = int(os.environ.get("FUZZ_SEED", "20261120"))
#: Per visitor and database: 3 × 1,200 requests carry ≥ 10,000 hostile values per database (asserted).
DEFAULT_REQUESTS = 1200
REQUESTS_PER_VISITOR = int(os.environ.get("FUZZ_REQUESTS", DEFAULT_REQUESTS))
VISITORS = ("anonymous", "subject", "staff")
#: Longest generated value (gunicorn refuses a request line over 4 KB; form bodies may be longer).
MAX_LENGTH = 12_000
ROOT = Path(__file__).resolve().parents[2]

# --- the generator --------------------------------------------------------------------------

ATOMS = [
    # control characters (PostgreSQL refuses NUL in text)
    "\x00", "a\x00b", "\x01\x02\x1f", "\x7f", "\x1b[31m", "\x85", "\r\nSet-Cookie: x=1", "\t", "\x0b\x0c",
    # numbers at and beyond every integer limit
    "0", "-1", "-0", "1e999", "NaN", "inf", "-inf", "0x10", "0o7", "1_000", "00000000000000000001",
    str(2**31), str(2**31 - 1), str(2**63 - 1), str(2**63), str(-(2**63) - 1), str(2**64), "9" * 30,
    "9" * 5000, "-" + "9" * 40, "１２３", "٣", "²", "3.14", "1,000",
    # lone surrogates and other awkward Unicode
    "\ud800", "\udfff", "a\udc80b", "\ufeff", "\u200b", "\u202e", "\ufffd", "\U0001f600", "𝔘𝔫𝔦", "é", "ǅ",
    "医院", "湘卫罚〔2025〕12号", "ＡＢＣ", "\u0301", "İ", "ß",
    # SQL
    "' OR '1'='1", "1; DROP TABLE subjects; --", "%' AND '%'='", "\\", "'", '"', "`", ";", "--", "/*",
    "1 UNION SELECT NULL--", "$1", ":name", "?", "%", "_", "\\x00",
    # HTML, JavaScript, templates, headers
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)", "{{7*7}}",
    "{% raw %}", "${7*7}", "<!--", "]]>", "&amp;", "&#0;", "<svg/onload=alert(1)>",
    # URLs, paths, redirects
    "//evil.example", "http://evil.example/", "/\\evil.example", "../../../../etc/passwd", "..%2f..%2f",
    "/staff/", "/me", "?next=//evil", "#", "file:///etc/passwd", "data:text/html,x",
    # dates and formats
    "2026-02-30", "0000-00-00", "9999-12-31", "10000-01-01", "-2026-01-01", "2026-13-01", "2026-11-20T25:00",
    "true", "false", "null", "None", "[]", "{}", '{"a":', "[" * 200, "A" * 10_000, "中" * 5_000, " ",
    "", "   padded   ",
    # identifiers that look right
    "430102197503031016", "43010219750303101X", "12430102MB00009010", "XYBG20261120AAAAAAAA",
]

#: Raw bytes for the query string and path, sent unescaped or percent-encoded as they are.
RAW_BYTES = [b"%", b"%z", b"%zz", b"%E4%BD", b"%ED%A0%80", b"%C0%AF", b"%FF%FE", b"%00", b"%%32%65",
             b"\xff\xfe", b"\xc3\x28", b"\xe4\xbd", b"\x80", b"\xed\xa0\x80", b"+%2B+", b"&&==&", b";"]


class Generator:
    """Seeded hostile values; ``count`` is the number handed out."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.count = 0

    def value(self) -> str:
        self.count += 1
        rng = self.rng
        roll = rng.random()
        if roll < 0.55:
            return rng.choice(ATOMS)
        if roll < 0.85:  # a few atoms glued together
            return "".join(rng.choice(ATOMS)[:300] for _ in range(rng.randint(2, 4)))
        if roll < 0.95:  # random code points, surrogates and controls included
            return "".join(chr(rng.choice((rng.randint(0, 0x7F), rng.randint(0x80, 0xFFFF),
                                          rng.randint(0x10000, 0x10FFFF))))
                           for _ in range(rng.randint(1, 40)))
        return (rng.choice(ATOMS) * rng.randint(50, 2_000))[:MAX_LENGTH]

    def raw(self) -> bytes:
        """A raw query/path piece: malformed percent-encoding or invalid UTF-8."""
        self.count += 1
        return self.rng.choice(RAW_BYTES)


def encode(value: str) -> bytes:
    """Percent-encoded UTF-8, lone surrogates as their (invalid) three bytes."""
    return quote_from_bytes(value.encode("utf-8", "surrogatepass"), safe="").encode("ascii")


def source_fields() -> list[str]:
    """Every request field name the portal reads (args, form, values, files)."""
    names = set()
    pattern = re.compile(r"""(?:args|form|values|files)(?:\.get|\.getlist|\.to_dict)?[(\[]\s*["']([A-Za-z_][\w-]*)["']""")
    for path in (ROOT / "portal").rglob("*.py"):
        names.update(pattern.findall(path.read_text(encoding="utf-8")))
    names.update(("csrf_token", "q", "page", "next", "kind", "category", "region_code", "grade", "record_types",
                  "response_type", "client_id", "redirect_uri", "scope", "nonce", "code_challenge",
                  "code_challenge_method", "grant_type", "client_secret"))
    return sorted(names)


def file_fields() -> list[str]:
    """The upload field names the portal reads (``request.files.get("…")``)."""
    pattern = re.compile(r"""files(?:\.get|\.getlist)?[(\[]\s*["']([A-Za-z_][\w-]*)["']""")
    return sorted({name for path in (ROOT / "portal").rglob("*.py")
                   for name in pattern.findall(path.read_text(encoding="utf-8"))})


#: Request headers some view or hook reads.
HEADERS = ["HX-Request", "HX-History-Restore-Request", "Sec-Purpose", "Purpose", "If-None-Match",
           "If-Modified-Since", "Range", "X-Forwarded-For", "X-Real-IP", "Accept-Language", "Referer",
           "Origin", "X-CSRF-Token", "Content-Language"]
COOKIES = ["portal_session", "session", CSRF_COOKIE, "portal_chat", "x"]
FILE_BODIES = [b"", b"%PDF-1.4\n%%EOF\n", b"%PDF-1.4\n1 0 obj<</OpenAction<</JS(app.alert(1))>>>>endobj\n%%EOF",
               b"\xff\xd8\xff\xe0<html><script>alert(1)</script>", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
               b"PK\x03\x04" + b"\x00" * 40, b"\x00" * 1024, "医院,代码\n".encode("gbk")]


def _header_value(gen: Generator) -> str:
    """A hostile value a header can carry (latin-1, one line)."""
    raw = gen.value().encode("utf-8", "surrogatepass")[:4000]
    return raw.decode("latin-1").replace("\r", "").replace("\n", "")


def _multipart(gen: Generator, names: list[str], files: list[str]) -> dict:
    """Form fields and uploads (hostile names and bytes); text without surrogates, which the
    multipart encoder cannot write (the urlencoded bodies carry those)."""
    rng = gen.rng

    def text() -> str:
        return gen.value().encode("utf-8", "replace").decode("utf-8")

    data = {name: text() for name in rng.sample(names, rng.randint(1, 5))}
    for name in rng.sample(files, rng.randint(1, len(files))) if files else ():
        gen.count += 1
        data[name] = (io.BytesIO(rng.choice(FILE_BODIES)), text()[:200] or "x")
    return data


# --- the world ------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=DATABASES)
def fuzz_app(request, tmp_path_factory):
    """One app per database with subjects, a case and a staff member, shared by the whole run."""
    from portal import create_app
    from portal.db.migrate import upgrade

    tmp = tmp_path_factory.mktemp("fuzz")
    with _database(request.param) as url:
        settings = {"PORTAL_VAR_DIR": str(tmp / "var"), "PORTAL_TODAY": TODAY.isoformat(),
                    "SEARCH_URL": f"tantivy://{tmp / 'index'}", "PORTAL_PROFILE": "hunan",
                    "PORTAL_BASE_URL": "http://127.0.0.1:5000", "PORTAL_CHAT_RATE_PER_MINUTE": "100000"}
        if url:
            settings["DATABASE_URL"] = url
        app = create_app(settings)
        app.config["TESTING"] = True
        rt = app.extensions["portal"]
        upgrade(rt.engine)
        session = rt.sessions()
        world = build_world(rt, session)
        ctx = rt.context(session, "test")
        staff, _uri = staff_svc.create_staff(ctx, "dept.fuzz", "correct horse battery", ["department"],
                                             region_code="430100", display_name="模糊测试员")
        record = session.execute(select(CreditRecord).where(CreditRecord.subject_id == world.org.id,
                                                            CreditRecord.is_current.is_(True))
                                 .order_by(CreditRecord.id)).scalars().first()
        case_nos = []
        try:
            applicant = cases.Applicant("https://idp.example.test", "sub-赵法人", "赵法人", "legal_rep", ACR_FACE)
            case = cases.file_objection(ctx, world.org, record, ground="fact_error", statement="登记信息有误",
                                        applicant=applicant, commitment=True, identity_confirmed=True)
            case_nos.append(case.case_no)
        except ServiceError:
            pass
        session.commit()
        from portal.services import indexing

        while indexing.drain(session, rt.backend, rt.today(), rt.profile):
            pass
        pools = {"public_id": [world.org.public_id, world.person.public_id, world.other.public_id],
                 "case_no": case_nos, "lineage_id": [str(record.lineage_id)], "auth_id": [str(a.id) for a in world.auths.values()],
                 "code": [world.codes["org"]], "name": ["red", "serious"], "kind": ["decision", "receipt"],
                 "fmt": ["png", "svg", "pdf"], "doc_id": ["hunan"]}
        staff_id = staff.id
        legal_rep = world.ids["legal_rep"]
        session.close()
        yield app, pools, legal_rep, staff_id
        app.extensions["portal.scan_counter"].flush()
        rt.close()


def log_in(client, visitor: str, legal_rep, staff_id: int) -> None:
    with client.session_transaction() as s:
        s.clear()
        if visitor == "subject":
            s["identity"] = legal_rep.to_dict()
        elif visitor == "staff":
            s["staff_id"] = staff_id


# --- the run --------------------------------------------------------------------------------

_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _path(rule, gen: Generator, pools: dict) -> bytes:
    """The rule's path with every parameter filled: a real value or a hostile one."""
    rng = gen.rng

    def fill(m: re.Match) -> str:
        real = pools.get(m.group(1))
        if real and rng.random() < 0.5:
            piece = encode(rng.choice(real))
        elif rng.random() < 0.1:
            piece = gen.raw()
        else:
            piece = encode(gen.value())
        return piece.decode("latin-1")

    return _PARAM.sub(fill, rule.rule).encode("latin-1")


def _fields(gen: Generator, names: list[str], most: int) -> bytes:
    rng = gen.rng
    pairs = []
    for name in rng.sample(names, rng.randint(1, most)):
        value = gen.raw() if rng.random() < 0.1 else encode(gen.value())
        pairs.append(encode(name) + b"=" + value)
    if rng.random() < 0.1:
        pairs.append(gen.raw())  # a stray malformed piece
    return b"&".join(pairs)


def run_visitor(app, pools, visitor: str, legal_rep, staff_id: int, seed: int, n: int) -> tuple[int, int, list]:
    gen = Generator(seed)
    rng = gen.rng
    rules = [r for r in app.url_map.iter_rules()]
    names = source_fields()
    files = file_fields()
    client = app.test_client()
    csrf_seed = secrets.token_urlsafe(32)
    client.set_cookie(CSRF_COOKIE, csrf_seed)
    token = token_for_seed(app.config["SECRET_KEY"], csrf_seed)
    log_in(client, visitor, legal_rep, staff_id)
    failures = []
    for i in range(n):
        if i % 100 == 0:  # a fuzzed logout or login changes the session: put the visitor back
            client.set_cookie(CSRF_COOKIE, csrf_seed)
            log_in(client, visitor, legal_rep, staff_id)
        rule = rng.choice(rules)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        method = rng.choice(methods)
        path = _path(rule, gen, pools)
        query = _fields(gen, names, 4) if rng.random() < 0.8 else b""
        headers = {}
        if rng.random() < 0.2:
            headers["HX-Request"] = "true"
        if rng.random() < 0.2:
            headers[rng.choice(HEADERS)] = _header_value(gen)
        body = None
        multipart = None
        if method != "GET" and rng.random() < 0.15:
            multipart = _multipart(gen, names, files)
            headers["X-CSRF-Token"] = token
        elif method != "GET":
            body = _fields(gen, names, 6)
            roll = rng.random()
            if roll < 0.8:
                headers["X-CSRF-Token"] = token
            elif roll < 0.9:  # a non-ASCII token (was a TypeError in compare_digest)
                gen.count += 1
                headers["X-CSRF-Token"] = rng.choice(["é" * 64, "\xff", token[:-1] + "ÿ", "", " " * 64])
            else:
                body += b"&csrf_token=" + (encode(gen.value()) if rng.random() < 0.5 else token.encode())
        environ = {"PATH_INFO": path.decode("latin-1") if rng.random() < 0.1 else None,
                   "QUERY_STRING": query.decode("latin-1"),
                   # now and then a hostile cookie header instead of the visitor's own (raw bytes too)
                   "HTTP_COOKIE": (f"{rng.choice(COOKIES)}={_header_value(gen)}; {CSRF_COOKIE}={csrf_seed}"
                                   if rng.random() < 0.05 else None)}
        kwargs = {"method": method, "headers": headers,
                  "environ_overrides": {k: v for k, v in environ.items() if v is not None}}
        if body is not None:
            kwargs.update(data=body, content_type="application/x-www-form-urlencoded")
        elif multipart is not None:
            kwargs.update(data=multipart, content_type="multipart/form-data")
        url = path.decode("latin-1")
        resp = client.open(url, **kwargs)
        if resp.status_code >= 500:
            failures.append((visitor, method, url[:200], query[:200], (body or b"")[:200], resp.status_code))
        resp.close()
    return n, gen.count, failures


def test_no_5xx_on_hostile_input_to_any_route(fuzz_app, capsys):
    app, pools, legal_rep, staff_id = fuzz_app
    check = app.test_client()
    log_in(check, "staff", legal_rep, staff_id)
    assert check.get("/staff/objections").status_code == 200  # the staff visitor is really logged in
    log_in(check, "subject", legal_rep, staff_id)
    assert check.get(f"/me/subjects/{pools['public_id'][0]}").status_code == 200  # so is the subject
    requests = hostile = 0
    failures = []
    started = time.perf_counter()
    for k, visitor in enumerate(VISITORS):
        n, values, failed = run_visitor(app, pools, visitor, legal_rep, staff_id, SEED + k, REQUESTS_PER_VISITOR)
        requests += n
        hostile += values
        failures += failed
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nfuzz seed={SEED}: {requests} requests, {hostile} hostile values, "
              f"{len(failures)} × 5xx, {elapsed:.1f} s")
    assert requests == len(VISITORS) * REQUESTS_PER_VISITOR
    if REQUESTS_PER_VISITOR >= DEFAULT_REQUESTS:  # the CI run (a shorter local run may set FUZZ_REQUESTS)
        assert hostile >= 10_000
    assert failures == [], "\n".join(map(repr, failures[:30]))
