"""A bounded fuzzing run over the web forms: every form of the main pages of each role
is read from the page as a browser would, then sent back with some fields replaced by
hostile values (numbers in every grammar, overflows, NaN, control and bidirectional
characters, formulas, oversized text, impossible dates). No answer may be a server
error; a refusal must be a page that says what is wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from grants.extensions import db
from grants.services import disbursements
from tests.api.test_contract import BOUNDED
from tests.fixtures.programme import (
    NOW,
    make_application,
    make_award,
    make_call,
    make_report,
    make_review,
)

EXAMPLES = 12

HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "-0.01",
    "1e30",
    "1e-30",
    "NaN",
    "Infinity",
    "-Infinity",
    "9" * 40,
    "2147483648",
    "1.250,50",
    "1,250.50",
    "1 250,50",
    "١٢٥٠",
    "𝟙𝟚",
    "\u202eevil",
    "\x0b\x07",
    '=HYPERLINK("http://evil.example")',
    "@SUM(1+1)",
    "<script>alert(1)</script>",
    "'; DROP TABLE applications; --",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "a" * 6000,
    "//evil.example",
]


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)


class _Forms(HTMLParser):
    """The POST forms of a page with the values a browser would send untouched."""

    def __init__(self, path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.forms: list[Form] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            post = (a.get("method") or "get").lower() == "post"
            # A form without an action posts to its page; GET forms are left out below.
            self.forms.append(Form((a.get("action") or self.path) if post else ""))
            return
        if not self.forms or not a.get("name"):
            return
        current = self.forms[-1]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            current.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select, self._select_value = a["name"], None
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in a:
                self._select_value = a.get("value") or ""
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None and self.forms:
            self.forms[-1].fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self.forms:
            self.forms[-1].fields.append((self._textarea, "".join(self._text)))
            self._textarea = None


def post_forms(path: str, page: str) -> list[Form]:
    parser = _Forms(path)
    parser.feed(page)
    return [f for f in parser.forms if f.action]


def _fuzz(client, form: Form) -> None:
    names = [name for name, _ in form.fields if name != "csrf_token"]
    if not names:
        return

    @settings(max_examples=EXAMPLES, **BOUNDED)
    @given(
        changes=st.dictionaries(
            st.sampled_from(names),
            st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40)),
            min_size=1,
            max_size=4,
        )
    )
    def send(changes):
        values = [(n, changes.get(n, v)) for n, v in form.fields]
        response = client.post(form.action, data=MultiDict(values), csrf=False)
        db.session.expire_all()
        assert response.status_code < 500, (form.action, changes)
        if response.status_code >= 400:
            assert response.mimetype in ("text/html", "application/json"), form.action
            assert response.get_data(as_text=True).strip(), form.action

    send()


def _pages(world) -> dict[str, list[str]]:
    call = make_call(world)
    draft_call = make_call(world, state="draft")
    draft = make_application(world, call)
    submitted = make_application(world, call, state="submitted")
    review = make_review(world, make_application(world, call, state="eligible"), scored=False)
    award = make_award(world, state="active")
    disbursements.act(world.officer, award.tranches[0].id, "request", now=NOW)
    offered = make_award(world)
    report = make_report(world)
    db.session.flush()
    association = draft.association_id
    return {
        "applicant": [
            f"/applications/{draft.id}",
            f"/associations/{association}/edit",
            "/account/profile",
            f"/grants/{offered.id}",
            f"/grants/{report.award_id}/reports/{report.id}",
        ],
        "officer": [
            "/office/calls/new",
            f"/office/calls/{draft_call.code}/edit",
            f"/applications/{submitted.id}",
            f"/grants/{award.id}",
        ],
        "finance": [f"/grants/{award.id}", "/finance/"],
        "evaluator": [f"/reviews/{review.id}"],
    }


@pytest.mark.parametrize("role", ["applicant", "officer", "finance", "evaluator"])
def test_hostile_values_in_every_form_never_answer_a_server_error(world, login, role):
    pages = _pages(world)[role]
    client = login(getattr(world, role))
    fuzzed = 0
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        for form in post_forms(path, response.get_data(as_text=True)):
            if form.action.endswith(("/logout", "/language")):
                continue
            _fuzz(client, form)
            fuzzed += 1
    assert fuzzed >= len(pages), f"every page had a form to fuzz ({fuzzed})"
