"""Import credit records from .csv, .xlsx or .jsonl (``credit-portal import FILE``).

One documented column set. A bad file is rejected whole with a row-by-row report in Chinese;
nothing is half-imported: every row passes the same rules as the web forms' service verbs, is
staged in short committed batches and published in one short transaction only when the whole
file is valid (``import_staging``: a long import no longer holds SQLite's write lock).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ..documents.citations import own_parts
from ..domain.provision import ACTION_LABELS, ADD, CORRECT, WITHDRAW
from ..domain.vocab import (
    CATEGORIES,
    INFO_CLASS_LABELS,
    RECORD_TYPES,
    SCOPE_LABELS,
    SEVERITY_LABELS,
    SUBJECT_KIND_LABELS,
)
from .context import ServiceContext
from .errors import ServiceError
from .import_changes import StagedChanges
from .import_staging import StagedImport

# (key, Chinese header, required, help)
COLUMNS: tuple[tuple[str, str, bool, str], ...] = (
    ("subject_code", "主体代码", True, "机构填统一社会信用代码，个人填居民身份证号码"),
    ("subject_name", "主体名称", True, "机构名称或姓名"),
    ("subject_kind", "主体类型", True, "机构 / 个人（org / person）"),
    ("category", "主体类别", True, "如 医院、诊所、门诊部、药店、医师（或代码 hospital …）"),
    ("region_code", "区划代码", True, "6 位行政区划代码，须属于本辖区"),
    ("record_type", "信息类型", True, "如 行政处罚、表彰奖励、行政许可（或代码 penalty …）"),
    ("info_class", "信息类别", False, "基础信息 / 增信信息 / 失信信息 / 严重失信信息；留空按信息类型"),
    ("severity", "严重程度", False, "失信信息必填：轻微 / 一般 / 严重"),
    ("title", "标题", True, "如 违法事实摘要或许可名称"),
    ("content", "内容", False, "处理依据、结果等"),
    ("public_summary", "公示摘要", False, "选填：填写后公示页面以此代替“内容”显示，请勿写入患者、投诉人等他人的个人信息"),
    ("authority", "认定部门", True, "作出决定的部门"),
    ("doc_no", "文书号", False, "如 湘卫罚〔2025〕12号"),
    ("decided_on", "决定日期", True, "YYYY-MM-DD"),
    ("scope", "公开方式", True, "社会公开 / 政务共享 / 申请查询"),
    ("publish_from", "公示起始日期", False, "YYYY-MM-DD，留空为决定日期"),
    ("publish_until", "公示截止日期", False, "YYYY-MM-DD，留空按本辖区公示期限默认值"),
    # + the profile's own rule where it has one (湖南 第十四条): ``columns(profile)``
    ("ordinary_procedure", "普通程序", False, "仅行政处罚填写：是（普通程序）/ 否（简易程序）"),
    # Corrections and withdrawals (海南 第五十二条: a new version, the old one stays).
    ("action", "操作", False, "新增 / 更正 / 撤回；留空为新增"),
    ("record_ref", "原信息编号", False, "更正、撤回时必填：信息提供单位工作台“信息编号”一栏"),
    ("change_reason", "更正撤回理由", False, "更正、撤回时必填"),
)
KEYS = [c[0] for c in COLUMNS]


def columns(profile) -> tuple[tuple[str, str, bool, str], ...]:
    """``COLUMNS`` as they read under ``profile``: the 普通程序 column says that only ordinary-procedure
    penalties count as dishonesty where the profile's [dishonesty] rule says so, citing its own
    article (湖南 第十四条 under hunan); elsewhere it states no rule and no article."""
    d = getattr(profile, "dishonesty", None)
    if d is None or not d.penalty_ordinary_procedure_only:
        return COLUMNS
    basis = own_parts(d.article, profile.document) or "本辖区办法"
    return tuple((k, label, required, f"{help_text}；{basis}只将普通程序的行政处罚列为失信信息"
                  if k == "ordinary_procedure" else help_text) for k, label, required, help_text in COLUMNS)
HEADER_ALIASES = {c[1]: c[0] for c in COLUMNS} | {c[0]: c[0] for c in COLUMNS}
LABEL = {c[0]: c[1] for c in COLUMNS}
FIELD_TO_COLUMN = {"code": "subject_code", "name": "subject_name", "kind": "subject_kind"}
MAX_ROWS = 500_000
PREVIEW_LIMIT = 500


def _reverse(labels: dict) -> dict[str, str]:
    return {str(v): str(k) for k, v in labels.items()} | {str(k): str(k) for k in labels}


VALUE_MAPS = {
    "subject_kind": _reverse(SUBJECT_KIND_LABELS),
    "category": {label: code for code, (label, _) in CATEGORIES.items()} | {c: c for c in CATEGORIES},
    "record_type": {label: code for code, (label, _) in RECORD_TYPES.items()} | {c: c for c in RECORD_TYPES},
    "info_class": _reverse(INFO_CLASS_LABELS),
    "severity": _reverse(SEVERITY_LABELS),
    "scope": _reverse(SCOPE_LABELS) | {"公开": "public"},
    "action": _reverse(ACTION_LABELS),
}
# A withdrawal names its record and a reason; the rest of the row may stay empty.
WITHDRAW_REQUIRED = ("subject_code", "record_ref", "change_reason")
# 湖南 第十四条: 行政处罚（仅限普通程序）. Empty = not recorded.
PROCEDURE_VALUES = {"是": True, "普通程序": True, "普通": True, "true": True, "1": True, "yes": True, "y": True,
                    "否": False, "简易程序": False, "简易": False, "false": False, "0": False, "no": False,
                    "n": False}


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based data row as a spreadsheet user sees it (header is row 1)
    column: str
    message: str

    def __str__(self) -> str:
        col = f"“{LABEL.get(self.column, self.column)}”列" if self.column else ""
        return f"第 {self.row} 行{col}：{self.message}"


@dataclass
class ImportReport:
    rows: int = 0
    subjects: int = 0
    records: int = 0
    errors: list[RowError] = field(default_factory=list)
    corrections: int = 0
    withdrawals: int = 0
    # What the file will do, row by row (capped at PREVIEW_LIMIT): action, row, subject, title.
    preview: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFileError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK by default
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("文件编码无法识别，请保存为 UTF-8 编码的 CSV")


def _rows_csv(raw: bytes) -> Iterator[dict]:
    reader = csv.reader(io.StringIO(_decode(raw)))
    header = next(reader, None)
    if not header:
        raise ImportFileError("文件为空")
    keys = _map_header(header)
    for cells in reader:
        if not any(c.strip() for c in cells):
            yield {}
            continue
        yield {k: (cells[i] if i < len(cells) else "") for i, k in enumerate(keys) if k}


def _rows_xlsx(raw: bytes) -> Iterator[dict]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise ImportFileError("无法读取 Excel 文件，请确认是 .xlsx 格式") from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise ImportFileError("文件为空")
    keys = _map_header(["" if h is None else str(h) for h in header])
    for cells in rows:
        if not any(c not in (None, "") for c in cells):
            yield {}
            continue
        yield {k: cells[i] if i < len(cells) else "" for i, k in enumerate(keys) if k}


def _rows_jsonl(raw: bytes) -> Iterator[dict]:
    text = _decode(raw)
    for _n, line in enumerate(text.splitlines(), start=2):
        if not line.strip():
            yield {}
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            yield {"__error__": "这一行不是合法的 JSON"}
            continue
        if not isinstance(obj, dict):
            yield {"__error__": "每一行应是一个 JSON 对象"}
            continue
        yield {HEADER_ALIASES.get(k, k): v for k, v in obj.items() if HEADER_ALIASES.get(k)}


def _map_header(header: list[str]) -> list[str | None]:
    keys = [HEADER_ALIASES.get(h.strip()) for h in header]
    missing = [LABEL[k] for k, _, required, _ in COLUMNS if required and k not in keys]
    if missing:
        raise ImportFileError("缺少必需的列：" + "、".join(missing) + "。请使用导入模板。")
    return keys


def read_rows(filename: str, raw: bytes) -> Iterator[dict]:
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return _rows_csv(raw)
    if suffix == ".xlsx":
        return _rows_xlsx(raw)
    if suffix == ".jsonl":
        return _rows_jsonl(raw)
    raise ImportFileError("只支持 .csv、.xlsx、.jsonl 文件")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value, column: str, row: int, errors: list[RowError]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        errors.append(RowError(row, column, f"日期“{text[:20]}”格式不正确，应为 YYYY-MM-DD"))
        return None


def _parse_row(cells: dict, row: int) -> tuple[dict, list[RowError]]:
    errors: list[RowError] = []
    if "__error__" in cells:
        return {}, [RowError(row, "", cells["__error__"])]
    values = {k: _text(cells.get(k)) for k in KEYS}
    action = VALUE_MAPS["action"].get(values["action"], values["action"]) if values["action"] else ADD
    for key, _label, required, _ in COLUMNS:
        needed = key in WITHDRAW_REQUIRED if action == WITHDRAW else (
            required or (action == CORRECT and key in WITHDRAW_REQUIRED))
        if needed and not values[key]:
            errors.append(RowError(row, key, "不能为空"))
    if values["record_ref"] and not (values["record_ref"].isdigit() and len(values["record_ref"]) < 12):
        errors.append(RowError(row, "record_ref", f"信息编号“{values['record_ref'][:20]}”应为数字"))
    if len(values["change_reason"]) > 300:
        errors.append(RowError(row, "change_reason", "理由不超过 300 字"))
    for key, mapping in VALUE_MAPS.items():
        if values[key]:
            code = mapping.get(values[key]) or mapping.get(values[key].lower())
            if code is None:
                errors.append(RowError(row, key, f"无法识别的取值“{values[key][:30]}”"))
            values[key] = code or ""
    for key in ("decided_on", "publish_from", "publish_until"):
        values[key] = _date(cells.get(key), key, row, errors)
    raw_procedure = cells.get("ordinary_procedure")
    if isinstance(raw_procedure, bool):  # JSON true / false
        values["ordinary_procedure"] = raw_procedure
    elif values["ordinary_procedure"]:
        flag = PROCEDURE_VALUES.get(values["ordinary_procedure"].lower())
        if flag is None:
            errors.append(RowError(row, "ordinary_procedure",
                                   f"无法识别的取值“{values['ordinary_procedure'][:30]}”，应填 是 或 否"))
        values["ordinary_procedure"] = flag
    else:
        values["ordinary_procedure"] = None
    values["action"] = values["action"] or ADD
    return values, errors


def _preview(report: ImportReport, row: int, values: dict) -> None:
    if len(report.preview) < PREVIEW_LIMIT:
        report.preview.append({"row": row, "action": values["action"], "subject": values["subject_name"],
                               "title": values["title"], "record_ref": values["record_ref"],
                               "reason": values["change_reason"]})


def import_rows(ctx: ServiceContext, rows: Iterator[dict], progress: Callable[[int], None] | None = None, *,
                scope: Callable[[str, str], None] | None = None, dry_run: bool = False) -> ImportReport:
    """Validate every row with the service rules and stage it in short committed batches; when
    the whole file is valid, publish it in one short transaction (the caller commits). A bad file
    publishes nothing and its staged rows are dropped (``import_staging``).

    Rows marked 更正 / 撤回 change an existing record as a new version, in the same transaction
    (``import_changes``). ``scope(region_code, authority)`` raises ``ServiceError`` for a row the
    caller may not provide (a providing unit: its own unit and region). ``dry_run``: validate
    and report what the file would do (the upload preview); nothing is staged or written."""
    report = ImportReport()
    staged = StagedImport(ctx)
    changes = StagedChanges(ctx, scope)
    for index, cells in enumerate(rows, start=2):
        if not cells:
            continue
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.errors.append(RowError(index, "", f"文件超过 {MAX_ROWS} 行，请分批导入"))
            break
        values, errors = _parse_row(cells, index)
        if errors:
            report.errors.extend(errors)
            continue
        try:
            if values["action"] == ADD:
                if scope is not None:
                    scope(values["region_code"], values["authority"])
                staged.add(index, values, keep=not report.errors and not dry_run)  # after an error only validate
            else:
                changes.check(index, values)
            _preview(report, index, values)
        except ServiceError as exc:
            report.errors.append(RowError(index, FIELD_TO_COLUMN.get(exc.field, exc.field), exc.message))
        if progress:
            progress(1)
    if report.rows == 0 and not report.errors:
        report.errors.append(RowError(2, "", "文件中没有数据行"))
    if not report.errors and not dry_run:
        report.errors.extend(RowError(row, FIELD_TO_COLUMN.get(f, f), m) for row, f, m in staged.publish())
        if not report.errors:
            report.errors.extend(RowError(row, FIELD_TO_COLUMN.get(f, f), m) for row, f, m in changes.apply())
    report.corrections, report.withdrawals = changes.corrections, changes.withdrawals
    if dry_run and not report.errors:
        report.records, report.subjects = staged.records, staged.subjects
    if report.errors or dry_run:
        report.errors.sort(key=lambda e: e.row)  # stable: a row's errors keep their column order
        staged.discard()
        return report
    report.records = staged.records
    report.subjects = staged.subjects
    return report



def import_file(ctx: ServiceContext, filename: str, raw: bytes,
                progress: Callable[[int], None] | None = None, *, scope: Callable[[str, str], None] | None = None,
                dry_run: bool = False) -> ImportReport:
    """Import a whole file; the caller commits when ``report.ok``. ``dry_run``: only the report
    and the preview (nothing written, no audit event)."""
    from .audit import record_event

    try:
        report = import_rows(ctx, read_rows(filename, raw), progress, scope=scope, dry_run=dry_run)
    except ImportFileError:
        raise
    except csv.Error as exc:
        raise ImportFileError(f"CSV 格式错误：{exc}") from exc
    if report.ok and not dry_run:
        record_event(ctx.session, ctx.actor, "import", object_ref=f"file:{Path(filename).name[:80]}",
                     detail={"rows": report.rows, "records": report.records, "subjects": report.subjects,
                             "corrections": report.corrections, "withdrawals": report.withdrawals})
    return report


EXAMPLE = {
    "subject_code": "（示例）91430100XXXXXXXXXX", "subject_name": "示例市第一人民医院", "subject_kind": "机构",
    "category": "医院", "region_code": "430102", "record_type": "行政处罚", "info_class": "失信信息",
    "severity": "一般", "title": "使用非卫生技术人员从事医疗卫生技术工作", "content": "警告并处罚款人民币五千元",
    "public_summary": "",
    "authority": "示例市卫生健康委员会", "doc_no": "湘卫罚〔2025〕1号", "decided_on": "2025-03-01",
    "scope": "社会公开", "publish_from": "2025-03-08", "publish_until": "2026-03-07", "ordinary_procedure": "是",
    "action": "新增", "record_ref": "", "change_reason": "",
}


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c[1] for c in COLUMNS])
    writer.writerow([EXAMPLE[c[0]] for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(profile) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "信用信息"
    ws.append([c[1] for c in COLUMNS])
    ws.append([EXAMPLE[c[0]] for c in COLUMNS])
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "代码", "是否必填", "说明"])
    for key, label, required, help_text in columns(profile):
        notes.append([label, key, "必填" if required else "选填", help_text])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
