#!/usr/bin/python3
"""Regenerate fonts/NotoSansCJKsc-{Regular,Bold}.otf from Debian's Noto Sans CJK.

Maintainer tool; the build does not run it.  Run it from anywhere:

    /usr/bin/python3 fonts/make-cjk-fonts.py          # rebuild both faces, then check
    /usr/bin/python3 fonts/make-cjk-fonts.py --check  # only check existing outputs

It needs Debian's fonts-noto-cjk (source .ttc files) and python3-fonttools.
Use /usr/bin/python3 (Debian's interpreter) or any Python that can import
fontTools; the subsetter runs as "<same interpreter> -m fontTools.subset".

Steps for each face (Regular, Bold):

1. Open /usr/share/fonts/opentype/noto/NotoSansCJK-<Style>.ttc, pick the one
   font whose family name (name ID 16, or else 1) is "Noto Sans CJK SC", and
   save it as a standalone .otf.  In Debian's .ttc all ten faces share one
   'CFF ' table whose internal names are the JP ones ("NotoSansCJKjp-Regular",
   "Noto Sans CJK JP", ...); in the standalone file they are renamed to the SC
   names taken from the face's own 'name' table, so the CFF FontName matches
   name ID 6 as OpenType requires for a single .otf.  Nothing else changes.
2. Run the fontTools subsetter on it keeping *everything* (all glyphs, all
   code points, all layout features/scripts, all name records, all non-empty
   cmap subtables, all tables, CFF hints, the .notdef outline, OS/2 Unicode
   ranges) but with --desubroutinize: every charstring is expanded in place
   and the global and per-FD local subroutine INDEXes become empty.
   Why: cairo 1.16's CFF subsetter (used when Pango/Cairo write a PDF)
   misparses some Noto Sans CJK charstrings that call subroutines after a
   hintmask, which leaves glyphs such as U+5982 (如) blank in the PDF.
   Without subroutines there is nothing for it to misparse.
3. Check the result against the source face (see check_face()).

After a rebuild, run make-core-fonts.py too: the small "Noto Sans CJK SC Core"
faces (NotoSansCJKsc-Core-{Regular,Bold}.otf) are made from these files.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTCollection, TTFont

SRC_DIR = "/usr/share/fonts/opentype/noto"
FAMILY = "Noto Sans CJK SC"
FACES = [  # (style, source collection, output file)
    ("Regular", "NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf"),
    ("Bold", "NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf"),
]

# fontTools.subset options: keep everything, only desubroutinize.
SUBSET_ARGS = [
    "--glyphs=*",                # every glyph, glyph order unchanged
    "--unicodes=*",              # every mapped code point
    "--layout-features=*",       # all GSUB/GPOS features (locl, vert, ...)
    "--layout-scripts=*",
    "--name-IDs=*",              # all name records ...
    "--name-languages=*",        # ... in all languages (e.g. 0x0804 zh-CN)
    "--name-legacy",             # ... and platforms
    "--legacy-cmap",             # keep the Mac (1,25,6) cmap subtable too
    "--symbol-cmap",
    "--notdef-outline",          # keep the .notdef box
    "--no-prune-unicode-ranges", # keep OS/2 ulUnicodeRange as shipped
    "--drop-tables=",            # drop nothing (default would drop BASE) ...
    "--passthrough-tables",      # ... and keep tables the subsetter can't subset (BASE)
    "--desubroutinize",          # THE point of the exercise
    # hinting: default (CFF stem hints and hintmasks are kept)
]

# Code points the leaflets need; checked in every output.
REQUIRED = [0x5982, 0x6C2F, 0x80FA, 0x9176, 0x3002] + list(range(0x41, 0x5B)) \
    + list(range(0x61, 0x7B)) + list(range(0x30, 0x3A))


def family_of(font):
    name = font["name"]
    return str(name.getDebugName(16) or name.getDebugName(1))


def load_sc_face(ttc_path):
    """Return the 'Noto Sans CJK SC' TTFont from a collection (lazy)."""
    coll = TTCollection(ttc_path, lazy=True, recalcBBoxes=False,
                        recalcTimestamp=False)
    hits = [f for f in coll.fonts if family_of(f) == FAMILY]
    if len(hits) != 1:
        sys.exit("%s: expected exactly one %r face, found %d (%s)" % (
            ttc_path, FAMILY, len(hits), [family_of(f) for f in coll.fonts]))
    return hits[0]


def rename_cff(font):
    """Give the shared (JP-named) CFF table the SC face's own names."""
    name = font["name"]
    ps_name = str(name.getDebugName(6))
    family = str(name.getDebugName(16) or name.getDebugName(1))
    cff = font["CFF "].cff
    old_ps = cff.fontNames[0]
    top = cff[old_ps]
    old_family = getattr(top, "FamilyName", None)
    cff.fontNames[0] = ps_name
    if old_family:
        top.FamilyName = family
        if getattr(top, "FullName", None):
            top.FullName = top.FullName.replace(old_family, family, 1)
    if hasattr(top, "FDArray"):
        for fd in top.FDArray:
            fn = getattr(fd, "FontName", None)
            if fn and fn.startswith(old_ps):
                fd.FontName = ps_name + fn[len(old_ps):]
    return old_ps, ps_name


def build_face(style, ttc, out_path, tmpdir):
    src = os.path.join(SRC_DIR, ttc)
    font = load_sc_face(src)
    old_ps, ps_name = rename_cff(font)
    extracted = os.path.join(tmpdir, ps_name + ".extracted.otf")
    font.save(extracted)
    font.close()
    print("%s: extracted %s face -> %s (CFF FontName %s -> %s)" % (
        ttc, FAMILY, extracted, old_ps, ps_name), flush=True)

    tmp_out = os.path.join(tmpdir, os.path.basename(out_path))
    cmd = [sys.executable, "-m", "fontTools.subset", extracted] + SUBSET_ARGS \
        + ["--output-file=" + tmp_out]
    print("+ " + " ".join("'%s'" % a if "*" in a else a for a in cmd), flush=True)
    subprocess.run(cmd, check=True)
    shutil.move(tmp_out, out_path)
    print("wrote %s (%d bytes)" % (out_path, os.path.getsize(out_path)), flush=True)


def draw(glyphset, gname):
    pen = RecordingPen()
    glyphset[gname].draw(pen)
    return pen.value


def check_face(style, ttc, out_path, sample_step):
    """Return a list of problems (empty == OK)."""
    problems = []
    src = load_sc_face(os.path.join(SRC_DIR, ttc))
    out = TTFont(out_path, lazy=True)

    # names / family / style
    if family_of(out) != FAMILY:
        problems.append("family is %r" % family_of(out))
    if str(out["name"].getDebugName(2)) != style:
        problems.append("style is %r" % out["name"].getDebugName(2))
    src_names = sorted((n.nameID, n.platformID, n.platEncID, n.langID, n.toUnicode())
                       for n in src["name"].names)
    out_names = sorted((n.nameID, n.platformID, n.platEncID, n.langID, n.toUnicode())
                       for n in out["name"].names)
    if src_names != out_names:
        problems.append("name table differs from source")

    # tables
    if sorted(src.keys()) != sorted(out.keys()):
        problems.append("tables differ: %s vs %s" % (sorted(src.keys()), sorted(out.keys())))

    # CFF: no subroutines anywhere
    cff = out["CFF "].cff
    top = cff[cff.fontNames[0]]
    if cff.fontNames[0] != str(out["name"].getDebugName(6)):
        problems.append("CFF FontName %r != name ID 6" % cff.fontNames[0])
    if len(cff.GlobalSubrs):
        problems.append("%d global subrs" % len(cff.GlobalSubrs))
    privs = [fd.Private for fd in top.FDArray] if hasattr(top, "FDArray") else [top.Private]
    nlocal = sum(len(p.Subrs) for p in privs if hasattr(p, "Subrs"))
    if nlocal:
        problems.append("%d local subrs" % nlocal)
    is_cid = hasattr(top, "ROS")
    src_top = src["CFF "].cff[src["CFF "].cff.fontNames[0]]
    if is_cid != hasattr(src_top, "ROS") or \
            (is_cid and len(top.FDArray) != len(src_top.FDArray)):
        problems.append("CID-keyed structure changed")

    # glyphs and cmap
    if src.getGlyphOrder() != out.getGlyphOrder():
        problems.append("glyph order differs")
    scm, ocm = src.getBestCmap(), out.getBestCmap()
    if scm != ocm:
        problems.append("best cmap differs from source")
    # Every non-empty cmap subtable must survive with identical content.  (The
    # source has an empty Mac (1,25,6) subtable; the subsetter drops empty
    # subtables, which changes nothing for any mapping.)
    def subtables(font):
        return {(t.platformID, t.platEncID, t.format, t.language):
                (t.uvsDict if t.format == 14 else t.cmap)
                for t in font["cmap"].tables if (t.uvsDict if t.format == 14 else t.cmap)}
    ssub, osub = subtables(src), subtables(out)
    if ssub != osub:
        problems.append("cmap subtables differ: %s vs %s" % (sorted(ssub), sorted(osub)))
    missing = [u for u in REQUIRED if u not in ocm]
    if missing:
        problems.append("cmap lacks " + ", ".join("U+%04X" % u for u in missing))

    # layout features kept
    for tag in ("GSUB", "GPOS"):
        feats = lambda f: sorted({fr.FeatureTag for fr in f[tag].table.FeatureList.FeatureRecord})
        if feats(src) != feats(out):
            problems.append("%s features differ" % tag)

    # outlines identical (required glyphs + every sample_step-th glyph)
    sgs, ogs = src.getGlyphSet(), out.getGlyphSet()
    order = out.getGlyphOrder()
    names = {scm[u] for u in REQUIRED} | set(order[::sample_step])
    bad = [g for g in sorted(names) if draw(sgs, g) != draw(ogs, g)]
    if bad:
        problems.append("%d outlines differ, e.g. %s" % (len(bad), bad[:5]))
    empty = [u for u in REQUIRED if u != 0x20 and not draw(ogs, ocm[u])]
    if empty:
        problems.append("empty outlines for " + ", ".join("U+%04X" % u for u in empty))
    print("%s: compared %d outlines against %s" % (
        os.path.basename(out_path), len(names), ttc), flush=True)

    # fontconfig's view
    try:
        fc = subprocess.run(["fc-scan", "--format", "%{family}|%{style}\n", out_path],
                            check=True, capture_output=True, text=True).stdout.strip()
        fams, styles = (s.split(",") for s in fc.split("|", 1))
        if FAMILY not in fams or style not in styles:
            problems.append("fc-scan reports %r" % fc)
    except (OSError, subprocess.CalledProcessError, ValueError) as e:
        problems.append("fc-scan failed: %s" % e)
    return problems


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", default=here, help="where to write (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="only check existing outputs")
    ap.add_argument("--sample-step", type=int, default=1,
                    help="compare every Nth glyph outline with the source (default 1 = all)")
    args = ap.parse_args()

    if not args.check:
        with tempfile.TemporaryDirectory(prefix="cjkfonts.") as tmpdir:
            for style, ttc, out in FACES:
                build_face(style, ttc, os.path.join(args.outdir, out), tmpdir)

    failed = False
    for style, ttc, out in FACES:
        problems = check_face(style, ttc, os.path.join(args.outdir, out), args.sample_step)
        print("%s: %s" % (out, "OK" if not problems else "FAILED"))
        for p in problems:
            print("  - " + p)
        failed |= bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
