"""Front matter: the metadata block at the top of a markdown file, YAML or TOML.

``--- … ---`` holds YAML ``key: value`` lines, ``+++ … +++`` TOML ``key = "value"`` lines (as
static site generators write them). Only flat string values are read (title, date, label,
url, fetched …); lists, tables and nested keys are skipped. A block whose first line is not
a key is no front matter (a document may well open with a ``---`` rule).
"""

from __future__ import annotations

import re

__all__ = ["front_matter"]

_FENCES = {"---": re.compile(r"^(?P<key>[A-Za-z_][\w-]*)[ \t]*:[ \t]*(?P<value>.*)$"),
           "+++": re.compile(r"^(?P<key>[A-Za-z_][\w-]*)[ \t]*=[ \t]*(?P<value>.*)$")}  # fmt: skip
_MAX_LINES = 200
_BLOCK_SCALAR = re.compile(r"^[>|][+-]?$")  # YAML "title: >" with the text on indented lines


def _value(raw: str, toml: bool) -> str:
    raw = raw.strip()
    quoted = re.match(r"""^(?P<q>["'])(?P<v>.*)(?P=q)(?:\s+#.*)?$""", raw)
    if quoted:
        return quoted.group("v").strip()
    if toml:  # a TOML comment; YAML titles written by `rag fetch` may hold " #"
        raw = raw.split(" #", 1)[0]
    if raw.startswith(("[", "{")):
        return ""  # a list or a table: not a flat value
    return raw.strip()


def front_matter(text: str) -> tuple[dict[str, str], int]:
    """Keys of the front matter at the top of ``text`` (lower case), and where the body
    starts; ``({}, 0)`` when there is none."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() not in _FENCES:
        return {}, 0
    fence = lines[0].strip()
    key_line = _FENCES[fence]
    meta: dict[str, str] = {}
    offset = len(lines[0])
    block_key = ""  # a YAML block scalar being read: its indented lines make the value
    for number, line in enumerate(lines[1:_MAX_LINES], start=1):
        offset += len(line)
        stripped = line.strip()
        if stripped == fence:
            return (meta, offset) if meta or number > 1 else ({}, 0)
        if block_key and line[:1] in " \t":
            meta[block_key] = f"{meta[block_key]} {stripped}".strip()
            continue
        block_key = ""
        match = key_line.match(line.rstrip("\r\n"))
        if match is None:
            if number == 1 and stripped:
                return {}, 0  # "---" then prose: a rule, not front matter
            continue  # list items, nested keys, tables, comments: not flat values
        key, raw = match.group("key").lower(), match.group("value") or ""
        if fence == "---" and _BLOCK_SCALAR.match(raw.strip()):
            block_key, meta[key] = key, ""
        elif key not in meta:  # the top-level key comes first; a table's keys come later
            meta[key] = _value(raw, toml=fence == "+++")
    return {}, 0
