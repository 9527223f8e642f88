"""Staff writes sent to the connection (SQLAlchemy Core on ``session.connection()``) pass none of the
session events that ``services.staff_guard`` hooks, so the verbs that write that way re-check the
account themselves (海南 第五十一条; 湖南 第三十三条). The one a staff verb reaches is the import's
publish (``import_staging.StagedImport.publish``, from ``provision.confirm_upload``): the file is
staged while the account is active, the administrator disables it, then the publish is refused with
nothing of the file in the live tables. (Before the explicit ``staff_guard.check`` in ``publish`` the
refusal rested only on ``clean()`` being an ORM ``delete`` issued first; without either the
publish went through for a disabled account.)"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.domain.identifiers import make_uscc
from portal.models import CreditRecord, ImportStaging, Subject
from portal.services import staff as staff_svc
from portal.services import staff_accounts as accounts
from portal.services.import_staging import StagedImport
from portal.services.importer import COLUMNS, _parse_row
from portal.services.staff_desk import staff_account
from portal.services.staff_guard import ENDED, LoginEnded

from .test_staff_auth import PASSWORD

UNIT = "长沙市芙蓉区卫生健康局"


def _values(i: int) -> dict:
    cells = {"subject_code": make_uscc("12", "430102", f"{i:08d}"), "subject_name": f"芙蓉区守门诊所{i}",
             "subject_kind": "机构", "category": "诊所、门诊部", "region_code": "430102", "record_type": "行政处罚",
             "info_class": "失信信息", "severity": "一般", "title": f"守门测试处罚{i}", "content": "罚款三千元",
             "authority": UNIT, "doc_no": f"湘芙卫罚〔2026〕{i}号", "decided_on": "2026-05-06", "scope": "社会公开"}
    values, errors = _parse_row({key: cells.get(key, "") for key, *_ in COLUMNS}, i + 1)
    assert errors == []
    return values


def test_import_publish_after_the_disable_is_refused(rt, ctx, session):
    boss, _ = staff_svc.create_staff(ctx, "admin.one", PASSWORD, ["admin"])
    prov, _ = staff_svc.create_staff(ctx, "prov.a", PASSWORD, ["provider"], region_code="430102", authority=UNIT)
    session.commit()
    s = rt.sessions()
    try:
        user = staff_account(s, prov.id)  # the request passed its session check
        staged = StagedImport(rt.context(s, "staff:prov.a", caller=user))
        for i in (1, 2):
            staged.add(i + 1, _values(i))
        staged.flush()  # staged and committed while the account is active
        assert s.execute(select(func.count()).select_from(ImportStaging)).scalar_one() == 4  # a subject and a record each
        # meanwhile, in another session: the administrator disables prov.a
        accounts.set_active(rt.context(session, "staff:admin.one", caller=boss), session.get(type(prov), prov.id),
                            False)
        session.commit()
        with pytest.raises(LoginEnded) as refused:
            staged.publish()
        assert refused.value.message == ENDED and refused.value.status == 401
        s.rollback()
    finally:
        s.close()
    session.expire_all()
    assert session.execute(select(func.count()).select_from(Subject).where(Subject.name.like("芙蓉区守门诊所%"))
                           ).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(CreditRecord)
                           .where(CreditRecord.title.like("守门测试处罚%"))).scalar_one() == 0
