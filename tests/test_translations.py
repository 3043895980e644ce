"""The French, Spanish and Arabic catalogs are complete: every string of the source is
translated, nothing is fuzzy, and no translation drops or changes a placeholder."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "grants" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")


def _key(message) -> tuple[str | None, str]:
    return (message.context, message.id if isinstance(message.id, str) else message.id[0])


def _catalog(language: str):
    with (CATALOGS / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=language)


@pytest.mark.parametrize("language", ["fr", "es", "ar"])
def test_every_string_is_translated_with_its_placeholders(language):
    catalog = _catalog(language)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != expected:
                problems.append(f"placeholders differ: {ids[0]!r} → {string!r}")
        for error in message.check(catalog):
            problems.append(f"{ids[0]!r}: {error}")
    assert not problems, "\n".join(problems)


def test_the_catalogs_hold_every_string_of_the_source(tmp_path):
    """Extract again: a string added to the code without a translation fails here."""
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "lazy_pgettext:1c,2",
            "--ignore-dirs=.venv tests bench migrations build",
            "-o",
            str(template),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as source:
        wanted = {_key(m) for m in read_po(source) if m.id}
    for language in ("fr", "es", "ar"):
        have = {_key(m) for m in _catalog(language) if m.id}
        missing = sorted(wanted - have)
        assert not missing, (
            f"{language}: {len(missing)} strings not in the catalog (make translations-update, "
            f"then translate): {missing[:10]}"
        )


def test_the_application_form_names_the_goals_in_the_readers_language(world, login):
    """The SDG targets' goal names are reference data, translated like the interface."""
    from tests.fixtures.programme import make_application, make_call

    application = make_application(world, make_call(world))
    world.applicant.locale = "ar"
    page = (
        login(world.applicant)
        .get(f"/applications/{application.id}?part=goals")
        .get_data(as_text=True)
    )
    assert "الهدف 8: العمل اللائق ونمو الاقتصاد" in page
    world.applicant.locale = "es"
    page = (
        login(world.applicant)
        .get(f"/applications/{application.id}?part=goals")
        .get_data(as_text=True)
    )
    assert "Objetivo 4: Educación de calidad" in page


def test_what_the_system_did_is_said_in_the_readers_language(world, login):
    """Timed transitions are stored as done by "system"; people read it in their words."""
    from grants.extensions import db
    from grants.models import HistoryEntry

    db.session.add(
        HistoryEntry(
            entity_type="association",
            entity_id=world.association.id,
            transition="verify",
            from_state="pending",
            to_state="verified",
            actor_label="system",
        )
    )
    world.applicant.locale = "fr"
    page = login(world.applicant).get(f"/associations/{world.association.id}")
    assert "par le système" in page.get_data(as_text=True)
