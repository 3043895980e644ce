"""Collections of the API, declared once each: who sees what, the filters, how a
transition is fired. Every collection gets a paginated list, an item, its history and
``POST …/transitions``; applications also take updates guarded by their version.

Lists are sorted by id (stable), capped at 100 per page, with a link to the next page;
the allowed transitions of a page are computed with one shared context, so the number
of queries does not grow with the page size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import request, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from grants.api.auth import authenticate
from grants.api.schemas import (
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
    ReportSchema,
    ReviewSchema,
    TrancheSchema,
    TransitionRequest,
)
from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.awards import Award, Report, Tranche
from grants.models.calls import Call
from grants.models.notifications import Notification
from grants.models.reviews import Review
from grants.numbers import parse_decimal
from grants.roles import ADMIN, FINANCE_OFFICER, PROGRAMME_OFFICER
from grants.services import applications as application_service
from grants.services import associations as association_service
from grants.services import awards as award_service
from grants.services import calls as call_service
from grants.services import disbursements
from grants.services import evaluation as evaluation_service
from grants.services.errors import Conflict, InvalidInput, NotFound
from grants.services.workflow import allowed_for_many, fire, history_of

blueprint = Blueprint("api", __name__, description="Resources of the programme")
STAFF = {PROGRAMME_OFFICER, FINANCE_OFFICER, ADMIN}


# Who is asking comes first: a request without a usable token is 401 before any check of
# its input.
@blueprint.before_request
def _authenticate() -> None:
    authenticate()  # returns nothing here: a value would replace the response


def _mine(person: User) -> list[int]:
    return [m.association_id for m in person.memberships]


# --- who sees what ------------------------------------------------------------------------


def calls_for(person: User) -> Select:
    statement = select(Call)
    if not {PROGRAMME_OFFICER, ADMIN} & person.role_names:
        statement = statement.where(Call.state != "draft")
    return statement


def associations_for(person: User) -> Select:
    statement = select(Association)
    if not STAFF & person.role_names:
        statement = statement.where(Association.id.in_(_mine(person)))
    return statement


def applications_for(person: User) -> Select:
    statement = select(Application)
    if not {PROGRAMME_OFFICER, ADMIN} & person.role_names:
        statement = statement.where(Application.association_id.in_(_mine(person)))
    return statement


def reviews_for(person: User) -> Select:
    statement = select(Review)
    if PROGRAMME_OFFICER not in person.role_names:
        statement = statement.where(Review.evaluator_id == person.id)
    return statement


def awards_for(person: User) -> Select:
    statement = select(Award)
    if not STAFF & person.role_names:
        statement = statement.where(Award.association_id.in_(_mine(person)))
    return statement


def tranches_for(person: User) -> Select:
    statement = select(Tranche).join(Award, Award.id == Tranche.award_id)
    if not STAFF & person.role_names:
        statement = statement.where(Award.association_id.in_(_mine(person)))
    return statement


def reports_for(person: User) -> Select:
    statement = select(Report).join(Award, Award.id == Report.award_id)
    if not STAFF & person.role_names:
        statement = statement.where(Award.association_id.in_(_mine(person)))
    return statement


def _visible(listing: Callable[[User], Select], model: Any) -> Callable[[User, int], Any]:
    def load(person: User, record_id: int) -> Any:
        record = db.session.scalars(listing(person).where(model.id == record_id)).first()
        if record is None:
            raise NotFound(f"No such {model.__tablename__[:-1].replace('_', ' ')}.")
        return record

    return load


# --- firing -----------------------------------------------------------------------------------


def _coerce(name: str, value: Any) -> Any:
    """Transition data arrives as JSON: dates and amounts become what the rules expect."""
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
        if name == "amount":
            return parse_decimal(value)
    except ValueError:
        raise InvalidInput(
            f"{name} is not valid: {value!r}.", {name: [f"Not a valid {name.replace('_', ' ')}."]}
        ) from None
    return value


def _fire(person: User, record: Any, name: str, comment: str | None, data: dict) -> None:
    if isinstance(record, Tranche):
        disbursements.act(person, record.id, name, comment=comment, **data)
    elif isinstance(record, Award) and name == "accept":
        award_service.accept(person, record, {"letter_read": data.pop("letter_read", None), **data})
    else:
        fire(record, name, person, comment=comment, **data)


# --- the declaration -----------------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    name: str
    model: Any
    schema: type[Schema]
    listing: Callable[[User], Select]
    filters: dict[str, Callable[[Select, Any], Select]] = field(default_factory=dict)
    updated: Any = None
    lifecycle: bool = True
    load: Callable[[User, int], Any] | None = None
    #: Eager loads for a page: what the representation and the guards read, in a few
    #: queries for the whole page.
    options: tuple[Any, ...] = ()

    def visible(self, person: User, record_id: int) -> Any:
        return (self.load or _visible(self.listing, self.model))(person, record_id)


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
        calls_for,
        {
            "state": _state(Call),
            "sector": lambda s, v: s.where(Call.sector == v),
            "call": lambda s, v: s.where(Call.code == v),
        },
        updated=Call.updated_at,
        load=call_service.visible_call,
    ),
    Collection(
        "associations",
        Association,
        AssociationSchema,
        associations_for,
        {
            "state": _state(Association),
            "country": lambda s, v: s.where(Association.residence_country == v.upper()),
        },
        updated=Association.updated_at,
        load=association_service.visible_association,
    ),
    Collection(
        "applications",
        Application,
        ApplicationSchema,
        applications_for,
        {
            "state": _state(Application),
            "call": _call_of(Application),
            "country": lambda s, v: s.where(Application.country == v.upper()),
            "sector": lambda s, v: s.where(Application.sector == v),
        },
        updated=Application.updated_at,
        load=application_service.visible_application,
        options=(
            selectinload(Application.call).selectinload(Call.document_types),
            selectinload(Application.association),
        ),
    ),
    Collection(
        "reviews",
        Review,
        ReviewSchema,
        reviews_for,
        {"state": _state(Review)},
        load=evaluation_service.review_for,
        options=(selectinload(Review.application), selectinload(Review.scores)),
    ),
    Collection(
        "awards",
        Award,
        AwardSchema,
        awards_for,
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
        tranches_for,
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
        reports_for,
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
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    page, per_page = args["page"], args["per_page"]
    records = list(
        db.session.scalars(
            statement.options(*collection.options)
            .order_by(collection.model.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).unique()
    )
    following = None
    if page * per_page < total:
        query = {k: v for k, v in request.args.items() if k != "page"}
        following = url_for(request.endpoint, page=page + 1, _external=False, **query)
    return {
        "items": _with_options(records, person, collection.lifecycle),
        "page": page,
        "per_page": per_page,
        "total": total,
        "next": following,
    }


def _register(collection: Collection) -> None:
    name, schema = collection.name, collection.schema
    singular = name[:-1]

    def listing(args):
        return _list(collection, args)

    listing.__name__ = f"list_{name}"
    listing.__doc__ = f"The {name} the caller may see, by id, {ListArgs.__name__} filters."
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
        _fire(person, record, name_, comment, data)
        db.session.commit()
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
    if version != application.version:
        raise Conflict("Someone changed this application since you read it; read it again.")
    application_service.save_draft(
        person,
        application,
        version,
        body,
        [
            {
                "category": line.category,
                "description": line.description,
                "quantity": line.quantity,
                "unit_cost": line.unit_cost,
            }
            for line in application.budget_lines
        ],
        [
            {"source": c.source, "description": c.description, "amount": c.amount}
            for c in application.cofinancing
        ],
    )
    db.session.commit()
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
