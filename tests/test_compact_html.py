"""Pages carry no template indentation (bytes a slow phone waits for), while what Jinja
reads, ``<pre>``, ``<textarea>`` and every value put into a page keep their whitespace."""

from __future__ import annotations

import re

from grants.extensions import db
from grants.web.compact import compact
from tests.applications.test_form_parts import draft, member  # noqa: F401


def test_indentation_goes_and_line_breaks_stay():
    source = (
        "<div>\n    <p>{{ value }}</p>\n    {% if shown %}\n"
        "      <textarea>\n  typed   text\n</textarea>\n    {% endif %}\n"
        "    <pre>  a\n    b</pre>\n    {{ _('two\n       lines') }}\n  </div>\n"
    )
    compacted = compact(source)
    assert compacted == (
        "<div>\n<p>{{ value }}</p>\n{% if shown %}\n"
        "<textarea>\n  typed   text\n</textarea>\n{% endif %}\n"
        "<pre>  a\n    b</pre>\n{{ _('two\n       lines') }}\n</div>\n"
    )
    assert compacted.count("\n") == source.count("\n")  # errors name the right line


def test_a_page_has_no_indentation_and_an_indented_answer_keeps_its_own(member, draft):  # noqa: F811
    summary = "Deux volets :\n    - la formation\n    - l'installation"
    draft.summary = summary
    db.session.commit()
    page = member.get(f"/applications/{draft.id}?part=project").get_data(as_text=True)
    outside = re.sub(r"<(textarea|pre)\b.*?</\1>", "", page, flags=re.DOTALL)
    assert not re.search(r"\n[ \t]+<", outside)
    assert "- la formation\n    - l&#39;installation</textarea>" in page
