"""Compose answers: route the question, draw on the knowledge base, cite, link, hand over.

``Chatbot.answer(question, context, env)`` is the one entry point; the web view, tests and the
evaluation set all call it. Nothing here reads the database: facility facts come from the
``FacilitySource`` (public search), dates from ``add_workdays`` over the calendar in ``env``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from ..domain.identifiers import classify_code, scrub_personal_data
from ..domain.vocab import InfoClass
from ..domain.workdays import WorkCalendar
from ..profiles import Profile
from . import grading
from .applications import asked_effect, asked_use, effect_lead, own_documents, silent_use_text
from .articles import Ref
from .deadline import fmt, plan
from .facility import SEARCH_LIMIT, FacilitySource, lookup
from .intents import Intent, aspect_of, classify
from .kb import PROVISIONAL_ANSWER, WORKDAY_NOTE, KnowledgeBase, refs_for
from .llm import LLMClient
from .normalise import clean, normalise
from .supervision import pick as supervision_pick
from .types import Answer, Choice, Citation, Link, Passage, Urls, plain_urls
from .warning_status import answer_text as warning_status_text
from .warning_status import asks_warning_status, mentions_it
from .warning_status import own_refs as warning_status_refs

MAX_QUESTION = 300  # characters considered; longer messages are cut with a notice
MAX_HISTORY = 10
MIN_SCORE = 5.0  # BM25 score below which retrieval is not trusted
MAX_ARTICLE_CHARS = 600
MAX_RECORDS = 5
SILENT_NOTE = "未作具体规定，相关内容为本平台执行的默认标准"

LINK_LABELS = {
    "objection_form": "在线提出异议（需实名登录）",
    "repair_form": "在线申请信用修复（需实名登录）",
    "login": "实名登录",
    "search": "信用查询",
    "list_red": "守信红名单",
    "list_serious": "严重失信主体名单",
}


@dataclass
class Context:
    """What a conversation remembers (kept small: it lives in the session cookie)."""

    facility_id: str = ""
    facility_name: str = ""
    topic: str = ""
    aspect: str = ""
    history: list[tuple[str, str]] = field(default_factory=list)  # (question ≤ 40 chars, intent)

    def to_dict(self) -> dict:
        return {"f": [self.facility_id, self.facility_name], "t": self.topic, "a": self.aspect,
                "h": [list(x) for x in self.history[-MAX_HISTORY:]]}

    @classmethod
    def from_dict(cls, data: object) -> Context:
        """Tolerates anything (an old or tampered cookie gives an empty context)."""
        if not isinstance(data, dict):
            return cls()
        f = data.get("f") if isinstance(data.get("f"), list) and len(data.get("f")) == 2 else ["", ""]
        hist = [tuple(x) for x in data.get("h", []) if isinstance(x, list) and len(x) == 2
                and all(isinstance(y, str) for y in x)] if isinstance(data.get("h"), list) else []
        return cls(facility_id=str(f[0])[:16], facility_name=str(f[1])[:100], topic=str(data.get("t", ""))[:20],
                   aspect=str(data.get("a", ""))[:20], history=hist[-MAX_HISTORY:])


@dataclass
class Env:
    today: date
    calendar: WorkCalendar
    facilities: FacilitySource
    urls: Urls = plain_urls
    llm: LLMClient | None = None


class Chatbot:
    def __init__(self, profile: Profile, kb: KnowledgeBase | None = None) -> None:
        self.profile = profile
        self.kb = kb or KnowledgeBase.build(profile)

    # -- entry point ------------------------------------------------------------------------
    def answer(self, question: str, context: Context | None, env: Env) -> tuple[Answer, Context]:
        context = context or Context()
        raw = clean(question)
        notice = ""
        if len(raw) > MAX_QUESTION:
            raw = raw[:MAX_QUESTION]
            notice = f"您的问题较长，我只看了前{MAX_QUESTION}个字。请尽量一次问一个问题。"
        text = normalise(raw)
        intent = classify(text, today=env.today, context_topic=context.topic,
                          has_context_facility=bool(context.facility_id))
        if intent.name != "refusal" and (asked := asks_warning_status(text))[0]:
            # who is warned or complained about: never public, decided before any lookup
            name = asked[1] or (context.facility_name if mentions_it(text) else "")
            intent = Intent("refusal", reason="warning", facility_query=name)
        if intent.name in ("objection", "repair", "grade") and not intent.aspect and context.aspect:
            if re.match(r"^(那|那么|那要是|还有|再问|然后)", text) and len(text) <= 12:
                intent.aspect = context.aspect  # "那修复呢" after "异议要多久"
        answer, context = self._route(intent, raw, text, context, env)
        if notice:
            answer.notice = notice
        if answer.intent in ("policy", "objection", "repair", "fee", "grade") and answer.citations and env.llm:
            answer = self._generate(answer, raw, env)
        context.history = (context.history + [(scrub_personal_data(raw)[:40], answer.intent)])[-MAX_HISTORY:]
        return answer, context

    def _route(self, intent: Intent, raw: str, text: str, ctx: Context, env: Env) -> tuple[Answer, Context]:
        name = intent.name
        if name == "facility":
            answer, ctx2 = self._facility(intent, raw, text, ctx, env)
            if answer is not None:
                if intent.medical:
                    answer.text += "\n" + MEDICAL_NOTE
                if "初评" in text and answer.intent == "facility":  # never a preliminary result (non-public)
                    answer.text = "初评结果不对外公示，这里只显示已形成的正式结果。\n" + answer.text
                return answer, ctx2
            # a guessed name matched nothing: answer the topic instead
            name = {"grade": "grade", "objection": "objection", "repair": "repair"}.get(intent.topic, "policy")
            intent.aspect = aspect_of(text, intent.topic) if intent.topic else ""
        if name == "deadline":
            return self._deadline(intent, env), _with_topic(ctx, intent.topic, "time")
        if name == "objection":
            return self._objection(intent.aspect, env), _with_topic(ctx, "objection", intent.aspect)
        if name == "repair":
            return self._repair(intent.aspect, env, text), _with_topic(ctx, "repair", intent.aspect)
        if name == "fee":
            return self._fee(text, env), _with_topic(ctx, "repair", "fee")
        if name == "grade":
            return self._grade(intent.aspect, text, env), _with_topic(ctx, "grade", intent.aspect)
        if name == "refusal" and intent.reason == "warning":
            return self._warning_status(intent.facility_query, env), ctx
        if name == "refusal":
            return self._refusal(intent.reason, env), ctx
        if name == "handoff":
            return self._handoff(env), ctx
        if name == "greeting":
            return self._greeting(intent.reason), ctx
        if name == "out_of_scope":
            return self._out_of_scope(text), ctx
        if name == "foreign_language":
            return self._foreign_language(env), ctx
        return self._policy(intent, text, env), _with_topic(ctx, intent.topic, "")

    # -- citations and links ------------------------------------------------------------------
    def citations(self, refs: list[Ref] | tuple[Ref, ...], env: Env) -> list[Citation]:
        """One citation per document unit, in order of first use; a unit cited with different
        details (several items of one article) is cited whole.

        Only the active jurisdiction's own regulation (and national notices) is cited: a profile
        value resting on another jurisdiction's article (湖南 deployments once cited 海南 第四十一条
        for "repair is free") is cited as what it is, a point the own document leaves open and the
        platform fills with its default. A profile's note that a value is the platform's editable
        default ("预警规则：办法未作规定，为本平台可编辑默认值") is not a document: it is cited the same way."""
        own = self._own_documents()
        foreign = any((r.doc_id and r.doc_id not in own) or _default_note(r) for r in refs)
        refs = [r for r in refs if (not r.doc_id and not _default_note(r)) or r.doc_id in own]
        details: dict[tuple, set[str]] = {}
        order: list[tuple[tuple, Ref]] = []
        for r in refs:
            key = (r.doc_id, r.label) if r.doc_id else (None, r.doc_name)
            if key not in details:
                details[key] = set()
                order.append((key, r))
            details[key].add(r.detail)
        out: list[Citation] = []
        regs = self.kb.regulations
        for key, r in order:
            detail = next(iter(details[key])) if len(details[key]) == 1 else ""
            if r.doc_id is None:
                out.append(Citation(doc=r.doc_name, article="", detail=detail))
                continue
            doc = regs.documents[r.doc_id]
            unit = regs.article(r.doc_id, r.label) if r.label else None
            url = env.urls("source", doc_id=r.doc_id, anchor=unit.anchor if unit else "")
            out.append(Citation(doc=doc.cite_title, article=r.label, url=url, doc_id=r.doc_id, detail=detail))
        if foreign and own:
            doc = regs.documents[min(own)]
            out.append(Citation(doc=f"{doc.cite_title}（{SILENT_NOTE}）", article="",
                                url=env.urls("source", doc_id=doc.id, anchor=""), doc_id=doc.id))
        # the jurisdiction's own document first, national notices last
        return sorted(out, key=lambda c: (c.doc_id is None, c.doc_id not in own))

    def _own_documents(self) -> set[str]:
        return own_documents(self.profile, self.kb.regulations)

    def _relies_on_foreign(self, passages: list[Passage]) -> bool:
        own = self._own_documents()
        return any(r.doc_id and r.doc_id not in own for psg in passages for r in psg.refs
                   if "未作具体规定" not in psg.text)  # (a passage that says so itself needs no note)

    def links(self, names, env: Env) -> list[Link]:
        out = []
        for n in dict.fromkeys(names):
            out.append(Link(LINK_LABELS.get(n, n), env.urls(n)))
        return out

    def _from_passages(self, passages: list[Passage], intent: str, env: Env, lead: str = "",
                       extra_links: tuple[str, ...] = ()) -> Answer:
        parts = [lead] if lead else []
        for psg in passages:
            parts.append(f"【{psg.title}】\n{psg.text}" if len(passages) > 1 else psg.text)
        if self._relies_on_foreign(passages):
            parts.append(f"（{self.profile.document_short}对以上部分内容未作具体规定，相关内容为本平台执行的默认标准。）")
        refs = [r for psg in passages for r in psg.refs]
        names = [n for psg in passages for n in psg.links] + list(extra_links)
        return Answer(text="\n".join(parts), citations=self.citations(refs, env), links=self.links(names, env),
                      intent=intent, passages=list(passages))

    def _rules(self, *keys: str) -> list[Passage]:
        return [p for p in (self.kb.rule(k) for k in keys) if p is not None]

    # -- topics ---------------------------------------------------------------------------------
    def _objection(self, aspect: str, env: Env) -> Answer:
        keys = {
            "time": ("objection.process",),
            "materials": ("objection.materials",),
            "conditions": ("objection.grounds",),
            "disagree": ("objection.review",) if self.kb.rule("objection.review") else ("objection.process",),
            "serious": ("objection.serious_list", "objection.grounds") if self.kb.rule("objection.serious_list")
            else ("objection.grounds",),
            "how": ("objection.grounds", "objection.materials", "objection.process"),
        }.get(aspect, ("objection.grounds", "objection.process"))
        lead = "异议由信用主体本人实名登录后在线提出，也可以书面提出。" if aspect in ("how", "") else ""
        return self._from_passages(self._rules(*keys), "objection", env, lead, ("login",))

    def _repair(self, aspect: str, env: Env, text: str = "") -> Answer:
        has = self.kb.rule
        keys = {
            "time": ("repair.process", "repair.min_periods"),
            "when": ("repair.min_periods", "repair.conditions"),
            "conditions": ("repair.conditions", "repair.min_periods") + (("repair.refusals",) if has("repair.refusals") else ()),
            "materials": ("repair.materials", "repair.methods"),
            "effects": ("repair.effects",),
            "refusals": ("repair.refusals",) if has("repair.refusals") else ("repair.conditions",),
            "serious": ("repair.serious", "repair.min_periods"),
            "how": ("repair.conditions", "repair.materials", "repair.process"),
        }.get(aspect, ("repair.conditions", "repair.process"))
        lead = effect_lead(self.profile, self.kb.regulations, asked_effect(text)) if aspect == "effects" else ""
        return self._from_passages(self._rules(*keys), "repair", env, lead, extra_links=("login",))

    def _fee(self, text: str, env: Env) -> Answer:
        answer = self._from_passages(self._rules("repair.free"), "fee", env)
        if re.search(r"查询|查|搜索|扫码", text) and "修复" not in text:
            answer.text = "在本平台查询公示信息免费，也不需要登录。\n" + answer.text
        return answer

    def _grade(self, aspect: str, text: str, env: Env) -> Answer:
        if aspect == "improve" and (faq := self.kb.by_id.get("faq:grade-improve")):
            return self._from_passages([faq], "grade", env)
        if aspect == "uses":
            return self._grade_uses(text, env)
        if aspect in ("time", "preliminary", "objection"):  # the cycle: 初评 → 异议期 → 正式结果
            keys = {"time": ("grade.period", "grade.preliminary"), "preliminary": ("grade.preliminary",),
                    "objection": ("grade.objection",)}[aspect]
            return self._from_passages(self._rules(*keys), "grade", env,
                                       grading.schedule_lead(self.profile, env.today, env.calendar), ("login",))
        keys = {"how": ("grade.scoring",)}.get(aspect, ("grade.levels", "grade.period"))
        return self._from_passages(self._rules(*keys), "grade", env)

    def _grade_uses(self, text: str, env: Env) -> Answer:
        """What grades are used for (分级分类监管, 抽查比例, 评先评优, 行政许可 …), each use with the
        active jurisdiction's own article; a use its regulation does not name is said to be open."""
        kind = asked_use(text)
        letter = re.search(r"(?<![a-z])([a-e])级", text)
        if kind == "general" and letter:  # "A级有什么好处": the uses the regulation names for that grade
            mark = f"{letter.group(1).upper()}级"
            named = [p for p in self.kb.passages if p.id.startswith("rule:grade.use.") and mark in p.text]
            if named:
                return self._from_passages(named, "grade", env)
        one = self.kb.rule(f"grade.use.{kind}")
        if one is not None:
            general = self.kb.rule("grade.use.general") if kind != "general" else None
            return self._from_passages([p for p in (one, general) if p is not None], "grade", env)
        overview = self.kb.rule("grade.uses")
        if overview is None:
            return Answer(text=f"{self.profile.document_short}没有规定信用评价结果的具体用途，本平台不作推断。",
                          citations=self.citations(refs_for(self.kb.regulations, self.profile.grading.article), env),
                          intent="grade")
        lead = silent_use_text(self.profile, kind) if kind != "general" else ""
        return self._from_passages([overview], "grade", env, lead)

    def _policy(self, intent: Intent, text: str, env: Env) -> Answer:
        if intent.topic in ("lists", "commitment", "warning") and max(intent.scores.values(), default=0) >= 3 \
                and max(intent.scores.get("objection", 0), intent.scores.get("repair", 0)) < 4:
            rule = self.kb.rule(supervision_pick(intent.topic, text))  # issue 16: computed from the profile
            if rule is not None:
                return self._from_passages([rule], "policy", env)
        direct = {"publication": "publication.windows", "inspection": "inspection.ratios"}.get(intent.topic)
        if direct and (rule := self.kb.rule(direct)) is not None and max(intent.scores.values(), default=0) >= 3:
            hits = self.kb.search(text, k=3, kinds=("faq",))
            faq = next((p for p, s in hits if p.topic == intent.topic and s >= MIN_SCORE), None)
            return self._from_passages([faq or rule], "policy", env)
        hits = self.kb.search(text, k=6)
        if not hits or hits[0][1] < MIN_SCORE:
            if intent.scores or re.search(r"信用|卫生|医疗|公示|处罚", text):
                answer = self._handoff(env)
                answer.text = ("抱歉，这个问题我暂时无法根据现有规定准确回答。建议您咨询工作人员：\n"
                               + answer.text)
                return answer
            return self._out_of_scope(text)
        top = hits[0][1]
        preferred = [p for p, s in hits if s >= 0.75 * top and p.kind in ("faq", "rule")
                     and (not intent.topic or p.topic in (intent.topic, "general", "disclosure"))]
        best = preferred[0] if preferred else hits[0][0]
        if best.kind == "article":
            return self._article_answer(best, env)
        return self._from_passages([best], "policy", env)

    def _article_answer(self, psg: Passage, env: Env) -> Answer:
        ref = psg.refs[0]
        doc = self.kb.regulations.documents[ref.doc_id]
        body = psg.text if len(psg.text) <= MAX_ARTICLE_CHARS else psg.text[:MAX_ARTICLE_CHARS] + "……（全文见原文链接）"
        draft = "（该文件为征求意见稿，以正式印发版本为准）" if "征求意见" in doc.status else ""
        text = f"{doc.cite_title}{ref.label}规定{draft}：\n{body}"
        return Answer(text=text, citations=self.citations(psg.refs, env), links=self.links(("search",), env),
                      intent="policy", passages=[psg])

    # -- facilities -------------------------------------------------------------------------------
    def _facility(self, intent: Intent, raw: str, text: str, ctx: Context, env: Env) -> tuple[Answer | None, Context]:
        if intent.facility_from_context:
            found = lookup(env.facilities, ctx.facility_name, public_id=ctx.facility_id)
            if found.found is None:
                return Answer(text=f"没有找到“{ctx.facility_name}”目前的公示信息，请重新输入机构全称查询。",
                              links=self.links(("search",), env), intent="facility"), Context(history=ctx.history)
            return self._facility_found(found.found, intent.facility_aspect, env), ctx
        query = intent.facility_query
        if intent.facility_code and classify_code(query) != "uscc":
            return Answer(text=(f"“{query}”不是有效的统一社会信用代码（18位，校验位须正确）。请核对后重新输入，"
                                "或输入机构名称查询。"), links=self.links(("search",), env), intent="facility"), ctx
        found = lookup(env.facilities, query, code=intent.facility_code)
        if not intent.facility_confident and found.found is None and (
                not found.candidates or found.total >= SEARCH_LIMIT):
            return None, ctx  # a guessed name that matches nothing, or far too much
        if found.found is not None:
            doc = found.found
            new = Context(facility_id=doc["id"], facility_name=doc["name"], topic="facility", history=ctx.history)
            return self._facility_found(doc, intent.facility_aspect, env), new
        if found.candidates:
            choices = []
            for d in found.candidates:
                where = "，".join(x for x in (d.get("region_name", ""), d.get("category_label", "")) if x)
                question = raw.replace(query, d["name"]) if query in raw else f"{d['name']}的信用情况"
                choices.append(Choice(label=d["name"] + (f"（{where}）" if where else ""), question=question,
                                      url=env.urls("facility", public_id=d["id"])))
            return Answer(text=f"找到{len(choices)}家名称中含“{query}”的机构，请问您问的是哪一家？",
                          choices=choices, links=self.links(("search",), env), intent="facility"), ctx
        if not intent.facility_confident:
            return None, ctx
        what = "统一社会信用代码" if intent.facility_code else "名称"
        return Answer(text=(f"没有找到{what}为“{query}”的机构的公示信息。请核对后输入机构全称或统一社会信用代码，"
                            "也可以在信用查询页面按地区、类别查找。"),
                      links=[Link("信用查询", env.urls("search", q=query))], intent="facility"), ctx

    def _facility_found(self, doc: dict, aspect: str, env: Env) -> Answer:
        """One facility's public facts only: its grade and the records in their publication window."""
        p = self.profile
        details = env.facilities.details(doc["id"]) or {}
        facts = "；".join(x for x in (
            f"统一社会信用代码 {doc['codes'][0]}" if doc.get("codes") else "",
            doc.get("category_label", ""), doc.get("region_name", "")) if x)
        head = doc["name"] + (f"（{facts}）" if facts else "")
        grade = p.grade(doc["grade"]) if doc.get("grade") else None
        grade_line = _grade_line(doc, grade, details.get("grade_absence"))
        bad, good_part, basic_part, bad_part = _record_blocks(doc, details)
        order = {
            "grade": [[grade_line], bad_part[:1]],
            "penalty": [bad_part, [grade_line]],
            "positive": [good_part or ["暂无表彰奖励等增信信息。"], [grade_line]],
            "licence": [basic_part or ["暂无公示的许可、承诺等基础信息。"], [grade_line]],
        }.get(aspect, [[grade_line], bad_part, good_part])
        lines = [head] + _risk_lines(doc) + [line for block in order for line in block]
        lines.append("以上为依法公开且在公示期内的信息；详情请查看机构页面。")
        refs: list[Ref] = []
        refs += refs_for(self.kb.regulations, grade.article if grade else p.grades[0].article)
        if aspect == "grade":
            refs += refs_for(self.kb.regulations, p.grading.article)
        refs += refs_for(self.kb.regulations, p.display.article_for("plate_shows_grade"))
        links = [Link(f"查看“{doc['name']}”的信用信息", env.urls("facility", public_id=doc["id"]))]
        if bad:
            links.append(Link(LINK_LABELS["objection_form"], env.urls("objection_form")))
        return Answer(text="\n".join(lines), citations=self.citations(refs, env), links=links, intent="facility")

    # -- deadlines --------------------------------------------------------------------------------
    def _deadline(self, intent: Intent, env: Env) -> Answer:
        p = self.profile
        case = intent.case
        if case == "grade":  # the objection window against a preliminary grade (初评)
            refs = refs_for(self.kb.regulations, *grading.cycle_articles(p))
            return Answer(text=grading.window_answer(p, intent.on, env.calendar),
                          citations=self.citations(refs, env), links=self.links(("login",), env), intent="deadline")
        if case == "serious_list" and p.objection.serious_list is None:
            case = "objection"
        result = plan(p, case, intent.on, env.calendar)
        what = {"objection": "异议申请", "serious_list": "对严重失信主体名单的异议", "repair": "信用修复申请"}[case]
        lines = [f"您于{fmt(result.received)}提交的{what}："]
        refs: list[Ref] = []
        if result.calendar_days is not None or (case == "serious_list" and not result.stages):
            sl = p.objection.serious_list
            lines.append(f"认定部门应当自收到异议材料之日起{sl.days}日内作出是否更正的决定，即最迟{fmt(result.final)}"
                         f"{'（暂定）' if result.provisional else ''}（期间最后一日是法定休假日的，顺延至其后第一个工作日）。")
            refs += refs_for(self.kb.regulations, sl.article)
        else:
            if result.counted_from != result.received:
                lines.append(f"提交当天不是工作日，从{fmt(result.counted_from)}起算。")
            for i, st in enumerate(result.stages, 1):
                line = f"{i}. {st.step.label}："
                if st.due is not None:
                    line += f"{st.workdays}个工作日内，最迟{fmt(st.due)}"
                    if st.due_extended is not None:
                        line += f"；如延期，最迟{fmt(st.due_extended)}"
                elif st.earliest_end is not None:
                    line += f"不少于{st.step.min_workdays}个工作日，按前一环节最迟完成计，最早于{fmt(st.earliest_end)}期满"
                else:
                    line += "无固定时限"
                for label, n, due in st.alternatives:
                    line += f"（{label}的，{n}个工作日内，即最迟{fmt(due)}）"
                if st.step.clock_stops:
                    line += f"；{'、'.join(st.step.clock_stops)}的时间不计入"
                lines.append(line + "。")
                refs += refs_for(self.kb.regulations, st.step.article)
            last = result.stages[-1] if result.stages else None
            if last is not None and last.due is None and last.earliest_end is not None and result.final is not None:
                # an open-ended public notice closes the procedure: no single end date
                lines.append(f"前一环节最迟于{fmt(result.final)}前完成；符合条件的，公示期满且无异议后作出决定。")
            elif result.final is not None:
                tail = f"按各环节用足时限计算，最迟应于{fmt(result.final)}前办结"
                if result.final_extended is not None:
                    tail += f"（经批准延期的，最迟{fmt(result.final_extended)}）"
                lines.append(tail + "。")
            lines.append(WORKDAY_NOTE)
        if result.provisional:
            lines.append(PROVISIONAL_ANSWER)
        if result.final is not None and result.final < env.today:
            lines.append("按规定时限，该申请应已有处理结果。如尚未收到，可登录查看办理进度，或拨打热线"
                         f" {p.hotline} 咨询。")
        link = "repair_form" if case == "repair" else "objection_form"
        return Answer(text="\n".join(lines), citations=self.citations(refs, env),
                      links=self.links((link, "login"), env), intent="deadline")

    # -- refusals, hand-off, greetings ----------------------------------------------------------------
    def _refusal(self, reason: str, env: Env) -> Answer:
        p = self.profile
        first = {
            "injection": "我只能依据公开的规定和公示信息回答问题，这些规则不能被更改，也不能提供任何人的身份证号码或其他非公开信息。",
            "id_number": "为保护个人信息，我不接收、也不按身份证号码查询任何人的信息。请不要在对话中发送身份证号码。",
            "personal": "抱歉，我不能提供他人的身份证号码、联系方式、住址、健康状况等个人信息。",
            "non_public": "抱歉，依法不予公开或已停止公示的信息不能在这里查询。",
        }.get(reason, "抱歉，这个请求我不能办理。")
        rule = self.kb.rule("disclosure.private")
        text = first + "\n合法的查询途径：\n1. 信用主体本人：实名认证登录本平台，查看自己的全部信用记录并下载信用报告；\n" \
                       "2. 其他单位或个人：须取得信用主体的书面授权，按授权约定的用途查询和使用；\n" \
                       f"3. 公开的信用信息：在“信用查询”中按机构名称或统一社会信用代码查询。\n如有疑问，可拨打 {p.hotline}。"
        return Answer(text=text, citations=self.citations(rule.refs if rule else (), env),
                      links=self.links(("login", "search"), env), intent="refusal")

    def _warning_status(self, name: str, env: Env) -> Answer:
        """Whether a facility is warned (淮安 三（二）; services.warnings): not public. The
        same answer for every facility, nothing looked up; cited only where the own document
        says so (``warning_status.own_refs``)."""
        links = [Link(LINK_LABELS["search"], env.urls("search", q=name) if name else env.urls("search"))]
        if self.profile.lists is not None:
            links.append(Link(LINK_LABELS["list_serious"], env.urls("list_serious")))
        return Answer(text=warning_status_text(self.profile, name),
                      citations=self.citations(warning_status_refs(self.profile, self.kb.regulations), env),
                      links=links, intent="refusal")

    def _handoff(self, env: Env) -> Answer:
        p = self.profile
        lines = [f"如需人工服务，可拨打政务服务便民热线 {p.hotline}（可转接{p.authority}）。"]
        if p.office_phone and not p.office_phone_is_example:
            lines.append(f"办公电话：{p.office_phone}。")
        else:
            lines.append(f"办公地址和办公电话以{p.authority}官方网站公布的为准。")
        links = []
        if p.complaint_url and not p.complaint_url_is_example:
            lines.append("也可以通过网上投诉渠道留言，工作人员会在规定时间内答复。")
            links.append(Link("网上投诉", p.complaint_url))
        lines.append("信用主体办理异议、信用修复，可实名登录后在线提交，并随时查看办理进度。")
        return Answer(text="\n".join(lines), links=links + self.links(("login",), env), intent="handoff", handoff=True)

    def _greeting(self, reason: str) -> Answer:
        p = self.profile
        if reason == "empty":
            text = "请输入您的问题，例如：“信用修复要多久？”“异议怎么提？”“某某医院是什么等级？”"
        else:
            text = (f"您好，我是{p.portal_name}的智能问答助手。我可以：\n"
                    "1. 解答异议、信用修复、信用等级、公示期限等政策问题，并注明依据的条款；\n"
                    "2. 查询医疗卫生机构公示的信用等级和行政处罚；\n"
                    "3. 按工作日计算办理期限，例如“我3月2日交的异议什么时候出结果？”\n"
                    f"需要人工服务请拨打 {p.hotline}。")
        return Answer(text=text, intent="greeting")

    def _foreign_language(self, env: Env) -> Answer:
        """A question in another language: a short bilingual reply, the hotline, the search page."""
        p = self.profile
        text = (f"本服务仅以中文答复。请用中文提问，或拨打人工服务热线 {p.hotline}。\n"
                f"This service answers in Chinese only. Please ask in Chinese, or call the hotline {p.hotline}. "
                "You can also search a facility by its name or credit code on the search page.")
        return Answer(text=text, links=self.links(("search",), env), intent="foreign_language", handoff=True)

    def _out_of_scope(self, text: str) -> Answer:
        p = self.profile
        medical = re.search(r"吃什么药|吃药|症状|治疗|怎么治|头疼|头痛|发烧|感冒|咳嗽|看病|挂号|预约", text)
        lines = ["抱歉，这个问题不在本平台的服务范围内。我只能回答医疗卫生信用信息方面的问题，"
                 "例如信用查询、异议、信用修复、信用等级和公示期限。"]
        if medical:
            lines.append("看病就医、用药等健康问题，请咨询医疗机构或医生。")
        lines.append(f"其他政务咨询可拨打 {p.hotline}。")
        return Answer(text="\n".join(lines), intent="out_of_scope", handoff=True)

    # -- generation ---------------------------------------------------------------------------------------
    def _generate(self, answer: Answer, question: str, env: Env) -> Answer:
        """Let the model answer from the same public passages; keep ours unless it is grounded.

        The model gets the passages this answer was composed from and the wording of the
        articles they cite, numbered [1]..[n]; the citations shown are those of the passages
        its reply cites."""
        sources: list[tuple[str, str, tuple[Ref, ...]]] = [(p.title, p.text, p.refs) for p in answer.passages]
        for p in answer.passages:
            for r in p.refs:
                art = self.kb.by_id.get(f"art:{r.doc_id}:{r.label}") if r.doc_id else None
                if art is not None and all(t != art.title for t, _b, _r in sources):
                    sources.append((art.title, art.text, art.refs))
        sources = sources[:8]
        reply = env.llm.generate(question, [(t, b) for t, b, _r in sources])
        if reply is None:
            return answer
        refs = [r for i in reply.cited for r in sources[i][2]]
        return Answer(text=reply.text, citations=self.citations(refs, env) or answer.citations, links=answer.links,
                      intent=answer.intent, handoff=answer.handoff, notice=answer.notice, generated=True,
                      passages=answer.passages)


#: Added to a facility answer when the question was whether to go there for treatment (issue #13).
MEDICAL_NOTE = ("提示：以上是该机构依法公示的信用信息，不构成医疗建议；是否就医、去哪里就医，"
                "请根据自身病情咨询医生或拨打当地卫生健康部门电话。")


def _risk_lines(doc: dict) -> list[str]:
    """What the facility page says first (its public risk summary, ``domain.risk``), when there is
    a current reason for concern: on a serious-dishonesty list, licence revoked, penalties …"""
    risk = doc.get("risk") or {}
    items = [i.get("text", "") for i in risk.get("items", ()) if i.get("level") in ("bad", "warn")]
    return ["当前提示：" + "；".join(items) + "。"] if items else []


def _grade_line(doc: dict, grade, absence: dict | None = None) -> str:
    """The facility's grade as its public search document states it. Without one, the answer says
    only what is known: the facility page's sentence when the subject did not take part in a
    period (``absence``, ``services.grading.grade_absence``: the year from the stored exclusion,
    湖南 第十八条, never its reason), else that no grade is published — not that it was never graded."""
    letter = doc.get("grade") or ""
    if absence:
        return f"信用等级：{absence['text']}"
    if not letter:
        return "信用等级：暂无公示的评定结果。"
    line = f"信用等级：{letter}级" + (f"（{grade.label}）" if grade else "")
    line += f"，{doc['grade_year']}年度评定。" if doc.get("grade_year") else "。"
    return line + (grade.meaning if grade else "")


_ADVERSE_TYPES = frozenset({"penalty", "criminal", "court_refusal", "serious_list", "blacklist", "joint_punishment",
                            "misconduct_points", "inspection"})


def _records(items: list[dict]) -> list[str]:
    lines = []
    for i, v in enumerate(items[:MAX_RECORDS], 1):
        bits = [str(v.get("decided_on") or ""), v.get("authority", ""), v.get("doc_no", "")]
        until = v.get("publish_until")
        line = f"{i}. {v.get('title', '')}（" + "，".join(b for b in bits if b)
        line += f"；公示至{until}）" if until else "）"
        lines.append(line)
    if len(items) > MAX_RECORDS:
        lines.append(f"……另有{len(items) - MAX_RECORDS}条，请查看机构页面。")
    return lines


def _record_blocks(doc: dict, details: dict) -> tuple[list, list[str], list[str], list[str]]:
    """(adverse records, positive lines, basic lines, adverse lines) from the facility page's public
    view, or — without it — from the search document's titles of public records."""
    groups = details.get("groups") or {}
    bad = list(groups.get(InfoClass.DISHONEST, [])) + list(groups.get(InfoClass.SERIOUS, []))
    good = list(groups.get(InfoClass.POSITIVE, []))
    basic = list(groups.get(InfoClass.BASIC, []))
    if details:
        bad_part = ([f"公示期内的行政处罚和失信信息共{len(bad)}条："] + _records(bad)) if bad \
            else ["公示期内没有行政处罚和失信信息。"]
        good_part = ([f"表彰奖励等增信信息{len(good)}条："] + _records(good)) if good else []
        basic_part = ([f"许可、承诺等基础信息{len(basic)}条："] + _records(basic)) if basic else []
        return bad, good_part, basic_part, bad_part
    titles = doc.get("titles", [])  # the search document alone: titles of public records, newest first
    bad_part = ["公示期内的公开信息：" + "；".join(titles)] if titles else ["公示期内没有行政处罚和失信信息。"]
    if titles and not set(doc.get("record_types", ())) & _ADVERSE_TYPES:
        bad_part = ["公示期内没有行政处罚和失信信息。"]
    return bad, [], [], bad_part


def _with_topic(ctx: Context, topic: str, aspect: str) -> Context:
    return Context(facility_id=ctx.facility_id, facility_name=ctx.facility_name, topic=topic or ctx.topic,
                   aspect=aspect or "", history=ctx.history)


def _default_note(ref: Ref) -> bool:
    """A citation part that names no document and marks a value as this portal's editable default."""
    return not ref.doc_id and "默认" in ref.doc_name
