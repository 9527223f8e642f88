"""From verified ID-token claims to what the portal knows about a person. Pure, no Flask.

海南 第二十七条: non-public information is shown to the credit subject after real-name
authentication, or to a third party holding the subject's written authorisation. So:

* a natural person is matched by the normalised, checksum-valid resident ID number the identity
  provider asserted (GB 11643; 湖南 第十六条);
* an organisation is matched by its USCC (GB 32100) only when the provider also asserts the
  legal-representative role for it: being an employee, or merely naming a code, is not enough;
* anyone else gets an identity without a subject and may act only through an authorisation.

Claim names and the provider's ``acr`` values are configuration, so that moving to a provincial
identity provider changes settings, not code.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..domain.identifiers import InvalidIdentifier, validate_resident_id, validate_uscc
from ..identity import ACR_BY_NAME, ACR_LEVELS


@dataclass(frozen=True)
class ClaimNames:
    id_number: str = "id_number"
    org: str = "legal_rep_of"
    role_claim: str = "org_role"
    role_value: str = "legal_representative"

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> ClaimNames:
        claim, _, value = settings["PORTAL_OIDC_LEGAL_REP_ROLE"].partition("=")
        if not claim.strip() or not value.strip():
            raise ValueError("PORTAL_OIDC_LEGAL_REP_ROLE must look like claim=value")
        return cls(id_number=settings["PORTAL_OIDC_ID_CLAIM"].strip(), org=settings["PORTAL_OIDC_ORG_CLAIM"].strip(),
                   role_claim=claim.strip(), role_value=value.strip())


@dataclass(frozen=True)
class MappedClaims:
    person_number: str | None  # normalised resident ID number, checksum-valid
    org_uscc: str | None  # normalised USCC, only with the legal-representative role
    notes: tuple[str, ...] = ()  # why an asserted claim was not used (audit detail, no personal data)


def _single_string(value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, str) and value.strip() else None


def _has_role(value: Any, role: str) -> bool:
    if isinstance(value, str):
        return role in value.split()
    if isinstance(value, list):
        return role in value
    return False


def map_claims(claims: Mapping[str, Any], names: ClaimNames, today: date) -> MappedClaims:
    notes: list[str] = []
    person = None
    raw_id = claims.get(names.id_number)
    if raw_id is not None:
        text = _single_string(raw_id)
        try:
            person = validate_resident_id(text or "", today=today).number
        except InvalidIdentifier:
            notes.append("id_number_invalid")
    org = None
    raw_org = claims.get(names.org)
    if raw_org is not None:
        text = _single_string(raw_org)
        if not _has_role(claims.get(names.role_claim), names.role_value):
            notes.append("org_without_legal_rep_role")
        elif text is None:
            notes.append("org_claim_not_single")
        else:
            try:
                org = validate_uscc(text)
            except InvalidIdentifier:
                notes.append("org_uscc_invalid")
    return MappedClaims(person, org, tuple(notes))


class AcrMap:
    """The provider's ``acr`` values for the portal's assurance levels (``password``, ``face``).

    ``PORTAL_OIDC_ACR_MAP`` is ``name=value`` pairs separated by spaces, e.g.
    ``password=urn:gov:loa:2 face=urn:gov:loa:3``; empty means the provider uses the portal's
    own URNs (``identity.ACR_PASSWORD`` / ``ACR_FACE``), as the embedded development IdP does.
    """

    def __init__(self, setting: str = ""):
        self._to_idp = dict(ACR_BY_NAME)
        for pair in setting.split():
            name, _, value = pair.partition("=")
            if name not in ACR_BY_NAME or not value:
                raise ValueError(f"PORTAL_OIDC_ACR_MAP: unknown level or empty value in {pair!r}")
            self._to_idp[name] = value
        self._to_portal = {self._to_idp[name]: urn for name, urn in ACR_BY_NAME.items()}

    def to_portal(self, idp_acr: Any) -> str | None:
        """The portal level a provider's ``acr`` stands for; unknown values satisfy nothing."""
        return self._to_portal.get(idp_acr) if isinstance(idp_acr, str) else None

    def request_values(self, required: str) -> list[str]:
        """Provider values that satisfy ``required``, strongest first (for ``acr_values``)."""
        levels = sorted(ACR_BY_NAME.items(), key=lambda kv: -ACR_LEVELS[kv[1]])
        return [self._to_idp[name] for name, urn in levels if ACR_LEVELS[urn] >= ACR_LEVELS[required]]
