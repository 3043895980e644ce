"""Collections of the API, declared once each: the policy that says who sees them
(``grants.policy``), the filters, and the schema. Every collection gets a paginated
list, an item, its history and ``POST …/transitions`` (fired through
``services.actions``); applications also take updates guarded by their version.

Views flush their changes and the request commits once, after the view, as the pages
do: a change whose commit fails answers 409 or 503 and is not stored.

Lists are sorted by id (stable), capped at 100 per page, with a link to the next page;
the allowed transitions of a page are computed with one shared context, so the number
of queries does not grow with the page size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app, request, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from forms.calls import CALL_ROWS
from grants import policy
from grants.api import flatten_errors
from grants.api.auth import authenticate
from grants.api.schemas import (
    EXACT_TOTAL,
    Amount,
    ApiErrorSchema,
    ApplicationSchema,
    ApplicationUpdate,
    AssociationSchema,
    AwardSchema,
    CallSchema,
    HistorySchema,
    ListArgs,
    NotificationSchema,
    PageSchema,
    RecordIdField,
    ReportSchema,
    ReviewSchema,
    TrancheSchema,
    TransitionRequest,
)
from grants.extensions import db
from grants.kept import Keeper
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.awards import Award, Report, Tranche
from grants.models.calls import Call
from grants.models.notifications import Notification
from grants.models.reviews import Review
from grants.numbers import MACHINE, NumberRefused, read_number
from grants.policy import Visibility
from grants.services import actions
from grants.services import applications as application_service
from grants.services import associations as association_service
from grants.services import awards as award_service
from grants.services import calls as call_service
from grants.services import evaluation as evaluation_service
from grants.services.errors import Conflict, InvalidInput
from grants.services.workflow import allowed_for_many, history_of
from workflows.application import ApplicationLifecycle

blueprint = Blueprint("api", __name__, description="Resources of the programme")


# Who is asking comes first: a request without a usable token is 401 before any check of
# its input.
@blueprint.before_request
def _authenticate() -> None:
    authenticate()  # returns nothing here: a value would replace the response


# Who sees what is ``grants.policy``'s: each collection lists and loads through it.


# --- firing -----------------------------------------------------------------------------------


def _coerce(name: str, value: Any) -> Any:
    """Transition data arrives as JSON: dates and amounts become what the rules expect."""
    if name == "amount" and value is not None:
        try:
            return read_number(value, MACHINE, positive=True)
        except NumberRefused as refused:
            raise InvalidInput(refused.message, {name: [refused.message]}) from None
    if value is None or not isinstance(value, str):
        return value
    try:
        if name.endswith("_date"):
            return date.fromisoformat(value)
        if name.endswith("_at"):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError(value)
            return moment
    except ValueError:
        raise InvalidInput(
            f"{name} is not valid: {value!r}.", {name: [f"Not a valid {name.replace('_', ' ')}."]}
        ) from None
    return value


# --- the declaration -----------------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    name: str
    model: Any
    schema: type[Schema]
    visibility: Visibility
    filters: dict[str, Callable[[Select, Any], Select]] = field(default_factory=dict)
    updated: Any = None
    lifecycle: bool = True
    #: Eager loads for a page: what the representation and the guards read, in a few
    #: queries for the whole page.
    options: tuple[Any, ...] = ()

    def listing(self, person: User) -> Select:
        return self.visibility.select(person)

    def visible(self, person: User, record_id: int) -> Any:
        return self.visibility.get(person, record_id)


def _state(model):
    return lambda statement, value: statement.where(model.state == value)


def _call_of(model):
    def apply(statement, value):
        return statement.where(
            model.call_id.in_(select(Call.id).where(Call.code == value).scalar_subquery())
        )

    return apply


COLLECTIONS = (
    Collection(
        "calls",
        Call,
        CallSchema,
        policy.CALLS,
        {
            "state": _state(Call),
            "sector": lambda s, v: s.where(Call.sector == v),
            "call": lambda s, v: s.where(Call.code == v),
        },
        updated=Call.updated_at,
    ),
    Collection(
        "associations",
        Association,
        AssociationSchema,
        policy.ASSOCIATIONS,
        {
            "state": _state(Association),
            "country": lambda s, v: s.where(Association.residence_country == v.upper()),
        },
        updated=Association.updated_at,
    ),
    Collection(
        "applications",
        Application,
        ApplicationSchema,
        policy.APPLICATIONS,
        {
            "state": _state(Application),
            "call": _call_of(Application),
            "country": lambda s, v: s.where(Application.country == v.upper()),
            "sector": lambda s, v: s.where(Application.sector == v),
        },
        updated=Application.updated_at,
        options=(
            # The call and association come joined; the guards read the collections.
            joinedload(Application.call).selectinload(Call.document_types),
            *(
                selectinload(getattr(Application, name)).lazyload("*")
                for name in ApplicationLifecycle.reads
            ),
        ),
    ),
    Collection(
        "reviews",
        Review,
        ReviewSchema,
        policy.REVIEWS,
        {"state": _state(Review)},
        options=(selectinload(Review.application), selectinload(Review.scores)),
    ),
    Collection(
        "awards",
        Award,
        AwardSchema,
        policy.AWARDS,
        {
            "state": _state(Award),
            "call": lambda s, v: s.where(
                Award.application_id.in_(
                    select(Application.id)
                    .join(Call, Call.id == Application.call_id)
                    .where(Call.code == v)
                    .scalar_subquery()
                )
            ),
        },
        options=(
            selectinload(Award.application).selectinload(Application.call),
            selectinload(Award.application).selectinload(Application.association),
        ),
    ),
    Collection(
        "tranches",
        Tranche,
        TrancheSchema,
        policy.TRANCHES,
        {"state": _state(Tranche)},
        options=(
            selectinload(Tranche.award).selectinload(Award.application),
            selectinload(Tranche.condition_report),
            selectinload(Tranche.approvals),
        ),
    ),
    Collection(
        "reports",
        Report,
        ReportSchema,
        policy.REPORTS,
        {"state": _state(Report)},
        options=(selectinload(Report.award).selectinload(Award.application),),
    ),
)


def _page_schema(collection: Collection) -> type[Schema]:
    return type(
        f"{collection.schema.__name__.removesuffix('Schema')}Page",
        (PageSchema,),
        {"items": fields.List(fields.Nested(collection.schema), required=True)},
    )


def _etag(record: Any) -> dict[str, str]:
    version = getattr(record, "version", None)
    return {"ETag": f'"{version}"'} if version is not None else {}


def _with_options(records: list[Any], person: User, lifecycle: bool) -> list[Any]:
    if lifecycle and records:
        options = allowed_for_many(records, person)
        for record in records:
            record.api_options = [vars(o) for o in options[record.id]]
    return records


def _list(collection: Collection, args: dict) -> dict:
    person = authenticate()
    statement = collection.listing(person)
    for name, apply in collection.filters.items():
        if args.get(name):
            statement = apply(statement, args[name])
    unfiltered = {k for k in ("state", "call", "country", "sector") if args.get(k)} - set(
        collection.filters
    )
    if unfiltered:
        raise InvalidInput(
            f"{collection.name} cannot be filtered by {', '.join(sorted(unfiltered))}.",
            {name: ["Not a filter of this collection."] for name in unfiltered},
        )
    if args.get("updated_since"):
        if collection.updated is None:
            raise InvalidInput(
                f"{collection.name} cannot be filtered by updated_since.",
                {"updated_since": ["Not a filter of this collection."]},
            )
        statement = statement.where(collection.updated >= args["updated_since"])
    total, estimated = _total(statement, collection.model)
    page, per_page = args["page"], args["per_page"]
    records = list(
        db.session.scalars(
            statement.options(*collection.options)
            .order_by(collection.model.id)
            .limit(per_page + 1)  # one more: whether a next page exists, without counting
            .offset((page - 1) * per_page)
        ).unique()
    )
    following = None
    if len(records) > per_page:
        records = records[:per_page]
        query = {k: v for k, v in request.args.items() if k != "page"}
        following = url_for(request.endpoint, page=page + 1, _external=False, **query)
    return {
        "items": _with_options(records, person, collection.lifecycle),
        "page": page,
        "per_page": per_page,
        "total": total,
        "total_estimated": estimated,
        "next": following,
    }


TOTAL_MAX_AGE_SECONDS = 60
#: Large totals, per listing statement, each counted at most once a minute per worker.
_totals: Keeper[int] = Keeper(256)


def _total(statement: Select, model: Any) -> tuple[int, bool]:
    """The rows a listing holds: counted exactly up to ``EXACT_TOTAL`` (over the ids
    alone, from an index), above that the exact count kept for a minute. A client that
    walks ``next`` never depends on it."""
    exact = current_app.config.get("API_EXACT_TOTAL", EXACT_TOTAL)
    ids = statement.with_only_columns(model.id, maintain_column_froms=True)
    capped = db.session.scalar(select(func.count()).select_from(ids.limit(exact + 1).subquery()))
    if capped <= exact:
        return capped, False
    compiled = ids.compile(db.engine)
    params = tuple(sorted((k, repr(v)) for k, v in compiled.params.items()))
    key = (str(db.engine.url), str(compiled), params)
    kept = _totals.get(
        key,
        lambda: db.session.scalar(select(func.count()).select_from(ids.subquery())),
        max_age=TOTAL_MAX_AGE_SECONDS,
    )
    return kept.value, True


def _register(collection: Collection) -> None:
    name, schema = collection.name, collection.schema
    singular = name[:-1]

    def listing(args):
        return _list(collection, args)

    listing.__name__ = f"list_{name}"
    listing.__doc__ = f"The {name} the caller may see, sorted by id, filtered, a page at a time."
    blueprint.route(f"/{name}", methods=["GET"], endpoint=f"list_{name}")(
        blueprint.arguments(ListArgs, location="query")(
            blueprint.response(200, _page_schema(collection))(
                blueprint.alt_response(401, schema=ApiErrorSchema)(
                    blueprint.alt_response(422, schema=ApiErrorSchema)(listing)
                )
            )
        )
    )

    def item(record_id: int):
        person = authenticate()
        record = collection.visible(person, record_id)
        shown = _with_options([record], person, collection.lifecycle)[0]
        return shown, 200, _etag(record)

    item.__name__ = f"get_{singular}"
    item.__doc__ = f"One {singular}, with what the caller can do with it."
    blueprint.route(f"/{name}/<int:record_id>", methods=["GET"], endpoint=f"get_{singular}")(
        blueprint.response(200, schema)(
            blueprint.alt_response(404, schema=ApiErrorSchema)(
                blueprint.alt_response(401, schema=ApiErrorSchema)(item)
            )
        )
    )

    def history(record_id: int):
        person = authenticate()
        return history_of(collection.visible(person, record_id))

    history.__name__ = f"history_{singular}"
    history.__doc__ = f"Every transition of one {singular}, oldest first."
    blueprint.route(
        f"/{name}/<int:record_id>/history", methods=["GET"], endpoint=f"history_{singular}"
    )(
        blueprint.response(200, HistorySchema(many=True))(
            blueprint.alt_response(404, schema=ApiErrorSchema)(history)
        )
    )

    def transition(body, record_id: int):
        person = authenticate()
        record = collection.visible(person, record_id)
        name_ = body.pop("name")
        comment = body.pop("comment", None)
        data = {key: _coerce(key, value) for key, value in body.items()}
        actions.act(person, record, name_, comment, **data)
        db.session.flush()
        db.session.refresh(record)
        return _with_options([record], person, True)[0], 200, _etag(record)

    transition.__name__ = f"transition_{singular}"
    transition.__doc__ = (
        f"Fire a transition of one {singular}: 403 (not for you), 404, 409 (not from this "
        "state or changed meanwhile) or 422 (with every guard's reason)."
    )
    blueprint.route(
        f"/{name}/<int:record_id>/transitions", methods=["POST"], endpoint=f"transition_{singular}"
    )(
        blueprint.arguments(TransitionRequest)(
            blueprint.response(200, schema)(
                blueprint.alt_response(403, schema=ApiErrorSchema)(
                    blueprint.alt_response(404, schema=ApiErrorSchema)(
                        blueprint.alt_response(409, schema=ApiErrorSchema)(
                            blueprint.alt_response(422, schema=ApiErrorSchema)(transition)
                        )
                    )
                )
            )
        )
    )


for _collection in COLLECTIONS:
    _register(_collection)


@blueprint.route("/applications/<int:record_id>", methods=["PATCH"])
@blueprint.arguments(ApplicationUpdate)
@blueprint.response(200, ApplicationSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema, description="the version is stale")
@blueprint.alt_response(428, schema=ApiErrorSchema, description="no version given")
def update_application(body, record_id: int):
    """Change a draft; send the version read (If-Match: "<version>" or "version")."""
    person = authenticate()
    application = application_service.visible_application(person, record_id)
    _version(body, application, "application")
    version = application.version
    lines = body.pop("budget_lines", None)
    sources = body.pop("cofinancing", None)
    if lines is None:
        lines = [
            {
                "category": line.category,
                "description": line.description,
                "quantity": line.quantity,
                "unit_cost": line.unit_cost,
            }
            for line in application.budget_lines
        ]
    if sources is None:
        sources = [
            {"source": c.source, "description": c.description, "amount": c.amount}
            for c in application.cofinancing
        ]
    application_service.save_draft(person, application, version, body, lines, sources)
    db.session.flush()
    return _with_options([application], person, True)[0], 200, _etag(application)


class PreconditionRequired(InvalidInput):
    status = 428


@blueprint.route("/notifications", methods=["GET"])
@blueprint.arguments(ListArgs, location="query")
@blueprint.response(200, NotificationSchema(many=True))
def list_notifications(args):
    """The caller's in-app notifications, newest first (page size capped at 100)."""
    person = authenticate()
    page, per_page = args["page"], args["per_page"]
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.recipient_id == person.id, Notification.channel == "in_app")
            .order_by(Notification.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )


class ScoreItem(Schema):
    criterion_id = fields.Integer(required=True)
    score = fields.Integer(allow_none=True, required=True)
    comment = fields.String(load_default="", validate=validate.Length(max=5000))


class ScoresUpdate(Schema):
    version = fields.Integer(metadata={"description": "the version read; or send If-Match"})
    scores = fields.List(fields.Nested(ScoreItem), required=True)
    recommendation = fields.String(load_default=None, allow_none=True)
    overall_comment = fields.String(load_default="", validate=validate.Length(max=10000))


class SpendingItem(Schema):
    budget_line_id = fields.Integer(required=True)
    actual = fields.String(load_default="", validate=validate.Length(max=30))
    explanation = fields.String(load_default="", validate=validate.Length(max=2000))


class ReportUpdate(Schema):
    version = fields.Integer(metadata={"description": "the version read; or send If-Match"})
    activities = fields.String(validate=validate.Length(max=20000))
    results = fields.String(validate=validate.Length(max=20000))
    difficulties = fields.String(validate=validate.Length(max=20000))
    next_steps = fields.String(validate=validate.Length(max=20000))
    spending = fields.List(fields.Nested(SpendingItem))
    indicator_values = fields.Dict(
        keys=fields.String(validate=validate.Length(max=5)),
        values=fields.Dict(keys=fields.String(), values=fields.String()),
        metadata={"description": '{"0": {"value": "12"}} or {"0": {"women": "7", "men": "5"}}'},
    )
    cofinancing_received = fields.Dict(keys=fields.String(), values=fields.String())


def _version(body: dict, record: Any, what: str) -> None:
    """The version read must be the current one (If-Match or ``version``)."""
    version = body.pop("version", None)
    match = request.headers.get("If-Match", "").strip().strip('W/"').strip('"')
    if version is None and match:
        if not match.isdigit():
            raise InvalidInput(
                'If-Match must be the version, such as "3".', {"If-Match": ["Not a version."]}
            )
        version = int(match)
    if version is None:
        raise PreconditionRequired("Send the version you read, as If-Match or version.")
    if version != record.version:
        raise Conflict(f"Someone changed this {what} since you read it; read it again.")


@blueprint.route("/reviews/<int:record_id>/scores", methods=["PUT"])
@blueprint.arguments(ScoresUpdate)
@blueprint.response(200, ReviewSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def put_scores(body, record_id: int):
    """The evaluator's scores, one per criterion with a comment, and a recommendation."""
    person = authenticate()
    review = evaluation_service.review_for(person, record_id)
    _version(body, review, "review")
    evaluation_service.save_scores(
        person,
        review,
        {item["criterion_id"]: (item["score"], item["comment"]) for item in body["scores"]},
        body.get("recommendation"),
        body.get("overall_comment", ""),
    )
    db.session.flush()
    return _with_options([review], person, True)[0], 200, _etag(review)


@blueprint.route("/reports/<int:record_id>", methods=["PATCH"])
@blueprint.arguments(ReportUpdate)
@blueprint.response(200, ReportSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
@blueprint.alt_response(428, schema=ApiErrorSchema)
def update_report(body, record_id: int):
    """Write a report while it is open: the narrative, spending per budget line, the
    call's indicators, co-financing received. Bad numbers are named; nothing is saved."""
    person = authenticate()
    report = policy.REPORTS.get(person, record_id)
    _version(body, report, "report")
    form: dict[str, Any] = {
        k: body[k] for k in ("activities", "results", "difficulties", "next_steps") if k in body
    }
    spending = body.get("spending")
    if spending is None:
        spending = report.spending or []
    for item in spending:
        form[f"actual-{item['budget_line_id']}"] = item.get("actual", "")
        form[f"explanation-{item['budget_line_id']}"] = item.get("explanation", "")
    values = body.get("indicator_values", report.indicator_values or {})
    for index, parts in values.items():
        for part, value in parts.items():
            suffix = "" if part == "value" else f"-{part}"
            form[f"indicator-{index}{suffix}"] = value
    received = body.get("cofinancing_received", report.cofinancing_received or {})
    for source_id, value in received.items():
        form[f"cofinancing-{source_id}"] = value
    award_service.save_report(person, report, form, locale=MACHINE)
    db.session.flush()
    return _with_options([report], person, True)[0], 200, _etag(report)


class ApplicationCreate(Schema):
    call_id = RecordIdField(required=True)
    association_id = RecordIdField(required=True)


@blueprint.route("/applications", methods=["POST"])
@blueprint.arguments(ApplicationCreate)
@blueprint.response(201, ApplicationSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
def create_application(body):
    """Start a draft for one of the caller's associations in an open call."""
    person = authenticate()
    call = call_service.visible_call(person, body["call_id"])
    association = association_service.visible_association(person, body["association_id"])
    application = application_service.start_application(person, call, association)
    db.session.flush()
    return _with_options([application], person, True)[0], 201, _etag(application)


class AssignmentCreate(Schema):
    application_id = RecordIdField(required=True)
    evaluator_id = RecordIdField(required=True)


@blueprint.route("/reviews", methods=["POST"])
@blueprint.arguments(AssignmentCreate)
@blueprint.response(201, ReviewSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def assign_evaluator(body):
    """Assign an evaluator to an eligible application (programme officers), with the
    rules of the assignment page: never a member of, or in conflict with, the association."""
    person = authenticate()
    application = application_service.visible_application(person, body["application_id"])
    evaluator = db.session.get(User, body["evaluator_id"])
    if evaluator is None:
        raise InvalidInput("No such evaluator.", {"evaluator_id": ["No such evaluator."]})
    review = evaluation_service.assign(person, application, evaluator)
    db.session.flush()
    return _with_options([review], person, True)[0], 201, _etag(review)


# --- calls, attestations and decisions ----------------------------------------------------


def _flatten_form(body: dict[str, Any]) -> list[tuple[str, str]]:
    """JSON as the call form's fields: texts per language, rows as ``criteria-0-name``."""
    pairs: list[tuple[str, str]] = []

    def scalar(name: str, value: Any) -> None:
        if isinstance(value, bool):
            if value:
                pairs.append((name, "y"))
        elif isinstance(value, list):
            for item in value:
                pairs.append((name, str(item)))
        elif value is not None:
            pairs.append((name, str(value)))

    for key, value in body.items():
        if key in ("title", "description") and isinstance(value, dict):
            for locale, text in value.items():
                scalar(f"{key}_{locale}", text)
        elif key == "sdg_targets" and isinstance(value, list):
            scalar(key, ", ".join(str(v) for v in value))
        elif key in CALL_ROWS and isinstance(value, list):
            for index, row in enumerate(value):
                if key == "document_types" and isinstance(row, dict):
                    row = {"required": True, **row}
                for name, cell in row.items() if isinstance(row, dict) else []:
                    scalar(f"{key}-{index}-{name}", cell)
        else:
            scalar(key, value)
    return pairs


class CallRow(Schema):
    class Meta:
        unknown = "include"


class CallCreate(Schema):
    """The call form's fields; times are local to ``timezone`` (YYYY-MM-DDTHH:MM)."""

    class Meta:
        unknown = "include"

    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    language = fields.String(required=True, validate=validate.Length(min=2, max=8))
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    description = fields.Dict(keys=fields.String(), values=fields.String())
    sector = fields.String(required=True)
    countries = fields.List(fields.String(), required=True)
    sdg_targets = fields.List(fields.String())
    currency = fields.String(validate=validate.Length(equal=3))
    envelope = Amount()
    min_grant = Amount()
    max_grant = Amount()
    min_cofinancing_share = Amount()
    timezone = fields.String(required=True)
    opens_at = fields.String(required=True, metadata={"example": "2027-02-01T00:00"})
    closes_at = fields.String(required=True, metadata={"example": "2027-03-31T23:59"})
    proposal_closes_at = fields.String()
    two_stage = fields.Boolean()
    require_verified_association = fields.Boolean()
    criteria = fields.List(fields.Nested(CallRow))
    document_types = fields.List(fields.Nested(CallRow))
    indicators = fields.List(fields.Nested(CallRow))
    tranches = fields.List(fields.Nested(CallRow))
    reports = fields.List(fields.Nested(CallRow))


@blueprint.route("/calls", methods=["POST"])
@blueprint.arguments(CallCreate)
@blueprint.response(201, CallSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def create_call(body):
    """A draft call, checked like the call form; publish it with the ``publish``
    transition once complete."""
    from werkzeug.datastructures import MultiDict

    from forms.calls import CallForm, call_data

    person = authenticate()
    call_service.check_may_create(person)
    form = CallForm(
        formdata=MultiDict(_flatten_form(body)), meta={"csrf": False, "machine_numbers": True}
    )
    if not form.validate():
        raise InvalidInput("The call is not valid: see errors.", flatten_errors(form.errors))
    call = call_service.create_call(person, call_data(form))
    db.session.flush()
    return _with_options([call], person, True)[0], 201, _etag(call)


@blueprint.route("/reviews/<int:record_id>/no-conflict", methods=["POST"])
@blueprint.response(200, ReviewSchema)
def attest_no_conflict(record_id: int):
    """The evaluator attests having no conflict of interest with the association: only
    then may they read the application and score it."""
    person = authenticate()
    review = evaluation_service.own_review(person, record_id)
    evaluation_service.attest_no_conflict(person, review)
    db.session.flush()
    return _with_options([review], person, True)[0], 200, _etag(review)


def _positive(value) -> None:
    if value <= 0 or value > 10**10:
        raise ValidationError("Must be above zero.")


class OutcomeItem(Schema):
    application_id = RecordIdField(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["award", "waitlist", "reject"]))
    amount = Amount(load_default=None, allow_none=True, places=2, validate=_positive)
    conditions = fields.String(load_default="", validate=validate.Length(max=5000))
    feedback = fields.String(load_default="", validate=validate.Length(max=5000))
    exchange_rate = Amount(load_default=None, allow_none=True, places=6, validate=_positive)


class DecisionCreate(Schema):
    meeting_date = fields.Date(required=True)
    present = fields.String(load_default="", validate=validate.Length(max=2000))
    minutes = fields.String(load_default="", validate=validate.Length(max=20000))
    outcomes = fields.List(fields.Nested(OutcomeItem), required=True)


class DecisionSchema(Schema):
    id = fields.Integer()
    call_id = fields.Integer()
    meeting_date = fields.Date()
    award_ids = fields.List(fields.Integer())


@blueprint.route("/calls/<int:record_id>/decisions", methods=["POST"])
@blueprint.arguments(DecisionCreate)
@blueprint.response(201, DecisionSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def record_decisions(body, record_id: int):
    """The committee's meeting: awards within the envelope (with the exchange rate when a
    budget is in another currency), the waiting list, rejections with feedback."""
    from grants.services import decisions

    person = authenticate()
    call = call_service.visible_call(person, record_id)
    outcomes = [decisions.Outcome(**item) for item in body["outcomes"]]
    decision = decisions.record(
        person, call, body["meeting_date"], body["present"], body["minutes"], outcomes
    )
    db.session.flush()
    award_ids = list(
        db.session.scalars(
            select(Award.id).where(
                Award.application_id.in_(
                    [o.application_id for o in outcomes if o.kind == "award"] or [0]
                )
            )
        )
    )
    return {
        "id": decision.id,
        "call_id": call.id,
        "meeting_date": decision.meeting_date,
        "award_ids": award_ids,
    }
