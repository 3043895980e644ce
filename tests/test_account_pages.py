"""The pages around signing in, in the product's own words and look: two-step sign-in
asks for the code once, with one button and a way out for a lost phone; the reset and
sign-up pages; all in the four languages."""

from __future__ import annotations

import re

import pytest

from tests.clients import text_of
from tests.fixtures.people import PASSWORD, make_user

WORDS = {
    "en": ("Enter the code from your phone", "Continue", "Use a recovery code"),
    "fr": ("Saisissez le code de votre téléphone", "Continuer", "Utiliser un code de secours"),
    "es": ("Introduzca el código de su teléfono", "Continuar", "Usar un código de recuperación"),
    "ar": ("أدخلوا الرمز الظاهر على هاتفكم", "متابعة", "استخدام رمز استرداد"),
}


def _buttons(html: str) -> list[str]:
    main = html.split('<main id="main"', 1)[-1]
    return re.findall(r'<button type="submit"[^>]*>([^<]*)</button>|type="submit"', main)


@pytest.mark.parametrize("locale", sorted(WORDS))
def test_two_step_sign_in_asks_once_with_one_button(client, locale):
    make_user("finance_officer", email=f"tf-{locale}@example.org", locale=locale)
    response = client.post(
        "/login", data={"email": f"tf-{locale}@example.org", "password": PASSWORD}
    )
    assert "/tf-validate" in response.location
    page = client.get("/tf-validate", headers={"Accept-Language": locale})
    html, text = page.get_data(as_text=True), text_of(page)
    heading, button, recovery = WORDS[locale]
    assert heading in text and recovery in text
    assert _buttons(html) == [button]
    assert "generated via" not in text and "Submit" not in text
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    assert 'href="/mf-recovery"' in html


def test_a_wrong_code_says_so_next_to_the_field_and_signs_nobody_in(client):
    make_user("finance_officer", email="wrong-code@example.org")
    client.post("/login", data={"email": "wrong-code@example.org", "password": PASSWORD})
    refused = client.post("/tf-validate", data={"code": "123"})
    assert refused.status_code == 200
    html = refused.get_data(as_text=True)
    assert 'id="code-error"' in html and 'aria-invalid="true"' in html
    assert client.get("/account/profile").status_code == 302  # still signed out


def test_the_recovery_code_page_has_one_button_and_a_way_back(client):
    make_user("finance_officer", email="lost-phone@example.org")
    client.post("/login", data={"email": "lost-phone@example.org", "password": PASSWORD})
    page = client.get("/mf-recovery")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and _buttons(html) == ["Continue"]
    assert "Use a recovery code" in text_of(page) and 'href="/tf-validate"' in html


@pytest.mark.parametrize(
    "path, words",
    [
        ("/login", {"en": "Welcome back", "fr": "Bon retour", "es": "Bienvenido", "ar": "مرحبًا"}),
        (
            "/reset",
            {
                "en": "Forgot your password?",
                "fr": "Mot de passe oublié",
                "es": "Indique la dirección",
                "ar": "أدخلوا البريد",
            },
        ),
        (
            "/register",
            {
                "en": "Sign up for your association",
                "fr": "Inscrivez-vous",
                "es": "Regístrese",
                "ar": "إنشاء حساب",
            },
        ),
    ],
)
def test_the_account_pages_speak_each_language_with_one_button(client, path, words):
    for locale, expected in words.items():
        page = client.get(path, headers={"Accept-Language": locale})
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and expected in text_of(page), (path, locale)
        assert 'class="page-card"' in html
        # One way forward: the page's own button (the login page also offers to resend a
        # confirmation only to someone who needs it).
        assert len(_buttons(html.split('class="page-card"', 1)[1])) == 1


def test_setting_up_two_step_sign_in_takes_two_clear_steps(client):
    officer = make_user("finance_officer", email="new-cash@example.org")
    officer.tf_primary_method = None
    officer.tf_totp_secret = None
    response = client.post("/login", data={"email": "new-cash@example.org", "password": PASSWORD})
    assert "/tf-setup" in response.location
    first = client.get("/tf-setup")
    assert "Set up two-step sign-in" in text_of(first)
    assert _buttons(first.get_data(as_text=True)) == ["Set up the app"]
    second = client.post("/tf-setup", data={"setup": "authenticator"})
    html = second.get_data(as_text=True)
    assert second.status_code == 200 and 'id="qrcode"' in html and 'dir="ltr"' in html
    assert _buttons(html) == ["Finish the set-up"]
    # A wrong code: said next to the field; no recovery code is offered (none exists
    # yet), only the way back to the set-up; and nobody is signed in.
    wrong = client.post("/tf-validate", data={"code": "000000"})
    html = wrong.get_data(as_text=True)
    assert 'id="code-error"' in html and 'href="/tf-setup"' in html
    assert 'href="/mf-recovery"' not in html
    assert client.get("/account/profile").status_code == 302
