"""The scheduler and the outbox for admins, as the scheduler page shows them: whether a
scheduler leads, its jobs with their last runs, the emails waiting or failed; and failed
emails sent again. Who may is ``notifications.monitor``'s (admins only)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema, PageArgs, page_of, page_of_found, page_schema
from grants.extensions import db
from notifications import monitor
from notifications.scheduler import JOB_NAMES


class HealthSchema(Schema):
    alive = fields.Boolean(
        required=True, metadata={"description": "a scheduler finished a job in the last sweeps"}
    )
    leader = fields.String(required=True, metadata={"description": "the host that leads"})
    last_seen = fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "its last finished job"}
    )


class OutboxCountsSchema(Schema):
    pending = fields.Integer(required=True, metadata={"description": "emails waiting to be sent"})
    held = fields.Integer(required=True, metadata={"description": "held for daily digests"})
    failed = fields.Integer(required=True)


class SchedulerSchema(Schema):
    health = fields.Nested(HealthSchema, required=True)
    outbox = fields.Nested(OutboxCountsSchema, required=True)


class JobRunSchema(Schema):
    id = fields.Integer(required=True)
    job = fields.String(required=True)
    host = fields.String(required=True)
    started_at = fields.AwareDateTime(required=True)
    finished_at = fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "null while it runs"}
    )
    items = fields.Integer(required=True, metadata={"description": "what it handled"})
    error = fields.String(required=True)


class JobSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    next_run_at = fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "as the leader planned it"}
    )
    leader = fields.String(required=True)
    last_run = fields.Nested(JobRunSchema, required=True, allow_none=True)


class EmailSchema(Schema):
    id = fields.Integer(required=True)
    recipient_id = fields.Integer(required=True)
    recipient_email = fields.String(required=True, attribute="recipient.email")
    rule = fields.String(required=True)
    subject = fields.String(required=True)
    state = fields.String(required=True)
    attempts = fields.Integer(required=True)
    last_error = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    next_attempt_at = fields.AwareDateTime(required=True)


class RetriedSchema(Schema):
    retried = fields.Integer(
        required=True, metadata={"description": "failed emails that will be sent again"}
    )


class RunArgs(PageArgs):
    job = fields.String(load_default="", validate=validate.OneOf(("", *JOB_NAMES)))


JobPage = page_schema(JobSchema)
JobRunPage = page_schema(JobRunSchema)
FailedEmailPage = page_schema(EmailSchema)


def _watcher():
    person = authenticate()
    monitor.check_may_watch(person)
    return person


@blueprint.route("/scheduler", methods=["GET"])
@blueprint.response(200, SchedulerSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
def scheduler_status():
    """Whether a scheduler leads (reminders and emails wait without one) and the outbox's
    counts. For admins."""
    _watcher()
    return {"health": monitor.health(), "outbox": monitor.outbox_counts()}


@blueprint.route("/scheduler/jobs", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, JobPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(422, schema=ApiErrorSchema)
def list_scheduler_jobs(args):
    """Every job of the scheduler, its next planned run and its last run. For admins."""
    _watcher()
    return page_of(monitor.jobs(), args)


@blueprint.route("/scheduler/runs", methods=["GET"])
@blueprint.arguments(RunArgs, location="query")
@blueprint.response(200, JobRunPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(422, schema=ApiErrorSchema)
def list_job_runs(args):
    """The jobs' runs, newest first, of one ``job`` or all. For admins."""
    _watcher()
    return page_of_found(monitor.recent_runs(args["job"], args["page"], args["per_page"]))


@blueprint.route("/outbox/failed", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, FailedEmailPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(422, schema=ApiErrorSchema)
def list_failed_emails(args):
    """Emails that failed after every attempt, newest first, with the last error. For
    admins."""
    _watcher()
    return page_of_found(monitor.failed(args["page"], args["per_page"]))


@blueprint.route("/outbox/<int:notification_id>/retry", methods=["POST"])
@blueprint.response(200, EmailSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema, description="it has not failed")
def retry_email(notification_id: int):
    """Send a failed email again: due now, with fresh attempts. For admins."""
    row = monitor.retry(authenticate(), notification_id)
    db.session.flush()
    return row


@blueprint.route("/outbox/retry-failed", methods=["POST"])
@blueprint.response(200, RetriedSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
def retry_failed_emails():
    """Send every failed email again. For admins."""
    retried = monitor.retry_all_failed(authenticate())
    db.session.flush()
    return {"retried": retried}
