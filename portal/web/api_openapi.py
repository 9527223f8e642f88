"""The OpenAPI 3 document of the sharing API (``/api/v1/openapi.json``), built from the same
field tables the API validates with (``domain.api_fields``) and the same error codes it answers
with (``domain.api_access.ERRORS``)."""
from __future__ import annotations

from ..documents.citations import own_note
from ..domain.api_access import ERRORS, SCOPES
from ..domain.api_fields import NEW_RECORD, NEW_RECORD_REQUIRED, REASON, RECORD_FIELDS, Field
from ..services.api_feed import SEQ_MAX
from ..services.public_pages import LIST_TYPES

STR = {"type": "string"}
DATE_OR_NULL = {"type": "string", "format": "date", "nullable": True}


def _field_schema(spec: Field) -> dict:
    if spec.kind == "boolean":
        out: dict = {"type": "boolean"}
    elif spec.kind == "date":
        out = {"type": "string", "format": "date"}
    elif spec.kind == "enum":
        out = {"type": "string", "enum": list(spec.choices)}
    else:
        out = {"type": "string", "maxLength": spec.max_length}
    if spec.nullable:
        out["nullable"] = True
    out["description"] = spec.label
    return out


def _object(fields: dict[str, Field], required=()) -> dict:
    schema = {"type": "object", "additionalProperties": False,
              "properties": {k: _field_schema(v) for k, v in fields.items()}}
    if required:
        schema["required"] = list(required)
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    return {str(s): {"description": "错误（见 error.code）", **_json(_ref("Error"))} for s in statuses}


CODE = {"name": "code", "in": "path", "required": True, "description": "统一社会信用代码或公民身份号码（18 位）",
        "schema": {"type": "string", "minLength": 1, "maxLength": 40}}
LINEAGE = {"name": "record_id", "in": "path", "required": True, "description": "信息编号（首个版本的编号）",
           "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": True,
               "description": "每次写操作一个新值；重发同一请求时用同一值，不会重复写入",
               "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{8,100}$"}}
READ_ERRORS = (400, 401, 403, 404, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 429)
FEED_ERRORS = (*READ_ERRORS, 410)  # 410: the cursor is below the pruned part of the log

RECORD_OUT = {"type": "object", "required": ["id", "record_type", "title", "decided_on"], "properties": {
    "id": {"type": "integer"}, "version": {"type": "integer"}, "record_type": STR, "type_label": STR,
    "info_class": STR, "class_label": STR, "severity": {"type": "string", "nullable": True},
    "severity_label": STR, "title": STR, "content": STR, "public_summary": STR, "doc_no": STR, "authority": STR,
    "decided_on": {"type": "string", "format": "date"}, "scope": STR, "publish_from": DATE_OR_NULL,
    "publish_until": DATE_OR_NULL, "ordinary_procedure": {"type": "boolean", "nullable": True}, "status": STR,
    "public": {"type": "boolean"}}}
GRADE = {"type": "object", "nullable": True, "required": ["letter", "year"],
         "properties": {"letter": STR, "year": {"type": "integer"}}}
# No grade in force because the subject did not take part in a period (湖南 第十八条): the year and
# the sentence the facility page shows (services.grading.grade_absence), never the reason.
GRADE_ABSENCE = {"type": "object", "nullable": True, "required": ["year", "text"],
                 "properties": {"year": {"type": "integer"}, "text": STR}}
SUBJECT = {"type": "object", "required": ["public_id", "kind", "name", "region_code"], "properties": {
    "public_id": STR, "kind": {"type": "string", "enum": ["org", "person"]}, "name": STR, "category": STR,
    "region_code": STR, "status": STR, "credit_code": STR, "code_masked": STR, "grade": GRADE,
    "grade_absence": GRADE_ABSENCE}}


# Citation table: government sharing of credit information in each regulation (海南 第二十五条 信用信息共享;
# 湖南 第六条 共建共享, 第二十四条 共享给信用管理主管部门; 湖南医保 第二十二条 信用信息共享机制; 淮安 三（一）
# 信用信息交换共享机制; 阳山 四（二） 申请数据共享). The description keeps the active profile's part.
SHARING_ARTICLE = "海南 第二十五条；湖南 第六条、第二十四条；湖南医保 第二十二条；淮安 三（一）；阳山 四（二）"


def document(base_url: str, document_name: str = "") -> dict:
    """The OpenAPI document; ``document_name``: the active profile's ``document`` (its sharing
    article is cited, no other regulation's; "" cites none)."""
    scopes = "；".join(f"{k}：{v}" for k, v in SCOPES.items())
    codes = "\n".join(f"- `{code}`（HTTP {status}）：{message}" for code, (status, message) in ERRORS.items())
    bearer = [{"oauth2": []}]
    return {
        "openapi": "3.0.3",
        "info": {"title": "医疗卫生信用信息 政务共享接口", "version": "1.0.0",
                 "description": (
                     "供已登记的政务部门客户端读取、报送信用信息" + own_note(SHARING_ARTICLE, document_name) + "。"
                     "以 OAuth 2.0 客户端凭证方式在 /api/v1/token 获取访问令牌（Bearer）。权限范围：" + scopes +
                     "。读取非公开（政务共享）信息逐次记入信用主体的“谁查看了我的信息”，并注明客户端登记的用途。"
                     "错误均以 JSON 返回：{\"error\": {\"code\", \"message\", \"field\"}}，code 稳定不变：\n" + codes)},
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "components": {
            "securitySchemes": {"oauth2": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": base_url.rstrip("/") + "/api/v1/token", "scopes": dict(SCOPES)}}}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string", "enum": sorted(ERRORS)}, "message": STR, "field": STR}}}},
                "Subject": SUBJECT,
                "Record": RECORD_OUT,
                "NewRecord": _object(NEW_RECORD, NEW_RECORD_REQUIRED),
                "Correction": {"type": "object", "additionalProperties": False, "required": ["reason", "changes"],
                               "properties": {"reason": _field_schema(REASON),
                                              "changes": _object(RECORD_FIELDS)}},
                "Withdrawal": _object({"reason": REASON}, ("reason",)),
                "Written": {"type": "object", "required": ["record"], "properties": {
                    "record": _ref("Record"), "subject": {"type": "object", "properties": {"public_id": STR}}}},
                "Token": {"type": "object", "required": ["access_token", "token_type"], "properties": {
                    "access_token": STR, "token_type": STR, "expires_in": {"type": "integer"}, "scope": STR}},
                "OAuthError": {"type": "object", "required": ["error"], "properties": {
                    "error": STR, "error_description": STR, "code": STR, "message": STR}},
            },
        },
        "paths": {
            "/token": {"post": {
                "operationId": "token", "summary": "获取访问令牌（OAuth 2.0 client_credentials）", "security": [],
                "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "required": ["grant_type"], "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]}, "scope": STR,
                        "client_id": STR, "client_secret": STR}}}}},
                "responses": {"200": {"description": "令牌", **_json(_ref("Token"))},
                              **{str(s): {"description": "OAuth 错误", **_json(_ref("OAuthError"))}
                                 for s in (400, 401, 429)}}}},
            "/subjects/{code}": {"get": {
                "operationId": "getSubject", "summary": "按代码查询信用主体（公开登记信息与信用等级）",
                "security": bearer, "parameters": [CODE],
                "responses": {"200": {"description": "信用主体", **_json(_ref("Subject"))}, **_errors(*READ_ERRORS)}}},
            "/subjects/{code}/records": {"get": {
                "operationId": "getSubjectRecords",
                "summary": "信用主体的信用信息：records:read:public 仅公示中的信息；records:read:shared 另含政务共享信息",
                "security": bearer, "parameters": [CODE],
                "responses": {"200": {"description": "信息列表", **_json({
                    "type": "object", "required": ["subject", "access", "records"], "properties": {
                        "subject": _ref("Subject"), "access": {"type": "string", "enum": ["public", "shared"]},
                        "records": {"type": "array", "items": _ref("Record")}}})}, **_errors(*READ_ERRORS)}}},
            "/subjects/{code}/grades": {"get": {
                "operationId": "getSubjectGrades", "summary": "信用主体历年信用等级", "security": bearer,
                "parameters": [CODE],
                "responses": {"200": {"description": "等级", **_json({
                    "type": "object", "required": ["public_id", "grades"], "properties": {
                        "public_id": STR, "grades": {"type": "array", "items": GRADE},
                        "grade_absence": GRADE_ABSENCE}})}, **_errors(*READ_ERRORS)}}},
            "/lists/{name}": {"get": {
                "operationId": "getList", "summary": "公开名单（red 守信红名单、serious 严重失信主体名单）",
                "security": bearer, "parameters": [
                    {"name": "name", "in": "path", "required": True,
                     "schema": {"type": "string", "enum": sorted(LIST_TYPES)}},
                    {"name": "page", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100000}}],
                "responses": {"200": {"description": "名单", **_json({
                    "type": "object", "required": ["name", "total", "page", "pages", "entries"], "properties": {
                        "name": STR, "title": STR, "total": {"type": "integer"}, "page": {"type": "integer"},
                        "pages": {"type": "integer"}, "entries": {"type": "array", "items": {
                            "type": "object", "properties": {"record": {"type": "object"},
                                                             "subject": {"type": "object"}}}}}})},
                              **_errors(*READ_ERRORS)}}},
            "/records": {"post": {
                "operationId": "addRecord", "summary": "报送一条信用信息（本单位）", "security": bearer,
                "parameters": [IDEMPOTENCY], "requestBody": {"required": True, **_json(_ref("NewRecord"))},
                "responses": {"201": {"description": "已写入", **_json(_ref("Written"))},
                              "200": {"description": "同一 Idempotency-Key 的重发：返回首次结果", **_json(_ref("Written"))},
                              **_errors(*WRITE_ERRORS)}}},
            "/records/{record_id}/corrections": {"post": {
                "operationId": "correctRecord", "summary": "更正（生成新版本，旧版本保留）", "security": bearer,
                "parameters": [LINEAGE, IDEMPOTENCY], "requestBody": {"required": True, **_json(_ref("Correction"))},
                "responses": {"201": {"description": "新版本", **_json(_ref("Written"))},
                              "200": {"description": "重发", **_json(_ref("Written"))}, **_errors(*WRITE_ERRORS)}}},
            "/records/{record_id}/withdrawal": {"post": {
                "operationId": "withdrawRecord", "summary": "撤销公示（信息保留，不删除）", "security": bearer,
                "parameters": [LINEAGE, IDEMPOTENCY], "requestBody": {"required": True, **_json(_ref("Withdrawal"))},
                "responses": {"200": {"description": "已撤销公示（重发时返回首次结果）", **_json(_ref("Written"))},
                              **_errors(*WRITE_ERRORS)}}},
            "/feed": {"get": {
                "operationId": "getFeed",
                "summary": ("公开信息增量数据（JSON Lines，Ed25519 签名，按游标续传）；"
                            "游标早于已清理的记录时返回 410 cursor_expired，须先全量同步；"
                            "游标大于增量数据当前位置（不是本平台返回过的游标）时返回 400 invalid_parameter"),
                "security": bearer,
                "parameters": [
                    {"name": "cursor", "in": "query", "required": False,
                     "description": ("上一页返回的 next_cursor，或全量数据返回的 cursor；首次为 0。"
                                     "不得大于增量数据当前位置，否则返回 400 invalid_parameter"),
                     "schema": {"type": "integer", "minimum": 0, "maximum": SEQ_MAX}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                "responses": {"200": {"description": "每行一个主体的公开状态，末行为签名",
                                      "content": {"application/x-ndjson": {"schema": STR}}},
                              **_errors(*FEED_ERRORS)}}},
            "/feed/snapshot": {"get": {
                "operationId": "getFeedSnapshot",
                "summary": ("公开信息全量数据（JSON Lines，Ed25519 签名，按主体分页）：首页不带 cursor，"
                            "续页带上一页末行的 next_after 与 cursor；末页之后从 cursor 拉取增量数据"),
                "security": bearer,
                "parameters": [
                    {"name": "after", "in": "query", "required": False, "description": "上一页末行的 next_after",
                     "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}},
                    {"name": "cursor", "in": "query", "required": False,
                     "description": "首页返回的 cursor（续页必带，不得大于增量数据当前位置）",
                     "schema": {"type": "integer", "minimum": 0, "maximum": SEQ_MAX}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                "responses": {"200": {"description": "每行一个公开主体的全部公开信息，末行为签名",
                                      "content": {"application/x-ndjson": {"schema": STR}}},
                              **_errors(*FEED_ERRORS)}}},
            "/feed/key": {"get": {
                "operationId": "getFeedKey", "summary": "增量数据签名公钥（PEM）", "security": [],
                "responses": {"200": {"description": "Ed25519 公钥",
                                      "content": {"application/x-pem-file": {"schema": STR}}}}}},
        },
    }
