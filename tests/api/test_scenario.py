"""The scenario through the API alone: a call created and published, an application
drafted with its budget, its document stored in SeaweedFS, submitted, screened,
evaluators assigned (one declares a conflict and is replaced), reviews scored, the award
decided and accepted, a tranche approved by two finance officers and paid, the interim
report returned once then accepted; each entity's history matches, and the open data of
the programme validates against the official schemas."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from grants.orm import utcnow
from grants.services.accounts import issue_token
from tests.documents.test_filetypes import pdf_bytes
from tests.fixtures.people import make_user

PDF = pdf_bytes()


class Api:
    """A script's view of the API: one person's token, JSON in, JSON out."""

    def __init__(self, client, person):
        self.client = client
        self.headers = {"Authorization": f"Bearer {issue_token(person, person, 'script', 30)}"}

    def __call__(self, method: str, path: str, expect: int = 200, **kwargs):
        response = self.client.open(f"/api/v1{path}", method=method, headers=self.headers, **kwargs)
        assert response.status_code == expect, (method, path, response.get_data(as_text=True))
        return response.get_json() if response.data else None

    def fire(self, collection: str, record_id: int, name: str, **data):
        return self("POST", f"/{collection}/{record_id}/transitions", json={"name": name, **data})


def _local(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_the_programme_through_the_api_alone(app, world, client, s3_store):
    saved_store = app.extensions["document_store"]
    app.extensions["document_store"] = s3_store
    try:
        _run(app, world, client)
    finally:
        app.extensions["document_store"] = saved_store


def _run(app, world, client):
    officer, awa = Api(client, world.officer), Api(client, world.applicant)
    finance_a, finance_b = Api(client, world.finance), Api(client, world.finance_b)
    evaluators = [world.evaluator, make_user("evaluator"), make_user("evaluator")]
    fatou, jonas, karim = (Api(client, person) for person in evaluators)
    now = utcnow()

    # 1. The officer creates the call and publishes it.
    call = officer(
        "POST",
        "/calls",
        201,
        json={
            "code": "SN-API-2027",
            "language": "en",
            "title": {"en": "Diaspora for Youth Employment — Senegal 2027", "fr": "Emploi"},
            "description": {"en": "Jobs and training for young people in Senegal."},
            "sector": "employment",
            "countries": ["SN"],
            "sdg_targets": ["8.6", "4.4"],
            "currency": "USD",
            "envelope": "240000",
            "min_grant": "10000",
            "max_grant": "40000",
            "min_cofinancing_share": "15",
            "timezone": "Africa/Dakar",
            "opens_at": _local(now - timedelta(days=1)),
            "closes_at": _local(now + timedelta(days=30)),
            "criteria": [
                {"name": "Relevance", "weight": "60"},
                {"name": "Feasibility", "weight": "40"},
            ],
            "document_types": [{"name": "Detailed budget", "allowed_kinds": ["pdf"]}],
            "indicators": [{"name": "Young people trained", "by_sex": True}],
            "tranches": [
                {"percentage": "40", "after_report": ""},
                {"percentage": "40", "after_report": "interim"},
                {"percentage": "20", "after_report": "final"},
            ],
            "reports": [{"kind": "interim", "months": 6}, {"kind": "final", "months": 12}],
        },
    )
    assert call["state"] == "draft"
    call = officer.fire("calls", call["id"], "publish")
    assert call["state"] == "open"

    # 2. The Lyon association drafts its application with eight budget lines.
    application = awa(
        "POST",
        "/applications",
        201,
        json={"call_id": call["id"], "association_id": world.association.id},
    )
    lines = [
        {"category": "equipment", "description": f"Line {i}", "quantity": "1", "unit_cost": "4950"}
        for i in range(8)
    ]
    application = awa(
        "PATCH",
        f"/applications/{application['id']}",
        json={
            "version": application["version"],
            "title": "Training young tailors in Thiès",
            "summary": "A workshop that trains and employs 40 young people.",
            "objectives": "Train 40, employ 25.",
            "locality": "Thiès",
            "start_date": (now + timedelta(days=60)).date().isoformat(),
            "duration_months": 12,
            "beneficiaries_count": 40,
            "amount_requested": "32000",
            "budget_lines": lines,
            "cofinancing": [{"source": "association_cash", "amount": "7600"}],
        },
    )
    assert application["budget_total"] == "39600.00"

    # 3. Its document goes to SeaweedFS, then it is submitted.
    document_type = _document_type(call["id"])
    uploaded = client.post(
        "/api/v1/documents",
        data={
            "owner": "application",
            "owner_id": str(application["id"]),
            "document_type_id": str(document_type),
            "file": (io.BytesIO(PDF), "budget.pdf"),
        },
        headers=awa.headers,
        content_type="multipart/form-data",
        csrf=False,
    )
    assert uploaded.status_code == 201, uploaded.get_data(as_text=True)
    application = awa.fire("applications", application["id"], "submit")
    assert application["state"] == "submitted" and application["reference"]

    # 4. Screening, assignment; one evaluator declares a conflict and is replaced.
    officer.fire("applications", application["id"], "mark_eligible")
    reviews = [
        officer(
            "POST",
            "/reviews",
            201,
            json={"application_id": application["id"], "evaluator_id": e.id},
        )
        for e in evaluators[:2]
    ]
    officer.fire("applications", application["id"], "start_review")
    jonas.fire("reviews", reviews[1]["id"], "declare_conflict", comment="I sit on its board.")
    reviews[1] = officer(
        "POST",
        "/reviews",
        201,
        json={"application_id": application["id"], "evaluator_id": evaluators[2].id},
    )
    criteria = _criteria(call["id"])
    for api, review in ((fatou, reviews[0]), (karim, reviews[1])):
        review = api("POST", f"/reviews/{review['id']}/no-conflict")
        api(
            "PUT",
            f"/reviews/{review['id']}/scores",
            json={
                "version": review["version"],
                "scores": [{"criterion_id": c, "score": 4, "comment": "Solid."} for c in criteria],
                "recommendation": "fund",
            },
        )
        api.fire("reviews", review["id"], "submit")
    assert officer("GET", f"/applications/{application['id']}")["state"] == "reviewed"

    # 5. The committee awards it; the association accepts with its bank details.
    decision = officer(
        "POST",
        f"/calls/{call['id']}/decisions",
        201,
        json={
            "meeting_date": now.date().isoformat(),
            "present": "Programme office, three evaluators",
            "outcomes": [{"application_id": application["id"], "kind": "award", "amount": "32000"}],
        },
    )
    [award_id] = decision["award_ids"]
    award = awa.fire(
        "awards",
        award_id,
        "accept",
        letter_read=True,
        signatory_name="Awa Ndiaye",
        signatory_role="Présidente",
        account_holder="Association des Sénégalais de Lyon",
        iban="FR14 2004 1010 0505 0001 3M02 606",
        account_number="",
        bank_name="La Banque Postale",
        bic="PSSTFRPPLYO",
    )
    assert award["state"] == "active"

    # 6. Tranche 1: requested, approved by two finance officers, paid.
    tranche = award["tranches"][0]["id"]
    officer.fire("tranches", tranche, "request")
    finance_a.fire("tranches", tranche, "approve")
    assert finance_a("GET", f"/tranches/{tranche}")["state"] == "requested"
    finance_b.fire("tranches", tranche, "approve")
    paid = finance_b.fire(
        "tranches",
        tranche,
        "pay",
        payment_date=now.date().isoformat(),
        bank_reference="SN-2027-0611-001",
        amount="12800.00",
    )
    assert paid["state"] == "paid"
    assert officer("GET", f"/awards/{award_id}")["paid_total"] == "12800.00"

    # 7. The interim report: written, submitted, returned once, accepted.
    interim = award["reports"][0]["id"]
    report = awa("GET", f"/reports/{interim}")
    awa(
        "PATCH",
        f"/reports/{interim}",
        json={
            "version": report["version"],
            "activities": "Trained 20 young people.",
            "results": "12 are employed.",
            "indicator_values": {"0": {"women": "11", "men": "9"}},
        },
    )
    awa.fire("reports", interim, "submit")
    officer.fire("reports", interim, "request_changes", comment="Add the photos.")
    awa.fire("reports", interim, "submit")
    assert officer.fire("reports", interim, "accept")["state"] == "accepted"

    # Each entity's history is the story above, in order.
    def steps(collection, record_id):
        history = officer("GET", f"/{collection}/{record_id}/history?per_page=100")
        return [h["transition"] for h in history["items"]]

    assert steps("calls", call["id"]) == ["publish"]
    assert steps("applications", application["id"]) == [
        "submit",
        "mark_eligible",
        "start_review",
        "complete_review",
        "award",
    ]
    assert steps("tranches", tranche) == ["request", "approve", "approve", "pay"]
    assert steps("reports", interim) == ["submit", "request_changes", "submit", "accept"]
    assert steps("awards", award_id) == ["accept"]

    # The open data of the programme validates.
    _validate_open_data(client)


def _document_type(call_id: int) -> int:
    from grants.extensions import db
    from grants.models import DocumentType

    return db.session.query(DocumentType.id).filter_by(call_id=call_id).scalar()


def _criteria(call_id: int) -> list[int]:
    from grants.extensions import db
    from grants.models import Criterion

    return [c.id for c in db.session.query(Criterion).filter_by(call_id=call_id)]


def _validate_open_data(client) -> None:
    from tests.test_opendata import _valid_iati, _valid_package

    package = _valid_package(json.loads(client.get("/open-data/360giving.json").data))
    assert len(package["grants"]) == 1
    assert package["grants"][0]["amountDisbursed"] == 12800
    document = _valid_iati(client.get("/open-data/iati.xml").data)
    assert len(document.findall("iati-activity")) == 1
