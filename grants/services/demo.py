"""The demo programme of the scenario: people, associations and the three calls.

Idempotent: each object is looked up by its natural key (email, association name, call
code) and created only when missing, so ``make run`` can seed on every start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from grants.extensions import db, security
from grants.models.accounts import User
from grants.models.associations import Association, Membership
from grants.models.calls import Call, Criterion, DocumentType
from grants.roles import ADMIN, APPLICANT, EVALUATOR, FINANCE_OFFICER, PROGRAMME_OFFICER
from grants.services.accounts import create_user, find_user


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str
    name: str
    locale: str = "en"
    languages: tuple[str, ...] = ("en",)
    association: str | None = None

    @property
    def two_factor(self) -> bool:
        return self.role in (ADMIN, FINANCE_OFFICER)


LYON = "Association des Sénégalais de Lyon pour le Développement"
NEPAL = "Nepali Diaspora Health Network"
MADRID = "Asociación de Ecuatorianos en Madrid"
RABITA = "Rabita — Moroccan diaspora in Brussels"

ACCOUNTS = (
    DemoAccount(ADMIN, "admin@demo.example.org", "baobab-admin-harbour-27", "Grace Admin"),
    DemoAccount(
        PROGRAMME_OFFICER,
        "officer@demo.example.org",
        "officer-mango-river-27",
        "Amina Diallo",
        languages=("en", "fr"),
    ),
    DemoAccount(
        FINANCE_OFFICER, "finance.a@demo.example.org", "ledger-kapok-amber-27", "Finance Officer A"
    ),
    DemoAccount(
        FINANCE_OFFICER,
        "finance.b@demo.example.org",
        "ledger-tamarind-blue-27",
        "Finance Officer B",
    ),
    DemoAccount(
        EVALUATOR,
        "fatou.sow@demo.example.org",
        "score-hibiscus-lake-27",
        "Fatou Sow",
        "fr",
        ("fr", "en"),
    ),
    DemoAccount(
        EVALUATOR,
        "jonas.berg@demo.example.org",
        "score-cedar-meadow-27",
        "Jonas Berg",
        "en",
        ("en", "fr", "es"),
    ),
    DemoAccount(
        EVALUATOR,
        "lucia.perez@demo.example.org",
        "score-quinoa-valley-27",
        "Lucía Pérez",
        "es",
        ("es", "en", "fr"),
    ),
    DemoAccount(
        EVALUATOR,
        "karim.haddad@demo.example.org",
        "score-olive-desert-27",
        "Karim Haddad",
        "fr",
        ("ar", "fr", "en"),
    ),
    DemoAccount(
        APPLICANT,
        "awa.ndiaye@demo.example.org",
        "lyon-thiof-sunrise-27",
        "Awa Ndiaye",
        "fr",
        ("fr",),
        LYON,
    ),
    DemoAccount(
        APPLICANT,
        "moussa.fall@demo.example.org",
        "lyon-yassa-sunset-27",
        "Moussa Fall",
        "fr",
        ("fr",),
        LYON,
    ),
    DemoAccount(
        APPLICANT,
        "ibrahima.sarr@demo.example.org",
        "lyon-kora-morning-27",
        "Ibrahima Sarr",
        "fr",
        ("fr", "wo"),
        LYON,
    ),
    DemoAccount(
        APPLICANT,
        "sita.gurung@demo.example.org",
        "nepal-rhodo-summit-27",
        "Sita Gurung",
        "en",
        ("en", "ne"),
        NEPAL,
    ),
    DemoAccount(
        APPLICANT,
        "diego.quishpe@demo.example.org",
        "madrid-condor-andes-27",
        "Diego Quishpe",
        "es",
        ("es",),
        MADRID,
    ),
    DemoAccount(
        APPLICANT,
        "nadia.elamrani@demo.example.org",
        "rabita-argan-atlas-27",
        "Nadia El Amrani",
        "ar",
        ("ar", "fr"),
        RABITA,
    ),
)

ASSOCIATIONS = (
    dict(
        name=LYON,
        registration_number="W691234567",
        registration_country="FR",
        residence_country="FR",
        countries_of_work=["SN"],
        founded_on=date(2009, 5, 16),
        contact_name="Awa Ndiaye",
        contact_email="contact@asld-lyon.example.org",
        website="https://asld-lyon.example.org",
        working_languages=["fr", "wo"],
        description="Senegalese in Lyon funding vocational training and jobs for young "
        "people in the Thiès region.",
        state="verified",
    ),
    dict(
        name=NEPAL,
        registration_number="1187654",
        registration_country="GB",
        residence_country="GB",
        countries_of_work=["NP"],
        founded_on=date(2014, 3, 2),
        contact_name="Sita Gurung",
        contact_email="hello@ndhn.example.org",
        working_languages=["en", "ne"],
        description="Nepali health professionals in the United Kingdom supporting "
        "community health posts in Gandaki province.",
        state="verified",
    ),
    dict(
        name=MADRID,
        registration_number="G-28765432",
        registration_country="ES",
        residence_country="ES",
        countries_of_work=["EC"],
        founded_on=date(2003, 10, 12),
        contact_name="Diego Quishpe",
        contact_email="info@ecuamadrid.example.org",
        working_languages=["es"],
        description="Ecuadorians in Madrid supporting technical education in Cotopaxi.",
        state="pending",
    ),
    dict(
        name=RABITA,
        registration_number="0712.345.678",
        registration_country="BE",
        residence_country="BE",
        countries_of_work=["MA"],
        founded_on=date(2011, 9, 1),
        contact_name="Nadia El Amrani",
        contact_email="rabita@rabita.example.org",
        working_languages=["ar", "fr"],
        description="Moroccan diaspora in Brussels working on women's employment in the "
        "Oriental region.",
        state="pending",
    ),
)


def _at(year: int, month: int, day: int, hour: int, minute: int, zone: str) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


#: Every call of the scenario asks for an interim report after six months and a final one.
TWO_REPORTS = [{"kind": "interim", "months": 6}, {"kind": "final", "months": 12}]

CALLS = (
    dict(
        code="SN-EMP-2027",
        language="en",
        sector="employment",
        countries=["SN"],
        sdg_targets=["8.6", "4.4", "10.c"],
        currency="USD",
        envelope=Decimal("240000"),
        min_grant=Decimal("10000"),
        max_grant=Decimal("40000"),
        min_cofinancing_share=Decimal("15"),
        timezone="Africa/Dakar",
        two_stage=False,
        state="open",
        opens_at=_at(2026, 11, 2, 0, 0, "Africa/Dakar"),
        closes_at=_at(2027, 3, 31, 23, 59, "Africa/Dakar"),
        indicators=[
            {
                "name": {"en": "Young people trained", "fr": "Jeunes formés"},
                "unit": "",
                "by_sex": True,
            },
            {"name": {"en": "Jobs created", "fr": "Emplois créés"}, "unit": "", "by_sex": True},
        ],
        tranche_schedule=[
            {"percentage": "40", "after_report": None},
            {"percentage": "40", "after_report": "interim"},
            {"percentage": "20", "after_report": "final"},
        ],
        report_schedule=TWO_REPORTS,
        title={
            "en": "Diaspora for Youth Employment — Senegal 2027",
            "fr": "La diaspora pour l'emploi des jeunes — Sénégal 2027",
        },
        description={
            "en": "Grants of USD 10,000 to 40,000 for diaspora associations creating jobs "
            "and vocational training for young people in Senegal. The association "
            "brings at least 15 % co-financing, in cash or in kind.",
            "fr": "Subventions de 10 000 à 40 000 USD pour les associations de la diaspora "
            "qui créent des emplois et des formations professionnelles pour les "
            "jeunes au Sénégal. L'association apporte au moins 15 % de "
            "cofinancement, en numéraire ou en nature.",
        },
    ),
    dict(
        code="MG-HEA-2027",
        language="fr",
        sector="health",
        countries=["MG"],
        sdg_targets=["3.8", "3.1"],
        currency="USD",
        envelope=Decimal("180000"),
        min_grant=Decimal("8000"),
        max_grant=Decimal("30000"),
        min_cofinancing_share=Decimal("10"),
        timezone="Indian/Antananarivo",
        two_stage=True,
        state="open",
        opens_at=_at(2026, 11, 15, 0, 0, "Indian/Antananarivo"),
        closes_at=_at(2027, 2, 28, 23, 59, "Indian/Antananarivo"),
        indicators=[
            {"name": {"fr": "Personnes soignées"}, "unit": "", "by_sex": True},
            {"name": {"fr": "Agents de santé formés"}, "unit": "", "by_sex": True},
        ],
        tranche_schedule=[
            {"percentage": "60", "after_report": None},
            {"percentage": "40", "after_report": "interim"},
        ],
        report_schedule=TWO_REPORTS,
        title={"fr": "Santé communautaire — Madagascar 2027"},
        description={
            "fr": "Appel en deux étapes : une courte note conceptuelle, puis une "
            "proposition complète pour les associations invitées. Projets de santé "
            "communautaire dans les régions rurales de Madagascar.",
        },
    ),
    dict(
        code="EC-EDU-2027",
        language="es",
        sector="education",
        countries=["EC"],
        sdg_targets=["4.3", "4.4"],
        currency="USD",
        envelope=Decimal("150000"),
        min_grant=Decimal("5000"),
        max_grant=Decimal("25000"),
        min_cofinancing_share=Decimal("10"),
        timezone="America/Guayaquil",
        two_stage=False,
        state="draft",
        opens_at=_at(2027, 1, 15, 0, 0, "America/Guayaquil"),
        closes_at=_at(2027, 4, 30, 23, 59, "America/Guayaquil"),
        indicators=[{"name": {"es": "Jóvenes formados"}, "unit": "", "by_sex": True}],
        tranche_schedule=[
            {"percentage": "50", "after_report": None},
            {"percentage": "50", "after_report": "interim"},
        ],
        report_schedule=TWO_REPORTS,
        title={"es": "Educación y formación — Ecuador 2027"},
        description={
            "es": "Subvenciones para asociaciones de la diáspora ecuatoriana que apoyan "
            "la educación técnica y la formación profesional en Ecuador.",
        },
    ),
)


#: Rubric and required documents of each call: (name by language, weight) and names.
RUBRICS = {
    "SN-EMP-2027": [
        ({"en": "Relevance", "fr": "Pertinence"}, 30),
        ({"en": "Feasibility", "fr": "Faisabilité"}, 25),
        ({"en": "Impact and sustainability", "fr": "Impact et durabilité"}, 25),
        ({"en": "Co-financing and partnerships", "fr": "Cofinancement et partenariats"}, 10),
        ({"en": "Organisational capacity", "fr": "Capacité organisationnelle"}, 10),
    ],
    "MG-HEA-2027": [
        ({"fr": "Pertinence pour la santé communautaire"}, 40),
        ({"fr": "Faisabilité"}, 30),
        ({"fr": "Durabilité"}, 30),
    ],
    "EC-EDU-2027": [
        ({"es": "Pertinencia"}, 40),
        ({"es": "Viabilidad"}, 30),
        ({"es": "Impacto"}, 30),
    ],
}
DOCUMENTS = {
    "SN-EMP-2027": [
        {"en": "Registration certificate", "fr": "Certificat d'enregistrement"},
        {"en": "Detailed budget", "fr": "Budget détaillé"},
        {"en": "Letter from a local partner", "fr": "Lettre d'un partenaire local"},
    ],
    "MG-HEA-2027": [{"fr": "Note conceptuelle signée"}, {"fr": "Budget prévisionnel"}],
    "EC-EDU-2027": [{"es": "Certificado de registro"}, {"es": "Presupuesto detallado"}],
}


def _rubric(code: str) -> tuple[list[Criterion], list[DocumentType]]:
    criteria = [
        Criterion(position=index, name=name, weight=Decimal(weight), scale_min=0, scale_max=5)
        for index, (name, weight) in enumerate(RUBRICS[code], start=1)
    ]
    documents = [
        DocumentType(position=index, name=name, required=True, max_size_mb=10)
        for index, name in enumerate(DOCUMENTS[code], start=1)
    ]
    return criteria, documents


def _ensure_user(account: DemoAccount) -> User:
    user = find_user(account.email)
    if user is None:
        user = create_user(
            account.email,
            account.password,
            [account.role],
            full_name=account.name,
            locale=account.locale,
            languages=list(account.languages),
            note="demo programme",
        )
    if account.two_factor and not user.tf_totp_secret:
        user.tf_primary_method = "authenticator"
        user.tf_totp_secret = security.totp_factory.generate_totp_secret()
    return user


def seed() -> tuple[DemoAccount, ...]:
    """Create what is missing of the demo programme; return the accounts to print."""
    users = {account.email: _ensure_user(account) for account in ACCOUNTS}
    officer = users["officer@demo.example.org"]

    associations: dict[str, Association] = {}
    for data in ASSOCIATIONS:
        association = db.session.scalar(select(Association).where(Association.name == data["name"]))
        if association is None:
            association = Association(**data)
            db.session.add(association)
            db.session.flush()
        associations[association.name] = association

    for account in ACCOUNTS:
        if account.association is None:
            continue
        user, association = users[account.email], associations[account.association]
        if not any(m.association_id == association.id for m in user.memberships):
            db.session.add(Membership(user_id=user.id, association_id=association.id))

    db.session.flush()
    for association in associations.values():
        if association.state == "verified":
            member = next(
                (users[a.email] for a in ACCOUNTS if a.association == association.name), None
            )
            _registration_papers(association, member)

    for data in CALLS:
        if db.session.scalar(select(Call.id).where(Call.code == data["code"])) is None:
            criteria, document_types = _rubric(data["code"])
            db.session.add(
                Call(
                    created_by_id=officer.id,
                    criteria=criteria,
                    document_types=document_types,
                    **data,
                )
            )
    db.session.flush()
    _eligibility_questions()
    _previous_round(users, associations[LYON])
    _programme_bank_account(users)
    _sealed_letters(users)
    _madagascar_questions(officer, associations[NEPAL], users)
    _conversations(users)
    duplicate_pair()
    from grants.services.demo_screening import screening_day

    screening_day(officer)
    return ACCOUNTS


def _programme_bank_account(users: dict[str, User]) -> None:
    """The account payment files are drawn on (statements are imported for it)."""
    from grants.services.demo_bank import seed_programme_account

    seed_programme_account(users["admin@demo.example.org"])


#: Where the Lyon association's president accepted the previous round's award: her phone.
DEMO_ACCEPTANCE_ADDRESS = "192.0.2.24"
DEMO_ACCEPTANCE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


def _sealed_letters(users: dict[str, User]) -> None:
    """The accepted awards of the demo carry their signed letter and the record of the
    acceptance (address, browser, the letter's SHA-256), as an acceptance on the site
    leaves them; the letter is issued in the association's language."""
    from grants.models.awards import Award
    from grants.services import award_letters
    from grants.services.awards import letter_language

    accepted = db.session.scalars(
        select(Award).where(Award.accepted_at.is_not(None), Award.accepted_letter_sha256 == "")
    ).all()
    for award in accepted:
        letter = award_letters.issue(award, letter_language(award, None, "en"))
        award.acceptance_address = DEMO_ACCEPTANCE_ADDRESS
        award.acceptance_user_agent = DEMO_ACCEPTANCE_AGENT
        award.accepted_letter_sha256 = letter.sha256
    db.session.flush()


#: The Ecuador call's yes/no eligibility question, in Spanish first.
EC_ELIGIBILITY_QUESTION = {
    "key": "ec-otra-financiacion",
    "text": {
        "es": "¿El mismo proyecto recibe ya financiación de otro programa de cooperación?",
        "en": "Does the same project already receive funding from another cooperation programme?",
        "fr": "Le même projet reçoit-il déjà un financement d'un autre programme de coopération ?",
        "ar": "هل يتلقى المشروع نفسه تمويلاً من برنامج تعاون آخر؟",
    },
    "excludes": "yes",
}


def _eligibility_questions() -> None:
    """The Ecuador call asks, before anyone drafts, whether the project is already
    funded elsewhere; a yes excludes it."""
    call = db.session.scalar(select(Call).where(Call.code == "EC-EDU-2027"))
    if call is not None and not call.eligibility_questions:
        call.eligibility_questions = [EC_ELIGIBILITY_QUESTION]
        db.session.flush()


def _registration_papers(association: Association, member: User | None) -> None:
    """The registration certificate and statutes a verified association must have given
    (the association machine's guard on ``verify``), as small PDFs in the document store."""
    from io import BytesIO

    from fpdf import FPDF

    from grants.services.associations import verification_documents
    from grants.services.documents import Upload, add_document
    from workflows.association import REQUIRED_DOCUMENTS

    present = verification_documents(association)
    titles = {"registration_certificate": "Registration certificate", "statutes": "Statutes"}
    for purpose in REQUIRED_DOCUMENTS:
        if purpose in present:
            continue
        pdf = FPDF()
        pdf.set_creation_date(datetime(2026, 1, 15, tzinfo=UTC))
        pdf.add_page()
        pdf.set_font("Helvetica", size=14)
        for line in (
            titles[purpose],
            association.name,
            f"{association.registration_number} ({association.registration_country})",
        ):
            pdf.cell(
                0,
                10,
                line.encode("latin-1", "replace").decode("latin-1"),
                new_x="LMARGIN",
                new_y="NEXT",
            )
        add_document(
            member,
            Upload(BytesIO(bytes(pdf.output())), f"{purpose}.pdf", "application/pdf"),
            association=association,
            purpose=purpose,
        )


PREVIOUS_CALL = "SN-EMP-2026"


def _previous_round(users: dict[str, User], lyon: Association) -> None:
    """Last year's Senegal call, closed, with the Lyon association's grant running: the
    award accepted (USD 30,000, budget in XOF at 600), its first tranche requested and
    waiting for the two finance officers, the interim report due. So every role finds
    something of its own at the first start."""
    from grants.models.applications import Application, BudgetLine, CoFinancing
    from grants.services import disbursements
    from grants.services.decisions import Outcome, create_award
    from grants.services.workflow import fire

    if db.session.scalar(select(Call.id).where(Call.code == PREVIOUS_CALL)) is not None:
        return
    officer, awa = users["officer@demo.example.org"], users["awa.ndiaye@demo.example.org"]
    db.session.expire(awa, ["memberships"])  # joined above, in this transaction
    criteria, document_types = _rubric("SN-EMP-2027")
    call = Call(
        **{
            **CALLS[0],
            "code": PREVIOUS_CALL,
            "state": "closed",
            "opens_at": _at(2026, 2, 1, 0, 0, "Africa/Dakar"),
            "closes_at": _at(2026, 3, 31, 23, 59, "Africa/Dakar"),
            "title": {
                "en": "Diaspora for Youth Employment — Senegal 2026",
                "fr": "La diaspora pour l'emploi des jeunes — Sénégal 2026",
            },
        },
        created_by_id=officer.id,
        criteria=criteria,
        document_types=document_types,
    )
    db.session.add(call)
    db.session.flush()
    application = Application(
        call_id=call.id,
        association_id=lyon.id,
        reference=f"{PREVIOUS_CALL}-0001",
        language="fr",
        state="awarded",
        created_by_id=awa.id,
        title="Atelier de couture solidaire à Thiès",
        summary="Former et employer 40 jeunes couturiers et couturières à Thiès.",
        objectives="40 jeunes formés, 25 emplois.",
        sector="employment",
        country="SN",
        locality="Thiès",
        start_date=date(2026, 7, 1),
        duration_months=12,
        beneficiaries_count=40,
        amount_requested=Decimal("30000"),
        amount_awarded=Decimal("30000"),
        budget_currency="XOF",
        submitted_at=_at(2026, 3, 30, 20, 15, "Africa/Dakar"),
    )
    application.budget_lines = [
        BudgetLine(position=i, category=c, description=d, quantity=Decimal(q), unit_cost=Decimal(u))
        for i, (c, d, q, u) in enumerate(
            [
                ("equipment", "Machines à coudre", "10", "450000"),
                ("training", "Formateurs (12 mois)", "12", "600000"),
                ("premises", "Loyer de l'atelier", "12", "250000"),
                ("other", "Tissus et fournitures", "1", "3600000"),
                ("other", "Suivi et évaluation", "1", "1800000"),
            ],
            start=1,
        )
    ]
    application.cofinancing = [
        CoFinancing(
            source="association_cash",
            description="Cotisations des membres",
            amount=Decimal("2400000"),
        ),
        CoFinancing(
            source="in_kind", description="Local prêté par la mairie", amount=Decimal("1000000")
        ),
    ]
    db.session.add(application)
    db.session.flush()
    award = create_award(
        application, Outcome(application.id, "award", Decimal("30000")), date(2026, 6, 1)
    )
    award.offered_at = _at(2026, 6, 1, 10, 0, "Africa/Dakar")
    award.exchange_rate, award.exchange_rate_date = Decimal("600"), date(2026, 6, 1)
    fire(
        award,
        "accept",
        awa,
        now=_at(2026, 6, 10, 18, 0, "Europe/Paris"),
        letter_read=True,
        signatory_name="Awa Ndiaye",
        signatory_role="Présidente",
        account_holder="Association des Sénégalais de Lyon pour le Développement",
        iban="FR1420041010050500013M02606",
        account_number="",
        bank_name="La Banque Postale",
        bic="PSSTFRPPLYO",
    )
    first = next(t for t in award.tranches if t.position == 1)
    disbursements.act(officer, first.id, "request", now=_at(2026, 6, 12, 9, 0, "Africa/Dakar"))
    db.session.flush()


#: The Madagascar call's own questions, in French: (kind, label, settings).
MADAGASCAR_QUESTIONS = (
    ("short_text", "District sanitaire où se déroule le projet", {"required": True}),
    ("yes_no", "Des agents de santé communautaire sont-ils impliqués ?", {"required": True}),
    (
        "whole_number",
        "Nombre d'agents de santé communautaire impliqués",
        {"required": True, "minimum": Decimal("1"), "maximum": Decimal("1000"), "if_yes": 1},
    ),
    (
        "long_text",
        "Centres de santé de base partenaires et leur rôle",
        {"max_words": 150},
    ),
    (
        "several_choices",
        "Services de santé couverts par le projet",
        {
            "required": True,
            "options": {
                "fr": ["Santé maternelle", "Vaccination", "Nutrition", "Lutte contre le paludisme"]
            },
        },
    ),
)


def _madagascar_questions(officer: User, network: Association, users: dict[str, User]) -> None:
    """The Madagascar call asks five questions of its own, in French; the network's
    full proposal, invited after its concept note, answers them."""
    from grants.models.applications import Application
    from grants.services import question_building, questions

    call = db.session.scalar(select(Call).where(Call.code == "MG-HEA-2027"))
    if call is None or questions.latest_set(call) is not None:
        return
    question_building.add_section(officer, call, {"fr": "Santé communautaire"})
    asked = []
    for kind, label, settings in MADAGASCAR_QUESTIONS:
        settings = dict(settings)
        source = settings.pop("if_yes", None)
        data = {"kind": kind, "label": {"fr": label}, **settings}
        if source is not None:
            data.update(condition_key=asked[source].key, condition_value="yes")
        asked.append(question_building.add_question(officer, call, 1, data))
    member = next((users[a.email] for a in ACCOUNTS if a.association == network.name), None)
    application = Application(
        call_id=call.id,
        association_id=network.id,
        reference=f"{call.code}-0001",
        language="fr",
        state="proposal_draft",
        title="Agents de santé communautaire à Ambatolampy",
        summary="Former et équiper 24 agents de santé communautaire dans le district "
        "d'Ambatolampy, en lien avec trois centres de santé de base.",
        sector="health",
        country="MG",
        locality="Ambatolampy",
        budget_currency="USD",
        amount_requested=Decimal("24000"),
        question_set_id=questions.latest_set(call).id,
        created_by_id=member.id if member else None,
    )
    db.session.add(application)
    db.session.flush()
    services = asked[4].options
    questions.store_answers(
        application,
        {
            asked[0].key: "Ambatolampy",
            asked[1].key: "yes",
            asked[2].key: "24",
            asked[3].key: "Les CSB d'Ambatolampy, Tsinjoarivo et Behenjy accueillent les "
            "formations et supervisent les agents chaque mois.",
            asked[4].key: [services[0]["value"], services[1]["value"]],
        },
    )


def _conversations(users: dict[str, User]) -> None:
    """On the Lyon association's running grant: the officer asked for the signed
    agreement with the town hall of Thiès, and Awa answered with the document (the
    request waits for the officer to close it); on its application, an internal note
    that no evaluator reads."""
    from io import BytesIO

    from fpdf import FPDF

    from grants.models.applications import Application
    from grants.models.awards import Award
    from grants.models.conversations import Thread
    from grants.services import conversations
    from grants.services.documents import Upload

    application = db.session.scalar(
        select(Application).where(Application.reference == f"{PREVIOUS_CALL}-0001")
    )
    award = db.session.scalar(select(Award).where(Award.application_id == application.id))
    if award is None or db.session.scalar(select(Thread.id).where(Thread.award_id == award.id)):
        return
    officer, awa = users["officer@demo.example.org"], users["awa.ndiaye@demo.example.org"]
    grant = conversations.Subject("award", award)
    asked = conversations.post(
        officer,
        grant,
        "Bonjour, pourriez-vous nous envoyer la convention signée avec la mairie de Thiès "
        "pour le local prêté ? Elle justifie le cofinancement en nature.",
        kind="request",
        due_on=date(2026, 7, 15),
        today=date(2026, 6, 20),
    )
    pdf = FPDF()
    pdf.set_creation_date(datetime(2026, 6, 25, tzinfo=UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    for line in ("Convention de mise a disposition", "Mairie de Thies", LYON):
        text = line.encode("latin-1", "replace").decode("latin-1")
        pdf.cell(0, 10, text, new_x="LMARGIN", new_y="NEXT")
    answer = conversations.post(
        awa,
        grant,
        "Bonjour Amina, voici la convention signée le 2 mai par le maire. "
        "Le local est prêté pour toute la durée du projet.",
        upload=Upload(BytesIO(bytes(pdf.output())), "convention-mairie-thies.pdf"),
        in_answer_to=asked.id,
    )
    note = conversations.post(
        officer,
        conversations.Subject("application", application),
        "Note interne : une évaluatrice siège au conseil de l'association. Vérifier sa "
        "déclaration de conflit d'intérêts avant toute affectation au prochain appel.",
        kind="note",
    )
    for message, moment in (
        (asked, _at(2026, 6, 20, 10, 0, "Africa/Dakar")),
        (answer, _at(2026, 6, 25, 19, 30, "Europe/Paris")),
        (note, _at(2026, 6, 2, 9, 0, "Africa/Dakar")),
    ):
        message.created_at = moment
    answer.thread.last_message_at = answer.created_at
    note.thread.last_message_at = note.created_at
    db.session.flush()


#: Two associations of the Malagasy diaspora who each put forward the same village's
#: health post: screening's duplicate check flags the pair.
MALAGASY_ASSOCIATIONS = (
    dict(
        name="Fikambanana Malagasy any Marseille",
        registration_number="W133009876",
        registration_country="FR",
        residence_country="FR",
        countries_of_work=["MG"],
        founded_on=date(2016, 4, 9),
        contact_name="Hery Rakotomalala",
        contact_email="contact@fmm-marseille.example.org",
        working_languages=["fr", "mg"],
        description="Malagasy in Marseille supporting health posts in Analamanga.",
        state="pending",
    ),
    dict(
        name="Association des Malgaches de Genève",
        registration_number="CHE-412.778.901",
        registration_country="CH",
        residence_country="CH",
        countries_of_work=["MG"],
        founded_on=date(2012, 11, 3),
        contact_name="Voahangy Andrianarisoa",
        contact_email="info@amg-geneve.example.org",
        working_languages=["fr", "mg"],
        description="Malagasy in Geneva funding village projects around Antananarivo.",
        state="pending",
    ),
)
#: The pair: the same health post at Ambohitrimanjaka, written twice.
DUPLICATE_PAIR = (
    dict(
        title="Case de santé communautaire à Ambohitrimanjaka",
        summary="Construire et équiper une case de santé communautaire à Ambohitrimanjaka "
        "et former six agents communautaires de santé pour le suivi des femmes enceintes "
        "et des enfants de moins de cinq ans.",
        partner="Commune rurale d'Ambohitrimanjaka",
    ),
    dict(
        title="Construction d'une case de santé communautaire - Ambohitrimanjaka",
        summary="Construire une case de santé communautaire équipée à Ambohitrimanjaka et "
        "former six agents communautaires de santé qui suivent les femmes enceintes et "
        "les enfants de moins de cinq ans.",
        partner="Commune d'Ambohitrimanjaka",
    ),
)


def duplicate_pair() -> None:
    """Two concept notes to the Madagascar call for one village's health post, by two
    associations, waiting for screening: the check shows each as the other's likely
    duplicate."""
    from grants.models.applications import Application, Partner

    call = db.session.scalar(select(Call).where(Call.code == "MG-HEA-2027"))
    if call is None:
        return
    for number, (data, project) in enumerate(
        zip(MALAGASY_ASSOCIATIONS, DUPLICATE_PAIR, strict=True), start=901
    ):
        reference = f"{call.code}-{number:04d}"
        if db.session.scalar(select(Application.id).where(Application.reference == reference)):
            continue
        association = db.session.scalar(select(Association).where(Association.name == data["name"]))
        if association is None:
            association = Association(**data)
            db.session.add(association)
            db.session.flush()
        application = Application(
            call_id=call.id,
            association_id=association.id,
            reference=reference,
            language="fr",
            state="concept_submitted",
            title=project["title"],
            summary=project["summary"],
            sector="health",
            country="MG",
            locality="Ambohitrimanjaka",
            amount_requested=Decimal("25000"),
            budget_currency=call.currency,
            submitted_at=_at(2027, 2, 20 + number - 901, 11, 0, "Indian/Antananarivo"),
        )
        application.partners = [Partner(position=1, name=project["partner"], country="MG")]
        db.session.add(application)
    db.session.flush()
