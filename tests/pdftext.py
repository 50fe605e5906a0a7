#!/usr/bin/env python3
"""pdftext.py FILE.pdf LAYOUT.txt: the text pdftotext extracts from the PDF
(in content order, -raw) equals the text of the laid-out lines (pildoc
--format text), whitespace and invisible format characters aside.
Checkboxes ("[ ] 3.5x3.5mm"), lines to write on ("____ 40.0mm name") and
images ("[image: alt]") are shapes, not text. Exit 0 equal, 1 different
(printing where)."""
import re
import subprocess
import sys
import unicodedata

SHAPE = re.compile(r"\[[ x]\]( [0-9.]+x[0-9.]+mm)?|____ [0-9.]+mm [a-z]+|\[image: .*\]")

pdf, layout = sys.argv[1], sys.argv[2]
got = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", pdf, "-"],
                     capture_output=True, check=True).stdout.decode("utf-8")
want = ""
for line in open(layout, encoding="utf-8"):
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) == 4 and not SHAPE.fullmatch(parts[3]):
        want += parts[3]


def norm(s, invisible):
    # spaces, no-break spaces (lines to write on), soft hyphens, line and
    # page breaks; in the laid-out text also the other format characters
    # (the layout's word joiners and zero-width spaces), which have no
    # glyph and must not reach what a reader copies
    return "".join(c for c in s if not c.isspace() and c not in "\u00a0\u00ad\u2028\f"
                   and not (invisible and unicodedata.category(c) == "Cf"))


g, w = norm(got, False), norm(want, True)
if g != w:
    i = next((k for k in range(min(len(g), len(w))) if g[k] != w[k]), min(len(g), len(w)))
    print("%s: differs at %d: laid out %r, extracted %r" % (pdf, i, w[max(0, i - 30):i + 30],
                                                         g[max(0, i - 30):i + 30]))
    sys.exit(1)
