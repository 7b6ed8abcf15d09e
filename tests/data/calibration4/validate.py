#!/usr/bin/env python3
"""Standalone checker for the calibration4 question files (plain Python, does not import `rag`).

Checks: every line parses; required fields and types; ids unique and carrying the folder prefix;
answerable lines have evidence occurring verbatim in the folder's docs; unanswerable lines have empty
evidence/footnotes/keywords; declared footnote labels agree with the scope rule described in README.md
(a marker covers text back to the previous marker of its paragraph; chained markers share one scope).
Prints counts per language and answerability.
"""

import json, os, re, sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = {
    "en_blog": "g",
    "ru_essay": "h",
    "tr_article": "k",
    "en_markdown": "m",
    "ru_numeric": "n",
    "article": "p",
}
FIELDS = {
    "id": str,
    "lang": str,
    "question": str,
    "answerable": bool,
    "evidence": list,
    "footnotes": list,
    "keywords": list,
}
MARK = re.compile(r"\[\^([^\]\s]+)\](?!:)|\[(\d+)\](?!:)|\[([ivx]+)\]")


def paragraphs(text):
    pos = 0
    for block in re.split(r"(\n\s*\n)", text):
        if block.strip() and not re.match(r"\n\s*\n", block):
            yield pos, block
        pos += len(block)


def scope_labels(text, ev):
    i = text.find(ev)
    for start, para in paragraphs(text):
        if start <= i < start + len(para):
            s, e = i - start, i - start + len(ev)
            marks = [
                (m.start(), m.end(), next(g for g in m.groups() if g)) for m in MARK.finditer(para)
            ]
            if any(s <= a < e for a, _, _ in marks):
                return None  # evidence spans a marker
            after = [m for m in marks if m[0] >= e]
            if not after:
                return []
            labels, end = [after[0][2]], after[0][1]
            for a, b, lab in after[1:]:
                if a == end:
                    labels.append(lab)
                    end = b
                else:
                    break
            return labels
    return None


def main():
    bad = 0
    for folder in sorted(PREFIX):
        d = os.path.join(HERE, folder)
        docs = {}
        for root, _, files in os.walk(os.path.join(d, "docs")):
            for fn in files:
                docs[fn] = open(os.path.join(root, fn), encoding="utf-8").read()
        ids, cnt = set(), Counter()
        for n, line in enumerate(open(os.path.join(d, "questions.jsonl"), encoding="utf-8"), 1):

            def err(msg):
                nonlocal bad
                bad += 1
                print(f"{folder}:{n}: {msg}")

            try:
                q = json.loads(line)
            except Exception as exc:
                err(f"parse error {exc}")
                continue
            for f, t in FIELDS.items():
                if not isinstance(q.get(f), t):
                    err(f"field {f} missing or not {t.__name__}")
            if set(q) - set(FIELDS):
                err(f"extra fields {set(q) - set(FIELDS)}")
            if not re.fullmatch(PREFIX[folder] + r"\d\d", q.get("id", "")):
                err("bad id")
            if q.get("id") in ids:
                err("duplicate id")
            ids.add(q.get("id"))
            if q.get("lang") not in ("ru", "en", "tr"):
                err("bad lang")
            cnt[(q.get("lang"), q.get("answerable"))] += 1
            if q.get("answerable"):
                if not q["evidence"] or not q["keywords"]:
                    err("answerable without evidence/keywords")
                if not all(
                    isinstance(k, list) and k and all(isinstance(x, str) for x in k)
                    for k in q["keywords"]
                ):
                    err("keywords must be a list of non-empty lists of strings")
                expected = None
                for ev in q["evidence"]:
                    hits = [fn for fn, t in docs.items() if ev in t]
                    if not hits:
                        err(f"evidence not found: {ev!r}")
                        continue
                    lab = scope_labels(docs[hits[0]], ev)
                    if lab is None:
                        err(f"evidence spans a marker: {ev!r}")
                    elif expected is None:
                        expected = lab
                if expected is not None and sorted(expected) != sorted(q["footnotes"]):
                    err(f"footnotes {q['footnotes']} but scope rule gives {expected}")
            else:
                if q["evidence"] or q["footnotes"] or q["keywords"]:
                    err("unanswerable with non-empty evidence/footnotes/keywords")
        total = sum(cnt.values())
        ans = sum(v for (l, a), v in cnt.items() if a)
        langs = Counter()
        for (l, a), v in cnt.items():
            langs[l] += v
        print(
            f"{folder}: {total} questions, {ans} answerable, {total - ans} unanswerable; by lang {dict(sorted(langs.items()))}; "
            f"answerable by lang {dict(sorted((l, v) for (l, a), v in cnt.items() if a))}"
        )
    print("OK" if not bad else f"{bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
