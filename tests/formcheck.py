#!/usr/bin/python3
"""The form of a pildoc PDF, read with pikepdf (tests/form.sh).

  formcheck.py fields FILE     one line per field: NAME TYPE WIDGETS PAGES TU
                               (TYPE: text, check, sign), then problems,
                               each on a line starting with "PROBLEM:"
  formcheck.py fill FILE OUT NAME=VALUE...
                               sets the values (a check box: Yes or Off) and
                               NeedAppearances, as a form-filling library
                               does, for the viewer to draw them
  formcheck.py fill-drawn FILE OUT NAME=VALUE...
                               the same, but writes each text field's
                               appearance stream itself with the form's
                               /DR font (a CID font's codes through its
                               ToUnicode map), as a filler that keeps the
                               file PDF/A must: no NeedAppearances

Problems looked for: a field without /TU, a widget of a tagged file not
in a Form element of the structure tree (with an OBJR to it, through its
/StructParent), a widget without an appearance
stream (/AP /N; check boxes: one per state), a page with widgets without
/Tabs /S or whose /Annots are not in reading order (top to bottom, left
to right), a field name given twice, NeedAppearances or an action
(/A, /AA) in a form pildoc wrote (PDF/A-1 forbids them).
"""
import re
import sys

import pikepdf
from pikepdf import Name


def terminal_fields(acroform):
    """(full name, field dict, [widgets]) of every terminal field."""
    out = []

    def walk(node, prefix):
        kids = node.get("/Kids")
        name = prefix
        if "/T" in node:
            part = str(node.T)
            name = part if not prefix else prefix + "." + part
        if kids is not None and any("/T" in k for k in kids):
            for k in kids:
                walk(k, name)
            return
        widgets = list(kids) if kids is not None else [node]
        out.append((name, node, widgets))

    for f in acroform.Fields:
        walk(f, "")
    return out


def inherited(node, key):
    while node is not None:
        if key in node:
            return node[key]
        node = node.get("/Parent")
    return None


def fields(path):
    pdf = pikepdf.open(path)
    problems = []
    acro = pdf.Root.get("/AcroForm")
    if acro is None:
        print("PROBLEM: no /AcroForm")
        return
    if acro.get("/NeedAppearances"):
        problems.append("NeedAppearances is set")
    page_of = {}
    for i, page in enumerate(pdf.pages):
        annots = page.obj.get("/Annots")
        if annots is None:
            continue
        if page.obj.get("/Tabs") != Name.S:
            problems.append(f"page {i + 1}: widgets without /Tabs /S")
        tops = []
        for a in annots:
            if a.get("/Subtype") != Name.Widget:
                continue  # a link (tagged PDF): not the form's
            page_of[a.objgen] = i + 1
            r = [float(v) for v in a.Rect]
            tops.append((round(-r[3] / 2), r[0]))
            if "/A" in a or "/AA" in a:
                problems.append(f"page {i + 1}: a widget with an action")
        if tops != sorted(tops):
            problems.append(f"page {i + 1}: /Annots not in reading order")
    # tagged: each widget in a Form element of the structure tree, through
    # its /StructParent in the parent tree (a flat /Nums array here)
    parents = None
    tree = pdf.Root.get("/StructTreeRoot")
    if tree is not None:
        nums = list(tree.ParentTree.get("/Nums", []))
        parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    seen = set()
    for name, node, widgets in terminal_fields(acro):
        ft = inherited(node, "/FT")
        kind = {"/Tx": "text", "/Btn": "check", "/Sig": "sign"}.get(str(ft), str(ft))
        tu = node.get("/TU")
        if name in seen:
            problems.append(f"{name}: two fields of this name")
        seen.add(name)
        if tu is None or not str(tu).strip():
            problems.append(f"{name}: no /TU")
        if "/AA" in node:
            problems.append(f"{name}: an action")
        pages = []
        for w in widgets:
            pages.append(str(page_of.get(w.objgen, "?")))
            ap = w.get("/AP")
            n = ap.get("/N") if ap is not None else None
            if n is None:
                problems.append(f"{name}: a widget without /AP /N")
            elif kind == "check" and not ("/Yes" in n and "/Off" in n):
                problems.append(f"{name}: a check box without its two states")
            if page_of.get(w.objgen) is None:
                problems.append(f"{name}: a widget on no page's /Annots")
            if parents is not None:
                key = w.get("/StructParent")
                elem = parents.get(int(key)) if key is not None else None
                kids = elem.get("/K") if elem is not None else None
                if kids is not None and not isinstance(kids, pikepdf.Array):
                    kids = [kids]
                if elem is None or elem.get("/S") != Name.Form:
                    problems.append(f"{name}: a widget not in a Form element of the structure")
                elif not any(isinstance(k, pikepdf.Dictionary) and k.get("/Type") == Name.OBJR
                             and k.Obj.objgen == w.objgen for k in kids or []):
                    problems.append(f"{name}: its Form element has no OBJR to the widget")
                elif elem.P.get("/S") == Name.StructTreeRoot:
                    problems.append(f"{name}: a Form element outside the document element")
        print(f"{name}\t{kind}\t{len(widgets)}\t{','.join(pages)}\t{tu}")
    for p in problems:
        print("PROBLEM: " + p)


def font_encoder(font):
    """A function from text to the bytes of `font` (a /DR font): a CID font
    through its ToUnicode map read backwards (as poppler does), a simple
    font through WinAnsiEncoding."""
    if font.Subtype == Name.Type0:
        back = {}
        cmap = font.ToUnicode.read_bytes().decode("latin-1")
        for code, uni in re.findall(r"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]+)>", cmap):
            ch = bytes.fromhex(uni).decode("utf-16-be")
            back.setdefault(ch, bytes.fromhex(code))
        return lambda text: b"".join(back.get(c, b"") for c in text)
    return lambda text: text.encode("cp1252", "ignore")


def appearance(pdf, acro, node, widget, value):
    """The appearance stream of a text field showing `value`, in the font
    its /DA names from the form's /DR (what a form filler does)."""
    da = inherited(node, "/DA")
    da = str(da if da is not None else acro.DA)
    name, size = re.search(r"/(\S+)\s+([\d.]+)\s+Tf", da).groups()
    font = acro.DR.Font[Name("/" + name)]
    data = font_encoder(font)(value)
    r = [float(v) for v in widget.Rect]
    w, h = r[2] - r[0], r[3] - r[1]
    size = float(size) or 10.0
    x = 2.0
    q = inherited(node, "/Q")
    if q is not None and int(q) == 1:  # centred, roughly
        x = max(2.0, (w - 0.55 * size * len(value)) / 2)
    ops = b"/Tx BMC q BT /%s %g Tf 0.02 0.16 0.48 rg %g %g Td <%s> Tj ET Q EMC" % (
        name.encode(), size, x, (h - size) / 2 + 1, data.hex().encode())
    stream = pikepdf.Stream(pdf, ops)
    stream.Type = Name.XObject
    stream.Subtype = Name.Form
    stream.BBox = [0, 0, w, h]
    stream.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary({"/" + name: font}))
    widget.AP = pikepdf.Dictionary(N=stream)


def fill(path, out, assignments, draw=False):
    pdf = pikepdf.open(path)
    acro = pdf.Root.AcroForm
    byname = {name: (node, widgets) for name, node, widgets in terminal_fields(acro)}
    for a in assignments:
        name, value = a.split("=", 1)
        node, widgets = byname[name]
        if str(inherited(node, "/FT")) == "/Btn":
            node.V = Name("/" + value)
            for w in widgets:
                w.AS = Name("/" + value)
        else:
            node.V = pikepdf.String(value)
            for w in widgets if draw else []:
                appearance(pdf, acro, node, w, value)
    if not draw:
        acro.NeedAppearances = True
    pdf.save(out)


if __name__ == "__main__":
    if sys.argv[1] == "fields":
        fields(sys.argv[2])
    elif sys.argv[1] == "fill":
        fill(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "fill-drawn":
        fill(sys.argv[2], sys.argv[3], sys.argv[4:], draw=True)
    else:
        sys.exit("usage: formcheck.py fields FILE | fill|fill-drawn FILE OUT NAME=VALUE...")
