#!/usr/bin/python3
"""Make fonts/NotoSans-{Regular,Bold,Italic,BoldItalic}.ttf: Debian's Noto Sans
without TrueType hinting.

Maintainer tool; the build does not run it.

    apt-get install fonts-noto-core python3-fonttools
    /usr/bin/python3 fonts/make-unhinted-latin.py          # rebuild, then check
    /usr/bin/python3 fonts/make-unhinted-latin.py --check  # only check

Why: pildoc lays text out and paints it unhinted (src/fonts.c), yet cairo
copies each glyph's TrueType instructions and the fpgm/prep/cvt tables into
every font subset it embeds in a PDF, then deflates them: about 40 % of Noto
Sans' glyf data are instructions.  Without them every English or French PDF
is smaller and quicker to write (see README.md for the figures).

What changes: every glyph's instructions are removed (fontTools'
Glyph.removeHinting()), fpgm, prep, cvt (and hdmx, LTSH, VDMX if present)
go, so does the (empty) DSIG signature, and maxp's instruction limits become 0.  Every other table is written
back as it was read; outlines, advances, cmap and GSUB/GPOS/GDEF are
unchanged, which check() verifies against the source.  The family and style names stay
(the OFL of Noto Sans reserves no font name).
"""

import argparse
import hashlib
import os
import subprocess
import sys

from fontTools.ttLib import TTFont

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_DIR = "/usr/share/fonts/truetype/noto"
# Debian 12 fonts-noto-core 20201225-1 (Noto Sans 2.004)
SOURCES = {
    "NotoSans-Regular.ttf": "89c3c497f618fdaa0b2d1e98fef93582f28c71debd2c4a8cdf41f190ced2909d",
    "NotoSans-Bold.ttf": "e83493c945848ecd4a9ad0f6d19164541a0d3e23a9c952304a00a46e00272ac5",
    "NotoSans-Italic.ttf": "5d7618dda819443fd07301c84adcee9fe8960c873ea5e5e1f0f59db384b78082",
    "NotoSans-BoldItalic.ttf": "4315b26e5afb62f70f5ffe0edaa3363e57765ff2af2beda12b6fef197e3e5f5a",
}
HINTING_TABLES = {"fpgm", "prep", "cvt ", "hdmx", "LTSH", "VDMX"}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def build(name, out_dir):
    src = os.path.join(SRC_DIR, name)
    if not os.path.exists(src):
        sys.exit("%s missing: apt-get install fonts-noto-core" % src)
    if sha256(src) != SOURCES[name]:
        sys.exit("%s is not the Debian 12 file this script expects" % src)
    # tables other than glyf/maxp are copied as they are; no new timestamp
    font = TTFont(src, recalcTimestamp=False)
    glyf = font["glyf"]
    for g in font.getGlyphOrder():
        glyf[g].removeHinting()
    # a digital signature cannot survive the change (Noto's is an empty one)
    for tag in (HINTING_TABLES | {"DSIG"}) & set(font.keys()):
        del font[tag]
    maxp = font["maxp"]
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                 "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions"):
        setattr(maxp, attr, 1 if attr == "maxZones" else 0)
    out = os.path.join(out_dir, name)
    font.save(out + ".tmp")
    font.close()
    os.replace(out + ".tmp", out)
    print("wrote %s (%d bytes)" % (out, os.path.getsize(out)), flush=True)


def check(name, out_dir):
    """Problems of the unhinted face against the source (empty == OK)."""
    problems = []
    src = TTFont(os.path.join(SRC_DIR, name))
    out = TTFont(os.path.join(out_dir, name))
    if src.getGlyphOrder() != out.getGlyphOrder():
        problems.append("glyph order differs")
        return problems
    left = set(out.keys()) & HINTING_TABLES
    if left:
        problems.append("hinting tables left: %s" % sorted(left))
    gone = set(src.keys()) - set(out.keys()) - HINTING_TABLES - {"DSIG"}
    if gone:
        problems.append("tables lost: %s" % sorted(gone))
    for tag in ("cmap", "GSUB", "GPOS", "GDEF", "hmtx", "name", "OS/2", "post", "kern"):
        if tag in src and src.getTableData(tag) != out.getTableData(tag):
            problems.append("%s differs" % tag)
    sg, og = src["glyf"], out["glyf"]
    differ, hinted = [], []
    for g in src.getGlyphOrder():
        a, b = sg[g], og[g]
        ca, cb = a.getCoordinates(sg), b.getCoordinates(og)
        if (list(ca[0]), list(ca[1]), [f & 1 for f in ca[2]]) != \
                (list(cb[0]), list(cb[1]), [f & 1 for f in cb[2]]):
            differ.append(g)
        if hasattr(b, "program") and b.program.getBytecode():
            hinted.append(g)
    if differ:
        problems.append("%d outlines differ, e.g. %s" % (len(differ), differ[:5]))
    if hinted:
        problems.append("%d glyphs keep instructions" % len(hinted))
    fc = lambda p: subprocess.run(
        ["fc-scan", "--format", "%{family}|%{style}|%{postscriptname}|%{fontformat}", p],
        check=True, capture_output=True, text=True).stdout
    if fc(os.path.join(SRC_DIR, name)) != fc(os.path.join(out_dir, name)):
        problems.append("fontconfig sees another face")
    print("%s: %d glyphs, outlines and layout as in the source" % (
        name, len(out.getGlyphOrder())) if not problems else name, flush=True)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", default=HERE)
    ap.add_argument("--check", action="store_true", help="only check existing outputs")
    args = ap.parse_args()
    failed = False
    for name in SOURCES:
        if not args.check:
            build(name, args.outdir)
        problems = check(name, args.outdir)
        print("%s  %s  %s" % (sha256(os.path.join(args.outdir, name)), name,
                              "OK" if not problems else "FAILED"))
        for p in problems:
            print("  - " + p)
        failed |= bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
