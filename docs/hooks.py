"""mkdocs hook: links from docs/ to the rest of the repository (figures, README, benchmarks/RESULTS.md).

The pages link to repository files as `../experiments/figures/...`, which works where the Markdown is read in the
repository. For the site, each such file is copied to `repo/<path>` and the link rewritten to that copy; a link to
a file that does not exist is a warning, so `strict: true` fails the build on it as on any broken link.
"""
import logging
import os
import posixpath
import re

from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.repo_links")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r"(\]\()(\.\./[^)\s#]+)([^)]*\))")  # ](../path#anchor "title")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
PREFIX = "repo/"


class RepoFile(File):
    """A repository file outside docs/, copied as is (Markdown included: it is not rendered as a page)."""

    def is_documentation_page(self):
        return False

    def is_media_file(self):
        return True


def _targets(page_uri, markdown):
    """(link as written, repository path) for each `../` link of a page outside its code blocks."""
    text = FENCE.sub("", markdown)
    for m in LINK.finditer(text):
        rel = posixpath.normpath(posixpath.join("docs", posixpath.dirname(page_uri), m.group(2)))
        if not rel.startswith("docs/") and not rel.startswith(".."):
            yield m.group(2), rel


def on_files(files, config):
    wanted = set()
    for f in files.documentation_pages():
        with open(f.abs_src_path, encoding="utf-8") as fh:
            wanted.update(rel for _, rel in _targets(f.src_uri, fh.read()))
    for rel in sorted(wanted):
        path = os.path.join(ROOT, rel)
        if os.path.isfile(path):
            copy = RepoFile(PREFIX + rel, None, config["site_dir"], config["use_directory_urls"])
            copy.abs_src_path = path
            files.append(copy)
    return files


def on_page_markdown(markdown, page, config, files):
    def fix(m):
        rel = posixpath.normpath(posixpath.join("docs", posixpath.dirname(page.file.src_uri), m.group(2)))
        if rel.startswith("docs/") or rel.startswith(".."):
            return m.group(0)
        if not os.path.isfile(os.path.join(ROOT, rel)):
            log.warning("%s links to %s, which is not in the repository", page.file.src_uri, rel)
            return m.group(0)
        up = "../" * page.file.src_uri.count("/")
        return m.group(1) + up + PREFIX + rel + m.group(3)

    parts = re.split(r"(^```.*?^```)", markdown, flags=re.M | re.S)
    return "".join(p if p.startswith("```") else LINK.sub(fix, p) for p in parts)
