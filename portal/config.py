"""Every setting, declared once: name, default, help.

The README's configuration table is checked against this list by tests/unit/test_config_docs.py.
Values come from the environment (or the mapping passed to ``create_app``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("PORTAL_ENV", "development", "development / production；production 下拒绝内置开发身份提供方和开发密钥"),
    Setting("PORTAL_PROFILE", "hunan", "辖区规则配置：hunan、hunan-mi、hainan、guangdong、jiangsu 或 .toml 文件路径"),
    Setting("PORTAL_VAR_DIR", str(ROOT / "var"), "运行数据目录（SQLite 文件、索引、开发密钥、上传文件）"),
    Setting("DATABASE_URL", "", "SQLAlchemy 数据库 URL；留空为 PORTAL_VAR_DIR 下的 SQLite 文件，生产可用 postgresql+psycopg://…"),
    Setting("SEARCH_URL", "", "搜索后端 URL：whoosh:///路径、tantivy:///路径、memory:// 或 postgresql+psycopg://用户@主机:端口/库（索引存于 PostgreSQL，多台 Web 服务器共用；可加 ?schema=…&table_prefix=…）；留空为 PORTAL_VAR_DIR/index-tantivy（tantivy）"),
    Setting("PORTAL_SECRET_KEY", "", "会话签名密钥；开发环境留空时自动生成并保存在 PORTAL_VAR_DIR"),
    Setting("PORTAL_DATA_KEY", "", "身份证号加密与检索哈希的主密钥（base64，32 字节）；开发环境留空时自动生成"),
    Setting("PORTAL_AUDIT_KEY", "", "审计日志哈希链的 HMAC 密钥（base64，至少 32 字节），应保存在数据库之外；留空则由 PORTAL_DATA_KEY 以独立标签派生"),
    Setting("PORTAL_AUDIT_CHECKPOINT_FILE", "", "审计日志检查点文件（只追加，每行一个签名的链头检查点，credit-portal audit verify 据此发现删除最新事件和重算哈希）；留空为 PORTAL_VAR_DIR/audit-checkpoints.jsonl，建议指向数据库服务器之外的只追加存储"),
    Setting("PORTAL_BASE_URL", "http://127.0.0.1:5000", "对外访问地址（二维码、报告核验链接使用）；生产环境必须使用 https，否则拒绝启动（Cookie 的 Secure 标志、HSTS 依赖于此）"),
    Setting("PORTAL_INDEX_MODE", "inline", "inline：请求结束后由本进程写索引；worker：只写任务表，由 credit-portal index drain 单独写入"),
    Setting("PORTAL_TODAY", "", "固定“今天”（YYYY-MM-DD），仅用于演示和测试；留空为系统日期"),
    Setting("PORTAL_PAGE_SIZE", "20", "搜索结果每页条数"),
    Setting("PORTAL_FEED_KEEP_HOURS", "72", "索引任务日志至少保留的小时数：各索引节点均已应用、且早于此的任务才被清理（index follow / index forget），政务共享增量数据（/api/v1/feed）的使用方在此期间内可断点续传，游标更早的须先全量同步（/api/v1/feed/snapshot）"),
    # Login (portal.auth): any OpenID Connect provider; empty issuer = the embedded development IdP.
    Setting("PORTAL_OIDC_ISSUER", "", "统一身份认证平台（OpenID Connect）的 issuer；留空则使用内置开发身份提供方 PORTAL_BASE_URL/dev-idp（production 下拒绝）"),
    Setting("PORTAL_DEV_IDP", "auto", "内置开发身份提供方：auto 仅在未配置 PORTAL_OIDC_ISSUER 且 PORTAL_BASE_URL 为本机地址（127.0.0.1、localhost）时启用；on 在其他地址也启用（仅限合成数据的演示环境）；production 下一律拒绝"),
    Setting("PORTAL_OIDC_CLIENT_ID", "", "门户在身份认证平台注册的 client_id（配置 issuer 时必填）"),
    Setting("PORTAL_OIDC_CLIENT_SECRET", "", "门户的 client_secret（配置 issuer 时必填）"),
    Setting("PORTAL_OIDC_SCOPES", "openid profile", "登录时请求的 scope"),
    Setting("PORTAL_OIDC_ID_CLAIM", "id_number", "UserInfo 中公民身份号码的声明名（据此匹配自然人信用主体；门户只向 UserInfo 请求，经后台信道获取，不放入 ID Token）"),
    Setting("PORTAL_OIDC_ORG_CLAIM", "legal_rep_of", "UserInfo 中所代表机构统一社会信用代码的声明名"),
    Setting("PORTAL_OIDC_LEGAL_REP_ROLE", "org_role=legal_representative", "法定代表人角色声明（声明名=值）；只有带此角色时才按统一社会信用代码匹配机构"),
    Setting("PORTAL_OIDC_ACR_MAP", "", "身份认证平台的 acr 取值映射，如 password=urn:x:loa2 face=urn:x:loa3；留空为门户自身的 acr URN"),
    Setting("PORTAL_OIDC_TIMEOUT", "10", "访问身份认证平台的超时时间（秒）"),
    Setting("PORTAL_SESSION_IDLE_MINUTES", "15", "登录会话空闲超时（分钟）"),
    Setting("PORTAL_SESSION_MAX_HOURS", "8", "登录会话最长有效期（小时），到期须重新登录"),
    # Chatbot (portal.chatbot): optional local language model, per-client rate limit.
    Setting("PORTAL_LLM_URL", "", "本地部署大模型的 OpenAI 兼容接口地址（如 http://127.0.0.1:8000/v1）；留空则智能问答只用检索答案"),
    Setting("PORTAL_LLM_MODEL", "local-model", "调用大模型时使用的模型名"),
    Setting("PORTAL_LLM_TIMEOUT_SECONDS", "8", "大模型请求超时（秒），超时即改用检索答案"),
    Setting("PORTAL_CHAT_RATE_PER_MINUTE", "20", "每个客户端每分钟可提问次数（计数存于 PORTAL_RATELIMIT_STORAGE；同一地址的所有会话合计不超过 5 倍）"),
    # Rate limits (portal.web.ratelimit): per client address, one store shared by every process.
    Setting("PORTAL_RATELIMIT_STORAGE", "memory://", "频率限制计数的存储：memory://（进程内，仅适用于单进程）；多个进程或多台服务器提供服务时须设为共享存储，如 redis://主机:6379/0 或 memcached://主机:11211（需另装 redis 或 pymemcache 包）"),
    Setting("PORTAL_RATELIMIT_SEARCH", "60/minute", "每个客户端地址的搜索频率上限（含 htmx 局部刷新；公共信用信息报告的生成另行同样计数），格式为 次数/单位，如 60/minute"),
    Setting("PORTAL_RATELIMIT_LOGIN", "30/minute", "每个客户端地址访问登录、登录回调、工作人员登录（提交）、办理进度查询（提交）的频率上限，各自计数，如 30/minute"),
    Setting("PORTAL_TRUSTED_PROXIES", "0", "可信反向代理层数：0 表示直接使用连接地址识别客户端；部署在 N 层反向代理（如 Nginx、负载均衡）之后时设为 N，按 X-Forwarded-For 识别客户端地址（werkzeug ProxyFix）；设得多于实际层数会让客户端伪造地址绕过频率限制"),
    # Operations (portal.web.ops, portal.metrics): /metrics access, log format.
    Setting("PORTAL_METRICS_TOKEN", "", "访问 /metrics 的 Bearer 令牌（Prometheus 的 authorization 配置）；留空则只允许 PORTAL_METRICS_ALLOW 中的地址直接访问"),
    Setting("PORTAL_METRICS_ALLOW", "127.0.0.1/32 ::1/128", "无需令牌即可访问 /metrics 的客户端地址或网段（空格或逗号分隔）；经反向代理转发（带 X-Forwarded-For）而 PORTAL_TRUSTED_PROXIES 为 0 的请求不按地址放行"),
    Setting("PORTAL_LOG_FORMAT", "text", "日志格式：text（默认）或 json（每行一个 JSON 对象，带请求编号 request_id，身份证号、姓名、令牌等个人信息已遮蔽）"),
    # Notices outside the portal (portal.services.notify, credit-portal notify send): e-mail by default, SMS by gateway.
    Setting("PORTAL_SMTP_HOST", "", "发送通知邮件的 SMTP 服务器；留空则不发送邮件（通知留在发送队列，配置后由 credit-portal notify send 发出）"),
    Setting("PORTAL_SMTP_PORT", "25", "SMTP 端口（STARTTLS 常用 587，SSL 常用 465）"),
    Setting("PORTAL_SMTP_TLS", "off", "SMTP 加密方式：off、starttls 或 ssl"),
    Setting("PORTAL_SMTP_USER", "", "SMTP 登录用户名；留空则不登录"),
    Setting("PORTAL_SMTP_PASSWORD", "", "SMTP 登录密码"),
    Setting("PORTAL_MAIL_FROM", "noreply@localhost", "通知邮件的发件人地址"),
    Setting("PORTAL_SMS_URL", "", "短信网关地址：门户以 JSON POST {\"to\": 手机号, \"text\": 内容} 提交，2xx 视为已受理；留空则不发送短信"),
    Setting("PORTAL_SMS_TOKEN", "", "短信网关的 Bearer 令牌（Authorization 请求头）；留空则不带"),
    Setting("PORTAL_NOTIFY_TIMEOUT", "10", "连接 SMTP 服务器或短信网关的超时时间（秒）"),
)

SETTING_NAMES = frozenset(s.name for s in SETTINGS)

#: Environment variables read around the app rather than by ``load_settings`` (name, the file
#: that reads it). Documented in the README (Configuration) and deploy/credit-portal.env.sample;
#: tests/unit/test_env_sample.py checks both, and that each file still reads its name.
ENVIRONMENT_EXTRAS: tuple[tuple[str, str], ...] = (
    ("PROMETHEUS_MULTIPROC_DIR", "portal/metrics.py"),
    ("PORTAL_DB_PGBOUNCER", "portal/db/pooler.py"),
    ("GUNICORN_BIND", "deploy/gunicorn.conf.py"),
    ("GUNICORN_WORKERS", "deploy/gunicorn.conf.py"),
)


def load_settings(overrides: dict | None = None) -> dict[str, str]:
    """Resolve every setting from overrides, then the environment, then its default."""
    overrides = overrides or {}
    values = {}
    for s in SETTINGS:
        if s.name in overrides:
            values[s.name] = str(overrides[s.name])
        else:
            values[s.name] = os.environ.get(s.name, s.default)
    var = Path(values["PORTAL_VAR_DIR"])
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{var / 'portal.sqlite3'}"
    if not values["PORTAL_AUDIT_CHECKPOINT_FILE"]:
        values["PORTAL_AUDIT_CHECKPOINT_FILE"] = str(var / "audit-checkpoints.jsonl")
    if not values["SEARCH_URL"]:
        # tantivy by default: measured on the L dataset it meets every search target (README, Measured)
        values["SEARCH_URL"] = f"tantivy://{var / 'index-tantivy'}"
    return values
