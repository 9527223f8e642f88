"""Micro-benchmark of search_index: build rate and query latency on synthetic subjects.

    .venv/bin/python bench/search_micro.py [--docs 10000] [--backend whoosh|tantivy|memory|postgresql|both|all]
        [--pg-url postgresql+psycopg://user@host:port/db]   (default: TEST_DATABASE_URL)

The PostgreSQL store goes under the table prefix ``bench_micro_`` and is dropped afterwards.

Prints figures; asserts nothing. Names are realistic Chinese facility names.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search_index import SearchQuery, open_backend  # noqa: E402

CITIES = ["长沙市", "株洲市", "湘潭市", "衡阳市", "邵阳市", "岳阳市", "常德市", "南京市", "北京市", "海口市"]
DISTRICTS = ["芙蓉区", "天心区", "岳麓区", "开福区", "雨花区", "望城区", "龙华区", "美兰区", "鼓楼区", "玄武区"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "仁和康泰安福德寿春华民生济世同心惠众百信永昌益佳慈爱博雅"
TITLES = ["未按规定执业被责令整改", "违反消毒管理办法行政处罚", "年度先进集体表彰", "公共场所卫生监督抽检不合格",
          "超范围执业处罚", "无偿献血先进单位", "医疗废物处置不规范", "信用承诺书"]
RECORD_TYPES = ["penalty", "commendation", "inspection", "commitment", "licence"]
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_docs(n: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    docs = []
    for i in range(n):
        city, district = rnd.choice(CITIES), rnd.choice(DISTRICTS)
        given = "".join(rnd.sample(GIVEN, 2))
        shape = i % 4
        if shape == 0:
            name, cat, label = f"{city}{district}第{'一二三四五六七八九'[i % 9]}人民医院", "hospital", "医院"
        elif shape == 1:
            name, cat, label = f"{rnd.choice(SURNAMES)}氏口腔诊所（{district}{i}店）", "clinic", "诊所、门诊部"
        elif shape == 2:
            name, cat, label = f"{city}{given}大药房连锁有限公司{district}{i}分店", "pharmacy", "药店"
        else:
            name, cat, label = f"{city}{given}宾馆{i}号", "hotel", "住宿场所"
        region = f"43{rnd.randint(1, 13):02d}{rnd.randint(1, 5):02d}"
        uscc = "9143" + "".join(rnd.choice(USCC_CHARS) for _ in range(14))
        types = rnd.sample(RECORD_TYPES, rnd.randint(0, 3))
        docs.append({
            "id": f"s{i}", "kind": "org", "name": name, "codes": [uscc, f"PDY{i:05d}X{region}17A1001"],
            "category": cat, "category_label": label, "region_code": region, "region_name": district,
            "address": f"{city}{district}{rnd.choice(GIVEN)}{rnd.choice(GIVEN)}路{rnd.randint(1, 999)}号",
            "grade": rnd.choice(["A", "B", "C", "D", ""]), "grade_year": 2025, "record_types": types,
            "titles": rnd.sample(TITLES, min(len(types), 2)), "url": f"/facility/s{i}", "updated_on": "2026-11-20",
        })
    return docs


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _url(kind: str, tmp: str, pg_url: str | None) -> str:
    if kind == "postgresql":
        if not pg_url:
            raise SystemExit("--backend postgresql needs --pg-url or TEST_DATABASE_URL")
        return pg_url + ("&" if "?" in pg_url else "?") + "table_prefix=bench_micro_"
    return "memory://" if kind == "memory" else f"{kind}://{tmp}/ix"


def run(kind: str, docs: list[dict], rounds: int, pg_url: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend = open_backend(_url(kind, tmp, pg_url))
        t0 = time.perf_counter()
        backend.rebuild(docs)
        build = time.perf_counter() - t0
        print(f"\n[{kind}] rebuild {len(docs)} docs: {build:.2f} s = {len(docs) / build:,.0f} docs/s")

        batch = [dict(d, name=d["name"] + "新") for d in docs[:100]]
        t0 = time.perf_counter()
        backend.upsert(batch)
        print(f"[{kind}] upsert 100 docs (one commit): {(time.perf_counter() - t0) * 1000:.0f} ms")
        t0 = time.perf_counter()
        backend.upsert(batch[:1])
        print(f"[{kind}] upsert 1 doc: {(time.perf_counter() - t0) * 1000:.0f} ms")

        code = docs[123]["codes"][0]
        queries = [
            SearchQuery("人民医院"), SearchQuery("民医"), SearchQuery("腔诊"), SearchQuery("京市"),
            SearchQuery("大药房"), SearchQuery("王氏口腔"), SearchQuery("院"), SearchQuery(code.lower()),
            SearchQuery("长沙市芙蓉区第一人民医院"), SearchQuery("宾馆 12"),
            SearchQuery("医院", {"region_code": "430100", "grade": "A"}), SearchQuery("", {"category": "hotel"}),
            SearchQuery("人民医院", page=5),
        ]
        t0 = time.perf_counter()
        first = backend.search(queries[0])
        print(f"[{kind}] first search (opens the searcher): {(time.perf_counter() - t0) * 1000:.0f} ms")
        per_query: dict[str, list[float]] = {}
        all_times: list[float] = []
        for _ in range(rounds):
            for q in queries:
                t0 = time.perf_counter()
                r = backend.search(q)
                dt = (time.perf_counter() - t0) * 1000
                per_query.setdefault(f"{q.text!r} {q.filters or ''} p{q.page}", []).append(dt)
                all_times.append(dt)
                per_query.setdefault("_totals", []).append(r.total)
        for label, times in per_query.items():
            if label != "_totals":
                print(f"    {label:45} median {statistics.median(times):7.1f} ms")
        print(f"[{kind}] query p50 {percentile(all_times, 50):.1f} ms, p95 {percentile(all_times, 95):.1f} ms"
              f" over {len(all_times)} searches ({len(queries)} shapes, first result total={first.total})")
        if kind == "postgresql":
            backend.drop()
        backend.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--backend", choices=["whoosh", "tantivy", "memory", "postgresql", "both", "all"],
                    default="both", help="both = whoosh and memory; all = whoosh, tantivy and memory")
    ap.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL"))
    args = ap.parse_args()
    docs = make_docs(args.docs)
    kinds = {"both": ["whoosh", "memory"], "all": ["whoosh", "tantivy", "memory"]}.get(args.backend, [args.backend])
    for kind in kinds:
        run(kind, docs, args.rounds, args.pg_url)


if __name__ == "__main__":
    main()
