"""What is being asked: rules over the normalised question, then retrieval scores.

The order matters and is the policy: refusals (requests for personal or non-public data, prompt
injection) are decided before anything is looked up; a hand-off request wins over a topic; a
date with a case type is a deadline question; a facility name, credit code or a pronoun with a
facility in the conversation is a facility question; then topics by weighted keywords, with
retrieval as the tie-breaker; greetings; and what matches nothing is out of scope.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..domain.identifiers import classify_code
from .normalise import cn_number, fuzzy_contains, is_cjk, meaningful

# --- refusals ---------------------------------------------------------------------------------
_INJECTION = re.compile(
    r"(忽略|无视|忘记|忘掉|绕过|跳过|不要管|别管|不用管|覆盖)(掉)?(你)?(之前|以上|前面|上面|上述|所有|全部|你的|原有|原来)?的?"
    r".{0,6}(指令|指示|提示|规则|设定|限制|要求|约束|命令|说明)"
    r"|system\s*prompt|系统提示|提示词|越狱|jailbreak|开发者模式|developer\s*mode|管理员模式|调试模式|dan模式"
    r"|你现在是|假装你是|扮演|act\s+as|ignore\s+(all|any|previous|the\s+above|prior)|disregard\s+(all|previous|the)"
    r"|输出(你的)?(配置|设定|源码|数据库)|sql|select\s+\*|drop\s+table"
)
_PERSONAL = re.compile(
    r"身份证|证件号|身份号码|公民身份号|手机号|电话号码|联系电话|手机号码|私人电话|住址|家庭地址|家住哪|住在哪|住哪"
    r"|病历|病情|诊断结果|体检报告|检查结果|银行卡|银行账户|账户|存款|工资|收入|婚姻|家属|亲属|隐私|个人信息"
)
_PERSONAL_POLICY = re.compile(r"会不会|会公开|会显示|公开吗|显示吗|泄露|保护|脱敏|遮挡|打码|隐藏|安全吗|怎么处理|被公开")
_NON_PUBLIC = re.compile(
    r"非公开|不公开|未公开|没公开|没有公开|不对外|内部(的)?(信息|记录|数据|资料)|隐藏(的)?(信息|记录)|保密(的)?(信息|记录)"
    r"|被删除的|删掉的|撤销的|撤下的|后台|数据库|原始数据|所有(人|机构|医院|医生)?的?(记录|信息|数据)|全部(的)?(记录|信息|数据)"
    r"|完整(的)?(记录|档案)|信用档案"
)
_REQUEST = re.compile(r"查|看|给我|告诉|显示|列出|导出|提供|发我|发给|是多少|多少|有哪些|是什么|在哪|输出|打印|找")
_SELF = re.compile(r"我的|我自己|自己|本人|我们单位|我单位|我们机构|我们医院|我们诊所|我公司|我们公司|我能|我可以|我想看|我怎么")
_THIRD = re.compile(r"他|她|别人|某人|某|这家|那家|该|所有|全部|院长|医生|护士|患者|病人|员工|法人|法定代表人|老板|邻居|同事|张三|李四")
_RESIDENT_ID = re.compile(r"(?<![0-9a-z])\d{6}[ -]?\d{8}[ -]?\d{3}[\dx](?![0-9a-z])|(?<![0-9a-z])\d{15}(?![0-9a-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

# --- hand-off -----------------------------------------------------------------------------------
_HANDOFF = re.compile(
    r"人工|客服|真人|工作人员|转接|找人|找个人|活人|接线员|坐席|热线|你们(的)?(电话|联系方式)|联系(你们|方式|电话)"
    r"|咨询电话|办公电话|电话(是)?多少|打电话|投诉|举报|办公地址|在哪办公|窗口|上班时间|办公时间|信访"
    r"|听不懂|答非所问|没用|你不懂|说了半天"
)

_GREETING = re.compile(
    r"^(你好|您好|hi|hello|嗨|哈喽|在吗|在不在|有人吗|早上好|下午好|晚上好|谢谢|多谢|感谢|谢了|好的|好|ok|再见|拜拜|嗯|哦)"
    r"|你是谁|你是什么|你叫什么|你能做什么|你会什么|能帮我什么|怎么用|有什么功能|能问什么"
)

_OFF_TOPIC = re.compile(
    r"天气|股票|基金|彩票|写诗|作诗|写一首|作文|笑话|翻译|编程|写代码|游戏|电影|音乐|唱歌|旅游|房价|外卖|快递|足球|篮球"
    r"|挂号|预约|看病|吃什么药|吃药|药吃|症状|治疗|怎么治|头疼|头痛|发烧|感冒|咳嗽|偏方|医保报销|报销|社保|公积金|养老金"
    r"|办身份证|结婚|离婚|违章|驾照|高考|考研|工资多少|菜谱|做饭|减肥|恋爱|星座|算命|明星|新闻|比分"
)

# "X医院能去看病吗": whether to go there. Answered with X's public credit status and the note that
# this is no medical advice (issue #13); "怎么挂号" stays out of scope.
_GO_THERE = re.compile(
    r"(能|可以|能不能|可不可以|敢|放心|值得|适合)(去)?(看病|就医|就诊|治病|看牙|看)"
    r"|去(看病|就医|就诊|治病)|看病(靠谱|安全|放心|行不行|好不好)|靠不靠谱|安不安全|能去吗|可以去吗|能不能去"
)

# --- another language -------------------------------------------------------------------------------
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")
_LETTER_WORD = re.compile(r"[^\W\d_]{2,}")


def is_foreign(text: str) -> bool:
    """A question in another language (issue #13): Japanese kana or Korean, or at least two words of
    letters without any Chinese character. Codes (letters with digits), "ok" and "hi" are not."""
    if len(_KANA_HANGUL.findall(text)) >= 2:
        return True
    if any(is_cjk(c) for c in text):
        return False
    prose = re.sub(r"<[^<>]*>", " ", text)  # markup is not a language ("<script>…": out of scope)
    words = [w for w in _LETTER_WORD.findall(prose) if not _KANA_HANGUL.search(w)]
    return len(words) >= 2 or any(len(w) >= 8 for w in words)


# --- topics ---------------------------------------------------------------------------------------
TOPIC_WORDS: dict[str, tuple[tuple[str, float], ...]] = {
    "objection": (("异议", 4), ("申诉", 2.5), ("有误", 2), ("错误", 1.5), ("写错", 2.5), ("搞错", 2.5), ("弄错", 2.5),
                  ("记错", 2.5), ("不对", 1.5), ("不符", 1.5), ("不实", 2), ("更正", 2.5), ("纠错", 2.5), ("复核", 2),
                  ("不服", 2), ("不成立", 1.5), ("驳回", 1.5), ("还在公示", 2), ("还挂着", 2), ("还在网上", 1.5),
                  ("过期了", 1.5), ("超期", 1.5), ("不同意见", 3), ("有意见", 2), ("录错", 2.5), ("错了", 1.5),
                  ("填错", 2.5), ("信息有错", 3), ("过了公示期", 4), ("超过公示期", 4), ("公示期满", 3),
                  ("还挂在", 2), ("过期", 1), ("冤枉", 2), ("不认可", 2), ("有出入", 2), ("遗漏", 1.5)),
    "repair": (("修复", 4), ("信用修复", 1), ("恢复信用", 3), ("洗白", 3), ("消除记录", 2.5), ("删除记录", 2),
               ("删掉记录", 2), ("移出名单", 2.5), ("移出", 1.5), ("撤销公示", 2), ("停止公示", 1.5), ("挽回", 2),
               ("消掉", 2), ("撤下", 2.5), ("重塑信用", 3), ("信用承诺书", 1.5), ("修复承诺", 2), ("去掉处罚", 2), ("撤掉", 1)),
    "grade": (("等级", 4), ("评级", 4), ("几级", 3), ("级别", 3), ("a级", 3), ("b级", 3), ("c级", 3), ("d级", 3),
              ("e级", 3), ("评分", 2.5), ("计分", 2.5), ("打分", 2.5), ("扣分", 2.5), ("加分", 2.5), ("评价结果", 2.5),
              ("信用评价", 2.5), ("分数", 2), ("评定", 1.5), ("优良中差", 3), ("几个档", 2), ("分级分类", 3),
              ("评先评优", 2.5), ("评优", 2), ("评价结果", 2), ("初评", 4), ("正式结果", 2.5)),
    "publication": (("公示期", 4), ("公示多久", 4), ("公示多长", 4), ("挂多久", 3), ("挂多长", 3), ("公示时间", 3),
                    ("公示期限", 4), ("展示多久", 3), ("显示多久", 3), ("多久消失", 3), ("多久撤", 3), ("撤下来", 2),
                    ("永久公示", 3), ("一直挂", 2.5), ("一直显示", 2.5), ("多久才能不显示", 3)),
    "inspection": (("双随机", 4), ("抽查", 3), ("抽检", 3), ("检查次数", 3), ("检查频次", 3), ("检查得多", 2),
                   ("多检查", 2.5), ("检查少", 2.5), ("少检查", 2.5), ("被检查", 2)),
    "disclosure": (("授权", 3.5), ("书面授权", 1), ("实名", 2.5), ("隐私", 2.5), ("个人信息", 2.5), ("信用报告", 2.5),
                   ("自己的记录", 3), ("自己的信用", 3), ("全部记录", 2), ("非公开", 3), ("不公开", 2.5), ("怎么查", 2.5),
                   ("在哪查", 2.5), ("哪里查", 2.5), ("怎么查询", 2.5), ("查询信用", 2.5), ("要登录", 2), ("身份证号", 1.5),
                   ("公开吗", 1.5), ("招聘", 1.5), ("泄露", 2.5), ("住址", 1), ("怎么搜", 2.5), ("信用档案", 2)),
    "qr": (("二维码", 4), ("身份牌", 4), ("扫码", 3), ("扫一扫", 3), ("扫描", 2)),
    "lists": (("红名单", 4), ("黑名单", 4), ("严重失信名单", 3), ("失信名单", 3), ("守信名单", 3), ("名单", 1),
              ("严重失信主体名单", 1), ("听证", 2), ("陈述申辩", 2), ("申辩", 1.5), ("告知书", 1.5)),
    # issue 16: commitments / self-declaration and early warning (portal.chatbot.supervision)
    "commitment": (("信用承诺", 4), ("承诺", 2.5), ("践诺", 4), ("违诺", 4), ("违反承诺", 4), ("自主申报", 5),
                   ("申报", 2), ("承诺书", 1)),
    "warning": (("信用预警", 5), ("预警", 4)),
    "general": (("信用信息", 2), ("失信信息", 2), ("增信", 2.5), ("守信信息", 2.5), ("基础信息", 2.5),
                ("信用档案", 1.5), ("什么是失信", 3), ("严重失信", 1.5), ("多久更新", 3), ("更新", 1.5), ("最新", 1.5),
                ("哪几类", 2), ("包括哪些", 1.5), ("算失信", 3), ("失信", 1), ("惩戒", 2), ("激励", 2), ("守信", 1)),
}
TOPIC_INTENT = {"objection": "objection", "repair": "repair", "grade": "grade"}

#: The grading cycle (初评 → 异议期 → 正式结果): an objection against a grade is not one against a
#: record (湖南医保 第十九条 and each profile's grading article; chatbot/grading.py answers it).
_GRADE_CUE = re.compile(r"初评|评级|等级|评价结果|评定结果|正式结果|评为[a-e]级|评了[a-e]级|评成[a-e]级")
_GRADE_OBJECTION = re.compile(r"异议|申诉|不服|有意见|不认可|不同意|不满意|不对|有误|错了|评错|评低|不合理|复核|冤")
_NOT_GRADE_OBJECTION = re.compile(r"名单|处罚|罚款|记录|修复")

_DOMAIN = re.compile(
    r"信用|异议|修复|等级|评级|处罚|公示|失信|守信|红名单|黑名单|名单|评价|双随机|抽查|二维码|身份牌|承诺|惩戒|激励|"
    r"许可|卫健|卫生健康|平台|授权|实名|查询|记录|更正|复核|罚款|违规|违法"
)

ASPECT_WORDS: dict[str, tuple[str, ...]] = {
    "when": ("多久可以申请", "多久能申请", "多久才能申请", "什么时候可以申请", "什么时候能申请", "多长时间后", "满多久",
             "最短公示", "多久以后", "多久之后", "过多久", "隔多久", "什么时候才能"),
    "time": ("多久", "多长时间", "几天", "时限", "期限", "多少天", "工作日", "多快", "要多少时间", "几个工作日", "啥时候",
             "什么时候出", "什么时候有结果", "多长"),
    "disagree": ("不服", "不满意", "复核", "驳回", "不成立", "不同意", "不认可结果", "不接受"),
    "materials": ("材料", "资料", "准备什么", "带什么", "提交什么", "需要什么", "要什么", "表格", "申请书", "证明", "承诺书"),
    "effects": ("修复后", "修复以后", "修复之后", "修复完", "修复成功", "修复了", "效果", "删除", "还能查到", "还显示",
                "还会显示", "删掉", "作用", "有什么用", "有啥用", "会怎样", "还公示", "还会公示", "继续公示", "停止公示",
                "移出", "还在名单", "调整等级", "等级会", "惩戒"),
    "refusals": ("不予修复", "不能修复", "不可以修复", "哪些不能", "什么情况不能", "拒绝修复", "不给修复"),
    "serious": ("严重失信", "黑名单", "严重失信名单"),
    "conditions": ("条件", "什么情况", "哪些情况", "能不能", "可不可以", "能否", "资格", "符合", "可以吗", "能吗", "可以提"),
    "how": ("怎么", "如何", "流程", "程序", "步骤", "怎样", "咋", "办理", "去哪", "哪里", "在哪", "手续", "方式"),
    "improve": ("提升", "提高", "升级", "变好", "评上", "降级", "被降", "降了"),
    "levels": ("几级", "哪些等级", "什么意思", "代表什么", "分几", "几个等级", "哪几个"),
    # what grades are used for (湖南 第十九–二十四条 …): before "improve" ("提高抽查比例")
    "uses": ("有什么用", "有啥用", "用途", "作用", "好处", "坏处", "影响", "用在", "应用", "激励", "惩戒", "评先", "评优",
             "许可", "审批", "抽查", "检查", "分级分类", "监管", "优先", "会怎样", "会怎么样", "后果", "限制", "简化",
             "财政", "补贴", "表彰", "有关系", "挂钩", "看等级", "看信用"),
}

# --- facilities -------------------------------------------------------------------------------------
FACILITY_SUFFIXES = tuple(sorted((
    "社区卫生服务中心", "社区卫生服务站", "妇幼保健计划生育服务中心", "妇幼保健院", "疾病预防控制中心", "中心血站",
    "卫生服务中心", "卫生院", "医院", "诊所", "门诊部", "门诊", "卫生室", "医务室", "大药房", "药店", "药房", "医药连锁",
    "保健院", "血站", "急救中心", "体检中心", "检验所", "检验中心", "口腔", "中医馆", "国医堂", "疗养院", "护理院",
    "康复中心", "宾馆", "大酒店", "酒店", "旅馆", "游泳馆", "游泳池", "浴场", "浴室", "足浴", "美容院", "美容店",
    "美发店", "理发店", "发廊", "美容美发", "有限公司", "公司", "厂", "医疗美容", "医美", "卫生监督所",
), key=len, reverse=True))
# "其" only as a pronoun: not 其他 / 其中 / 其实 / 其余 / 其次 / 尤其 ("其他等级呢" is not about "it")
_PRONOUN = re.compile(
    r"它|它们|这家|那家|该院|该机构|该单位|该医院|该诊所"
    r"|这个医院|这个诊所|这个机构|这个单位|他家|他们家|这所|那个医院|那个诊所|该店|这家店|(?<!尤)其(?![他中实余次])"
)
FACILITY_ASPECTS: dict[str, tuple[str, ...]] = {
    "grade": ("等级", "评级", "几级", "级别", "a级", "b级", "c级", "d级", "e级", "评价", "分数"),
    "penalty": ("处罚", "罚款", "罚过", "被罚", "罚", "失信", "违法", "违规", "黑名单", "不良", "被查", "问题", "处分",
                "吊销", "警告", "记录"),
    "positive": ("表彰", "奖励", "红名单", "荣誉", "增信", "好评", "表扬"),
    "licence": ("许可", "执业许可证", "许可证", "资质", "证照", "营业执照", "备案"),
}
_FACILITY_CUE = re.compile(
    r"等级|评级|几级|级别|处罚|罚|失信|违法|违规|信用|表彰|奖励|红名单|黑名单|许可|资质|怎么样|靠谱|正规|可靠|记录|问题|评价|查一下|查查|查询"
)
_GENERIC_QUESTION = re.compile(r"分几|几种|几类|哪些|什么是|什么叫|怎么|如何|为什么|是什么意思|定义|规定")
_LEAD_FILLER = re.compile(
    r"^(?:请问一下|请问|请帮我|帮我|麻烦你|麻烦|你好|您好|我想问一下|我想问|想问一下|想问|问一下|问下|我想知道|想知道|我想查一下|我想查|我要查|"
    r"查一下|查下|查查|查询一下|查询|搜索|搜一下|看一下|看看|了解一下|了解|那个|这个|关于|一下|那|就是|我想|我要|请|帮|,|，|\s)+"
)
_TAIL_WORDS = re.compile(
    r"(的)?(信用)?(等级|评级|级别|信用|处罚|罚款|情况|记录|信息|怎么样|如何|靠谱|正规|可靠|有没有|有无|吗|呢|嘛|啊|呀|是什么|是多少|几级|"
    r"是不是|有|被|过|的|了|么|什么|多少|是|还|都|表彰|奖励|许可|资质|问题|失信|违法|违规|红名单|黑名单|查询|评价|现在|最近|目前|\?|？|!|！|。|，|,|\s)*$"
)
_USCC_CANDIDATE = re.compile(r"(?<![0-9a-z])[0-9a-z]{18}(?![0-9a-z])")


@dataclass
class Intent:
    name: str
    topic: str = ""
    aspect: str = ""
    facility_query: str = ""  # name or code to look up
    facility_code: bool = False
    facility_from_context: bool = False
    facility_confident: bool = True  # False: a residual guess; fall back if nothing matches
    facility_aspect: str = "overview"
    on: date | None = None
    case: str = ""  # objection | repair | serious_list
    reason: str = ""  # refusal: injection | id_number | personal | non_public; greeting: empty
    medical: bool = False  # facility: "能去看病吗" (the answer adds: no medical advice)
    scores: dict[str, float] = field(default_factory=dict)


def _first_aspect(text: str, allowed: tuple[str, ...]) -> str:
    for aspect in allowed:
        if any(w in text for w in ASPECT_WORDS[aspect]):
            return aspect
    return ""


def aspect_of(text: str, topic: str) -> str:
    order = {
        "objection": ("disagree", "serious", "materials", "time", "conditions", "how"),
        "repair": ("refusals", "effects", "when", "serious", "materials", "time", "conditions", "how"),
        "grade": ("uses", "improve", "time", "how", "levels"),
    }.get(topic, ("time", "how"))
    if topic == "grade" and is_grade_objection(text):
        return "objection"
    if topic == "grade" and re.search(r"初评|正式结果", text) and not re.search(r"什么时候|啥时候|何时|哪天|几月", text):
        return "preliminary"
    if topic == "grade" and re.search(r"什么时候|啥时候|何时|哪天|每年|几月|多久评|公布", text):
        return "time"
    found = _first_aspect(text, order)
    if topic == "grade" and found == "how" and not any(w in text for w in ("怎么评", "如何评", "怎么算", "怎么计", "评的", "怎么来", "依据", "标准")):
        found = "levels"
    if topic == "grade" and found == "time" and not any(w in text for w in ("什么时候", "啥时候", "何时", "哪天", "每年")):
        found = "levels"
    return found


def is_grade_objection(text: str) -> bool:
    """"对评级结果有异议怎么办", "初评不对": an objection against a grade, not a record."""
    return bool(_GRADE_CUE.search(text) and _GRADE_OBJECTION.search(text) and not _NOT_GRADE_OBJECTION.search(text))


def topic_scores(text: str) -> dict[str, float]:
    scores: dict[str, float] = {}
    for topic, words in TOPIC_WORDS.items():
        total = sum(w for phrase, w in words if fuzzy_contains(text, phrase))
        if total:
            scores[topic] = total
    return scores


# --- dates --------------------------------------------------------------------------------------
_CN = "零〇一二三四五六七八九十两"
_FULL_DATE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*[日号]?")
_MONTH_DAY = re.compile(rf"(?<![\d年])([\d{_CN}]{{1,3}})\s*月\s*([\d{_CN}]{{1,3}})\s*[日号]?")
_SLASH_DATE = re.compile(r"(?<![\d/.-])(\d{1,2})[/.](\d{1,2})(?![\d/.-])")
_DAY_ONLY = re.compile(rf"(?:本月|这个月|上个月|上月)([\d{_CN}]{{1,3}})\s*[日号]")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_RELATIVE_WEEK = re.compile(r"(上|这|本|下)(?:个)?(?:周|星期|礼拜)([一二三四五六日天])")
_FUTURE = re.compile(r"打算|准备|将要|如果|假如|要是|下周|下个月|下月|明天|后天|将")


def parse_date(text: str, today: date) -> date | None:
    """The first date in the question: 2026年3月2日, 2026-03-02, 3月2日, 三月二号, 3/2, 今天,
    昨天, 前天, 上周五 … A date without a year is this year's, or last year's when that would
    lie in the future and the question speaks of the past ("我3月2日交的")."""
    if m := _FULL_DATE.search(text):
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    month = day = None
    if m := _MONTH_DAY.search(text):
        try:
            month, day = cn_number(m.group(1)), cn_number(m.group(2))
        except ValueError:
            month = None
    elif m := _DAY_ONLY.search(text):
        try:
            day = cn_number(m.group(1))
        except ValueError:
            day = None
        if day:
            ref = today.replace(day=1) - timedelta(days=1) if m.group(0).startswith("上") else today
            month = ref.month
            try:
                return date(ref.year, ref.month, day)
            except ValueError:
                return None
    elif (m := _SLASH_DATE.search(text)) and re.search(r"交|提|申请|递|收到|受理", text):
        month, day = int(m.group(1)), int(m.group(2))
    if month and day:
        try:
            found = date(today.year, month, day)
        except ValueError:
            return None
        if found > today and not _FUTURE.search(text):
            try:
                found = date(today.year - 1, month, day)
            except ValueError:
                return None
        return found
    for word, delta in (("大前天", 3), ("前天", 2), ("昨天", 1), ("昨日", 1), ("今天", 0), ("今日", 0), ("明天", -1),
                        ("后天", -2)):
        if word in text:
            return today - timedelta(days=delta)
    if m := _RELATIVE_WEEK.search(text):
        monday = today - timedelta(days=today.weekday())
        shift = {"上": -7, "这": 0, "本": 0, "下": 7}[m.group(1)]
        return monday + timedelta(days=shift + _WEEKDAYS[m.group(2)])
    return None


_DEADLINE_CUE = re.compile(r"什么时候|啥时候|哪天|几号|截止|到期|出结果|有结果|答复|回复|最晚|最迟|期限|多久|几天|办结|处理完|结果")
_SUBMITTED = re.compile(r"交|提|申请|递|收到|受理|报|送")


def case_of(text: str) -> str:
    if "初评" in text or is_grade_objection(text):
        return "grade"  # the objection window against a preliminary grade
    if "异议" in text and re.search(r"严重失信(主体)?名单|黑名单|列入.{0,4}名单", text):
        return "serious_list"
    if "异议" in text or "申诉" in text:
        return "objection"
    if "修复" in text:
        return "repair"
    return ""


# --- facility names ---------------------------------------------------------------------------------
def _strip_lead(text: str) -> str:
    return _LEAD_FILLER.sub("", text)


_NOT_A_NAME = frozenset("我们 我 你们 他们 咱们 本 这家 那家 这个 那个 一家 一个 哪家 哪个 某 某个 某家 某某 各 各个 各家 所有 全部 有的 有些 "
                        "民营 公立 私立 私人 大 小 附近 周边 当地 本地 乡镇 乡 村 社区 县 市 省 区 我家 我们家 他家 定点 "
                        "我们单位 我们这 我们的 我的 二级 三级 一级 三甲 二甲".split())


_BEFORE_NAME = ("的", "是", "在", "去", "到", "跟", "与", "查", "问", "看", "说", "给", "对", "把", "被", "一家", "这家", "那家",
                "某家", "哪家", "一个", "这个", "那个", "投诉", "举报", "关于", "请问", "知道")


def facility_name(text: str) -> str:
    """A facility name ending in a known suffix (…医院, …诊所, …有限公司), stripped of the
    question around it: "请问湘雅医院是什么等级" → "湘雅医院"."""
    body = _strip_lead(text)
    best = ""
    for suffix in FACILITY_SUFFIXES:
        for m in re.finditer(re.escape(suffix), body):
            end = m.end()
            # extend over a longer suffix glued on (…医院有限公司)
            start = end - len(suffix)
            i = start
            while i > 0 and (is_cjk(body[i - 1]) or body[i - 1].isalnum() or body[i - 1] in "()（）·-"):
                i -= 1
            candidate = _strip_lead(body[i:end])
            owner = candidate[: len(candidate) - len(suffix)]
            # the name starts after the last word that cannot be part of one ("投诉一家诊所")
            cut = max((owner.rfind(m) + len(m) for m in _BEFORE_NAME if m in owner), default=0)
            owner = owner[cut:]
            candidate = owner + suffix
            if len(owner) < 2 or owner in _NOT_A_NAME or re.fullmatch(r"[一两几某哪那这该本我你他她它]+[家个所间]?", owner):
                continue
            if len(candidate) > len(suffix) and len(candidate) > len(best):
                best = candidate
    return best


def residual_name(text: str) -> str:
    """What is left of a facility-style question when question words are removed
    ("湘雅是什么等级" → "湘雅"); only a guess, used when a search confirms it."""
    body = _strip_lead(text)
    body = _TAIL_WORDS.sub("", body)
    body = re.split(r"[的是有被吗呢?？,，。!！]", body, maxsplit=1)[0] if body else ""
    body = _strip_lead(body)
    cjk = sum(1 for c in body if is_cjk(c))
    if cjk < 2 or len(body) > 30:
        return ""
    if body in FACILITY_SUFFIXES or body in _NOT_A_NAME or body in ("机构", "单位", "医疗机构", "卫生机构"):
        return ""
    if _DOMAIN.fullmatch(body) or body in ("信用", "等级", "机构", "单位", "医疗机构", "处罚", "我们", "我", "你们", "这里"):
        return ""
    return body


def facility_aspect(text: str) -> str:
    for aspect in ("penalty", "grade", "positive", "licence"):
        if any(w in text for w in FACILITY_ASPECTS[aspect]):
            return aspect
    return "overview"


# --- the classifier ---------------------------------------------------------------------------------
#: Policy questions that can look like a bare facility follow-up ("评优看等级吗" after a facility
#: question): what grades are used for, what a repair changes. Never answered with a record.
_POLICY_CUE = re.compile(
    r"有什么用|有啥用|用途|作用|好处|坏处|影响|用在|应用|激励|惩戒|评先|评优|行政许可|审批|抽查|分级分类|监管|优先"
    r"|修复|异议|公示期|移出|会怎样|会怎么样|后果|其他|别的|一般|规定|政策"
)


def classify(text: str, *, today: date, context_topic: str = "", has_context_facility: bool = False) -> Intent:
    """``text`` is the normalised question (``normalise``). The order is the policy (module doc)."""
    if not meaningful(text):
        return Intent("greeting", reason="empty")
    if (refusal := _refusal(text)) is not None:
        return refusal
    if is_foreign(text) and not (_GREETING.fullmatch(text) or len(text) <= 3):
        return Intent("foreign_language")
    if _HANDOFF.search(text):
        return Intent("handoff")
    scores = topic_scores(text)
    if (deadline := _deadline(text, today, context_topic, scores)) is not None:
        return deadline
    if _GO_THERE.search(text) and (name := facility_name(text)):
        return Intent("facility", facility_query=name, medical=True, scores=scores)
    if _OFF_TOPIC.search(text) and not _DOMAIN.search(text):
        return Intent("out_of_scope")
    fee = bool(_FEE.search(text))
    if (facility := _facility(text, scores, fee, has_context_facility)) is not None:
        return facility
    if fee:
        return Intent("fee", topic="fee", scores=scores)
    return _topic(text, scores, context_topic)


def _refusal(text: str) -> Intent | None:
    """Requests for personal or non-public data and prompt injection, before anything is looked up."""
    if _INJECTION.search(text):
        return Intent("refusal", reason="injection")
    # an identity number in the question: never look anyone up by it
    for m in _RESIDENT_ID.finditer(text):
        if classify_code(m.group(0)) == "resident_id" or len(m.group(0)) == 15 or m.group(0)[:17].isdigit():
            if classify_code(m.group(0)) != "uscc":
                return Intent("refusal", reason="id_number")
    if _MOBILE.search(text) and _REQUEST.search(text):
        return Intent("refusal", reason="personal")
    handoff = bool(_HANDOFF.search(text))
    third_party = not _SELF.search(text) or _THIRD.search(text.replace("其他", ""))
    if _PERSONAL.search(text) and not _PERSONAL_POLICY.search(text) and _REQUEST.search(text) and not handoff:
        if third_party:
            return Intent("refusal", reason="personal")
    if _NON_PUBLIC.search(text) and _REQUEST.search(text) and not _PERSONAL_POLICY.search(text) and third_party:
        return Intent("refusal", reason="non_public")
    return None


def _deadline(text: str, today: date, context_topic: str, scores: dict[str, float]) -> Intent | None:
    """A date with a case type (or a case in the conversation) is a deadline question."""
    on = parse_date(text, today)
    if on is None:
        return None
    case = case_of(text)
    if not case and context_topic in ("objection", "repair") and _DEADLINE_CUE.search(text):
        case = context_topic
    if case and (_DEADLINE_CUE.search(text) or _SUBMITTED.search(text)):
        topic = {"serious_list": "objection", "grade": "grade"}.get(case, case)
        return Intent("deadline", topic=topic, on=on, case=case,
                      scores=scores)
    return None


_FEE = re.compile(r"收费|收钱|要钱|花钱|交钱|付费|费用|多少钱|免费|付钱|给钱|掏钱|代办|中介|手续费|工本费|缴费|交费|缴纳|收取")


def _facility(text: str, scores: dict[str, float], fee: bool, has_context_facility: bool) -> Intent | None:
    """A credit code, a name with a known suffix, or "it" with a facility in the conversation."""
    aspect = facility_aspect(text)
    for m in _USCC_CANDIDATE.finditer(text):
        code = m.group(0).upper()
        if classify_code(code) == "uscc" or (any(c.isdigit() for c in code) and any(c.isalpha() for c in code)) \
                or code.isdigit():
            # a valid code, or something shaped like one: the composer says which
            return Intent("facility", facility_query=code, facility_code=True, facility_aspect=aspect, scores=scores)
    strong_topic = max((v for k, v in scores.items() if k in ("objection", "repair", "qr")), default=0)
    if strong_topic >= 4 or fee:
        return None
    if name := facility_name(text):
        return Intent("facility", facility_query=name, facility_aspect=aspect, scores=scores)
    if has_context_facility and not _POLICY_CUE.search(text):
        # "它有处罚吗", or a bare follow-up such as "有处罚吗" / "那等级呢" (not "失信分几种")
        bare = (aspect != "overview" and not _GENERIC_QUESTION.search(text)
                and (len(text) <= 6 or re.match(r"^(那|那么|还有|再问|另外)", text) and len(text) <= 10))
        if _PRONOUN.search(text) or bare:
            return Intent("facility", facility_from_context=True, facility_aspect=aspect, scores=scores)
    return None


def _topic(text: str, scores: dict[str, float], context_topic: str) -> Intent:
    """Topics by weighted keywords (a residual facility-name guess first); follow-ups; greetings."""
    if is_grade_objection(text) or (context_topic == "grade" and len(text) <= 12 and re.match(r"^(那|那么|如果|要是)", text)
                                    and _GRADE_OBJECTION.search(text) and not _NOT_GRADE_OBJECTION.search(text)):
        return Intent("grade", topic="grade", aspect="objection", scores=scores)  # "那有异议怎么办" after a grade question
    guess = ""
    strong_topic = max((v for k, v in scores.items() if k in ("objection", "repair", "qr")), default=0)
    if _FACILITY_CUE.search(text) and strong_topic < 4 and "公示" not in text and not _POLICY_CUE.search(text):
        guess = residual_name(text)
    if guess:
        topic = max(scores, key=lambda k: (scores[k], k == context_topic)) if scores else ""
        return Intent("facility", facility_query=guess, facility_confident=False, facility_aspect=facility_aspect(text),
                      topic=topic, aspect=aspect_of(text, topic) if topic else "", scores=scores)
    if scores:
        topic = max(scores, key=lambda k: (scores[k], k == context_topic))
        if topic != "repair" and scores.get("repair", 0) >= 4 and aspect_of(text, "repair") == "effects":
            topic = "repair"  # "修复后等级会调整吗" asks what a repair changes, not about grades
        return Intent(TOPIC_INTENT.get(topic, "policy"), topic=topic, aspect=aspect_of(text, topic), scores=scores)
    # follow-ups without a topic word: "那要多久", "需要什么材料"
    if context_topic in ("objection", "repair", "grade") and len(text) <= 16:
        if aspect := aspect_of(text, context_topic):
            return Intent(TOPIC_INTENT[context_topic], topic=context_topic, aspect=aspect, scores=scores)
    if _GREETING.search(text) and len(text) <= 20:
        return Intent("greeting", scores=scores)
    # (an off-topic check here could never be true: classify() returned out_of_scope earlier for
    # the same text; it was removed, issue #10 item 7.)
    return Intent("policy", scores=scores)  # the composer decides by retrieval score
