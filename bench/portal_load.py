"""A whole portal under mixed, bounded traffic on 127.0.0.1 (``python -m bench soak`` and
``python -m bench import_stall``): a demo province in a temporary directory (SQLite file
database, Whoosh index), served by gunicorn, visited by Python clients that do what people do:
search, open a facility page, scan a QR plate, ask the chatbot, log in through the development
identity provider, and file and withdraw an objection as a hospital's legal representative.

Every request is timed per action; an error is a connection failure, a timeout, any 5xx, or any
status the action does not expect (a refused filing counts). Traffic never leaves 127.0.0.1 and
is bounded by time and by a request count.
"""
from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from .load import free_port, wait_port
from .stats import summary_ms

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-20"
SEARCH_WORDS = ("医院", "诊所", "口腔", "药店", "卫生院", "长沙", "处罚", "人民医院", "门诊部", "中医")
CHAT_QUESTIONS = ("信用修复需要什么材料？", "异议申请多久处理？", "失信信息公示多长时间？", "怎么查询医院的信用等级？")


def _blank_pdf() -> bytes:
    """A valid one-page PDF: evidence uploads are parsed and checked for active content."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


PDF = _blank_pdf()


def settings(var: Path, port: int, production: bool = False) -> dict[str, str]:
    """Development mode with the embedded development IdP: production mode refuses it (and any
    issuer but a real OIDC provider), so the soak's logins need development mode."""
    return {"PORTAL_VAR_DIR": str(var), "PORTAL_TODAY": TODAY, "PORTAL_PROFILE": "hunan",
            "PORTAL_INDEX_MODE": "worker", "SEARCH_URL": f"whoosh://{var / 'index'}",
            "PORTAL_BASE_URL": f"http://127.0.0.1:{port}", "PORTAL_DEV_IDP": "on",
            # every simulated visitor is 127.0.0.1: one address's limits would throttle them all
            "PORTAL_CHAT_RATE_PER_MINUTE": "100000", "PORTAL_RATELIMIT_SEARCH": "1000000/minute",
            "PORTAL_RATELIMIT_LOGIN": "1000000/minute"}


def prepare(var: Path, env: dict, subjects: int = 400, seed: int = 5) -> dict:
    """Demo data, graded and indexed; a plate for every organisation; what the clients need."""
    from sqlalchemy import select

    from portal.config import load_settings
    from portal.db.migrate import upgrade
    from portal.models import Plate, Subject
    from portal.runtime import Runtime
    from portal.services import indexing
    from portal.services import plates as plate_svc
    from portal.services.demo import load_demo
    from search_index import open_backend

    rt = Runtime.from_settings(load_settings(env))
    upgrade(rt.engine)
    with rt.sessions() as s:
        load_demo(rt.context(s, "bench"), subjects, seed)
        s.commit()
        orgs = s.execute(select(Subject).where(Subject.kind == "org", Subject.status == "active")
                         .order_by(Subject.id)).scalars().all()
        plate_svc.issue_missing(rt.context(s, "bench"), orgs)
        s.commit()
        tokens = s.execute(select(Plate.token).where(Plate.status == "active")).scalars().all()
        facilities = [o.public_id for o in orgs]
        backend = open_backend(env["SEARCH_URL"])
        indexing.rebuild(s, backend, rt.today(), rt.profile)
        backend.close()
    rt.engine.dispose()
    return {"scans": [f"/p/{t}" for t in tokens], "facilities": [f"/facility/{p}" for p in facilities]}


class Gunicorn:
    def __init__(self, env: dict, port: int, workers: int, threads: int = 1, extra: tuple[str, ...] = (),
                 log: Path | None = None):
        cmd = [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-k",
               "gthread" if threads > 1 else "sync", "--threads", str(threads), "-b", f"127.0.0.1:{port}",
               "--log-level", "warning", "--timeout", "60", *extra, "portal:create_app()"]
        self.port = port
        self.log = log.open("ab") if log is not None else None  # production's JSON access log: to a file
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=self.log)
        wait_port(port, self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.log is not None:
            self.log.close()


class Tally:
    """Per-action latencies, statuses and errors, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.examples: list[str] = []
        self.requests = 0

    def add(self, action: str, seconds: float, ok: bool, detail: str = "") -> None:
        with self.lock:
            self.requests += 1
            self.times[action].append(seconds)
            if not ok:
                self.errors[action] += 1
                if len(self.examples) < 10:
                    self.examples.append(f"{action}: {detail}")

    def summary(self) -> dict:
        with self.lock:
            out = {a: {**summary_ms(t), "errors": self.errors.get(a, 0)} for a, t in sorted(self.times.items())}
            every = [x for t in self.times.values() for x in t]
            out["all"] = {**summary_ms(every), "errors": sum(self.errors.values())}
            return out


class Visitor:
    """One browser: its own cookies (requests.Session), on 127.0.0.1 only."""

    def __init__(self, base: str, tally: Tally, paths: dict, rng: random.Random, budget: Budget):
        import requests

        assert urlsplit(base).hostname == "127.0.0.1"
        self.base, self.tally, self.paths, self.rng, self.budget = base, tally, paths, rng, budget
        self.http = requests.Session()
        # production mode: https with the bench's own certificate, passed per request (an
        # environment's REQUESTS_CA_BUNDLE would override a session-wide setting)
        self.verify = paths.get("ca") or True
        self.rep: dict | None = None  # the legal representative's subject page and objection links

    def _do(self, action: str, method: str, path: str, expect=(200,), **kw):
        import requests

        if not self.budget.take():
            raise Budget.Spent
        url = path if path.startswith("http") else self.base + path
        assert urlsplit(url).hostname == "127.0.0.1", url
        t = time.perf_counter()
        try:
            resp = self.http.request(method, url, timeout=30, allow_redirects=False, verify=self.verify, **kw)
        except requests.RequestException as exc:
            self.tally.add(action, time.perf_counter() - t, False, type(exc).__name__)
            return None
        ok = resp.status_code in expect
        self.tally.add(action, time.perf_counter() - t, ok, f"{method} {path[:60]} → {resp.status_code}")
        return resp if ok else None

    def _csrf(self, html: str) -> str:
        m = re.search(r'"X-CSRF-Token": "([0-9a-f]+)"', html)
        return m.group(1) if m else ""

    # --- actions ---------------------------------------------------------------------------

    def search(self) -> None:
        self._do("search", "GET", "/search", params={"q": self.rng.choice(SEARCH_WORDS)})

    def facility(self) -> None:
        self._do("facility", "GET", self.rng.choice(self.paths["facilities"]))

    def scan(self) -> None:
        self._do("scan", "GET", self.rng.choice(self.paths["scans"]))

    def chat(self) -> None:
        page = self._do("chat", "GET", "/chat")
        if page is not None:
            self._do("chat", "POST", "/chat", data={"q": self.rng.choice(CHAT_QUESTIONS)},
                     headers={"X-CSRF-Token": self._csrf(page.text)})

    def login(self, who: str = "legal_rep") -> bool:
        """The real login flow: /login → development IdP page → its form → callback (or, in
        production mode, the OpenID Provider's login: ``_provider_login``)."""
        from bs4 import BeautifulSoup

        self.http.cookies.clear()
        start = self._do("login", "GET", "/login", expect=(302,), params={"next": "/me"})
        if start is None:
            return False
        if self.paths.get("issuer"):
            return self._provider_login(start.headers["Location"], who)
        page = self._do("login", "GET", start.headers["Location"])
        if page is None:
            return False
        form = BeautifulSoup(page.text, "html.parser").find("form", method="post")
        choice = form.find("input", attrs={"name": "who", "data-role": who})
        data = {"who": choice["value"], "method": "face", "decision": "login",
                "csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"]}
        back = self._do("login", "POST", form["action"] if form["action"].startswith("http")
                        else self.base + form["action"], expect=(302,), data=data)
        if back is None:
            return False
        done = self._do("login", "GET", back.headers["Location"], expect=(302,))
        return done is not None

    def _provider_login(self, authorize: str, who: str) -> bool:
        """node-oidc-provider: authorize → its login form → POST account + acr → resume →
        the portal's callback → /me."""
        from urllib.parse import urljoin

        from portal.identity import ACR_FACE

        issuer = self.paths["issuer"]
        step = self._do("login", "GET", authorize, expect=(302, 303))
        if step is None:
            return False
        interaction = urljoin(issuer, step.headers["Location"])
        if self._do("login", "GET", interaction) is None:
            return False
        step = self._do("login", "POST", f"{interaction}/login", expect=(302, 303),
                        data={"account": who, "acr": ACR_FACE})
        if step is None:
            return False
        step = self._do("login", "GET", urljoin(issuer, step.headers["Location"]), expect=(302, 303))
        if step is None:
            return False
        return self._do("login", "GET", step.headers["Location"], expect=(302,)) is not None

    def objection(self) -> None:
        """File an objection on one of the hospital's records, then withdraw it (a case per
        cycle: numbering, evidence file, audit events, notifications)."""
        from bs4 import BeautifulSoup

        if self.rep is None:
            if not self.login():
                return
            me = self._do("objection", "GET", "/me")
            if me is None:
                return
            # the subject's own page: /me also links notices and cases (/me/subjects/<id>/cases/…)
            # above the list of subjects, and a case page has no "提出异议" links
            link = next((a["href"] for a in BeautifulSoup(me.text, "html.parser").select("a[href^='/me/subjects/']")
                         if re.fullmatch(r"/me/subjects/[^/]+", a["href"])), None)
            if link is None:
                self.tally.add("objection", 0.0, False, "no subject link on /me")
                return
            page = self._do("objection", "GET", link)
            if page is None:
                return
            soup = BeautifulSoup(page.text, "html.parser")
            self.rep = {"links": [a["href"] for a in soup.select("a.file-objection")], "csrf": self._csrf(page.text)}
        if not self.rep["links"]:
            return
        link = self.rep["links"][self.rng.randrange(len(self.rep["links"]))]
        filed = self._do("objection", "POST", link, expect=(302,),
                         headers={"X-CSRF-Token": self.rep["csrf"]},
                         data={"ground": "fact_error", "statement": "处罚决定书记载的执业范围有误",
                               "commitment": "yes", "identity": "yes"},
                         files={"evidence": ("决定书.pdf", PDF, "application/pdf")})
        if filed is not None:
            self._do("objection", "POST", filed.headers["Location"] + "/withdraw", expect=(302,),
                     headers={"X-CSRF-Token": self.rep["csrf"]}, data={"reason": "已与认定部门沟通", "confirm": "yes"})


class Budget:
    """A request count and a deadline shared by all clients."""

    class Spent(Exception):
        pass

    def __init__(self, requests: int, seconds: float):
        self.left, self.deadline = requests, time.monotonic() + seconds
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() >= self.deadline:
                return False
            self.left -= 1
            return True


def run_clients(base: str, paths: dict, mix: dict[str, int], clients: int, budget: Budget, tally: Tally,
                seed: int = 1, pause: float = 0.0) -> None:
    """``clients`` threads, each a Visitor picking actions by weight until the budget is spent.
    Logins and objections go to a single client (one legal representative, one browser)."""
    def loop(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        v = Visitor(base, tally, paths, rng, budget)
        own = {k: w for k, w in mix.items() if i == 0 or k not in ("objection", "login")}
        names, weights = list(own), list(own.values())
        try:
            while True:
                action = rng.choices(names, weights)[0]
                if action == "login":
                    v.login("doctor")
                    v.rep = None  # the next objection logs the representative in again
                else:
                    getattr(v, action)()
                if pause:
                    time.sleep(pause)
        except Budget.Spent:
            return

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def start(var: Path, threads: int, subjects: int = 400) -> tuple[Gunicorn, dict, dict]:
    """One gunicorn worker with ``threads`` threads: the development IdP keeps its authorization
    codes in process memory, so a code issued by one worker is unknown to another (the callback
    would answer 401). With a real OIDC issuer production runs several workers (``start_production``)."""
    port = free_port()
    env = settings(var, port)
    paths = prepare(var, env, subjects)
    return Gunicorn(env, port, 1, threads), env, paths


def start_production(var: Path, workers: int, threads: int, subjects: int = 400):
    """``PORTAL_ENV=production`` behind TLS (gunicorn's own, a self-signed certificate) with logins
    through node-oidc-provider over https (``bench.prod_stack``). Returns the server, the
    provider, the environment and the clients' paths (with ``ca``, ``issuer``); stop both."""
    from portal.crypto import new_master_key

    from . import prod_stack

    port = free_port()
    cert, key = prod_stack.self_signed(var.parent / "tls")
    env = settings(var, port)
    env.update(PORTAL_BASE_URL=f"https://127.0.0.1:{port}", PORTAL_DATA_KEY=new_master_key(),
               PORTAL_SECRET_KEY=new_master_key())
    paths = prepare(var, env, subjects)
    provider = prod_stack.start_provider(env["PORTAL_BASE_URL"], prod_stack.oidc_accounts(env), cert, key,
                                         var.parent / "provider.log")
    prod = prod_stack.production_settings(env, provider.issuer, cert)
    try:
        server = Gunicorn(prod, port, workers, threads, extra=("--certfile", str(cert), "--keyfile", str(key)),
                          log=var.parent / "gunicorn.log")
    except BaseException:
        provider.stop()
        raise
    return server, provider, prod, {**paths, "ca": str(cert), "issuer": provider.issuer}


def warm_up(base: str, paths: dict) -> None:
    """Every action a few times, not counted: first requests load searchers, templates and the
    chatbot's knowledge base."""
    import random

    v = Visitor(base, Tally(), paths, random.Random(0), Budget(200, 120))
    for _ in range(3):
        for action in ("search", "facility", "scan", "chat", "objection"):
            getattr(v, action)()
