#!/usr/bin/env bash
# make bench-sizes: file sizes compared on the same content (a benchmark,
# not a test; no network).
# 1. Issue 13's size goal (41 / 49 / 183 KB) was cairo's output of the
#    leaflet of its day. The last commit whose PDFs cairo wrote (OLD, the
#    parent of the one that added src/pdfobj.c) is taken from git, built
#    under build/bench/cairo-OLD (once), and renders that day's leaflet;
#    today's pildoc renders the SAME template, catalogs and fonts
#    (PILDOC_DATADIR=that tree) --plain and tagged + PDF/A-1b.
# 2. Typst's output for today's leaflet (tests/bench/typst-leaflet.py):
#    tagged, untagged, PDF/A-1b, PDF/UA-1; only when make bench installed
#    typst.ts into build/bench.
# Bytes by part of every file: tests/bench/pdfparts.py.
set -eu
cd "$(dirname "$0")/../.."
OLD=${SIZES_OLD_COMMIT:-6af9ad6}
T=$(mktemp -d /tmp/pildoc-sizes.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600
LANGS="en fr zh_CN"
pages() { pdfinfo "$1" | awk '/^Pages:/ {print $2}'; }

old=build/bench/cairo-$OLD
if ! [ -x "$old/pildoc" ]; then
  if ! git cat-file -e "$OLD^{commit}" 2>/dev/null; then
    echo "sizes: commit $OLD not in this repository (a shallow clone?): part 1 skipped"
    old=
  else
    rm -rf "$old" && mkdir -p "$old"
    git archive "$OLD" | tar -x -C "$old"
    echo "sizes: building $OLD (cairo's PDF output) in $old ..."
    make -C "$old" -j2 all >"$T/old-build.log" 2>&1 || { tail -20 "$T/old-build.log"; exit 1; }
  fi
fi
if [ -n "$old" ]; then
  echo "== the leaflet of $OLD ($(git log -1 --format=%cs "$OLD")), same template, catalogs and fonts =="
  printf '%-6s %22s %22s %22s\n' lang "cairo ($OLD)" "pildoc --plain" "pildoc tagged+PDF/A"
  for l in $LANGS; do
    "$old/pildoc" render leaflet --lang "$l" -o "$T/cairo-$l.pdf"
    PILDOC_DATADIR="$old" ./pildoc render leaflet --lang "$l" --plain -o "$T/plain-$l.pdf"
    PILDOC_DATADIR="$old" ./pildoc render leaflet --lang "$l" -o "$T/tagged-$l.pdf"
    row=
    for k in cairo plain tagged; do
      row="$row$(printf '%22s' "$(stat -c %s "$T/$k-$l.pdf") B, $(pages "$T/$k-$l.pdf") pp")"
    done
    printf '%-6s %s\n' "$l" "$row"
  done
fi

echo "== today's leaflet =="
for l in $LANGS; do
  ./pildoc render leaflet --lang "$l" -o "$T/today-$l.pdf"
  ./pildoc render leaflet --lang "$l" --plain -o "$T/today-plain-$l.pdf"
  echo "$l: tagged+PDF/A $(stat -c %s "$T/today-$l.pdf") B, --plain $(stat -c %s "$T/today-plain-$l.pdf") B, $(pages "$T/today-$l.pdf") pp"
done

TYPST_TS_MODULES=$(realpath -m "${TYPST_TS_MODULES:-build/bench/node_modules}")
if [ -d "$TYPST_TS_MODULES/@myriaddreamin/typst-ts-node-compiler" ] && command -v node >/dev/null; then
  export TYPST_TS_MODULES
  args=
  for l in $LANGS; do
    ./pildoc render leaflet --lang "$l" --format text -o "$T/today-$l.txt"
    /usr/bin/python3 tests/bench/typst-leaflet.py "$T/today-$l.pdf" "$T/today-$l.txt" "$T/today-$l.typ" >/dev/null
    args="$args $l=$T/today-$l.typ"
  done
  echo "== Typst 0.14 (typst.ts), today's leaflet as placed lines (no images, flat structure) =="
  printf '%-6s %5s %10s %10s %10s %10s\n' lang pages tagged untagged a-1b ua-1
  # shellcheck disable=SC2086
  node tests/bench/typst-sizes.mjs fonts "$T" $args | while read -r l p a b c d; do
    printf '%-6s %5s %10s %10s %10s %10s\n' "$l" "$p" "$a" "$b" "$c" "$d"
  done
else
  echo "Typst sizes skipped: typst.ts not installed (make bench installs it into build/bench)"
fi
if /usr/bin/python3 -c 'import pikepdf' 2>/dev/null; then
  echo "== bytes by part =="
  /usr/bin/python3 tests/bench/pdfparts.py "$T"/*.pdf
fi
