"""Every route, as anonymous and as each role: who gets in, who is sent to log in,
who is refused (403) and who is told the object does not exist (404).

The walk fails when a route exists that the table below does not mention, so every
route added later must say here who may use it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grants.extensions import db
from grants.roles import ROLE_NAMES
from grants.services.accounts import issue_token, user_tokens
from tests.fixtures.people import make_association, make_user

ANON = "anonymous"
VIEWERS = (ANON, *ROLE_NAMES)

#: The page or action is reachable: 2xx, 3xx other than to the login, 422 (the empty
#: form was read and refused), or 409 (it lacks the version read, so it counts as stale:
#: refused after access was granted).
OK = "ok"
LOGIN = "login"  # redirected to the login page
FORBIDDEN = 403
MISSING = 404

EVERYONE_OK = dict.fromkeys(VIEWERS, OK)
SIGNED_IN = {ANON: LOGIN, **dict.fromkeys(ROLE_NAMES, OK)}
ADMIN_ONLY = {ANON: LOGIN, **dict.fromkeys(ROLE_NAMES, FORBIDDEN), "admin": OK}
STAFF_LIST = {**ADMIN_ONLY, "programme_officer": OK}
OFFICER_ONLY = {**ADMIN_ONLY, "admin": FORBIDDEN, "programme_officer": OK}
EVALUATOR_ONLY = {**ADMIN_ONLY, "admin": FORBIDDEN, "evaluator": OK}
#: The association belongs to the applicant; staff may read it, others get 404.
ASSOCIATION_READ = {
    ANON: LOGIN,
    "applicant": OK,
    "evaluator": MISSING,
    "programme_officer": OK,
    "finance_officer": OK,
    "admin": OK,
}
ASSOCIATION_WRITE = {
    ANON: LOGIN,
    "applicant": OK,
    "evaluator": MISSING,
    "programme_officer": FORBIDDEN,
    "finance_officer": FORBIDDEN,
    "admin": FORBIDDEN,
}

#: The application belongs to the applicant's association; officers read and screen it.
APPLICATION_READ = {
    ANON: LOGIN,
    "applicant": OK,
    "evaluator": MISSING,
    "programme_officer": OK,
    "finance_officer": MISSING,
    "admin": OK,
}
APPLICATION_WRITE = {**APPLICATION_READ, "programme_officer": FORBIDDEN, "admin": FORBIDDEN}

#: A grant: its association's members and the staff read it; evaluators do not see it.
AWARD_READ = {
    ANON: LOGIN,
    "applicant": OK,
    "evaluator": MISSING,
    "programme_officer": OK,
    "finance_officer": OK,
    "admin": OK,
}
#: What only the association does on its grant: staff are refused, others do not see it.
AWARD_MEMBER = {
    **AWARD_READ,
    "programme_officer": FORBIDDEN,
    "finance_officer": FORBIDDEN,
    "admin": FORBIDDEN,
}
API_TOKEN_ONLY = dict.fromkeys(VIEWERS, 401)
FINANCE_ONLY = {ANON: LOGIN, **dict.fromkeys(ROLE_NAMES, FORBIDDEN), "finance_officer": OK}
#: The programme's staff: admins, programme and finance officers.
STAFF_ONLY = {**STAFF_LIST, "finance_officer": OK}

#: (method, endpoint) → expected outcome per viewer. Flask-Security's own pages are
#: listed with the outcome for anonymous visitors only (they are the way in).
ROUTES: dict[tuple[str, str], dict[str, object]] = {
    ("GET", "public.home"): EVERYONE_OK,
    ("GET", "public.open_calls"): EVERYONE_OK,
    ("GET", "public.health"): EVERYONE_OK,
    ("GET", "public.liveness"): EVERYONE_OK,
    ("GET", "form_words.script"): EVERYONE_OK,
    ("POST", "public.set_language"): EVERYONE_OK,
    # Anyone holding an award letter checks it, without an account.
    ("GET", "letter_check.form"): EVERYONE_OK,
    ("POST", "letter_check.check"): EVERYONE_OK,
    ("GET", "account.profile"): SIGNED_IN,
    ("POST", "account.profile"): SIGNED_IN,
    ("GET", "account.tokens"): SIGNED_IN,
    ("POST", "account.tokens"): SIGNED_IN,
    ("GET", "account.notifications"): SIGNED_IN,
    ("POST", "account.notifications"): SIGNED_IN,
    ("POST", "account.revoke_token"): {ANON: LOGIN, **dict.fromkeys(ROLE_NAMES, MISSING)},
    ("GET", "privacy.my_data"): SIGNED_IN,
    ("POST", "privacy.my_data"): SIGNED_IN,
    # The walk's copy is the applicant's: nobody else, staff included, finds it.
    ("GET", "privacy.download_export"): {
        ANON: LOGIN,
        **dict.fromkeys(ROLE_NAMES, MISSING),
        "applicant": OK,
    },
    ("GET", "associations.create"): SIGNED_IN,
    ("POST", "associations.create"): SIGNED_IN,
    ("GET", "associations.show"): ASSOCIATION_READ,
    ("GET", "associations.edit"): ASSOCIATION_WRITE,
    ("POST", "associations.edit"): ASSOCIATION_WRITE,
    ("POST", "associations.invite"): ASSOCIATION_WRITE,
    ("POST", "associations.upload_document"): ASSOCIATION_WRITE,
    ("GET", "associations.download_document"): ASSOCIATION_READ,
    # The walk uses an unknown invitation token; the invitation tests cover real ones.
    ("GET", "associations.accept_invitation"): {ANON: LOGIN, **dict.fromkeys(ROLE_NAMES, MISSING)},
    ("POST", "associations.accept_invitation"): {ANON: LOGIN, **dict.fromkeys(ROLE_NAMES, MISSING)},
    ("GET", "admin.users"): ADMIN_ONLY,
    ("GET", "admin.user"): ADMIN_ONLY,
    ("POST", "admin.grant_role"): ADMIN_ONLY,
    ("POST", "admin.remove_role"): ADMIN_ONLY,
    ("POST", "admin.set_active"): ADMIN_ONLY,
    # The walk posts no confirmation: the admin is told to type the email (422).
    ("GET", "privacy.anonymise"): ADMIN_ONLY,
    ("POST", "privacy.anonymise"): ADMIN_ONLY,
    ("GET", "privacy.retention_preview"): ADMIN_ONLY,
    ("GET", "admin.associations"): STAFF_LIST,
    ("GET", "admin.scheduler"): ADMIN_ONLY,
    ("GET", "audit.trail"): ADMIN_ONLY,
    ("GET", "audit.export"): ADMIN_ONLY,
    ("POST", "admin.retry_failed"): ADMIN_ONLY,
    # The walk's notification was delivered: retrying it says so (a redirect, 303).
    ("POST", "admin.retry_notification"): ADMIN_ONLY,
    ("GET", "webhooks.index"): ADMIN_ONLY,
    ("GET", "webhooks.create"): ADMIN_ONLY,
    ("POST", "webhooks.create"): ADMIN_ONLY,
    ("GET", "webhooks.show"): ADMIN_ONLY,
    ("POST", "webhooks.edit"): ADMIN_ONLY,
    # The walk's endpoint is active: resuming it says so (a redirect, 303).
    ("POST", "webhooks.set_active"): ADMIN_ONLY,
    ("POST", "webhooks.rotate_secret"): ADMIN_ONLY,
    ("POST", "webhooks.replay"): ADMIN_ONLY,
    # Last of the webhook routes: the admin's walk deletes the endpoint.
    ("POST", "webhooks.delete"): ADMIN_ONLY,
    ("GET", "awards.index"): SIGNED_IN,
    ("GET", "awards.show"): AWARD_READ,
    ("GET", "awards.letter"): AWARD_READ,
    ("POST", "awards.accept"): AWARD_MEMBER,
    ("POST", "awards.change_bank_details"): AWARD_MEMBER,
    # Refusing without a reason is refused with a 422: the finance officer reached the
    # action; the member who asked is refused (403), as is every other role.
    ("POST", "awards.decide_bank_change"): {
        ANON: LOGIN,
        "applicant": FORBIDDEN,
        "evaluator": MISSING,
        "programme_officer": FORBIDDEN,
        "finance_officer": OK,
        "admin": FORBIDDEN,
    },
    # The walk's tranche is requested by the officer; finance is told why it cannot.
    ("POST", "awards.tranche_action"): {
        **ADMIN_ONLY,
        "admin": FORBIDDEN,
        "programme_officer": OK,
        "finance_officer": OK,
    },
    ("POST", "awards.refund"): FINANCE_ONLY,
    ("GET", "awards.report"): AWARD_READ,
    ("POST", "awards.report"): AWARD_MEMBER,
    ("POST", "awards.submit_report"): AWARD_MEMBER,
    ("POST", "awards.review_report"): {**OFFICER_ONLY, "admin": FORBIDDEN},
    ("POST", "awards.upload_report_document"): AWARD_MEMBER,
    ("GET", "awards.download_report_document"): AWARD_READ,
    ("GET", "awards.queue"): FINANCE_ONLY,
    ("GET", "awards.payment_run"): FINANCE_ONLY,
    # The programme's bank accounts: finance reads them, an administrator adds them.
    ("GET", "payments.accounts"): {**ADMIN_ONLY, "finance_officer": OK},
    ("POST", "payments.add_account"): ADMIN_ONLY,
    ("GET", "payments.files"): FINANCE_ONLY,
    ("POST", "payments.generate_files"): FINANCE_ONLY,
    ("GET", "payments.file"): FINANCE_ONLY,
    ("GET", "payments.download_file"): FINANCE_ONLY,
    ("POST", "payments.cancel_file"): FINANCE_ONLY,
    ("GET", "payments.statements_page"): FINANCE_ONLY,
    ("POST", "payments.import_statement"): FINANCE_ONLY,
    ("GET", "payments.statement"): FINANCE_ONLY,
    ("GET", "awards.totals"): {
        **ADMIN_ONLY,
        "programme_officer": OK,
        "finance_officer": OK,
    },
    # The API answers tokens only: a session cookie, whoever holds it, gets 401.
    **{
        (method, f"api.{endpoint}"): API_TOKEN_ONLY
        for method, endpoint in [
            ("GET", "search"),
            ("PATCH", "update_application"),
            ("PUT", "put_scores"),
            ("POST", "create_application"),
            ("POST", "assign_evaluator"),
            ("POST", "create_call"),
            ("POST", "attest_no_conflict"),
            ("POST", "record_decisions"),
            ("PATCH", "update_report"),
            ("GET", "list_notifications"),
            ("POST", "read_notifications"),
            ("GET", "award_letter"),
            ("GET", "me"),
            ("GET", "list_evaluators"),
            ("GET", "get_ranking"),
            ("GET", "call_questions"),
            ("GET", "application_duplicates"),
            ("POST", "record_duplicate_verdict"),
            ("PUT", "replace_call"),
            ("GET", "propose_assignments"),
            ("POST", "save_assignments"),
            ("POST", "start_reviews"),
            ("DELETE", "remove_assignment"),
            ("GET", "read_application"),
            ("PATCH", "update_me"),
            ("GET", "notification_preferences"),
            ("PUT", "set_notification_preferences"),
            ("GET", "read_document"),
            ("GET", "finance_queue"),
            ("GET", "payment_run"),
            ("GET", "export_payment_run"),
            ("GET", "programme_totals"),
            ("GET", "award_ledger"),
            ("GET", "list_payment_files"),
            ("GET", "get_payment_file"),
            ("GET", "get_statement"),
            ("POST", "record_refund"),
            ("GET", "list_bank_changes"),
            ("POST", "request_bank_change"),
            ("POST", "decide_bank_change"),
            ("GET", "get_bank_change"),
            ("GET", "bank_change_history"),
            ("POST", "transition_bank_change"),
            ("GET", "programme_figures"),
            ("GET", "finance_figures"),
            ("GET", "association_figures"),
            ("GET", "export_applications"),
            ("GET", "export_tranches"),
            ("GET", "export_indicators"),
            ("GET", "export_chart"),
            ("GET", "export_timeline"),
            ("GET", "award_timeline"),
            ("POST", "create_association"),
            ("PATCH", "update_association"),
            ("GET", "list_members"),
            ("POST", "invite_member"),
            ("GET", "list_invitations"),
            ("POST", "accept_invitation"),
            ("GET", "list_users"),
            ("GET", "audit_trail"),
            ("GET", "get_user"),
            ("PATCH", "update_user"),
            ("POST", "grant_role"),
            ("DELETE", "remove_role"),
            ("GET", "export_ranking"),
            ("GET", "list_lifecycles"),
            ("GET", "get_lifecycle"),
            ("GET", "list_webhook_event_types"),
            ("GET", "list_webhooks"),
            ("POST", "create_webhook"),
            ("GET", "get_webhook"),
            ("PATCH", "update_webhook"),
            ("POST", "pause_webhook"),
            ("POST", "resume_webhook"),
            ("POST", "rotate_webhook_secret"),
            ("DELETE", "delete_webhook"),
            ("GET", "list_webhook_deliveries"),
            ("POST", "replay_webhook_delivery"),
            ("GET", "scheduler_status"),
            ("GET", "list_scheduler_jobs"),
            ("GET", "list_job_runs"),
            ("GET", "list_failed_emails"),
            ("POST", "retry_email"),
            ("POST", "retry_failed_emails"),
            *[
                (method, f"{verb}_{name}")
                for name in ("call", "association", "application", "review", "award")
                + ("tranche", "report")
                for method, verb in (
                    ("GET", "get"),
                    ("GET", "history"),
                    ("POST", "transition"),
                )
            ],
            *[
                ("GET", f"list_{name}")
                for name in ("calls", "associations", "applications", "reviews", "awards")
                + ("tranches", "reports")
            ],
        ]
    },
    ("GET", "api_tokens.list_tokens"): API_TOKEN_ONLY,
    ("POST", "api_documents.upload"): API_TOKEN_ONLY,
    ("GET", "api_documents.get_document"): API_TOKEN_ONLY,
    ("GET", "api_documents.download"): API_TOKEN_ONLY,
    ("GET", "api_documents.application_documents"): API_TOKEN_ONLY,
    ("GET", "api_documents.report_documents"): API_TOKEN_ONLY,
    ("GET", "api_documents.association_documents"): API_TOKEN_ONLY,
    **{
        (method, f"api_conversations.{endpoint}"): API_TOKEN_ONLY
        for method, endpoint in [
            ("GET", "application_thread"),
            ("GET", "award_thread"),
            ("POST", "post_application_message"),
            ("POST", "post_award_message"),
            ("POST", "attach_application_message"),
            ("POST", "attach_award_message"),
            ("POST", "close_information_request"),
            ("GET", "download_attachment"),
        ]
    },
    ("DELETE", "api_tokens.revoke_token"): API_TOKEN_ONLY,
    # Asking for a token without credentials is bad input (422), for anyone.
    ("POST", "api_tokens.create_token"): EVERYONE_OK,
    # Setting up a second factor takes the email and password, not a token (422 empty).
    ("POST", "api_tokens.start_two_factor"): EVERYONE_OK,
    # Signing up and confirming need no token: an empty body is bad input (422).
    ("POST", "api_registrations.register"): EVERYONE_OK,
    ("POST", "api_registrations.confirm"): EVERYONE_OK,
    ("POST", "api_registrations.send_confirmation"): EVERYONE_OK,
    ("GET", "api-docs.openapi_json"): EVERYONE_OK,
    ("GET", "api_docs.docs"): EVERYONE_OK,
    # The dashboard for the reader's role; evaluators have none (403 with the reason).
    ("GET", "dashboards.index"): {**SIGNED_IN, "evaluator": FORBIDDEN},
    ("GET", "dashboards.programme"): STAFF_LIST,
    ("GET", "dashboards.finance"): FINANCE_ONLY,
    ("GET", "dashboards.association"): ASSOCIATION_READ,
    ("GET", "exports.applications"): {**OFFICER_ONLY, "admin": OK},
    ("GET", "exports.tranches"): {
        **ADMIN_ONLY,
        "programme_officer": OK,
        "finance_officer": OK,
    },
    ("GET", "exports.indicators"): {**OFFICER_ONLY, "admin": OK},
    ("GET", "opendata.index"): EVERYONE_OK,
    ("GET", "opendata.three_sixty_giving"): EVERYONE_OK,
    ("GET", "opendata.iati"): EVERYONE_OK,
    ("GET", "files.download"): dict.fromkeys(VIEWERS, MISSING),
    ("GET", "applications.call_page"): EVERYONE_OK,
    ("GET", "applications.questions"): EVERYONE_OK,
    # Without an association the page says to register one first (422).
    ("POST", "applications.start"): SIGNED_IN,
    ("GET", "applications.show"): APPLICATION_READ,
    ("POST", "applications.show"): APPLICATION_WRITE,
    ("POST", "applications.upload"): APPLICATION_WRITE,
    # The walk's application has no partner yet: members learn there is no such partner.
    ("POST", "applications.upload_letter"): {**APPLICATION_WRITE, "applicant": MISSING},
    ("POST", "applications.submit"): APPLICATION_WRITE,
    ("GET", "applications.submitted"): APPLICATION_READ,
    ("GET", "applications.download"): APPLICATION_READ,
    ("GET", "applications.screening_list"): STAFF_LIST,
    # The walk posts no verdict: the officer is told what is missing (303 back to the
    # page); the applicant sees the application but not the check; admins read it.
    ("POST", "duplicates.record_verdict"): {
        **APPLICATION_READ,
        "applicant": FORBIDDEN,
        "admin": FORBIDDEN,
    },
    ("GET", "calls.index"): STAFF_LIST,
    ("GET", "calls.create"): OFFICER_ONLY,
    ("POST", "calls.create"): OFFICER_ONLY,
    ("GET", "calls.edit"): OFFICER_ONLY,
    ("POST", "calls.edit"): OFFICER_ONLY,
    ("POST", "calls.extend"): OFFICER_ONLY,
    ("GET", "eligibility.check"): EVERYONE_OK,
    # The walk's call is open: starting from the check and the officer's rules are
    # refused once access is granted (no association chosen; a published call's rules).
    ("POST", "eligibility.start"): {**SIGNED_IN, **dict.fromkeys(ROLE_NAMES, MISSING)},
    ("POST", "eligibility.answers"): APPLICATION_WRITE,
    ("GET", "eligibility.settings"): OFFICER_ONLY,
    ("POST", "eligibility.settings"): OFFICER_ONLY,
    ("GET", "ranking.ranking_page"): STAFF_LIST,
    # Without a meeting date the decisions are refused with the reason (422).
    ("POST", "ranking.decide"): OFFICER_ONLY,
    ("POST", "ranking.complete"): OFFICER_ONLY,
    ("GET", "reviews.queue"): EVALUATOR_ONLY,
    ("GET", "reviews.show"): EVALUATOR_ONLY,
    ("POST", "reviews.show"): EVALUATOR_ONLY,
    ("POST", "reviews.attest"): EVALUATOR_ONLY,
    ("GET", "reviews.document"): EVALUATOR_ONLY,
    # Without a reason the conflict is refused with a message (the walk sends none).
    ("POST", "reviews.conflict"): EVALUATOR_ONLY,
    ("GET", "assignments.index"): OFFICER_ONLY,
    ("POST", "assignments.assign"): {**OFFICER_ONLY, "programme_officer": MISSING},
    ("POST", "assignments.save_proposal"): OFFICER_ONLY,
    ("POST", "assignments.start"): OFFICER_ONLY,
    # The call's own questions: officers build them; members upload a file answer.
    ("GET", "questions.builder"): OFFICER_ONLY,
    ("GET", "questions.preview"): OFFICER_ONLY,
    # Empty forms are refused with the reason (422); moves keep everything.
    ("POST", "questions.add_section"): OFFICER_ONLY,
    ("GET", "questions.edit_section"): OFFICER_ONLY,
    ("POST", "questions.edit_section"): OFFICER_ONLY,
    ("POST", "questions.move_section"): OFFICER_ONLY,
    ("GET", "questions.add_question"): OFFICER_ONLY,
    ("POST", "questions.add_question"): OFFICER_ONLY,
    ("GET", "questions.edit_question"): OFFICER_ONLY,
    ("POST", "questions.edit_question"): OFFICER_ONLY,
    ("POST", "questions.move_question"): OFFICER_ONLY,
    ("POST", "questions.upload_answer"): APPLICATION_WRITE,
    # Last of them: they remove the walk's question and section.
    ("POST", "questions.remove_question"): OFFICER_ONLY,
    ("POST", "questions.remove_section"): OFFICER_ONLY,
    # Last: it removes the walk's review that the evaluator routes above use.
    ("POST", "assignments.remove"): OFFICER_ONLY,
    # Passkeys: each person's own; signing in with one is for everyone.
    ("GET", "security.wan_register"): SIGNED_IN,
    ("POST", "security.wan_register"): SIGNED_IN,
    ("GET", "security.wan_delete"): SIGNED_IN,
    ("POST", "security.wan_delete"): SIGNED_IN,
    ("GET", "security.wan_verify"): SIGNED_IN,
    ("POST", "security.wan_verify"): SIGNED_IN,
    ("GET", "security.wan_signin"): EVERYONE_OK,
    ("POST", "security.wan_signin"): EVERYONE_OK,
    # Staff invitations: admins invite and withdraw; the link is public (404 when the
    # token is not one we signed).
    ("POST", "invitations.invite"): ADMIN_ONLY,
    ("POST", "invitations.revoke"): ADMIN_ONLY,
    ("GET", "invitations.accept"): dict.fromkeys(VIEWERS, MISSING),
    ("POST", "invitations.accept"): dict.fromkeys(VIEWERS, MISSING),
    ("GET", "inbox.index"): SIGNED_IN,
    ("GET", "search.results"): STAFF_ONLY,
    # The walk posts to the grants list without rows: the form is shown again (422).
    ("POST", "bulk.apply"): OFFICER_ONLY,
    ("GET", "bulk.result"): {
        ANON: LOGIN,
        "applicant": MISSING,
        "evaluator": MISSING,
        "programme_officer": OK,
        "finance_officer": MISSING,
        "admin": OK,
    },
    ("POST", "inbox.read"): SIGNED_IN,
    ("GET", "conversations.index"): SIGNED_IN,
    # The walk posts an empty message: refused with the reason, back on the page (303).
    ("POST", "conversations.post_on_application"): APPLICATION_READ,
    ("POST", "conversations.post_on_award"): AWARD_READ,
    ("POST", "conversations.request_on_application"): {
        **APPLICATION_READ,
        "applicant": FORBIDDEN,
        "admin": FORBIDDEN,
    },
    ("POST", "conversations.request_on_award"): {
        **AWARD_READ,
        "applicant": FORBIDDEN,
        "finance_officer": FORBIDDEN,
        "admin": FORBIDDEN,
    },
    # The walk's request is on the grant, so finance reads it but may not close it.
    ("POST", "conversations.close_request"): {
        **AWARD_READ,
        "applicant": FORBIDDEN,
        "finance_officer": FORBIDDEN,
        "admin": FORBIDDEN,
    },
    # An internal note on the application: members never find it.
    ("POST", "conversations.share_note"): {
        **APPLICATION_READ,
        "applicant": MISSING,
        "admin": FORBIDDEN,
    },
    ("GET", "conversations.attachment"): APPLICATION_READ,
    ("GET", "lifecycles.index"): STAFF_LIST,
    ("GET", "lifecycles.show"): STAFF_LIST,
    # Verification is an officer's transition; the members see their association (422:
    # the comment is missing in the walk), others do not see it at all.
    ("POST", "transitions.fire_transition"): {
        ANON: LOGIN,
        "applicant": FORBIDDEN,
        "evaluator": MISSING,
        "programme_officer": OK,
        "finance_officer": FORBIDDEN,
        "admin": FORBIDDEN,
    },
}
SECURITY_PUBLIC = {
    "security.login",
    "security.logout",
    "security.register",
    "security.forgot_password",
    "security.reset_password",
    "security.confirm_email",
    "security.send_confirmation",
    "security.change_password",
    "security.two_factor_setup",
    "security.two_factor_token_validation",
    "security.two_factor_rescue",
    "security.mf_recovery_codes",
    "security.mf_recovery",
    "security.verify",
    "security.two_factor_verify_code",
    "security.two_factor_select",
    "security.static",
    "security.tf_select",
    "security.two_factor_setup_validate",
    # The passkey ceremonies' second steps: a signed state from the first step.
    "security.wan_register_response",
    "security.wan_signin_response",
    "security.wan_verify_response",
    # The staff's single sign-on (only with SSO_ISSUER): tests/test_single_sign_on.py.
    "security.oauthstart",
    "security.oauthresponse",
    "security.oauth_verify_start",
    "security.oauth_verify_response",
}


@pytest.fixture
def world(app, login):
    """One person per role, an association of the applicant, and sample objects."""
    people = {role: make_user(role) for role in ROLE_NAMES}
    association = make_association(people["applicant"])
    target = make_user("applicant")
    from grants.services.associations import invite_member

    invitation_token = "not-a-real-invitation"
    invite_member(people["applicant"], association, "someone@example.org")
    issue_token(target, target, "other person's token")
    db.session.flush()
    from grants.models import Document, Notification
    from tests.fixtures.programme import make_application, make_call

    world_like = type(
        "W",
        (),
        {
            "officer": people["programme_officer"],
            "applicant": people["applicant"],
            "association": association,
        },
    )()
    call = make_call(world_like)
    application = make_application(world_like, call)
    document = db.session.scalars(
        select(Document).where(Document.application_id == application.id)
    ).one()
    statutes = Document(
        association_id=association.id,
        purpose="statutes",
        storage_key="associations/walk/statutes",
        filename="statutes.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    certificate = Document(
        association_id=association.id,
        purpose="registration_certificate",
        storage_key="associations/walk/registration-certificate",
        filename="certificate.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    db.session.add_all([statutes, certificate])
    db.session.flush()
    from grants.services.evaluation import assign

    reviewed = make_application(world_like, call, state="eligible")
    review = assign(people["programme_officer"], reviewed, people["evaluator"])
    from grants.services.bank_changes import request_bank_change
    from tests.fixtures.programme import make_award

    award = make_award(world_like, state="active")
    change = request_bank_change(
        people["applicant"],
        award,
        {
            "account_holder": "ASLD",
            "iban": "BE68539007547034",
            "account_number": "",
            "bank_name": "Belfius",
            "bic": "GKCCBEBB",
        },
        "We moved to Brussels.",
    )
    report_document = Document(
        report_id=award.reports[0].id,
        purpose="",
        storage_key="reports/walk/receipt",
        filename="receipt.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    db.session.add(report_document)
    db.session.flush()
    from grants.models import WebhookDelivery
    from grants.services.webhooks import create_endpoint

    endpoint, _ = create_endpoint(
        people["admin"], "https://erp.example.org/hooks", "ERP", ["application.submit"]
    )
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_type="application.submit",
        webhook_id="walk",
        payload='{"record": {"id": 1}}',
        state="delivered",
    )
    db.session.add(delivery)
    db.session.flush()
    from grants.services.staff_invitations import invite as invite_staff

    staff_invitation = invite_staff(people["admin"], "walk-staff@example.org", ["evaluator"])
    from grants.services.personal_data import request_export

    export = request_export(people["applicant"])
    payment_file, statement = _payment_file_and_statement(people["admin"])
    from grants.services.question_building import add_question, add_section

    add_section(people["programme_officer"], call, {"en": "Health"})
    file_question = add_question(
        people["programme_officer"], call, 1, {"kind": "file", "label": {"en": "Map"}}
    )
    from datetime import date

    from grants.services import conversations

    grant_thread = conversations.Subject("award", award)
    information_request = conversations.post(
        people["programme_officer"],
        grant_thread,
        "The signed agreement, please.",
        kind="request",
        due_on=date(2099, 1, 1),
    )
    application_thread = conversations.Subject("application", application)
    note = conversations.post(
        people["programme_officer"], application_thread, "Internal.", kind="note"
    )
    said = conversations.post(people["applicant"], application_thread, "Attached.")
    attachment = Document(
        message_id=said.id,
        storage_key="messages/walk/agreement",
        filename="agreement.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    db.session.add(attachment)
    db.session.flush()
    from grants.services.bulk_actions import run as bulk_run

    bulk = bulk_run(people["programme_officer"], "grants", "remind", [award.id])
    clients = {role: login(person) for role, person in people.items()}
    from tests.clients import AppClient

    app.test_client_class = AppClient
    clients[ANON] = app.test_client()
    args = {
        "association_id": association.id,
        "user_id": target.id,
        "token_id": user_tokens(target)[0].id,
        "token": invitation_token,
        "role": "applicant",
        "active": 1,
        "name": "application",
        "code": call.code,
        "key": file_question.key,
        "application_id": application.id,
        "document_type_id": call.document_types[0].id,
        "document_id": document.id,
        "purpose": "statutes",
        "position": 1,
        "association_document_id": statutes.id,
        "review_id": review.id,
        "review_document_id": reviewed.current_documents[0].id,
        "entity": "association",
        "transition": "verify",
        "entity_id": association.id,
        "award_id": award.id,
        "change_id": change.id,
        "decision": "reject",
        "tranche_id": award.tranches[0].id,
        "action": "request",
        "report_id": award.reports[0].id,
        "report_document_id": report_document.id,
        "record_id": application.id,
        "kind": "csv",
        "extension": "csv",
        "endpoint_id": endpoint.id,
        "delivery_id": delivery.id,
        "invitation_id": staff_invitation.id,
        "export_id": export.id,
        "file_id": payment_file.id,
        "statement_id": statement.id,
        "request_id": information_request.id,
        "note_id": note.id,
        "attachment_id": attachment.id,
        "list_name": "grants",
        "run_id": bulk.id,
        "notification_id": db.session.scalar(
            select(Notification.id).where(Notification.channel == "email").limit(1)
        ),
    }
    return clients, args


def _payment_file_and_statement(admin):
    """A stored payment file and a statement of the programme's account."""
    import io

    from grants.models import BankStatement, PaymentFile
    from grants.services.documents import store_file
    from grants.services.payment_files import add_debtor_account

    account = add_debtor_account(
        admin, "Operations", "DE89370400440532013000", "COBADEFFXXX", "USD"
    )
    stored = store_file("payment-files", io.BytesIO(b"<Document/>"), "application/xml")
    payment_file = PaymentFile(
        debtor_account_id=account.id,
        message_id="DG-WALK-1",
        currency="USD",
        total=1,
        count=1,
        execution_date=account.created_at.date(),
        storage_key=stored.key,
        size=stored.size,
        sha256=stored.sha256,
    )
    statement = BankStatement(
        debtor_account_id=account.id,
        reference="WALK-1",
        sha256="1" * 64,
        filename="walk.xml",
        storage_key="statements/walk",
        size=1,
        currency="USD",
    )
    db.session.add_all([payment_file, statement])
    db.session.flush()
    return payment_file, statement


def _outcome(response) -> object:
    status = response.status_code
    if status in (301, 302, 303) and "/login" in (response.location or ""):
        return LOGIN
    if status < 400 or status in (409, 422):
        return OK
    return status


def test_every_route_is_in_the_table(app):
    declared = {endpoint for _, endpoint in ROUTES} | SECURITY_PUBLIC | {"static"}
    missing = sorted(
        f"{','.join(sorted(rule.methods - {'HEAD', 'OPTIONS'}))} {rule.endpoint} ({rule.rule})"
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in declared
    )
    assert not missing, "routes without an authorization rule: " + "; ".join(missing)
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if rule.endpoint in SECURITY_PUBLIC or rule.endpoint == "static":
                continue
            assert (method, rule.endpoint) in ROUTES, f"{method} {rule.endpoint} not in the table"


def test_walk_every_route_as_every_viewer(app, world):
    clients, args = world
    failures = []
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for (method, endpoint), expected in ROUTES.items():
        rule = rules[endpoint]
        values = {name: args[name] for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(endpoint, **values)
        for viewer in VIEWERS:
            client = clients[viewer]
            response = (
                client.get(url)
                if method == "GET"
                else client.post(url, data={})
                if method == "POST"
                else client.open(url, method=method, data={})
            )
            response.close()  # a streamed export is not read to its end here
            outcome = _outcome(response)
            if outcome != expected[viewer]:
                failures.append(
                    f"{method} {url} as {viewer}: {outcome}, expected {expected[viewer]}"
                )
    assert not failures, "\n".join(failures)


def test_security_pages_open_for_anonymous_visitors(client):
    for path in ("/login", "/register", "/reset", "/confirm"):
        assert client.get(path).status_code == 200, path
