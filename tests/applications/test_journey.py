"""The Senegal scenario up to a submitted and screened application, as each role sees it,
through the pages only, with documents in a real S3 bucket (SeaweedFS)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import time_machine
from flask_babel import force_locale
from sqlalchemy import select

from grants.extensions import db
from grants.labels import transition_label
from grants.models import Application, Association, Call, HistoryEntry
from grants.orm import utcnow
from grants.services.demo import LYON
from tests.clients import AppClient, text_of
from tests.documents.test_filetypes import pdf_bytes
from tests.fixtures.people import PASSWORD

PDF = pdf_bytes()


def _upload(client: AppClient, url: str, name: str, said: str = "uploaded") -> None:
    """Upload and read the confirmation, in the uploader's language."""
    response = client.post(
        url, data={"file": (io.BytesIO(PDF), name)}, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    assert said in text_of(client.get(response.location))


def test_the_senegal_journey_through_the_pages(app, world, login, mailbox, s3_store):
    saved_store = app.extensions["document_store"]
    app.extensions["document_store"] = s3_store
    try:
        _journey(app, world, login, mailbox, s3_store)
    finally:
        app.extensions["document_store"] = saved_store


def _journey(app, world, login, mailbox, s3_store):
    # Awa signs up in French and confirms her address from the email.
    app.test_client_class = AppClient
    awa = app.test_client()
    awa.post(
        "/register",
        data={
            "full_name": "Awa Ndiaye",
            "email": "awa@asld.example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "locale": "fr",
        },
    )
    [welcome] = mailbox.to("awa@asld.example.org")
    link = re.search(r"https?://\S+/confirm/\S+", mailbox.body(welcome)).group(0)
    awa.get(link.replace("http://grants.test", ""))
    assert awa.login("awa@asld.example.org", PASSWORD).status_code == 302

    # She registers the association and uploads what verification needs.
    response = awa.post(
        "/associations/new",
        data={
            "name": "Association des Sénégalais de Lyon pour le Développement",
            "registration_number": "W691234567",
            "registration_country": "FR",
            "residence_country": "FR",
            "countries_of_work": ["SN"],
            "contact_name": "Awa Ndiaye",
            "contact_email": "contact@asld.example.org",
            "description": "Emploi des jeunes à Thiès.",
            "working_languages": ["fr", "wo"],
        },
    )
    association = db.session.scalar(select(Association).where(Association.name == LYON))
    for purpose in ("registration_certificate", "statutes"):
        _upload(
            awa,
            f"/associations/{association.id}/documents/{purpose}",
            f"{purpose}.pdf",
            said="téléversé",
        )

    # The programme officer verifies it from the queue, then creates and publishes the call.
    officer = login(world.officer)
    assert association.name in text_of(officer.get("/admin/associations?state=pending"))
    officer.post(f"/transitions/association/{association.id}/verify")
    assert association.state == "verified"
    closes = utcnow() + timedelta(days=10)
    local = closes.astimezone(__import__("zoneinfo").ZoneInfo("Africa/Dakar"))
    documents = ["Registration certificate", "Detailed budget", "Letter from a local partner"]
    form = {
        "code": "SN-EMP-2027",
        "language": "en",
        "sector": "employment",
        "countries": ["SN"],
        "title_en": "Diaspora for Youth Employment — Senegal 2027",
        "description_en": "Grants for jobs and training for young people in Senegal.",
        "sdg_targets": "8.6, 4.4, 10.c",
        "currency": "USD",
        "envelope": "240000",
        "min_grant": "10000",
        "max_grant": "40000",
        "min_cofinancing_share": "15",
        "timezone": "Africa/Dakar",
        "opens_at": (local - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": local.strftime("%Y-%m-%dT%H:%M"),
        "require_verified_association": "y",
        "tranches-0-percentage": "40",
        "tranches-0-after_report": "",
        "tranches-1-percentage": "40",
        "tranches-1-after_report": "interim",
        "tranches-2-percentage": "20",
        "tranches-2-after_report": "final",
        "reports-0-kind": "interim",
        "reports-0-months": "6",
        "reports-1-kind": "final",
        "reports-1-months": "12",
    }
    for index, (name, weight) in enumerate(
        [
            ("Relevance", 30),
            ("Feasibility", 25),
            ("Impact and sustainability", 25),
            ("Co-financing and partnerships", 10),
            ("Organisational capacity", 10),
        ]
    ):
        form |= {
            f"criteria-{index}-name": name,
            f"criteria-{index}-weight": str(weight),
            f"criteria-{index}-scale_min": "0",
            f"criteria-{index}-scale_max": "5",
        }
    for index, name in enumerate(documents):
        form |= {
            f"document_types-{index}-name": name,
            f"document_types-{index}-required": "y",
            f"document_types-{index}-max_size_mb": "10",
            f"document_types-{index}-allowed_kinds": ["pdf", "jpeg", "png"],
        }
    created = officer.post("/office/calls/new", data=form)
    assert created.status_code == 303, re.findall(
        r'class="error"[^>]*>([^<]*)', created.get_data(as_text=True)
    )
    call = db.session.scalar(select(Call).where(Call.code == "SN-EMP-2027"))
    officer.post(f"/transitions/call/{call.id}/publish")
    assert call.state == "open"

    # Awa finds the call without logging in, then applies: eight budget lines in XOF.
    assert "Diaspora for Youth Employment" in text_of(app.test_client().get("/calls"))
    response = awa.post(f"/calls/{call.code}/apply")
    application = db.session.get(
        Application, int(response.location.split("?")[0].rsplit("/", 1)[-1])
    )
    assert application.reference == "SN-EMP-2027-0001"
    draft = {
        "version": str(application.version),
        "title": "Atelier de couture à Thiès",
        "summary": "Former et employer 40 jeunes.",
        "objectives": "40 formés, 25 employés.",
        "sector": "employment",
        "country": "SN",
        "locality": "Thiès",
        "start_date": (utcnow() + timedelta(days=90)).date().isoformat(),
        "duration_months": "12",
        "beneficiaries_count": "40",
        "beneficiaries_women": "22",
        "beneficiaries_men": "18",
        "budget_currency": "XOF",
        "amount_requested": "32000",
        "cofinancing-0-source": "association_cash",
        "cofinancing-0-amount": "1800000",
        "cofinancing-1-source": "in_kind",
        "cofinancing-1-amount": "1440000",
    }
    for line in range(8):
        draft |= {
            f"budget_lines-{line}-category": "equipment",
            f"budget_lines-{line}-description": f"Ligne {line + 1}",
            f"budget_lines-{line}-quantity": "1",
            f"budget_lines-{line}-unit_cost": "2250000",
        }
    assert awa.post(f"/applications/{application.id}", data=draft).status_code == 303
    assert len(application.budget_lines) == 8
    assert application.cofinancing_share == 18
    for document_type in call.document_types:
        _upload(
            awa,
            f"/applications/{application.id}/documents/{document_type.id}",
            f"{document_type.text('name', 'en')}.pdf",
            said="téléversé",
        )
    assert all(s3_store.exists(d.storage_key) for d in application.current_documents)
    assert "Tout est en ordre." in text_of(awa.get(f"/applications/{application.id}"))
    with time_machine.travel(call.closes_at - timedelta(hours=2), tick=False):
        response = awa.post(
            f"/applications/{application.id}/submit", data={"version": str(application.version)}
        )
    assert "SN-EMP-2027-0001" in text_of(awa.get(response.location))

    # The officer screens it: every automatic check passes, and it is marked eligible.
    assert application.reference in text_of(officer.get(f"/calls/{call.code}/applications"))
    detail = officer.get(f"/applications/{application.id}").get_data(as_text=True)
    assert detail.count('class="pass"') == 5 and 'class="fail"' not in detail
    officer.post(f"/transitions/application/{application.id}/mark_eligible")
    assert application.state == "eligible"
    steps = db.session.scalars(
        select(HistoryEntry.transition)
        .where(HistoryEntry.entity_type == "application")
        .order_by(HistoryEntry.id)
    ).all()
    assert steps == ["submit", "mark_eligible"]
    # Awa reads the outcome on her application's page.
    with force_locale("fr"):
        marked = transition_label("application", "mark_eligible")
    assert marked in text_of(awa.get(f"/applications/{application.id}"))
