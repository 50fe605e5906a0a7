#!/usr/bin/python3
"""Document-level checks of pildoc's PDFs with pikepdf (tests/pdfa.sh).

  pdfa-check.py archival FILE...   PDF/A-1b: the XMP says what /Info says,
                                   pdfaid 1/B, sRGB OutputIntent, /ID,
                                   CIDSets, no soft masks, and the outline
  pdfa-check.py plain FILE...      --plain: no XMP, OutputIntent or CIDSet;
                                   the same outline and catalog checks
  pdfa-check.py id FILE...         prints FILE and its /ID (hex), one a line

Prints one line per check: "PASS what" or "FAIL what: why".
"""
import re
import sys
import xml.etree.ElementTree as ET

import pikepdf

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
}


def result(name, what, ok, why=""):
    print(("PASS " if ok else "FAIL ") + f"{name}: {what}" + ("" if ok else f": {why}"))


def pdf_date(s):
    """D:YYYYMMDDHHmmSS[Z|+HH'mm'] -> YYYY-MM-DDThh:mm:ss (UTC only)."""
    m = re.fullmatch(r"D:(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(Z|\+00'00'?)?", s)
    return m and "%s-%s-%sT%s:%s:%s" % m.groups()[:6]


def xmp_values(root):
    """The XMP properties pildoc writes, as {name: text}."""
    out = {}
    for desc in root.iter("{%s}Description" % NS["rdf"]):
        for prop in desc:
            key = prop.tag
            lis = prop.findall(".//{%s}li" % NS["rdf"])
            # a language alternative (a bilingual document's title holds
            # each language's besides): PDF/A compares its x-default
            xdef = [li for li in lis
                    if li.get("{http://www.w3.org/XML/1998/namespace}lang") == "x-default"]
            if xdef:
                lis = xdef
            if lis:
                out[key] = [li.text or "" for li in lis]
            else:
                out[key] = prop.text or ""
    return out


def q(prefix, name):
    return "{%s}%s" % (NS[prefix], name)


def check_outline(name, pdf):
    root = pdf.Root
    outlines = root.get("/Outlines")
    if outlines is None:
        result(name, "no outline, no /PageMode UseOutlines", root.get("/PageMode") != "/UseOutlines")
        return
    counts = []

    def walk(node, depth):
        if "/Count" in node:
            counts.append(int(node.Count))
        child = node.get("/First")
        while child is not None and depth < 10:
            walk(child, depth + 1)
            child = child.get("/Next")

    walk(outlines, 0)
    result(name, "outline root /Count present and positive", int(outlines.get("/Count", 0)) > 0,
           "root /Count %s" % outlines.get("/Count"))
    result(name, "no negative outline /Count (all open)", all(c >= 0 for c in counts),
           "counts %s" % counts)
    result(name, "/PageMode /UseOutlines", root.get("/PageMode") == "/UseOutlines",
           repr(root.get("/PageMode")))


def check_common(name, pdf):
    root = pdf.Root
    vp = root.get("/ViewerPreferences")
    result(name, "/ViewerPreferences /DisplayDocTitle true",
           vp is not None and bool(vp.get("/DisplayDocTitle")), repr(vp))
    ids = pdf.trailer.get("/ID")
    result(name, "trailer /ID of two 16-byte strings",
           ids is not None and len(ids) == 2 and all(len(bytes(i)) == 16 for i in ids), repr(ids))
    check_outline(name, pdf)


def fonts_and_images(pdf):
    """(CID font descriptors, image XObjects) of every page."""
    descs, images, seen = [], [], set()
    for page in pdf.pages:
        res = page.Resources
        fonts = res.get("/Font")
        for f in [fonts[k] for k in fonts.keys()] if fonts is not None else []:
            for d in f.get("/DescendantFonts") or []:
                if d.objgen not in seen:
                    seen.add(d.objgen)
                    descs.append((str(d.BaseFont), d.FontDescriptor))
        xobjs = res.get("/XObject")
        for x in [xobjs[k] for k in xobjs.keys()] if xobjs is not None else []:
            if x.objgen not in seen and x.get("/Subtype") == "/Image":
                seen.add(x.objgen)
                images.append(x)
    return descs, images


def check_archival(name, pdf):
    root = pdf.Root
    info = pdf.trailer.get("/Info")
    meta = root.get("/Metadata")
    if meta is None or info is None:
        result(name, "catalog /Metadata and trailer /Info", False, "missing")
        return
    result(name, "XMP stream unfiltered (PDF/A-1)", "/Filter" not in meta and meta.get("/Subtype") == "/XML",
           repr(meta.get("/Filter")))
    try:
        xroot = ET.fromstring(meta.read_bytes())
    except ET.ParseError as e:
        result(name, "XMP is well-formed XML", False, str(e))
        return
    result(name, "XMP is well-formed XML", True)
    x = xmp_values(xroot)
    result(name, "pdfaid:part 1", x.get(q("pdfaid", "part")) == "1", str(x.get(q("pdfaid", "part"))))
    result(name, "pdfaid:conformance B", x.get(q("pdfaid", "conformance")) == "B",
           str(x.get(q("pdfaid", "conformance"))))

    def same(what, info_key, xmp_key, is_list=False, convert=None):
        iv = info.get(info_key)
        iv = str(iv) if iv is not None else None
        if convert and iv is not None:
            iv = convert(iv)
        xv = x.get(xmp_key)
        if is_list and xv is not None:
            xv = xv[0] if len(xv) == 1 else xv
        if convert and isinstance(xv, str):
            xv = xv.rstrip("Z")
        result(name, f"XMP {what} equals /Info {info_key}", iv == xv and iv, f"{iv!r} vs {xv!r}")

    same("dc:title", "/Title", q("dc", "title"), True)
    same("dc:creator", "/Author", q("dc", "creator"), True)
    same("dc:description", "/Subject", q("dc", "description"), True)
    same("xmp:CreatorTool", "/Creator", q("xmp", "CreatorTool"))
    same("pdf:Producer", "/Producer", q("pdf", "Producer"))
    same("xmp:CreateDate", "/CreationDate", q("xmp", "CreateDate"), convert=pdf_date)
    same("xmp:ModifyDate", "/ModDate", q("xmp", "ModifyDate"), convert=pdf_date)
    lang = str(root.get("/Lang", ""))
    # the document's language first (a bilingual one's second after it)
    result(name, "XMP dc:language is the catalog's /Lang", (x.get(q("dc", "language")) or [None])[0] == lang
           and len(x.get(q("dc", "language"))) <= 2,
           f"{x.get(q('dc', 'language'))} vs {lang}")
    result(name, "no pdfuaid claim while untagged", q("pdfuaid", "part") not in x or "/StructTreeRoot" in root,
           "pdfuaid:part without a structure tree")
    intents = root.get("/OutputIntents")
    ok = intents is not None and len(intents) == 1
    if ok:
        oi = intents[0]
        prof = oi.get("/DestOutputProfile")
        ok = (oi.get("/S") == "/GTS_PDFA1" and prof is not None and int(prof.get("/N", 0)) == 3
              and prof.read_bytes()[36:40] == b"acsp" and prof.read_bytes()[16:20] == b"RGB ")
    result(name, "one sRGB OutputIntent GTS_PDFA1 with its ICC profile", ok, repr(intents))
    descs, images = fonts_and_images(pdf)
    for font, d in descs:
        cs = d.get("/CIDSet")
        result(name, f"{font}: CIDSet", cs is not None and len(cs.read_bytes()) > 0, "missing")
    for im in images:
        result(name, "image without /SMask (PDF/A-1: no transparency)", "/SMask" not in im, "an /SMask")
    check_common(name, pdf)


def check_plain(name, pdf):
    root = pdf.Root
    result(name, "--plain: no /Metadata", "/Metadata" not in root)
    result(name, "--plain: no /OutputIntents", "/OutputIntents" not in root)
    descs, _ = fonts_and_images(pdf)
    result(name, "--plain: no CIDSet", all("/CIDSet" not in d for _, d in descs))
    check_common(name, pdf)


def main():
    mode, files = sys.argv[1], sys.argv[2:]
    for f in files:
        name = f.rsplit("/", 1)[-1]
        try:
            with pikepdf.open(f) as pdf:
                if mode == "id":
                    ids = pdf.trailer.get("/ID")
                    print(name, bytes(ids[0]).hex() if ids else "none")
                elif mode == "archival":
                    check_archival(name, pdf)
                else:
                    check_plain(name, pdf)
        except pikepdf.PdfError as e:
            result(name, "opens with pikepdf", False, str(e))


if __name__ == "__main__":
    main()
