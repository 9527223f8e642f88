"""``credit-portal serve``: the development server (production: gunicorn, see README)."""
from __future__ import annotations

import click


@click.command(help="启动开发服务器（生产请用 gunicorn，见 README）")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from .. import create_app

    app = create_app()
    click.echo(f"{app.extensions['portal'].profile.portal_name}：http://{host}:{port}/")
    _exit_on_sigterm()
    run_simple(host, port, app, threaded=True, use_reloader=False)


def _exit_on_sigterm() -> None:
    """SIGTERM (systemd stop, ``kill``) ends the server like Ctrl-C: Python's default for it is to
    die without exit hooks, which lost the buffered scan counts (199 of 200, issue 12); as
    SystemExit the ``atexit`` flush of ``portal.services.plates`` runs, as under gunicorn."""
    import signal

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
