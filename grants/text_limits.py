"""How long each free text may be, said once: the forms draw from here the limit shown
beside each field (and counted as the person types) and their check, the API's schemas
their ``maxLength``, the pages without a form class the ``text_limits`` template global,
and the services and lifecycles refuse longer text with the same sentence, so a page and
the API answer alike.

A limit is the column's size where the column has one; for ``Text`` columns it is what
a careful writer needs, well below what would make a page or an export unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from grants.numbers import reader_locale, written


@dataclass(frozen=True)
class TextLimit:
    """At most ``limit`` characters; ``subject`` names the text in a sentence."""

    limit: int
    subject: Any

    def problem(self, text: Any) -> str | None:
        """Why ``text`` is refused, in the reader's language; None when it fits."""
        count = len(text) if isinstance(text, str) else 0
        if count <= self.limit:
            return None
        return _(
            "%(subject)s can be at most %(limit)s characters; it has %(count)s.",
            subject=self.subject,
            limit=written(self.limit, reader_locale(), 0),
            count=written(count, reader_locale(), 0),
        )


# --- the application ----------------------------------------------------------------------
TITLE = TextLimit(300, _l("The title"))  # String(300)
SUMMARY = TextLimit(3000, _l("The summary"))
OBJECTIVES = TextLimit(5000, _l("The objectives"))
LOCALITY = TextLimit(200, _l("The town or region"))  # String(200)
BENEFICIARIES_DESCRIPTION = TextLimit(3000, _l("The description of the beneficiaries"))
BUDGET_LINE_DESCRIPTION = TextLimit(500, _l("The description"))  # String(500)
COFINANCING_DESCRIPTION = TextLimit(300, _l("The description"))  # String(300)
PARTNER_NAME = TextLimit(200, _l("The name"))  # String(200)
PARTNER_ROLE = TextLimit(500, _l("The role"))  # String(500)
TEAM_NAME = TextLimit(200, _l("The name"))  # String(200)
TEAM_ROLE = TextLimit(300, _l("The role"))  # String(300)

#: The draft's own texts, by the name the form, the API and the service give them.
APPLICATION = {
    "title": TITLE,
    "summary": SUMMARY,
    "objectives": OBJECTIVES,
    "locality": LOCALITY,
    "beneficiaries_description": BENEFICIARIES_DESCRIPTION,
}

# --- the call ------------------------------------------------------------------------------
CALL_TITLE = TextLimit(300, _l("The title"))
CALL_DESCRIPTION = TextLimit(10000, _l("The description"))
CRITERION_NAME = TextLimit(200, _l("The name"))
CRITERION_DESCRIPTION = TextLimit(1000, _l("The description"))
DOCUMENT_NAME = TextLimit(200, _l("The name"))
DOCUMENT_HELP = TextLimit(1000, _l("The help"))
INDICATOR_NAME = TextLimit(200, _l("The name"))
INDICATOR_UNIT = TextLimit(50, _l("The unit"))

# --- the association ----------------------------------------------------------------------
ASSOCIATION = {
    "name": TextLimit(200, _l("The name")),  # String(200)
    "registration_number": TextLimit(100, _l("The registration number")),  # String(100)
    "contact_name": TextLimit(200, _l("The name")),  # String(200)
    "contact_phone": TextLimit(50, _l("The phone number")),  # String(50)
    "website": TextLimit(255, _l("The website's address")),  # String(255)
    "description": TextLimit(5000, _l("The description")),
}

# --- the report ---------------------------------------------------------------------------
NARRATIVE = TextLimit(20000, _l("This section"))  # activities, results, difficulties…
SPENDING_EXPLANATION = TextLimit(2000, _l("The explanation"))
#: The programme office's comment on a section of a report, when asking for changes.
REVIEW_COMMENT = TextLimit(4000, _l("The comment"))

# --- reviews and the lifecycles ----------------------------------------------------------
SCORE_COMMENT = TextLimit(5000, _l("The comment"))
OVERALL_COMMENT = TextLimit(10000, _l("The overall comment"))
#: The reason or comment given with any transition (a withdrawal, a rejection…).
TRANSITION_COMMENT = TextLimit(5000, _l("The comment"))
#: The committee's conditions of an award or feedback on a rejection (a transition's).
DECISION_TEXT = TextLimit(TRANSITION_COMMENT.limit, _l("The conditions or feedback"))
MEETING_PRESENT = TextLimit(2000, _l("The list of those present"))
MEETING_MINUTES = TextLimit(20000, _l("The minutes"))

# --- the award: acceptance, bank details, payments ---------------------------------------
PERSON_NAME = TextLimit(200, _l("The name"))  # String(200)
PERSON_ROLE = TextLimit(200, _l("The role"))  # String(200)
ACCOUNT_HOLDER = TextLimit(200, _l("The account holder"))  # String(200)
IBAN = TextLimit(60, _l("The IBAN"))  # spaces allowed; the rules of banking judge the rest
ACCOUNT_NUMBER = TextLimit(60, _l("The account number"))  # String(60)
BANK_NAME = TextLimit(200, _l("The bank's name"))  # String(200)
BIC = TextLimit(20, _l("The SWIFT/BIC"))
BANK_REFERENCE = TextLimit(100, _l("The bank reference"))  # String(100)
REASON = TextLimit(2000, _l("The reason"))

#: Bank details as the award's acceptance and a change of account take them.
BANK_DETAILS = {
    "account_holder": ACCOUNT_HOLDER,
    "iban": IBAN,
    "account_number": ACCOUNT_NUMBER,
    "bank_name": BANK_NAME,
    "bic": BIC,
}
#: A change of bank details, with its reason.
BANK_CHANGE = {**BANK_DETAILS, "reason": REASON}
#: The signatory of the acceptance.
SIGNATORY = {"signatory_name": PERSON_NAME, "signatory_role": PERSON_ROLE}


def problems(texts: dict[str, Any], limits: dict[str, TextLimit]) -> dict[str, list[str]]:
    """The texts of ``texts`` longer than their limit, each with its sentence."""
    found = {}
    for name, limit in limits.items():
        problem = limit.problem(texts.get(name))
        if problem:
            found[name] = [problem]
    return found
