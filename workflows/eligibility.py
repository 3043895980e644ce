"""Who may apply to a call: its eligibility rules, declared once.

Each rule reads the call and the ``Facts`` of an association's project and says why it
may not apply (a ``Sentence``), or None. The same rules judge the public "Can we
apply?" check (facts the visitor gives, or the association's record), the checklist of
a draft and the submission itself (facts of the application, through ``as_guard``). A
fact nobody knows yet (None) is not held against anyone: the check says what it could
not judge, and the submission knows every fact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from workflows.base import Context, reading
from workflows.sentences import (
    CountryName,
    Money,
    Names,
    Number,
    Sentence,
    Sentences,
    _l,
    ngettext,
)

#: The answers a yes/no eligibility question takes.
ANSWERS = ("yes", "no")
ANSWER_WORDS = {"yes": _l("Yes"), "no": _l("No")}


@dataclass(frozen=True)
class Facts:
    """What the rules judge: the project and the association, as far as they are known."""

    project_country: str | None = None
    registration_country: str | None = None
    verified: bool | None = None
    amount: Decimal | None = None
    cofinancing_share: Decimal | None = None
    overdue_reports: int | None = None
    answers: Mapping[str, str] = field(default_factory=dict)
    #: The reader's language, for the officer's question texts.
    locale: str = "en"


EligibilityRule = Callable[[Any, Facts], "Sentence | Sentences | None"]


def question_text(call: Any, question: Mapping[str, Any], locale: str) -> str:
    """A question in ``locale``, else in the call's language, else in any language."""
    texts: Mapping[str, str] = question.get("text") or {}
    return texts.get(locale) or texts.get(call.language) or next(iter(texts.values()), "")


def project_country_allowed(call: Any, facts: Facts) -> Sentence | None:
    allowed = [code for code in call.countries or [] if code]
    country = facts.project_country
    if not country or not allowed or country in allowed:
        return None
    return _l(
        "The call funds projects in %(countries)s only, not in %(country)s.",
        countries=Names(CountryName(code) for code in allowed),
        country=CountryName(country),
    )


def registration_country_allowed(call: Any, facts: Facts) -> Sentence | None:
    allowed = [code for code in call.registration_countries or [] if code]
    country = facts.registration_country
    if not country or not allowed or country in allowed:
        return None
    return _l(
        "The association must be registered in %(countries)s; it is registered in %(country)s.",
        countries=Names(CountryName(code) for code in allowed),
        country=CountryName(country),
    )


def association_may_submit(call: Any, facts: Facts) -> Sentence | None:
    if call.require_verified_association and facts.verified is False:
        return _l("The association must be verified by the programme before it can submit.")
    return None


def amount_within_limits(call: Any, facts: Facts) -> Sentence | None:
    amount = facts.amount
    if amount is None:
        return None
    if amount < call.min_grant or amount > call.max_grant:
        return _l(
            "The amount requested, %(amount)s, must be between %(minimum)s and %(maximum)s.",
            amount=Money(amount, call.currency),
            minimum=Number(call.min_grant),
            maximum=Money(call.max_grant, call.currency),
        )
    return None


def cofinancing_share_reached(call: Any, facts: Facts) -> Sentence | None:
    minimum = call.min_cofinancing_share or Decimal("0")
    share = facts.cofinancing_share
    if share is not None and minimum > 0 and share < minimum:
        return _l(
            "Co-financing is %(share)s %% of the project; the call asks for at least "
            "%(minimum)s %%.",
            share=Number(share, 1),
            minimum=Number(minimum, 0),
        )
    return None


def no_overdue_report(call: Any, facts: Facts) -> Sentence | None:
    count = facts.overdue_reports
    if not call.no_overdue_reports or not count:
        return None
    return ngettext(
        "The association has %(num)d overdue report on an earlier grant: the call asks "
        "that it be handed in first.",
        "The association has %(num)d overdue reports on earlier grants: the call asks "
        "that they be handed in first.",
        count,
    )


def eligibility_questions_answered(call: Any, facts: Facts) -> Sentence | Sentences | None:
    """Every question answered, and none with the answer that excludes (one sentence
    for each such answer, so that every reason is read)."""
    unanswered, excluded = [], []
    for question in call.eligibility_questions or []:
        text = question_text(call, question, facts.locale)
        answer = facts.answers.get(question["key"])
        if answer not in ANSWERS:
            unanswered.append(text)
        elif answer == question["excludes"]:
            excluded.append(
                _l(
                    "The call excludes associations that answer “%(answer)s” to: %(question)s",
                    answer=ANSWER_WORDS[answer],
                    question=text,
                )
            )
    sentences: list[Sentence] = []
    if unanswered:
        sentences.append(
            _l("Answer the eligibility questions: %(questions)s", questions=Names(unanswered))
        )
    sentences += excluded
    if not sentences:
        return None
    return sentences[0] if len(sentences) == 1 else Sentences(sentences)


#: Every rule, in the order the check reads them.
RULES: tuple[EligibilityRule, ...] = (
    project_country_allowed,
    registration_country_allowed,
    association_may_submit,
    amount_within_limits,
    cofinancing_share_reached,
    no_overdue_report,
    eligibility_questions_answered,
)


def reasons(call: Any, facts: Facts) -> list[Sentence]:
    """Every reason the association may not apply; empty when it may."""
    found: list[Sentence] = []
    for rule in RULES:
        problem = rule(call, facts)
        if isinstance(problem, Sentences):
            found.extend(problem.sentences)
        elif problem is not None:
            found.append(problem)
    return found


#: What ``facts_of`` reads of an application besides its columns.
FACTS_READ = ("call", "association", "budget_lines", "cofinancing")


def facts_of(application: Any, ctx: Context) -> Facts:
    """An application's facts: its project, its association's record and answers."""
    association, call = application.association, application.call
    overdue = 0
    if call.no_overdue_reports:
        overdue = ctx.cached(
            ("overdue_reports", association.id, ctx.now.date()),
            lambda: association.overdue_reports(ctx.now.date()),
        )
    actor_locale = getattr(ctx.actor, "locale", None)
    return Facts(
        project_country=application.country,
        registration_country=association.registration_country,
        verified=association.state == "verified",
        amount=application.amount_requested,
        cofinancing_share=application.cofinancing_share,
        overdue_reports=overdue,
        answers=application.eligibility_answers or {},
        locale=actor_locale if isinstance(actor_locale, str) else application.language,
    )


def as_guard(rule: EligibilityRule) -> Callable[[Any, Context], Any]:
    """The rule as a guard of the application machine, under the rule's own name (the
    checklist and the tests know guards by name)."""

    @reading(*FACTS_READ)
    def guard(application: Any, ctx: Context) -> Any:
        return rule(application.call, facts_of(application, ctx))

    guard.__name__ = guard.__qualname__ = rule.__name__
    guard.__doc__ = rule.__doc__
    guard.eligibility_rule = rule  # type: ignore[attr-defined]
    return guard
