"""Text normalisation for matching questions: full-width, traditional characters, typos.

People type on phones, with traditional-character input methods, with pinyin homophone slips
("意议" for 异议). Matching works on a normalised form; what is *shown* is never normalised.
The traditional→simplified table is small and built in (common characters of everyday and
administrative language), not a full converter: that would be a large dependency for a few
hundred characters that matter here.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Traditional → simplified, one-to-one for the characters that occur in questions about the
# portal. Characters that are the same in both scripts are not listed.
_T2S_PAIRS = (
    "異异議议復复複复請请問问麼么這这個个醫医術术藥药衛卫衞卫療疗診诊級级處处罰罚讓让時时間间幾几"
    "報报會会對对於于與与為为們们說说話话詢询證证號号碼码構构機机關关單单開开資资訊讯網网絡络頁页"
    "點点擊击電电線线辦办審审準准結结書书訴诉舉举權权義义務务責责條条規规範范徵征稅税費费錢钱給给"
    "嗎吗還还沒没無无過过後后從从來来進进發发現现際际決决變变紀纪錄录記记該该應应當当須须將将據据"
    "訂订設设計计劃划實实認认識识學学習习員员師师護护專专業业齡龄歲岁齊齐養养寫写讀读聽听見见觀观"
    "覺觉親亲愛爱樂乐歡欢難难雙双隨随檢检驗验測测鑒鉴鑑鉴評评價价質质標标體体係系統统區区縣县鄉乡"
    "鎮镇東东廣广蘇苏漢汉長长門门閱阅聞闻歷历曆历層层屬属嚴严輕轻較较轉转達达運运邊边選选遞递遠远"
    "連连週周傷伤億亿備备傳传儲储償偿優优僅仅偽伪儀仪兩两內内剛刚劑剂動动勞劳勢势勵励華华協协厲厉"
    "參参嚇吓團团園园圖图圍围國国場场壞坏壓压塊块聲声夠够頭头奪夺婦妇媽妈孫孙寶宝寧宁導导尋寻屆届"
    "島岛幣币師师帳帐帶带幫帮幹干廠厂庫库廳厅張张強强彈弹歸归徑径態态懷怀憑凭戰战戶户掃扫換换揚扬"
    "損损擁拥擇择擔担擴扩擾扰攝摄敗败數数斷断晝昼暫暂樣样樹树橋桥檔档殘残殺杀毀毁氣气湯汤溝沟滅灭"
    "滿满潔洁澤泽濟济濕湿災灾煙烟熱热營营爭争牆墙狀状獎奖獲获環环產产畫画盡尽監监盤盘眾众確确禮礼"
    "種种稱称穩稳積积競竞筆笔節节築筑簡简籌筹簽签類类糧粮約约紅红純纯紙纸細细終终組组絕绝經经綜综"
    "維维緊紧練练總总績绩繳缴續续羅罗聯联職职腦脑臨临興兴舊旧藝艺蘭兰衝冲補补裝装製制襲袭視视討讨"
    "訓训訪访許许註注詐诈詞词試试詳详誠诚誤误諸诸課课調调談谈論论謝谢譜谱豐丰負负財财貨货販贩貪贪"
    "貴贵買买貿贸賠赔賣卖購购贈赠趕赶躍跃車车軍军輔辅輸输轄辖農农違违遺遗郵邮釋释針针錯错鍵键閉闭"
    "闖闯陽阳隊队階阶險险隱隐雜杂離离靈灵預预領领頻频題题額额顏颜願愿顧顾風风飛飞飯饭館馆馬马髮发"
    "鬥斗魚鱼鳥鸟麥麦黃黄齒齿龍龙瞭了啟启臺台灣湾銷销鋪铺歐欧壽寿癒愈僱雇頒颁懲惩顯显錶表賬账兒儿"
    "執执貼贴繫系縮缩贊赞麗丽歲岁罷罢氫氢鹽盐灑洒滾滚潛潜澀涩燈灯爛烂猶犹獨独獄狱瑪玛產产畢毕瘋疯"
    "發发盜盗睏困礙碍禦御禪禅窩窝窯窑竊窃筍笋箋笺範范糾纠紋纹納纳紐纽紓纾純纯紗纱紡纺組组絆绊絲丝"
    "綁绑綠绿緒绪緣缘編编縫缝繩绳罵骂膚肤膽胆艙舱莊庄葉叶蔣蒋虛虚蝦虾蟲虫衛卫襯衬規规覽览觸触訊讯"
    "託托記记訟讼診诊詮诠詢询該该詳详認认誘诱誼谊諒谅諾诺謀谋謊谎講讲謹谨證证譯译護护讀读變变讚赞"
    "貓猫賓宾賦赋賽赛贏赢趨趋軟软載载輝辉輪轮辭辞邏逻鄰邻醜丑鈔钞鉤钩銀银銅铜鋼钢錄录鍋锅鎖锁鏡镜"
    "鐘钟鐵铁閃闪闊阔闢辟陣阵陰阴陳陈陸陆雞鸡雲云電电霧雾韓韩頂顶項项順顺頓顿頗颇餘余驅驱驚惊骯肮"
    "髒脏鬧闹魯鲁鮮鲜鳳凤鴨鸭鵝鹅麵面黨党齡龄龜龟補补誰谁訴诉喚唤嘆叹嘗尝噸吨嚴严囑嘱圓圆塗涂墊垫"
    "壯壮奧奥妝妆婁娄孿孪賴赖歎叹毆殴滯滞漲涨濃浓瀏浏爐炉犧牺獅狮現现璽玺甕瓮癢痒盃杯碩硕礎础禍祸"
    "穀谷窮穷籃篮糞粪緝缉縣县繪绘罈坛羨羡聳耸腎肾膠胶艦舰蕭萧藍蓝蘋苹蘇苏螢萤裏里褲裤覆覆"
)
_T2S = {t: s for t, s in zip(_T2S_PAIRS[0::2], _T2S_PAIRS[1::2], strict=False) if t != s}

# Pinyin-input homophone slips on the portal's key words, seen in government hotline logs and
# easy to make on a phone keyboard. Applied after the traditional→simplified mapping.
_CORRECTIONS = {
    "意议": "异议", "异意": "异议", "议异": "异议", "异以": "异议", "移议": "异议", "疑义": "异议", "异义": "异议", "议义": "异议",
    "修服": "修复", "修付": "修复", "休复": "修复", "修福": "修复", "秀复": "修复", "修副": "修复",
    "信誉修复": "信用修复", "信用休复": "信用修复",
    "等极": "等级", "登级": "等级", "等集": "等级", "登记等级": "等级",
    "处法": "处罚", "出罚": "处罚", "处伐": "处罚", "惩法": "惩罚",
    "收废": "收费", "手费": "收费", "收肺": "收费",
    "身分证": "身份证", "身份正": "身份证", "甚么": "什么", "麽": "么",
    "公式期": "公示期", "公事期": "公示期",
    "工做日": "工作日", "工作曰": "工作日",
    "失性": "失信", "诗信": "失信", "守性": "守信",
    "医完": "医院",
    # colloquial and dialect wording (湘、川、北方口语)
    "啷个": "怎么", "咋个": "怎么", "咋样": "怎么样", "咋整": "怎么办", "咋弄": "怎么办", "咋办": "怎么办",
    "么子": "什么", "莫子": "什么", "啥子": "什么", "啥": "什么", "咋": "怎么", "哪个时候": "什么时候",
}

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """Drop control and invisible formatting characters, collapse whitespace; keeps the text
    otherwise as typed (this is what is shown back, escaped)."""
    return _SPACE.sub(" ", _CONTROL.sub("", text or "")).strip()


@lru_cache(maxsize=2048)
def normalise(text: str) -> str:
    """The matching form: NFKC (full-width → half-width, ① → 1), lower-case Latin letters,
    traditional → simplified for common characters, homophone slips corrected, whitespace
    removed between Chinese characters."""
    text = unicodedata.normalize("NFKC", clean(text)).lower()
    text = "".join(_T2S.get(c, c) for c in text)
    for wrong, right in _CORRECTIONS.items():
        if wrong in text:
            text = text.replace(wrong, right)
    # spaces only separate Latin words and numbers; Chinese text does not need them
    return re.sub(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])", "", text)


def is_cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"


def meaningful(text: str) -> bool:
    """True when the text holds at least one Chinese character, letter or digit (not only
    emoji, punctuation or symbols)."""
    return any(is_cjk(c) or c.isalnum() for c in text)


def tokens(text: str) -> list[str]:
    """Retrieval tokens: character bigrams of each Chinese run (a single character when the run
    has one), and Latin words / numbers whole."""
    out: list[str] = []
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[a-z0-9]+", normalise(text)):
        if is_cjk(run[0]):
            out.extend(run[i:i + 2] for i in range(len(run) - 1)) if len(run) > 1 else out.append(run)
        else:
            out.append(run)
    return out


def bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


@lru_cache(maxsize=256)
def _text_bigrams(text: str) -> frozenset[str]:
    return frozenset(bigrams(text))


def similarity(a: str, b: str) -> float:
    """Dice coefficient over character bigrams (0..1); single characters compare equal/unequal."""
    if a == b:
        return 1.0
    ba, bb = bigrams(a), bigrams(b)
    if not ba or not bb:
        return 0.0
    return 2 * len(ba & bb) / (len(ba) + len(bb))


def fuzzy_contains(text: str, phrase: str, threshold: float = 0.65) -> bool:
    """``phrase`` occurs in ``text`` exactly, or (for phrases of four or more characters) a
    window of about the same length is bigram-similar enough: one wrong character in a
    four-character phrase still matches ("信用修服" ~ "信用修复"). Shorter phrases match
    exactly only: with two or three characters one slip changes the word."""
    if phrase in text:
        return True
    n = len(phrase)
    if n < 4:
        return False
    wanted = bigrams(phrase)
    # no window can reach the threshold unless enough of the phrase's bigrams occur at all
    if 2 * len(wanted & _text_bigrams(text)) < threshold * (len(wanted) + n - 2):
        return False
    for size in {n - 1, n, n + 1}:
        for i in range(0, max(0, len(text) - size) + 1):
            if similarity(text[i:i + size], phrase) >= threshold:
                return True
    return False


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}


def cn_number(text: str) -> int:
    """A Chinese numeral up to 999 ("二十八" → 28, "一百零五" → 105) or ASCII digits."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for c in text:
        if c in _CN_DIGITS:
            current = _CN_DIGITS[c]
        elif c == "十":
            total += (current or 1) * 10
            current = 0
        elif c == "百":
            total += (current or 1) * 100
            current = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + current


def cn_numeral(n: int) -> str:
    """28 → "二十八" (1..999), the form used in 第N条."""
    digits = "零一二三四五六七八九"
    if not 0 < n < 1000:
        raise ValueError(n)
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += digits[hundreds] + "百"
        if rest and tens == 0:
            out += "零"
    if tens:
        out += ("" if tens == 1 and not hundreds else digits[tens]) + "十"
    if ones:
        out += digits[ones]
    return out
