"""What every ``credit-portal`` command shares: the runtime, a session that turns a refused service
call into the command's error message, and progress output on stderr. The command modules import
this; none of them imports the package ``__init__`` (which only assembles the command group)."""
from __future__ import annotations

import sys
from contextlib import contextmanager

import click

from ..config import load_settings
from ..runtime import ConfigError, Runtime


def load_runtime() -> Runtime:
    try:
        rt = Runtime.from_settings(load_settings())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # close pooled connections when the command ends (a server counts them)
        ctx.call_on_close(rt.close)
    return rt


@contextmanager
def open_session(rt: Runtime):
    """A session for one command; a refused service call (``ServiceError``, its message in
    Chinese) ends the command with that message and nothing committed."""
    from ..services.errors import ServiceError

    session = rt.sessions()
    try:
        yield session
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        session.close()


class _Counter:
    """Progress for work of unknown length: a running count on stderr."""

    def __init__(self, label: str):
        self.label, self.n = label, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        click.echo(f"\r{self.label}：{self.n}", err=True)

    def update(self, n: int) -> None:
        self.n += n
        if self.n % 1000 == 0:
            click.echo(f"\r{self.label}：{self.n}", err=True, nl=False)


def progress(total: int | None, label: str):
    if total is None:
        return _Counter(label)
    return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, width=30)


def running(bar):
    """Adapt a callback that reports a running total to click's incremental progress bar."""
    seen = [0]

    def update(total: int) -> None:
        bar.update(total - seen[0])
        seen[0] = total

    return update
