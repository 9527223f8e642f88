"""``credit-portal api-client …``: registered clients of the government sharing API (/api/v1):
register, rotate the secret, disable, list (海南 第二十五条; 湖南 第二十四条)."""
from __future__ import annotations

import click

from ..domain.api_access import SCOPES
from .common import load_runtime, open_session


@click.group("api-client", help="政务共享接口客户端（OAuth 2.0 客户端凭证）")
def api_client() -> None:
    pass


def _show_secret(client_id: str, secret: str) -> None:
    click.echo("客户端密钥（仅显示这一次，请通过安全渠道交给对方部门）：")
    click.echo(f"  client_id={client_id}")
    click.echo(f"  client_secret={secret}")


@api_client.command("create", help="登记一个部门客户端；输出客户端密钥，仅显示一次")
@click.argument("client_id")
@click.option("--name", required=True, help="部门名称，如 长沙市医疗保障局")
@click.option("--purpose", required=True, help="用途（显示在信用主体的“谁查看了我的信息”中）")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(list(SCOPES)),
              help="权限范围，可重复")
@click.option("--region", "region_code", default="", help="行政区划代码；留空为全辖区")
@click.option("--authority", default="", help="所属单位（报送信息时作为认定部门；有 records:write 时必填）")
@click.option("--rate", "rate_limit", default="120/minute", show_default=True, help="每个客户端的频率上限")
def create(client_id: str, name: str, purpose: str, scopes: tuple[str, ...], region_code: str, authority: str,
           rate_limit: str) -> None:
    from ..services.api_clients import create_client

    if "records:write" in scopes and not authority.strip():
        raise click.UsageError("有 records:write 权限的客户端须用 --authority 登记所属单位")
    rt = load_runtime()
    with open_session(rt) as session:
        client, secret = create_client(rt.context(session, "cli:api-client"), client_id, name=name, purpose=purpose,
                                       scopes=scopes, region_code=region_code, authority=authority,
                                       rate_limit=rate_limit)
        session.commit()
        click.echo(f"已登记客户端 {client.client_id}（{client.name}；权限：{client.scopes}）")
        _show_secret(client.client_id, secret)


def _load(session, client_id: str):
    from ..services.api_clients import find_client

    client = find_client(session, client_id)
    if client is None:
        raise click.ClickException(f"没有客户端 {client_id}")
    return client


@api_client.command("rotate", help="更换客户端密钥：旧密钥和已发出的令牌立即失效")
@click.argument("client_id")
def rotate(client_id: str) -> None:
    from ..services.api_clients import rotate_secret

    rt = load_runtime()
    with open_session(rt) as session:
        client = _load(session, client_id)
        secret = rotate_secret(rt.context(session, "cli:api-client"), client)
        session.commit()
        _show_secret(client.client_id, secret)


@api_client.command("disable", help="停用客户端：令牌立即失效，不能再获取令牌")
@click.argument("client_id")
@click.option("--reason", default="", help="停用原因（记入审计日志）")
def disable(client_id: str, reason: str) -> None:
    from ..services.api_clients import disable_client

    rt = load_runtime()
    with open_session(rt) as session:
        disable_client(rt.context(session, "cli:api-client"), _load(session, client_id), reason)
        session.commit()
        click.echo(f"已停用客户端 {client_id}")


@api_client.command("list", help="列出已登记的客户端")
def list_cmd() -> None:
    from ..services.api_clients import list_clients

    rt = load_runtime()
    with open_session(rt) as session:
        for c in list_clients(rt.context(session, "cli:api-client")):
            state = "有效" if c.active else "已停用"
            click.echo(f"{c.client_id}\t{state}\t{c.name}\t{c.scopes}\t区划={c.region_code or '全辖区'}\t"
                       f"单位={c.authority or '-'}\t{c.rate_limit}")
