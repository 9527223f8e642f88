"""Identifiers: USCC (GB 32100 + GB 11714), citizen ID numbers (GB 11643), masking, scrubbing.

Every personal number here is synthesised with the makers; the check characters are verified
against python-stdnum and against the standards' formulas written out below.
"""
from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from portal.domain.identifiers import (
    InvalidIdentifier,
    classify_code,
    make_resident_id,
    make_uscc,
    mask_person_name,
    mask_phone,
    mask_resident_id,
    normalize_code,
    scrub_personal_data,
    validate_resident_id,
    validate_uscc,
)

TODAY = date(2026, 11, 20)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def gb32100_check(code17: str) -> str:
    """GB 32100-2015: weights 3^i mod 31, check = 31 - sum mod 31."""
    total = sum(USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(code17))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def gb11714_check(body8: str) -> str:
    """GB 11714-1997: weights 3 7 9 10 5 8 4 2, check = 11 - sum mod 11 (10 -> X, 11 -> 0)."""
    value = 11 - sum(int(c, 36) * w for c, w in zip(body8, (3, 7, 9, 10, 5, 8, 4, 2), strict=False)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def gb11643_check(body17: str) -> str:
    """GB 11643-1999 / ISO 7064 MOD 11-2: weights 2^(17-i) mod 11."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(body17))
    return "10X98765432"[total % 11]


def with_ric_check(body17: str) -> str:
    return body17 + gb11643_check(body17)


def stdnum_accepts_ric(number: str) -> bool:
    try:
        return bool(stdnum_ric.validate(number))
    except Exception:  # noqa: BLE001 - stdnum raises KeyError for some area codes
        return False


# --- normalisation ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("  91430102MA4L00003M ", "91430102MA4L00003M"),
    ("９１４３０１０２ＭＡ４Ｌ００００３Ｍ", "91430102MA4L00003M"),  # full-width
    ("9143 0102-ma4l\u30000000 3m", "91430102MA4L00003M"),
    ("43010219790203017ｘ", "43010219790203017X"),
    ("", ""),
])
def test_normalize_code(text, expected):
    assert normalize_code(text) == expected


# --- USCC ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("authority_type", "region", "body"), [
    ("12", "430102", "00000042"),   # 机构编制 / 事业单位 (a public hospital)
    ("91", "430100", "MA4L0000"),   # 工商 / 企业, post-2015 MA code
    ("52", "460100", "12345678"),   # 民政 / 社会服务机构
    ("92", "440300", "L0000001"),   # 个体工商户
    ("91", "320211", "0000001X"),
])
def test_make_uscc_agrees_with_stdnum_and_the_standards(authority_type, region, body):
    code = make_uscc(authority_type, region, body)
    assert stdnum_uscc.is_valid(code)
    assert code[16] == gb11714_check(body) and code[17] == gb32100_check(code[:17])
    assert validate_uscc(code) == code
    assert validate_uscc(code.lower()) == code


def test_published_example_code():
    assert validate_uscc("91110000600037341L") == "91110000600037341L"  # from python-stdnum's docs


@pytest.mark.parametrize("authority_type", ["A1", "N2", "Y1"])
def test_letter_authority_codes_are_accepted_though_stdnum_rejects_them(authority_type):
    code = make_uscc(authority_type, "430102", "MB000001")
    assert not stdnum_uscc.is_valid(code)
    assert code[17] == gb32100_check(code[:17])
    assert validate_uscc(code) == code


def _uscc_with_bad_org_digit() -> str:
    """Organisation-code digit wrong, GB 32100 check character recomputed around it."""
    good = make_uscc("12", "430102", "00000042")
    wrong = next(c for c in "0123456789X" if c != good[16])
    code17 = good[:16] + wrong
    return code17 + stdnum_uscc.calc_check_digit(code17)


def test_wrong_org_code_digit_is_caught_although_stdnum_accepts_it():
    code = _uscc_with_bad_org_digit()
    assert stdnum_uscc.is_valid(code)
    with pytest.raises(InvalidIdentifier) as err:
        validate_uscc(code)
    assert "组织机构代码" in err.value.message
    assert validate_uscc(code, check_org_code=False) == code


VALID_USCC = make_uscc("12", "430102", "00000042")


@pytest.mark.parametrize(("text", "message"), [
    ("", "请填写"),
    (VALID_USCC[:16], "应为18位，当前为16位"),
    (VALID_USCC + "1", "当前为19位"),
    (VALID_USCC[:10] + "I" + VALID_USCC[11:], "非法字符：I"),
    (VALID_USCC[:10] + "统" + VALID_USCC[11:], "非法字符"),
    (VALID_USCC[:3] + "A" + VALID_USCC[4:], "行政区划码"),
    (VALID_USCC[:17] + ("0" if VALID_USCC[17] != "0" else "1"), "校验位错误"),
    (VALID_USCC[:9] + ("7" if VALID_USCC[9] != "7" else "8") + VALID_USCC[10:], "校验位错误"),  # typo
])
def test_invalid_uscc(text, message):
    with pytest.raises(InvalidIdentifier) as err:
        validate_uscc(text)
    assert message in err.value.message
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("parts", [("1", "430102", "00000042"), ("12", "43010", "00000042"),
                                   ("12", "430102", "0000004"), ("12", "430102", "0000004I")])
def test_make_uscc_rejects_bad_parts(parts):
    with pytest.raises(ValueError):
        make_uscc(*parts)


# --- citizen identity numbers -----------------------------------------------------------------

@pytest.mark.parametrize(("area", "birth", "seq", "sex"), [
    ("430102", date(1979, 2, 3), 17, "M"),
    ("430102", date(1979, 2, 3), 18, "F"),
    ("460100", date(2000, 2, 29), 0, "F"),
    ("110105", date(1900, 1, 1), 999, "M"),
    ("430121", TODAY, 1, "M"),
])
def test_make_resident_id_round_trip(area, birth, seq, sex):
    number = make_resident_id(area, birth, seq)
    assert number[17] == gb11643_check(number[:17]) == stdnum_ric.calc_check_digit(number)
    rid = validate_resident_id(number, today=TODAY)
    assert (rid.number, rid.birth_date, rid.sex, rid.area_code) == (number, birth, sex, area)


def test_lower_case_x_becomes_upper_case():
    number = next(n for seq in range(1000)
                  if (n := make_resident_id("430102", date(1985, 6, 1), seq)).endswith("X"))
    assert validate_resident_id(number.lower(), today=TODAY).number == number
    assert validate_resident_id(f" {number[:6]} {number[6:14]} {number[14:].lower()} ", today=TODAY).number == number


GOOD_ID = make_resident_id("430102", date(1979, 2, 3), 17)


@pytest.mark.parametrize(("text", "message"), [
    ("", "请填写"),
    (GOOD_ID[:17], "应为18位，当前为17位"),
    ("430102790203017", "15位旧身份证号码"),
    (GOOD_ID[:16] + "A" + GOOD_ID[17], "前17位应为数字"),
    (GOOD_ID[:17] + "Y", "最后一位为数字或X"),
    (GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1"), "校验位错误"),
    (with_ric_check("43010219791303017"), "出生日期无效"),     # month 13
    (with_ric_check("43010219790230017"), "出生日期无效"),     # 30 February
    (with_ric_check("43010219010229017"), "出生日期无效"),     # 1901 is no leap year
    (with_ric_check("43010220261121017"), "晚于今天"),         # tomorrow
    (with_ric_check("43010218991231017"), "早于1900年"),
    ("٤" + GOOD_ID[1:], "前17位应为数字"),                    # Arabic-Indic digit, not ASCII
])
def test_invalid_resident_id(text, message):
    with pytest.raises(InvalidIdentifier) as err:
        validate_resident_id(text, today=TODAY)
    assert message in err.value.message


@pytest.mark.parametrize(("area", "birth", "warning"), [
    # stdnum rejects: 芙蓉区's code dates from 1983 in its table, but the code records where
    # the number was issued, so people born earlier hold it
    ("430102", date(1979, 2, 3), None),
    ("430181", date(1980, 1, 1), None),    # 浏阳市, code from 1993
    ("810000", date(1980, 1, 1), None),    # 香港 (residence permit), code from 1997
    # stdnum raises KeyError: a county code missing under a known province
    ("439999", date(1980, 1, 1), "未收录"),
    ("000000", date(1980, 1, 1), "未收录"),
    ("830000", date(1990, 1, 1), "未收录"),  # 台湾居民居住证: not in stdnum's table
    # a retired code: genuine for numbers issued before 2010
    ("110103", date(1970, 5, 5), "已撤销"),
])
def test_birthplace_codes_that_stdnum_rejects_are_accepted(area, birth, warning):
    number = make_resident_id(area, birth, 17)
    rid = validate_resident_id(number, today=TODAY)
    if warning is None:
        assert rid.warnings == ()
        assert not stdnum_accepts_ric(number)
    else:
        assert len(rid.warnings) == 1 and warning in rid.warnings[0] and area in rid.warnings[0]


def test_stdnum_raises_key_error_for_an_unlisted_county_code():
    """Why validate_resident_id never calls stdnum.cn.ric.validate."""
    with pytest.raises(KeyError):
        stdnum_ric.validate(make_resident_id("439999", date(1980, 1, 1), 17))


@pytest.mark.parametrize("parts", [("43010", date(1980, 1, 1), 1), ("430102", date(1980, 1, 1), 1000),
                                   ("430102", date(1980, 1, 1), -1), ("43010A", date(1980, 1, 1), 1)])
def test_make_resident_id_rejects_bad_parts(parts):
    with pytest.raises(ValueError):
        make_resident_id(*parts)


# --- classification ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "kind"), [
    (VALID_USCC, "uscc"),
    ("９１１１００００６０００３７３４１Ｌ", "uscc"),
    (GOOD_ID, "resident_id"),
    (GOOD_ID[:6] + "-" + GOOD_ID[6:], "resident_id"),
    (_uscc_with_bad_org_digit(), None),
    (GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1"), None),
    ("湘江社区卫生服务中心", None),
    ("", None),
    ("\x00" * 18, None),
])
def test_classify_code(text, kind):
    assert classify_code(text) == kind


# --- masking ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("number", "masked"), [
    ("43010219790203017X", "4301**********017X"),
    ("430102790203017", "4301*******3017"),
    ("1234", "****"),
])
def test_mask_resident_id(number, masked):
    assert mask_resident_id(number) == masked


@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张*"),
    ("李小明", "李*明"),
    ("王大小华", "王**华"),
    ("欧阳娜娜", "欧阳**"),
    ("欧阳明", "欧阳*"),
    ("王", "王"),
    (" 张三 ", "张*"),
    ("", ""),
])
def test_mask_person_name(name, masked):
    assert mask_person_name(name) == masked


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812341234", "138****1234"),
    ("138-1234-5678", "138****5678"),
    ("+86 138 1234 5678", "+86138****5678"),
    ("0731-84561234", "0731-******34"),
    ("(010)12345678", "010-******78"),
    ("（0731）8456123", "0731-*****23"),
    ("01012345678", "010-******78"),     # no separator: 010/02x have 3-digit area codes
    ("073184561234", "0731-******34"),
    ("12345", "***45"),
])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


# --- scrubbing free text ----------------------------------------------------------------------

ID_X = next(n for seq in range(1000) if (n := make_resident_id("430102", date(1985, 6, 1), seq)).endswith("X"))
MA_USCC = make_uscc("91", "430102", "MA4L0000")


@pytest.mark.parametrize(("text", "expected"), [
    (f"当事人身份证号{GOOD_ID}，", f"当事人身份证号{mask_resident_id(GOOD_ID)}，"),
    (f"号码{ID_X.lower()}。", f"号码{mask_resident_id(ID_X)}。"),
    ("旧号码430102790203017。", "旧号码4301*******3017。"),
    ("联系电话13812345678。", "联系电话138****5678。"),
    ("手机 138-1234-5678 或 138 1234 5678", "手机 138-****-5678 或 138 **** 5678"),
    ("+8613812345678", "+86138****5678"),
    ("座机0731-84561234，（0731）84561235", "座机0731-******34，（0731）******35"),
    ("电话(010)12345678", "电话(010)******78"),
    ("电话01012345678", "电话010******78"),
    ("卡号6222021234567890123", "卡号***************0123"),
    ("卡号 6222 0212 3456 7890", "卡号 **** **** **** 7890"),
    ("邮箱zhang.san@example.com。", "邮箱z***@example.com。"),
    ("邮箱13812345678@example.cn", "邮箱1***@example.cn"),
    ("电话１３８１２３４５６７８", "电话１３８****５６７８"),  # full-width digits
])
def test_scrub_masks_personal_data(text, expected):
    assert scrub_personal_data(text) == expected


@pytest.mark.parametrize("text", [
    f"机构统一社会信用代码{VALID_USCC}，",
    f"代码：{MA_USCC}",
    "统一社会信用代码91110000600037341L",
    f"{VALID_USCC}",
    "2025年3月1日作出处罚决定",
    "湘卫罚〔2025〕12号",
    "日期2025-03-01，期限2025-03-01至2026-02-28",
    "罚款人民币50000元，没收违法所得12345.67元",
    "许可证号PDY12345643010217A1001",
    "第二十八条第一款",
    "",
])
def test_scrub_leaves_public_text_alone(text):
    assert scrub_personal_data(text) == text


def test_scrubbed_text_never_contains_the_number():
    text = f"{GOOD_ID}、{ID_X}与{VALID_USCC}"
    scrubbed = scrub_personal_data(text)
    assert GOOD_ID not in scrubbed and ID_X not in scrubbed and VALID_USCC in scrubbed
