"""Griffe extension for the API reference: docstrings are plain text with formulas, not Markdown links.

`y[idx[i][j]][j] = src[i][j]` would read as a Markdown reference link (`[text][target]`) to `j`; outside code
spans such a `][` is escaped, so the formula shows as written and autorefs looks for no target. So are `*` and `_`:
shapes such as `(*, m, n) @ (*, n, p)`, `a ** b` and `__structure__` would turn into italics and bold. Indented code
blocks are shown verbatim by Markdown, so they are left as they are.
"""
import re

import griffe

CODE = re.compile(r"(`+)(.+?)\1", re.S)
BLANK_LINES = re.compile(r"(\n[ \t]*\n)")


def _escape_inline(text):
    parts = CODE.split(text)
    out, i = [], 0
    while i < len(parts):
        out.append(parts[i].replace("][", "]\\[").replace("*", "\\*").replace("_", "\\_"))
        if i + 2 < len(parts):  # a code span: its fence and body, kept as they are
            out.append(parts[i + 1] + parts[i + 2] + parts[i + 1])
        i += 3
    return "".join(out)


def _escape(text):
    blocks = BLANK_LINES.split(text)  # paragraphs, with the blank lines between them kept
    return "".join(b if b.startswith("\n") or all(line.startswith("    ") for line in b.split("\n"))
                   else _escape_inline(b) for b in blocks)


class PlainTextDocstrings(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = _escape(obj.docstring.value)
