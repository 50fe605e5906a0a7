#!/usr/bin/python3
"""Bytes of a PDF by part: font programs, ToUnicode maps, other font
objects, page content streams, images, the rest (objects, xref).
Usage: pdfparts.py FILE.pdf...   (stored stream lengths: as in the file)"""
import os
import sys

import pikepdf


def parts(path):
    pdf = pikepdf.open(path)
    seen = {}
    out = {"fonts": 0, "tounicode": 0, "fontdicts": 0, "content": 0, "images": 0}

    def raw_len(obj):
        return len(obj.read_raw_bytes())

    def mark(obj, kind):
        if obj.objgen in seen:
            return
        seen[obj.objgen] = kind
        out[kind] += raw_len(obj) if isinstance(obj, pikepdf.Stream) else 0

    for page in pdf.pages:
        c = page.obj.get("/Contents")
        for s in (c if isinstance(c, pikepdf.Array) else [c]):
            if s is not None:
                mark(s, "content")
        res = page.obj.get("/Resources", {})
        for _, f in (res["/Font"].items() if "/Font" in res else []):
            if f.objgen in seen:
                continue
            seen[f.objgen] = "fontdicts"
            if "/ToUnicode" in f:
                mark(f.ToUnicode, "tounicode")
            for cid in f.get("/DescendantFonts", []):
                seen[cid.objgen] = "fontdicts"
                fd = cid.get("/FontDescriptor")
                if fd is not None:
                    seen[fd.objgen] = "fontdicts"
                    for k in ("/FontFile", "/FontFile2", "/FontFile3"):
                        if k in fd:
                            mark(fd[k], "fonts")
        for _, x in (res["/XObject"].items() if "/XObject" in res else []):
            mark(x, "images")
            if "/SMask" in x:
                mark(x.SMask, "images")
    pdf.close()
    total = os.path.getsize(path)
    out["other"] = total - sum(out.values())
    out["total"] = total
    return out


cols = ["fonts", "tounicode", "content", "images", "other", "total"]
print("%-28s" % "file" + "".join("%10s" % c for c in cols))
for p in sys.argv[1:]:
    r = parts(p)
    print("%-28s" % os.path.basename(p) + "".join("%10d" % r[c] for c in cols))
