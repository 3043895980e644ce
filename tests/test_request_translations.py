"""The page's translations are found once per request, yet a block written in another
language (an email to its recipient) still reads in that language, and the page goes on
in its own afterwards."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale

from grants.web.translations import locale_name

TEMPLATE = "{{ _('Log in') }}|{{ ngettext('%(num)d tranche', '%(num)d tranches', 2) }}"


def test_a_forced_locale_reads_in_its_own_language_and_the_page_returns_to_its_own(app):
    # Each request has an application context of its own, as under a server.
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "fr"}):
        page = render_template_string(TEMPLATE)
        with force_locale("ar"):
            email = render_template_string(TEMPLATE)
            inside = locale_name()
        after = render_template_string(TEMPLATE)
        outside = locale_name()
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "es"}):
        other_request = render_template_string(TEMPLATE)
    assert page.startswith("Se connecter|") and page.endswith("|2 tranches")
    assert email.startswith("تسجيل الدخول|"), email
    assert (inside, outside) == ("ar", "fr")
    assert after == page
    assert other_request.startswith("Iniciar sesión|"), other_request
