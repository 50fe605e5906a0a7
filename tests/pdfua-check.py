#!/usr/bin/python3
"""Machine-checkable PDF/UA-1 conditions (Matterhorn Protocol) of a PDF.

    pdfua-check.py FILE.pdf [--lang-of TEXT=LANG ...] [--order] [--summary]

Prints one line per failed condition and exits 1 when any failed:
  - every painting operator of every page is either inside a marked-content
    sequence with an MCID or inside an /Artifact, never both, and no MCID
    sequence is nested in another (Matterhorn 01-001..01-004);
  - every MCID is referenced exactly once by the structure tree and the
    parent tree maps it back to that element; every link annotation has
    /StructParent, /Contents and an OBJR in a Link element (28-011, 28-012);
  - the catalog has /MarkInfo /Marked true, /Lang, /StructTreeRoot,
    /ViewerPreferences /DisplayDocTitle true; every page /StructParents and
    /Tabs /S (06-..., 07-001, 11-006, 28-...);
  - Han characters are in text whose language (marked content, structure
    element or document) is Chinese, Japanese or Korean (11-001); each
    --lang-of TEXT=LANG: TEXT is shown in text whose language is LANG;
  - every Figure has a non-empty /Alt (13-004); every TH a /Scope; headings
    do not skip a level (14-003); list items are LI with Lbl/LBody;
  - no outline item or outline root has a negative /Count;
  - --order (pildoc's own rule: it paints in reading order): the structure
    tree reads the marked content in the order it is painted, page by page
    (but for list labels and check boxes, painted after their text's first
    line).
--summary prints, after the checks, each Figure's /Alt, each Link's
address, each check box as it is read and each text with its own /Lang
(for golden files).
Uses pikepdf (Debian python3-pikepdf).
"""
import re
import sys

import pikepdf
from pikepdf import Name

PAINT = {"Tj", "TJ", "'", '"', "Do", "f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "sh",
         "INLINE IMAGE", "BI"}
TEXT_OPS = {"Tj", "TJ", "'", '"'}

errors = []


def fail(msg):
    errors.append(msg)


def tounicode(font):
    """code (int) -> text, from the font's ToUnicode bfchar and bfrange
    entries (ranges of one BMP character each, as pildoc writes them)."""
    m = {}
    if font is None or "/ToUnicode" not in font:
        return m
    data = font.ToUnicode.read_bytes().decode("latin-1")
    for sect in re.findall(r"beginbfchar(.*?)endbfchar", data, re.S):
        for code, uni in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", sect):
            m[int(code, 16)] = bytes.fromhex(uni).decode("utf-16-be", "replace")
    for sect in re.findall(r"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, uni in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]{4})>", sect):
            for k in range(int(hi, 16) - int(lo, 16) + 1):
                m[int(lo, 16) + k] = chr(int(uni, 16) + k)
    return m


def decode(cmap, s):
    b = bytes(s)
    return "".join(cmap.get(b[i] << 8 | b[i + 1], "\ufffd") for i in range(0, len(b) - 1, 2))


def is_han(ch):
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FFFF


def text_string(o):
    return str(o) if o is not None else ""


def main(argv):
    path = argv[1]
    lang_of = []
    order = summary = False
    i = 2
    while i < len(argv):
        if argv[i] == "--lang-of" and i + 1 < len(argv):
            text, lang = argv[i + 1].rsplit("=", 1)
            lang_of.append((text, lang))
            i += 2
        elif argv[i] in ("--order", "--summary"):
            order |= argv[i] == "--order"
            summary |= argv[i] == "--summary"
            i += 1
        else:
            print("usage: pdfua-check.py FILE.pdf [--lang-of TEXT=LANG ...] [--order] [--summary]",
                  file=sys.stderr)
            return 2
    pdf = pikepdf.open(path)
    root = pdf.Root
    doc_lang = text_string(root.get("/Lang"))
    if not doc_lang:
        fail("catalog: no /Lang")
    mi = root.get("/MarkInfo")
    if mi is None or not bool(mi.get("/Marked", False)):
        fail("catalog: no /MarkInfo <</Marked true>>")
    vp = root.get("/ViewerPreferences")
    if vp is None or not bool(vp.get("/DisplayDocTitle", False)):
        fail("catalog: no /ViewerPreferences <</DisplayDocTitle true>>")
    if "/Title" not in pdf.docinfo or not str(pdf.docinfo.Title):
        fail("document information: no /Title")

    # outline: no negative /Count
    if "/Outlines" in root:
        todo, seen = [root.Outlines], set()
        while todo:
            o = todo.pop()
            if o.objgen in seen:
                continue
            seen.add(o.objgen)
            if "/Count" in o and int(o.Count) < 0:
                fail("outline: negative /Count %d" % int(o.Count))
            for k in ("/First", "/Next"):
                if k in o:
                    todo.append(o[k])

    page_index = {p.objgen: n for n, p in enumerate(pdf.pages)}
    # content: every painting operator tagged or an artifact
    content_mcids = {}  # (page, mcid) -> {"lang":..., "text":...}
    for n, page in enumerate(pdf.pages):
        p = page.obj
        if "/StructParents" not in p:
            fail("page %d: no /StructParents" % (n + 1))
        if p.get("/Tabs") != Name.S:
            fail("page %d: no /Tabs /S" % (n + 1))
        fonts = {}
        res = p.get("/Resources")
        if res is not None and "/Font" in res:
            for name, f in res.Font.items():
                fonts[name] = tounicode(f)
        cmap = {}
        stack = []  # (kind, props): kind "mcid", "artifact" or "other"
        for operands, op in pikepdf.parse_content_stream(page):
            op = str(op)
            if op in ("BDC", "BMC"):
                tag = str(operands[0])
                props = operands[1] if op == "BDC" else None
                if isinstance(props, pikepdf.Name) and res is not None and "/Properties" in res:
                    props = res.Properties.get(props)
                if tag == "/Artifact":
                    if any(k == "mcid" for k, _ in stack):
                        fail("page %d: an artifact inside tagged content" % (n + 1))
                    stack.append(("artifact", props))
                elif props is not None and isinstance(props, pikepdf.Dictionary) and "/MCID" in props:
                    if any(k in ("mcid", "artifact") for k, _ in stack):
                        fail("page %d: MCID %d nested in marked content" % (n + 1, int(props.MCID)))
                    key = (n, int(props.MCID))
                    if key in content_mcids:
                        fail("page %d: MCID %d used twice" % key)
                    content_mcids[key] = {"lang": text_string(props.get("/Lang")), "text": "",
                                          "actual": text_string(props.get("/ActualText"))}
                    stack.append(("mcid", props))
                else:
                    stack.append(("other", props))
            elif op == "EMC":
                if not stack:
                    fail("page %d: EMC without BDC" % (n + 1))
                else:
                    stack.pop()
            elif op == "Tf":
                cmap = fonts.get(str(operands[0]), {})
            elif op in PAINT:
                kinds = [k for k, _ in stack]
                if "mcid" not in kinds and "artifact" not in kinds:
                    fail("page %d: '%s' outside tagged content and artifacts" % (n + 1, op))
                if op in TEXT_OPS:
                    parts = operands[0] if op == "TJ" else [operands[-1]]
                    text = "".join(decode(cmap, s) for s in parts if isinstance(s, pikepdf.String))
                    lang = doc_lang
                    mcid = None
                    for k, props in stack:
                        if k == "mcid":
                            mcid = (n, int(props.MCID))
                    if mcid:
                        content_mcids[mcid]["text"] += text
                    # the innermost language given wins (element's: below)
                    inner = [text_string(props.get("/Lang")) for k, props in stack
                             if isinstance(props, pikepdf.Dictionary) and "/Lang" in props]
                    if inner:
                        lang = inner[-1]
                    if mcid is not None:
                        content_mcids[mcid].setdefault("ops", []).append((text, lang if inner else None))
        if stack:
            fail("page %d: %d marked-content sequences left open" % (n + 1, len(stack)))

    # the structure tree
    if "/StructTreeRoot" not in root:
        fail("catalog: no /StructTreeRoot")
        return report()
    str_root = root.StructTreeRoot
    role_map = str_root.get("/RoleMap", pikepdf.Dictionary())
    std = {"/Document", "/Part", "/Art", "/Sect", "/Div", "/BlockQuote", "/Caption", "/TOC",
           "/TOCI", "/Index", "/NonStruct", "/Private", "/P", "/H", "/H1", "/H2", "/H3", "/H4",
           "/H5", "/H6", "/L", "/LI", "/Lbl", "/LBody", "/Table", "/TR", "/TH", "/TD", "/THead",
           "/TBody", "/TFoot", "/Span", "/Quote", "/Note", "/Reference", "/BibEntry", "/Code",
           "/Link", "/Annot", "/Ruby", "/RB", "/RT", "/RP", "/Warichu", "/WT", "/WP", "/Figure",
           "/Formula", "/Form"}

    def role(s):
        s = str(s)
        seen = set()
        while s not in std and s in role_map and s not in seen:
            seen.add(s)
            s = str(role_map[s])
        return s

    tree_mcids = {}  # (page, mcid) -> element objgen
    tree_order = []  # (page, mcid) in the tree's reading order
    notes = []  # for --summary
    annots_in_tree = {}
    elem_lang = {}
    headings = []
    order = []  # (role, elem) in reading order
    todo = [(str_root.K, None, "")]
    seen = set()
    while todo:
        e, parent, inherited = todo.pop()
        if isinstance(e, tuple):  # an MCID of parent's, on page e[1]
            _, pg, m = e
            key = (pg, m)
            if pg is None:
                fail("MCID %d in an element without /Pg" % m)
            if key in tree_mcids:
                fail("page %d: MCID %d in the structure tree twice" % (pg + 1, m))
            tree_mcids[key] = (parent, inherited)
            tree_order.append(key)
            continue
        if isinstance(e, pikepdf.Array):
            for k in reversed(list(e)):
                todo.append((k, parent, inherited))
            continue
        if not isinstance(e, pikepdf.Dictionary):
            continue
        if e.get("/Type") == Name.MCR:
            pg = page_index.get(e.Pg.objgen) if "/Pg" in e else None
            key = (pg, int(e.MCID))
            if key in tree_mcids:
                fail("page %s: MCID %d in the structure tree twice" % (pg + 1 if pg is not None else "?", key[1]))
            tree_mcids[key] = (parent, inherited)
            tree_order.append(key)
            continue
        if e.get("/Type") == Name.OBJR:
            annots_in_tree[e.Obj.objgen] = parent
            continue
        if e.objgen in seen:
            fail("structure element %s reached twice" % (e.objgen,))
            continue
        seen.add(e.objgen)
        if "/S" not in e:
            fail("structure element %s without /S" % (e.objgen,))
            continue
        r = role(e.S)
        if r not in std:
            fail("structure type %s not mapped to a standard one" % e.S)
        lang = text_string(e.get("/Lang")) or inherited
        order.append((r, e))
        if r in ("/H1", "/H2", "/H3", "/H4", "/H5", "/H6"):
            headings.append(int(r[2]))
        if r == "/Figure":
            if not text_string(e.get("/Alt")).strip():
                fail("Figure without /Alt")
            notes.append("Figure /Alt: %s" % text_string(e.get("/Alt")))
        if r == "/TH":
            a = e.get("/A")
            attrs = list(a) if isinstance(a, pikepdf.Array) else [a] if a is not None else []
            if not any(isinstance(x, pikepdf.Dictionary) and "/Scope" in x for x in attrs):
                fail("TH without /Scope")
        if r == "/L":
            for k in (e.K if isinstance(e.get("/K"), pikepdf.Array) else [e.get("/K")]):
                if isinstance(k, pikepdf.Dictionary) and "/S" in k and role(k.S) != "/LI":
                    fail("L holds %s, not LI" % k.S)
        if r == "/LI":
            for k in (e.K if isinstance(e.get("/K"), pikepdf.Array) else [e.get("/K")]):
                if isinstance(k, pikepdf.Dictionary) and "/S" in k and role(k.S) not in ("/Lbl", "/LBody"):
                    fail("LI holds %s, not Lbl or LBody" % k.S)
        kids = e.get("/K")
        if kids is None:
            continue
        pg = page_index.get(e.Pg.objgen) if "/Pg" in e else None
        for k in reversed(list(kids) if isinstance(kids, pikepdf.Array) else [kids]):
            if isinstance(k, int):
                todo.append((("mcid", pg, int(k)), e, lang))
            else:
                todo.append((k, e, lang))
    for i in range(1, len(headings)):
        if headings[i] > headings[i - 1] + 1:
            fail("heading level skipped: H%d after H%d" % (headings[i], headings[i - 1]))
    if headings and headings[0] != 1:
        fail("first heading is H%d, not H1" % headings[0])

    for key in content_mcids:
        if key not in tree_mcids:
            fail("page %d: MCID %d not in the structure tree" % (key[0] + 1, key[1]))
    for key in tree_mcids:
        if key not in content_mcids:
            fail("page %s: MCID %d in the structure tree but not in the content"
                 % (key[0] + 1 if key[0] is not None else "?", key[1]))

    # the parent tree: each MCID back to its element
    pt = {}
    def walk_nums(node):
        if "/Nums" in node:
            nums = list(node.Nums)
            for j in range(0, len(nums) - 1, 2):
                pt[int(nums[j])] = nums[j + 1]
        for kid in node.get("/Kids", []):
            walk_nums(kid)
    if "/ParentTree" not in str_root:
        fail("StructTreeRoot: no /ParentTree")
    else:
        walk_nums(str_root.ParentTree)
    next_key = int(str_root.get("/ParentTreeNextKey", -1))
    if pt and next_key <= max(pt):
        fail("StructTreeRoot: /ParentTreeNextKey %d not above the keys" % next_key)
    for n, page in enumerate(pdf.pages):
        sp = page.obj.get("/StructParents")
        if sp is None:
            continue
        arr = pt.get(int(sp))
        mcids = sorted(m for (pg, m) in content_mcids if pg == n)
        if mcids and not isinstance(arr, pikepdf.Array):
            fail("page %d: no parent tree entry" % (n + 1))
            continue
        for m in mcids:
            if m >= len(arr):
                fail("page %d: MCID %d beyond its parent tree entry" % (n + 1, m))
                continue
            owner = tree_mcids.get((n, m), (None, ""))[0]
            if owner is None or arr[m].objgen != owner.objgen:
                fail("page %d: the parent tree maps MCID %d elsewhere than its element" % (n + 1, m))
        for a in page.obj.get("/Annots", []):
            if a.get("/Subtype") != Name.Link:
                continue
            if "/StructParent" not in a:
                fail("page %d: link annotation without /StructParent" % (n + 1))
                continue
            if not text_string(a.get("/Contents")).strip():
                fail("page %d: link annotation without /Contents" % (n + 1))
            owner = annots_in_tree.get(a.objgen)
            uri = a.A.get("/URI") if isinstance(a.get("/A"), pikepdf.Dictionary) else None
            notes.append("Link: %s -> %s" % (text_string(a.get("/Contents")), text_string(uri)))
            if owner is None or role(owner.S) != "/Link":
                fail("page %d: link annotation not in a Link element" % (n + 1))
            elif pt.get(int(a.StructParent)) is None or pt[int(a.StructParent)].objgen != owner.objgen:
                fail("page %d: the parent tree maps a link annotation elsewhere" % (n + 1))

    # languages: Chinese text in Chinese, and what the caller asks
    def lang_of_mcid(key, op_lang):
        if op_lang:
            return op_lang
        lang = content_mcids[key]["lang"]
        if lang:
            return lang
        return tree_mcids.get(key, (None, ""))[1] or doc_lang
    han_wrong = 0
    shown = []  # (text, lang)
    for key, info in content_mcids.items():
        for text, op_lang in info.get("ops", []):
            lang = lang_of_mcid(key, op_lang)
            shown.append((text, lang))
            if any(is_han(ch) for ch in text) and not lang.startswith(("zh", "ja", "ko")):
                han_wrong += 1
    if han_wrong:
        fail("%d Chinese texts marked as %s" % (han_wrong, doc_lang))
    for key in sorted(content_mcids):
        if content_mcids[key]["actual"][:1] in ("\u2610", "\u2611"):
            notes.append("Check box: %s" % content_mcids[key]["actual"])
        if content_mcids[key]["lang"]:
            notes.append("/Lang %s: %s" % (content_mcids[key]["lang"], content_mcids[key]["text"]))
    # (a list item's label and a check box are painted after the first
    # line of their text, and read before it)
    body = [k for k in tree_order if k in content_mcids and
            role(tree_mcids[k][0].S) != "/Lbl" and
            content_mcids[k]["actual"][:1] not in ("\u2610", "\u2611")]
    if order and body != sorted(body):
        first = next(k for k, (a, b) in enumerate(zip(body, sorted(body))) if a != b)
        fail("reading order: the structure tree reads page %d MCID %d where page %d MCID %d is painted"
             % (body[first][0] + 1, body[first][1], sorted(body)[first][0] + 1, sorted(body)[first][1]))
    # a text to find may span several operators of one sequence
    for want, want_lang in lang_of:
        found = False
        for key, info in content_mcids.items():
            if want in info["text"] and lang_of_mcid(key, None) == want_lang:
                found = True
        if not found:
            fail("'%s' is not shown with /Lang %s" % (want, want_lang))
    if summary:
        for n in notes:
            print(n)
    return report()


def report():
    for e in errors[:40]:
        print(e)
    if len(errors) > 40:
        print("... and %d more" % (len(errors) - 40))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
