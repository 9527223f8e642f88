"""Turn a verified OIDC login into an ``Identity``: re-check assurance, map claims, keep the
``(iss, sub)`` binding, write the audit trail (海南 第五十一条; 湖南 第三十三条)."""
from __future__ import annotations

from sqlalchemy import select

from ..identity import ACR_LEVELS, Identity, acr_satisfies, person_actor
from ..models import LoginBinding, Subject
from ..models.base import utcnow
from ..services.audit import record_event
from ..services.context import ServiceContext
from .claims import AcrMap, ClaimNames, map_claims
from .oidc import LoginError, LoginResult

ACR_LABELS = {1: "账号密码", 2: "人脸识别实名核验"}


class AcrTooLow(LoginError):
    """The provider authenticated the person at a lower level than the portal asked for."""

    def __init__(self, required: str, got: str | None):
        super().__init__("acr_too_low", f"本次登录的认证级别不足：需要“{acr_label(required)}”。")
        self.required = required
        self.got = got


def acr_label(acr: str | None) -> str:
    return ACR_LABELS.get(ACR_LEVELS.get(acr or "", 0), "未知方式")


actor = person_actor  # the audit actor of a logged-in person (portal.identity)


def establish_identity(ctx: ServiceContext, result: LoginResult, *, issuer: str, names: ClaimNames,
                       acr_map: AcrMap) -> Identity:
    """Checks assurance, finds the subject, updates the binding, audits ``auth.login``.

    Raises ``LoginError`` (``AcrTooLow`` for a too-weak authentication; ``binding_mismatch`` when
    the provider now asserts another identity number for the same account)."""
    claims = result.claims
    sub = claims["sub"]
    if not isinstance(sub, str) or not 0 < len(sub) <= 255:
        raise LoginError("sub_invalid")
    acr = acr_map.to_portal(claims.get("acr"))
    if acr is None or not acr_satisfies(acr, result.required_acr):
        raise AcrTooLow(result.required_acr, acr)
    mapped = map_claims(claims, names, ctx.today)
    person_hash = ctx.protector.lookup_hash(mapped.person_number) if mapped.person_number else None
    org_hash = ctx.protector.lookup_hash(mapped.org_uscc) if mapped.org_uscc else None

    session = ctx.session
    binding = session.execute(select(LoginBinding).where(LoginBinding.iss == issuer, LoginBinding.sub == sub)
                              ).scalar_one_or_none()
    if binding is None:
        binding = LoginBinding(iss=issuer, sub=sub, person_hash=person_hash, login_count=0, last_acr="")
        session.add(binding)
    elif binding.person_hash and person_hash and binding.person_hash != person_hash:
        raise LoginError("binding_mismatch", "该账号本次认证的身份信息与此前不一致，已拒绝登录，请联系平台运营单位。")
    elif person_hash and not binding.person_hash:
        binding.person_hash = person_hash
    person = org = None
    if person_hash:
        person = session.execute(select(Subject).where(Subject.code_hash == person_hash, Subject.kind == "person")
                                 ).scalar_one_or_none()
    if org_hash:
        org = session.execute(select(Subject).where(Subject.code_hash == org_hash, Subject.kind == "org")
                              ).scalar_one_or_none()
    binding.subject_id = person.id if person else None
    binding.last_acr = acr
    binding.login_count = (binding.login_count or 0) + 1
    binding.last_login_at = utcnow()
    session.flush()

    amr = claims.get("amr")
    auth_time = claims.get("auth_time") or claims.get("iat") or 0
    name = claims.get("name")
    identity = Identity(
        iss=issuer, sub=sub, name=name.strip()[:80] if isinstance(name, str) else "", acr=acr,
        amr=tuple(str(a)[:20] for a in amr[:10]) if isinstance(amr, list) else (),
        person_hash=person_hash, legal_rep_of=org_hash, roles=(),
        auth_time=int(auth_time) if isinstance(auth_time, (int, float)) else 0)
    record_event(session, actor(sub), "auth.login", subject_id=(person or org).id if (person or org) else None,
                 object_ref=f"login_binding:{binding.id}",
                 detail={"iss": issuer, "acr": acr, "amr": list(identity.amr),
                         "person_subject_id": person.id if person else None,
                         "legal_rep_of_subject_id": org.id if org else None,
                         "matched": "person" if person else ("legal_rep" if org else "none"),
                         "notes": list(mapped.notes)})
    return identity


def record_failure(ctx: ServiceContext, reason: str, *, issuer: str, sub: str | None = None,
                   detail: dict | None = None, source: str = "") -> None:
    """``auth.failed``: the first per client address, reason and minute is an event, the rest are
    counted into one summary event (``portal.services.audit_rollup``)."""
    from ..services.audit_rollup import record_repeated

    reason = reason[:120]
    record_repeated(ctx.session, actor(sub) if sub else "anonymous", "auth.failed",
                    source=f"{source or 'unknown'}|{reason[:40]}",
                    detail={"iss": issuer, "reason": reason, **(detail or {})})


def record_logout(ctx: ServiceContext, identity: Identity) -> None:
    """The audit event of a person logging out (the login binding, never an ID number)."""
    record_event(ctx.session, person_actor(identity.sub), "auth.logout", detail={"iss": identity.iss})

