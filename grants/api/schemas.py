"""The API's representations (marshmallow 4): what each resource says about itself.

Every record with a lifecycle carries ``state``, ``version`` and ``allowed_transitions``
for the caller (with the reasons for those not allowed), computed by the same service
the pages use. No personal data of other people leaves through these schemas: bank
details only on awards, to their association and the staff (see ``AwardSchema``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import request, url_for
from marshmallow import Schema, ValidationError, fields, pre_load, validate

from grants import text_limits as limits
from grants.api import representation
from grants.models.accounts import LOCALES
from grants.models.calls import SECTORS
from grants.numbers import COUNT_MAX, MACHINE, NumberRefused, read_number
from grants.reference import COUNTRY_CODES, SDG_TARGETS, active_currencies
from grants.services.errors import InvalidInput


class RecordIdField(fields.Integer):
    """The id of a record: what a database integer holds (1 to 2,147,483,647)."""

    def __init__(self, **kwargs):
        from grants.routing import MAX_ID

        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Amount(fields.Decimal):
    """A decimal sent as a string ("12800.00"): no float ever rounds money.

    Read in the machine grammar only (a JSON number, or digits with a point): "1.250,50"
    or "1,250.50" are refused, as are NaN, Infinity, more decimals than ``places`` (2 by
    default) and values beyond what ``Numeric(14, 2)`` holds.
    """

    def __init__(self, *args, **kwargs):
        places = kwargs.pop("places", None)
        self.decimals = 2 if places is None else places
        # Always written with its places ("32000.50"), whatever was typed ("32000.5").
        super().__init__(*args, places=self.decimals, as_string=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return read_number(value, MACHINE, places=self.decimals, minimum=None)
        except NumberRefused as refused:
            raise ValidationError(refused.message) from None


class ApiErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "machine-readable kind"})
    message = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), load_default=dict
    )


class OptionSchema(Schema):
    name = fields.String(required=True)
    allowed = fields.Boolean(required=True)
    reasons = fields.List(fields.String(), required=True)
    status = fields.Integer(required=True)
    comment_required = fields.Boolean(required=True)
    requires = fields.List(
        fields.String(), required=True, metadata={"description": "data it cannot go without"}
    )
    accepts = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "data it reads when given; nothing else may be sent"},
    )
    tone = fields.String(
        required=True,
        metadata={
            "description": "how the pages offer it: primary (the way forward, first), "
            "neutral, destructive (last, confirmed first)",
            "enum": ["primary", "neutral", "destructive"],
        },
    )


class LifecycleSchema(Schema):
    id = fields.Integer(required=True)
    state = fields.String(required=True)
    version = fields.Integer(required=True)
    next_step = fields.Function(
        representation.next_step,
        metadata={
            "type": "string",
            "nullable": True,
            "description": "what comes next from this state, in the caller's language",
        },
    )
    allowed_transitions = fields.List(
        fields.Nested(OptionSchema), attribute="api_options", dump_default=list
    )


#: Lists count their rows exactly up to this many; a larger total is kept for a minute.
EXACT_TOTAL = 10_000


class PageSchema(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(
        required=True,
        metadata={
            "description": f"exact up to {EXACT_TOTAL:,}; above, counted at most a minute ago"
            " (total_estimated is then true)"
        },
    )
    total_estimated = fields.Boolean(required=True)
    next = fields.String(
        allow_none=True, metadata={"description": "the next page; null on the last page"}
    )


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


def page_schema(item: type[Schema]) -> type[Schema]:
    """The page of ``item``s: every list of the API has this one shape."""
    return type(
        f"{item.__name__.removesuffix('Schema').removesuffix('Info')}Page",
        (PageSchema,),
        {"items": fields.List(fields.Nested(item), required=True)},
    )


def _next_page(page: int) -> str:
    """This request's address with ``page`` changed, every other argument kept."""
    query = {**request.args.to_dict(flat=False), "page": page}
    return url_for(request.endpoint, **(request.view_args or {}), **query)


def page_of(items: Sequence[Any], args: dict[str, Any]) -> dict[str, Any]:
    """A list a service gives whole (a record's history or documents, a person's tokens,
    a payment run) as a page of the request's ``page`` and ``per_page``, linking the
    next one."""
    page, per_page = args["page"], args["per_page"]
    return {
        "items": items[(page - 1) * per_page : page * per_page],
        "page": page,
        "per_page": per_page,
        "total": len(items),
        "total_estimated": False,
        "next": _next_page(page + 1) if page * per_page < len(items) else None,
    }


def page_of_found(found: Any) -> dict[str, Any]:
    """A page a service paginated in SQL (``db.paginate``), linking the next one with the
    request's own arguments."""
    return {
        "items": list(found.items),
        "page": found.page,
        "per_page": found.per_page,
        "total": found.total,
        "total_estimated": False,
        "next": _next_page(found.next_num) if found.has_next else None,
    }


class ListArgs(PageArgs):
    state = fields.String(load_default=None, validate=validate.Length(max=30))
    call = fields.String(load_default=None, validate=validate.Length(max=40))
    country = fields.String(load_default=None, validate=validate.Length(equal=2))
    sector = fields.String(load_default=None, validate=validate.Length(max=40))
    updated_since = fields.AwareDateTime(load_default=None)


class CriterionSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    name = fields.Dict(keys=fields.String(), values=fields.String())
    weight = Amount()
    scale_min = fields.Integer()
    scale_max = fields.Integer()


class DocumentTypeSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    name = fields.Dict(keys=fields.String(), values=fields.String())
    required = fields.Boolean()
    max_size_mb = fields.Integer()
    allowed_kinds = fields.List(fields.String())


class IndicatorSchema(Schema):
    name = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    unit = fields.String(required=True)
    by_sex = fields.Boolean(required=True)


class TrancheStepSchema(Schema):
    percentage = Amount(required=True)
    after_report = fields.String(
        allow_none=True,
        validate=validate.OneOf(("interim", "final")),
        metadata={"description": "the report that must be accepted before it is paid"},
    )


class ReportStepSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("interim", "final")))
    months = fields.Integer(required=True, metadata={"description": "after the grant starts"})


class CallSchema(LifecycleSchema):
    code = fields.String(required=True)
    language = fields.String()
    title = fields.Dict(keys=fields.String(), values=fields.String())
    description = fields.Dict(keys=fields.String(), values=fields.String())
    sector = fields.String()
    countries = fields.List(fields.String())
    sdg_targets = fields.List(fields.String())
    currency = fields.String()
    envelope = Amount()
    min_grant = Amount()
    max_grant = Amount()
    min_cofinancing_share = Amount()
    opens_at = fields.AwareDateTime(allow_none=True)
    closes_at = fields.AwareDateTime(allow_none=True)
    timezone = fields.String()
    two_stage = fields.Boolean()
    proposal_closes_at = fields.AwareDateTime(allow_none=True)
    criteria = fields.List(fields.Nested(CriterionSchema))
    document_types = fields.List(fields.Nested(DocumentTypeSchema))
    indicators = fields.List(fields.Nested(IndicatorSchema))
    tranche_schedule = fields.List(fields.Nested(TrancheStepSchema))
    report_schedule = fields.List(fields.Nested(ReportStepSchema))
    evaluators_per_application = fields.Integer()
    max_reviews_per_evaluator = fields.Integer(allow_none=True)
    blind_review = fields.Boolean()
    hide_other_scores = fields.Boolean()
    disagreement_threshold = Amount()
    review_deadline = fields.AwareDateTime(allow_none=True)
    require_verified_association = fields.Boolean()
    registration_countries = fields.List(fields.String())
    no_overdue_reports = fields.Boolean()
    eligibility_questions = fields.List(
        fields.Dict(),
        metadata={
            "description": 'yes/no questions: {"key", "text": {language: text}, "excludes": '
            '"yes"|"no"}; answer them in the application\'s eligibility_answers'
        },
    )


class AssociationSchema(LifecycleSchema):
    name = fields.String(required=True)
    registration_number = fields.String()
    registration_country = fields.String()
    residence_country = fields.String()
    countries_of_work = fields.List(fields.String())
    founded_on = fields.Date(required=True, allow_none=True)
    contact_name = fields.String(required=True)
    contact_email = fields.String(required=True)
    contact_phone = fields.String(required=True)
    website = fields.String()
    description = fields.String()
    working_languages = fields.List(fields.String())


def _non_negative(value) -> None:
    if value < 0 or value > 10**10:
        raise ValidationError("Must be between 0 and 10,000,000,000.")


BUDGET_CATEGORIES = (
    "staff",
    "equipment",
    "training",
    "travel",
    "premises",
    "services",
    "communication",
    "other",
)
COFINANCING_SOURCES = ("association_cash", "in_kind", "local_authority", "other_donor")


class Within(validate.Length):
    """A text within its limit (``grants.text_limits``): documented as
    ``maxLength``, refused with the sentence the pages use, in the caller's language."""

    def __init__(self, limit: limits.TextLimit):
        super().__init__(max=limit.limit)
        self.text_limit = limit

    def __call__(self, value: str) -> str:
        problem = self.text_limit.problem(value)
        if problem:
            raise ValidationError(problem)
        return value


class BudgetLineSchema(Schema):
    id = fields.Integer(dump_only=True)
    position = fields.Integer(dump_only=True)
    category = fields.String(required=True, validate=validate.OneOf(BUDGET_CATEGORIES))
    description = fields.String(load_default="", validate=Within(limits.BUDGET_LINE_DESCRIPTION))
    quantity = Amount(required=True, places=2, validate=_non_negative)
    unit_cost = Amount(required=True, places=2, validate=_non_negative)
    total = Amount(dump_only=True)


class CoFinancingSchema(Schema):
    id = fields.Integer(dump_only=True)
    source = fields.String(required=True, validate=validate.OneOf(COFINANCING_SOURCES))
    description = fields.String(load_default="", validate=Within(limits.COFINANCING_DESCRIPTION))
    amount = Amount(required=True, places=2, validate=_non_negative)


def _known_country(value: str) -> None:
    if value not in COUNTRY_CODES:
        raise ValidationError("Not an ISO 3166-1 alpha-2 country code, such as SN.")


def _known_targets(values: list[str]) -> None:
    unknown = [code for code in values if code not in SDG_TARGETS]
    if unknown:
        raise ValidationError(f"Not SDG targets: {', '.join(unknown)} (such as 8.6 or 4.4).")


class PartnerSchema(Schema):
    name = fields.String(
        required=True, validate=[validate.Length(min=1), Within(limits.PARTNER_NAME)]
    )
    country = fields.String(load_default=None, allow_none=True, validate=_known_country)
    role = fields.String(load_default="", validate=Within(limits.PARTNER_ROLE))


class TeamMemberSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1), Within(limits.TEAM_NAME)])
    role = fields.String(load_default="", validate=Within(limits.TEAM_ROLE))


STRINGS = {"type": "array", "items": {"type": "string"}}


class ApplicationSchema(LifecycleSchema):
    reference = fields.String(allow_none=True)
    call_id = fields.Integer()
    association_id = fields.Integer()
    language = fields.String()
    title = fields.String()
    summary = fields.String()
    objectives = fields.String()
    sector = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    locality = fields.String()
    start_date = fields.Date(allow_none=True)
    duration_months = fields.Integer(allow_none=True)
    beneficiaries_count = fields.Integer(allow_none=True)
    beneficiaries_women = fields.Integer(allow_none=True)
    beneficiaries_men = fields.Integer(allow_none=True)
    beneficiaries_description = fields.String(allow_none=True)
    sdg_targets = fields.Function(
        lambda application: list(application.sdg_targets or []), metadata=STRINGS
    )
    amount_requested = Amount(allow_none=True)
    budget_currency = fields.String(allow_none=True)
    budget_total = Amount(dump_only=True)
    cofinancing_share = Amount(dump_only=True)
    budget_lines = fields.List(fields.Nested(BudgetLineSchema))
    cofinancing = fields.List(fields.Nested(CoFinancingSchema))
    partners = fields.List(fields.Nested(PartnerSchema))
    team = fields.List(fields.Nested(TeamMemberSchema))
    submitted_at = fields.AwareDateTime(allow_none=True)
    eligibility_answers = fields.Dict(keys=fields.String(), values=fields.String())
    answers = fields.Function(
        lambda application: {answer.question.key: answer.value for answer in application.answers},
        metadata={
            "type": "object",
            "description": "answers to the call's own questions, by question key",
        },
    )

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """Written by ``representation.application``, field for field what is declared
        above, at a fraction of the cost of the generic dump (lists of 25 to 100)."""
        if self.only or self.exclude:
            return super().dump(obj, many=many)
        if many if many is not None else self.many:
            return [representation.application(record) for record in obj]
        return representation.application(obj)


def _currency_in_use(value: str) -> None:
    if value not in active_currencies():
        raise ValidationError("Choose a currency in use, such as USD, EUR or XOF.")


def _plausible_amount(value) -> None:
    if value < 0 or value > 10**9:
        raise ValidationError("Must be between 0 and 1,000,000,000.")


class PreconditionRequired(InvalidInput):
    status = 428


class Versioned(Schema):
    """A change to a record with a version: the version read is required, in the body
    or as ``If-Match: "<version>"``; without either the answer is 428."""

    version = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": 'the version read (or send it as If-Match: "3")'},
    )

    @pre_load
    def _version_from_if_match(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict) or data.get("version") is not None:
            return data
        match = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
        if not match:
            raise PreconditionRequired("Send the version you read, as If-Match or version.")
        if not match.isdigit():
            raise InvalidInput(
                'If-Match must be the version, such as "3".', {"If-Match": ["Not a version."]}
            )
        return {**data, "version": int(match)}


class ApplicationUpdate(Versioned):
    """A draft's fields; every one optional, checked like the web form's."""

    language = fields.String(
        validate=validate.OneOf(LOCALES),
        metadata={"description": "the language the application is written in"},
    )
    title = fields.String(validate=Within(limits.TITLE))
    summary = fields.String(validate=Within(limits.SUMMARY))
    objectives = fields.String(validate=Within(limits.OBJECTIVES))
    sector = fields.String(validate=validate.OneOf(SECTORS))
    country = fields.String(
        allow_none=True,
        validate=_known_country,
        metadata={"description": "where the project takes place (ISO 3166-1 alpha-2)"},
    )
    locality = fields.String(validate=Within(limits.LOCALITY))
    start_date = fields.Date(allow_none=True)
    duration_months = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=60))
    beneficiaries_count = fields.Integer(
        allow_none=True, validate=validate.Range(min=0, max=COUNT_MAX)
    )
    beneficiaries_women = fields.Integer(
        allow_none=True, validate=validate.Range(min=0, max=COUNT_MAX)
    )
    beneficiaries_men = fields.Integer(
        allow_none=True, validate=validate.Range(min=0, max=COUNT_MAX)
    )
    beneficiaries_description = fields.String(validate=Within(limits.BENEFICIARIES_DESCRIPTION))
    sdg_targets = fields.List(
        fields.String(),
        validate=_known_targets,
        metadata={"description": "SDG targets the project serves, such as 8.6"},
    )
    amount_requested = Amount(allow_none=True, places=2, validate=_plausible_amount)
    budget_currency = fields.String(
        validate=_currency_in_use,
        metadata={"description": "ISO 4217 currency of the budget lines, e.g. XOF"},
    )
    budget_lines = fields.List(
        fields.Nested(BudgetLineSchema), metadata={"description": "replaces every line"}
    )
    eligibility_answers = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.OneOf(("yes", "no"))),
        metadata={"description": "the answer to each of the call's eligibility questions"},
    )
    cofinancing = fields.List(
        fields.Nested(CoFinancingSchema), metadata={"description": "replaces every source"}
    )
    partners = fields.List(
        fields.Nested(PartnerSchema),
        metadata={"description": "replaces every partner; letters are documents (partner-N)"},
    )
    team = fields.List(
        fields.Nested(TeamMemberSchema), metadata={"description": "replaces every member"}
    )
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        metadata={
            "description": "answers to the call's own questions by question key (a list "
            "for several choices, null removes one); those not sent are kept"
        },
    )


class ReviewSchema(LifecycleSchema):
    application_id = fields.Integer()
    evaluator_id = fields.Integer()
    recommendation = fields.String(allow_none=True)
    overall_comment = fields.String()
    submitted_at = fields.AwareDateTime(allow_none=True)
    due_at = fields.AwareDateTime(
        allow_none=True,
        dump_only=True,
        metadata={"description": "when the review is due; set when the review starts"},
    )
    scores = fields.Method(
        "_scores",
        metadata={
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "criterion_id": {"type": "integer"},
                    "score": {"type": "integer"},
                    "comment": {"type": "string"},
                },
                "required": ["criterion_id", "score", "comment"],
            },
        },
    )

    def _scores(self, review) -> list[dict]:
        return [
            {"criterion_id": s.criterion_id, "score": s.score, "comment": s.comment}
            for s in review.scores
        ]


class TrancheSchema(LifecycleSchema):
    award_id = fields.Integer()
    position = fields.Integer()
    percentage = Amount()
    amount = Amount()
    condition_report_id = fields.Integer(allow_none=True)
    requested_by_id = fields.Integer(allow_none=True)
    requested_at = fields.AwareDateTime(allow_none=True)
    approver_ids = fields.Method(
        "_approvers",
        metadata={
            "type": "array",
            "items": {"type": "integer"},
            "description": "who has approved it so far (four eyes: two are needed)",
        },
    )
    paid_by_id = fields.Integer(allow_none=True)
    payment_date = fields.Date(allow_none=True)
    bank_reference = fields.String()

    def _approvers(self, tranche) -> list[int]:
        return sorted(tranche.current_approver_ids)


class ReportSchema(LifecycleSchema):
    award_id = fields.Integer()
    kind = fields.String()
    due_date = fields.Date()
    activities = fields.String()
    results = fields.String()
    difficulties = fields.String()
    next_steps = fields.String()
    spending = fields.List(fields.Dict())
    indicator_values = fields.Dict()
    cofinancing_received = fields.Dict()
    review_comments = fields.Dict()
    submitted_at = fields.AwareDateTime(allow_none=True)
    accepted_at = fields.AwareDateTime(allow_none=True)


class TrancheSummarySchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    amount = Amount()
    state = fields.String()
    payment_date = fields.Date(allow_none=True)


class ReportSummarySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    due_date = fields.Date()
    state = fields.String()


class AwardSchema(LifecycleSchema):
    application_id = fields.Integer()
    association_id = fields.Integer()
    reference = fields.Function(
        lambda award: award.application.reference,
        metadata={"type": "string", "description": "the awarded application's reference"},
    )
    amount = Amount()
    currency = fields.String()
    exchange_rate = Amount(allow_none=True)
    exchange_rate_date = fields.Date(allow_none=True)
    budget_currency = fields.String()
    paid_total = Amount()
    balance = Amount()
    conditions = fields.String()
    offered_at = fields.AwareDateTime()
    accepted_at = fields.AwareDateTime(allow_none=True)
    accepted_letter_sha256 = fields.String(
        metadata={
            "description": "SHA-256 of the signed award letter the association accepted "
            "(empty until accepted): the file GET …/letter.pdf serves in that language"
        }
    )
    bank_change_pending = fields.Boolean()
    tranches = fields.List(fields.Nested(TrancheSummarySchema))
    reports = fields.List(fields.Nested(ReportSummarySchema))


class NotificationSchema(Schema):
    id = fields.Integer()
    rule = fields.String()
    category = fields.String()
    subject = fields.String()
    body = fields.String()
    link = fields.String()
    entity_type = fields.String()
    entity_id = fields.Integer()
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


class HistorySchema(Schema):
    id = fields.Integer()
    transition = fields.String()
    from_state = fields.String()
    to_state = fields.String()
    actor_id = fields.Integer(allow_none=True)
    actor_label = fields.String(attribute="shown_actor")
    comment = fields.String()
    created_at = fields.AwareDateTime()


class TransitionRequest(Schema):
    """``{"name": ..., "comment": ..., ...data}``: the data a transition declares."""

    class Meta:
        unknown = "include"

    name = fields.String(required=True, validate=validate.Length(min=1, max=40))
    comment = fields.String(load_default=None, validate=Within(limits.TRANSITION_COMMENT))


class TokenRequest(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=500))
    code = fields.String(
        load_default=None,
        validate=validate.Length(max=12),
        metadata={"description": "the two-factor code, for people who use two-factor"},
    )
    name = fields.String(load_default="api", validate=validate.Length(max=100))
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365))


class TokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "shown once"})
    expires_at = fields.AwareDateTime(required=True)
