"""The programme's awards as open data: 360Giving JSON and IATI 2.03 activities XML.

Funders and the public follow where development money goes through two standards:
360Giving (grant-makers, JSON) and IATI (development cooperation, XML). Both files are
built from accepted grants only and carry no personal data: no people's names, contact
details, bank details or signatories, only the association's name and the project.

Choices the standards leave open are kept in the constants below, so they are
documented in one place: the DAC sectors of our sectors, the IATI activity status of
each award state, and the organisation types.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import IO

from lxml import etree
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import joinedload, lazyload, object_session, selectinload

from grants.extensions import db
from grants.models.applications import Application
from grants.models.awards import Award, Tranche
from grants.models.history import HistoryEntry
from grants.reference import SDG_TARGETS, country_name

#: Accepted grants are published; offered (not yet answered) and declined ones are not.
PUBLISHED_STATES = ("active", "suspended", "terminated", "completed")
#: States in which the grant has ended; the moment it entered one is its actual end.
ENDED_STATES = ("completed", "terminated")

LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
THREE_SIXTY_GIVING_VERSION = "1.4"
IATI_VERSION = "2.03"

#: Our sectors as OECD DAC 5-digit purpose codes (IATI sector vocabulary 1), with the
#: share of the budget each code gets; the shares of one sector add up to 100.
DAC_SECTORS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "employment": (("16020", "Employment creation", 100),),
    # Diaspora education grants are skills and trades training.
    "education": (("11330", "Vocational training", 100),),
    "health": (("12220", "Basic health care", 100),),
    # One of our sectors covers two DAC codes: shared half and half.
    "human_rights_social_security": (
        ("15160", "Human rights", 50),
        ("16010", "Social protection", 50),
    ),
}
SECTOR_TITLES = {
    "employment": "Employment",
    "education": "Education",
    "health": "Health",
    "human_rights_social_security": "Human rights and social security",
}

#: Award state → IATI ActivityStatus code. 2 Implementation; 6 Suspended (the codelist
#: has its own code, so a suspended grant is not reported as running); 4 Closed: a
#: completed award has its final report accepted and every tranche paid or cancelled,
#: nothing remains open (3 Finalisation would mean pending sign-off); 5 Cancelled: a
#: terminated award was stopped by the programme before its end.
ACTIVITY_STATUS = {"active": "2", "suspended": "6", "completed": "4", "terminated": "5"}

#: IATI OrganisationType of the reporting (funding, extending) organisation: 40
#: Multilateral, as for a programme run by an international organisation (IOM). Change
#: it per deployment (10 Government, 15 Other Public Sector, 60 Foundation...).
REPORTING_ORG_TYPE = "40"
#: Associations registered outside the country of the project are NGOs of a donor
#: country (22 National NGO); registered in it, 24 Partner Country based NGO.
NGO_ABROAD, NGO_IN_PARTNER_COUNTRY = "22", "24"

# IATI codes used below.
ROLE_FUNDING, ROLE_EXTENDING, ROLE_IMPLEMENTING = "1", "3", "4"
DATE_PLANNED_START, DATE_ACTUAL_START, DATE_PLANNED_END, DATE_ACTUAL_END = "1", "2", "3", "4"
DESCRIPTION_GENERAL, DESCRIPTION_OBJECTIVES, DESCRIPTION_OTHER = "1", "2", "4"
SECTOR_VOCABULARY_DAC = "1"
TAG_VOCABULARY_SDG_TARGET = "3"
BUDGET_ORIGINAL, BUDGET_COMMITTED = "1", "2"
FINANCE_STANDARD_GRANT = "110"
AID_PROJECT_TYPE = "C01"
TRANSACTION_COMMITMENT, TRANSACTION_DISBURSEMENT = "2", "3"
#: OtherIdentifierType A1, the reporting organisation's own id: the 360Giving grant id.
OTHER_ID_INTERNAL = "A1"

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: Characters XML 1.0 does not allow; typed text may carry them, lxml would refuse it.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def published_awards() -> Select[tuple[Award]]:
    """The awards to publish, with what the exports read loaded in three queries.

    Run it with ``db.session.scalars(published_awards()).all()``. The application, its
    call and association come in one joined query, the tranches in one more; every
    other relationship is left unloaded (budgets, documents, reviews, team...).
    """
    return (
        select(Award)
        .where(Award.state.in_(PUBLISHED_STATES))
        .options(
            lazyload("*"),
            joinedload(Award.application).options(
                lazyload("*"),
                joinedload(Application.call).lazyload("*"),
                joinedload(Application.association).lazyload("*"),
            ),
            selectinload(Award.tranches).lazyload("*"),
        )
        .order_by(Award.id)
    )


# --- shared helpers ----------------------------------------------------------------------


def _clean(text: str | None) -> str:
    return _NOT_XML.sub("", text or "").strip()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _timestamp(moment: datetime) -> str:
    """RFC 3339 / xsd:dateTime in UTC, to the second."""
    return _utc(moment).isoformat(timespec="seconds")


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _planned_end(application: Application) -> date | None:
    if application.start_date is None or not application.duration_months:
        return None
    return _add_months(application.start_date, application.duration_months) - timedelta(days=1)


def _number(amount: Decimal) -> int | float:
    """A JSON number: whole amounts as integers, others with their cents."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _reference(award: Award) -> str:
    return award.application.reference or f"AWARD-{award.id}"


def _paid_tranches(award: Award) -> list[Tranche]:
    return [t for t in award.tranches if t.state == "paid" and t.payment_date is not None]


def _sector(award: Award) -> str:
    return award.application.sector or award.application.call.sector


def _sdg_targets(award: Award) -> list[str]:
    """The application's SDG targets, else its call's; only real target codes."""
    application = award.application
    chosen = application.sdg_targets or application.call.sdg_targets or []
    return [code for code in dict.fromkeys(chosen) if code in SDG_TARGETS]


class _History:
    """Per award, from its lifecycle history in one query: the last change, and the
    moment it was completed or terminated."""

    def __init__(self, awards: Sequence[Award]) -> None:
        self.changed: dict[int, datetime] = {}
        self.ended: dict[int, datetime] = {}
        ids = [award.id for award in awards]
        if not ids:
            return
        ended = func.max(case((HistoryEntry.to_state.in_(ENDED_STATES), HistoryEntry.created_at)))
        session = object_session(awards[0]) or db.session
        rows = session.execute(
            select(HistoryEntry.entity_id, func.max(HistoryEntry.created_at), ended)
            .where(HistoryEntry.entity_type == "award", HistoryEntry.entity_id.in_(ids))
            .group_by(HistoryEntry.entity_id)
        )
        for award_id, changed, end in rows:
            if changed is not None:
                self.changed[award_id] = _utc(changed)
            if end is not None:
                self.ended[award_id] = _utc(end)

    def end_date(self, award: Award) -> date | None:
        """When the grant ended: its completion or termination; a completed grant
        without history ended with its last payment."""
        if award.state not in ENDED_STATES:
            return None
        if award.id in self.ended:
            return self.ended[award.id].date()
        paid = [t.payment_date for t in _paid_tranches(award)]
        return max(paid) if award.state == "completed" and paid else None

    def modified(self, award: Award) -> datetime:
        """The latest change to what is published about the award."""
        moments = [award.offered_at, award.accepted_at, award.application.updated_at]
        moments += [t.paid_at for t in award.tranches if t.paid_at is not None]
        known = [_utc(moment) for moment in moments if moment is not None]
        if award.id in self.changed:
            known.append(self.changed[award.id])
        return max(known)


def _accepted_on(award: Award) -> date:
    return _utc(award.accepted_at or award.offered_at).date()


# --- 360Giving ---------------------------------------------------------------------------


def three_sixty_giving(
    awards: Iterable[Award],
    *,
    prefix: str,
    funder_id: str,
    funder_name: str,
    published: datetime,
) -> dict:
    """A 360Giving package ``{"grants": [...]}`` with the package's metadata.

    The standard requires at least one grant: with none, the package is not valid and
    should not be served (the web view answers 404 instead).
    """
    awards = list(awards)
    history = _History(awards)
    return {
        **_package_head(funder_id, funder_name, published),
        "grants": [
            _grant(award, history, prefix=prefix, funder_id=funder_id, funder_name=funder_name)
            for award in awards
        ],
    }


def _package_head(funder_id: str, funder_name: str, published: datetime) -> dict:
    return {
        "version": THREE_SIXTY_GIVING_VERSION,
        "license": LICENCE_URL,
        "issued": _timestamp(published),
        "publisher": {"identifier": funder_id, "name": funder_name},
    }


def write_three_sixty_giving(
    out: IO[bytes],
    batches: Iterable[Sequence[Award]],
    *,
    prefix: str,
    funder_id: str,
    funder_name: str,
    published: datetime,
) -> None:
    """The package of ``three_sixty_giving`` written to ``out`` a batch of awards at a
    time, so memory holds one batch, never the whole programme."""
    head = json.dumps(_package_head(funder_id, funder_name, published), ensure_ascii=False)
    out.write((head[:-1] + ', "grants": [').encode())
    separator = ""
    for awards in batches:
        history = _History(awards)
        for award in awards:
            grant = _grant(
                award, history, prefix=prefix, funder_id=funder_id, funder_name=funder_name
            )
            out.write((separator + json.dumps(grant, ensure_ascii=False)).encode())
            separator = ",\n"
    out.write(b"]}\n")


def _grant(
    award: Award, history: _History, *, prefix: str, funder_id: str, funder_name: str
) -> dict:
    application = award.application
    call = application.call
    association = application.association
    grant_id = f"360G-{prefix}-{_reference(award)}"
    title = _clean(application.title) or _reference(award)
    grant: dict = {
        "id": grant_id,
        "title": title,
        "description": _clean(application.summary) or title,
        "currency": award.currency,
        "amountAwarded": _number(award.amount),
        "amountDisbursed": _number(award.paid_total),
        "awardDate": _utc(award.offered_at).date().isoformat(),
    }
    if application.amount_requested is not None:
        grant["amountAppliedFor"] = _number(application.amount_requested)
    end = _planned_end(application)
    if application.start_date is not None:
        planned: dict = {"startDate": application.start_date.isoformat()}
        if end is not None:
            planned["endDate"] = end.isoformat()
            planned["duration"] = application.duration_months
        grant["plannedDates"] = [planned]
    actual: dict = {"startDate": _accepted_on(award).isoformat()}
    ended = history.end_date(award)
    if ended is not None:
        actual["endDate"] = ended.isoformat()
    grant["actualDates"] = [actual]
    recipient: dict = {
        "id": f"360G-{prefix}-ORG-{association.id}",
        "name": _clean(association.name),
    }
    if association.registration_country:
        recipient["addressCountry"] = association.registration_country
    grant["recipientOrganization"] = [recipient]
    grant["fundingOrganization"] = [{"id": funder_id, "name": funder_name}]
    if application.country:
        place = _clean(application.locality) or country_name(application.country)
        grant["beneficiaryLocation"] = [{"name": place, "countryCode": application.country}]
    grant["grantProgramme"] = [{"code": call.code, "title": call.text("title", call.language)}]
    grant["fromOpenCall"] = "Yes"
    grant["classifications"] = _classifications(award)
    grant["commitmentTransaction"] = [
        {
            "id": f"{grant_id}-COMMITMENT",
            "value": _number(award.amount),
            "currency": award.currency,
            "transactionDate": _accepted_on(award).isoformat(),
        }
    ]
    grant["disbursementTransaction"] = [
        {
            "id": f"{grant_id}-TRANCHE-{tranche.position}",
            "value": _number(tranche.amount),
            "currency": award.currency,
            "transactionDate": tranche.payment_date.isoformat(),
        }
        for tranche in _paid_tranches(award)
    ]
    grant["dateModified"] = _timestamp(history.modified(award))
    return grant


def _classifications(award: Award) -> list[dict]:
    sector = _sector(award)
    found = [{"vocabulary": "Sector", "code": sector, "title": SECTOR_TITLES.get(sector, sector)}]
    found += [
        {"vocabulary": "OECD DAC CRS purpose code", "code": code, "title": name}
        for code, name, _share in DAC_SECTORS.get(sector, ())
    ]
    found += [
        {"vocabulary": "SDG target", "code": code, "title": f"SDG target {code}"}
        for code in _sdg_targets(award)
    ]
    return found


# --- IATI --------------------------------------------------------------------------------


def iati_activities(
    awards: Iterable[Award],
    *,
    reporting_org_ref: str,
    reporting_org_name: str,
    prefix: str,
    generated: datetime,
    reporting_org_type: str = REPORTING_ORG_TYPE,
) -> bytes:
    """An IATI 2.03 ``<iati-activities>`` document, one activity per award, UTF-8.

    Identifiers are ``<reporting_org_ref>-<application reference>`` (IATI wants the
    reporting organisation's ref first); ``prefix`` gives each activity the 360Giving
    id of the same grant as an other-identifier. The schema requires at least one
    activity: with none, the document is not valid.
    """
    awards = list(awards)
    history = _History(awards)
    root = etree.Element(
        "iati-activities", version=IATI_VERSION, **{"generated-datetime": _timestamp(generated)}
    )
    reporting = _Org(reporting_org_ref, reporting_org_name, reporting_org_type)
    for award in awards:
        root.append(_activity(award, history, reporting, prefix))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_iati_activities(
    out: IO[bytes],
    batches: Iterable[Sequence[Award]],
    *,
    reporting_org_ref: str,
    reporting_org_name: str,
    prefix: str,
    generated: datetime,
    reporting_org_type: str = REPORTING_ORG_TYPE,
) -> None:
    """The document of ``iati_activities`` written to ``out`` a batch of awards at a
    time (lxml's incremental writer): memory holds one batch's activities."""
    reporting = _Org(reporting_org_ref, reporting_org_name, reporting_org_type)
    with etree.xmlfile(out, encoding="UTF-8") as xml:
        xml.write_declaration()
        attributes = {"version": IATI_VERSION, "generated-datetime": _timestamp(generated)}
        with xml.element("iati-activities", attributes):
            xml.write("\n")
            for awards in batches:
                history = _History(awards)
                for award in awards:
                    xml.write(_activity(award, history, reporting, prefix), pretty_print=True)


class _Org:
    """An organisation as IATI names it: ref (optional), name and type."""

    def __init__(self, ref: str | None, name: str, type_code: str) -> None:
        self.ref, self.name, self.type = ref, name, type_code

    def add(self, parent: etree._Element, tag: str, language: str, **extra: str) -> None:
        attributes = {"ref": self.ref} if self.ref else {}
        attributes.update(type=self.type, **extra)
        _narratives(etree.SubElement(parent, tag, attributes), {language: self.name}, language)


def _narratives(parent: etree._Element, texts: dict[str, str], default_language: str) -> None:
    """One narrative per language; xml:lang only where it differs from the activity's."""
    for language, text in texts.items():
        text = _clean(text)
        if not text:
            continue
        narrative = etree.SubElement(parent, "narrative")
        narrative.text = text
        if language and language != default_language:
            narrative.set(XML_LANG, language)


def _iso(parent: etree._Element, tag: str, day: date, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, tag, attributes, **{"iso-date": day.isoformat()})


def _value(parent: etree._Element, amount: Decimal, currency: str, day: date) -> None:
    value = etree.SubElement(parent, "value", currency=currency, **{"value-date": day.isoformat()})
    value.text = f"{amount:.2f}"


def _activity(award: Award, history: _History, reporting: _Org, prefix: str) -> etree._Element:
    """One ``<iati-activity>``, its children in the order of the 2.03 schema."""
    application = award.application
    call = application.call
    association = application.association
    language = call.language
    reference = _reference(award)
    activity = etree.Element(
        "iati-activity",
        {
            "last-updated-datetime": _timestamp(history.modified(award)),
            XML_LANG: language,
            "default-currency": award.currency,
        },
    )
    etree.SubElement(activity, "iati-identifier").text = f"{reporting.ref}-{reference}"
    reporting.add(activity, "reporting-org", language)

    own = application.language
    _narratives(
        etree.SubElement(activity, "title"), {own: _clean(application.title) or reference}, language
    )
    general = etree.SubElement(activity, "description", type=DESCRIPTION_GENERAL)
    _narratives(
        general,
        {own: _clean(application.summary) or _clean(application.title) or reference},
        language,
    )
    if _clean(application.objectives):
        objectives = etree.SubElement(activity, "description", type=DESCRIPTION_OBJECTIVES)
        _narratives(objectives, {own: application.objectives}, language)
    if any(_clean(text) for text in (call.title or {}).values()):
        programme = etree.SubElement(activity, "description", type=DESCRIPTION_OTHER)
        _narratives(programme, call.title, language)

    reporting.add(activity, "participating-org", language, role=ROLE_FUNDING)
    reporting.add(activity, "participating-org", language, role=ROLE_EXTENDING)
    local = association.registration_country == application.country
    implementing = _Org(None, association.name, NGO_IN_PARTNER_COUNTRY if local else NGO_ABROAD)
    implementing.add(activity, "participating-org", language, role=ROLE_IMPLEMENTING)
    etree.SubElement(
        activity, "other-identifier", ref=f"360G-{prefix}-{reference}", type=OTHER_ID_INTERNAL
    )
    etree.SubElement(activity, "activity-status", code=ACTIVITY_STATUS[award.state])

    start, end = application.start_date, _planned_end(application)
    if start is not None:
        _iso(activity, "activity-date", start, type=DATE_PLANNED_START)
    _iso(activity, "activity-date", _accepted_on(award), type=DATE_ACTUAL_START)
    if end is not None:
        _iso(activity, "activity-date", end, type=DATE_PLANNED_END)
    ended = history.end_date(award)
    if ended is not None:
        _iso(activity, "activity-date", ended, type=DATE_ACTUAL_END)

    if application.country:
        etree.SubElement(activity, "recipient-country", code=application.country, percentage="100")
    for code, _name, share in DAC_SECTORS.get(_sector(award), ()):
        etree.SubElement(
            activity, "sector", vocabulary=SECTOR_VOCABULARY_DAC, code=code, percentage=str(share)
        )
    for code in _sdg_targets(award):
        etree.SubElement(activity, "tag", vocabulary=TAG_VOCABULARY_SDG_TARGET, code=code)
    etree.SubElement(activity, "default-finance-type", code=FINANCE_STANDARD_GRANT)
    etree.SubElement(activity, "default-aid-type", code=AID_PROJECT_TYPE, vocabulary="1")

    if start is not None and end is not None:
        for period_start, period_end, amount in _budget_periods(start, end, award.amount):
            budget = etree.SubElement(
                activity, "budget", type=BUDGET_ORIGINAL, status=BUDGET_COMMITTED
            )
            _iso(budget, "period-start", period_start)
            _iso(budget, "period-end", period_end)
            _value(budget, amount, award.currency, period_start)

    money = [(TRANSACTION_COMMITMENT, award.amount, _accepted_on(award))]
    money += [
        (TRANSACTION_DISBURSEMENT, tranche.amount, tranche.payment_date)
        for tranche in _paid_tranches(award)
    ]
    for kind, amount, day in money:
        transaction = etree.SubElement(activity, "transaction")
        etree.SubElement(transaction, "transaction-type", code=kind)
        _iso(transaction, "transaction-date", day)
        _value(transaction, amount, award.currency, day)
        reporting.add(transaction, "provider-org", language)
        implementing.add(transaction, "receiver-org", language)
    return activity


def _budget_periods(start: date, end: date, amount: Decimal) -> list[tuple[date, date, Decimal]]:
    """The award split into budget periods of at most a year (IATI's rule), in
    proportion to their days; the last period takes the rounding remainder."""
    periods: list[tuple[date, date]] = []
    period_start = start
    while period_start <= end:
        period_end = min(_add_months(period_start, 12) - timedelta(days=1), end)
        periods.append((period_start, period_end))
        period_start = period_end + timedelta(days=1)
    total_days = (end - start).days + 1
    result: list[tuple[date, date, Decimal]] = []
    left = amount
    for index, (first, last) in enumerate(periods):
        if index == len(periods) - 1:
            share = left
        else:
            share = (amount * ((last - first).days + 1) / total_days).quantize(Decimal("0.01"))
        left -= share
        result.append((first, last, share))
    return result
