#!/usr/bin/env python3
"""Standalone check of question sets (does not import rag): the frozen2 sets beside it, or
the folders given (``python3 tests/data/frozen/validate.py tests/data/frozen3``)."""
import json, pathlib, re, sys
roots = [pathlib.Path(a) for a in sys.argv[1:]] or [pathlib.Path(__file__).parent]
FIELDS = ["id", "lang", "question", "answerable", "evidence", "footnotes", "keywords"]
bad = 0; ids = set()
for qf in sorted(q for root in roots for q in root.glob("*/questions.jsonl")):
    docs = "\n".join(p.read_text(encoding="utf-8") for p in sorted((qf.parent / "docs").iterdir()))
    labels = set(re.findall(r"\[\^([\w-]+)\]", docs)) | set(re.findall(r"\[(\d+)\]", docs))
    n = a = 0
    for ln, line in enumerate(qf.read_text(encoding="utf-8").splitlines(), 1):
        try:
            q = json.loads(line)
        except Exception as e:
            print(qf, ln, "parse error", e); bad += 1; continue
        n += 1
        if list(q) != FIELDS: print(qf, ln, "fields", list(q)); bad += 1
        if q["id"] in ids: print(qf, ln, "duplicate id", q["id"]); bad += 1
        ids.add(q["id"])
        if q["lang"] not in ("ru", "en", "tr"): print(q["id"], "lang"); bad += 1
        if q["answerable"]:
            a += 1
            if not q["evidence"] or not q["keywords"]: print(q["id"], "empty evidence/keywords"); bad += 1
        elif q["evidence"] or q["footnotes"] or q["keywords"]:
            print(q["id"], "unanswerable with evidence"); bad += 1
        for e in q["evidence"]:
            if e not in docs: print(q["id"], "evidence not verbatim:", e); bad += 1
        for f in q["footnotes"]:
            if f not in labels: print(q["id"], "unknown footnote label", f); bad += 1
    print(f"{qf.parent.name}: {n} questions, {a} answerable, {n-a} unanswerable")
print("OK" if not bad else f"{bad} problems"); sys.exit(1 if bad else 0)
