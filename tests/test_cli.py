"""The command line: creating users, printing tokens, seeding the demo twice."""

from __future__ import annotations

from sqlalchemy import func, select

from grants.extensions import db
from grants.models.accounts import User
from grants.models.associations import Association
from grants.models.awards import Award, LedgerEntry
from grants.models.calls import Call
from grants.models.documents import Document
from grants.services.accounts import user_for_token
from grants.services.associations import verification_documents
from grants.services.demo import LYON
from grants.services.workflow import context
from tests.fixtures.people import make_association


def test_users_create_reads_the_password_from_stdin(app):
    association = make_association(name="Rabita Test")
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "nadia@example.org",
            "--role",
            "applicant",
            "--role",
            "evaluator",
            "--association",
            "Rabita Test",
            "--password-stdin",
        ],
        input="a-long-and-unusual-passphrase-2027\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "nadia@example.org"))
    assert user.role_names == {"applicant", "evaluator"}
    assert [m.association_id for m in user.memberships] == [association.id]
    assert "a-long-and-unusual" not in result.output


def test_users_create_refuses_bad_input_and_writes_nothing(app):
    runner = app.test_cli_runner()
    before = db.session.scalar(select(func.count(User.id)))
    weak = runner.invoke(
        args=["users", "create", "weak@example.org", "--role", "applicant", "--password-stdin"],
        input="password\n",
    )
    assert weak.exit_code == 1 and "too weak" in weak.output
    bad_role = runner.invoke(
        args=["users", "create", "x@example.org", "--role", "king", "--password-stdin"],
        input="a-long-and-unusual-pass-1\n",
    )
    assert bad_role.exit_code == 2 and "king" in bad_role.output
    no_association = runner.invoke(
        args=[
            "users",
            "create",
            "y@example.org",
            "--role",
            "applicant",
            "--association",
            "Nobody",
            "--password-stdin",
        ],
        input="a-long-and-unusual-pass-1\n",
    )
    assert (
        no_association.exit_code == 1 and "no association named 'Nobody'" in no_association.output
    )
    assert db.session.scalar(select(func.count(User.id))) == before


def test_users_token_prints_a_working_token_last(app):
    runner = app.test_cli_runner()
    runner.invoke(
        args=[
            "users",
            "create",
            "api@example.org",
            "--role",
            "programme_officer",
            "--password-stdin",
        ],
        input="a-long-and-unusual-pass-1\n",
    )
    result = runner.invoke(args=["users", "token", "api@example.org"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert user_for_token(token).email == "api@example.org"
    assert user_for_token(token + "x") is None
    missing = runner.invoke(args=["users", "token", "nobody@example.org"])
    assert missing.exit_code == 1 and "no user" in missing.output


def test_demo_seed_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    models = (User, Association, Call, Award, LedgerEntry)
    counts = [db.session.scalar(select(func.count(model.id))) for model in models]
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    assert [db.session.scalar(select(func.count(model.id))) for model in models] == counts
    # The four associations, the two of the duplicate pair and the ten of the screening
    # day; this year's three calls, last year's, whose Lyon grant runs: accepted (one
    # commitment on the ledger), its first tranche requested, and the second round
    # being screened.
    assert counts[1:] == [16, 5, 1, 1]
    award = db.session.scalars(select(Award)).one()
    assert award.state == "active" and award.tranches[0].state == "requested"
    for role in ("admin", "programme_officer", "finance_officer", "evaluator", "applicant"):
        assert role in first.output
    lyon = db.session.scalar(select(Association).where(Association.name == LYON))
    assert len(lyon.memberships) == 3
    # The verified associations have what verification requires, once.
    for association in db.session.scalars(select(Association)):
        papers = verification_documents(association)
        if association.state == "verified":
            assert set(papers) == {"registration_certificate", "statutes"}
            assert association.lifecycle.guard_problems("verify", association, context(None)) == []
    # Their papers, the agreement the Lyon association sent in answer to a request for
    # information, and the three documents of each of the ten applications screened.
    assert db.session.scalar(select(func.count(Document.id))) == 4 + 1 + 10 * 2 + 10 * 3
