"""The pages' HTML without the indentation of their templates.

Templates are indented for their readers; the browser needs none of it. On a phone at
20 kbit/s the indentation of the application form's first part is 130 of its 2,640
compressed bytes (0.05 s), and more on the longer pages. It is dropped from the
templates' own text when they are compiled, so it costs nothing per request:

- every run of spaces and tabs that follows a line break (or precedes one) goes, the line
  breaks stay: whitespace between tags renders the same, and the line numbers of an
  error in a template stay true;
- what Jinja reads (``{{ }}``, ``{% %}``, ``{# #}``) is left as written, and so is the
  content of ``<pre>`` and ``<textarea>``, where whitespace is the text;
- values put into a page are never touched (an applicant's indented text stays so).

Only ``.html`` templates are compacted; the plain-text e-mails keep their layout.
"""

from __future__ import annotations

import re

from jinja2.ext import Extension

_KEPT_OR_INDENTATION = re.compile(
    r"(\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}|<(pre|textarea)\b.*?</\2\s*>)|([ \t]*\n[ \t\n\r]*)",
    re.DOTALL | re.IGNORECASE,
)


def _replace(match: re.Match) -> str:
    if match.group(1) is not None:
        return match.group(1)
    return "\n" * match.group(3).count("\n")


def compact(source: str) -> str:
    """``source`` with the indentation around its line breaks removed (see above)."""
    return _KEPT_OR_INDENTATION.sub(_replace, source)


class CompactHtml(Extension):
    """Compacts ``.html`` templates as they are compiled."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if name is None or not name.endswith(".html"):
            return source
        return compact(source)
