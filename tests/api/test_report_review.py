"""Asking an association to change its report through the API, per section as the
review form does, or with one comment; bad sections named, nothing changed."""

from __future__ import annotations

from grants.extensions import db
from tests.api.test_api import assert_error, bearer
from tests.fixtures.programme import make_report


def _fire(client, person, report, **data):
    return client.post(
        f"/api/v1/reports/{report.id}/transitions",
        json={"name": "request_changes", **data},
        headers=bearer(person),
    )


def test_changes_asked_per_section(world, client):
    report = make_report(world, state="submitted")
    options = client.get(f"/api/v1/reports/{report.id}", headers=bearer(world.officer))
    [option] = [
        o for o in options.get_json()["allowed_transitions"] if o["name"] == "request_changes"
    ]
    assert option["accepts"] == ["review_comments"] and option["comment_required"]

    unknown = assert_error(
        _fire(client, world.officer, report, review_comments={"budget": "More detail."}),
        422,
        "invalid",
    )
    assert set(unknown["errors"]) == {"review_comments.budget"}
    empty = assert_error(
        _fire(client, world.officer, report, review_comments={"results": "  "}), 422, "invalid"
    )
    assert set(empty["errors"]) == {"review_comments"}
    assert_error(
        _fire(client, world.applicant, report, review_comments={"results": "x"}), 403, "forbidden"
    )
    db.session.expire_all()
    assert report.state == "submitted" and report.review_comments == {}

    asked = _fire(
        client, world.officer, report, review_comments={"indicators": "Give them by sex."}
    )
    assert asked.status_code == 200, asked.get_data(as_text=True)
    assert asked.get_json()["state"] == "changes_requested"
    assert asked.get_json()["review_comments"] == {"indicators": "Give them by sex."}
    history = client.get(f"/api/v1/reports/{report.id}/history", headers=bearer(world.officer))
    assert history.get_json()["items"][-1]["comment"] == "indicators: Give them by sex."


def test_one_comment_is_still_enough(world, client):
    report = make_report(world, state="submitted")
    asked = _fire(client, world.officer, report, comment="Add the photos.")
    assert asked.get_json()["state"] == "changes_requested"
    assert_error(
        _fire(client, world.officer, make_report(world, state="submitted")), 422, "invalid"
    )
