#!/usr/bin/env bash
# A fresh process (issue 13): what `pildoc render` loads and starts.
#  - librsvg, libmicrohttpd and libgettextpo (with GnuTLS and the rest they
#    pull in) are opened only when an SVG, `serve` or `langs` needs them
#    (src/lazylib.h), and then work;
#  - Pango's font matching runs in the calling thread, not in two threads
#    per font pattern (src/fonts.c): a render starts at most three threads
#    (Pango's FcInit, the glyph warm-up and the layout plan's), where it
#    started 95;
#  - the glyphs a render measured are listed in the cache folder; the next
#    render measures them on a thread of its own (src/glyphwarm.h), or at
#    once when none can be started, with the same bytes;
#  - the paragraphs a render shaped are kept there too (never a job's
#    values); the next render shapes them from the last one back on a
#    second thread (src/layoutplan.h), with the same bytes;
#  - fontconfig's cache of the fonts is used, not rewritten, when
#    SOURCE_DATE_EPOCH is set;
#  - an SVG's pixels are kept in the cache folder: the next render opens
#    no librsvg, with the same bytes (src/image.c);
#  - so are the fonts' base subsets: the next render subsets nothing, with
#    the same bytes (src/pdffont.c); the folder stays bounded
#    (src/diskcache.h).
# Prints "startup: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
T=$(mktemp -d /tmp/pildoc-startup.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600

# the shared objects a command opens, one soname per line (glibc's LD_DEBUG)
opened() {
  LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" "$@" > /dev/null 2>&1
  local st=$?
  sed -n 's/.*file=\([^ ]*\) .*/\1/p' "$T"/ld.* | sort -u
  rm -f "$T"/ld.*
  return $st
}

for l in en fr zh_CN; do
  opened ./pildoc render leaflet --lang $l -o "$T/leaflet-$l.pdf" > "$T/libs-$l"
  check "render leaflet --lang $l succeeds" test -s "$T/leaflet-$l.pdf"
  check "render leaflet --lang $l opens no libmicrohttpd, libgettextpo, GnuTLS" \
    bash -c "! grep -E 'libmicrohttpd|libgettextpo|libgnutls' '$T/libs-$l'"
  check "render leaflet --lang $l opens Pango and libxml2" \
    bash -c "grep -q libpango-1.0 '$T/libs-$l' && grep -q libxml2 '$T/libs-$l'"
done
# the consent sheet has no picture: no librsvg either
opened ./pildoc render consent --lang zh_CN -o "$T/consent.pdf" > "$T/libs-consent"
check "render consent succeeds" test -s "$T/consent.pdf"
check "render consent opens no librsvg, libmicrohttpd, libgettextpo, GnuTLS" \
  bash -c "! grep -E 'librsvg|libmicrohttpd|libgettextpo|libgnutls' '$T/libs-consent'"

# an SVG logo opens librsvg (with an empty cache folder), and the logo is drawn
export XDG_CACHE_HOME="$T/svgcache"
mkdir -m 700 "$XDG_CACHE_HOME"
opened ./pildoc render leaflet --lang fr --clinic templates/clinics/paris.xml -o "$T/paris.pdf" > "$T/libs-svg"
check "an SVG logo: render succeeds" test -s "$T/paris.pdf"
check "an SVG logo opens librsvg" grep -q '^librsvg' "$T/libs-svg"
# ... in a process of its own (pildoc draw-svg, src/image.c): the render's
# own process never maps librsvg's 8 MB (LD_DEBUG writes a file per process)
mkdir -m 700 "$T/svgcache2"
(
  export XDG_CACHE_HOME="$T/svgcache2"
  LD_DEBUG=files LD_DEBUG_OUTPUT="$T/own" ./pildoc render leaflet --lang fr \
    --clinic templates/clinics/paris.xml -o "$T/paris-own.pdf" > /dev/null 2>&1 &
  echo $! > "$T/own-pid"
  wait
)
check "an SVG logo: the render's own process opens no librsvg" \
  bash -c "test -s '$T/own.$(cat "$T/own-pid")' && ! grep -q 'file=librsvg' '$T/own.$(cat "$T/own-pid")'"
check "an SVG logo: a process of its own opens librsvg (one for each of the 2 SVGs)" \
  test "$(grep -l 'file=librsvg' "$T"/own.* | wc -l)" = 2
check "two renders that draw their SVGs (2 cache folders), the same bytes" cmp -s "$T/paris.pdf" "$T/paris-own.pdf"
# so a render that draws its SVGs needs no more memory than one that finds
# them kept (it was 7 MB more: librsvg and the libraries it brings)
mkdir -m 700 "$T/svgcache3"
XDG_CACHE_HOME="$T/svgcache3" /usr/bin/time -f %M -o "$T/rss-cold" ./pildoc render leaflet --lang fr \
  --clinic templates/clinics/paris.xml -o "$T/paris-cold.pdf" > /dev/null 2>&1
XDG_CACHE_HOME="$T/svgcache3" /usr/bin/time -f %M -o "$T/rss-warm" ./pildoc render leaflet --lang fr \
  --clinic templates/clinics/paris.xml -o "$T/paris-warm.pdf" > /dev/null 2>&1
check "drawing the SVGs adds less than 3 MB to the render's peak memory ($(cat "$T/rss-cold") against $(cat "$T/rss-warm") kB)" \
  test $(($(cat "$T/rss-cold") - $(cat "$T/rss-warm"))) -lt 3072
# pildoc draw-svg itself: an answer on standard output; a usage error
check "pildoc draw-svg answers with the pixels" \
  bash -c './pildoc draw-svg 64 $$ < templates/pictograms/no-driving.svg | head -c 1 | grep -q P'
check "pildoc draw-svg refuses what is not a size (exit 2)" \
  bash -c './pildoc draw-svg big $$ < /dev/null 2> /dev/null; test $? = 2'
check "pildoc draw-svg whose parent is not the one named: exits at once, answers nothing" \
  bash -c 'test -z "$(./pildoc draw-svg 64 1 < templates/pictograms/no-driving.svg)"'
# a drawing process dies with the process that asked (a worker killed
# meanwhile): an SVG that takes most of a second to draw (3 masked,
# translucent squares at 4096 pixels: 6 layers, as many as that size
# allows), its asker killed while it draws
python3 - "$T/slow.svg" <<'PY'
import sys
r = ''.join('<rect x="%d" width="4000" height="4000" opacity=".5" mask="url(#m)"/>' % i for i in range(3))
open(sys.argv[1], 'w').write('<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="4000">'
                             '<mask id="m"><rect width="4000" height="4000" fill="#888"/></mask>%s</svg>' % r)
PY
sh -c "./pildoc draw-svg 4096 \$\$ < '$T/slow.svg' > /dev/null & sleep 0.15;
  pgrep -f 'draw-sv[g] 4096' > '$T/alive'; kill -9 \$\$" 2> /dev/null
sleep 0.2 # it would draw for most of a second more
check "a drawing process whose asker was killed: it was drawing then (test set-up)" test -s "$T/alive"
check "a drawing process whose asker was killed is gone" bash -c "! pgrep -f 'draw-sv[g] 4096' > /dev/null"
# its pixels are kept: the next render opens no librsvg, and is identical
check "the drawn SVGs are kept in the cache folder (logo and pictogram: 2 files)" \
  test "$(ls "$XDG_CACHE_HOME"/pildoc/svg-*.rgba 2> /dev/null | wc -l)" = 2
opened ./pildoc render leaflet --lang fr --clinic templates/clinics/paris.xml -o "$T/paris2.pdf" > "$T/libs-svg2"
check "with the SVGs kept, a render opens no librsvg" bash -c "! grep -q '^librsvg' '$T/libs-svg2'"
check "with the SVGs kept, the same bytes" cmp -s "$T/paris.pdf" "$T/paris2.pdf"
# a damaged or short kept file is drawn again (and replaced), same bytes
for f in "$XDG_CACHE_HOME"/pildoc/svg-*.rgba; do
  b=$(od -An -tu1 -j5000 -N1 "$f")
  printf "\\x$(printf %02x $(((b + 1) % 256)))" | dd of="$f" bs=1 seek=5000 conv=notrunc status=none
done
opened ./pildoc render leaflet --lang fr --clinic templates/clinics/paris.xml -o "$T/paris3.pdf" > "$T/libs-svg3"
check "a damaged kept file: librsvg draws again" grep -q '^librsvg' "$T/libs-svg3"
check "a damaged kept file: the same bytes" cmp -s "$T/paris.pdf" "$T/paris3.pdf"
for f in "$XDG_CACHE_HOME"/pildoc/svg-*.rgba; do
  truncate -s 100 "$f"
done
./pildoc render leaflet --lang fr --clinic templates/clinics/paris.xml -o "$T/paris4.pdf" > /dev/null 2>&1
check "a short kept file: the same bytes" cmp -s "$T/paris.pdf" "$T/paris4.pdf"
opened ./pildoc render leaflet --lang fr --clinic templates/clinics/paris.xml -o "$T/paris5.pdf" > "$T/libs-svg5"
check "the short file was replaced: no librsvg the next time" bash -c "! grep -q '^librsvg' '$T/libs-svg5'"
# no usable cache folder (another user's or group-writable): drawn each time
chmod 770 "$XDG_CACHE_HOME/pildoc"
opened ./pildoc render leaflet --lang fr --clinic templates/clinics/paris.xml -o "$T/paris6.pdf" > "$T/libs-svg6"
check "a group-writable cache folder is not read: librsvg draws" grep -q '^librsvg' "$T/libs-svg6"
check "without the cache, the same bytes" cmp -s "$T/paris.pdf" "$T/paris6.pdf"
chmod 700 "$XDG_CACHE_HOME/pildoc"
unset XDG_CACHE_HOME
./pildoc render leaflet --lang fr --clinic templates/clinics/paris.xml --format png -o "$T/paris.png" > /dev/null 2>&1
./pildoc render leaflet --lang fr --format png -o "$T/plain.png" > /dev/null 2>&1
check "an SVG logo changes the page (PNG differs from the one without logo)" \
  bash -c "! cmp -s '$T/paris.png' '$T/plain.png'"

# The fonts' base subsets are kept in the cache folder (src/pdffont.c): the
# next render calls hb-subset for none of them (counted by an LD_PRELOAD
# wrapper of hb_subset_plan_execute_or_fail and hb_subset_or_fail) and does
# not rewrite them; so is a form's font (src/pdfform.c); a damaged, short,
# misnamed, linked or another user's file is made again (and replaced); a
# group-writable folder is not used; every output is the same bytes.
cat > "$T/subsets.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
typedef struct hb_subset_plan_t hb_subset_plan_t;
typedef struct hb_face_t hb_face_t;
typedef struct hb_subset_input_t hb_subset_input_t;
static int calls;
hb_face_t *hb_subset_plan_execute_or_fail(hb_subset_plan_t *plan)
{
    static hb_face_t *(*real)(hb_subset_plan_t *);
    if (!real)
        real = (hb_face_t * (*)(hb_subset_plan_t *)) dlsym(RTLD_NEXT, "hb_subset_plan_execute_or_fail");
    calls++;
    return real(plan);
}
/* the form's font (src/pdfform.c) */
hb_face_t *hb_subset_or_fail(hb_face_t *face, const hb_subset_input_t *input)
{
    static hb_face_t *(*real)(hb_face_t *, const hb_subset_input_t *);
    if (!real)
        real = (hb_face_t * (*)(hb_face_t *, const hb_subset_input_t *)) dlsym(RTLD_NEXT, "hb_subset_or_fail");
    calls++;
    return real(face, input);
}
__attribute__((destructor)) static void report(void)
{
    const char *out = getenv("COUNT_OUT");
    FILE *f = out ? fopen(out, "w") : NULL;
    if (f) {
        fprintf(f, "%d\n", calls);
        fclose(f);
    }
}
C
counting=yes
# (not under AddressSanitizer, whose runtime must be the first library loaded)
if [ -n "${PILDOC_SANITIZED:-}" ]; then
  counting=
  echo "startup: hb-subset counts skipped in a sanitized build (the files' identity still checked)"
elif ! gcc -shared -fPIC -o "$T/subsets.so" "$T/subsets.c" -ldl 2> "$T/subsets.log"; then
  ko "cannot build the hb-subset counter: $(cat "$T/subsets.log")"
  counting=
fi
F="$T/fontcache"
mkdir -m 700 "$F"
mkdir -m 700 "$T/groupw"
mkdir -m 770 "$T/groupw/pildoc"
# render CACHE-HOME [ARGS...]: leaflet zh_CN (or TEMPLATE=...) into
# $T/f.pdf; $T/subsets: hb-subset calls
render() {
  local home=$1
  shift
  rm -f "$T/f.pdf" "$T/subsets"
  if [ -n "$counting" ]; then
    XDG_CACHE_HOME="$home" COUNT_OUT="$T/subsets" LD_PRELOAD="$T/subsets.so" \
      ./pildoc render "${TEMPLATE:-leaflet}" --lang zh_CN -o "$T/f.pdf" "$@" > /dev/null 2>&1
  else
    XDG_CACHE_HOME="$home" ./pildoc render "${TEMPLATE:-leaflet}" --lang zh_CN -o "$T/f.pdf" "$@" > /dev/null 2>&1
  fi
}
# check_subsets DESCRIPTION none|some: hb-subset called for no subset, or for some
check_subsets() {
  [ -n "$counting" ] || return 0
  local n
  n=$(cat "$T/subsets" 2> /dev/null || echo missing)
  if [ "$2" = none ]; then
    check "$1: hb-subset not called (called $n times)" test "$n" = 0
  else
    check "$1: hb-subset called (called $n times)" test "$n" != missing -a "$n" != 0
  fi
}
ids() { stat -c '%n %i %Y' "$F"/pildoc/font-*.pdffont 2> /dev/null; }
render "$T/groupw"
cp "$T/f.pdf" "$T/ref.pdf"
check_subsets "a group-writable cache folder" some
check "a group-writable cache folder: nothing kept there" test -z "$(ls -A "$T/groupw/pildoc")"
render "$T/groupw"
check_subsets "a group-writable cache folder, again" some
check "a group-writable cache folder: the same bytes" cmp -s "$T/ref.pdf" "$T/f.pdf"
render "$F"
check_subsets "an empty cache folder" some
check "an empty cache folder: the same bytes" cmp -s "$T/ref.pdf" "$T/f.pdf"
check "the Chinese leaflet's base subsets are kept (3 faces: 3 files)" \
  test "$(ls "$F"/pildoc/font-*.pdffont 2> /dev/null | wc -l)" = 3
ids > "$T/ids1"
sleep 1
render "$F"
check_subsets "with the subsets kept" none
check "with the subsets kept: the same bytes" cmp -s "$T/ref.pdf" "$T/f.pdf"
ids > "$T/ids2"
check "with the subsets kept: the files are read, not written again" cmp -s "$T/ids1" "$T/ids2"
# one byte changed in the middle of each file
for f in "$F"/pildoc/font-*.pdffont; do
  at=$(($(stat -c %s "$f") / 2))
  b=$(od -An -tu1 -j$at -N1 "$f")
  printf "\\x$(printf %02x $(((b + 1) % 256)))" | dd of="$f" bs=1 seek=$at conv=notrunc status=none
done
render "$F"
check_subsets "damaged kept subsets" some
check "damaged kept subsets: the same bytes" cmp -s "$T/ref.pdf" "$T/f.pdf"
ids > "$T/ids3"
check "damaged kept subsets are replaced (new files)" bash -c "! grep -qxFf '$T/ids2' '$T/ids3'"
render "$F"
check_subsets "replaced subsets" none
for f in "$F"/pildoc/font-*.pdffont; do
  truncate -s 100 "$f"
done
render "$F"
check_subsets "short kept subsets" some
check "short kept subsets: the same bytes" cmp -s "$T/ref.pdf" "$T/f.pdf"
render "$F"
check_subsets "short subsets, replaced" none
# another entry's file under a subset's name (its header names another key),
# and a symbolic link to the right file: made again
set -- "$F"/pildoc/font-*.pdffont
cp "$1" "$T/first"
cp "$2" "$1"
mv "$3" "$T/third"
ln -s "$T/third" "$3"
render "$F"
check_subsets "a file of another key, a link" some
check "a file of another key, a link: the same bytes" cmp -s "$T/ref.pdf" "$T/f.pdf"
check "the link was replaced by a file" test -f "$3" -a ! -L "$3"
render "$F"
check_subsets "after them" none
check "after them: the same bytes" cmp -s "$T/ref.pdf" "$T/f.pdf"
# another user's file (here only root can make one): made again, replaced
if [ "$(id -u)" = 0 ]; then
  set -- "$F"/pildoc/font-*.pdffont
  chown nobody "$1"
  render "$F"
  check_subsets "another user's kept subset" some
  check "another user's kept subset: the same bytes" cmp -s "$T/ref.pdf" "$T/f.pdf"
  check "another user's kept subset is replaced by one of our own" test -O "$1"
else
  echo "startup: another user's cache file not tried (not root)"
fi
# the other documents and options with the subsets kept: the same bytes
for args in "--paper letter" "--plain" "--large-print"; do
  render "$T/groupw" $args
  cp "$T/f.pdf" "$T/ref2.pdf"
  render "$F" $args
  render "$F" $args
  check_subsets "kept subsets, leaflet $args" none
  check "kept subsets, leaflet $args: the same bytes" cmp -s "$T/ref2.pdf" "$T/f.pdf"
done
# a form's font (GB 2312's ideographs for Chinese): kept, then read
TEMPLATE=consent render "$T/groupw" --form
cp "$T/f.pdf" "$T/ref-form.pdf"
TEMPLATE=consent render "$F" --form
check_subsets "a Chinese form, first" some
check "the form's font is kept (1 file)" test "$(ls "$F"/pildoc/form-*.pdffont 2> /dev/null | wc -l)" = 1
check "a Chinese form, first: the same bytes" cmp -s "$T/ref-form.pdf" "$T/f.pdf"
TEMPLATE=consent render "$F" --form
check_subsets "a Chinese form with its font and subsets kept" none
check "a Chinese form with its font kept: the same bytes" cmp -s "$T/ref-form.pdf" "$T/f.pdf"
f=$(ls "$F"/pildoc/form-*.pdffont | head -1)
at=$(($(stat -c %s "$f") / 2))
b=$(od -An -tu1 -j$at -N1 "$f")
printf "\\x$(printf %02x $(((b + 1) % 256)))" | dd of="$f" bs=1 seek=$at conv=notrunc status=none
TEMPLATE=consent render "$F" --form
check_subsets "a damaged form font" some
check "a damaged form font: the same bytes" cmp -s "$T/ref-form.pdf" "$T/f.pdf"
TEMPLATE=consent render "$F" --form
check_subsets "a form font replaced" none
# the folder is bounded (src/diskcache.h: 256 files, 64 MB): entries
# beyond are removed oldest first when one is written; fontconfig's files
# and others stay
rm -f "$F"/pildoc/font-*.pdffont
for i in $(seq 300); do
  f="$F/pildoc/svg-$(printf %064x $i).rgba"
  echo x > "$f"
  touch -d "@$((1700000000 + i))" "$f"
done
touch -d "@1600000000" "$F/pildoc/not-ours.txt"
render "$F"
entries() { ls "$F"/pildoc | grep -Ec '^[a-z]+-[0-9a-f]{64}\.[a-z0-9]+$'; }
check "300 entries: trimmed to 256 when one is written ($(entries))" test "$(entries)" = 256
check "the subsets just kept stay" test "$(ls "$F"/pildoc/font-*.pdffont 2> /dev/null | wc -l)" = 3
check "the oldest entries were removed, the newest stay" \
  test ! -e "$F/pildoc/svg-$(printf %064x 1).rgba" -a -e "$F/pildoc/svg-$(printf %064x 300).rgba"
check "other files in the folder stay (fontconfig's cache, others)" \
  bash -c "test -e '$F/pildoc/not-ours.txt' && ls '$F'/pildoc | grep -q 'cache-'"
check "with a full folder: the same bytes" cmp -s "$T/ref.pdf" "$T/f.pdf"
# 65 MB in an entry newer than the others: it and all older ones go
big="$F/pildoc/svg-$(printf %064x 1000).rgba"
truncate -s 65M "$big"
touch -d "@1795000000" "$big"
rm -f "$F"/pildoc/font-*.pdffont
render "$F"
check "over 64 MB: the entries written before the new ones were removed ($(entries) left)" \
  bash -c "test ! -e '$big' && ! ls '$F/pildoc' | grep -q '^svg-0000000000000000'"
check "over 64 MB: the subsets just kept stay" test "$(ls "$F"/pildoc/font-*.pdffont 2> /dev/null | wc -l)" = 3

# langs reads the catalogs with libgettextpo, opened then
opened ./pildoc langs > "$T/libs-langs"
check "langs opens libgettextpo" grep -q '^libgettextpo' "$T/libs-langs"
./pildoc langs > "$T/langs.txt" 2>&1
check "langs counts the French leaflet's messages" grep -Eq '^fr +leaflet +[0-9]+ +0 +0$' "$T/langs.txt"

# fontconfig's cache of the font folder, written with SOURCE_DATE_EPOCH set,
# is used by the next render, not scanned and rewritten every time (4-5 ms
# of a fresh render; src/fonts.c, S_build_fonts); the dates still come from
# SOURCE_DATE_EPOCH
C="$T/cachehome"
mkdir -m 700 "$C"
XDG_CACHE_HOME="$C" ./pildoc render consent --lang en -o "$T/fc1.pdf" > /dev/null 2>&1
cache=$(ls "$C"/pildoc/*.cache-* 2> /dev/null | head -1)
check "a render writes fontconfig's cache into XDG_CACHE_HOME/pildoc" test -n "$cache"
before=$(stat -c '%i %Y' "$cache" 2> /dev/null)
sleep 1
XDG_CACHE_HOME="$C" ./pildoc render consent --lang en -o "$T/fc2.pdf" > /dev/null 2>&1
check "the next render with SOURCE_DATE_EPOCH set keeps that cache (not rewritten)" \
  test "$(stat -c '%i %Y' "$cache" 2> /dev/null)" = "$before"
check "renders with the cache written and with it read are identical" cmp -s "$T/fc1.pdf" "$T/fc2.pdf"
check "the PDF's dates still come from SOURCE_DATE_EPOCH" \
  bash -c "pdfinfo '$T/fc2.pdf' | grep -q '^CreationDate: *Sun Nov 22 00:00:00 2026'"

# the glyph warm-up (src/glyphwarm.h): a render lists the glyphs it
# measured; the next render of the same document reads the list and
# leaves it as it is; a damaged list is made again; the same bytes always
W="$T/warmhome"
mkdir -m 700 "$W"
warmlist() { ls "$W"/pildoc/warm-*.glyphs 2> /dev/null; }
XDG_CACHE_HOME="$W" ./pildoc render leaflet --lang zh_CN -o "$T/w1.pdf" > /dev/null 2>&1
check "a render lists the glyphs it measured (one warm-*.glyphs)" test "$(warmlist | wc -l)" = 1
before=$(stat -c '%i %Y' $(warmlist) 2> /dev/null)
sleep 1
XDG_CACHE_HOME="$W" ./pildoc render leaflet --lang zh_CN -o "$T/w2.pdf" > /dev/null 2>&1
check "the next render, warmed from the list, gives the same bytes" cmp -s "$T/w1.pdf" "$T/w2.pdf"
check "the next render leaves the list as it is" test "$(stat -c '%i %Y' $(warmlist) 2> /dev/null)" = "$before"
printf 'garbage' | dd of="$(warmlist)" bs=1 seek=200 conv=notrunc 2> /dev/null
XDG_CACHE_HOME="$W" ./pildoc render leaflet --lang zh_CN -o "$T/w3.pdf" > /dev/null 2>&1
check "a damaged list: the same bytes" cmp -s "$T/w1.pdf" "$T/w3.pdf"
check "a damaged list is made again" test "$(stat -c '%i' $(warmlist) 2> /dev/null)" != "${before%% *}"
XDG_CACHE_HOME="$W" ./pildoc render leaflet --lang en -o "$T/w-en.pdf" > /dev/null 2>&1
check "another document has its own list" test "$(warmlist | wc -l)" = 2
XDG_CACHE_HOME="$W" ./pildoc render leaflet --lang zh_CN --format png -o "$T/w.png" > /dev/null 2>&1
XDG_CACHE_HOME="$T/none" ./pildoc render leaflet --lang zh_CN --format png -o "$T/w-cold.png" > /dev/null 2>&1
check "a PNG, warmed: the same pixels as without the list" cmp -s "$T/w.png" "$T/w-cold.png"

# the layout plan (src/layoutplan.h): a render keeps the paragraphs it
# shaped; the next render of the same document shapes them from the end
# on a second thread; the same bytes always, and never a job's values
planlist() { ls "$W"/pildoc/plan-*.layouts 2> /dev/null; }
check "a render keeps its paragraphs (plan-*.layouts: one per document, $(planlist | wc -l) for 2)" \
  test "$(planlist | wc -l)" = 2
check "the plan holds the template's text (治疗, of the Chinese leaflet)" grep -q '治疗' $(planlist) /dev/null
XDG_CACHE_HOME="$W" PILDOC_TIMING=1 ./pildoc render leaflet --lang zh_CN -o "$T/p1.pdf" 2> "$T/p1.log" > /dev/null
planned=$(sed -n 's/.* of \([0-9]*\) planned paragraphs.*/\1/p' "$T/p1.log")
check "the next render reads the plan (${planned:-no} paragraphs planned)" test "${planned:-0}" -gt 100
check "a render with the plan gives the same bytes" cmp -s "$T/w1.pdf" "$T/p1.pdf"
before=$(stat -c '%i %Y' $(planlist | head -1) $(planlist | tail -1) 2> /dev/null)
XDG_CACHE_HOME="$W" ./pildoc render leaflet --lang zh_CN -o "$T/p2.pdf" > /dev/null 2>&1
check "an unchanged plan is not written again" \
  test "$(stat -c '%i %Y' $(planlist | head -1) $(planlist | tail -1) 2> /dev/null)" = "$before"
for f in $(planlist); do printf 'garbage' | dd of="$f" bs=1 seek=300 conv=notrunc 2> /dev/null; done
XDG_CACHE_HOME="$W" PILDOC_TIMING=1 ./pildoc render leaflet --lang zh_CN -o "$T/p3.pdf" 2> "$T/p3.log" > /dev/null
check "a damaged plan is not used (0 planned) and the bytes are the same" \
  bash -c "grep -q ' of 0 planned paragraphs' '$T/p3.log' && cmp -s '$T/w1.pdf' '$T/p3.pdf'"
XDG_CACHE_HOME="$W" PILDOC_TIMING=1 ./pildoc render leaflet --lang zh_CN -o "$T/p4.pdf" 2> "$T/p4.log" > /dev/null
check "a damaged plan is made again" bash -c "! grep -q ' of 0 planned paragraphs' '$T/p4.log'"
P="$T/planhome"
mkdir -m 700 "$P"
for i in 1 2; do
  XDG_CACHE_HOME="$P" ./pildoc render consent --lang fr --also en --large-print \
    --set patient.name=Qzxwvyk-Plbnm --set patient.id=HX-77123-Q -o "$T/pc$i.pdf" > /dev/null 2>&1
done
./pildoc render consent --lang fr --also en --large-print \
  --set patient.name=Qzxwvyk-Plbnm --set patient.id=HX-77123-Q -o "$T/pc-cold.pdf" > /dev/null 2>&1
check "a filled-in bilingual consent with its plan: the same bytes as without" \
  bash -c "cmp -s '$T/pc1.pdf' '$T/pc2.pdf' && cmp -s '$T/pc1.pdf' '$T/pc-cold.pdf'"
check "a plan was kept for it" bash -c "ls '$P'/pildoc/plan-*.layouts > /dev/null 2>&1"
check "the plan holds none of the patient's values" \
  bash -c "! grep -q -e Qzxwvyk -e HX-77123 '$P'/pildoc/plan-*.layouts"

# threads started, counted by an LD_PRELOAD wrapper of pthread_create
cat > "$T/count.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
static int started;
/* REFUSE_OWN set: pthread_create fails (EAGAIN) for a thread whose start
   routine lies in the program itself, not in a library (GLib's threads) */
int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*f)(void *), void *arg)
{
    static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    if (!real)
        real = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))dlsym(
            RTLD_NEXT, "pthread_create");
    Dl_info i;
    if (getenv("REFUSE_OWN") && dladdr((void *)f, &i) && i.dli_fname && !strstr(i.dli_fname, ".so"))
        return EAGAIN;
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    return real(t, a, f, arg);
}
__attribute__((destructor)) static void report(void)
{
    const char *out = getenv("COUNT_OUT");
    FILE *f = out ? fopen(out, "w") : NULL;
    if (f) {
        fprintf(f, "%d\n", started);
        fclose(f);
    }
}
C
# (not under AddressSanitizer, whose runtime must be the first library loaded)
if [ -n "${PILDOC_SANITIZED:-}" ]; then
  echo "startup: thread count skipped in a sanitized build"
elif gcc -shared -fPIC -o "$T/count.so" "$T/count.c" -ldl 2> "$T/count.log"; then
  for l in en zh_CN; do
    COUNT_OUT="$T/threads-$l" LD_PRELOAD="$T/count.so" ./pildoc render leaflet --lang $l -o "$T/t-$l.pdf" > /dev/null 2>&1
    check "render leaflet --lang $l with the counter succeeds, same bytes" cmp -s "$T/t-$l.pdf" "$T/leaflet-$l.pdf"
    check "render leaflet --lang $l starts at most three threads (started $(cat "$T/threads-$l" 2>/dev/null))" \
      test "$(cat "$T/threads-$l" 2>/dev/null || echo 99)" -le 3
  done
  # the warm-up's thread cannot be started: it measures at once, same bytes
  REFUSE_OWN=1 COUNT_OUT="$T/threads-refused" LD_PRELOAD="$T/count.so" XDG_CACHE_HOME="$W" \
    ./pildoc render leaflet --lang zh_CN -o "$T/w-refused.pdf" > /dev/null 2>&1
  check "no thread for the warm-up nor the plan: render succeeds with the same bytes" cmp -s "$T/w1.pdf" "$T/w-refused.pdf"
  check "no thread for the warm-up: only Pango's started ($(cat "$T/threads-refused" 2>/dev/null))" \
    test "$(cat "$T/threads-refused" 2>/dev/null)" = 1
  # the counter counts: a program that starts three threads counts 3
  printf '%s\n' '#include <pthread.h>' 'static void *f(void *a) { return a; }' \
    'int main(void) { pthread_t t; for (int i = 0; i < 3; i++) { pthread_create(&t, 0, f, 0); pthread_join(t, 0); } return 0; }' > "$T/three.c"
  gcc -o "$T/three" "$T/three.c" -pthread && COUNT_OUT="$T/threads-three" LD_PRELOAD="$T/count.so" "$T/three"
  check "the thread counter counts (3 threads started, $(cat "$T/threads-three" 2>/dev/null) counted)" \
    test "$(cat "$T/threads-three" 2>/dev/null)" = 3
else
  ko "cannot build the thread counter: $(cat "$T/count.log")"
fi

summary startup
