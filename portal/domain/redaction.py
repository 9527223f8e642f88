"""Redaction of other people's personal data in the free text of public records.

DOMAIN.md "Disclosure": public pages hide natural persons' home addresses and health data and
the names of people other than the party; information about minors is not published. A record's
title and content are written by staff, often from a decision that names a patient or a
complainant. What cannot be recognised by a check digit (``identifiers.scrub_personal_data``
does the numbers) is recognised here by the words around it, the way 行政处罚决定书 are
anonymised by hand: 患者王小明 → 患者王某, 住长沙市…号 → 住（已隐去）, 诊断为… → 诊断为（已隐去）,
（男，9岁 → （男，（年龄已隐去）.

Rules, not understanding: a name that follows no role word stays, and a role word followed by
an ordinary noun (患者安全, 投诉人数) is left alone by the guard lists below. Staff remain
responsible for what they publish; these rules catch the usual forms.
"""
from __future__ import annotations

import re

# People other than the party (当事人 is the party itself, and 法定代表人 is public: not here).
_ROLES = ("患者", "患儿", "病人", "病员", "投诉人", "举报人", "联系人", "家属", "就诊者", "就诊人", "受害人",
          "证人", "死者", "伤者", "产妇", "孕妇", "患者家属", "受检者", "求美者")
# Words that follow a role word without being a name.
_NOT_NAMES = ("安全", "隐私", "信息", "病历", "知情", "权益", "身份", "资料", "健康", "就诊", "治疗", "用药",
              "诊疗", "数据", "费用", "满意", "投诉", "举报", "告知", "同意", "人数", "名单", "姓名", "家属",
              "服务", "管理", "病情", "生命", "利益", "合法", "需求", "体验", "意见", "隐患", "转诊", "检查",
              "手术", "死亡", "伤亡", "住院", "门诊", "的", "及", "和", "与", "等", "或", "在", "均", "都",
              "提供", "进行", "出现", "使用", "发生", "反映", "称", "人", "多", "数", "一", "二", "两", "三",
              "各", "其", "该", "本", "此", "某", "们", "群", "方")
# Where a name ends: what commonly follows a name in a decision.
_AFTER_NAME = ("反映", "投诉", "举报", "称", "于", "在", "因", "到", "的", "等", "和", "及", "与", "被", "向",
               "对", "将", "从", "经", "已", "未", "系", "是", "为", "就", "所", "之", "家", "住", "男", "女")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"

_ROLE_NAME = re.compile(rf"(?P<role>{'|'.join(sorted(_ROLES, key=len, reverse=True))})(?P<sep>[:：]?)"
                        rf"(?P<name>[{_CJK}]{{2,12}})")
_ADDRESS = re.compile(r"(?P<kw>家住|家庭住址[:：为]?|住址[:：为]?|现住址?[:：]?|居住于|居住在|户籍地址?[:：为]?|"
                      r"(?<=[，,（(、；;\s])住)(?P<addr>[^，,。；;）)\s]{4,80})")
_HEALTH = re.compile(r"(?P<kw>诊断为|确诊为|被诊断为|患有|病史[:：为]?)(?P<h>[^，,。；;）)\s]{1,60})")
_AGE = re.compile(rf"(?P<pre>[男女][，,、\s]\s*|(?:{'|'.join(_ROLES)})[，,、（(\s]?\s*)(?P<age>\d{{1,3}}(?:周岁|岁))")

HIDDEN = "（已隐去）"


def _name_end(name: str) -> int:
    """How much of a CJK run after a role word is the name (2–3 characters, or up to the first
    word that commonly follows a name)."""
    for k in range(2, min(len(name), 4) + 1):
        if k < len(name) and name[k:].startswith(_AFTER_NAME):
            return k
    return min(len(name), 3)


def _role_name(m: re.Match[str]) -> str:
    name = m.group("name")
    if name.startswith(_NOT_NAMES) or name.startswith(_ROLES):
        return m.group(0)
    k = _name_end(name)
    return f"{m.group('role')}{m.group('sep')}{name[0]}某{name[k:]}"


def scrub_people(text: str) -> str:
    """Other people's names after a role word, home addresses, health data and ages, masked."""
    if not text:
        return ""
    text = _ROLE_NAME.sub(_role_name, text)
    text = _ADDRESS.sub(lambda m: m.group("kw") + HIDDEN, text)
    text = _HEALTH.sub(lambda m: m.group("kw") + HIDDEN, text)
    return _AGE.sub(lambda m: m.group("pre") + "（年龄已隐去）", text)
