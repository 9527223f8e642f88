"""Deterministic synthetic credit data for demos, tests and load tests. Pure: no DB, no Flask.

``iter_subjects(regions, n, seed, today, authority)`` yields ``(subject, records)`` one subject at
a time (streaming: memory is a few sets of used names and codes); ``generate(...)`` collects the
same stream into a :class:`DemoData`. The same arguments always give the same output.

Everything is synthetic: names are random combinations of the parts in ``names.py``, codes are
random digits with valid check characters (USCC GB 32100 with a GB 11714 organisation code,
resident ID GB 11643). The shapes follow DOMAIN.md: subject categories (湖南 第十六条, 阳山 三),
information classes (湖南 第十一–十五条), dishonesty levels (海南 第十四条), disclosure scopes
(海南 第二十三条), commitment kinds (海南 第十条), red and black lists (淮安 三(一)), publication
windows by tier (国办发〔2025〕22号: 轻微 ≤ 3 months, 一般 3–12 months, 严重 1–3 years) and repaired
records that stay on file (湖南 第三十一条).

Run ``python -m portal.demo.generator [n]`` to print counts and the generation rate.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from stdnum.cn import ric, uscc

from ..domain.vocab import CATEGORIES, RECORD_TYPES, InfoClass, SubjectKind
from ..domain.windows import add_months
from . import names as N
from . import org_names

__all__ = [
    "DemoData", "EMPLOYER_CATEGORIES", "LOOKBACK_DAYS", "TIER_MONTHS", "add_months", "generate",
    "gb11714_check_char", "iter_subjects",
]

LOOKBACK_DAYS = 4 * 365  # decided dates of records spread over the last four years
ORG_SHARE = 0.70
ORG_MIX = (  # share of organisations, per cent
    ("clinic", 29.0), ("pharmacy", 23.0), ("hospital", 5.0), ("hotel", 14.0), ("beauty_salon", 15.0),
    ("bathhouse", 5.0), ("swimming_pool", 6.5), ("disinfection_maker", 1.0), ("water_product_maker", 0.7),
    ("tableware_disinfection", 0.6), ("blood_station", 0.2),
)
PERSON_MIX = (("doctor", 50.0), ("nurse", 35.0), ("pharmacist", 15.0))
# Where people work: category -> ((employer category, weight), ...)
EMPLOYER_CATEGORIES: dict[str, tuple[tuple[str, float], ...]] = {
    "doctor": (("hospital", 0.65), ("clinic", 0.35)),
    "nurse": (("hospital", 0.80), ("clinic", 0.20)),
    "pharmacist": (("pharmacy", 0.75), ("hospital", 0.25)),
}
# Publication windows in calendar months by severity tier (国办发〔2025〕22号); the window ends the
# day before the month anniversary, so it never exceeds the tier's maximum.
TIER_MONTHS = {"minor": ((1, 1), (2, 1), (3, 6)), "general": ((4, 1), (6, 4), (12, 3)),
               "serious": ((18, 1), (24, 2), (36, 3))}
TIER_LIMITS = {"minor": (0, 3), "general": (3, 12), "serious": (12, 36)}  # months, for callers/tests

PUBLIC_PLACES = ("hotel", "swimming_pool", "bathhouse", "beauty_salon")
MEDICAL = ("hospital", "clinic")
_DISHONEST = (InfoClass.DISHONEST, InfoClass.SERIOUS)
_CN_DIGITS = "〇一二三四五六七八九"

# ---------------------------------------------------------------------------------------------
# check characters


def gb11714_check_char(body: str) -> str:
    """GB 11714 organisation code check character for the 8-character body (digits / A–Z)."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=False))
    d = 11 - total % 11
    return "X" if d == 10 else "0" if d == 11 else str(d)




def _medical_class(name: str) -> str:
    """Institution class code (卫生机构分类代码, WS 218) as used in 医疗机构执业许可证 登记号."""
    for marker, klass in (("中医医院", "A210"), ("妇幼", "L100"), ("卫生院", "C100"), ("社区卫生服务", "B200"),
                          ("门诊部", "D100"), ("中医诊所", "D212"), ("口腔诊所", "D230"), ("诊所", "D211")):
        if marker in name:
            return klass
    for spec, klass in N.HOSPITAL_SPECIALTIES:
        if spec in name:
            return klass
    return "A100"


def _nth_shop(k: int) -> str:
    """Branch suffix for shop names: 二店, 三店, ... (k >= 2)."""
    return f"{_CN_DIGITS[k] if k < 10 else k}店"


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# ---------------------------------------------------------------------------------------------
# regions


@dataclass(frozen=True)
class _Region:
    code: str
    name: str
    city: str
    city_stem: str
    local: str  # how local bodies are named: "长沙市芙蓉区", but "湘乡市", "阳山县"
    stem: str  # district without 区/县/市
    prov: str  # province abbreviation for document numbers
    dhead: str  # document-number head of the district: province + district abbreviation ("湘芙")
    chead: str  # and of the city ("湘长")
    area_code: str
    district_authority: str
    city_authority: str
    enforcement: str
    court: str
    market: str

    @classmethod
    def build(cls, code: str, name: str, city: str | None, authority_name: str) -> _Region:
        if len(code) != 6 or not code.isdigit():
            raise ValueError(f"region code must be 6 digits: {code!r}")
        if city is None:
            city = N.CITIES.get(code[:4], "")
        if city and name.startswith(city):  # e.g. ("469002", "琼海市") given as its own city
            city = ""
        stem = name[:-1] if len(name) > 2 and name[-1] in "区县市旗" else name
        city_stem = city.removesuffix("市") if city.endswith("市") else city[:2]
        prov = N.PROVINCE_ABBR.get(code[:2], "")
        cabbr = N.CITY_ABBR.get(city) or (city_stem[:2] if city_stem[:1] == prov else city_stem[:1]) or stem[:1]
        dabbr = stem[:2] if stem[:1] == prov else stem[:1]  # 湘乡市 -> "湘乡"
        county_city = not city  # a county-level unit directly under the province
        local = f"{city}{name}" if name.endswith("区") else name
        district_authority = f"{name}卫生健康委员会" if county_city else f"{local}卫生健康局"
        return cls(
            code=code, name=name, city=city, city_stem=city_stem or stem, local=local, stem=stem, prov=prov,
            dhead=dabbr if dabbr.startswith(prov) else prov + dabbr,
            chead=cabbr if cabbr.startswith(prov) else prov + cabbr,
            area_code=N.AREA_CODES.get(code[:4], "0" + code[2:5]),
            district_authority=district_authority,
            city_authority=f"{city}卫生健康委员会" if city else (authority_name or district_authority),
            enforcement=f"{city or name}卫生计生综合监督执法局", court=f"{local}人民法院",
            market=f"{local}市场监督管理局",
        )


def _regions(regions: Sequence[Sequence[str]], authority_name: str) -> list[_Region]:
    out = []
    for r in regions:
        code, name, *rest = r
        out.append(_Region.build(str(code), str(name), rest[0] if rest and rest[0] else None, authority_name))
    if not out:
        raise ValueError("at least one region is needed")
    return out


# ---------------------------------------------------------------------------------------------
# result


@dataclass
class DemoData:
    subjects: list[dict] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)

    @classmethod
    def from_stream(cls, stream: Iterable[tuple[dict, list[dict]]]) -> DemoData:
        data = cls()
        for subject, records in stream:
            data.subjects.append(subject)
            data.records.extend(records)
        return data

    def stats(self) -> dict[str, Counter]:
        return {
            "kind": Counter(s["kind"] for s in self.subjects),
            "category": Counter(s["category"] for s in self.subjects),
            "status": Counter(s["status"] for s in self.subjects),
            "record_type": Counter(r["record_type"] for r in self.records),
            "info_class": Counter(r["info_class"] for r in self.records),
            "severity": Counter(r["severity"] for r in self.records),
            "scope": Counter(r["scope"] for r in self.records),
            "record_status": Counter(r["status"] for r in self.records),
        }


def iter_subjects(regions: Sequence[Sequence[str]], n_subjects: int, seed: int, today: date,
                  authority_name: str) -> Iterator[tuple[dict, list[dict]]]:
    """Yield ``(subject, records)`` for ``n_subjects`` synthetic subjects, deterministically.

    ``regions`` are ``(code, name)`` or ``(code, name, city)`` tuples of the jurisdiction's counties
    and districts. An employee's ``employer_key`` always names a subject yielded earlier.
    """
    return _Generator(regions, seed, today, authority_name).run(n_subjects)


def generate(regions: Sequence[Sequence[str]], n_subjects: int, seed: int, today: date,
             authority_name: str) -> DemoData:
    return DemoData.from_stream(iter_subjects(regions, n_subjects, seed, today, authority_name))


# ---------------------------------------------------------------------------------------------
# content tables

_LAW_MED = "《医疗机构管理条例》"
_LAW_PP = "《公共场所卫生管理条例》"
_LAW_PP2 = "《公共场所卫生管理条例实施细则》"
_LAW_DIS = "《消毒管理办法》"
# Violations by category: (title, law). Laws are named, articles deliberately not invented.
ISSUES: dict[str, tuple[tuple[str, str], ...]] = {
    "hospital": (
        ("使用非卫生技术人员从事医疗卫生技术工作", _LAW_MED), ("未按规定处置医疗废物", "《医疗废物管理条例》"),
        ("诊疗活动超出登记的诊疗科目范围", _LAW_MED), ("出具虚假医学证明文件", _LAW_MED),
        ("未按规定报告传染病疫情", "《中华人民共和国传染病防治法》"),
        ("放射工作人员未按规定进行个人剂量监测", "《放射诊疗管理规定》"),
        ("未按规定执行消毒隔离制度", _LAW_DIS), ("违规开展医疗美容项目", "《医疗美容服务管理办法》"),
    ),
    "clinic": (
        ("未取得《医疗机构执业许可证》擅自执业", _LAW_MED), ("使用非卫生技术人员从事医疗卫生技术工作", _LAW_MED),
        ("诊疗活动超出登记的诊疗科目范围", _LAW_MED), ("未按规定处置医疗废物", "《医疗废物管理条例》"),
        ("逾期不校验《医疗机构执业许可证》仍从事诊疗活动", _LAW_MED),
        ("口腔诊疗器械消毒灭菌不符合规定", _LAW_DIS), ("未按规定执行消毒隔离制度", _LAW_DIS),
    ),
    "pharmacy": (
        ("药店内违规开展诊疗活动", _LAW_MED), ("执业药师不在岗时销售处方药", "《药品经营质量管理规范》"),
        ("未凭处方销售处方药", "《处方管理办法》"), ("从业人员未取得健康证明上岗", "《药品经营质量管理规范》"),
    ),
    "hotel": (
        ("公共场所未按规定进行卫生检测", _LAW_PP2), ("从业人员未取得有效健康合格证明从事直接为顾客服务工作", _LAW_PP2),
        ("未按规定对顾客用品用具进行清洗、消毒、保洁", _LAW_PP2), ("未取得《公共场所卫生许可证》擅自营业", _LAW_PP),
        ("集中空调通风系统未按规定进行清洗消毒", "《公共场所集中空调通风系统卫生规范》"),
    ),
    "swimming_pool": (
        ("游泳池水质不合格", _LAW_PP2), ("公共场所未按规定进行卫生检测", _LAW_PP2),
        ("未按规定设置强制通过式浸脚消毒池", _LAW_PP2), ("从业人员未取得有效健康合格证明从事直接为顾客服务工作", _LAW_PP2),
    ),
    "bathhouse": (
        ("沐浴用水水质不符合卫生标准", _LAW_PP2), ("未按规定对顾客用品用具进行清洗、消毒、保洁", _LAW_PP2),
        ("公共场所未按规定进行卫生检测", _LAW_PP2), ("从业人员未取得有效健康合格证明从事直接为顾客服务工作", _LAW_PP2),
    ),
    "beauty_salon": (
        ("未按规定对顾客用品用具进行清洗、消毒、保洁", _LAW_PP2), ("美容美发场所违规开展医疗美容项目", "《医疗美容服务管理办法》"),
        ("从业人员未取得有效健康合格证明从事直接为顾客服务工作", _LAW_PP2), ("公共场所未按规定进行卫生检测", _LAW_PP2),
    ),
    "disinfection_maker": (
        ("消毒产品标签说明书不符合规定", _LAW_DIS), ("生产不符合卫生标准和卫生规范的消毒产品", _LAW_DIS),
        ("未取得卫生许可证生产消毒产品", _LAW_DIS), ("消毒产品卫生安全评价报告不符合规定", _LAW_DIS),
    ),
    "water_product_maker": (
        ("涉水产品未取得卫生许可批件", "《生活饮用水卫生监督管理办法》"),
        ("生产销售不符合卫生标准的涉水产品", "《生活饮用水卫生监督管理办法》"),
        ("生产场所卫生条件不符合规定", "《生活饮用水卫生监督管理办法》"),
    ),
    "blood_station": (
        ("未按规定对献血者进行健康检查", "《血站管理办法》"), ("违反技术操作规程采集血液", "《中华人民共和国献血法》"),
        ("血液储存、运输不符合卫生标准和要求", "《血站管理办法》"),
    ),
    "tableware_disinfection": (
        ("出厂餐饮具检验不合格", "《中华人民共和国传染病防治法》"),
        ("未按规定建立并落实出厂检验制度", "《餐饮具集中消毒单位卫生监督规范》"),
        ("消毒餐饮具未按规定标注消毒日期和有效期", "《餐饮具集中消毒单位卫生监督规范》"),
    ),
    "doctor": (
        ("医师超范围执业", "《中华人民共和国医师法》"), ("未按规定书写、保管病历", "《中华人民共和国医师法》"),
        ("出具与执业范围无关的医学证明文件", "《中华人民共和国医师法》"),
        ("违反诊疗规范造成患者人身损害", "《医疗纠纷预防和处理条例》"),
        ("在非注册执业地点从事诊疗活动", "《中华人民共和国医师法》"),
        ("违规开具麻醉药品处方", "《麻醉药品和精神药品管理条例》"),
    ),
    "nurse": (
        ("护士未按规定执行护理技术规范", "《护士条例》"), ("泄露患者隐私", "《护士条例》"),
        ("发现医嘱违反法律法规未按规定提出", "《护士条例》"), ("在非注册执业地点从事护理活动", "《护士条例》"),
    ),
    "pharmacist": (
        ("执业药师未按规定在岗履职", "《执业药师注册管理办法》"), ("执业药师注册证书挂靠（“挂证”）", "《执业药师注册管理办法》"),
        ("未按规定审核处方即调配", "《处方管理办法》"),
    ),
}

LICENCES: dict[str, tuple[str, int]] = {  # category -> (licence name, validity in years)
    "hospital": ("医疗机构执业许可证", 5), "clinic": ("医疗机构执业许可证", 5), "pharmacy": ("药品经营许可证", 5),
    "hotel": ("公共场所卫生许可证", 4), "swimming_pool": ("公共场所卫生许可证", 4),
    "bathhouse": ("公共场所卫生许可证", 4), "beauty_salon": ("公共场所卫生许可证", 4),
    "disinfection_maker": ("消毒产品生产企业卫生许可证", 4), "water_product_maker": ("涉水产品卫生许可批件", 4),
    "blood_station": ("血站执业许可证", 3), "tableware_disinfection": ("餐饮具集中消毒服务单位卫生备案凭证", 4),
}
PERSON_LICENCES = {"doctor": "医师执业证书", "nurse": "护士执业证书", "pharmacist": "执业药师注册证"}
LICENCE_ITEMS = {
    "hotel": "住宿", "swimming_pool": "游泳场所", "bathhouse": "沐浴", "beauty_salon": "美容、美发",
}
LICENCE_CHANGES = ("变更法定代表人（负责人）", "变更经营地址门牌号", "增加诊疗科目", "变更营业面积", "变更主要负责人")

COMMITMENTS = (("主动公示承诺", 8), ("涉企许可事项告知承诺", 3), ("证明事项告知承诺", 2), ("审批容缺受理承诺", 1),
               ("行业自律承诺", 3))
PERSON_COMMITMENTS = (("主动公示承诺", 5), ("行业自律承诺", 3), ("证明事项告知承诺", 1))

MONITORING = {
    "hospital": ("接入医疗机构依法执业智能监管平台", "接入医疗废物在线监测系统", "接入放射诊疗在线监测系统"),
    "clinic": ("接入医疗机构依法执业智能监管平台", "接入医疗废物在线监测系统"),
    "pharmacy": ("接入执业药师在岗在线监管系统",),
    "swimming_pool": ("接入游泳池水质在线监测系统",),
    "hotel": ("接入公共场所室内空气质量在线监测系统", "接入集中空调通风系统在线监测"),
    "bathhouse": ("接入沐浴用水水质在线监测系统",), "beauty_salon": ("接入公共场所卫生在线监测系统",),
    "disinfection_maker": ("接入消毒产品生产过程在线监控系统",), "water_product_maker": ("接入涉水产品生产过程在线监控系统",),
    "blood_station": ("接入血液安全在线监测平台",), "tableware_disinfection": ("接入餐饮具消毒过程在线监控系统",),
}
MONITORING_RATE = {"hospital": 0.5, "clinic": 0.25, "pharmacy": 0.1, "swimming_pool": 0.6, "hotel": 0.15,
                   "bathhouse": 0.15, "beauty_salon": 0.08, "disinfection_maker": 0.3, "water_product_maker": 0.3,
                   "blood_station": 0.6, "tableware_disinfection": 0.4}

EVENTS = ("新冠肺炎疫情", "洪涝灾害", "登革热疫情", "低温雨雪冰冻灾害")
CRIMES_PERSON = (("医疗事故罪", "有期徒刑一年，缓刑一年六个月"), ("诈骗罪（骗取医疗保障基金）", "有期徒刑二年，并处罚金人民币三万元"),
                 ("非法行医罪", "有期徒刑一年，并处罚金人民币一万元"), ("非国家工作人员受贿罪", "有期徒刑一年六个月"))
CRIMES_ORG = {"medical": ("诈骗罪（骗取医疗保障基金）", "污染环境罪（非法处置医疗废物）"),
              "maker": ("生产、销售伪劣产品罪",), "other": ("重大责任事故罪", "污染环境罪")}
SERIOUS_REASONS_ORG = ("骗取医疗保障基金", "严重危害人民群众身体健康和生命安全", "拒不履行行政处罚决定", "非法采供血液",
                       "生产销售严重不符合卫生标准的产品", "被吊销许可证")
SERIOUS_REASONS_PERSON = ("非法行医", "骗取医疗保障基金", "被吊销执业证书", "出具虚假医学证明文件情节严重")


# ---------------------------------------------------------------------------------------------
# generator


def _cum(weights: Sequence[tuple[object, float]]) -> tuple[list, list[float]]:
    items, cum, total = [], [], 0.0
    for item, w in weights:
        total += w
        items.append(item)
        cum.append(total)
    return items, [c / total for c in cum]


class _Ctx:
    """Per-subject facts the record builders need (not part of the output)."""

    __slots__ = ("s", "region", "kind", "cat", "risk", "start", "end", "employer_name", "records", "rtypes",
                 "licence_issued")

    def __init__(self, s: dict, region: _Region, risk: int, start: date, end: date, employer_name: str):
        self.s = s
        self.region = region
        self.kind = s["kind"]
        self.cat = s["category"]
        self.risk = risk  # 0 clean, 1 ordinary, 2 bad
        self.start = start
        self.end = end
        self.employer_name = employer_name
        self.records: list[dict] = []
        self.rtypes: set[str] = set()
        self.licence_issued: date | None = None


# Disclosure scope by record type as (P(public), P(public or shared)); the rest is on request
# (海南 第二十三条, 第二十六条: the providing unit sets each record's scope). Registrations and
# licences are always public; supervision results and points more often stay internal.
SCOPE_WEIGHTS = {
    "registration": (1.0, 1.0), "licence": (1.0, 1.0), "commitment": (0.95, 0.98), "evaluation": (0.58, 0.80),
    "commendation": (0.92, 0.96), "volunteer": (0.88, 0.94), "monitoring": (0.85, 0.93), "honour": (0.92, 0.96),
    "redlist": (0.95, 0.98), "penalty": (0.88, 0.95), "inspection": (0.60, 0.80), "misconduct_points": (0.70, 0.85),
    "criminal": (0.50, 0.80), "court_refusal": (0.70, 0.85), "joint_punishment": (0.85, 0.95),
    "serious_list": (0.90, 0.97), "blacklist": (0.90, 0.97),
}
PERSON_SCOPE_WEIGHTS = {"misconduct_points": (0.35, 0.65), "criminal": (0.30, 0.60), "evaluation": (0.50, 0.75),
                        "penalty": (0.80, 0.90)}

RISK_TIERS = ((0, 0.60), (1, 0.32), (2, 0.08))
DISHONEST_MULT = (0.25, 1.2, 3.8)
POSITIVE_MULT = (1.5, 0.8, 0.15)

# Expected counts per subject before the risk multiplier.
ORG_RATES = {"commitment": 0.8, "commendation": 0.10, "volunteer": 0.15, "honour": 0.07,
             "penalty": 0.58, "inspection": 0.55, "misconduct_points": 0.0, "criminal": 0.005,
             "court_refusal": 0.018}
PERSON_RATES = {"commitment": 0.25, "commendation": 0.06, "volunteer": 0.15, "honour": 0.04,
                "penalty": 0.10, "inspection": 0.03, "misconduct_points": 0.30, "criminal": 0.004,
                "court_refusal": 0.01}
SERIOUS_RATES_BAD = {"org": {"joint_punishment": 0.06, "serious_list": 0.09, "blacklist": 0.14},
                     "person": {"joint_punishment": 0.03, "serious_list": 0.05, "blacklist": 0.06}}


class _Generator:
    def __init__(self, regions: Sequence[Sequence[str]], seed: int, today: date, authority_name: str):
        self.rng = random.Random(seed)
        self.today = today
        self.today_ord = today.toordinal()
        self.authority = authority_name or "卫生健康委员会"
        self.regions = _regions(regions, authority_name)
        self.window_start = today - timedelta(days=LOOKBACK_DAYS)
        self.used_names: set[str] = set()
        self.used_codes: set[str] = set()
        self.counters: Counter = Counter()
        self.pools: dict[str, list[tuple[str, _Region, str]]] = {"hospital": [], "clinic": [], "pharmacy": []}
        self.org_mix = _cum(ORG_MIX)
        self.person_mix = _cum(PERSON_MIX)
        self.surnames = _cum(N.SURNAMES)
        self.risk = _cum(RISK_TIERS)
        self.employers = {k: _cum(v) for k, v in EMPLOYER_CATEGORIES.items()}
        self.tiers = {k: _cum(v) for k, v in TIER_MONTHS.items()}
        self.commitments = _cum(COMMITMENTS)
        self.person_commitments = _cum(PERSON_COMMITMENTS)
        self.roads = [s + x for s in N.ROAD_STEMS for x in N.ROAD_SUFFIXES]
        self.shop_words = [a + b for a in N.SHOP_FIRST for b in N.SHOP_SECOND if a != b]
        # the first subjects cover every category, employers first
        orgs = ["hospital", "clinic", "pharmacy"] + [c for c, _ in ORG_MIX if c not in MEDICAL + ("pharmacy",)]
        self.forced_categories = orgs + [c for c, _ in PERSON_MIX]

    # -- small helpers ---------------------------------------------------------------------

    def pick(self, table: tuple[list, list[float]]):
        items, cum = table
        u = self.rng.random()
        for item, c in zip(items, cum, strict=False):
            if u < c:
                return item
        return items[-1]

    def poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        u = self.rng.random()
        p = math.exp(-lam)
        s, k = p, 0
        while u > s and k < 50:
            k += 1
            p *= lam / k
            s += p
        return k

    def day_between(self, a: date, b: date) -> date:
        if b <= a:
            return a
        return date.fromordinal(self.rng.randint(a.toordinal(), b.toordinal()))

    def next_no(self, key: str, year: int) -> int:
        self.counters[key, year] += 1
        return self.counters[key, year]

    def person_name(self, female: bool | None = None) -> str:
        rng = self.rng
        if female is None:
            female = rng.random() < 0.5
        pool = N.FEMALE_GIVEN if female else N.MALE_GIVEN
        given = rng.choice(pool) if rng.random() < 0.3 else rng.choice(pool) + rng.choice(pool)
        return self.pick(self.surnames) + given

    def mobile(self) -> str:
        return self.rng.choice(N.MOBILE_PREFIXES) + f"{self.rng.randrange(100_000_000):08d}"

    def landline(self, region: _Region) -> str:
        return f"{region.area_code}-{self.rng.randint(2, 8)}{self.rng.randrange(1_000_000, 10_000_000)}"

    def road(self) -> str:
        return self.rng.choice(self.roads)

    def shop(self) -> str:
        return self.rng.choice(self.shop_words)

    def resident_id(self, region: _Region, birth: date, female: bool) -> str:
        while True:
            seq = self.rng.randrange(1, 500) * 2 - (0 if female else 1)  # odd = male, even = female
            body = f"{region.code}{birth:%Y%m%d}{seq:03d}"
            code = body + ric.calc_check_digit(body + "0")
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def uscc_code(self, prefix: str, region: _Region, new_style: bool) -> str:
        rng = self.rng
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        while True:
            if new_style:  # post-2015 registrations: MA + six characters
                body = "MA" + "".join(rng.choice(alphabet) for _ in range(6))
            else:
                body = f"{rng.randrange(10_000_000, 100_000_000)}"
            org = body + gb11714_check_char(body)
            head = f"{prefix}{region.code}{org}"
            code = head + uscc.calc_check_digit(head)
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def unique(self, candidates, branch) -> str:
        """A name not used yet: a few fresh candidates, then branches of the last one
        (``branch(k)`` for k = 2, 3, ...: "（五一大道二店）", "芙蓉分院")."""
        for _ in range(8):
            name = candidates()
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        base = name
        for k in range(2, 10_000):
            suffix = branch(k)
            if suffix.startswith("（") or not suffix.endswith("店"):
                name = base + suffix
            elif base.endswith("店）"):
                name = f"{base[:-2]}{suffix}）"  # 益民大药房（五一大道店） -> 益民大药房（五一大道二店）
            else:
                name = f"{base}（{suffix}）"
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("name space exhausted")  # pragma: no cover

    # -- subjects --------------------------------------------------------------------------

    def run(self, n: int) -> Iterator[tuple[dict, list[dict]]]:
        width = max(6, len(str(n)))
        for i in range(n):
            key = f"demo-{i + 1:0{width}d}"
            if i < len(self.forced_categories):
                cat = self.forced_categories[i]
            elif self.rng.random() < ORG_SHARE:
                cat = self.pick(self.org_mix)
            else:
                cat = self.pick(self.person_mix)
            if CATEGORIES[cat][1] == SubjectKind.PERSON:
                pool = self.pools[self.pick(self.employers[cat])]
                if not pool:  # fall back to another fitting employer category
                    pool = next((self.pools[e] for e, _ in EMPLOYER_CATEGORIES[cat] if self.pools[e]), [])
                if not pool:  # no employer yet: only possible for the very first subjects
                    cat = "hospital"
            if CATEGORIES[cat][1] == SubjectKind.ORG:
                ctx = self.org(key, cat, force_active=i < 3)
            else:
                ctx = self.person(key, cat, self.rng.choice(pool))
            self.records_for(ctx, forced=RECORD_TYPE_ORDER[i] if i < len(RECORD_TYPE_ORDER) else None)
            yield ctx.s, ctx.records

    def subject_status(self) -> str:
        u = self.rng.random()
        return "closed" if u < 0.010 else "licence_revoked" if u < 0.013 else "active"

    def address(self, region: _Region) -> str:
        return f"{region.city}{region.name}{self.road()}{self.rng.randint(1, 399)}号"

    def org(self, key: str, cat: str, force_active: bool = False) -> _Ctx:
        rng = self.rng
        region = rng.choice(self.regions)
        legal_rep = self.person_name()
        name = self.org_name(cat, region, legal_rep)
        status = self.subject_status()
        if force_active:  # the first employers, so that every person category can be placed
            status = "active"
        # USCC registration authority and entity type: 12 public institution, 52 private non-profit,
        # 91 company, 92 individual business (GB 32100).
        if cat in ("hospital", "blood_station"):
            prefix = "12" if cat == "blood_station" or "人民医院" in name or "中医医院" in name \
                or "妇幼" in name or "卫生院" in name else rng.choice(("52", "91"))
        elif cat == "clinic":
            prefix = "12" if "社区卫生服务" in name else rng.choice(("52", "92", "92", "91"))
        elif cat in ("disinfection_maker", "water_product_maker", "tableware_disinfection"):
            prefix = "91"
        else:
            prefix = rng.choice(("91", "92", "92"))
        if cat == "hospital":
            est = self.day_between(date(1952, 1, 1), date(2018, 12, 31))
        elif cat == "blood_station":
            est = self.day_between(date(1985, 1, 1), date(2012, 12, 31))
        else:  # skewed to recent years
            lo, hi = date(1998, 1, 1).toordinal(), self.today_ord - 120
            est = date.fromordinal(max(rng.randint(lo, hi), rng.randint(lo, hi)))
        new_style = prefix[0] == "9" and est.year >= 2015 and rng.random() < 0.9
        code = self.uscc_code(prefix, region, new_style)
        licence_no, valid_until, issued = self.org_licence(cat, name, region, code, prefix, est, status)
        end = self.today
        if status != "active":
            end = self.day_between(max(est, self.today - timedelta(days=900)), self.today - timedelta(days=20))
        s = {
            "key": key, "kind": "org", "name": name, "code": code, "category": cat, "region_code": region.code,
            "address": self.address(region), "phone": self.landline(region) if rng.random() < 0.6 else self.mobile(),
            "licence_no": licence_no, "licence_valid_until": valid_until, "legal_rep": legal_rep,
            "employer_key": None, "status": status, "established_on": est, "birth_on": None,
        }
        if cat in self.pools and status == "active":  # people work at open places
            self.pools[cat].append((key, region, name))
        ctx = _Ctx(s, region, self.pick(self.risk), max(est, self.window_start), end, "")
        ctx.licence_issued = issued
        return ctx

    def org_licence(self, cat: str, name: str, region: _Region, code: str, prefix: str, est: date,
                    status: str) -> tuple[str, date, date]:
        rng = self.rng
        lname, years = LICENCES[cat]
        # issued (or last renewed) within the validity period; a few have lapsed
        lapsed = status != "active" or rng.random() < 0.03
        back = rng.randint(years * 365 + 10, years * 365 + 400) if lapsed else rng.randint(0, years * 365 - 20)
        issued = max(est, date.fromordinal(self.today_ord - back))
        valid_until = add_months(issued, 12 * years) - timedelta(days=1)
        y = issued.year
        p = region.prov
        if cat in MEDICAL:
            public = prefix == "12"
            # 登记号: organisation code (or PDY + serial for private ones), region, economic type
            # (11 state-owned, 17 private), WS 218 institution class, 1 non-profit / 2 for-profit
            head = code[8:17] if public else f"PDY{self.next_no('PDY', 0):06d}"
            klass = _medical_class(name)
            no = f"{head}{region.code}{'11' if public else '17'}{klass}{'1' if public else '2'}"
        elif cat == "pharmacy":
            serial = self.next_no("药" + region.code[:4], 0)
            no = f"{p}{rng.choice(('CB', 'DA', 'DA'))}{region.area_code[-3:]}{serial:04d}"
        elif cat in PUBLIC_PLACES:
            no = f"{region.dhead}卫公证字〔{y}〕第{self.next_no('公' + region.code, y):04d}号"
        elif cat == "disinfection_maker":
            no = f"{p}卫消证字〔{y}〕第{self.next_no('消', y):04d}号"
        elif cat == "water_product_maker":
            no = f"{p}卫水字〔{y}〕第{self.next_no('水', y):04d}号"
        elif cat == "blood_station":
            no = f"{p}卫血证字〔{y}〕第{self.next_no('血', y):03d}号"
        else:
            no = f"{region.dhead}卫餐消备字〔{y}〕第{self.next_no('餐' + region.code, y):04d}号"
        return no, valid_until, issued

    def org_name(self, cat: str, r: _Region, legal_rep: str) -> str:
        """A fresh name from the category's templates (``org_names.toml``), branched when taken."""
        filler = org_names.Filler(self.rng, org_names.fixed_values(r, legal_rep), self.road, self.shop)
        return self.unique(lambda: org_names.candidate(cat, filler),
                           lambda k: org_names.branch(cat, filler, k, _nth_shop))

    def person(self, key: str, cat: str, employer: tuple[str, _Region, str]) -> _Ctx:
        rng = self.rng
        employer_key, employer_region, employer_name = employer
        region = employer_region if rng.random() < 0.85 else rng.choice(self.regions)
        female = rng.random() < {"doctor": 0.5, "nurse": 0.95, "pharmacist": 0.6}[cat]
        birth = self.day_between(date(1955, 1, 1), date(2000, 12, 31))
        reg_on = min(add_months(birth, 12 * rng.randint(23, 29) + rng.randint(0, 11)),
                     self.today - timedelta(days=rng.randint(60, 400)))
        status = self.subject_status()
        y = reg_on.year
        if cat == "doctor":
            licence_no = f"{rng.choice('12')}{rng.choice('1111234')}{region.code}{self.next_no('医师', 0):07d}"
            valid_until = None
        elif cat == "nurse":
            licence_no = f"{y}{region.code[:2]}{self.next_no('护士' + str(y), 0):06d}"
            valid_until = add_months(reg_on, 12 * 5 * (1 + max(0, (self.today.year - y) // 5))) - timedelta(days=1)
        else:
            licence_no = f"{region.code[:2]}{y}{self.next_no('药师' + str(y), 0):07d}"
            valid_until = add_months(reg_on, 12 * 5 * (1 + max(0, (self.today.year - y) // 5))) - timedelta(days=1)
        addr = (f"{region.city}{region.name}{self.road()}{rng.randint(1, 399)}号{rng.choice(N.ESTATE_WORDS)}"
                f"{rng.choice(N.ESTATE_SUFFIXES)}{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元"
                f"{rng.randint(1, 33)}{rng.randint(1, 6):02d}室")
        end = self.today
        if status != "active":
            end = self.day_between(max(reg_on, self.today - timedelta(days=900)), self.today - timedelta(days=20))
        s = {
            "key": key, "kind": "person", "name": self.person_name(female),
            "code": self.resident_id(region, birth, female),
            "category": cat, "region_code": region.code, "address": addr, "phone": self.mobile(),
            "licence_no": licence_no, "licence_valid_until": valid_until, "legal_rep": "",
            "employer_key": employer_key, "status": status, "established_on": reg_on, "birth_on": birth,
        }
        return _Ctx(s, region, self.pick(self.risk), max(reg_on, self.window_start), end, employer_name)

    # -- records ---------------------------------------------------------------------------

    def records_for(self, c: _Ctx, forced: str | None = None) -> None:
        org = c.kind == "org"
        rates = ORG_RATES if org else PERSON_RATES
        dm, pm = DISHONEST_MULT[c.risk], POSITIVE_MULT[c.risk]
        self.registration(c)
        if org:
            self.licence(c)
        self.evaluations(c)
        for _ in range(self.poisson(rates["commitment"])):
            self.commitment(c)
        for rtype in ("commendation", "volunteer", "honour"):
            for _ in range(self.poisson(rates[rtype] * pm)):
                getattr(self, rtype)(c)
        if org and self.rng.random() < MONITORING_RATE[c.cat] * (0.5 + pm / 2):
            self.monitoring(c)
        for rtype in ("penalty", "inspection", "criminal", "court_refusal"):
            for _ in range(self.poisson(rates[rtype] * dm)):
                getattr(self, rtype)(c)
        points_rate = rates["misconduct_points"] if not org else (0.35 if c.cat in MEDICAL else 0.0)
        for _ in range(self.poisson(points_rate * dm)):
            self.misconduct_points(c)
        if c.s["status"] == "licence_revoked":
            self.penalty(c, revoke=True)
        if c.risk == 2:
            for rtype, lam in SERIOUS_RATES_BAD[c.kind].items():
                if self.rng.random() < lam:
                    getattr(self, rtype)(c)
        elif (c.risk == 0 and c.s["status"] == "active" and self.rng.random() < (0.08 if org else 0.04)
              and not self.has_current_dishonesty(c)):
            self.redlist(c)
        if forced and forced not in c.rtypes and (org or forced not in ("licence", "monitoring")):
            getattr(self, forced)(c)
        self.repairs(c)
        if self.rng.random() < 0.03 and c.records:  # a few withdrawn after an upheld objection
            r = self.rng.choice(c.records)
            if r["record_type"] != "registration" and r["status"] == "active":
                r["status"] = "withdrawn"

    def has_current_dishonesty(self, c: _Ctx) -> bool:
        return any(r["info_class"] in _DISHONEST and (r["publish_until"] or self.today) >= self.today
                   for r in c.records)

    def window(self, severity: str | None, publish_from: date, months: int | None = None) -> date:
        if months is None:
            months = self.pick(self.tiers[severity]) if severity else self.rng.choice((12, 24, 36))
        return add_months(publish_from, months) - timedelta(days=1)

    def scope(self, c: _Ctx, rtype: str) -> str:
        weights = (c.kind == "person" and PERSON_SCOPE_WEIGHTS.get(rtype)) or SCOPE_WEIGHTS[rtype]
        u = self.rng.random()
        return "public" if u < weights[0] else "shared" if u < weights[1] else "on_request"

    def add(self, c: _Ctx, rtype: str, decided: date, title: str, content: str, authority: str,
            doc_no: str = "", severity: str | None = None, scope: str | None = None,
            until: date | None | bool = False, months: int | None = None) -> dict:
        """Append one record; ``until=False`` means "by tier / default", ``None`` means long-term."""
        info_class = RECORD_TYPES[rtype][1].value
        publish_from = min(decided + timedelta(days=self.rng.randint(0, 7)), self.today)
        if until is False:
            until = self.window(severity, publish_from, months)
        elif until is not None and until < publish_from:
            publish_from = min(decided, until)
        if scope is None:
            scope = self.scope(c, rtype)
        if scope != "public" and info_class in _DISHONEST and self.rng.random() < 0.5:
            content += self.private_detail(c)
        r = {
            "subject_key": c.s["key"], "record_type": rtype, "info_class": info_class, "severity": severity,
            "title": title, "content": content, "authority": authority, "doc_no": doc_no, "decided_on": decided,
            "scope": scope, "publish_from": publish_from, "publish_until": until, "status": "active",
        }
        c.records.append(r)
        c.rtypes.add(rtype)
        return r

    def private_detail(self, c: _Ctx) -> str:
        """Synthetic personal data of third parties: only ever added to non-public records."""
        rng = self.rng
        u = rng.random()
        who = self.person_name()
        if u < 0.4:
            return f"投诉人{who}（联系电话{self.mobile()}）反映上述问题。"
        if u < 0.7:
            birth = self.day_between(date(1950, 1, 1), date(2004, 12, 31))
            female = rng.random() < 0.5
            body = f"{c.region.code}{birth:%Y%m%d}{rng.randrange(1, 500) * 2 - (0 if female else 1):03d}"
            rid = body + ric.calc_check_digit(body + "0")
            return f"涉及患者{who}（身份证号{rid}，联系电话{self.mobile()}）。"
        if c.kind == "person":
            return f"当事人联系电话{c.s['phone']}，住址{c.s['address']}。"
        return f"现场负责人{who}，联系电话{self.mobile()}。"

    def decided(self, c: _Ctx, recent_days: int | None = None) -> date:
        lo = c.start if recent_days is None else max(c.start, c.end - timedelta(days=recent_days))
        return self.day_between(lo, c.end)

    def _name(self, c: _Ctx) -> str:
        return c.s["name"] if c.kind == "org" else f"当事人{c.s['name']}"

    # basic ------------------------------------------------------------------------------------

    def registration(self, c: _Ctx) -> None:
        s, r = c.s, c.region
        est = s["established_on"]
        entry = max(est, self.day_between(self.window_start, self.today - timedelta(days=30)))
        if c.kind == "org":
            title = f"设立登记（{CATEGORIES[c.cat][0]}）"
            content = (f"{s['name']}，统一社会信用代码{s['code']}，成立日期{_cn_date(est)}，"
                       f"住所{s['address']}，法定代表人（负责人）{s['legal_rep']}。")
            authority = r.market
        else:
            label = {"doctor": "医师", "nurse": "护士", "pharmacist": "执业药师"}[c.cat]
            scope_text = (self.rng.choice(N.DOCTOR_SCOPES) if c.cat == "doctor" else "护理专业" if c.cat == "nurse"
                          else self.rng.choice(N.PHARMACIST_SCOPES))
            title = f"{label}执业注册"
            content = f"{s['name']}，执业范围：{scope_text}，执业机构：{c.employer_name}，首次注册日期{_cn_date(est)}。"
            authority = self.authority if c.cat == "pharmacist" else r.city_authority
        rec = self.add(c, "registration", est, title, content, authority, scope="public", until=None)
        rec["publish_from"] = entry
        if s["status"] == "closed":
            self.add(c, "registration", c.end, "注销登记" if c.kind == "org" else "注销执业注册",
                     f"{s['name']}于{_cn_date(c.end)}办理注销。", authority, scope="public", until=None)

    def licence(self, c: _Ctx) -> None:
        s, r = c.s, c.region
        lname, _ = LICENCES[c.cat]
        issued, until = c.licence_issued, s["licence_valid_until"]
        authority = (r.market if c.cat == "pharmacy" else self.authority
                     if c.cat in ("disinfection_maker", "water_product_maker", "blood_station")
                     else r.city_authority if c.cat == "hospital" else r.district_authority)
        item = LICENCE_ITEMS.get(c.cat)
        detail = f"许可项目：{item}；" if item else ""
        self.add(c, "licence", issued, f"{lname}（有效期至{_cn_date(until)}）",
                 f"{s['name']}取得《{lname}》，编号{s['licence_no']}，{detail}有效期{_cn_date(issued)}至{_cn_date(until)}。",
                 authority, doc_no=s["licence_no"], scope="public", until=until)
        if self.rng.random() < 0.25:
            changed = self.day_between(max(issued, c.start), min(c.end, until))
            if changed > issued:
                options = LICENCE_CHANGES if c.cat in MEDICAL else tuple(x for x in LICENCE_CHANGES if "诊疗" not in x)
                change = self.rng.choice(options)
                self.add(c, "licence", changed, f"{lname}变更（{change}）",
                         f"准予{s['name']}{change}，许可证有效期不变。", authority, doc_no=s["licence_no"],
                         scope="public", until=until)

    def evaluations(self, c: _Ctx) -> None:
        p = 0.4 if c.kind == "org" else 0.2
        for y in (self.today.year - 3, self.today.year - 2, self.today.year - 1):
            if self.rng.random() < p:
                self.evaluation(c, y)

    def evaluation(self, c: _Ctx, y: int | None = None) -> None:
        """A yearly evaluation result (湖南 第十二条: 评价结果 are basic information)."""
        rng = self.rng
        forced = y is None
        y = self.today.year - 1 if forced else y
        decided = date(y + 1, rng.randint(1, 4), rng.randint(1, 28))
        if decided > c.end or decided < c.start:
            if not forced:
                return
            decided = self.decided(c)
            y = decided.year - 1
        good = c.risk < 2 or rng.random() < 0.5
        if c.cat in MEDICAL:
            title = f"{y}年度医疗机构校验：{'校验合格' if good else '暂缓校验'}"
        elif c.cat == "pharmacy":
            title = f"{y}年度药品经营质量管理规范符合性检查：{'通过' if good else '限期整改'}"
        elif c.cat in PUBLIC_PLACES or c.cat == "tableware_disinfection":
            grade = rng.choice("AAB" if c.risk == 0 else "ABB" if c.risk == 1 else "BCC")
            title = f"{y}年度卫生监督量化分级：{grade}级"
        elif c.cat == "blood_station":
            title = f"{y}年度血站执业验收：{'合格' if good else '限期整改'}"
        elif c.kind == "org":
            title = f"{y}年度卫生规范符合性评价：{'符合' if good else '基本符合'}"
        elif c.cat == "doctor":
            title = f"医师定期考核：{'合格' if good else '不合格'}（{y - 2}—{y}年度周期）"
        elif c.cat == "nurse":
            title = f"{y}年度护士执业考核：{'合格' if good else '基本合格'}"
        else:
            title = f"{y}年度执业药师继续教育：{'合格' if good else '未完成'}"
        authority = c.region.district_authority if c.kind == "org" else c.region.city_authority
        self.add(c, "evaluation", decided, title, f"{self._name(c)}{title}。", authority,
                 until=add_months(decided, 12) - timedelta(days=1))

    def commitment(self, c: _Ctx, kind: str | None = None, decided: date | None = None) -> None:
        kind = kind or self.pick(self.commitments if c.kind == "org" else self.person_commitments)
        decided = decided or self.decided(c)
        who = "本单位" if c.kind == "org" else "本人"
        extra = "已按要求完成整改，" if kind == "信用修复承诺" else ""
        self.add(c, "commitment", decided, f"信用承诺书（{kind}）",
                 f"{who}{extra}承诺所提供的信息真实、准确、完整，依法诚信执业经营，自觉接受监督；"
                 f"如有违反，愿意承担相应法律责任并接受失信惩戒。", c.region.district_authority,
                 months=self.rng.choice((12, 24, 36)))

    # positive ---------------------------------------------------------------------------------

    def commendation(self, c: _Ctx) -> None:
        rng = self.rng
        decided = self.decided(c)
        y = decided.year - 1 if decided.month < 4 else decided.year
        p = c.region.prov
        if c.kind == "org":
            options = [f"{y}年度全省卫生健康系统先进集体", f"{y}年度{c.region.city or c.region.name}卫生健康工作先进单位",
                       f"全省抗击{rng.choice(EVENTS)}先进集体"]
            if c.cat in ("hospital", "blood_station"):
                options.append("无偿献血促进奖")
            if c.cat in PUBLIC_PLACES:
                options.append(f"{y}年度公共场所卫生监督量化分级示范单位")
        else:
            options = [f"{y}年度全省优秀{CATEGORIES[c.cat][0]}", f"全省抗击{rng.choice(EVENTS)}先进个人",
                       "无偿献血奉献奖金奖", f"{y}年度{c.region.city or c.region.name}优秀医务工作者"]
        title = rng.choice(options)
        provincial = "全省" in title or "无偿献血" in title
        authority = self.authority if provincial else c.region.city_authority
        doc = (f"{p}卫人发〔{decided.year}〕{self.next_no('人发' + p, decided.year)}号" if provincial
               else f"{c.region.chead}卫发〔{decided.year}〕{self.next_no('卫发' + c.region.code[:4], decided.year)}号")
        self.add(c, "commendation", decided, title, f"{self._name(c)}荣获“{title}”称号，予以通报表彰。",
                 authority, doc_no=doc)

    def volunteer(self, c: _Ctx) -> None:
        rng = self.rng
        decided = self.decided(c)
        city = c.region.city or c.region.name
        if c.cat in MEDICAL or c.cat in ("doctor", "nurse", "blood_station"):
            title = rng.choice((f"参与{decided.year}年防汛救灾医疗救援", f"参加{city}马拉松赛事医疗保障志愿服务",
                                "开展送医下乡义诊志愿服务", "参加对口支援基层医疗卫生机构工作",
                                f"参与{decided.year}年突发公共卫生事件应急处置"))
        else:
            title = rng.choice((f"参与{decided.year}年防汛救灾志愿服务", "参加社区健康宣传志愿服务",
                                f"参与{city}文明城市创建志愿服务"))
        self.add(c, "volunteer", decided, title, f"{self._name(c)}{title}，表现突出。", c.region.district_authority)

    def monitoring(self, c: _Ctx) -> None:
        decided = self.decided(c)
        title = self.rng.choice(MONITORING[c.cat])
        self.add(c, "monitoring", decided, title, f"{c.s['name']}已{title}，监测数据实时上传。",
                 c.region.district_authority, months=self.rng.choice((12, 24, 36)))

    def honour(self, c: _Ctx) -> None:
        rng = self.rng
        decided = self.decided(c)
        city = c.region.city or c.region.name
        if c.kind == "org":
            title = rng.choice(("省级文明单位", f"{city}文明单位", "省级青年文明号", "省级卫生先进单位", "诚信经营示范单位")
                               + (("改善医疗服务示范医院",) if c.cat == "hospital" else ()))
        else:
            title = rng.choice((f"{city}“最美{CATEGORIES[c.cat][0]}”", "省级青年岗位能手", f"{city}“百佳{CATEGORIES[c.cat][0]}”"))
        self.add(c, "honour", decided, title, f"{self._name(c)}获评“{title}”。", c.region.city_authority)

    def redlist(self, c: _Ctx) -> None:
        decided = self.decided(c, recent_days=700)
        r = c.region
        title = f"列入卫生健康守信红名单（{decided.year}年度）"
        self.add(c, "redlist", decided, title,
                 f"{self._name(c)}连续三年无不良信用记录，经评定列入守信红名单，享受“绿色通道”等守信激励措施。",
                 r.city_authority,
                 doc_no=f"{r.chead}卫信用〔{decided.year}〕{self.next_no('信用' + r.code[:4], decided.year)}号",
                 months=self.rng.choice((12, 24)))

    # dishonest --------------------------------------------------------------------------------

    def severity(self, weights: tuple[float, float]) -> str:
        u = self.rng.random()
        return "minor" if u < weights[0] else "general" if u < weights[1] else "serious"

    def penalty(self, c: _Ctx, revoke: bool = False) -> None:
        rng = self.rng
        r = c.region
        issue, law = rng.choice(ISSUES[c.cat])
        decided = c.end if revoke else self.decided(c)
        y = decided.year
        severity = "serious" if revoke else self.severity((0.25, 0.85))
        if c.kind == "org" and (c.cat == "hospital" or rng.random() < 0.25):
            authority, head = (r.enforcement, f"{r.chead}卫监罚") if rng.random() < 0.6 else \
                (r.city_authority, f"{r.chead}卫罚")
        else:
            authority, head = r.district_authority, f"{r.dhead}卫罚"
        doc = f"{head}〔{y}〕{self.next_no(head, y)}号"
        if revoke:
            lname = LICENCES[c.cat][0] if c.kind == "org" else PERSON_LICENCES[c.cat]
            punish = f"吊销《{lname}》"
            title = f"{issue}（吊销许可）" if c.kind == "org" else f"{issue}（吊销执业证书）"
        else:
            title = issue
            if severity == "minor":
                punish = rng.choice(("警告", "警告，并处罚款人民币500元", "警告，并处罚款人民币1000元", "罚款人民币2000元"))
            elif severity == "general":
                amount = rng.choice((3000, 5000, 8000, 10000, 20000, 30000))
                punish = (f"罚款人民币{amount}元" if rng.random() < 0.7
                          else f"没收违法所得{rng.randint(2, 60) * 100}元，并处罚款人民币{amount}元")
            else:
                punish = rng.choice((f"罚款人民币{rng.choice((50000, 80000, 100000, 200000))}元",
                                     "责令暂停执业活动六个月" if c.kind == "person" else "责令停业整顿三个月"))
        who = c.s["name"] if c.kind == "org" else \
            f"当事人{c.s['name']}（{CATEGORIES[c.cat][0]}，执业机构：{c.employer_name}）"
        content = (f"经查，{who}存在{issue}的违法行为，违反了{law}的有关规定。"
                   f"依据{law}，{authority}决定给予{punish}的行政处罚。")
        rec = self.add(c, "penalty", decided, title, content, authority, doc_no=doc, severity=severity)
        # 湖南 第十四条 counts only penalties under the ordinary procedure as 失信. 行政处罚法 第五十一条:
        # a warning, or a fine up to 200 yuan (a person) / 3,000 yuan (an organisation), may be
        # decided on the spot under the simple procedure; the generator uses it for all of those.
        simple = severity == "minor" and (c.kind == "org" or punish == "警告")
        rec["ordinary_procedure"] = not simple

    def inspection(self, c: _Ctx) -> None:
        rng = self.rng
        r = c.region
        issue, _ = rng.choice(ISSUES[c.cat])
        decided = self.decided(c)
        head = f"{r.dhead}卫监意"
        content = (f"{_cn_date(decided)}，卫生监督员对{self._name(c)}进行监督检查，发现{issue}，现场下达《卫生监督意见书》，"
                   f"责令{rng.choice((7, 10, 15, 30))}日内整改。" + ("经复查已整改到位。" if rng.random() < 0.6 else ""))
        self.add(c, "inspection", decided, f"{issue}（责令限期整改）", content, r.district_authority,
                 doc_no=f"{head}〔{decided.year}〕{self.next_no(head, decided.year)}号",
                 severity=self.severity((0.75, 1.0)))

    def misconduct_points(self, c: _Ctx) -> None:
        rng = self.rng
        r = c.region
        issue, _ = rng.choice(ISSUES[c.cat])
        decided = self.decided(c)
        points = rng.choice((1, 2, 2, 3, 3, 6, 6, 12))
        severity = "minor" if points <= 3 else "general" if points < 12 else self.severity((0.0, 0.6))
        head = f"{r.chead}卫记分"
        content = (f"根据不良执业行为记分管理有关规定，对{self._name(c)}{issue}的行为记{points}分，"
                   f"本记分周期累计{points + rng.choice((0, 0, 1, 2, 3))}分。")
        self.add(c, "misconduct_points", decided, f"不良执业行为记{points}分：{issue}", content, r.city_authority,
                 doc_no=f"{head}〔{decided.year}〕{self.next_no(head, decided.year)}号", severity=severity)

    def criminal(self, c: _Ctx) -> None:
        rng = self.rng
        r = c.region
        decided = self.decided(c)
        if c.kind == "person":
            crime, sentence = rng.choice(CRIMES_PERSON)
        else:
            group = "medical" if c.cat in MEDICAL + ("pharmacy", "blood_station") else \
                "maker" if c.cat.endswith("maker") else "other"
            crime = rng.choice(CRIMES_ORG[group])
            sentence = f"判处罚金人民币{rng.choice((10, 20, 50, 100))}万元，对直接负责的主管人员依法追究刑事责任"
        doc = f"（{decided.year}）{r.prov}{r.code[2:6]}刑初{self.next_no('刑' + r.code, decided.year)}号"
        self.add(c, "criminal", decided, f"因犯{crime}被依法追究刑事责任",
                 f"{self._name(c)}因犯{crime}，经{r.court}一审判决，{sentence}。", r.court, doc_no=doc,
                 severity="serious")

    def court_refusal(self, c: _Ctx) -> None:
        r = c.region
        decided = self.decided(c)
        doc = f"（{decided.year}）{r.prov}{r.code[2:6]}执{self.next_no('执' + r.code, decided.year)}号"
        amount = self.rng.randint(5, 800) * 1000
        self.add(c, "court_refusal", decided, "拒不履行人民法院生效判决（失信被执行人）",
                 f"{self._name(c)}作为被执行人，拒不履行{r.court}生效判决确定的给付义务（执行标的{amount}元），"
                 f"已被纳入失信被执行人名单。", r.court, doc_no=doc, severity=self.severity((0.0, 0.6)))

    def _serious(self, c: _Ctx, rtype: str, title: str, authority: str, head: str, body: str) -> None:
        decided = self.decided(c)
        months = self.pick(self.tiers["serious"])
        doc = f"{head}〔{decided.year}〕{self.next_no(head, decided.year)}号"
        self.add(c, rtype, decided, title, body + f"公示期{months}个月。", authority, doc_no=doc,
                 severity="serious", months=months)

    def joint_punishment(self, c: _Ctx) -> None:
        reason = self.rng.choice(SERIOUS_REASONS_ORG if c.kind == "org" else SERIOUS_REASONS_PERSON)
        self._serious(c, "joint_punishment", f"列入失信联合惩戒对象名单（{reason}）", self.authority,
                      f"{c.region.prov}卫信用",
                      f"因{reason}，{self._name(c)}被列入失信联合惩戒对象名单，由相关部门依法依规实施联合惩戒。")

    def serious_list(self, c: _Ctx) -> None:
        reason = self.rng.choice(SERIOUS_REASONS_ORG if c.kind == "org" else SERIOUS_REASONS_PERSON)
        self._serious(c, "serious_list", "列入全省卫生健康领域严重失信主体名单", self.authority,
                      f"{c.region.prov}卫信用",
                      f"因{reason}，经认定，{self._name(c)}被列入全省卫生健康领域严重失信主体名单。")

    def blacklist(self, c: _Ctx) -> None:
        r = c.region
        reason = self.rng.choice(SERIOUS_REASONS_ORG if c.kind == "org" else SERIOUS_REASONS_PERSON)
        self._serious(c, "blacklist", f"列入卫生健康失信黑名单（{reason}）", r.city_authority,
                      f"{r.chead}卫信用", f"{self._name(c)}因{reason}，被列入卫生健康失信黑名单。")

    # repairs ----------------------------------------------------------------------------------

    def repairs(self, c: _Ctx) -> None:
        """Old dishonesty sometimes repaired (湖南 第二十九–三十一条): status ``repaired``, the record
        stays, and a 信用修复承诺 is on file."""
        if c.s["status"] != "active":
            return
        rng = self.rng
        for r in list(c.records):
            if (r["info_class"] in _DISHONEST and r["severity"] != "minor" and r["status"] == "active"
                    and (self.today_ord - r["decided_on"].toordinal()) > 200 and rng.random() < 0.22):
                r["status"] = "repaired"
                promise = self.day_between(r["decided_on"] + timedelta(days=90),
                                           min(r["decided_on"] + timedelta(days=200), self.today))
                self.commitment(c, kind="信用修复承诺", decided=promise)


RECORD_TYPE_ORDER = tuple(RECORD_TYPES)  # subject i (i < 17) is forced to carry record type i


def _main(argv: Sequence[str]) -> None:  # pragma: no cover - manual benchmark
    import time

    n = int(argv[0]) if argv else 20_000
    regions = [("430102", "芙蓉区"), ("430103", "天心区"), ("430104", "岳麓区"), ("430105", "开福区"),
               ("430111", "雨花区"), ("430112", "望城区"), ("430121", "长沙县"), ("430181", "浏阳市"),
               ("430182", "宁乡市"), ("430202", "荷塘区"), ("430302", "雨湖区"), ("430602", "岳阳楼区")]
    today = date.today()
    t0 = time.perf_counter()
    n_records = n_subjects = 0
    for _subject, records in iter_subjects(regions, n, 1, today, "湖南省卫生健康委员会"):
        n_subjects += 1
        n_records += len(records)
    dt = time.perf_counter() - t0
    print(f"{n_subjects} subjects, {n_records} records ({n_records / n_subjects:.2f}/subject) in {dt:.2f} s: "
          f"{n_subjects / dt:,.0f} subjects/s, {n_records / dt:,.0f} records/s")


if __name__ == "__main__":  # pragma: no cover
    import sys

    _main(sys.argv[1:])
