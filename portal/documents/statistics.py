"""The downloadable reports of ``services.statistics``: the yearly summary table per region as a
real .xlsx (openpyxl) and the yearly report on collection and use (海南 第五十条) as a PDF drawn
with the portal's PDF machinery (``services.verifiable``: CJK font, styles, footer).

Both take figures already computed by the service; nothing here reads the database.
"""
from __future__ import annotations

import io
from datetime import date

from ..domain.vocab import INFO_CLASS_LABELS, category_label, record_type_label
from .citations import profile_cite

KIND_LABELS = {"objection": "异议", "repair": "信用修复"}


def summary_xlsx(columns, rows, *, title: str, basis: str, generated_on: date) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总表"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"依据：{basis}；生成日期：{generated_on.isoformat()}"])
    ws.append(list(columns))
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    ws.freeze_panes = "C4"
    ws.column_dimensions["B"].width = 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def collection_use_pdf(dash, summary_columns, summary_rows, *, profile, region_name: str, generated_on: date) -> bytes:
    """The yearly report on collection and use (海南 第五十条: 信用信息归集、应用情况报告, with the
    providing and using units' figures and the 联合激励惩戒 statistics), citing the active
    profile's own regulation (``domain.statistics.REPORT_BASIS``)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table

    from ..domain.statistics import REPORT_BASIS
    from ..services.verifiable import build_pdf, facts_table, styles

    st = styles()
    p = st.p
    basis = profile_cite(profile, REPORT_BASIS)
    title = f"{dash.period.label}医疗卫生信用信息归集和应用情况报告"
    story = [p(profile.portal_name, st.center), p(title, st.h1),
             facts_table(st, [("统计期间", f"{dash.period.start} 至 {dash.period.end}"), ("统计范围", region_name),
                              ("编制单位", profile.authority), ("编制日期", generated_on.isoformat()),
                              ("编制依据", basis)])]

    def grid(header, body, widths):
        rows = [[p(h) for h in header]] + [[p(c) for c in r] for r in body]
        if not body:
            rows.append([p("本期间没有数据")] + [p("") for _ in header[1:]])
        return Table(rows, colWidths=[w * mm for w in widths], style=st.grid, repeatRows=1)

    by_unit: dict[str, dict[str, int]] = {}
    for _, cls, unit, n in dash.records:
        by_unit.setdefault(unit, {}).setdefault(cls, 0)
        by_unit[unit][cls] += n
    classes = list(INFO_CLASS_LABELS)
    story += [p("一、信用信息归集情况（按信息提供单位）", st.h2),
              p("按决定日期统计首次归集的信用信息条数（更正形成的新版本不重复计数）。", st.small),
              grid(["信息提供单位", *INFO_CLASS_LABELS.values(), "合计"],
                   [[u, *(v.get(c, 0) for c in classes), sum(v.values())] for u, v in sorted(by_unit.items())],
                   (50, 22, 22, 22, 28, 26))]
    use = dash.uses
    story += [p("二、信用信息应用情况", st.h2),
              grid(["应用方式", "次数"],
                   [[f"查看非公开信息（用途：{purpose}）", n] for purpose, n in use.get("private_views", [])]
                   + [["出具信用报告", use.get("reports", 0)],
                      ["二维码身份牌扫码查询", sum(n for _, n in dash.scans)]], (130, 40))]
    if dash.searched:
        story += [p("搜索最多的机构（从搜索结果打开机构页面的次数）", st.small),
                  grid(["机构", "区划代码", "次数"], [[name, r, n] for name, r, n in dash.searched], (100, 30, 40))]
    story += [p("三、异议和信用修复办理情况", st.h2),
              grid(["类别", "受理", "办结", "按期办结"],
                   [[KIND_LABELS[k], f.received, f.decided, f.decided_in_time] for k, f in dash.cases.items()],
                   (60, 36, 36, 38))]
    story += [p("四、联合激励和惩戒名单列入、移出情况", st.h2),
              grid(["名单", "列入", "移出"], [[record_type_label(t), e, x] for t, (e, x) in dash.lists.items()],
                   (90, 40, 40))]
    grades = {}
    for _, cat, letter, n in dash.grades:
        grades.setdefault(cat, {}).setdefault(letter, 0)
        grades[cat][letter] += n
    letters = [g.letter for g in profile.grades]
    story += [p("五、信用分级评价结果分布（按类别）", st.h2),
              grid(["类别", *letters, "合计"],
                   [[category_label(c), *(v.get(g, 0) for g in letters), sum(v.values())]
                    for c, v in sorted(grades.items())], (50, *([110 / (len(letters) + 1)] * (len(letters) + 1))))]
    story += [p("六、分区划汇总", st.h2)]
    cols = [0, 1, 2, 7, 13, 14, 16, 17, 19, 20, 21]
    story.append(grid([summary_columns[i] for i in cols], [[r[i] for i in cols] for r in summary_rows],
                      (19, 18, 15, 15, 14, 14, 14, 14, 14, 14, 19)))
    story += [Spacer(1, 4 * mm), p(dash.search_terms_note, st.small),
              p("本报告中的每个数字均可用命令 credit-portal stats 复核。", st.small)]
    return build_pdf(story, title=title, author=profile.authority, subject=title, creator=profile.portal_name,
                     footer_left=f"{profile.authority} · {title}")
