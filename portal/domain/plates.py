"""QR identity plates (二维码身份牌, 淮安 三(七)): tokens, plate numbers and scan URLs. Pure.

A plate token is ``RANDOM`` (10 base32 characters, 50 random bits) followed by ``SIG`` (6 base32
characters, 30 bits of an HMAC over the random part made with the portal's signing key). A token
whose signature does not match is rejected before any database lookup, so a forged or mistyped
code gets the same answer whether or not its random part belongs to a real plate.

Tokens use the upper-case RFC 4648 base32 alphabet (A–Z, 2–7) so that, with an upper-case scheme
and host, the whole scan URL fits the QR alphanumeric mode: one QR version smaller at the same
error-correction level (the same trick as the upper-case ``HTTPS://QR.ALIPAY.COM/…`` codes).
"""
from __future__ import annotations

import base64
import enum
import hmac
import secrets
from typing import Protocol
from urllib.parse import urlsplit

RANDOM_LEN = 10
SIG_LEN = 6
TOKEN_LEN = RANDOM_LEN + SIG_LEN
ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
SCAN_PATH = "/p/"


class Signer(Protocol):
    def sign(self, message: str, length: int = 16) -> str: ...


class PlateStatus(enum.StrEnum):
    ACTIVE = "active"
    REPLACED = "replaced"  # reissued: a newer plate took its place
    REVOKED = "revoked"  # lost, damaged, unit closed ...


PLATE_STATUS_LABELS = {PlateStatus.ACTIVE: "有效", PlateStatus.REPLACED: "已换发", PlateStatus.REVOKED: "已作废"}

# Why a plate was revoked or reissued; shown in the banner of the old plate's page.
REVOKE_REASONS = {
    "lost": "遗失",
    "damaged": "损毁",
    "closed": "单位注销或停业",
    "info_changed": "登记信息变更",
    "misuse": "冒用或违规使用",
    "other": "其他原因",
}

# GB/T 2260 province prefix -> ISO 3166-2:CN subdivision code, used as the plate-number prefix.
PROVINCE_CODES = {
    "11": "BJ", "12": "TJ", "13": "HE", "14": "SX", "15": "NM", "21": "LN", "22": "JL", "23": "HL",
    "31": "SH", "32": "JS", "33": "ZJ", "34": "AH", "35": "FJ", "36": "JX", "37": "SD", "41": "HA",
    "42": "HB", "43": "HN", "44": "GD", "45": "GX", "46": "HI", "50": "CQ", "51": "SC", "52": "GZ",
    "53": "YN", "54": "XZ", "61": "SN", "62": "GS", "63": "QH", "64": "NX", "65": "XJ",
}


#: What a plate prints under its QR code when the profile prints no grade (issue #13: a grade on
#: the door goes stale the day a penalty arrives and every January; 淮安 三（七） asks that the scan
#: shows 基本信息、行政处罚信息和信用级别, not that the plate prints the grade).
LIVE_CAPTION = "扫码查看实时信用信息"


def printed_grade_line(letter: str, year: int, label: str = "") -> str:
    """The grade line of a plate that prints one: always with the year it rates."""
    return f"{year} 年度信用等级 {letter}" + (f"（{label}）" if label else "")


def needs_reprint(shows_grade: bool, printed: tuple[str, int | None] | None,
                  current: tuple[str, int] | None) -> bool:
    """Whether a plate's print is out of date (issue #13, "offer reprinting after each grading").

    ``printed``: ``(letter, year)`` the plate was last printed with, ``None`` if it printed no
    grade or was never printed since grades were recorded; ``current``: the grade in force.
    A profile that prints grades wants the current one on the door; one that prints none wants
    a plate that shows none (a plate printed with a grade before the profile changed is stale)."""
    return printed != (current if shows_grade else None)


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def _signature(signer: Signer, random_part: str) -> str:
    mac_b64 = signer.sign("plate:" + random_part, 43)  # the whole HMAC-SHA256, base64url
    return _b32(base64.urlsafe_b64decode(mac_b64 + "="))[:SIG_LEN]


def new_token(signer: Signer) -> str:
    random_part = _b32(secrets.token_bytes(7))[:RANDOM_LEN]
    return random_part + _signature(signer, random_part)


def normalize_token(raw: str) -> str:
    """Upper-case and strip what a hand-typed or re-cased link might add."""
    return (raw or "").strip().upper()


def verify_token(signer: Signer, raw: str) -> str | None:
    """The normalised token when its signature is ours, else ``None`` (no database involved)."""
    token = normalize_token(raw)
    if len(token) != TOKEN_LEN or not set(token) <= ALPHABET:
        return None
    expected = _signature(signer, token[:RANDOM_LEN])
    # compare_digest: a wrong signature takes the same time however many characters match
    return token if hmac.compare_digest(expected, token[RANDOM_LEN:]) else None


def province_prefix(region_code: str) -> str:
    return PROVINCE_CODES.get(region_code[:2], "CN")


def plate_number(region_code: str, seq: int) -> str:
    """Human plate number, e.g. ``HN-430102-000123`` (province, county code, sequence)."""
    return f"{province_prefix(region_code)}-{region_code}-{seq:06d}"


def plate_number_prefix(region_code: str) -> str:
    return f"{province_prefix(region_code)}-{region_code}-"


def scan_url(base_url: str, token: str) -> str:
    """The URL a plate's QR code holds.

    When the portal lives at the root of its host, scheme, host and path are upper-cased
    (``HTTPS://XYXX.EXAMPLE.GOV.CN/P/TOKEN``): scheme and host are case-insensitive and the
    portal answers ``/P/`` as well as ``/p/``, so the code fits the alphanumeric QR mode.
    Under a sub-path (which may be case-sensitive on the proxy) the URL is left as configured.
    """
    base = base_url.rstrip("/")
    url = f"{base}{SCAN_PATH}{token}"
    parts = urlsplit(base)
    if parts.path in ("", "/") and not parts.query and not parts.fragment and not parts.username:
        return url.upper()
    return url


def region_prefix(region_code: str) -> str:
    """A region selects itself and what lies under it: 430000 → 43, 430100 → 4301, 430102 → 430102."""
    code = (region_code or "").strip()
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code
