"""``credit-portal``: the command line. Every write goes through the same service verbs as the web.

This module only assembles the command group; each command group lives in its own module, and what
they share (runtime, session, progress) in ``common``. No command module imports this one back.
"""
from __future__ import annotations

import click

from . import audit, backup, cases, data, db, draws, grading, index, notify, plates, server, staff, stats, supervision


@click.group(help="医疗卫生信用信息公示平台 命令行工具")
def main() -> None:
    pass


for _command in (db.db, data.demo, data.import_cmd, data.bootstrap, index.index, index.expire, grading.grade,
                 grading.grade_exclude, grading.grade_exclusions_cmd, audit.audit, server.serve, plates.plates,
                 staff.staff, cases.cases, cases.calendar, draws.draw, backup.backup_cmd, backup.restore_cmd, notify.notify,
                 supervision.lists_cmd, supervision.warnings_cmd, supervision.commitments_cmd,
                 stats.stats):
    main.add_command(_command)
del _command
