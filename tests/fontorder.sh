#!/usr/bin/env bash
# The Core faces (fonts/README.md, "Glyph order") keep the glyphs of the
# characters nearly every document draws together at the start of 'glyf':
# the Chinese catalogue's, the templates' and Pango's sample text. A
# document then maps a few hundred KB of each 13 MB face instead of most of
# it (every page read counts in a worker's memory with the 64 KB around
# it). Read with the standard library only (no fontTools), so it checks the
# files as shipped. Prints "fontorder: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
T=$(mktemp -d /tmp/pildoc-fontorder.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

# FONT TEXTFILE...: prints "<glyphs> <missing> <end>": how many glyphs the
# characters of the files map to, how many characters the face lacks, and
# where the last byte of their outlines lies in 'glyf'
glyph_extent() {
  python3 - "$@" <<'PY'
import struct, sys, unicodedata
font = open(sys.argv[1], "rb").read()
tables = {}
for i in range(struct.unpack(">H", font[4:6])[0]):
    tag, _, off, length = struct.unpack(">4sIII", font[12 + 16 * i:28 + 16 * i])
    tables[tag.decode()] = (off, length)
def table(tag):
    off, length = tables[tag]
    return font[off:off + length]
long_loca = struct.unpack(">h", table("head")[50:52])[0] == 1
loca = table("loca")
if long_loca:
    offsets = struct.unpack(">%dI" % (len(loca) // 4), loca)
else:
    offsets = [2 * x for x in struct.unpack(">%dH" % (len(loca) // 2), loca)]
cmap = table("cmap")
sub = None
for i in range(struct.unpack(">H", cmap[2:4])[0]):
    pid, eid, off = struct.unpack(">HHI", cmap[4 + 8 * i:12 + 8 * i])
    if (pid, eid) == (3, 1) and struct.unpack(">H", cmap[off:off + 2])[0] == 4:
        sub = off
assert sub is not None, "no (3,1) format 4 cmap"
segs = struct.unpack(">H", cmap[sub + 6:sub + 8])[0] // 2
def arr(k):
    at = sub + 14 + k * 2 * segs + (2 if k > 0 else 0)
    return at, struct.unpack(">%dH" % segs, cmap[at:at + 2 * segs])
_, ends = arr(0)
_, starts = arr(1)
_, deltas = arr(2)
ro_at, ranges = arr(3)
def gid(cp):
    for s in range(segs):
        if ends[s] >= cp:
            if starts[s] > cp:
                return 0
            if ranges[s] == 0:
                return (cp + deltas[s]) & 0xFFFF
            at = ro_at + 2 * s + ranges[s] + 2 * (cp - starts[s])
            g = struct.unpack(">H", cmap[at:at + 2])[0]
            return (g + deltas[s]) & 0xFFFF if g else 0
    return 0
text = "".join(open(f, encoding="utf-8").read() for f in sys.argv[2:])
cps = {ord(c) for c in text
       if ord(c) >= 0x20 and not 0x7F <= ord(c) < 0xA0 and unicodedata.category(c) != "Cf"}
glyphs = {gid(c) for c in cps} - {0}
missing = sum(1 for c in cps if gid(c) == 0)
print(len(glyphs), missing, max(offsets[g + 1] for g in glyphs))
PY
}

# Pango measures a font by laying out its sample text of the language
# (pango_language_get_sample_string): zh-cn's
printf '我能吞下玻璃而不伤身体。\n' > "$T/pango-sample.txt"
for face in Regular Bold; do
  f=fonts/NotoSansCJKsc-Core-$face.ttf
  read -r glyphs missing end < <(glyph_extent "$f" po/zh_CN.po "$T/pango-sample.txt") || true
  check "$face: the face maps the catalogue's characters (${glyphs:-?} glyphs, ${missing:-?} missing)" \
    test "${missing:-1}" = 0 -a "${glyphs:-0}" -gt 800
  # ~250 KB today; in code point order they spread over 12 MB
  check "$face: their outlines lie in the first 384 KB of 'glyf' (they end at $((${end:-0} / 1024)) KB)" \
    test "${end:-999999999}" -le $((384 * 1024))
  mapfile -t tpl < <(find templates -name '*.xml' | sort)
  read -r glyphs missing end < <(glyph_extent "$f" "${tpl[@]}") || true
  check "$face: so do the templates' characters (they end at $((${end:-0} / 1024)) KB)" \
    test "${end:-999999999}" -le $((384 * 1024))
done

summary fontorder
