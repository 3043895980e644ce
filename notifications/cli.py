"""``flask --app wsgi scheduler run|once|status``, ``reminders table|sweep`` and ``serve``."""

from __future__ import annotations

import logging
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from grants.extensions import db
from grants.models.notifications import Notification, ScheduledJob
from grants.orm import utcnow
from notifications import reminders
from notifications.scheduler import JOB_NAMES, JOBS, Scheduler, run_job, start_in_thread

scheduler_group = AppGroup("scheduler", help="Timed jobs: the outbox, reminders, digests.")
reminders_group = AppGroup("reminders", help="The declared reminder rules.")


@scheduler_group.command("run")
def run_command():
    """Run a scheduler process: it leads, or waits to take over from the leader."""
    logging.basicConfig(level=current_app.config["LOG_LEVEL"].upper())
    Scheduler(current_app._get_current_object()).run()


@scheduler_group.command("once")
@click.argument("job", type=click.Choice(JOB_NAMES))
def once_command(job):
    """Run one job now, recorded like a scheduled run (for operators and cron)."""
    record = run_job(current_app._get_current_object(), next(j for j in JOBS if j.name == job))
    click.echo(
        f"{job}: {record.items} handled" + (f", error: {record.error}" if record.error else "")
    )
    sys.exit(1 if record.error else 0)


@scheduler_group.command("status")
def status_command():
    """The leader's plan and the outbox."""
    for row in db.session.scalars(select(ScheduledJob).order_by(ScheduledJob.name)):
        click.echo(f"{row.name:10} next {row.next_run_at or '-'}  leader {row.leader}")
    counts = db.session.execute(
        select(Notification.state, func.count())
        .where(Notification.channel == "email")
        .group_by(Notification.state)
    )
    click.echo("outbox: " + ", ".join(f"{state} {n}" for state, n in counts))


@reminders_group.command("table")
def table_command():
    """The reminder rules with the offsets in force."""
    rows = reminders.table(current_app.config)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("rule", "who", "what is due", "when")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in (header, *rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@reminders_group.command("sweep")
def sweep_command():
    """Close due calls and send due reminders now."""
    for part, count in reminders.sweep(utcnow(), current_app.config).items():
        click.echo(f"{part}: {count}")


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on; default HOST.")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Default PORT.")
def serve_command(host, port):
    """The development server with a scheduler beside it (what ``make run`` starts)."""
    app = current_app._get_current_object()
    logging.basicConfig(level=app.config["LOG_LEVEL"].upper())
    from werkzeug.serving import run_simple

    from config import local_base_url

    configured = local_base_url(app.config["HOST"], app.config["PORT"])
    host, port = host or app.config["HOST"], port or app.config["PORT"]
    if app.config["BASE_URL"] == configured:  # not set apart: links follow the server
        app.config["BASE_URL"] = local_base_url(host, port)
    scheduler = start_in_thread(app)
    try:
        run_simple(host, port, app, use_reloader=False, threaded=True)
    finally:
        scheduler.shutdown()
