#!/usr/bin/python3
"""A Typst rendition of a pildoc document, for make bench's comparison.

Usage: typst-leaflet.py DOC.pdf DOC.txt OUT.typ
DOC.pdf and DOC.txt are `pildoc render` of the same document as PDF and
as --format text. Every laid-out line becomes a placed line of Typst text
at the same position (its baseline), in the same face (family, weight,
style), size and colour, on pages of the same size: the same glyphs, page
count and geometry. Typst then shapes every line and writes the PDF, but
breaks no line and paginates nothing: pildoc does both in its time, so
the comparison leans in Typst's favour."""
import re
import sys

import pikepdf

pdf_path, txt_path, out_path = sys.argv[1:4]
pdf = pikepdf.open(pdf_path)

# the laid-out lines, by page, in the painter's order
lines = {}
for raw in open(txt_path, encoding="utf-8"):
    m = re.match(r"(\d+) ([\d.]+) ([\d.]+) (.*)$", raw.rstrip("\n"))
    if not m:
        continue
    text = m.group(4)
    if text.startswith("____ ") or re.match(r"\[[ x]\] [\d.]+x[\d.]+mm$", text) or text.startswith("[image: "):
        continue  # lines to write on, boxes and images: not text
    if not text.strip():
        continue  # a line holding only a line to write on
    lines.setdefault(int(m.group(1)), []).append((float(m.group(2)), float(m.group(3)), text))


def faces(page):
    out = {}
    for name, font in page.Resources.Font.items():
        base = str(font.BaseFont).split("+", 1)[-1]
        family = "Noto Sans CJK SC Core" if "Core" in base else "Noto Sans CJK SC" if "CJK" in base else "Noto Sans"
        out[name] = (family, "Bold" in base, "Italic" in base)
    return out


def typ_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


out = []
w = float(pdf.pages[0].MediaBox[2])
h = float(pdf.pages[0].MediaBox[3])
out.append('#set page(width: %.3fpt, height: %.3fpt, margin: 0pt)' % (w, h))
out.append('#set text(top-edge: "baseline", bottom-edge: "descender", hyphenate: false)')
out.append('#set document(title: %s)' % typ_string(str(pdf.docinfo.get("/Title", ""))))
for n, page in enumerate(pdf.pages, 1):
    if n > 1:
        out.append("#pagebreak()")
    fmap = faces(page)
    font, size, rgb, stroke, rect, pending = None, 10.0, (0, 0, 0), (0, 0, 0), None, None
    todo = list(lines.get(n, []))
    for operands, op in pikepdf.parse_content_stream(page):
        op = str(op)
        if op == "rg":
            rgb = tuple(float(v) for v in operands)
        elif op == "RG":
            stroke = tuple(float(v) for v in operands)
        elif op == "re":
            rect = [float(v) for v in operands]
        elif op in ("f", "S") and rect:
            x, y, rw, rh = rect
            paint = 'fill: rgb(%d, %d, %d)' % tuple(round(c * 255) for c in rgb) if op == "f" else \
                'stroke: 0.8pt + rgb(%d, %d, %d)' % tuple(round(c * 255) for c in stroke)
            out.append('#place(top + left, dx: %.3fpt, dy: %.3fpt, rect(width: %.3fpt, height: %.3fpt, %s))'
                       % (x, h - y - rh, rw, rh, paint))
            rect = None
        elif op == "Tf":
            font, size = str(operands[0]), float(operands[1])
        elif op == "Td":
            pending = (float(operands[0]), float(operands[1]))
        elif op in ("TJ", "Tj") and pending:
            (x, y), pending = pending, None
            # the laid-out line at this place (positions printed to 0.1 pt)
            at = [i for i, t in enumerate(todo) if abs(t[0] - x) < 0.06 and abs(t[1] - (h - y)) < 0.06]
            if not at:
                continue
            text = todo.pop(at[0])[2]
            family, bold, italic = fmap.get(font, ("Noto Sans", False, False))
            out.append(
                '#place(top + left, dx: %.3fpt, dy: %.3fpt, text(font: "%s", size: %.3fpt, weight: "%s", '
                'style: "%s", fill: rgb(%d, %d, %d), %s))'
                % (x, h - y, family, size, "bold" if bold else "regular", "italic" if italic else "normal",
                   *(round(c * 255) for c in rgb), typ_string(text)))
    if todo:
        sys.exit("%s: page %d: lines not found in the PDF: %r" % (pdf_path, n, todo))
open(out_path, "w", encoding="utf-8").write("\n".join(out) + "\n")
print("%s: %d pages, %d lines" % (out_path, len(pdf.pages), sum(len(v) for v in lines.values())))
