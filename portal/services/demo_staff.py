"""A first staff account for trying the staff side after ``make run`` (issue 14), development only.

Synthetic: a fresh random password and TOTP secret, printed once by ``credit-portal bootstrap``
and stored like any account (argon2, encrypted secret, audited creation). Never in production
(``PORTAL_ENV=production``: nothing is created), and never when any staff account exists."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from ..models import Plate, StaffUser, Subject
from .context import ServiceContext
from .errors import ServiceError
from .staff import create_staff

DEMO_USERNAME = "demo.admin"
DEMO_ROLES = ("admin", "department")  # 系统管理员 + 认定部门: the holiday table, the queues, plates
DEMO_PLATES = 5


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    totp_uri: str


def ensure_demo_staff(ctx: ServiceContext, env: str) -> DemoAccount | None:
    """Create the demo account when the platform has no staff account yet (development only)."""
    if env == "production":
        return None
    if ctx.session.execute(select(func.count()).select_from(StaffUser)).scalar_one():
        return None
    password = secrets.token_urlsafe(15)
    user, uri = create_staff(ctx, DEMO_USERNAME, password, list(DEMO_ROLES), display_name="演示管理员（开发环境）")
    return DemoAccount(user.username, password, uri)


def ensure_demo_plates(ctx: ServiceContext, env: str, n: int = DEMO_PLATES) -> list[Plate]:
    """Issue identity plates to a few demo organisations when none exists (development only), so
    the scan pages can be tried at once."""
    from .plates import issue_plate

    if env == "production" or ctx.session.execute(select(func.count()).select_from(Plate)).scalar_one():
        return []
    plates = []
    orgs = ctx.session.execute(select(Subject).where(Subject.kind == "org").order_by(Subject.id).limit(n * 4)).scalars()
    for org in orgs:
        if len(plates) >= n:
            break
        try:
            with ctx.session.begin_nested():
                plates.append(issue_plate(ctx, org))
        except ServiceError:  # a revoked licence or a closed unit gets none; try the next
            continue
    return plates
