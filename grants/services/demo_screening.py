"""The demo's screening day: ten applications submitted to the second round of last
year's Senegal call (closed at the end of November) by smaller diaspora associations,
and one bulk screening of them kept with its result. A call of its own, so this year's
Senegal call keeps the scenario's story.

Two of the ten bring 9 % co-financing where the call asks for 15 %: an officer marked
them ineligible from their own pages, with the reason; the bulk "mark eligible" over
the ten ticked on the list then refused those two with the lifecycle's sentence and
marked the other eight eligible. Idempotent: nothing is added once the call exists.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

from sqlalchemy import select

from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application, BudgetLine, CoFinancing
from grants.models.associations import Association
from grants.models.calls import Call

CALL = "SN-EMP-2026-R2"
#: (name, city of residence, country of residence, project title, locality, co-financing %)
APPLICANTS = (
    ("Diaspora sénégalaise de Marseille", "FR", "Atelier de soudure à Kaolack", "Kaolack", 18),
    ("Ndimbal Torino", "IT", "Boulangerie coopérative à Louga", "Louga", 20),
    ("Senegalese Community of Leeds", "GB", "Solar repair training in Kolda", "Kolda", 16),
    ("Association Teranga Bruxelles", "BE", "Couture et broderie à Saint-Louis", "Saint-Louis", 9),
    ("Jappo Madrid", "ES", "Maraîchage des jeunes à Thiès", "Thiès", 22),
    ("Fass Diaspora Milano", "IT", "Mécanique moto à Tambacounda", "Tambacounda", 17),
    ("Diaspora de Casamance à Paris", "FR", "Apiculture à Ziguinchor", "Ziguinchor", 9),
    ("Bokk Jom Lyon", "FR", "Informatique pour jeunes filles à Diourbel", "Diourbel", 25),
    ("Senegalese Youth Network Berlin", "DE", "Fish processing jobs in Mbour", "Mbour", 19),
    ("And Ligueey Barcelona", "ES", "Menuiserie à Fatick", "Fatick", 15),
)
REASON = (
    "Co-financing is 9 % of the project; the call asks for at least 15 %. The association "
    "may apply again to the next call with more co-financing."
)


def _pdf(title: str) -> bytes:
    from fpdf import FPDF

    from grants.services.demo import _at

    pdf = FPDF()
    pdf.set_creation_date(_at(2026, 11, 20, 9, 0, "UTC"))
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, title.encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


def _association(index: int, name: str, country: str) -> Association:
    from grants.services.demo import _registration_papers

    association = Association(
        name=name,
        registration_number=f"DEMO-{index:03d}",
        registration_country=country,
        residence_country=country,
        countries_of_work=["SN"],
        contact_name=f"Contact {name}",
        contact_email=f"contact{index}@screening.example.org",
        working_languages=["fr", "wo"],
        description="Senegalese diaspora association funding youth employment at home.",
        state="verified",
    )
    db.session.add(association)
    db.session.flush()
    _registration_papers(association, None)
    return association


def _application(call: Call, association: Association, index: int, row: tuple) -> Application:
    from grants.services.demo import _at
    from grants.services.documents import Upload, add_document

    _name, _country, title, locality, share = row
    budget = Decimal("24000")
    application = Application(
        call_id=call.id,
        association_id=association.id,
        reference=f"{CALL}-{index:04d}",
        language="fr",
        state="submitted",
        title=title,
        summary=f"{title}: former et employer des jeunes à {locality}.",
        objectives="Former 30 jeunes, en employer 20.",
        sector="employment",
        country="SN",
        locality=locality,
        start_date=date(2027, 7, 1),
        duration_months=12,
        beneficiaries_count=30,
        amount_requested=Decimal("20000"),
        budget_currency="USD",
        submitted_at=_at(2026, 11, 15, 9, 0, "Africa/Dakar") + timedelta(days=index),
    )
    application.budget_lines = [
        BudgetLine(
            position=1,
            category="equipment",
            description="Équipement",
            quantity=Decimal("1"),
            unit_cost=budget / 2,
        ),
        BudgetLine(
            position=2,
            category="training",
            description="Formateurs",
            quantity=Decimal("12"),
            unit_cost=budget / 24,
        ),
    ]
    application.cofinancing = [
        CoFinancing(
            source="association_cash",
            description="Cotisations des membres",
            amount=budget * share / 100,
        )
    ]
    db.session.add(application)
    db.session.flush()
    for document_type in call.document_types:
        name = document_type.text("name", "fr")
        add_document(
            None,
            Upload(BytesIO(_pdf(name)), "document.pdf", "application/pdf"),
            application=application,
            document_type=document_type,
        )
    return application


def _call(officer: User) -> Call:
    from grants.services.demo import CALLS, _at, _rubric

    criteria, document_types = _rubric("SN-EMP-2027")
    call = Call(
        **{
            **CALLS[0],
            "code": CALL,
            "state": "closed",
            "envelope": Decimal("120000"),
            "opens_at": _at(2026, 9, 1, 0, 0, "Africa/Dakar"),
            "closes_at": _at(2026, 11, 30, 23, 59, "Africa/Dakar"),
            "title": {
                "en": "Diaspora for Youth Employment — Senegal 2026, second round",
                "fr": "La diaspora pour l'emploi des jeunes — Sénégal 2026, second tour",
            },
        },
        created_by_id=officer.id,
        criteria=criteria,
        document_types=document_types,
    )
    db.session.add(call)
    db.session.flush()
    return call


def screening_day(officer: User) -> None:
    """Ten submitted applications, two marked ineligible one by one, and the bulk
    screening of the ten kept with its result (eight done, two refused)."""
    from grants.services import bulk_actions
    from grants.services.demo import _at
    from grants.services.workflow import fire

    if db.session.scalar(select(Call.id).where(Call.code == CALL)) is not None:
        return
    call = _call(officer)
    applications = []
    for index, row in enumerate(APPLICANTS, start=1):
        association = db.session.scalar(select(Association).where(Association.name == row[0]))
        association = association or _association(index, row[0], row[1])
        applications.append(_application(call, association, index, row))
    screened = _at(2026, 12, 4, 10, 0, "Africa/Dakar")
    for application in applications:
        if application.cofinancing_share < call.min_cofinancing_share:
            fire(application, "mark_ineligible", officer, comment=REASON, now=screened)
    bulk_actions.run(
        officer,
        "screening",
        "mark_eligible",
        [application.id for application in applications],
        call=call,
        now=screened + timedelta(minutes=20),
    )
