"""The portal as production runs it, on 127.0.0.1 (``python -m bench soak``): ``PORTAL_ENV=production``,
explicit keys, an https base URL served by gunicorn itself with a throwaway self-signed certificate
(the TLS terminator), and logins through a real OpenID Provider over https (node-oidc-provider from
tests/oidc, which production requires instead of the embedded development IdP).

The certificate is made for IP 127.0.0.1 and trusted through ``REQUESTS_CA_BUNDLE`` by the portal's
back channel to the provider and by the bench clients; nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OIDC_DIR = ROOT / "tests" / "oidc"
CLIENT_ID = "bench-portal"
CLIENT_SECRET = "bench-secret-0123456789-abcdefghijkl"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own trust anchor), valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(ski, False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen
    accounts: dict  # role -> account id
    log: object = None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        if self.process.stdout:
            self.process.stdout.close()
        if self.log is not None:
            self.log.close()


def oidc_accounts(env: dict) -> dict:
    """The demo's doctor and hospital legal representative, as provider accounts (the same people
    the development IdP offers, ``devidp.identities``)."""
    from portal.config import load_settings
    from portal.devidp.identities import asserted_number, demo_identities
    from portal.devidp.server import LEGAL_REP_ROLE
    from portal.runtime import Runtime

    rt = Runtime.from_settings(load_settings(env))
    out = {}
    with rt.sessions() as s:
        for person in demo_identities(s, rt.protector):
            if person.role not in ("doctor", "legal_rep"):
                continue
            account = {"name": person.name, "id_number": asserted_number(person, s, rt.protector)}
            if person.legal_rep_of:
                account.update(legal_rep_of=person.legal_rep_of, org_role=LEGAL_REP_ROLE)
            out[person.role] = account
    rt.engine.dispose()
    return out


START_SECONDS = 120.0


def read_ready_line(proc: subprocess.Popen) -> dict:
    """node-oidc-provider's first stdout line (JSON: it listens, and its issuer), or ``{}``.
    On a loaded machine (a CI run) starting Node and loading the provider's modules has taken
    longer than 30 s once, so wait up to ``START_SECONDS``, and stop as soon as it has ended.
    Also used by tests/integration/test_oidc_interop.py."""
    ready: dict = {}
    reader = threading.Thread(target=lambda: ready.update(json.loads(proc.stdout.readline() or "{}")), daemon=True)
    reader.start()
    deadline = time.monotonic() + START_SECONDS
    while reader.is_alive() and proc.poll() is None and time.monotonic() < deadline:
        reader.join(0.2)
    reader.join(1)
    return ready


def start_provider(base_url: str, accounts: dict, cert: Path, key: Path, log: Path) -> Provider:
    node = shutil.which("node")
    if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        raise SystemExit("production-mode soak needs Node.js and `npm ci --prefix tests/oidc` (node-oidc-provider)")
    from portal.identity import ACR_FACE, ACR_PASSWORD

    config = {"client": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                         "redirect_uris": [f"{base_url}/auth/callback"],
                         "post_logout_redirect_uris": [f"{base_url}/logged-out"]},
              "accounts": {role: a for role, a in accounts.items()}, "acr_values": [ACR_PASSWORD, ACR_FACE]}
    err = log.open("w")
    proc = subprocess.Popen([node, "provider.mjs"], cwd=OIDC_DIR, stdout=subprocess.PIPE, stderr=err,
                            env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config),
                                 "OIDC_TLS_CERT": str(cert), "OIDC_TLS_KEY": str(key)}, text=True)
    ready = read_ready_line(proc)
    if "issuer" not in ready:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()  # else an unclosed pipe surfaces as a ResourceWarning in a later test
        err.close()
        raise SystemExit(f"node-oidc-provider did not start (exit code {proc.returncode}): "
                         + log.read_text()[-2000:])
    return Provider(ready["issuer"], proc, {role: role for role in accounts}, err)


def production_settings(env: dict, issuer: str, cert: Path) -> dict:
    """``env`` (portal_load.settings) turned into production: keys given, https, a real issuer."""
    from portal.crypto import new_master_key

    return {**env, "PORTAL_ENV": "production", "PORTAL_SECRET_KEY": new_master_key(),
            "PORTAL_DATA_KEY": env.get("PORTAL_DATA_KEY") or new_master_key(),
            "PORTAL_BASE_URL": env["PORTAL_BASE_URL"].replace("http://", "https://"), "PORTAL_DEV_IDP": "auto",
            "PORTAL_OIDC_ISSUER": issuer, "PORTAL_OIDC_CLIENT_ID": CLIENT_ID,
            "PORTAL_OIDC_CLIENT_SECRET": CLIENT_SECRET, "PORTAL_OIDC_SCOPES": "openid profile realname",
            "REQUESTS_CA_BUNDLE": str(cert), "PORTAL_LOG_FORMAT": "json"}
