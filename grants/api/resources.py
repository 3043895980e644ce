"""Collections of the API, declared once each: the policy that says who sees them
(``grants.policy``), the filters, and the schema. Every collection gets a paginated
list, an item, its history and ``POST …/transitions`` (fired through
``services.actions``). What only some records take lives beside them: drafts in
``applications``, scores and assignments in ``reviews``, reports in ``reports``, new
calls and the committee's decisions in ``calls``, the caller's notifications in
``notifications``; documents and tokens in theirs. Parsing and routing only: who may see
and do what is the services' and ``grants.policy``'s.

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
from marshmallow import Schema
from sqlalchemy import Select, func, select
from sqlalchemy.orm import lazyload, selectinload

from grants import policy
from grants.api import representation
from grants.api.auth import authenticate
from grants.api.schemas import (
    EXACT_TOTAL,
    ApiErrorSchema,
    ApplicationSchema,
    AssociationSchema,
    AwardSchema,
    CallSchema,
    HistorySchema,
    ListArgs,
    PageArgs,
    ReportSchema,
    ReviewSchema,
    TrancheSchema,
    TransitionRequest,
    page_of,
    page_schema,
)
from grants.extensions import db
from grants.freshness import needs_fresh, require_fresh_token
from grants.kept import Keeper
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.awards import Award, Report, Tranche
from grants.models.calls import Call
from grants.models.questions import Answer
from grants.models.reviews import Review
from grants.numbers import MACHINE, NumberRefused, read_number
from grants.policy import Visibility
from grants.services import actions
from grants.services.errors import Conflict, InvalidInput
from grants.services.workflow import allowed_for_many, history_of

blueprint = Blueprint("api", __name__, description="Resources of the programme")


# Who is asking comes first: a request without a usable token is 401 before any check of
# its input.
@blueprint.before_request
def _authenticate() -> None:
    authenticate()  # returns nothing here: a value would replace the response


# Who sees what is ``grants.policy``'s: each collection lists and loads through it.


# --- firing -----------------------------------------------------------------------------------


def coerce(name: str, value: Any) -> Any:
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


#: What a page of applications shows, a query per relationship. What the
#: guards read is loaded by ``allowed_for_many`` for the records whose guards will run
#: for the person asking (an officer's page reads no documents, and reviews only where a
#: review starts or ends).
APPLICATION_OPTIONS = (
    # Read by guards only (the call's state and deadline, the association's record):
    # loaded with them, for the records whose guards run.
    lazyload(Application.call),
    lazyload(Application.association),
    selectinload(Application.budget_lines),
    selectinload(Application.cofinancing),
    selectinload(Application.partners),
    selectinload(Application.team),
    # The key of each answer's question, in the same query.
    selectinload(Application.answers).joinedload(Answer.question),
)

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
        options=(selectinload(Call.criteria), selectinload(Call.document_types)),
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
        options=APPLICATION_OPTIONS,
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


HistoryPage = page_schema(HistorySchema)


def etag_of(record: Any) -> dict[str, str]:
    version = getattr(record, "version", None)
    return {"ETag": f'"{version}"'} if version is not None else {}


def with_options(records: list[Any], person: User, lifecycle: bool) -> list[Any]:
    if lifecycle and records:
        options = allowed_for_many(records, person)
        texts = representation.Texts()
        for record in records:
            record.api_options = [representation.option(o, texts) for o in options[record.id]]
            record.api_next_step = (record.state, representation.next_step(record, texts))
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
        "items": with_options(records, person, collection.lifecycle),
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
            blueprint.response(200, page_schema(collection.schema))(
                blueprint.alt_response(401, schema=ApiErrorSchema)(
                    blueprint.alt_response(422, schema=ApiErrorSchema)(listing)
                )
            )
        )
    )

    def item(record_id: int):
        person = authenticate()
        record = collection.visible(person, record_id)
        shown = with_options([record], person, collection.lifecycle)[0]
        return shown, 200, etag_of(record)

    item.__name__ = f"get_{singular}"
    item.__doc__ = f"One {singular}, with what the caller can do with it."
    blueprint.route(f"/{name}/<int:record_id>", methods=["GET"], endpoint=f"get_{singular}")(
        blueprint.response(200, schema)(
            blueprint.alt_response(404, schema=ApiErrorSchema)(
                blueprint.alt_response(401, schema=ApiErrorSchema)(item)
            )
        )
    )

    def history(args, record_id: int):
        person = authenticate()
        return page_of(history_of(collection.visible(person, record_id)), args)

    history.__name__ = f"history_{singular}"
    history.__doc__ = f"Every transition of one {singular}, oldest first."
    blueprint.route(
        f"/{name}/<int:record_id>/history", methods=["GET"], endpoint=f"history_{singular}"
    )(
        blueprint.arguments(PageArgs, location="query")(
            blueprint.response(200, HistoryPage)(
                blueprint.alt_response(404, schema=ApiErrorSchema)(history)
            )
        )
    )

    def transition(body, record_id: int):
        person = authenticate()
        record = collection.visible(person, record_id)
        name_ = body.pop("name")
        comment = body.pop("comment", None)
        declared = type(record).lifecycle.rules.get(name_)
        unknown = sorted(set(body) - set(declared.requires + declared.accepts)) if declared else []
        if unknown:
            raise InvalidInput(
                f"{name_} does not take {', '.join(unknown)}: see its requires and accepts.",
                dict.fromkeys(unknown, ["Not read by this transition."]),
            )
        data = {key: coerce(key, value) for key, value in body.items()}
        if needs_fresh(singular, name_):
            require_fresh_token()
        actions.act(person, record, name_, comment, **data)
        db.session.flush()
        db.session.refresh(record)
        return with_options([record], person, True)[0], 200, etag_of(record)

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


def check_version(body: dict, record: Any, what: str) -> None:
    """The version read (the body's, or If-Match's: ``schemas.Versioned``) must be the
    record's current one."""
    if body.pop("version") != record.version:
        raise Conflict(f"Someone changed this {what} since you read it; read it again.")
