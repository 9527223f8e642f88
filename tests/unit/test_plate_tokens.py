"""Plate tokens, numbers and scan URLs (portal.domain.plates), and the QR matrix round trip."""
from __future__ import annotations

import pytest

from portal.crypto import DataProtector, new_master_key
from portal.domain import plates


@pytest.fixture(scope="module")
def signer():
    return DataProtector(new_master_key())


def test_token_shape(signer):
    tokens = {plates.new_token(signer) for _ in range(500)}
    assert len(tokens) == 500
    for t in tokens:
        assert len(t) == plates.TOKEN_LEN == 16
        assert set(t) <= plates.ALPHABET
        assert plates.verify_token(signer, t) == t


def test_verify_accepts_lower_case_and_whitespace(signer):
    t = plates.new_token(signer)
    assert plates.verify_token(signer, f"  {t.lower()} ") == t


@pytest.mark.parametrize("bad", ["", "A", "A" * 15, "A" * 17, "A" * 16, "ABCDEFGHIJ-12345", "ABCDEFGHIJ012345",
                                 "ÄBCDEFGHIJKLMNOP", "ABCDEFGHIJ\x00LMNOP", "1" * 16])
def test_malformed_tokens_are_rejected(signer, bad):
    assert plates.verify_token(signer, bad) is None


def test_every_single_character_change_is_rejected(signer):
    t = plates.new_token(signer)
    for i in range(len(t)):
        for c in "AZ27":
            if c != t[i]:
                forged = t[:i] + c + t[i + 1:]
                assert plates.verify_token(signer, forged) is None, forged


def test_another_key_rejects(signer):
    t = plates.new_token(signer)
    assert plates.verify_token(DataProtector(new_master_key()), t) is None


def test_signature_is_deterministic_for_a_random_part(signer):
    t = plates.new_token(signer)
    assert plates._signature(signer, t[:10]) == t[10:]


def test_plate_numbers():
    assert plates.plate_number("430102", 123) == "HN-430102-000123"
    assert plates.plate_number("460100", 1) == "HI-460100-000001"  # Hainan is HI in ISO 3166-2:CN
    assert plates.plate_number("320800", 7) == "JS-320800-000007"
    assert plates.plate_number("990000", 7) == "CN-990000-000007"


@pytest.mark.parametrize("code, prefix", [("430000", "43"), ("430100", "4301"), ("430102", "430102"),
                                          ("460000", "46"), ("", "")])
def test_region_prefix(code, prefix):
    assert plates.region_prefix(code) == prefix


def test_scan_url_upper_case_at_host_root():
    assert plates.scan_url("https://xyxx.example.gov.cn/", "ABCDEFGHIJKLMNOP") == \
        "HTTPS://XYXX.EXAMPLE.GOV.CN/P/ABCDEFGHIJKLMNOP"
    # under a sub-path the configured URL is kept as is (the proxy may be case-sensitive)
    assert plates.scan_url("https://example.gov.cn/Credit", "ABCDEFGHIJKLMNOP") == \
        "https://example.gov.cn/Credit/p/ABCDEFGHIJKLMNOP"


def test_upper_case_url_gives_a_smaller_code():
    from portal.documents.qr import encode_qr

    upper = encode_qr(plates.scan_url("https://xyxx.wjw.hunan.gov.cn", "ABCDEFGHIJKLMNOP"))
    mixed = encode_qr("https://xyxx.wjw.hunan.gov.cn/p/ABCDEFGHIJKLMNOP")
    assert upper.size < mixed.size
    assert upper.size <= 33  # version 4 at error-correction level Q


def test_qr_matrix_pack_round_trip():
    from portal.documents.qr import QrMatrix, encode_qr

    m = encode_qr("HTTP://127.0.0.1:5000/P/ABCDEFGHIJKLMNOP")
    packed = m.pack()
    assert len(packed) < 250
    assert QrMatrix.unpack(packed) == m


def test_text_wrap_keeps_every_character():
    from portal.documents.plates import estimate_width, wrap

    name = "长沙市芙蓉区某某街道社区卫生服务中心附属口腔门诊部（普通合伙）"
    lines = wrap(name, 91, 6.4, estimate_width, max_lines=5)
    assert "".join(lines) == name
    assert all(estimate_width(line, 6.4) <= 91 for line in lines)
    cut = wrap(name, 91, 6.4, estimate_width, max_lines=2)
    assert len(cut) == 2 and cut[-1].endswith("…")
