"""``credit-portal staff …``: commission staff accounts (argon2 password + TOTP)."""
from __future__ import annotations

import click

from ..services.staff import STAFF_ROLES
from .common import load_runtime, open_session


@click.group(help="工作人员账号")
def staff() -> None:
    pass


@staff.command("create", help="新建工作人员账号；输出动态验证码（TOTP）绑定地址，仅显示一次")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(STAFF_ROLES),
              help="角色，可重复：operator 平台运行机构、provider 信息提供单位（须填 --authority）、reviewer 复核、"
                   "department 认定部门、admin 系统管理员（维护节假日表）")
@click.option("--authority", default="", help="所属单位（信息提供单位只办理本单位提供的信息）")
@click.option("--region", "region_code", default="", help="行政区划代码；留空为全辖区")
@click.option("--name", "display_name", default="", help="显示姓名")
@click.option("--channel", default="", type=click.Choice(["", "association", "third_party"]),
              help="其他渠道的信息提供单位（海南 第二十二条）：association 行业协会、third_party 第三方信用服务机构；"
                   "其报送的信息经审核后发布")
@click.password_option("--password", help="登录密码（至少 12 位）")
def create(username: str, roles: tuple[str, ...], authority: str, region_code: str, display_name: str,
           channel: str, password: str) -> None:
    from ..services.staff import create_staff

    rt = load_runtime()
    with open_session(rt) as session:
        ctx = rt.context(session, "cli")
        user, uri = create_staff(ctx, username, password, roles, authority=authority,
                                 region_code=region_code, display_name=display_name, channel=channel)
        session.commit()
        click.echo(f"已创建工作人员账号 {user.username}（角色：{'、'.join(user.roles)}）")
        click.echo("请用身份验证器应用扫描或录入以下地址（仅显示一次）：")
        click.echo(uri)
