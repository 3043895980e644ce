"""An application as the API writes it: ``representation.application`` writes exactly
what ``ApplicationSchema`` declares, as marshmallow's own dump would, for one record and
for a page."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from marshmallow import Schema

from grants.api import representation
from grants.api.resources import with_options
from grants.api.schemas import ApplicationSchema, OptionSchema, page_schema
from grants.extensions import db
from grants.models import Answer, Partner, Question, QuestionSection, QuestionSet, TeamMember
from grants.models.applications import CoFinancing
from grants.services.workflow import allowed_transitions
from tests.fixtures.programme import NOW, make_application, make_call


def _filled(world):
    """An application with every part the representation shows, and odd amounts."""
    call = make_call(world)
    application = make_application(world, call, state="submitted")
    question_set = QuestionSet(call_id=call.id, number=1)
    section = QuestionSection(position=1, title={"en": "Place"})
    question = Question(position=1, key="district", kind="short_text", label={"en": "District"})
    section.questions.append(question)
    question_set.sections.append(section)
    db.session.add(question_set)
    db.session.flush()
    application.question_set_id = question_set.id
    application.answers = [Answer(question_id=question.id, value="Thiès Nord")]
    application.partners = [Partner(position=1, name="GIE Thiès", country="SN", role="Trains")]
    application.team = [TeamMember(position=1, name="Awa Ndiaye", role="Coordinator")]
    application.cofinancing.append(
        CoFinancing(source="in_kind", description="Members", amount=Decimal("1234.5"))
    )
    application.amount_requested = Decimal("31999.9")
    application.sdg_targets = ["8.6", "4.4"]
    application.eligibility_answers = {"registered": "yes"}
    application.beneficiaries_women = 22
    application.start_date = date(2027, 6, 1)
    application.submitted_at = NOW - timedelta(days=2)
    db.session.flush()
    return application


def test_the_representation_is_what_the_schema_declares(world, client):
    application = _filled(world)
    bare = make_application(world, make_call(world), complete=False)
    with client.application.test_request_context(headers={"Accept-Language": "fr"}):
        records = with_options([application, bare], world.officer, True)
        schema = ApplicationSchema()
        for record in records:
            written = schema.dump(record)
            declared = Schema.dump(schema, record)
            assert written == declared
            assert written["next_step"] == str(record.lifecycle.next_steps[record.state])
            assert list(written) == list(declared)
        assert written["allowed_transitions"] and written["answers"] == {}
        options = allowed_transitions(application, world.officer)
        assert any(option.reasons for option in options)
        for option in options:
            assert representation.option(option) == OptionSchema().dump(vars(option))
        page = {"items": records, "page": 1, "per_page": 25, "total": 2}
        page.update(total_estimated=False, next=None)
        assert page_schema(ApplicationSchema)().dump(page)["items"] == [
            Schema.dump(schema, record) for record in records
        ]
    shown = schema.dump(application)
    assert shown["answers"] == {"district": "Thiès Nord"}
    assert shown["amount_requested"] == "31999.90"
    assert shown["cofinancing"][-1]["amount"] == "1234.50"
    assert shown["partners"] == [{"name": "GIE Thiès", "country": "SN", "role": "Trains"}]
