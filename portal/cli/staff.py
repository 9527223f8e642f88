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
              help="其他渠道的信息提供单位：association 行业协会、third_party 第三方信用服务机构；"
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


def _account(session, ctx, username: str):
    from sqlalchemy import select

    from ..models import StaffUser
    from ..services.staff_accounts import get_account

    staff_id = session.execute(select(StaffUser.id).where(StaffUser.username == username.strip().lower())).scalar()
    if staff_id is None:
        raise click.ClickException(f"没有用户名为 {username} 的工作人员账号")
    return get_account(ctx, staff_id)


def _run(verb, username: str, done: str, **kw) -> None:
    """One account verb of ``services.staff_accounts`` (the web's administrators use the same),
    audited under ``cli``; a refusal is a clear message and nothing is written."""
    from ..services.errors import ServiceError

    rt = load_runtime()
    with open_session(rt) as session:
        ctx = rt.context(session, "cli")
        try:
            out = verb(ctx, _account(session, ctx, username), **kw)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
        click.echo(done)
        if getattr(out, "password", ""):
            click.echo("新密码（仅显示这一次；本人登录后须先设置自己的密码）：")
            click.echo(out.password)
        if getattr(out, "totp_uri", ""):
            click.echo("请用身份验证器应用扫描或录入以下地址（仅显示一次）：")
            click.echo(out.totp_uri)


@staff.command("list", help="列出工作人员账号")
def list_() -> None:
    from ..domain.permissions import STAFF_ROLE_LABELS
    from ..services.staff_accounts import list_accounts

    rt = load_runtime()
    with open_session(rt) as session:
        for a in list_accounts(rt.context(session, "cli")):
            roles = "、".join(STAFF_ROLE_LABELS.get(r, r) for r in a["roles"])
            click.echo(f"{a['username']}\t{'启用' if a['active'] else '已停用'}\t{roles}\t"
                       f"{a['authority'] or '—'}\t{a['region_code'] or '全辖区'}")


@staff.command("disable", help="停用账号（不能再登录；至少保留一个启用的系统管理员）")
@click.argument("username")
def disable(username: str) -> None:
    from ..services.staff_accounts import set_active

    _run(set_active, username, f"已停用 {username}", active=False)


@staff.command("enable", help="重新启用账号")
@click.argument("username")
def enable(username: str) -> None:
    from ..services.staff_accounts import set_active

    _run(set_active, username, f"已启用 {username}", active=True)


@staff.command("reset-totp", help="重置动态验证码（原验证器立即失效）；输出新的绑定地址，仅显示一次")
@click.argument("username")
def reset_totp_cmd(username: str) -> None:
    from ..services.staff_accounts import reset_totp

    _run(reset_totp, username, f"已重置 {username} 的动态验证码", confirmed=True)


@staff.command("reset-password", help="重置登录密码（原密码立即失效，已登录的会话结束）；输出新密码，仅显示一次，"
                                     "本人登录后须先设置自己的密码")
@click.argument("username")
def reset_password_cmd(username: str) -> None:
    from ..services.staff_passwords import reset_password

    _run(reset_password, username, f"已重置 {username} 的密码", confirmed=True)


@staff.command("set-contact", help="设置账号安全通知的联系方式（电子邮箱或手机号码；重置密码、重置动态验证码、停用账号时告知本人）；"
                                  "空字符串为删除")
@click.argument("username")
@click.argument("contact")
def set_contact_cmd(username: str, contact: str) -> None:
    from ..services.staff_notify import set_contact

    _run(set_contact, username, f"已设置 {username} 的联系方式", text=contact)


@staff.command("set-roles", help="修改角色、所属单位和管辖区划（整体替换）")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(STAFF_ROLES))
@click.option("--authority", default="", help="所属单位（信息提供单位必填）")
@click.option("--region", "region_code", default="", help="行政区划代码；留空为全辖区")
@click.option("--channel", default=None, type=click.Choice(["", "association", "third_party"]),
              help="信息提供单位的报送渠道（行业协会、第三方信用服务机构）；不填则不变，空字符串为官方渠道")
def set_roles(username: str, roles: tuple[str, ...], authority: str, region_code: str, channel: str | None) -> None:
    from ..services.staff_accounts import change_access

    _run(change_access, username, f"已修改 {username} 的角色", roles=list(roles), authority=authority,
         region_code=region_code, channel=channel)
