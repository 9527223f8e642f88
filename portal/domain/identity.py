"""Who is logged in, as plain data: the contract between the login (OIDC) and everything that asks
permission. Pure: the Flask-session helpers that store and read it live in ``portal.identity``.

The identity holds keyed hashes of identity numbers, never the numbers themselves.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Identity:
    iss: str  # (iss, sub) is the login binding
    sub: str
    name: str
    acr: str  # assurance level the IdP asserted, re-checked by the portal
    amr: tuple[str, ...] = ()
    person_hash: str | None = None  # lookup hash of the person's normalised resident ID number
    legal_rep_of: str | None = None  # lookup hash of the USCC this person legally represents (role claim)
    roles: tuple[str, ...] = field(default_factory=tuple)  # staff roles, when the IdP asserts them
    auth_time: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["amr"], d["roles"] = list(self.amr), list(self.roles)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Identity:
        return cls(**{**d, "amr": tuple(d.get("amr", ())), "roles": tuple(d.get("roles", ()))})


def person_actor(sub: str) -> str:
    """The audit actor of a logged-in person: the login binding's ``sub``, never an ID number,
    cut to the audit columns' 120 characters. One form for logins, reads, filings and uploads."""
    return f"user:{sub}"[:120]


# Assurance levels the portal asks for (as an essential ``acr`` claim) and re-checks.
ACR_PASSWORD = "urn:health-credit:acr:password"  # 账号密码
ACR_FACE = "urn:health-credit:acr:face"  # 人脸识别实名核验
ACR_LEVELS = {ACR_PASSWORD: 1, ACR_FACE: 2}
ACR_BY_NAME = {"password": ACR_PASSWORD, "face": ACR_FACE}


def acr_satisfies(acr: str | None, required: str) -> bool:
    return ACR_LEVELS.get(acr or "", 0) >= ACR_LEVELS[required]
