"""A client written outside the application: HTTP and JSON from the standard library
only, nothing of ``grants`` imported. It runs the programme story of SCENARIO.md over
``/api/v1`` from nothing but the first admin's email and password, as an integrator's
script would: staff and associations sign up and confirm by email, the admin gives the
staff their roles, people in two-factor roles set up an authenticator, then the call,
the application, its review, the decision, the award, the payment and the report.

``read_mail(address)`` returns the texts of the emails sent to ``address``, oldest first:
the person's mailbox, where they find a confirmation or an invitation link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

PASSWORD = "lyon-thiof-sunrise-27"


class Failed(AssertionError):
    pass


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 302 is an answer to read, not follow
        return None


OPENER = urllib.request.build_opener(NoRedirect)


@dataclass
class Person:
    """One person's side of the conversation: their token once they have one."""

    base: str
    email: str
    token: str = ""
    id: int = 0
    steps: list[str] = field(default_factory=list)

    def send(
        self,
        method: str,
        path: str,
        expect: int = 200,
        json_body: Any = None,
        body: bytes | None = None,
        content_type: str = "",
    ) -> Answer:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(
            f"{self.base}{path}", data=body, method=method, headers=headers
        )
        try:
            with OPENER.open(request, timeout=60) as response:
                answer = Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, dict(error.headers), error.read())
        self.steps.append(f"{method} {path} → {answer.status}")
        if answer.status != expect:
            raise Failed(f"{self.email}: {method} {path} → {answer.status}: {answer.body[:800]!r}")
        return answer

    def __call__(self, method: str, path: str, expect: int = 200, **body: Any) -> Any:
        return self.send(method, path, expect, json_body=body or None).json()

    def fire(self, collection: str, record_id: int, name: str, **data: Any) -> dict:
        return self("POST", f"/{collection}/{record_id}/transitions", name=name, **data)

    def upload(self, fields: dict[str, str], filename: str, content: bytes) -> dict:
        boundary = uuid.uuid4().hex
        head = '--{}\r\nContent-Disposition: form-data; name="{}"\r\n\r\n{}\r\n'
        parts = [head.format(boundary, name, value).encode() for name, value in fields.items()]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        answer = self.send(
            "POST",
            "/documents",
            201,
            body=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        return answer.json()


def totp(uri: str, moment: float | None = None) -> str:
    """The current code of an authenticator set up from ``uri`` (RFC 6238)."""
    query = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    secret = query["secret"][0]
    digits = int(query.get("digits", ["6"])[0])
    period = int(query.get("period", ["30"])[0])
    algorithm = query.get("algorithm", ["SHA1"])[0].lower()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    counter = int((moment or time.time()) // period)
    digest = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, algorithm)).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


class Story:
    def __init__(self, base: str, read_mail: Callable[[str], list[str]]):
        self.base = base.rstrip("/") + "/api/v1"
        self.read_mail = read_mail
        self.people: dict[str, Person] = {}

    def link_in_mail(self, address: str, pattern: str) -> str:
        """The token of the newest link matching ``pattern`` in the person's mailbox."""
        for text in reversed(self.read_mail(address)):
            found = re.search(pattern, text)
            if found:
                return found.group(1)
        raise Failed(f"no link {pattern} in the mail of {address}")

    # --- people ----------------------------------------------------------------------------

    def token_for(self, person: Person, password: str = PASSWORD, authenticator: str = "") -> str:
        credentials = {"email": person.email, "password": password, "name": "story"}
        if authenticator:
            credentials["code"] = totp(authenticator)
        answer = person("POST", "/tokens", 201, **credentials)
        person.token = answer["token"]
        person.id = person("GET", "/me")["id"]
        return person.token

    def second_factor(self, person: Person, password: str = PASSWORD) -> str:
        """Sets up an authenticator for a person in a two-factor role; returns its URI."""
        refused = person.send(
            "POST", "/tokens", 401, json_body={"email": person.email, "password": password}
        ).json()
        assert "two-factor" in refused["message"], refused
        setup = person("POST", "/tokens/two-factor", 201, email=person.email, password=password)
        return setup["otpauth_uri"]

    def sign_up(self, key: str, email: str, name: str, locale: str = "en") -> Person:
        person = Person(self.base, email)
        person(
            "POST",
            "/registrations",
            202,
            email=email,
            password=PASSWORD,
            full_name=name,
            locale=locale,
        )
        link = self.link_in_mail(email, r"/confirm/(\S+)")
        person("POST", "/registrations/confirmation", 200, token=link)
        self.people[key] = person
        return person

    def staff(self, admin: Person, key: str, email: str, name: str, role: str) -> Person:
        person = self.sign_up(key, email, name)
        [found] = admin("GET", f"/users?q={urllib.parse.quote(email)}")["items"]
        granted = admin("POST", f"/users/{found['id']}/roles", role=role)
        assert role in granted["roles"], granted
        return person

    # --- the story --------------------------------------------------------------------------

    def run(self, admin_email: str, admin_password: str, pdf: bytes) -> dict[str, Any]:
        now = datetime.now(UTC)
        admin = Person(self.base, admin_email)
        self.token_for(admin, admin_password, self.second_factor(admin, admin_password))

        # 1. Staff sign up; the admin gives each their role; two-factor roles set up an
        # authenticator before their first token.
        officer = self.staff(
            admin, "officer", "mariama@programme.example.org", "Mariama Sow", "programme_officer"
        )
        self.token_for(officer)
        finance = []
        for key, email, name in (
            ("finance_a", "ana@programme.example.org", "Ana Lopes"),
            ("finance_b", "bruno@programme.example.org", "Bruno Keller"),
        ):
            person = self.staff(admin, key, email, name, "finance_officer")
            self.token_for(person, authenticator=self.second_factor(person))
            finance.append(person)
        evaluators = []
        for key, email, name in (
            ("fatou", "fatou@reviewers.example.org", "Fatou Diop"),
            ("jonas", "jonas@reviewers.example.org", "Jonas Weber"),
            ("karim", "karim@reviewers.example.org", "Karim Benali"),
        ):
            person = self.staff(admin, key, email, name, "evaluator")
            self.token_for(person)
            person("PATCH", "/me", languages=["en", "fr"], timezone="Europe/Paris")
            evaluators.append(person)
        fatou, jonas, karim = evaluators

        # 2. Awa signs up, registers the Lyon association and invites Moussa, who joins.
        awa = self.sign_up("awa", "awa.ndiaye@asl.example.org", "Awa Ndiaye", "fr")
        self.token_for(awa)
        association = awa(
            "POST",
            "/associations",
            201,
            name="Association des Sénégalais de Lyon pour le Développement",
            registration_number="W691234567",
            registration_country="FR",
            residence_country="FR",
            countries_of_work=["SN"],
            founded_on="2015-06-01",
            contact_name="Awa Ndiaye",
            contact_email="contact@asl.example.org",
            description="Training and jobs for young people in Thiès.",
            working_languages=["fr", "wo"],
        )
        awa(
            "POST",
            f"/associations/{association['id']}/invitations",
            201,
            email="moussa.fall@asl.example.org",
        )
        moussa = self.sign_up("moussa", "moussa.fall@asl.example.org", "Moussa Fall", "fr")
        self.token_for(moussa)
        invitation = self.link_in_mail(moussa.email, r"/invitations/(\S+)")
        moussa("POST", f"/invitations/{invitation}/acceptance")
        members = awa("GET", f"/associations/{association['id']}/members")["items"]
        assert len(members) == 2, members

        # 3. The officer creates the Senegal call and publishes it.
        local = lambda moment: moment.strftime("%Y-%m-%dT%H:%M")  # noqa: E731
        call = officer(
            "POST",
            "/calls",
            201,
            code="SN-EMP-2027",
            language="en",
            title={
                "en": "Diaspora for Youth Employment — Senegal 2027",
                "fr": "Emploi des jeunes — Sénégal 2027",
            },
            description={"en": "Jobs and training for young people in Senegal."},
            sector="employment",
            countries=["SN"],
            sdg_targets=["8.6", "4.4"],
            currency="USD",
            envelope="240000",
            min_grant="10000",
            max_grant="40000",
            min_cofinancing_share="15",
            timezone="Africa/Dakar",
            opens_at=local(now - timedelta(days=1)),
            closes_at=local(now + timedelta(days=30)),
            criteria=[
                {"name": "Relevance", "weight": "30"},
                {"name": "Feasibility", "weight": "25"},
                {"name": "Impact and sustainability", "weight": "25"},
                {"name": "Co-financing and partnerships", "weight": "10"},
                {"name": "Organisational capacity", "weight": "10"},
            ],
            document_types=[{"name": "Detailed budget", "allowed_kinds": ["pdf"]}],
            indicators=[
                {"name": "Young people trained", "by_sex": True},
                {"name": "Jobs created", "by_sex": True},
            ],
            tranches=[
                {"percentage": "40", "after_report": ""},
                {"percentage": "40", "after_report": "interim"},
                {"percentage": "20", "after_report": "final"},
            ],
            reports=[{"kind": "interim", "months": 6}, {"kind": "final", "months": 12}],
        )
        call = officer.fire("calls", call["id"], "publish")
        assert call["state"] == "open", call

        # 4. Awa drafts the application (eight budget lines), Moussa uploads the budget,
        # Awa submits.
        application = awa(
            "POST", "/applications", 201, call_id=call["id"], association_id=association["id"]
        )
        lines = [
            {
                "category": "equipment",
                "description": f"Sewing machine {i}",
                "quantity": "1",
                "unit_cost": "4950",
            }
            for i in range(1, 9)
        ]
        application = awa(
            "PATCH",
            f"/applications/{application['id']}",
            version=application["version"],
            title="Training young tailors in Thiès",
            summary="A workshop that trains and employs 40 young people.",
            objectives="Train 40, employ 25.",
            country="SN",
            locality="Thiès",
            start_date=(now + timedelta(days=60)).date().isoformat(),
            duration_months=12,
            beneficiaries_count=40,
            beneficiaries_women=22,
            beneficiaries_men=18,
            sdg_targets=["8.6", "4.4"],
            amount_requested="32000",
            budget_lines=lines,
            cofinancing=[{"source": "association_cash", "amount": "7600"}],
            partners=[{"name": "Chambre de métiers de Thiès", "country": "SN", "role": "Trains"}],
            team=[{"name": "Awa Ndiaye", "role": "Coordinator"}],
        )
        assert application["budget_total"] == "39600.00", application
        [document_type] = call["document_types"]
        moussa.upload(
            {
                "owner": "application",
                "owner_id": str(application["id"]),
                "document_type_id": str(document_type["id"]),
            },
            "budget.pdf",
            pdf,
        )
        listed = awa("GET", f"/applications/{application['id']}/documents")["items"]
        assert [d["filename"] for d in listed] == ["budget.pdf"], listed
        application = awa.fire("applications", application["id"], "submit")
        assert application["state"] == "submitted" and application["reference"], application

        # 5. Screening; evaluators found in the directory and assigned; Jonas declares a
        # conflict and is replaced by Karim; the two read, score and submit.
        officer.fire("applications", application["id"], "mark_eligible")
        directory = {e["email"]: e for e in officer("GET", "/evaluators?per_page=100")["items"]}
        assert {"en", "fr"} <= set(directory[fatou.email]["languages"])
        reviews = {
            person.email: officer(
                "POST",
                "/reviews",
                201,
                application_id=application["id"],
                evaluator_id=directory[person.email]["id"],
            )
            for person in (fatou, jonas)
        }
        officer.fire("applications", application["id"], "start_review")
        jonas.fire(
            "reviews", reviews[jonas.email]["id"], "declare_conflict", comment="I sit on its board."
        )
        reviews[karim.email] = officer(
            "POST",
            "/reviews",
            201,
            application_id=application["id"],
            evaluator_id=directory[karim.email]["id"],
        )
        for person, score in ((fatou, 4), (karim, 3)):
            review = person("POST", f"/reviews/{reviews[person.email]['id']}/no-conflict")
            read = person("GET", f"/reviews/{review['id']}/application")
            assert read["title"] == "Training young tailors in Thiès", read
            person(
                "PUT",
                f"/reviews/{review['id']}/scores",
                version=review["version"],
                scores=[
                    {"criterion_id": c["id"], "score": score, "comment": "Solid."}
                    for c in read["criteria"]
                ],
                recommendation="fund",
            )
            person.fire("reviews", review["id"], "submit")
        assert officer("GET", f"/applications/{application['id']}")["state"] == "reviewed"

        # 6. The committee's ranking and decision; the letter read; the award accepted.
        ranking = officer("GET", f"/calls/{call['id']}/ranking")
        assert ranking["items"][0]["application_id"] == application["id"], ranking
        decision = officer(
            "POST",
            f"/calls/{call['id']}/decisions",
            201,
            meeting_date=now.date().isoformat(),
            present="Programme office, three evaluators",
            outcomes=[{"application_id": application["id"], "kind": "award", "amount": "32000"}],
        )
        [award_id] = decision["award_ids"]
        letter = awa.send("GET", f"/awards/{award_id}/letter.pdf")
        assert letter.body.startswith(b"%PDF"), letter.headers
        award = awa.fire(
            "awards",
            award_id,
            "accept",
            letter_read=True,
            signatory_name="Awa Ndiaye",
            signatory_role="Présidente",
            account_holder="Association des Sénégalais de Lyon pour le Développement",
            iban="FR14 2004 1010 0505 0001 3M02 606",
            account_number="",
            bank_name="La Banque Postale",
            bic="PSSTFRPPLYO",
        )
        assert award["state"] == "active", award

        # 7. Tranche 1: requested by the officer, approved by Ana and Bruno, in Bruno's
        # payment run and its file, paid.
        ana, bruno = finance
        tranche = award["tranches"][0]["id"]
        officer.fire("tranches", tranche, "request")
        ana.fire("tranches", tranche, "approve")
        bruno.fire("tranches", tranche, "approve")
        run = bruno("GET", "/finance/payment-run")
        assert [t["tranche_id"] for t in run["items"]] == [tranche], run
        payment_file = bruno.send("GET", f"/exports/payment-run?tranche={tranche}&format=csv")
        assert b"FR1420041010050500013M02606" in payment_file.body.replace(b" ", b""), (
            payment_file.body
        )
        paid = bruno.fire(
            "tranches",
            tranche,
            "pay",
            payment_date=now.date().isoformat(),
            bank_reference="SN-2027-0611-001",
            amount="12800.00",
        )
        assert paid["state"] == "paid", paid

        # 8. The interim report: written, submitted, changes asked once, accepted.
        interim = award["reports"][0]["id"]
        report = awa("GET", f"/reports/{interim}")
        awa(
            "PATCH",
            f"/reports/{interim}",
            version=report["version"],
            activities="Trained 20 young people.",
            results="12 are employed.",
            indicator_values={"0": {"women": "11", "men": "9"}, "1": {"women": "7", "men": "5"}},
        )
        awa.fire("reports", interim, "submit")
        officer.fire("reports", interim, "request_changes", comment="Add the photos.")
        awa.fire("reports", interim, "submit")
        assert officer.fire("reports", interim, "accept")["state"] == "accepted"

        # 9. The figures agree: the award's ledger, finance totals, the dashboards.
        assert officer("GET", f"/awards/{award_id}")["paid_total"] == "12800.00"
        totals = officer("GET", "/finance/totals?by=call")["items"]
        assert any(row["paid"] == "12800.00" for row in totals), totals
        officer("GET", "/dashboards/programme")
        bruno("GET", "/dashboards/finance")
        awa("GET", f"/associations/{association['id']}/dashboard")

        histories = {
            name: [
                h["transition"]
                for h in officer("GET", f"/{name}s/{record}/history?per_page=100")["items"]
            ]
            for name, record in (
                ("call", call["id"]),
                ("application", application["id"]),
                ("tranche", tranche),
                ("report", interim),
                ("award", award_id),
            )
        }
        return {"histories": histories, "award_id": award_id, "people": self.people}
