"""Redaction of other people's personal data in the free text of records.

DOMAIN.md "Disclosure"; 湖南 第四条, 海南 第五条, 阳山 四（七）: public pages hide natural
persons' home addresses and health data and the names of people other than the party;
information about minors is not published. A record's title and content are written by staff,
often from a decision that names a patient or a complainant. What cannot be recognised by a
check digit (``identifiers.scrub_personal_data`` does the numbers) is recognised here by the
words around it, the way 行政处罚决定书 are anonymised by hand: 患者王小明 → 患者王某,
住长沙市…号 → 住（已隐去）, 诊断为… → 诊断为（已隐去）, 患者张某系艾滋病病毒感染者 →
患者张某系（已隐去）, （男，9岁 → （男，（年龄已隐去）.

Rules, not understanding:
- a name is masked only after a role word (患者, 投诉人, 现场负责人, 患者家属, 患者之女 …) and
  only when it starts with a Chinese surname; 患者安全, 投诉人数, 工作人员将… are left alone;
- a sensitive health term (HIV, 梅毒, 乙肝, 精神分裂症, 怀孕 …) is masked when the same clause
  names a person (王某, 患者张某, 其, 一名, 患者HIV…) *and* ties the term to that person (系, 患,
  感染, 携带, 确诊, …阳性, …感染者, …病史); "未按规定开展艾滋病检测" and "为艾滋病患者提供免费
  治疗" speak of a service, not of a person, and stay;
- an organisation's registered seat (住所) stays, a person's (``party_is_person``) does not.
Staff remain responsible for what they publish; these rules catch the usual forms.
"""
from __future__ import annotations

import re

HIDDEN = "（已隐去）"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"

# People other than the party (当事人 is the party itself, and 法定代表人（负责人） is public
# registration data of an organisation: neither is here).
_ROLES = ("患者", "患儿", "病人", "病员", "病患", "投诉人", "举报人", "检举人", "申诉人", "反映人", "来访人",
          "联系人", "家属", "亲属", "就诊者", "就诊人", "就医者", "受害人", "证人", "死者", "伤者", "产妇", "孕妇",
          "受检者", "求美者", "受种者", "接种者", "献血者", "服务对象", "消费者", "顾客", "监护人",
          "现场负责人", "工作人员", "从业人员", "陪护人员", "护工")
# Kin of a role: 患者家属张三, 死者的家属张三, 患者之女张三.
_KIN = r"(?:的?(?:家属|亲属|丈夫|妻子|女儿|儿子|父亲|母亲|监护人)|之(?:女|子|父|母|妻|夫))"
# Words that follow a role word without being a name.
_NOT_NAMES = ("安全", "隐私", "信息", "病历", "知情", "权益", "身份", "资料", "健康", "就诊", "治疗", "用药",
              "诊疗", "数据", "费用", "满意", "投诉", "举报", "告知", "同意", "人数", "名单", "姓名", "家属",
              "服务", "管理", "病情", "生命", "利益", "合法", "需求", "体验", "意见", "隐患", "转诊", "检查",
              "手术", "死亡", "伤亡", "住院", "门诊", "提供", "进行", "出现", "使用", "发生", "反映", "称",
              "人", "多", "数", "一", "二", "两", "三", "各", "其", "该", "本", "此", "某", "们", "群", "方",
              "的", "及", "和", "与", "等", "或", "在", "均", "都", "未", "已", "经", "于", "向", "对", "由",
              "将", "被", "从", "为", "因", "系", "是", "所", "无", "有", "不", "非", "共", "中", "时", "后",
              "前", "以", "并", "且", "也", "又", "还", "再", "仍", "应", "须", "要", "可", "能", "会", "自",
              "个人", "私自", "擅自", "违规", "违反", "超范围", "资格", "资质", "培训", "健康证", "持证",
              "上岗", "未经", "无证", "工作", "执业", "考核", "证明", "证书")
# Where a name ends: what commonly follows a name in a decision.
_AFTER_NAME = ("反映", "投诉", "举报", "称", "于", "在", "因", "到", "的", "等", "和", "及", "与", "被", "向",
               "对", "将", "从", "经", "已", "未", "系", "是", "为", "就", "所", "之", "家", "住", "男", "女",
               "本人", "自", "曾", "也", "又", "还", "并", "均", "以", "由", "通过", "提出", "要求", "表示",
               "入院", "就医", "来院", "到院", "死亡", "签字", "签名", "陈述", "证实", "承认")
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
                      "夏侯", "令狐", "钟离", "端木", "独孤", "南宫", "西门", "轩辕", "呼延", "闻人", "澹台", "赫连",
                      "申屠", "东郭", "百里", "万俟")
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向"
    "汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单"
    "季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄"
    "窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查"
    "麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴"
    "盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊乌母裘亓修邰赫杭况"
    "那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
    "洪")
# Surnames that are also everyday words (投诉人向卫生部门举报, 患者和家属): a name only when it ends
# where a name ends (投诉人高红反映).
_AMBIGUOUS = frozenset("于和向成时全明原国平计相初门来都由但信利公海花强云容敬乐高安常文方金白江万严康施齐"
                       "易关包宁尚单管解车连费冷席应师商封谈惠满区权练支宣修居干元衣展富伏盖左同多")
_ANONYMISED = "某XxＸ×*＊○〇"

_ROLE = re.compile(rf"(?:{'|'.join(sorted(_ROLES, key=len, reverse=True))}){_KIN}*[:：]?\s?")
_RUN = re.compile(rf"[{_CJK}]{{2,12}}")

# Addresses. A bare 住 (…，住长沙市…) only when an address follows: not 住院, 住宿, 住所 (an
# organisation's registered seat, unless the party is a person).
_ADDRESS_KW = (r"家住|家庭住址[:：为]?|住址[:：为]?|现住址?[:：]?|居住于|居住在|户籍地址?[:：为]?|户籍所在地[:：为]?|"
               r"(?<=[，,（(、；;\s])住(?![所院宿房店])")
_ADDRESS = re.compile(rf"(?P<kw>{_ADDRESS_KW})(?P<addr>[^，,。；;）)\s\ue000-\uf8ff]{{4,80}})")
_PERSON_SEAT = re.compile(r"(?P<kw>住所(?:地)?[:：为]?)(?P<addr>[^，,。；;）)\s\ue000-\uf8ff]{4,80})")
_PLACE = re.compile(r"[省市县区镇乡村路街道巷弄号栋幢楼室组屯寨]")

_HEALTH = re.compile(r"(?P<kw>诊断为|确诊为|被诊断为|诊断结果为|患有|罹患|病史[:：为]?|既往史[:：]?)"
                     r"(?P<h>[^，,。；;）)\s\ue000-\uf8ff]{1,60})")
_AGE = re.compile(rf"(?P<pre>[男女][，,、\s]\s*|(?:{'|'.join(_ROLES)})[，,、（(\s]?\s*)(?P<age>\d{{1,3}}(?:周岁|岁))")

# Sensitive health terms (卫生健康 special categories: infectious disease status, mental health,
# reproductive health, addiction). Longer forms first.
_TERMS = ("人类免疫缺陷病毒", "艾滋病病毒", "艾滋病", "HIV", "AIDS", "梅毒", "淋病", "性病", "性传播疾病", "尖锐湿疣",
          "生殖器疱疹", "乙型病毒性肝炎", "乙型肝炎", "乙肝", "丙型肝炎", "丙肝", "病毒性肝炎", "肺结核", "结核病",
          "结核", "麻风病", "精神分裂症", "精神疾病", "精神病", "精神障碍", "抑郁症", "双相情感障碍", "癫痫",
          "吸毒", "药物依赖", "不孕不育", "不孕症", "怀孕", "妊娠", "人工流产", "流产", "引产", "癌症", "白血病",
          "恶性肿瘤")
_TERM = re.compile(rf"(?:{'|'.join(_TERMS)})(?:病毒)?(?:抗体)?"
                   r"(?:阳性|感染者|携带者|患者|病人|病史|\d+\s*(?:周|个月|天))?", re.IGNORECASE)
# A term tied to a person: a status after it, or a linking verb in the clause.
_STATUS_AFTER = re.compile(r"^(?:病毒)?(?:抗体)?(?:阳性|感染者|携带者|患者|病人|病史|\d+\s*(?:周|个月|天))", re.IGNORECASE)
_LINK = re.compile(r"系|是|患|感染|携带|确诊|诊断|检出|查出|阳性|病史|发作|复发|入院|住院|怀孕|妊娠|流产|引产|吸毒")
# Someone is named in the clause: an (anonymised) name, a pronoun or a counted person, or a
# role word right before the term (患者HIV阳性).
_SURNAME_CLASS = "".join(sorted(_SURNAMES))
_PERSON_REF = re.compile(rf"[{_SURNAME_CLASS}](?:某|[{_CJK}]某)|其|本人|一名|该名|该患者|该患儿|"
                         rf"(?:{'|'.join(_ROLES)})(?={'|'.join(_TERMS)})", re.IGNORECASE)
_CLAUSE = re.compile(r"[^，,。；;！!？?\n]+")


def _name_length(run: str) -> tuple[int, bool]:
    """How much of a CJK run after a role word is a name, and whether it is anonymised already
    (王某, 李某某); ``(0, False)`` when the run does not start with a name."""
    if run.startswith(_NOT_NAMES) or run.startswith(_ROLES):
        return 0, False
    if run[:2] in _COMPOUND_SURNAMES:
        s = 2
    elif run[0] in _SURNAMES:
        s = 1
    else:
        return 0, False
    if len(run) <= s:
        return 0, False
    if run[s] in _ANONYMISED:
        k = s
        while k < len(run) and run[k] in _ANONYMISED:
            k += 1
        return k, True
    for k in range(s + 1, s + 3):
        if k == len(run) or run[k:].startswith(_AFTER_NAME):
            return k, False
    if run[0] in _AMBIGUOUS:  # no place where a name would end: an everyday word
        return 0, False
    return min(len(run), s + 2), False


def _mask_names(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _ROLE.finditer(text):
        if m.start() < pos:
            continue
        i = m.end()
        while True:  # 患者张三、李四
            run = _RUN.match(text, i)
            if not run:
                break
            k, done = _name_length(run.group(0))
            if not k:
                break
            name = run.group(0)[:k]
            surname = name[:2] if name[:2] in _COMPOUND_SURNAMES else name[0]
            out.append(text[pos:i])
            out.append(name if done else surname + "某")
            pos = i + k
            if not text.startswith("、", pos):
                break
            i = pos + 1
    out.append(text[pos:])
    return "".join(out)


def _mask_address(m: re.Match[str]) -> str:
    if m.group("kw").startswith("住") and len(m.group("kw")) == 1 and not _PLACE.search(m.group("addr")):
        return m.group(0)
    return m.group("kw") + HIDDEN


def _mask_terms(clause: str) -> str:
    if not _PERSON_REF.search(clause):
        return clause

    def one(m: re.Match[str]) -> str:
        tied = _STATUS_AFTER.match(m.group(0)[len(_TERM_HEAD.match(m.group(0)).group(0)):]) or _LINK.search(clause)
        return HIDDEN if tied else m.group(0)

    return _TERM.sub(one, clause)


_TERM_HEAD = re.compile(rf"(?:{'|'.join(_TERMS)})", re.IGNORECASE)


def scrub_people(text: str, party_is_person: bool = False) -> str:
    """Other people's names after a role word, home addresses, health data and ages, masked.

    ``party_is_person``: the record is about a natural person, whose 住所 is a home address
    (an organisation's 住所 is its public registered seat).
    """
    if not text:
        return ""
    text = _mask_names(text)
    text = _ADDRESS.sub(_mask_address, text)
    if party_is_person:
        text = _PERSON_SEAT.sub(lambda m: m.group("kw") + HIDDEN, text)
    text = _HEALTH.sub(lambda m: m.group("kw") + HIDDEN, text)
    text = _CLAUSE.sub(lambda m: _mask_terms(m.group(0)), text)
    return _AGE.sub(lambda m: m.group("pre") + "（年龄已隐去）", text)
