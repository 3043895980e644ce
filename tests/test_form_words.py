"""The form script's sentences come as a script per language, kept by the browser for a
year under an address that changes with their text; the form's pages no longer carry them."""

from __future__ import annotations

import json

from tests.applications.test_form_parts import draft, member  # noqa: F401


def _words(response) -> dict:
    text = response.get_data(as_text=True)
    assert text.startswith("window.formWords=") and text.endswith(";\n")
    return json.loads(text[len("window.formWords=") : -2])


def test_the_sentences_come_in_each_language_and_are_kept_for_a_year(client):
    french = client.get("/form-words.js?lang=fr")
    assert french.status_code == 200 and french.mimetype == "text/javascript"
    words = _words(french)
    assert words["offline"].startswith("Pas de connexion")
    assert words["signIn"] and words["filter"] and words["elsewhere"]
    assert _words(client.get("/form-words.js?lang=ar"))["openPart"] != "Open that part"
    assert "no-cache" in french.headers["Cache-Control"]  # an address without its version


def test_an_unknown_language_is_not_found(client):
    response = client.get("/form-words.js?lang=xx")
    assert response.status_code == 404


def test_the_form_links_the_versioned_sentences_and_carries_none(member, draft):  # noqa: F811
    page = member.get(f"/applications/{draft.id}?part=goals").get_data(as_text=True)
    start = page.index('src="/form-words.js?lang=en&amp;v=') + len('src="')
    address = page[start : page.index('"', start)].replace("&amp;", "&")
    assert page.index(address.replace("&", "&amp;")) < page.index("/static/form.js")
    assert "data-offline-message" not in page and "data-filter-label" not in page
    kept = member.get(address)
    assert kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert _words(kept)["offline"].startswith("No connection")
