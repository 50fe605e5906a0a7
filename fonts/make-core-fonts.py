#!/usr/bin/python3
"""Make fonts/NotoSansCJKsc-Core-{Regular,Bold}.ttf, small TrueType subsets of the CJK faces.

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

The Core faces have TrueType (quadratic, 'glyf') outlines instead of CFF:
FreeType loads a TrueType glyph faster than it interprets a Type 2
charstring, and cairo embeds TrueType with its simple TrueType subsetter, so
its CFF subsetter (and the bug described in README.md) is not used for them.
A single Chinese leaflet renders in about two thirds of the time; see
README.md for the figures.

Input: the DESUBROUTINIZED fonts/NotoSansCJKsc-{Regular,Bold}.otf made by
make-cjk-fonts.py (run that first if they are missing).

Steps for each face (Regular, Bold):

1. fontTools.subset with the code points of core_codepoints() and
   SUBSET_ARGS: all layout features and scripts (so the GSUB closure adds
   the glyphs reachable from the kept characters: vertical forms, locl
   variants, fractions, ...), .notdef outline, all name records, all tables
   (BASE too), OS/2 Unicode ranges as shipped.  The result is still a
   CID-keyed CFF font (in memory; it is what the former
   NotoSansCJKsc-Core-<Style>.otf files held).
2. rename: family (name IDs 1, and 16/21 if present) "Noto Sans CJK SC Core"
   in every language record (the source has zh-CN (0x0804) records for
   name IDs 1, 2 and 4), full name (ID 4) "Noto Sans CJK SC Core <Style>",
   PostScript name (ID 6) "NotoSansCJKsc-Core-<Style>", the PostScript name
   inside the unique ID (ID 3), and the CFF's own names (FontName, FamilyName,
   FullName, FD FontNames), as make-cjk-fonts.py's rename_cff() does.  Style
   names and weight classes are unchanged.
2b. renumber the glyphs (order_glyphs()): first the glyphs of the characters
   nearly every document uses (the catalogue's, the templates', ASCII,
   Latin-1, punctuation), then the others, each part in code point order.
   A document then reads a few hundred KB of the 13 MB file, not most of it
   (each page read counts in a worker's memory with its 64 KB around it),
   and the cmap stays small.
3. convert to TrueType (to_truetype()): every glyph is drawn through a
   Cu2QuPen (max error MAX_ERR = 1 font unit, em = 1000, contours reversed
   to TrueType's clockwise direction) into a TTGlyphPen; 'glyf'/'loca'
   replace 'CFF ', VORG (CFF-only) is dropped, and the vertical origin it
   held is kept through vmtx (top side bearing = VORG origin - yMax); hmtx
   left side bearings are set to each glyph's xMin; maxp becomes version 1.0
   (values recalculated), 'post' stays format 3 (no glyph names), head
   glyphDataFormat 0, and head/hhea/vhea bounds are recalculated from 'glyf'.
   No hinting (no fpgm/prep/cvt/gasp, no glyph programs): pildoc renders
   unhinted.  Glyph order, and so every cmap/GSUB/GPOS/GDEF glyph index, is
   the one of step 2b.
4. check the result against the source face (see check_face()).

The output is deterministic (no timestamp recalculation; cu2qu is pure
arithmetic).
"""

import argparse
import glob
import hashlib
import logging
import math
import os
import subprocess
import sys
import unicodedata

from fontTools import subset
from fontTools.pens.areaPen import AreaPen
from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.recordingPen import RecordingPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables.otBase import USE_HARFBUZZ_REPACKER

HERE = os.path.dirname(os.path.abspath(__file__))
PO_FILE = os.path.join(os.path.dirname(HERE), "po", "zh_CN.po")
TEMPLATES = os.path.join(os.path.dirname(HERE), "templates")

SRC_FAMILY = "Noto Sans CJK SC"
FAMILY = "Noto Sans CJK SC Core"
FACES = [  # (style, source file, output file, PostScript name)
    ("Regular", "NotoSansCJKsc-Regular.otf", "NotoSansCJKsc-Core-Regular.ttf",
     "NotoSansCJKsc-Core-Regular"),
    ("Bold", "NotoSansCJKsc-Bold.otf", "NotoSansCJKsc-Core-Bold.ttf",
     "NotoSansCJKsc-Core-Bold"),
]

# Largest distance, in font units (em = 1000), between a cubic CFF curve and
# the quadratic spline that replaces it.
MAX_ERR = 1.0

# Tables of the TrueType output that are compiled from the same data as in
# the subset CFF font, so they must be byte-identical to it.
SAME_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "cmap", "OS/2", "name", "post")
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
    # hinting: default (CFF stem hints and hintmasks are kept in the
    # intermediate CFF font; the TrueType conversion drops them).
    # glyph names: default; a CID-keyed CFF has no glyph names (post format 3),
    # the charset keeps each glyph's original CID (as its glyph name "cidNNNNN"
    # in fontTools), which the checks use to match glyphs with the source.
]

# Outlines that are always compared with the source (如 氯 胺 酮 。 A).
SAMPLE = [0x5982, 0x6C2F, 0x80FA, 0x9176, 0x3002, 0x41]

# Features the Core faces may lack: they only act on Hangul (no Hangul
# syllables or jamo are kept), so the subsetter drops them as empty.
DROPPABLE_FEATURES = {"GSUB": {"calt", "ljmo", "tjmo"}}

# Pango lays out its sample text of the language to measure a font
# (pango_language_get_sample_string(), used by pango_font_get_metrics()):
# zh-cn's, then en's and fr's as Pango 1.50 has them.
PANGO_SAMPLES = ("我能吞下玻璃而不伤身体。",
                 "The quick brown fox jumps over the lazy dog.",
                 "Voix ambiguë d'un cœur qui, au zéphyr, préfère les jattes de kiwis.")

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


def printable(text):
    """The code points of text that a font must draw: not the controls, nor
    the format characters (category Cf: U+2060 WORD JOINER in the catalogue
    keeps words together; HarfBuzz draws none of them)."""
    return {ord(c) for c in text
            if ord(c) >= 0x20 and not 0x7F <= ord(c) < 0xA0 and unicodedata.category(c) != "Cf"}


def po_codepoints(path=PO_FILE):
    """Every printable character of the Chinese catalogue."""
    with open(path, encoding="utf-8") as f:
        return printable(f.read())


def template_codepoints(folder=TEMPLATES):
    """Every printable character of the installed templates, clinic profiles
    and sample data (templates/**/*.xml)."""
    cps = set()
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.xml"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            cps |= printable(f.read())
    return cps


def hot_codepoints():
    """The characters nearly every document draws from the Core faces: the
    Chinese catalogue's and the templates' text, ASCII, Latin-1, general
    and CJK punctuation, the single characters of EXTRA, and Pango's sample
    texts.  Their glyphs come first (order_glyphs())."""
    return po_codepoints() | template_codepoints() | set(EXTRA) \
        | printable("".join(PANGO_SAMPLES)) \
        | set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) \
        | set(range(0x2000, 0x2070)) | set(range(0x3000, 0x3040))


def core_codepoints(po_path=PO_FILE):
    """Return (all wanted code points, the ones that must be in the Core cmap)."""
    gb = gb2312_codepoints()
    po = po_codepoints(po_path)
    # The whole CJK Unified Ideographs block (U+4E00-U+9FFF), not only
    # GB2312's part of it: most characters of names outside GB2312 (e.g. 喆)
    # need no fallback to the full 18 MB face.
    ranges = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) \
        | set(range(0x2000, 0x2070)) | set(range(0x3000, 0x3040)) \
        | set(range(0x4E00, 0xA000)) | set(range(0xFF00, 0xFFF0))
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


def subset_options():
    options = subset.Options()
    rest = options.parse_opts(SUBSET_ARGS)
    assert not rest, rest
    return options


class _ExpectedCoverageOrder(logging.Filter):
    """order_glyphs() leaves some Coverage tables out of glyph order;
    fontTools then writes them as format 2 ranges sorted by glyph ID, each
    with its start coverage index (what the OpenType format allows), and
    warns.  Only that warning is silenced."""

    def filter(self, record):
        return "Coverage is not sorted by glyph ids" not in record.getMessage()


logging.getLogger("fontTools.ttLib.tables.otTables").addFilter(_ExpectedCoverageOrder())


# The GSUB features HarfBuzz applies to horizontal text by default, and the
# language systems pildoc's text is shaped with (zh-Hans is ZHS; the
# default one for the other languages).
DEFAULT_FEATURES = {"ccmp", "locl", "rlig", "clig", "liga", "calt", "rclt"}
DEFAULT_LANGSYS = {None, "ZHS "}


def default_substitutes(font, glyphs):
    """The glyphs GSUB's default features (DEFAULT_FEATURES, in the language
    systems DEFAULT_LANGSYS of every script) can put in place of the given
    ones, not those themselves: e.g. the ZHS 'locl' digits and the 'liga'
    fi/fl ligatures.  Single, multiple and ligature substitutions are
    followed (a ligature when all its components are reachable), until
    nothing is added; contextual lookups conservatively apply their nested
    lookups to any reachable glyph."""
    gsub = font["GSUB"].table
    features = set()
    for sr in gsub.ScriptList.ScriptRecord:
        systems = [(None, sr.Script.DefaultLangSys)] + \
            [(r.LangSysTag, r.LangSys) for r in sr.Script.LangSysRecord]
        for tag, langsys in systems:
            if langsys is not None and tag in DEFAULT_LANGSYS:
                features.update(langsys.FeatureIndex)
    lookups = set()
    for i in features:
        record = gsub.FeatureList.FeatureRecord[i]
        if record.FeatureTag in DEFAULT_FEATURES:
            lookups.update(record.Feature.LookupListIndex)

    def subtables(index):
        for st in gsub.LookupList.Lookup[index].SubTable:
            yield st.ExtSubTable if st.LookupType == 7 else st

    todo = sorted(lookups)
    while todo:   # the lookups contextual ones call
        for st in subtables(todo.pop()):
            for rec in getattr(st, "SubstLookupRecord", None) or []:
                if rec.LookupListIndex not in lookups:
                    lookups.add(rec.LookupListIndex)
                    todo.append(rec.LookupListIndex)
    reach = set(glyphs)
    while True:
        new = set()
        for index in sorted(lookups):
            for st in subtables(index):
                if st.LookupType == 1:
                    new.update(b for a, b in st.mapping.items() if a in reach)
                elif st.LookupType == 2:
                    for a, seq in st.mapping.items():
                        if a in reach:
                            new.update(seq)
                elif st.LookupType == 4:
                    for a, ligatures in st.ligatures.items():
                        if a in reach:
                            new.update(lig.LigGlyph for lig in ligatures
                                       if all(c in reach for c in lig.Component))
        if new <= reach:
            return reach - set(glyphs)
        reach |= new


def order_glyphs(font, hot):
    """Step 2b: renumber the glyphs: .notdef; then the glyphs of the hot
    code points (hot_codepoints()), in code point order, and those that
    GSUB's default features put in their place (default_substitutes()), in
    their previous order; then every other glyph the cmap maps, in order of
    its lowest code point; then the others (the glyphs only GSUB reaches) in
    their previous order.

    Why the hot glyphs first: pildoc's shaper (HarfBuzz, through Pango)
    maps the font file and reads the 'glyf' data and the 'loca'/'hmtx'
    entries of the glyphs a document uses.  The kernel maps each page that
    is read together with its neighbours (fault-around, 64 KB on the build
    machine; madvise(MADV_RANDOM) does not stop it), and every such page
    counts in the worker's resident memory.  With the glyphs in plain code
    point order the ~900 characters of the Chinese documents are spread
    over the whole 13 MB file and touched 5-6 MB of each face; first, they
    lie in the first 250 KB of 'glyf'.

    Why code point order for the rest (and within the hot glyphs):
    consecutive characters have consecutive glyphs, so the cmap stays small
    (a few hundred segments instead of the source order's ~3,600).

    Every table is decompiled first: fontTools keeps glyphs by name and
    renumbers them all when compiling (cmap, hmtx, vmtx, VORG, GSUB, GPOS,
    GDEF); the CFF table is replaced by glyf in step 3."""
    font.ensureDecompiled()
    old = font.getGlyphOrder()
    order, seen = [old[0]], {old[0]}
    cmap = font.getBestCmap()
    for first in (True, False):
        for cp in sorted(cmap):
            g = cmap[cp]
            if (cp in hot) == first and g not in seen:
                seen.add(g)
                order.append(g)
        if first:
            extra = default_substitutes(font, order) - seen
            order += [g for g in old if g in extra]
            seen |= extra
    order += [g for g in old if g not in seen]
    font.setGlyphOrder(order)


def core_subset(style, src_path, ps_name):
    """Steps 1 and 2: the renamed CID-keyed CFF subset, in memory, its glyphs
    in the order of order_glyphs().

    Returns (font, the source's PostScript name)."""
    wanted, _ = core_codepoints()
    options = subset_options()
    font = subset.load_font(src_path, options)   # no bbox/timestamp recalculation
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=sorted(wanted))
    subsetter.subset(font)
    font.cfg[USE_HARFBUZZ_REPACKER] = options.harfbuzz_repacker   # as save_font() does
    old_ps = rename(font, style, ps_name)
    order_glyphs(font, hot_codepoints())
    return font, old_ps


def quadratic_glyph(glyphset, gname, max_err=MAX_ERR):
    """The TrueType glyph for glyphset[gname]: cubic curves approximated by
    quadratic splines (cu2qu) within max_err font units, contours reversed
    (CFF outer contours run counter-clockwise, TrueType ones clockwise)."""
    pen = TTGlyphPen(None)
    glyphset[gname].draw(Cu2QuPen(pen, max_err, reverse_direction=True))
    return pen.glyph()


def vertical_origin(vorg, gname):
    return vorg.VOriginRecords.get(gname, vorg.defaultVertOriginY)


def to_truetype(font, max_err=MAX_ERR):
    """Step 3: replace the CFF outlines by TrueType ones, in place."""
    order = font.getGlyphOrder()
    glyphset = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {g: quadratic_glyph(glyphset, g, max_err) for g in order}

    # Metrics.  FreeType puts a TrueType glyph's origin at xMin - lsb, and
    # HarfBuzz, with no VORG, its vertical origin at yMax + tsb; with these
    # side bearings both stay where the CFF font had them.  Advances are
    # unchanged.  Glyphs without contours (space, ...) keep their metrics.
    vorg = font["VORG"]
    hmtx, vmtx = font["hmtx"], font["vmtx"]
    for g in order:
        glyph = glyf.glyphs[g]
        glyph.recalcBounds(glyf)
        if glyph.numberOfContours:
            hmtx[g] = (hmtx[g][0], glyph.xMin)
            vmtx[g] = (vmtx[g][0], vertical_origin(vorg, g) - glyph.yMax)
    del font["CFF "]
    del font["VORG"]          # CFF-only; the origins are in vmtx now
    font["glyf"] = glyf
    font["loca"] = newTable("loca")

    maxp = font["maxp"]       # version 0.5 (CFF) -> 1.0 (TrueType)
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for attr in ("maxPoints", "maxContours", "maxCompositePoints", "maxCompositeContours",
                 "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements",
                 "maxComponentDepth"):
        setattr(maxp, attr, 0)   # the outline ones are recalculated when saving
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0   # no glyph names (the CFF had none either)
    font.sfntVersion = "\x00\x01\x00\x00"
    # Recalculate the bounds in glyf, head, hhea and vhea, and maxp, when saving.
    font.recalcBBoxes = True


def build_face(style, src_path, out_path, ps_name):
    font, old_ps = core_subset(style, src_path, ps_name)
    nglyphs = len(font.getGlyphOrder())
    to_truetype(font)
    tmp = out_path + ".tmp"
    subset.save_font(font, tmp, subset_options())
    font.close()
    os.replace(tmp, out_path)
    print("wrote %s (%d bytes, %d glyphs, %s -> %s, TrueType)" % (
        out_path, os.path.getsize(out_path), nglyphs, old_ps, ps_name), flush=True)


def draw(glyphset, gname):
    pen = RecordingPen()
    glyphset[gname].draw(pen)
    return pen.value


def cmap_subtables(font):
    return {(t.platformID, t.platEncID, t.format, t.language):
            (t.uvsDict if t.format == 14 else t.cmap) for t in font["cmap"].tables}


def outline_stats(glyphset, gname):
    """(tight bounds, signed area, control polygon length, contours as sets of
    on-curve points) of a glyph."""
    rec = RecordingPen()
    glyphset[gname].draw(rec)
    bounds, area = BoundsPen(glyphset), AreaPen(glyphset)
    rec.replay(bounds)
    rec.replay(area)
    length, contours, start, cur = 0.0, [], None, None
    for op, args in rec.value:
        if op == "moveTo":
            start = cur = args[0]
            contours.append({start})
        elif op in ("lineTo", "curveTo", "qCurveTo"):
            for pt in args:
                length += math.dist(cur, pt)
                cur = pt
            contours[-1].add(args[-1])
        elif op == "closePath":
            length += math.dist(cur, start)
    return bounds.bounds, area.value, length, sorted(sorted(c) for c in contours)


def compare_outline(ref_gs, rname, out_gs, oname, tol):
    """Problems of the TrueType outline out_gs[oname] against the CFF one
    ref_gs[rname], independently of cu2qu: the same on-curve points, contour
    by contour; tight bounds within tol; opposite signed area (reversed
    direction), the same within tol per unit of outline length."""
    rb, ra, rlen, rcont = outline_stats(ref_gs, rname)
    ob, oa, _, ocont = outline_stats(out_gs, oname)
    if (rb is None) != (ob is None):
        return "empty in one font only"
    if rcont != ocont:
        return "on-curve points differ"
    if rb is not None and max(abs(a - b) for a, b in zip(rb, ob)) > tol:
        return "bounds %s vs %s" % (rb, ob)
    if abs(oa + ra) > tol * rlen:
        return "area %.0f vs %.0f" % (-ra, oa)
    return None


def check_face(style, src_path, out_path, ps_name, sample_step):
    """Return a list of problems (empty == OK)."""
    problems = []
    src = TTFont(src_path, lazy=True)
    out = TTFont(out_path, lazy=True)
    # The CFF subset the output was converted from, made again.  Its glyph
    # names are the CIDs, the same as in the source; after step 2b the
    # output's glyph i is its glyph i (the output has no glyph names: fontTools makes some up).
    ref, _ = core_subset(style, src_path, ps_name)
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
    for tag, attr in (("OS/2", "usWeightClass"), ("OS/2", "fsSelection"), ("head", "macStyle"),
                      ("head", "unitsPerEm"), ("head", "flags"), ("head", "fontRevision"),
                      ("head", "created"), ("head", "modified"), ("head", "lowestRecPPEM"),
                      ("hhea", "ascent"), ("hhea", "descent"), ("hhea", "lineGap"),
                      ("vhea", "ascent"), ("vhea", "descent"), ("vhea", "lineGap")):
        if getattr(src[tag], attr) != getattr(out[tag], attr):
            problems.append("%s.%s differs" % (tag, attr))

    # tables: the source's, with glyf/loca instead of CFF and VORG; no hinting
    want_tables = (set(src.keys()) - {"CFF ", "VORG"}) | {"glyf", "loca"}
    if set(out.keys()) != want_tables:
        problems.append("tables: %s, want %s" % (sorted(out.keys()), sorted(want_tables)))
    if out.sfntVersion != "\x00\x01\x00\x00":
        problems.append("sfnt version %r" % out.sfntVersion)
    if out["maxp"].tableVersion != 0x00010000 or out["maxp"].maxZones != 1:
        problems.append("maxp is not version 1.0")
    if out["head"].glyphDataFormat != 0:
        problems.append("head.glyphDataFormat %d" % out["head"].glyphDataFormat)
    if out["post"].formatType != 3:
        problems.append("post format %s" % out["post"].formatType)

    # tables made from the same data as in the CFF subset: byte-identical
    # (getTableData() gives what saving the subset would write), so cmap,
    # GSUB, GPOS, GDEF and BASE use the same glyph indices
    for tag in SAME_TABLES:
        if tag in ref and out.reader[tag] != ref.getTableData(tag):
            problems.append("%s differs from the CFF subset's" % tag)

    # cmap: covers the list; every mapping (all subtables, incl. format 14)
    # is the source's mapping (checked on the CFF subset, which has the CIDs
    # as glyph names; the output's cmap is byte-identical to it)
    scm, ocm = src.getBestCmap(), ref.getBestCmap()
    missing = sorted(u for u in required if u not in ocm)
    if missing:
        problems.append("cmap lacks %d required code points: %s" % (
            len(missing), " ".join("U+%04X" % u for u in missing[:20])))
    lost = sorted(u for u in wanted if u in scm and u not in ocm)
    if lost:
        problems.append("cmap lacks %d code points the source has" % len(lost))
    ssub, osub = cmap_subtables(src), cmap_subtables(ref)
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

    # glyphs: source glyphs (by CID), same advances, same outlines up to
    # MAX_ERR (+ rounding to integer coordinates)
    order = ref.getGlyphOrder()
    oorder = out.getGlyphOrder()
    if len(oorder) != len(order):
        problems.append("%d glyphs, the CFF subset has %d" % (len(oorder), len(order)))
        return problems
    src_glyphs = set(src.getGlyphOrder())
    alien = [g for g in order if g not in src_glyphs]
    if alien:
        problems.append("%d glyphs not in the source, e.g. %s" % (len(alien), alien[:5]))
        return problems
    for tag in ("hmtx", "vmtx"):
        diff = [g for g, o in zip(order, oorder) if src[tag][g][0] != out[tag][o][0]]
        if diff:
            problems.append("%s advances differ for %d glyphs" % (tag, len(diff)))
    glyf, vorg = out["glyf"], ref["VORG"]
    bad_sb, hinted, composite = [], [], []
    for g, o in zip(order, oorder):
        gl = glyf[o]
        if gl.isComposite():
            composite.append(g)
        elif gl.numberOfContours:
            if hasattr(gl, "program") and gl.program.getBytecode():
                hinted.append(g)
            if out["hmtx"][o][1] != gl.xMin or \
                    out["vmtx"][o][1] != vertical_origin(vorg, g) - gl.yMax:
                bad_sb.append(g)
        elif out["hmtx"][o] != src["hmtx"][g] or out["vmtx"][o] != src["vmtx"][g]:
            bad_sb.append(g)
    for what, lst in (("wrong side bearings", bad_sb), ("instructions", hinted),
                      ("components", composite)):
        if lst:
            problems.append("%d glyphs with %s, e.g. %s" % (len(lst), what, lst[:5]))

    sgs, rgs, ogs = src.getGlyphSet(), ref.getGlyphSet(), out.getGlyphSet()
    index = {g: i for i, g in enumerate(order)}
    names = {ocm[u] for u in SAMPLE if u in ocm} | set(order[::sample_step])
    differ, not_cu2qu, off = [], [], []
    for g in sorted(names):
        if draw(sgs, g) != draw(rgs, g):          # the subset keeps the outline
            differ.append(g)
        o = oorder[index[g]]
        want = quadratic_glyph(rgs, g).getCoordinates(None)
        have = glyf[o].getCoordinates(glyf)
        if (list(want[0]), list(want[1]), [f & 1 for f in want[2]]) != \
                (list(have[0]), list(have[1]), [f & 1 for f in have[2]]):
            not_cu2qu.append(g)                     # the file is the conversion
        why = compare_outline(rgs, g, ogs, o, MAX_ERR + 1.0)
        if why:                                     # ... and the conversion is close
            off.append("%s: %s" % (g, why))
    if differ:
        problems.append("%d subset outlines differ from the source, e.g. %s" % (
            len(differ), differ[:5]))
    if not_cu2qu:
        problems.append("%d glyphs are not the cu2qu conversion, e.g. %s" % (
            len(not_cu2qu), not_cu2qu[:5]))
    if off:
        problems.append("%d TrueType outlines are off, e.g. %s" % (len(off), off[:3]))
    ocmap = out.getBestCmap()
    empty = [u for u in SAMPLE if u in ocmap and not glyf[ocmap[u]].numberOfContours]
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
        os.path.basename(out_path), len(oorder), len(ocmap), len(names),
        os.path.basename(src_path)), flush=True)

    # fontconfig's view: exactly one family, the Core one, TrueType
    try:
        fc = subprocess.run(
            ["fc-scan", "--format", "%{family}|%{style}|%{postscriptname}|%{fontformat}\n",
             out_path], check=True, capture_output=True, text=True).stdout.strip()
        if fc != "%s|%s|%s|TrueType" % (FAMILY, style, ps_name):
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
