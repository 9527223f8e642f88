"""Questions about who is being warned ("哪些医院正在被预警", "XX医院有没有被预警", "XX诊所被投诉过吗").

Early warnings and the complaints they count are internal supervision information (淮安 三（二）:
预警报告 to 督促整改; portal.services.warnings: never public). The answer is decided from the
question alone, before anything is looked up: it says that this information is not published,
never confirms or denies that a named facility has a warning, and points to what is public (the
facility's public credit status, the serious-dishonesty list). Two facilities, one with an open
warning and one without, get the same text apart from the name they were asked by.

How warnings work (the rules, the thresholds) stays a policy question (``supervision``)."""
from __future__ import annotations

import re

from ..profiles import Profile
from .articles import Ref, Regulations, parse_refs
from .intents import _PRONOUN, facility_name

_WARNING = re.compile(r"预警")
#: A complaint status question; "我要投诉XX医院" (a hand-off) is not one.
_COMPLAINT_STATUS = re.compile(
    r"被投诉|投诉(记录|情况|次数|数量|最多|多不多|多吗|过吗|过没)|收到(过)?(多少|几)?(件|次|个)?投诉")
#: Asking who / whether: the status of somebody, not the rules.
_STATUS = re.compile(
    r"哪些|哪家|哪几家|哪个|有哪|谁|名单|列表|清单|多少家|几家|有没有|有无|是否|是不是|被预警|正在预警|预警了|在预警|预警过"
    r"|预警中|预警状态|预警情况|预警记录|预警信息|被投诉|吗|么")
#: How warnings work: answered from the rules (supervision.warning.rules), not here.
_RULES = re.compile(
    r"什么情况|哪些情况|什么情形|哪些情形|情形|条件|规则|标准|依据|怎么(会|样|办)|如何|为什么|为啥|是什么|什么是|什么意思|多久"
    r"|会怎样|会怎么样|后果|影响|处罚吗|通知|告诉本人|关闭|解除|撤销|申诉|异议")
#: Where an own regulation says that warnings are not published (cited only then).
_NOT_PUBLISHED = re.compile(r"预警[^。；]{0,40}(不予公开|不公开|不得公开|不对外公开|不向社会公开|不予公示|不公示)")


def mentions_it(text: str) -> bool:
    """A pronoun for the facility of the conversation ("它有没有被预警")."""
    return bool(_PRONOUN.search(text))


def asks_warning_status(text: str) -> tuple[bool, str]:
    """``(whether the normalised question asks who is warned or complained about, the facility
    name it names or "")``. A named facility with 预警 is always such a question."""
    name = facility_name(text)
    if name and re.match(r"^(哪|什么|有些|所有|全部|多少|几)", name):
        name = ""  # "哪些医院": who, not a name
    rest = text.replace(name, " ") if name else text  # "预警街诊所有没有处罚": the name is no question
    if not (_WARNING.search(rest) or _COMPLAINT_STATUS.search(rest)):
        return False, ""
    if name or (mentions_it(rest) and _STATUS.search(rest)):
        return True, name
    return bool(_STATUS.search(rest)) and not _RULES.search(rest), ""


def own_refs(profile: Profile, regs: Regulations) -> list[Ref]:
    """The active profile's own articles that say warnings are not published: the profile's
    warnings article(s), kept only where the unit's text says so. None of the shipped documents
    does today, so the answer has no citation rather than a borrowed one."""
    if profile.warnings is None:
        return []
    own = {d.id for d in regs.documents.values() if profile.id in d.profiles}
    out = []
    for ref in parse_refs(profile.warnings.article, regs):
        unit = regs.article(ref.doc_id, ref.label) if ref.doc_id in own and ref.label else None
        if unit is not None and _NOT_PUBLISHED.search(unit.text):
            out.append(ref)
    return out


def answer_text(profile: Profile, name: str) -> str:
    """The same for every facility: only ``name`` (as asked) differs."""
    lead = f"关于“{name}”：" if name else ""
    public = [f"{'该' if name else '各'}机构公开的信用状况：在“信用查询”中按机构名称或统一社会信用代码查询，"
              "可以看到其信用等级和公示期内的公开信用信息"]
    if profile.lists is not None:
        public.append("严重失信主体名单：依法认定并公开的严重失信主体")
    lines = [lead + "信用预警和投诉情况是监管部门内部使用的信息，不在本平台公开。"
             "我不提供、也不确认或否认任何机构是否被预警或被投诉。",
             "可以查看的公开信息："]
    lines += [f"{i}. {p}；" if i < len(public) else f"{i}. {p}。" for i, p in enumerate(public, 1)]
    if profile.warnings is not None and profile.warnings.to_subject:
        lines.append("需要告知信用主体本人的预警，会通过站内通知告知本人（实名登录后查看）。")
    lines.append(f"如需了解预警规则，可以问“什么情况会被预警”；其他问题可拨打 {profile.hotline}。")
    return "\n".join(lines)
