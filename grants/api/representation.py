"""An application as the API writes it, built as a plain dict.

``ApplicationSchema`` declares the representation (OpenAPI, the contract tests); this
module writes it. A page of 25 applications through marshmallow's generic machinery
costs some 11,000 Python calls (each field looked up, dispatched and converted through
several layers), more than everything else the page does but the database; here each
field is written once, with its conversion said explicitly. A test compares the two on
applications with every part filled, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from workflows.sentences import Sentence

CENT = Decimal("0.01")


def amount(value: Decimal | None) -> str | None:
    """An amount as ``Amount`` writes it: two places, never an exponent ("12800.00")."""
    if value is None:
        return None
    number = Decimal(str(value))
    return format(number.quantize(CENT) if number.is_finite() else number, "f")


class Texts:
    """Sentences in the reader's language, each sentence without values translated once
    for a page: the same refusal or next step is read on most of its records."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {}

    def __call__(self, sentence: Any) -> str:
        if type(sentence) is not Sentence or sentence.values:
            return str(sentence)
        if sentence.message not in self.known:
            self.known[sentence.message] = str(sentence)
        return self.known[sentence.message]


def option(option: Any, texts: Callable[[Any], str] = str) -> dict[str, Any]:
    """One allowed transition, as ``OptionSchema`` declares it, its reasons in the
    reader's language."""
    return {
        "name": option.name,
        "allowed": option.allowed,
        "reasons": [texts(reason) for reason in option.reasons],
        "status": option.status,
        "comment_required": option.comment_required,
        "requires": list(option.requires),
        "accepts": list(option.accepts),
        "tone": option.tone,
    }


def next_step(record: Any, texts: Callable[[Any], str] = str) -> str | None:
    """What comes next from the record's state; written with its options when it has
    them (``api_next_step``: the state it was written for, and the text)."""
    written = vars(record).get("api_next_step")
    if written is not None and written[0] == record.state:
        return written[1]
    step = type(record).lifecycle.next_steps.get(record.state)
    return texts(step) if step is not None else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _date(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def application(record: Any) -> dict[str, Any]:
    """What ``ApplicationSchema`` declares, in its order."""
    eligibility = record.eligibility_answers
    return {
        "id": record.id,
        "state": record.state,
        "version": record.version,
        "next_step": next_step(record),
        "allowed_transitions": getattr(record, "api_options", []),
        "reference": record.reference,
        "call_id": record.call_id,
        "association_id": record.association_id,
        "language": record.language,
        "title": record.title,
        "summary": record.summary,
        "objectives": record.objectives,
        "sector": record.sector,
        "country": record.country,
        "locality": record.locality,
        "start_date": _date(record.start_date),
        "duration_months": record.duration_months,
        "beneficiaries_count": record.beneficiaries_count,
        "beneficiaries_women": record.beneficiaries_women,
        "beneficiaries_men": record.beneficiaries_men,
        "beneficiaries_description": record.beneficiaries_description,
        "sdg_targets": list(record.sdg_targets or []),
        "amount_requested": amount(record.amount_requested),
        "budget_currency": record.budget_currency,
        "budget_total": amount(record.budget_total),
        "cofinancing_share": amount(record.cofinancing_share),
        "budget_lines": [
            {
                "id": line.id,
                "position": line.position,
                "category": line.category,
                "description": line.description,
                "quantity": amount(line.quantity),
                "unit_cost": amount(line.unit_cost),
                "total": amount(line.total),
            }
            for line in record.budget_lines
        ],
        "cofinancing": [
            {
                "id": source.id,
                "source": source.source,
                "description": source.description,
                "amount": amount(source.amount),
            }
            for source in record.cofinancing
        ],
        "partners": [
            {"name": partner.name, "country": partner.country, "role": partner.role}
            for partner in record.partners
        ],
        "team": [{"name": member.name, "role": member.role} for member in record.team],
        "submitted_at": _date(record.submitted_at),
        "eligibility_answers": None
        if eligibility is None
        else {str(key): _text(value) for key, value in eligibility.items()},
        "answers": {answer.question.key: answer.value for answer in record.answers},
    }
