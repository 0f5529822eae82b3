"""Griffe extension for the API reference: docstrings are plain text with formulas, not Markdown links.

`y[idx[i][j]][j] = src[i][j]` would read as a Markdown reference link (`[text][target]`) to `j`; outside code
spans such a `][` is escaped, so the formula shows as written and autorefs looks for no target.
"""
import re

import griffe

CODE = re.compile(r"(`+)(.+?)\1", re.S)


def _escape(text):
    parts = CODE.split(text)
    out, i = [], 0
    while i < len(parts):
        out.append(parts[i].replace("][", "]\\["))
        if i + 2 < len(parts):  # a code span: its fence and body, kept as they are
            out.append(parts[i + 1] + parts[i + 2] + parts[i + 1])
        i += 3
    return "".join(out)


class PlainTextDocstrings(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = _escape(obj.docstring.value)
