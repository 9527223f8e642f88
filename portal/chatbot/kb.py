"""The knowledge base: the active profile's rules, our FAQ, and the regulation articles.

(a) Rule passages are written from the profile object itself, so every number an answer gives
(working days, months, percentages, grades) is the number the workflows use: change the
profile and the chatbot changes with it. (b) FAQ entries (``data/faq/*.toml``) are in our own
words; they carry no numbers of their own and pull rule passages in with ``include``. (c)
Articles of the active profile's own document are retrievable as they stand (never another
jurisdiction's, even where the profile borrows a rule from one). Only this public text ever
reaches an answer or a language model.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.vocab import SEVERITY_LABELS
from ..profiles import Profile, Step
from .applications import effects_passage, use_passages
from .articles import Ref, Regulations, default_regulations, parse_refs
from .grading import passages as grading_passages
from .retrieval import BM25
from .supervision import supervision_rules
from .types import Passage

FAQ_DIR = Path(__file__).resolve().parent / "data" / "faq"
DEFAULT_MARK = "※"
DEFAULT_NOTE = "（标“※”的数值文件未作具体规定，是本平台执行的默认标准，由主管部门确定和调整。）"
WORKDAY_NOTE = "说明：工作日不含周末和法定节假日（调休上班日计入），收到申请的当天不计入，自次日起算（民法典第二百零一条）。"
# Shown when a date was counted through a year whose make-up days are unknown (domain.workdays).
PROVISIONAL_ANSWER = ("以上日期为暂定：相关年份的调休安排尚未公布或尚未录入本平台，已按《全国年节及纪念日放假办法》"
                      "扣除法定节假日；放假通知公布并录入后，期限可能调整，以申请页面显示的期限为准。")


def refs_for(regs: Regulations, *articles: str) -> tuple[Ref, ...]:
    """The references in profile-style citations, each once, in order."""
    out: list[Ref] = []
    for a in articles:
        for r in parse_refs(a, regs):
            if r not in out:
                out.append(r)
    return tuple(out)


def _mark(obj, key: str | None = None) -> str:
    return DEFAULT_MARK if obj.is_default(key) else ""


def _limit(step: Step) -> str:
    """The time limit of one step in words."""
    parts = []
    if step.workdays is not None:
        parts.append(f"{step.workdays}个工作日内{_mark(step, 'workdays')}")
    if step.min_workdays is not None:
        parts.append(f"不少于{step.min_workdays}个工作日{_mark(step, 'min_workdays')}")
    if step.extension_workdays:
        when = step.extension_when.rstrip("，。；")
        ext = f"可延长{step.extension_workdays}个工作日{_mark(step, 'extension_workdays')}"
        parts.append(f"{when}，{ext}" if when else ext)
    if step.clock_stops:
        parts.append(f"{'、'.join(step.clock_stops)}所需时间不计入")
    return "；".join(parts)


def _steps_text(profile: Profile, steps: tuple[Step, ...], start_note: str, workday_note: bool = True) -> str:
    lines = []
    n = 0
    for step in steps:
        if step.terminal:
            continue
        n += 1
        if step.actor == "applicant":
            lines.append(f"{n}. {step.label}：可以" + "，或者".join(t.label for t in step.transitions) + "。")
            continue
        line = f"{n}. {step.label}。"
        if step.actor:
            line += f"办理单位：{profile.role_label(step.actor)}。"
        if limit := _limit(step):
            line += f"时限：{limit}。"
        if step.transitions:
            line += "结果：" + "；".join(t.label + (f"（{t.workdays}个工作日内）" if t.workdays is not None else "")
                                      for t in step.transitions) + "。"
        lines.append(line)
    text = start_note + "\n" + "\n".join(lines)
    if workday_note and any(s.workdays is not None or s.min_workdays is not None for s in steps):
        text += "\n" + WORKDAY_NOTE
    return _with_note(text)


def _with_note(text: str) -> str:
    return text + ("\n" + DEFAULT_NOTE if DEFAULT_MARK in text else "")


class _Rules:
    """Collects the rule passages of one profile (``add`` one per rule a citizen asks about)."""

    def __init__(self, regs: Regulations) -> None:
        self.regs = regs
        self.out: list[Passage] = []

    def add(self, pid: str, topic: str, title: str, text: str, articles: tuple[str, ...], links=(), aspect=""):
        self.out.append(Passage(id=f"rule:{pid}", kind="rule", topic=topic, title=title, text=text,
                                refs=refs_for(self.regs, *articles), links=tuple(links), aspect=aspect))


def rule_passages(profile: Profile, regs: Regulations) -> list[Passage]:
    """Passages written from the profile: one per rule a citizen asks about."""
    rules = _Rules(regs)
    for part in (_objection_rules, _repair_rules, _repair_outcome_rules, _grade_rules, _scoring_rules,
                 _publication_rules, _contact_rules, supervision_rules):  # issue 16: lists, commitments, warnings
        part(profile, rules)
    rules.out += use_passages(profile, regs)  # what grades are used for (own articles only)
    return rules.out


def _objection_rules(p: Profile, rules: _Rules) -> None:
    add = rules.add
    o = p.objection
    grounds = "\n".join(f"{i}. {g.label}" for i, g in enumerate(o.grounds, 1))
    add("objection.grounds", "objection", "可以提出异议的情形",
        f"信用主体认为自己的信用信息有下列情形之一的，可以提出异议申请：\n{grounds}",
        tuple(g.article for g in o.grounds) or (o.article,), ("objection_form",), "conditions")
    if o.materials:
        mats = "\n".join(f"{i}. {m}" for i, m in enumerate(o.materials, 1))
        add("objection.materials", "objection", "提出异议需要的材料",
            f"提出异议申请时需要提供：\n{mats}\n登录后可在线填写异议申请并上传材料。",
            (o.article_for("materials"),), ("objection_form",), "materials")
    main = [s for s in o.steps if not s.terminal and s.actor not in ("applicant", "reviewer")]
    add("objection.process", "objection", "异议的办理流程和时限",
        _steps_text(p, tuple(main), "异议申请的办理流程和时限："),
        tuple(s.article for s in main) or (o.article,), ("objection_form",), "time")
    review = [s for s in o.steps if not s.terminal and s.actor in ("applicant", "reviewer")]
    if review:
        add("objection.review", "objection", "对异议处理结果不服怎么办",
            _steps_text(p, tuple(review), "对异议处理结果不服的："),
            tuple(s.article for s in review), ("objection_form",), "disagree")
    if o.serious_list is not None:
        unit = "日" if o.serious_list.calendar_days else "个工作日"
        add("objection.serious_list", "objection", "对列入严重失信主体名单有异议",
            f"对列入严重失信主体名单的决定有异议的，认定部门应当在收到异议材料之日起{o.serious_list.days}{unit}内"
            "作出是否更正的决定，并及时告知处理结果。",
            (o.serious_list.article,), ("objection_form",), "serious")


def _repair_rules(p: Profile, rules: _Rules) -> None:
    """Who may apply, when, how and with what (信用修复)."""
    add = rules.add
    r = p.repair
    conds = "\n".join(f"{i}. {c.label}" for i, c in enumerate(r.conditions, 1))
    add("repair.conditions", "repair", "申请信用修复的条件",
        f"同时满足下列条件的，可以申请信用修复：\n{conds}",
        tuple(c.article for c in r.conditions) or (r.article,), ("repair_form",), "conditions")
    periods = []
    for mp in r.min_periods:
        sev = SEVERITY_LABELS.get(mp.severity, mp.severity)
        periods.append(f"{sev}失信信息：" + ("无最短公示期要求" if mp.months == 0 else f"公示满{_months(mp.months)}")
                       + _mark(mp))
    if r.cooldown_months:
        periods.append(f"距离上一次信用修复不满{r.cooldown_months}个月的，不予修复")
    add("repair.min_periods", "repair", "最短公示期限（多久以后可以申请修复）",
        _with_note("申请信用修复前须达到最短公示期限：\n" + "\n".join(periods)),
        tuple(mp.article for mp in r.min_periods) + ((r.article_for("cooldown_months"),) if r.cooldown_months else ()),
        ("repair_form",), "when")
    add("repair.process", "repair", "信用修复的办理流程和时限",
        _steps_text(p, r.steps, "信用修复向原认定部门（谁认定、谁修复）申请，办理流程和时限："),
        tuple(s.article for s in r.steps if not s.terminal) or (r.article,), ("repair_form",), "time")
    if r.forms:
        add("repair.materials", "repair", "申请信用修复需要的材料",
            "申请信用修复需要提交：\n" + "\n".join(f"{i}. {f}" for i, f in enumerate(r.forms, 1))
            + "\n登录后可在线提交修复申请。",
            (r.article_for("forms"),), ("repair_form",), "materials")
    if r.methods:
        add("repair.methods", "repair", "信用修复的方式",
            "信用修复可以通过以下方式进行：" + "、".join(r.methods) + "。",
            (r.article_for("methods"),), ("repair_form",), "how")


def _repair_outcome_rules(p: Profile, rules: _Rules) -> None:
    """What a repair changes, when it is refused, whether serious records qualify, and the fee."""
    add = rules.add
    r = p.repair
    if (effects := effects_passage(p, rules.regs)) is not None:
        rules.out.append(effects)  # each effect with the profile's own article (applications.py)
    if r.refusals:
        add("repair.refusals", "repair", "不予信用修复的情形",
            "有下列情形之一的，不予信用修复：\n" + "\n".join(f"{i}. {x.label}" for i, x in enumerate(r.refusals, 1)),
            tuple(x.article for x in r.refusals), ("repair_form",), "refusals")
    serious = ("严重失信信息达到最短公示期限并符合条件的，也可以申请修复，修复后移出严重失信主体名单。"
               if r.serious_repairable else "严重失信信息依照规定不予修复。")
    add("repair.serious", "repair", "严重失信能否修复", serious,
        (r.article_for("serious_repairable"),), ("repair_form",), "serious")
    add("repair.free", "fee", "信用修复是否收费",
        ("信用修复不收取任何费用。认定部门和本平台不会以任何名义向申请人收费，也没有委托任何中介机构代办；"
         "如有人以“付费修复”“加急删除”为名收费，请勿轻信，可拨打热线反映。"
         + (f"（{p.document_short}未对信用修复收费作出具体规定，不收费是本平台执行的做法。）"
            if r.is_default("free") else "")) if r.free
        else "信用修复的收费规定以认定部门的公告为准。",
        (r.article_for("free"),), ("repair_form",), "fee")


def _grade_rules(p: Profile, rules: _Rules) -> None:
    """The grade scale and when grades are set."""
    add = rules.add
    grade_lines = "\n".join(f"{g.letter}级（{g.label}）：{g.meaning}" for g in p.grades)
    add("grade.levels", "grade", "信用等级的划分",
        f"信用评价结果分为{'、'.join(f'{g.letter}级（{g.label}）' for g in p.grades)}共{len(p.grades)}个等级：\n{grade_lines}",
        tuple(dict.fromkeys(g.article for g in p.grades)), ("search",), "levels")
    gr = p.grading
    if gr.period == "yearly":
        when = "信用评价每年进行一次，每年定期确定上一年度的信用等级"
        if gr.generate_on:
            m, d = gr.generate_on.split("-")
            when += f"，系统于每年{int(m)}月{int(d)}日生成上一年度结果{_mark(gr, 'generate_on')}"
        if gr.publish_by:
            m, d = gr.publish_by.split("-")
            when += f"，{int(m)}月{int(d)}日前公布{_mark(gr, 'publish_by')}"
        when += "。"
    else:
        when = "信用评价实行动态考评，信用等级随信用信息变化实时更新"
        when += f"（按最近{gr.rolling_months}个月的信息计算）。" if gr.rolling_months else "。"
    add("grade.period", "grade", "信用等级什么时候评定", _with_note(when), (gr.article,), ("search",), "when")
    # 初评 → 异议期 → 正式结果 (湖南医保 第十九条; each profile's own grading articles)
    rules.out += grading_passages(p, lambda *a: refs_for(rules.regs, *a), _with_note)


def _scoring_rules(p: Profile, rules: _Rules) -> None:
    """How points make a grade, and the inspection ratios per grade."""
    sc = p.scoring
    rule_lines = "\n".join(f"- {x.text}" for x in sc.rules)
    overrides = "\n".join(f"- {x.text}" for x in sc.overrides)
    bands = "、".join(f"{g.letter}级{g.min_score}分以上" if g.min_score else f"{g.letter}级低于{prev}分"
                     for g, prev in zip(p.grades, [None, *[g.min_score for g in p.grades]], strict=False))
    rules.add("grade.scoring", "grade", "信用等级是怎么评出来的",
              f"信用等级按计分评定：基础分{sc.base}分，按公示期内的信用信息加减分，再按分数确定等级（{bands}）。"
              f"每个等级都能看到是哪些信息影响了它。\n计分规则：\n{rule_lines}"
              + (f"\n另外：\n{overrides}" if overrides else "")
              + ("\n" + DEFAULT_NOTE.replace("标“※”的数值", "以上分值") if sc.is_default() else ""),
              (sc.article,), ("search",), "how")
    ratios = "、".join(f"{x.grade}级{x.percent}%{_mark(x)}" for x in p.inspection.ratios)
    rules.add("inspection.ratios", "inspection", "“双随机”抽查比例",
              _with_note(f"信用评价结果是“双随机、一公开”抽查的重要依据，按信用等级实行差异化抽查：{ratios}。"),
              (p.inspection.article,), (), "ratios")


def _publication_rules(p: Profile, rules: _Rules) -> None:
    lines = []
    for w in p.publication.windows:
        sev = SEVERITY_LABELS.get(w.severity, w.severity)
        if not w.published:
            lines.append(f"{sev}失信信息：不予公示")
        elif w.min_months == 0:
            lines.append(f"{sev}失信信息：最长{w.max_months}个月")
        else:
            lines.append(f"{sev}失信信息：{_months(w.min_months)}至{_months(w.max_months)}")
    rules.add("publication.windows", "publication", "失信信息公示多长时间",
              "失信信息按严重程度确定公示期限：\n" + "\n".join(lines)
              + "\n公示期满自动停止公示；信息超过期限仍在公示的，信用主体可以提出异议。",
              tuple(dict.fromkeys(w.article for w in p.publication.windows)), ("search",), "time")


def _contact_rules(p: Profile, rules: _Rules) -> None:
    """Disclosure (what is never public, how to see it lawfully) and the contacts."""
    rules.add("disclosure.private", "disclosure", "怎样查看非公开的信用信息",
              "本平台只公开依法应当公开、且在公示期内的信息；身份证号码、住址、联系电话等个人信息一律不公开。"
              "不公开的信息只能通过合法途径查询：信用主体本人实名认证登录后查看自己的全部信用记录；"
              "其他单位或个人须取得信用主体的书面授权，并只能按约定用途使用。",
              (p.display.article_for("assurance_level_for_private"),), ("login",), "private")
    contact = f"咨询热线：{p.hotline}"
    if p.office_phone and not p.office_phone_is_example:
        contact += f"；办公电话：{p.office_phone}"
    rules.add("contact", "contact", "人工咨询和投诉渠道", f"{contact}。主管部门：{p.authority}。", (), (), "contact")


def _months(n: int) -> str:
    return f"{n // 12}年" if n % 12 == 0 else f"{n}个月"


@dataclass(frozen=True)
class FaqEntry:
    id: str
    topic: str
    questions: tuple[str, ...]
    answer: str
    cite: tuple[str, ...]
    include: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()


def load_faq(directory: Path = FAQ_DIR) -> list[FaqEntry]:
    entries = []
    for path in sorted(directory.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for e in data.get("faq", []):
            entries.append(FaqEntry(id=e["id"], topic=e["topic"], questions=tuple(e["questions"]),
                                    answer=e["answer"].strip(), cite=tuple(e.get("cite", ())),
                                    include=tuple(e.get("include", ())), links=tuple(e.get("links", ())),
                                    profiles=tuple(e.get("profiles", ()))))
    return entries


def _profile_articles(profile: Profile, key: str) -> list[str]:
    """``profile:repair.free`` → the article(s) the profile gives for that value."""
    obj: object = profile
    parts = key.split(".")
    for i, part in enumerate(parts):
        nxt = getattr(obj, part, None)
        last = i == len(parts) - 1
        if isinstance(nxt, tuple) and nxt and all(hasattr(x, "article") for x in nxt):
            return list(dict.fromkeys(x.article for x in nxt))
        if nxt is None or last and not hasattr(nxt, "article"):
            return [obj.article_for(part)] if hasattr(obj, "article_for") else []
        obj = nxt
    return [getattr(obj, "article", "")]


def faq_passages(profile: Profile, regs: Regulations, rules: dict[str, Passage],
                 entries: list[FaqEntry]) -> list[Passage]:
    fill = {"hotline": profile.hotline, "authority": profile.authority, "portal_name": profile.portal_name,
            "document": profile.document, "jurisdiction": profile.jurisdiction}
    out = []
    for e in entries:
        if e.profiles and profile.id not in e.profiles:
            continue
        articles = [a for c in e.cite
                    for a in (_profile_articles(profile, c[len("profile:"):]) if c.startswith("profile:") else [c])]
        text = e.answer.format(**fill)
        refs = list(refs_for(regs, *[a for a in articles if a]))
        links = list(e.links)
        for inc in e.include:
            rule = rules[f"rule:{inc}"]
            text += "\n" + rule.text
            refs += [r for r in rule.refs if r not in refs]
            links += [x for x in rule.links if x not in links]
        out.append(Passage(id=f"faq:{e.id}", kind="faq", topic=e.topic, title=e.questions[0], text=text,
                           refs=tuple(refs), links=tuple(links), questions=e.questions))
    return out


def article_passages(profile: Profile, regs: Regulations) -> list[Passage]:
    """Every unit of the profile's own document(s). Other jurisdictions' texts are never
    retrievable, even where the profile borrows one of their rules as a default: an answer on a
    hunan deployment must not quote 海南 (the citation then says the own document is silent)."""
    own = {d.id for d in regs.documents.values() if profile.id in d.profiles}
    out = []
    for doc_id, units in regs.articles.items():
        if doc_id not in own:
            continue
        doc = regs.documents[doc_id]
        for a in units:
            title = f"{doc.short} {a.label}" + (f"【{a.heading}】" if a.heading else "")
            out.append(Passage(id=f"art:{doc_id}:{a.label}", kind="article", topic="article", title=title,
                               text=a.text, refs=(Ref(doc_id, doc.title, a.label),)))
    return out


@dataclass
class KnowledgeBase:
    profile: Profile
    regulations: Regulations
    passages: list[Passage]
    index: BM25 = field(repr=False)
    by_id: dict[str, Passage] = field(repr=False)

    @classmethod
    def build(cls, profile: Profile, regulations: Regulations | None = None,
              faq: list[FaqEntry] | None = None) -> KnowledgeBase:
        regs = regulations or default_regulations()
        rules = rule_passages(profile, regs)
        by_id = {r.id: r for r in rules}
        faqs = faq_passages(profile, regs, by_id, load_faq() if faq is None else faq)
        arts = article_passages(profile, regs)
        passages = rules + faqs + arts
        index = BM25([_index_text(psg) for psg in passages])
        return cls(profile=profile, regulations=regs, passages=passages, index=index,
                   by_id={psg.id: psg for psg in passages})

    def rule(self, key: str) -> Passage | None:
        return self.by_id.get(f"rule:{key}")

    def search(self, text: str, k: int = 5, kinds: tuple[str, ...] = ()) -> list[tuple[Passage, float]]:
        hits = []
        for i, score in self.index.search(text, k=k * 4 if kinds else k):
            psg = self.passages[i]
            if not kinds or psg.kind in kinds:
                hits.append((psg, score))
        return hits[:k]

    def source_documents(self) -> list[str]:
        """Ids of the documents whose text this knowledge base quotes."""
        return sorted({psg.refs[0].doc_id for psg in self.passages if psg.kind == "article"})


def _all_articles(p: Profile) -> list[str]:
    """Every article the profile cites, per-key overrides included."""
    objs = [p.grading, p.scoring, p.inspection, p.publication, p.objection, p.repair, p.display,
            *p.grades, *p.scoring.rules, *p.scoring.overrides, *p.inspection.ratios, *p.publication.windows,
            *p.objection.grounds, *p.objection.steps, *p.repair.min_periods, *p.repair.conditions,
            *p.repair.refusals, *p.repair.steps]
    if p.objection.serious_list is not None:
        objs.append(p.objection.serious_list)
    out = []
    for obj in objs:
        out.append(obj.article)
        out.extend(a for _key, a in obj.key_articles)
    return [a for a in out if a]


def _index_text(psg: Passage) -> str:
    # questions count twice: they are how people ask; titles once more than body text
    return " ".join([*psg.questions, *psg.questions, psg.title, psg.title, psg.text])
