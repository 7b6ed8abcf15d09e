import json,re,sys,collections
import os
base=os.path.dirname(os.path.abspath(__file__))+"/"
sets=[("ru_numeric","docs/article.ru.txt",r"\[(\d+)\]","Примечания"),("en_markdown","docs/article.en.md",r"\[\^(\d+)\](?!:)",None)]
ok=True
for name,art,mre,notes_hdr in sets:
    text=open(base+name+"/"+art,encoding="utf-8").read()
    if notes_hdr:
        body,notes=text.split("\n"+notes_hdr+"\n")
        defs=set(re.findall(r"^\[(\d+)\]",notes,re.M))
    else:
        defs=set(re.findall(r"^\[\^(\d+)\]:",text,re.M))
        body=re.split(r"^\[\^1\]:",text,flags=re.M)[0]
    used=set(re.findall(mre,body))
    print(name,"markers used",sorted(used,key=int),"defined",sorted(defs,key=int))
    if used!=defs: ok=False; print("  MISMATCH markers/defs")
    paras=[p for p in body.split("\n\n") if p.strip()]
    qs=[json.loads(l) for l in open(base+name+"/questions.jsonl",encoding="utf-8")]
    cnt=collections.Counter()
    ids=set()
    for q in qs:
        assert set(q)=={"id","lang","question","answerable","evidence","footnotes","keywords"},q["id"]
        assert q["id"] not in ids; ids.add(q["id"])
        cnt[(q["lang"],q["answerable"])]+=1
        if not q["answerable"]:
            assert q["evidence"]==[] and q["footnotes"]==[] and q["keywords"]==[]; continue
        exp=set()
        for ev in q["evidence"]:
            n=body.count(ev)
            if n!=1: ok=False; print("  ",q["id"],"evidence count",n,ev); continue
            if not (4<=len(ev.split())<=10): print("  ",q["id"],"evidence word count",len(ev.split()))
            p=[p for p in paras if ev in p][0]
            i=p.index(ev)+len(ev)
            m=re.search(mre,p[i:])
            if m: exp.add(m.group(1))
            # sentence containing evidence
            s0=max(p.rfind(". ",0,p.index(ev)), p.rfind("] ",0,p.index(ev)))
            e=p.find(". ",i); e=len(p) if e<0 else e
            sent=p[s0+1:e+1]
            for g in q["keywords"]:
                if not any(k.lower() in sent.lower() for k in g):
                    # allow plain alternatives but at least one must be in the sentence
                    ok=False; print("  ",q["id"],"keyword group not in sentence",g)
        for f in q["footnotes"]:
            if f not in defs: ok=False; print("  ",q["id"],"undefined footnote",f)
        if set(q["footnotes"])!=exp: ok=False; print("  ",q["id"],"footnotes",q["footnotes"],"expected",exp)
    print(" ",len(qs),"questions",dict(cnt))
print("OK" if ok else "PROBLEMS")
