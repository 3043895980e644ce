"""The pages around signing in, in the product's own words and look: two-step sign-in
asks for the code once, with one button and a way out for a lost phone; the reset and
sign-up pages; all in the four languages."""

from __future__ import annotations

import re

import pytest

from grants.extensions import db
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


# --- the pages of "Your account" --------------------------------------------------------------

SIGNED_IN_PAGES = {
    "/change": {
        "en": ("Change your password", "Change the password"),
        "fr": ("Modifier votre mot de passe", "Modifier le mot de passe"),
        "es": ("Cambiar su contraseña", "Cambiar la contraseña"),
        "ar": ("تغيير كلمة المرور", "تغيير كلمة المرور"),
    },
    "/mf-recovery-codes": {
        "en": ("A recovery code lets you sign in", "Show my codes"),
        "fr": ("Un code de secours vous permet", "Afficher mes codes"),
        "es": ("Un código de recuperación le permite", "Mostrar mis códigos"),
        "ar": ("يتيح لكم رمز الاسترداد", "عرض رموزي"),
    },
    "/verify": {
        "en": ("Confirm it is you", "Confirm"),
        "fr": ("Confirmez qu’il s’agit bien de vous", "Confirmer"),
        "es": ("Confirme que es usted", "Confirmar"),
        "ar": ("أكّدوا هويتكم", "تأكيد"),
    },
}


@pytest.mark.parametrize("path", sorted(SIGNED_IN_PAGES))
def test_the_account_security_pages_are_ours_in_each_language(login, path):
    """No stock page of the security library behind "Your account": each is a page card
    in the reader's language, right to left in Arabic, with one way forward first."""
    for locale, (words, button) in SIGNED_IN_PAGES[path].items():
        user = make_user("finance_officer", email=f"{path[1:]}-{locale}@example.org")
        user.locale = locale
        page = login(user).get(path)
        html, text = page.get_data(as_text=True), text_of(page)
        assert page.status_code == 200, (path, locale)
        assert 'class="page-card"' in html and words in text, (path, locale)
        assert f'<html lang="{locale}" dir="{"rtl" if locale == "ar" else "ltr"}">' in html
        assert _buttons(html)[0] == button, (path, locale)
        for stock in ("fs-div", "fs-gap", "Submit", "Reauthenticate", "Change Password"):
            assert stock not in html, (path, locale, stock)


def test_a_wrong_current_password_is_said_beside_it_and_changes_nothing(login):
    user = make_user("applicant", email="new-secret@example.org")
    before = user.password
    client = login(user)
    new = "plum-orchard-lantern-river-9"
    refused = client.post(
        "/change",
        data={"password": "not-my-password", "new_password": new, "new_password_confirm": new},
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert 'id="password-error"' in html and 'aria-invalid="true"' in html
    assert 'class="error-summary"' in html and 'href="#password"' in html
    db.session.refresh(user)
    assert user.password == before
    changed = client.post(
        "/change",
        data={"password": PASSWORD, "new_password": new, "new_password_confirm": new},
    )
    assert changed.status_code == 302
    db.session.refresh(user)
    assert user.password != before


def test_recovery_codes_are_shown_on_request_and_made_anew(login):
    user = make_user("finance_officer", email="codes@example.org")
    client = login(user)
    none = client.get("/mf-recovery-codes?show_codes=1")
    assert "You have no recovery codes yet" in text_of(none)
    made = client.post("/mf-recovery-codes", data={"generate_new_codes": "1"})
    html = made.get_data(as_text=True)
    codes = re.findall(r'<code class="token">([^<]+)</code>', html)
    assert made.status_code == 200 and len(codes) >= 5
    assert '<ul class="recovery-codes" dir="ltr">' in html
    assert "keep them somewhere safe" in text_of(made)
    shown = client.get("/mf-recovery-codes?show_codes=1").get_data(as_text=True)
    assert re.findall(r'<code class="token">([^<]+)</code>', shown) == codes
    hidden = client.get("/mf-recovery-codes").get_data(as_text=True)
    assert not re.findall(r'<code class="token">', hidden)
    again = client.post("/mf-recovery-codes", data={"generate_new_codes": "1"})
    fresh = re.findall(r'<code class="token">([^<]+)</code>', again.get_data(as_text=True))
    assert fresh and not set(fresh) & set(codes)


def test_confirming_it_is_you_refuses_a_wrong_password_beside_the_field(login):
    client = login(make_user("applicant", email="again@example.org"))
    refused = client.post("/verify", data={"password": "not-my-password"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert 'id="password-error"' in html and 'autocomplete="current-password"' in html
    assert client.post("/verify", data={"password": PASSWORD}).status_code == 302
