"""People through the API: the caller (``/me``); for the officers who assign reviews,
the evaluators with their languages and current load; for admins, everyone, their roles
and whether their account is active (``services.accounts``, as on the admin pages)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grants.api import flatten_errors
from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema, PageArgs, page_of, page_of_found, page_schema
from grants.extensions import db
from grants.roles import ROLE_NAMES
from grants.services import accounts as account_service
from grants.services import evaluation as evaluation_service
from grants.services.errors import InvalidInput

STRINGS = {"type": "array", "items": {"type": "string"}}


class MembershipSchema(Schema):
    association_id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="association.name")
    state = fields.String(required=True, attribute="association.state")


class MeSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    full_name = fields.String(allow_none=True)
    locale = fields.String(required=True)
    timezone = fields.String(allow_none=True)
    languages = fields.Function(
        lambda person: list(person.languages or []),
        metadata={**STRINGS, "description": "the languages they read and review in"},
    )
    roles = fields.Function(lambda person: sorted(person.role_names), metadata=STRINGS)
    memberships = fields.List(fields.Nested(MembershipSchema), required=True)
    two_factor = fields.Function(
        lambda person: bool(person.tf_primary_method),
        metadata={"type": "boolean", "description": "whether a second factor is set up"},
    )


class EvaluatorSchema(Schema):
    id = fields.Integer(required=True, attribute="person.id")
    full_name = fields.String(allow_none=True, attribute="person.full_name")
    email = fields.String(required=True, attribute="person.email")
    languages = fields.Function(
        lambda load: list(load.person.languages or []),
        metadata={**STRINGS, "description": "the languages they review in"},
    )
    waiting = fields.Integer(
        required=True, metadata={"description": "reviews assigned and not yet submitted"}
    )
    submitted = fields.Integer(required=True)
    conflicts = fields.Integer(
        required=True,
        metadata={"description": "associations they declared a conflict of interest with"},
    )


EvaluatorPage = page_schema(EvaluatorSchema)


@blueprint.route("/me", methods=["GET"])
@blueprint.response(200, MeSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
def me():
    """Who the token belongs to: roles, associations and languages."""
    return authenticate()


class ProfileUpdate(Schema):
    """What a person changes of themselves, as on their profile page; checked by the
    profile form."""

    full_name = fields.String(validate=validate.Length(min=1, max=200))
    locale = fields.String(metadata={"description": "en, fr, es or ar: the pages and emails"})
    timezone = fields.String(metadata={"example": "Africa/Dakar"})
    languages = fields.List(
        fields.String(), metadata={"description": "the languages they read, such as fr or wo"}
    )


@blueprint.route("/me", methods=["PATCH"])
@blueprint.arguments(ProfileUpdate)
@blueprint.response(200, MeSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def update_me(body):
    """Change the caller's name, language, time zone or the languages they read."""
    from werkzeug.datastructures import MultiDict

    from forms.accounts import ProfileForm

    person = authenticate()
    values = {name: getattr(person, name) for name in account_service.PROFILE_FIELDS} | body
    pairs = [(name, values[name] or "") for name in ("full_name", "locale", "timezone")]
    pairs += [("languages", code) for code in values["languages"] or []]
    form = ProfileForm(formdata=MultiDict(pairs), meta={"csrf": False})
    if not form.validate():
        raise InvalidInput("The profile is not valid: see errors.", flatten_errors(form.errors))
    account_service.update_profile(person, {name: form[name].data for name in body})
    return person


class PreferenceSchema(Schema):
    category = fields.String(required=True)
    label = fields.String(required=True)
    mode = fields.String(
        required=True,
        metadata={"description": "immediate, digest, or in_app (in the product only)"},
    )
    required = fields.Boolean(
        required=True, metadata={"description": "security and money: always an immediate email"}
    )


class PreferencesSchema(Schema):
    items = fields.List(fields.Nested(PreferenceSchema), required=True)


class PreferencesUpdate(Schema):
    preferences = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": 'category → mode, e.g. {"decisions": "digest"}'},
    )


def _preferences(person) -> dict:
    from flask_babel import gettext

    from notifications import outbox
    from notifications.rules import CATEGORIES

    chosen = {p.category: p.mode for p in outbox.user_preferences(person.id)}
    return {
        "items": [
            {
                "category": category.name,
                "label": gettext(category.label),
                "mode": "immediate" if category.required else chosen.get(name, "immediate"),
                "required": category.required,
            }
            for name, category in CATEGORIES.items()
        ]
    }


@blueprint.route("/me/notification-preferences", methods=["GET"])
@blueprint.response(200, PreferencesSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
def notification_preferences():
    """How the caller receives each category of notification."""
    return _preferences(authenticate())


@blueprint.route("/me/notification-preferences", methods=["PUT"])
@blueprint.arguments(PreferencesUpdate)
@blueprint.response(200, PreferencesSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def set_notification_preferences(body):
    """Choose how each optional category arrives: immediately, in a daily digest, or
    in the product only (``in_app``); security and money are always emailed at once."""
    from grants.models.notifications import DELIVERY_MODES
    from notifications import outbox
    from notifications.rules import CATEGORIES

    person = authenticate()
    errors = {}
    for category, mode in body["preferences"].items():
        if category not in CATEGORIES:
            errors[f"preferences.{category}"] = [
                f"Unknown category; known: {', '.join(CATEGORIES)}."
            ]
        elif CATEGORIES[category].required:
            errors[f"preferences.{category}"] = ["Always sent at once: it cannot be changed."]
        elif mode not in DELIVERY_MODES:
            errors[f"preferences.{category}"] = [f"Choose one of {', '.join(DELIVERY_MODES)}."]
    if errors:
        raise InvalidInput("Some choices are not valid: see errors.", errors)
    outbox.set_preferences(person, body["preferences"])
    db.session.flush()
    return _preferences(person)


@blueprint.route("/evaluators", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, EvaluatorPage)
@blueprint.alt_response(403, schema=ApiErrorSchema)
def list_evaluators(args):
    """Active evaluators by name, with the languages they read and their current load:
    whom to pass as ``evaluator_id`` to ``POST /reviews``. For programme officers and
    admins."""
    return page_of(evaluation_service.evaluator_directory(authenticate()), args)


# --- people, for admins ------------------------------------------------------------------


class UserSchema(MeSchema):
    active = fields.Boolean(
        required=True, metadata={"description": "false: the person cannot log in or use a token"}
    )
    confirmed_at = fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "when the email address was confirmed"},
    )
    last_login_at = fields.AwareDateTime(required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True, attribute="create_datetime")


UserPage = page_schema(UserSchema)


class UserListArgs(PageArgs):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "part of the email address or the name"},
    )
    role = fields.String(load_default="", validate=validate.OneOf(("", *ROLE_NAMES)))


class RoleRequest(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLE_NAMES))


class UserUpdate(Schema):
    active = fields.Boolean(
        required=True, metadata={"description": "false deactivates: sessions and tokens end"}
    )


def _admin():
    person = authenticate()
    account_service.check_may_manage_people(person)
    return person


@blueprint.route("/users", methods=["GET"])
@blueprint.arguments(UserListArgs, location="query")
@blueprint.response(200, UserPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(422, schema=ApiErrorSchema)
def list_users(args):
    """Everyone, by email, filtered by part of their address or name (``q``) and by
    ``role``. For admins."""
    _admin()
    return page_of_found(
        account_service.search_users(args["q"], args["role"], args["page"], args["per_page"])
    )


@blueprint.route("/users/<int:user_id>", methods=["GET"])
@blueprint.response(200, UserSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
def get_user(user_id: int):
    """One person, with their roles and associations. For admins."""
    _admin()
    return account_service.get_user(user_id)


@blueprint.route("/users/<int:user_id>", methods=["PATCH"])
@blueprint.arguments(UserUpdate)
@blueprint.response(200, UserSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema, description="e.g. the last active admin")
@blueprint.alt_response(422, schema=ApiErrorSchema)
def update_user(body, user_id: int):
    """Deactivate a person (their sessions and tokens end) or reactivate them. For admins."""
    actor = _admin()
    person = account_service.get_user(user_id)
    account_service.set_active(actor, person, body["active"])
    db.session.flush()
    return person


@blueprint.route("/users/<int:user_id>/roles", methods=["POST"])
@blueprint.arguments(RoleRequest)
@blueprint.response(200, UserSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema, description="they have it already")
@blueprint.alt_response(422, schema=ApiErrorSchema)
def grant_role(body, user_id: int):
    """Grant a role. For admins."""
    actor = _admin()
    person = account_service.get_user(user_id)
    account_service.grant_role(actor, person, body["role"])
    db.session.flush()
    return person


@blueprint.route("/users/<int:user_id>/roles/<role>", methods=["DELETE"])
@blueprint.response(200, UserSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(
    409, schema=ApiErrorSchema, description="they do not have it, or the last active admin"
)
def remove_role(user_id: int, role: str):
    """Remove a role. For admins; the last active admin keeps theirs."""
    actor = _admin()
    person = account_service.get_user(user_id)
    account_service.remove_role(actor, person, role)
    db.session.flush()
    return person
