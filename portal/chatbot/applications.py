"""What grades are used for, and what a completed credit repair changes, each sentence with the
active jurisdiction's own article (``data/applications.toml``).

Only the active profile's own document is cited: where it is silent on a use or an effect, the
passage says so (``未作具体规定``) instead of borrowing another jurisdiction's rule or guessing.
The effects themselves are the profile's ``repair.effects`` (what the workflow does); the ratios
are the profile's ``inspection.ratios``.
"""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

from ..profiles import Profile
from .articles import Ref, Regulations
from .types import Passage

DATA = Path(__file__).resolve().parent / "data" / "applications.toml"

USE_LABELS = {
    "general": "应用范围",
    "licensing": "行政许可和审批",
    "inspection": "抽查比例和检查频次",
    "supervision": "分级分类监管",
    "honours": "评先评优和表彰",
    "funding": "财政资金、采购和信贷",
}
#: Which use a question asks about (checked in this order); none: the overview.
USE_CUES = (
    ("licensing", re.compile(r"许可|审批|告知承诺|容缺|办证|办事|政务服务|核准")),
    ("inspection", re.compile(r"抽查|检查|双随机|频次|查得|查的|多查|少查")),
    ("honours", re.compile(r"评先|评优|表彰|优先|宣传|奖励|荣誉|评奖|通报表扬|职称")),
    ("funding", re.compile(r"财政|补贴|补助|资金|采购|招标|招投标|贷款|信贷")),
    ("supervision", re.compile(r"分级分类|分类监管|差异化|监管")),
)

EFFECT_LABELS = {
    "publication_stops": "停止公示相关失信信息",
    "list_exit": "移出失信主体名单",
    "regrade": "调整信用等级",
    "sanctions_end": "终止相关惩戒措施",
}
#: Which kind one of the profile's effect texts is.
_EFFECT_KIND = (
    ("list_exit", re.compile(r"移出|退出")),
    ("publication_stops", re.compile(r"停止公示|停止披露|终止共享公开|撤销.{0,12}公示")),
    ("regrade", re.compile(r"等级|分级评价")),
    ("sanctions_end", re.compile(r"惩戒")),
)
#: Which effect a question asks about.
EFFECT_CUES = (
    ("list_exit", re.compile(r"名单|移出|退出|拉黑")),
    ("regrade", re.compile(r"等级|评级|几级|级别|重新评|分数|评分|升级|升回")),
    ("sanctions_end", re.compile(r"惩戒|限制|约束|处罚措施")),
    ("publication_stops", re.compile(r"公示|显示|挂|网上|查到|看到|撤下|删除|删掉|消失|披露|记录")),
)


@lru_cache(maxsize=1)
def load_applications(path: Path = DATA) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def own_documents(profile: Profile, regs: Regulations) -> set[str]:
    """Ids of the documents the profile rests on (its jurisdiction's own regulation)."""
    return {d.id for d in regs.documents.values() if profile.id in d.profiles}


def _own_refs(profile: Profile, regs: Regulations, article: str) -> tuple[Ref, ...]:
    from .kb import refs_for  # (kb imports this module for its passages)

    own = own_documents(profile, regs)
    return tuple(r for r in refs_for(regs, article) if r.doc_id in own)


def _cite(refs: tuple[Ref, ...], regs: Regulations) -> str:
    """（湖南 第三十一条（一）） for the text; empty when there is nothing to cite."""
    if not refs:
        return ""
    short = regs.documents[refs[0].doc_id].short
    return "（" + short + " " + "、".join(r.label + r.detail for r in refs) + "）"


def effect_kind(effect_text: str) -> str:
    return next((kind for kind, rx in _EFFECT_KIND if rx.search(effect_text)), "")


def asked_effect(question: str) -> str:
    return next((kind for kind, rx in EFFECT_CUES if rx.search(question)), "")


def asked_use(question: str) -> str:
    return next((kind for kind, rx in USE_CUES if rx.search(question)), "general")


def repair_effects(profile: Profile, regs: Regulations) -> list[tuple[str, str, tuple[Ref, ...]]]:
    """(kind, effect text, own-document refs) for each of the profile's repair effects."""
    data = load_applications().get(profile.id, {})
    by_kind = {e["kind"]: e["article"] for e in data.get("repair_effect", [])}
    out = []
    for text in profile.repair.effects:
        kind = effect_kind(text)
        refs = _own_refs(profile, regs, by_kind[kind]) if kind in by_kind else ()
        out.append((kind, text, refs))
    return out


def effects_passage(profile: Profile, regs: Regulations) -> Passage | None:
    """``rule:repair.effects``: each effect with its own article, or marked ※ where the own
    document is silent (then the profile's own citation for ``effects`` goes along, which the
    answer cites as "未作具体规定" when it points into another jurisdiction's text)."""
    effects = repair_effects(profile, regs)
    if not effects:
        return None
    lines = [f"{i}. {text}{_cite(refs, regs) or '※'}" for i, (_k, text, refs) in enumerate(effects, 1)]
    refs = tuple(dict.fromkeys(r for _k, _t, rs in effects for r in rs))
    text = "信用修复完成后：\n" + "\n".join(lines)
    if any(not rs for _k, _t, rs in effects):
        from .kb import refs_for

        refs += tuple(r for r in refs_for(regs, profile.repair.article_for("effects")) if r not in refs)
        text += f"\n（标“※”的效果{profile.document_short}未作具体规定，为本平台执行的默认做法。）"
    return Passage(id="rule:repair.effects", kind="rule", topic="repair", title="信用修复完成后的效果",
                   text=text, refs=refs, aspect="effects")


def effect_lead(profile: Profile, regs: Regulations, kind: str) -> str:
    """A direct answer to "修复后还公示吗" / "会移出名单吗" / "等级会调整吗", from the effects."""
    if not kind:
        return ""
    for k, text, refs in repair_effects(profile, regs):
        if k == kind:
            basis = _cite(refs, regs) or f"（{profile.document_short}未作具体规定，为本平台执行的默认做法）"
            return f"会。信用修复完成后，{text}{basis}。"
    return (f"{profile.document_short}没有规定信用修复会{EFFECT_LABELS[kind]}，"
            "本平台不作推断；具体以认定部门的书面修复决定为准。")


def _ratios(profile: Profile) -> str:
    ratios = "、".join(f"{x.grade}级{x.percent}%" + ("※" if x.is_default() else "") for x in profile.inspection.ratios)
    return f"本平台执行的抽查比例：{ratios}。" if ratios else ""


def use_passages(profile: Profile, regs: Regulations) -> list[Passage]:
    """``rule:grade.uses`` (all uses) and ``rule:grade.use.<kind>`` (one each)."""
    uses = load_applications().get(profile.id, {}).get("grade_use", [])
    out: list[Passage] = []
    lines, all_refs = [], []
    for use in uses:
        refs = _own_refs(profile, regs, use["article"])
        text = use["text"]
        if use["kind"] == "inspection" and (ratios := _ratios(profile)):
            text += ratios
            refs += tuple(r for r in _own_refs(profile, regs, profile.inspection.article) if r not in refs)
        out.append(Passage(id=f"rule:grade.use.{use['kind']}", kind="rule", topic="grade",
                           title=f"信用等级与{USE_LABELS[use['kind']]}", text=_with_note(text), refs=refs,
                           aspect="uses"))
        lines.append(f"{len(lines) + 1}. {USE_LABELS[use['kind']]}：{text}")
        all_refs += [r for r in refs if r not in all_refs]
    if lines:
        out.append(Passage(id="rule:grade.uses", kind="rule", topic="grade", title="信用等级有什么用",
                           text=_with_note("信用评价结果的主要用途：\n" + "\n".join(lines)), refs=tuple(all_refs),
                           aspect="uses"))
    return out


def _with_note(text: str) -> str:
    from .kb import _with_note as note  # the "※ = platform default" note, one wording

    return note(text)


def silent_use_text(profile: Profile, kind: str) -> str:
    return (f"{profile.document_short}没有规定信用等级在{USE_LABELS[kind]}方面的具体应用，本平台不作推断。"
            "该文件对信用评价结果的用途规定如下：")
