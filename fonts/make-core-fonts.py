#!/usr/bin/python3
"""Make fonts/NotoSansCJKsc-Core-{Regular,Bold}.otf, small subsets of the CJK faces.

Maintainer tool; the build does not run it.  Run it from anywhere:

    /usr/bin/python3 fonts/make-core-fonts.py          # rebuild both Core faces, then check
    /usr/bin/python3 fonts/make-core-fonts.py --check  # only check existing outputs

It needs python3-fonttools and fc-scan (fontconfig).  Use /usr/bin/python3
(Debian's interpreter) or any Python that can import fontTools.

Why: when cairo writes a PDF it subsets every embedded CFF font, and for a
CID-keyed CFF it copies and parses the whole 'CFF ' table first.  For the
18 MB desubroutinized NotoSansCJKsc-{Regular,Bold}.otf that is most of the
time pildoc needs for a Chinese document.  The Core faces hold only the
commonly used characters (GB2312, ASCII, Latin-1, common punctuation and every
character of po/zh_CN.po), under their own family name "Noto Sans CJK SC Core".
pildoc lists that family before "Noto Sans CJK SC", so Pango takes a
character from the Core face when it has it and only falls back to the full
face for rare characters (e.g. an uncommon character in a patient's name).

Input: the DESUBROUTINIZED fonts/NotoSansCJKsc-{Regular,Bold}.otf made by
make-cjk-fonts.py (run that first if they are missing).  The Core faces must
stay desubroutinized: cairo 1.16's CFF subsetter corrupts glyphs of
subroutinized Noto Sans CJK (see README.md); --desubroutinize is passed to
the subsetter anyway.

Steps for each face (Regular, Bold):

1. fontTools.subset with the code points of core_codepoints() and
   SUBSET_ARGS: all layout features and scripts (so the GSUB closure adds
   the glyphs reachable from the kept characters: vertical forms, locl
   variants, fractions, ...), CFF hints kept, .notdef outline, all name
   records, all tables (BASE too), OS/2 Unicode ranges as shipped.
2. rename: family (name IDs 1, and 16/21 if present) "Noto Sans CJK SC Core"
   in every language record (the source has zh-CN (0x0804) records for
   name IDs 1, 2 and 4), full name (ID 4) "Noto Sans CJK SC Core <Style>",
   PostScript name (ID 6) "NotoSansCJKsc-Core-<Style>", the PostScript name
   inside the unique ID (ID 3), and the CFF's own names (FontName, FamilyName,
   FullName, FD FontNames), as make-cjk-fonts.py's rename_cff() does.  Style
   names and weight classes are unchanged.
3. check the result against the source face (see check_face()).

The output is deterministic (no timestamp recalculation).
"""

import argparse
import hashlib
import os
import subprocess
import sys

from fontTools import subset
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont

HERE = os.path.dirname(os.path.abspath(__file__))
PO_FILE = os.path.join(os.path.dirname(HERE), "po", "zh_CN.po")

SRC_FAMILY = "Noto Sans CJK SC"
FAMILY = "Noto Sans CJK SC Core"
FACES = [  # (style, source file, output file, PostScript name)
    ("Regular", "NotoSansCJKsc-Regular.otf", "NotoSansCJKsc-Core-Regular.otf",
     "NotoSansCJKsc-Core-Regular"),
    ("Bold", "NotoSansCJKsc-Bold.otf", "NotoSansCJKsc-Core-Bold.otf",
     "NotoSansCJKsc-Core-Bold"),
]

# fontTools.subset options (the code points are given separately).
SUBSET_ARGS = [
    "--layout-features=*",       # all GSUB/GPOS features (vert, locl, palt, ...)
    "--layout-scripts=*",
    "--name-IDs=*",              # all name records ...
    "--name-languages=*",        # ... in all languages (0x0804 zh-CN; renamed below)
    "--name-legacy",
    "--legacy-cmap",
    "--symbol-cmap",
    "--notdef-outline",          # keep the .notdef box
    "--notdef-glyph",
    "--no-prune-unicode-ranges", # keep OS/2 ulUnicodeRange as shipped
    "--drop-tables=",            # drop nothing (default would drop BASE) ...
    "--passthrough-tables",      # ... and keep tables the subsetter can't subset (BASE)
    "--desubroutinize",          # the sources have no subroutines; keep it that way
    # hinting: default (CFF stem hints and hintmasks are kept, as in the source)
    # glyph names: default; a CID-keyed CFF has no glyph names (post format 3),
    # the charset keeps each glyph's original CID.
]

# Outlines that are always compared with the source (如 氯 胺 酮 。 A).
SAMPLE = [0x5982, 0x6C2F, 0x80FA, 0x9176, 0x3002, 0x41]

# Features the Core faces may lack: they only act on Hangul (no Hangul
# syllables or jamo are kept), so the subsetter drops them as empty.
DROPPABLE_FEATURES = {"GSUB": {"calt", "ljmo", "tjmo"}}

# Single characters the documents use, besides the ranges below.
EXTRA = [0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x00B7,
         0x25A1, 0x2713]


def gb2312_codepoints():
    """Every character of GB2312 (all valid 2-byte codes, rows A1-F7, cells A1-FE)."""
    cps = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                s = bytes([row, cell]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            cps.update(ord(c) for c in s)
    return cps


def po_codepoints(path=PO_FILE):
    """Every printable character of the Chinese catalogue."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return {ord(c) for c in text if ord(c) >= 0x20 and not 0x7F <= ord(c) < 0xA0}


def core_codepoints(po_path=PO_FILE):
    """Return (all wanted code points, the ones that must be in the Core cmap)."""
    gb = gb2312_codepoints()
    po = po_codepoints(po_path)
    ranges = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) \
        | set(range(0x2000, 0x2070)) | set(range(0x3000, 0x3040)) \
        | set(range(0xFF00, 0xFFF0))
    # The ranges have unassigned code points or ones the source face lacks
    # (e.g. U+2065, U+FFE7): those are taken if the source maps them.  The
    # rest must be in the Core cmap.
    required = gb | po | set(EXTRA)
    return ranges | required, required


def rename(font, style, ps_name):
    """Rename the subset face to the Core family (name table and CFF)."""
    name = font["name"]
    old_ps = str(name.getDebugName(6))
    full = "%s %s" % (FAMILY, style)
    for rec in name.names:
        if rec.nameID in (1, 16, 21):
            rec.string = FAMILY
        elif rec.nameID in (4, 18):
            rec.string = full
        elif rec.nameID in (3, 6, 20):
            rec.string = rec.toUnicode().replace(old_ps, ps_name)
        elif rec.nameID in (2, 17, 22) and rec.toUnicode() != style:
            sys.exit("unexpected style name %r" % rec.toUnicode())

    cff = font["CFF "].cff
    old_cff_ps = cff.fontNames[0]
    top = cff[old_cff_ps]
    cff.fontNames[0] = ps_name
    top.FamilyName = FAMILY
    top.FullName = full
    if hasattr(top, "FDArray"):
        for fd in top.FDArray:
            fn = getattr(fd, "FontName", None)
            if fn and fn.startswith(old_cff_ps):
                fd.FontName = ps_name + fn[len(old_cff_ps):]
    return old_ps


def build_face(style, src_path, out_path, ps_name):
    wanted, _ = core_codepoints()
    options = subset.Options()
    rest = options.parse_opts(SUBSET_ARGS)
    assert not rest, rest
    font = subset.load_font(src_path, options)   # no bbox/timestamp recalculation
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=sorted(wanted))
    subsetter.subset(font)
    old_ps = rename(font, style, ps_name)
    tmp = out_path + ".tmp"
    subset.save_font(font, tmp, options)
    font.close()
    os.replace(tmp, out_path)
    print("wrote %s (%d bytes, %d glyphs, %s -> %s)" % (
        out_path, os.path.getsize(out_path), len(TTFont(out_path, lazy=True).getGlyphOrder()),
        old_ps, ps_name), flush=True)


def draw(glyphset, gname):
    pen = RecordingPen()
    glyphset[gname].draw(pen)
    return pen.value


def cmap_subtables(font):
    return {(t.platformID, t.platEncID, t.format, t.language):
            (t.uvsDict if t.format == 14 else t.cmap) for t in font["cmap"].tables}


def check_face(style, src_path, out_path, ps_name, sample_step):
    """Return a list of problems (empty == OK)."""
    problems = []
    src = TTFont(src_path, lazy=True)
    out = TTFont(out_path, lazy=True)
    wanted, required = core_codepoints()

    # names: only the Core family, in every record
    full = "%s %s" % (FAMILY, style)
    expect = {1: FAMILY, 2: style, 4: full, 6: ps_name, 16: FAMILY, 17: style}
    for rec in out["name"].names:
        want = expect.get(rec.nameID)
        if want is not None and rec.toUnicode() != want:
            problems.append("name ID %d (%d,%d,0x%04X) is %r, want %r" % (
                rec.nameID, rec.platformID, rec.platEncID, rec.langID, rec.toUnicode(), want))
        if rec.nameID in (1, 3, 4, 6, 16, 18, 20, 21) and \
                SRC_FAMILY in rec.toUnicode() and FAMILY not in rec.toUnicode():
            problems.append("name ID %d still names the source family" % rec.nameID)
    if str(out["name"].getDebugName(1)) != FAMILY:
        problems.append("no name ID 1 %r" % FAMILY)
    if ps_name not in str(out["name"].getDebugName(3)):
        problems.append("name ID 3 is %r" % out["name"].getDebugName(3))
    src_other = sorted((n.nameID, n.platformID, n.platEncID, n.langID, n.toUnicode())
                       for n in src["name"].names if n.nameID not in (1, 3, 4, 6, 16, 18, 20, 21))
    out_other = sorted((n.nameID, n.platformID, n.platEncID, n.langID, n.toUnicode())
                       for n in out["name"].names if n.nameID not in (1, 3, 4, 6, 16, 18, 20, 21))
    if src_other != out_other:
        problems.append("other name records differ from the source")
    for tag, attr in (("OS/2", "usWeightClass"), ("OS/2", "fsSelection"), ("head", "macStyle")):
        if getattr(src[tag], attr) != getattr(out[tag], attr):
            problems.append("%s.%s differs" % (tag, attr))

    # tables
    if sorted(src.keys()) != sorted(out.keys()):
        problems.append("tables differ: %s vs %s" % (sorted(src.keys()), sorted(out.keys())))

    # CFF: names, CID-keyed, no subroutines anywhere
    cff = out["CFF "].cff
    top = cff[cff.fontNames[0]]
    if cff.fontNames[0] != ps_name:
        problems.append("CFF FontName %r != %r" % (cff.fontNames[0], ps_name))
    if top.FamilyName != FAMILY or top.FullName != full:
        problems.append("CFF FamilyName/FullName %r/%r" % (top.FamilyName, top.FullName))
    if not hasattr(top, "ROS"):
        problems.append("not CID-keyed")
    else:
        bad_fd = [fd.FontName for fd in top.FDArray if not fd.FontName.startswith(ps_name + "-")]
        if bad_fd:
            problems.append("FD names %s" % bad_fd)
    if len(cff.GlobalSubrs):
        problems.append("%d global subrs" % len(cff.GlobalSubrs))
    privs = [fd.Private for fd in top.FDArray] if hasattr(top, "FDArray") else [top.Private]
    nlocal = sum(len(p.Subrs) for p in privs if hasattr(p, "Subrs"))
    if nlocal:
        problems.append("%d local subrs" % nlocal)

    # cmap: covers the list; every mapping (all subtables, incl. format 14)
    # is the source's mapping
    scm, ocm = src.getBestCmap(), out.getBestCmap()
    missing = sorted(u for u in required if u not in ocm)
    if missing:
        problems.append("cmap lacks %d required code points: %s" % (
            len(missing), " ".join("U+%04X" % u for u in missing[:20])))
    lost = sorted(u for u in wanted if u in scm and u not in ocm)
    if lost:
        problems.append("cmap lacks %d code points the source has" % len(lost))
    ssub, osub = cmap_subtables(src), cmap_subtables(out)
    for key, omap in osub.items():
        smap = ssub.get(key)
        if smap is None:
            problems.append("cmap subtable %s not in source" % (key,))
        elif key[2] == 14:
            for uv, pairs in omap.items():
                if not set(pairs) <= set(smap.get(uv, ())):
                    problems.append("cmap format 14 differs for U+%04X" % uv)
                    break
        elif any(smap.get(u) != g for u, g in omap.items()):
            problems.append("cmap subtable %s maps differently from the source" % (key,))

    # glyphs: a subset of the source's, same metrics and outlines
    order = out.getGlyphOrder()
    src_glyphs = set(src.getGlyphOrder())
    alien = [g for g in order if g not in src_glyphs]
    if alien:
        problems.append("%d glyphs not in the source, e.g. %s" % (len(alien), alien[:5]))
        order = [g for g in order if g in src_glyphs]
    for tag in ("hmtx", "vmtx"):
        diff = [g for g in order if src[tag][g] != out[tag][g]]
        if diff:
            problems.append("%s differs for %d glyphs" % (tag, len(diff)))
    sgs, ogs = src.getGlyphSet(), out.getGlyphSet()
    names = {ocm[u] for u in SAMPLE if u in ocm} | set(order[::sample_step])
    bad = [g for g in sorted(names) if draw(sgs, g) != draw(ogs, g)]
    if bad:
        problems.append("%d outlines differ, e.g. %s" % (len(bad), bad[:5]))
    empty = [u for u in SAMPLE if u in ocm and not draw(ogs, ocm[u])]
    if empty:
        problems.append("empty outlines for " + ", ".join("U+%04X" % u for u in empty))

    # layout features kept.  The subsetter drops a feature whose lookups no
    # longer touch any kept glyph: the Hangul ones (calt, ljmo, tjmo in GSUB),
    # since the Core faces have no Hangul syllables or conjoining jamo.
    for tag in ("GSUB", "GPOS"):
        def feats(f):
            return {fr.FeatureTag for fr in f[tag].table.FeatureList.FeatureRecord}
        dropped = feats(src) - feats(out)
        if feats(out) - feats(src) or dropped - DROPPABLE_FEATURES.get(tag, set()):
            problems.append("%s features differ: %s vs %s" % (
                tag, sorted(feats(src)), sorted(feats(out))))
        elif dropped:
            print("%s: %s features not kept (no kept glyph uses them): %s" % (
                os.path.basename(out_path), tag, " ".join(sorted(dropped))))

    print("%s: %d glyphs, %d mapped code points, compared %d outlines with %s" % (
        os.path.basename(out_path), len(out.getGlyphOrder()), len(ocm), len(names),
        os.path.basename(src_path)), flush=True)

    # fontconfig's view: exactly one family, the Core one
    try:
        fc = subprocess.run(
            ["fc-scan", "--format", "%{family}|%{style}|%{postscriptname}\n", out_path],
            check=True, capture_output=True, text=True).stdout.strip()
        if fc != "%s|%s|%s" % (FAMILY, style, ps_name):
            problems.append("fc-scan reports %r" % fc)
    except (OSError, subprocess.CalledProcessError) as e:
        problems.append("fc-scan failed: %s" % e)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", default=HERE, help="where to write (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="only check existing outputs")
    ap.add_argument("--sample-step", type=int, default=1,
                    help="compare every Nth glyph outline with the source (default 1 = all)")
    args = ap.parse_args()

    wanted, required = core_codepoints()
    print("code points: %d wanted, %d required (GB2312 %d, po/zh_CN.po %d)" % (
        len(wanted), len(required), len(gb2312_codepoints()), len(po_codepoints())), flush=True)

    if not args.check:
        for style, src, out, ps_name in FACES:
            build_face(style, os.path.join(HERE, src), os.path.join(args.outdir, out), ps_name)

    failed = False
    for style, src, out, ps_name in FACES:
        path = os.path.join(args.outdir, out)
        problems = check_face(style, os.path.join(HERE, src), path, ps_name, args.sample_step)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print("%s  %s  %d bytes: %s" % (digest, out, os.path.getsize(path),
                                        "OK" if not problems else "FAILED"))
        for p in problems:
            print("  - " + p)
        failed |= bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
