"""Claims → subject mapping rules and the assurance-level map (portal.auth.claims)."""
from __future__ import annotations

from datetime import date

import pytest

from portal.auth.claims import AcrMap, ClaimNames, map_claims
from portal.domain.identifiers import make_resident_id, make_uscc
from portal.identity import ACR_FACE, ACR_PASSWORD

TODAY = date(2026, 11, 20)
NUMBER = make_resident_id("430102", date(1980, 5, 17), 11)
USCC = make_uscc("12", "430102", "70000001")
NAMES = ClaimNames()


def test_person_by_normalised_checksum_valid_number():
    with_x = next(n for n in (make_resident_id("430102", date(1980, 5, 17), s) for s in range(1000)) if n[-1] == "X")
    assert map_claims({"id_number": NUMBER}, NAMES, TODAY).person_number == NUMBER
    assert map_claims({"id_number": with_x.lower()}, NAMES, TODAY).person_number == with_x
    spaced = f" {NUMBER[:6]} {NUMBER[6:]} "
    assert map_claims({"id_number": spaced}, NAMES, TODAY).person_number == NUMBER


@pytest.mark.parametrize("bad", [NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1"), "123", 42, ["a", "b"], ""])
def test_invalid_numbers_map_to_nobody(bad):
    mapped = map_claims({"id_number": bad}, NAMES, TODAY)
    assert mapped.person_number is None and mapped.notes == ("id_number_invalid",)


def test_organisation_only_with_the_legal_rep_role():
    claims = {"id_number": NUMBER, "legal_rep_of": USCC}
    assert map_claims(claims, NAMES, TODAY).org_uscc is None
    assert map_claims(claims, NAMES, TODAY).notes == ("org_without_legal_rep_role",)
    assert map_claims({**claims, "org_role": "staff"}, NAMES, TODAY).org_uscc is None
    assert map_claims({**claims, "org_role": "legal_representative"}, NAMES, TODAY).org_uscc == USCC
    assert map_claims({**claims, "org_role": ["staff", "legal_representative"]}, NAMES, TODAY).org_uscc == USCC
    wrong_check = USCC[:-1] + ("1" if USCC[-1] != "1" else "2")
    bad = map_claims({**claims, "legal_rep_of": wrong_check, "org_role": "legal_representative"}, NAMES, TODAY)
    assert bad.org_uscc is None and bad.notes == ("org_uscc_invalid",)


def test_claim_names_are_configuration():
    names = ClaimNames.from_settings({"PORTAL_OIDC_ID_CLAIM": "sfzh", "PORTAL_OIDC_ORG_CLAIM": "tyshxydm",
                                      "PORTAL_OIDC_LEGAL_REP_ROLE": "frlx=fddbr"})
    mapped = map_claims({"sfzh": NUMBER, "tyshxydm": USCC, "frlx": "fddbr"}, names, TODAY)
    assert (mapped.person_number, mapped.org_uscc) == (NUMBER, USCC)
    with pytest.raises(ValueError):
        ClaimNames.from_settings({"PORTAL_OIDC_ID_CLAIM": "a", "PORTAL_OIDC_ORG_CLAIM": "b",
                                  "PORTAL_OIDC_LEGAL_REP_ROLE": "no-value"})


def test_acr_map():
    default = AcrMap("")
    assert default.to_portal(ACR_FACE) == ACR_FACE and default.to_portal("urn:other") is None
    assert default.request_values(ACR_FACE) == [ACR_FACE]
    assert default.request_values(ACR_PASSWORD) == [ACR_FACE, ACR_PASSWORD]
    provincial = AcrMap("password=urn:gov:loa:2 face=urn:gov:loa:3")
    assert provincial.to_portal("urn:gov:loa:3") == ACR_FACE
    assert provincial.to_portal(ACR_FACE) is None  # only the provider's own values count
    assert provincial.request_values(ACR_FACE) == ["urn:gov:loa:3"]
    with pytest.raises(ValueError):
        AcrMap("retina=urn:x")
