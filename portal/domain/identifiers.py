"""Identifiers of credit subjects: validation, classification, synthetic makers and masking.

Organisations are identified by the unified social credit code (USCC, GB 32100-2015), natural
persons by the citizen identity number (GB 11643-1999) (湖南 第十六条; 湖南医保 第十四条; 阳山 三).
ID numbers, phone numbers, bank cards and e-mail addresses are personal information: public
pages show them masked (DOMAIN.md "Disclosure"). Pure functions, no Flask, no database.

Rules beyond python-stdnum:

* USCC characters 9-17 are the organisation code (主体标识码, GB 11714-1997) whose 9th character
  is its own MOD 11 check digit; stdnum does not verify it, this module does by default. Every
  published code checked while writing this (including ``MA…`` codes issued after 2015) satisfies
  it; whether every individual business (机构类别 ``92``, often registered without an
  organisation code before 2015) does could not be confirmed, so callers may pass
  ``check_org_code=False`` for a code that a registry has confirmed.
* GB 32100 allows a letter as the registration authority or type code (``A1`` military units,
  ``N2`` rural collective economic organisations, ``Y1`` others); stdnum's ``validate`` rejects
  these, so the format is checked here and only stdnum's check-character arithmetic is used.
* ``stdnum.cn.ric.validate`` rejects genuine numbers whose birthplace code was created after the
  birth year (e.g. 430102 长沙市芙蓉区 for anyone born before 1983: the code reflects where the
  number was issued, not the place at birth) and raises ``KeyError`` for a code under a known
  province that is missing from its table (e.g. 439999). Here the birthplace code only yields a
  warning.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Literal

from stdnum import numdb
from stdnum.cn import ric as _ric
from stdnum.cn import uscc as _uscc

from .redaction import scrub_people

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, Z, S, V
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714-1997
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212\u30fc"
MIN_BIRTH_YEAR = 1900
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 南宫 西门 东郭 "
    "百里 呼延 万俟 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 钟离 闾丘 司空 亓官 司寇 拓跋 第五".split()
)


class InvalidIdentifier(ValueError):
    """An identifier failed validation; ``message`` is the Chinese text shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: Literal["M", "F"]
    area_code: str
    warnings: tuple[str, ...] = ()


def _ascii_digits(s: str) -> bool:
    return s.isascii() and s.isdigit()


def normalize_code(text: str) -> str:
    """Strip, full-width to half-width (NFKC), drop spaces and hyphens, upper-case."""
    text = unicodedata.normalize("NFKC", text or "")
    return "".join(c for c in text if not c.isspace() and c not in _DASHES).upper()


def _stdnum(fn: Callable[..., Any], *args: Any) -> Any:
    """Call into stdnum; whatever it raises becomes InvalidIdentifier."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - stdnum may raise KeyError/ValueError/IndexError
        raise InvalidIdentifier("号码格式无法识别") from exc


# --- USCC (GB 32100) ------------------------------------------------------------------------

def org_code_check_digit(body: str) -> str:
    """GB 11714-1997 check digit of an 8-character organisation code body (MOD 11)."""
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=False))
    return {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))


def validate_uscc(text: str, *, check_org_code: bool = True) -> str:
    """The normalised 18-character USCC, or InvalidIdentifier with the specific reason.

    Checks length, characters (GB 32100 does not use I, O, Z, S, V), the numeric region code
    (characters 3-8), the GB 32100 check character (character 18) and then the GB 11714 check
    digit of the organisation code (character 17) unless ``check_org_code`` is false.
    """
    code = normalize_code(text)
    if not code:
        raise InvalidIdentifier("请填写统一社会信用代码")
    if len(code) != 18:
        raise InvalidIdentifier(f"统一社会信用代码应为18位，当前为{len(code)}位")
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise InvalidIdentifier(f"统一社会信用代码含有非法字符：{'、'.join(bad)}（不使用I、O、Z、S、V）")
    if not _ascii_digits(code[2:8]):
        raise InvalidIdentifier("统一社会信用代码第3至8位（登记管理机关行政区划码）应为数字")
    if _stdnum(_uscc.calc_check_digit, code[:17]) != code[17]:
        raise InvalidIdentifier("统一社会信用代码校验位错误")
    if check_org_code and org_code_check_digit(code[8:16]) != code[16]:
        raise InvalidIdentifier("统一社会信用代码中的组织机构代码（第9至17位）校验位错误")
    return code


def make_uscc(authority_type: str, region_code: str, org_body: str) -> str:
    """A USCC with both check characters computed, for synthetic demo and test data.

    ``authority_type``: registration-authority code + type code (``"12"`` 机构编制/事业单位,
    ``"91"`` 工商/企业); ``region_code``: 6-digit GB/T 2260 code; ``org_body``: the first 8
    characters of the organisation code.
    """
    head = normalize_code(authority_type + region_code + org_body)
    well_formed = (len(authority_type), len(region_code), len(org_body)) == (2, 6, 8)
    if not (well_formed and _ascii_digits(region_code) and all(c in USCC_ALPHABET for c in head)):
        raise ValueError(f"bad USCC parts: {authority_type!r}, {region_code!r}, {org_body!r}")
    code17 = head + org_code_check_digit(head[8:])
    return code17 + _stdnum(_uscc.calc_check_digit, code17)


# --- citizen identity number (GB 11643) -------------------------------------------------------

def _ric_check_digit(body17: str) -> str:
    # stdnum's calc_check_digit expects the number *with* a check digit and ignores it.
    return _stdnum(_ric.calc_check_digit, body17 + "0")


@lru_cache(maxsize=4096)
def _birthplace_warnings(area_code: str) -> tuple[str, ...]:
    """Unknown or retired birthplace codes are flagged, never rejected (see module docstring)."""
    try:
        info: dict[str, str] = {}
        for _part, props in numdb.get("cn/loc").info(area_code):
            info.update(props)
        counties = info.get("county", "")
    except Exception:  # noqa: BLE001 - the table is a best-effort hint
        counties = ""
    if not counties:
        return (f"出生地代码{area_code}未收录于行政区划代码表，请核对号码",)
    entries = counties.split(",")
    if all(e.startswith("[") and not e[1:].split("]")[0].endswith("-") for e in entries):
        years, name = entries[-1][1:].split("]", 1)
        return (f"出生地代码{area_code}（{name}，使用至{years.split('-')[-1]}年）已撤销，请核对号码",)
    return ()


def validate_resident_id(text: str, *, today: date | None = None) -> ResidentId:
    """A valid 18-digit citizen identity number (GB 11643-1999), or InvalidIdentifier.

    Accepted when the format (17 digits + digit or ``X``), the MOD 11-2 check digit and the
    birth date (a real date, 1900 to ``today``) hold; a lower-case ``x`` becomes ``X``. The
    birthplace code is only checked against stdnum's table for ``warnings``.
    """
    number = normalize_code(text)
    today = today or date.today()
    if not number:
        raise InvalidIdentifier("请填写公民身份号码")
    if len(number) == 15 and _ascii_digits(number):
        raise InvalidIdentifier("15位旧身份证号码已停止使用，请填写18位公民身份号码")
    if len(number) != 18:
        raise InvalidIdentifier(f"公民身份号码应为18位，当前为{len(number)}位")
    if not _ascii_digits(number[:17]) or number[17] not in "0123456789X":
        raise InvalidIdentifier("公民身份号码前17位应为数字，最后一位为数字或X")
    if _ric_check_digit(number[:17]) != number[17]:
        raise InvalidIdentifier("公民身份号码校验位错误")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdentifier("公民身份号码中的出生日期无效") from None
    if birth > today:
        raise InvalidIdentifier("公民身份号码中的出生日期晚于今天")
    if birth.year < MIN_BIRTH_YEAR:
        raise InvalidIdentifier("公民身份号码中的出生日期早于1900年")
    return ResidentId(
        number=number,
        birth_date=birth,
        sex="M" if int(number[16]) % 2 else "F",
        area_code=number[:6],
        warnings=_birthplace_warnings(number[:6]),
    )


def make_resident_id(area_code: str, birth: date, seq: int) -> str:
    """A citizen identity number with its check digit, for synthetic demo and test data only.

    ``seq`` 0-999 is the 3-digit order code (odd = male, even = female).
    """
    if len(area_code) != 6 or not _ascii_digits(area_code) or not 0 <= seq <= 999:
        raise ValueError(f"bad resident ID parts: {area_code!r}, {seq!r}")
    body = f"{area_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return body + _ric_check_digit(body)


def _is_valid(validator: Callable[[str], Any], text: str) -> bool:
    try:
        validator(text)
    except InvalidIdentifier:
        return False
    return True


def classify_code(text: str) -> Literal["uscc", "resident_id"] | None:
    """Which valid identifier ``text`` is, or None; never raises.

    A resident ID is tried first: an all-digit string passes both USCC checks by chance about
    once in 341, whereas a genuine USCC almost never also carries a valid birth date.
    """
    code = normalize_code(text or "")
    if _is_valid(validate_resident_id, code):
        return "resident_id"
    if _is_valid(validate_uscc, code):
        return "uscc"
    return None


# --- masking ----------------------------------------------------------------------------------

def _mask_digits(text: str, keep_first: int = 0, keep_last: int = 0) -> str:
    """Replace digits with '*' except the first/last few, keeping any separators."""
    total = sum(c.isdigit() for c in text)
    out, seen = [], 0
    for c in text:
        if c.isdigit():
            seen += 1
            out.append(c if seen <= keep_first or seen > total - keep_last else "*")
        else:
            out.append(c)
    return "".join(out)


def mask_resident_id(number: str) -> str:
    """Keep the first 4 and last 4 characters: ``4301**********123X``."""
    number = (number or "").strip()
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_person_name(name: str) -> str:
    """``张*``, ``李*明``, ``王**华``; a compound surname stays whole: ``欧阳**``."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2] + "*" * (len(name) - 2)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


_MOBILE = re.compile(r"(\+?86)?(1[3-9]\d{9})")
_LANDLINE = re.compile(r"[(（]?(0\d{2,3})(?:[)）]\s?|[-\s])(\d{7,8})")  # area code set apart


def mask_phone(s: str) -> str:
    """Mobile ``138****1234``; landline keeps the area code and the last 2 digits
    (``0731-******78``); anything else keeps only its last 2 digits."""
    s = (s or "").strip()
    compact = re.sub(r"[\s\-]", "", s)
    if m := _MOBILE.fullmatch(compact):
        prefix, mobile = m.group(1) or "", m.group(2)
        return f"{prefix}{mobile[:3]}****{mobile[-4:]}"
    if m := _LANDLINE.fullmatch(s):
        area, local = m.groups()
        return f"{area}-{'*' * (len(local) - 2)}{local[-2:]}"
    if compact.isdigit() and compact.startswith("0") and 10 <= len(compact) <= 12:
        cut = 3 if compact[1] in "12" else 4
        area, local = compact[:cut], compact[cut:]
        return f"{area}-{'*' * (len(local) - 2)}{local[-2:]}"
    return _mask_digits(s, keep_last=2)


def mask_email(s: str) -> str:
    local, _, domain = s.partition("@")
    return f"{local[:1]}***@{domain}"


def _plausible_yymmdd(s: str) -> bool:
    try:
        date(1900 + int(s[:2]), int(s[2:4]), int(s[4:6]))
    except ValueError:
        return False
    return True


_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"
_SCRUB = re.compile(
    rf"(?P<email>[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{{2,}})"
    rf"|(?P<landline>[(（]0\d{{2,3}}[)）] ?\d{{7,8}}){_NOT_ALNUM_AFTER}"
    rf"|{_NOT_ALNUM_BEFORE}(?:"
    r"(?P<rid>\d{6}(?P<rs>[ -])\d{8}(?P=rs)\d{3}[\dXx])"
    r"|(?P<card>\d{4}(?P<cs>[ -])\d{4}(?:(?P=cs)\d{4}){2}(?:(?P=cs)\d{1,4})?)"
    r"|(?P<mobile>1[3-9]\d(?P<ms>[ -])\d{4}(?P=ms)\d{4})"
    r"|(?P<landline2>0\d{2,3}[- ]\d{7,8}|0\d{2,3}(?P<ls>[ -])\d{3,4}(?P=ls)\d{4})"
    r"|(?P<run>\d+[Xx]?)"
    rf"){_NOT_ALNUM_AFTER}"
)


def _scrub_run(run: str) -> str:
    """Decide what a bare run of digits (optionally ending in X) is and mask it."""
    plain = normalize_code(run)  # full-width digits are decided like ASCII ones
    n = len(plain)
    if n == 18 and not _is_valid(validate_resident_id, plain) and _is_valid(validate_uscc, plain):
        return run  # a (public) organisation code
    if n == 18 and _ascii_digits(plain[:17]):
        return mask_resident_id(run.upper())
    if not _ascii_digits(plain):
        return run
    if n == 15 and _plausible_yymmdd(plain[6:12]):
        return mask_resident_id(run)
    if 16 <= n <= 19:
        return _mask_digits(run, keep_last=4)
    if n in (11, 13) and _MOBILE.fullmatch(plain):
        return _mask_digits(run, keep_first=n - 8, keep_last=4)
    if 10 <= n <= 12 and plain.startswith("0"):  # landline with area code, no separator
        return _mask_digits(run, keep_first=3 if plain[1] in "12" else 4, keep_last=2)
    return run


def scrub_personal_data(text: str, party_is_person: bool = False) -> str:
    """Mask what looks like personal data in free text (DOMAIN.md "Disclosure").

    Resident ID numbers (18 characters, also written 6-8-4 with spaces or dashes or glued to
    letters when the check digit is valid, and 15-digit old ones with a plausible birth date),
    mobile and landline numbers (also grouped, and any number after 电话/手机), bank card numbers
    (16-19 digits, also in groups of four) and e-mail addresses; then other people's names,
    addresses, health data and ages (``redaction.scrub_people``; ``party_is_person``: the text is
    about a natural person, whose 住所 is a home address). A valid USCC, dates (2025年3月1日, 2025-03-01) and document numbers
    (湘卫罚〔2025〕12号) are left alone. Errs on the side of masking any long digit run.
    """
    def replace(m: re.Match[str]) -> str:
        value = m.group(0)
        if m.group("email"):
            return mask_email(value)
        if m.group("rid"):
            return mask_resident_id(re.sub(r"[ -]", "", value).upper())
        if m.group("card"):
            return _mask_digits(value, keep_last=4)
        if m.group("mobile"):
            return _mask_digits(value, keep_first=3, keep_last=4)
        if m.group("landline") or m.group("landline2"):
            area = re.split(r"\D+", value.lstrip("(（"))[0]
            return _mask_digits(value, keep_first=len(area), keep_last=2)
        return _scrub_run(value)

    text = _SCRUB.sub(replace, text or "")
    text = _ADJACENT_ID.sub(lambda m: mask_resident_id(m.group(0).upper())
                            if _is_valid(validate_resident_id, m.group(0).upper()) else m.group(0), text)
    text = _CONTACT.sub(lambda m: m.group("kw") + _mask_digits(m.group("num"), keep_last=2), text)
    return scrub_people(text, party_is_person)


# A resident ID glued to letters ("ID:430102…1234abc") escapes the word boundaries above; a valid
# check digit says what it is. A number after a contact word is a phone whatever its form
# ("电话 84512345", no area code).
_ADJACENT_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_CONTACT = re.compile(r"(?P<kw>(?:联系)?电话|手机(?:号码?)?|联系方式|[Tt]el|TEL)[:：]?\s*(?P<num>\d[\d -]{5,}\d)")
