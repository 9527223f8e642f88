"""Who may do what through the government sharing API (海南 第二十五条 政务共享; 湖南 第六条、第二十四条):
the scopes a department client holds, its region, the unit whose records it writes, and the
stable error codes every refusal carries. Pure: facts in, yes/no out.

The privacy boundary (海南 第二十三条、第二十七条): a client without ``records:read:shared`` reads
public views only (``disclosure.public_view``); with it, records of scope 政务共享 as well (under the same
status and window rules as publication: not repaired, withdrawn, superseded or past its window,
never about a minor), each read written to the subject's 谁查看了我的信息 with the client's purpose. Records of scope
申请查询 are never shared through the API: they are given out on request only.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from .disclosure import publishable
from .permissions import in_region
from .vocab import Scope

READ_PUBLIC = "records:read:public"
READ_SHARED = "records:read:shared"
WRITE = "records:write"
FEED = "feed:read"

SCOPES = {
    READ_PUBLIC: "读取公开信用信息：主体、公示中的信息、名单、信用等级",
    READ_SHARED: "读取政务共享信息（非公开，逐次记入主体的“谁查看了我的信息”）",
    WRITE: "报送、更正、撤销本单位的信用信息",
    FEED: "拉取公开信息的增量数据（供省级信用平台归集）",
}

#: Scopes of records a client reads with ``records:read:shared`` (申请查询 never).
SHARED_SCOPES = (Scope.PUBLIC, Scope.SHARED)

# code -> (HTTP status, Chinese message). The codes are stable: clients branch on them.
ERRORS: dict[str, tuple[int, str]] = {
    "invalid_token": (401, "访问令牌无效或已过期，请重新获取令牌（/api/v1/token）"),
    "insufficient_scope": (403, "本客户端未获授权执行此操作（缺少权限范围 {scope}）"),
    "out_of_region": (403, "该信用主体不在本客户端的行政区划范围内"),
    "not_your_record": (403, "只能更正或撤销本单位（{authority}）报送的信息"),
    "no_authority": (403, "本客户端未登记所属单位，不能报送信息"),
    "unknown_subject": (404, "未找到该信用主体"),
    "unknown_record": (404, "未找到该条信用信息"),
    "unknown_list": (404, "没有这个名单"),
    "not_found": (404, "接口不存在，请查阅 /api/v1/openapi.json"),
    "method_not_allowed": (405, "该接口不支持此请求方式"),
    "invalid_json": (400, "请求体不是合法的 JSON 对象"),
    "unsupported_media_type": (415, "请求体须为 application/json"),
    "invalid_field": (400, "字段 {field} 不合法：{reason}"),
    "validation_failed": (400, "{reason}"),
    "invalid_parameter": (400, "参数 {field} 不合法：{reason}"),
    "cursor_expired": (410, "该游标之前的变更记录已清理，请先全量同步（/api/v1/feed/snapshot）再从返回的游标继续"),
    "idempotency_key_required": (400, "写操作须带 Idempotency-Key 请求头（8–100 位字母、数字、点、下划线或连字符）"),
    "idempotency_key_reused": (409, "该 Idempotency-Key 已用于内容不同的请求"),
    "conflict": (409, "{reason}"),
    "body_too_large": (413, "请求体过大（上限 {limit} 字节）"),
    "rate_limited": (429, "请求过于频繁，请 {seconds} 秒后再试"),
    "internal_error": (500, "系统暂时无法处理该请求，请稍后再试"),
}


def has_scope(granted, needed: str) -> bool:
    return needed in set(granted)


def covers_region(client_region: str, subject_region: str) -> bool:
    """A client registered for a region reads and writes only subjects inside it ("" = all)."""
    return in_region(client_region, subject_region)


def may_write_for(client_authority: str, record_authority: str) -> bool:
    """A client corrects or withdraws only its own unit's records (谁认定、谁更正)."""
    return bool(client_authority) and client_authority == record_authority


def visible_scopes(granted) -> tuple[str, ...]:
    """Record scopes the client reads in full: 社会公开 and 政务共享 with ``records:read:shared``,
    none otherwise (public views only)."""
    return SHARED_SCOPES if has_scope(granted, READ_SHARED) else ()


SHARED_FIELDS = ("scope", "is_current", "status", "publish_from", "publish_until", "severity", "decided_on")


def shareable(record: Any, today: date, birth_on: date | None = None, *, profile) -> bool:
    """Whether a ``records:read:shared`` client sees ``record``: its scope is 社会公开 or 政务共享
    and it passes every other rule of publication (``disclosure.publishable``: current version,
    active, inside its window, a published tier, not about what a minor did). Sharing widens who
    sees a record, never how long or after a repair (湖南 第三十一条; 海南 第二十五条)."""
    scope = record.get("scope") if isinstance(record, dict) else getattr(record, "scope", None)
    if scope not in SHARED_SCOPES:
        return False
    facts = {f: (record.get(f) if isinstance(record, dict) else getattr(record, f, None)) for f in SHARED_FIELDS}
    facts["scope"] = Scope.PUBLIC
    return publishable(facts, today, birth_on, profile=profile)
