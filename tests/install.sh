#!/usr/bin/env bash
# make install / make uninstall: install into a DESTDIR under a temporary
# folder, then use the installed pildoc from another folder (every document
# in every language identical to the source tree's, `pildoc langs`, a
# batch, its font cache, an unwritable HOME), read the manual pages with
# man, and uninstall. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
T=$(mktemp -d /tmp/pildoc-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600
unset PILDOC_DATADIR
SRC=$PWD
ROOT=$T/root

make -s --no-print-directory install DESTDIR="$ROOT" > "$T/install.log" 2>&1
check "make install DESTDIR=... succeeds" test $? = 0
bin=$(find "$ROOT" -path '*/bin/pildoc' -type f | head -1)
prefix=${bin%/bin/pildoc}
check "installed: bin/pildoc" test -x "$bin"
check "installed: templates" test -f "$prefix/share/pildoc/templates/pildoc.rng" -a -f "$prefix/share/pildoc/templates/variables.xml"
check "installed: fonts with their licences" test -f "$prefix/share/pildoc/fonts/OFL.txt" -a -f "$prefix/share/pildoc/fonts/NotoSans-Regular.ttf"
for l in $(sed -e 's/#.*//' po/LINGUAS); do
  check "installed: catalog $l in localedir" test -f "$prefix/share/locale/$l/LC_MESSAGES/pildoc.mo"
done
check "installed: pildoc(1)" test -f "$prefix/share/man/man1/pildoc.1"
check "installed: pildoc-templates(5)" test -f "$prefix/share/man/man5/pildoc-templates.5"
check "nothing of the build tree installed" bash -c "! find '$ROOT' -name '*.o' -o -name '*.c' -o -name Makefile | grep -q ."

# --- the installed pildoc, run from an unrelated folder --------------------------
mkdir -p "$T/elsewhere" "$T/tree"
cd "$T/elsewhere"
export XDG_CACHE_HOME=$T/cache
for doc in leaflet consent; do
  for l in en $(sed -e 's/#.*//' "$SRC/po/LINGUAS"); do
    "$bin" render $doc --lang "$l" -o "$doc-$l.pdf" 2> "$T/err"
    rc=$?
    check "installed: $doc $l renders" test $rc = 0 -a -s "$doc-$l.pdf"
    check "installed: $doc $l says nothing on stderr" test ! -s "$T/err"
    "$SRC/pildoc" render $doc --lang "$l" -o "$T/tree/$doc-$l.pdf" 2>/dev/null
    check "installed: $doc $l identical to the source tree's" cmp -s "$doc-$l.pdf" "$T/tree/$doc-$l.pdf"
  done
done
"$bin" render consent --lang fr --data "$SRC/templates/data/sample-patient.xml" -o filled.pdf 2>/dev/null
check "installed: a filled consent sheet" bash -c "pdftotext filled.pdf - | grep -q 'Martin'"
check "installed: font cache in \$XDG_CACHE_HOME/pildoc" bash -c "ls '$T/cache/pildoc/' | grep -q 'cache-'"
check "installed: nothing written into the current folder but outputs" \
  test "$(ls | sort | tr '\n' ' ')" = "consent-en.pdf consent-fr.pdf consent-zh_CN.pdf filled.pdf leaflet-en.pdf leaflet-fr.pdf leaflet-zh_CN.pdf "

"$bin" langs > "$T/langs" 2> "$T/err"
check "installed: pildoc langs succeeds" test $? = 0 -a ! -s "$T/err"
"$SRC/pildoc" langs > "$T/langs.tree" 2>/dev/null
check "installed: pildoc langs as in the source tree" cmp -s "$T/langs" "$T/langs.tree"
check "installed: pildoc langs counts French" grep -qE '^fr +leaflet +[1-9]' "$T/langs"
check "installed: pildoc templates" test "$("$bin" templates | tr '\n' ' ')" = "$("$SRC/pildoc" templates | tr '\n' ' ')"

printf 'template,lang,output,patient.id\nleaflet,fr,a.pdf,P1\nconsent,zh_CN,b.pdf,P2\nleaflet,en,c.pdf,P3\n' > jobs.csv
"$bin" batch jobs.csv --out batch --jobs 2 --quiet 2> "$T/err"
check "installed: a batch" test $? = 0 -a -s batch/a.pdf -a -s batch/b.pdf -a -s batch/c.pdf
check "installed: batch output as rendered alone" cmp -s batch/a.pdf leaflet-fr.pdf

# HOME that cannot hold a cache: no cache, no warning, same bytes
env -u XDG_CACHE_HOME HOME=/proc/version "$bin" render leaflet --lang zh_CN -o nocache.pdf 2> "$T/err"
check "no writable cache: renders" test $? = 0
check "no writable cache: no warning" test ! -s "$T/err"
check "no writable cache: same bytes" cmp -s nocache.pdf leaflet-zh_CN.pdf

# the cache without XDG_CACHE_HOME (or with a relative one, which the XDG
# specification says to ignore): ~/.cache/pildoc
mkdir -p "$T/home"
env -u XDG_CACHE_HOME HOME=$T/home "$bin" render leaflet -o home.pdf 2> "$T/err"
check "cache: default ~/.cache/pildoc" bash -c "ls '$T/home/.cache/pildoc/' | grep -q 'cache-'"
XDG_CACHE_HOME=relative HOME=$T/home "$bin" render leaflet -o home.pdf 2> "$T/err"
check "cache: a relative XDG_CACHE_HOME is ignored" test ! -e relative
rm -f home.pdf

# it uses the installed data, not another copy: without it, it fails
mv "$prefix/share/pildoc/templates/leaflet.xml" "$T/leaflet.xml"
"$bin" render leaflet -o gone.pdf > /dev/null 2>&1
check "installed: reads its own installed templates" test $? = 1 -a ! -e gone.pdf
mv "$T/leaflet.xml" "$prefix/share/pildoc/templates/leaflet.xml"
cd "$SRC"

# --- manual pages -------------------------------------------------------------
for page in man1/pildoc.1 man5/pildoc-templates.5; do
  MANWIDTH=80 man --warnings -l "$prefix/share/man/$page" > "$T/man.txt" 2> "$T/man.err"
  check "man -l $page renders" test $? = 0
  check "man -l $page: no warning" test ! -s "$T/man.err"
  check "man -l $page: has NAME and SEE ALSO" bash -c "grep -q '^NAME' '$T/man.txt' && grep -q '^SEE ALSO' '$T/man.txt'"
done
MANWIDTH=80 man -l "$prefix/share/man/man1/pildoc.1" 2>/dev/null | grep -q "$(make -s --no-print-directory print-pkgdatadir)/templates"
check "pildoc(1) names the installed data folder" test $? = 0

# --- another prefix: every folder follows it (dry run: the tree stays built for /usr/local)
make -n --no-print-directory install prefix=/opt/pildoc-test DESTDIR="$T/dry" > "$T/dry.log" 2>&1
check "prefix: binary into DESTDIR/prefix/bin" grep -q "$T/dry/opt/pildoc-test/bin/pildoc" "$T/dry.log"
check "prefix: data into DESTDIR/prefix/share/pildoc" grep -q "$T/dry/opt/pildoc-test/share/pildoc/templates" "$T/dry.log"
check "prefix: compiled into the binary" grep -q 'PILDOC_PKGDATADIR=.*/opt/pildoc-test/share/pildoc' "$T/dry.log"
check "prefix: man pages into mandir" grep -q "$T/dry/opt/pildoc-test/share/man/man5" "$T/dry.log"
check "prefix: dry run installs nothing" test ! -e "$T/dry"

# --- uninstall ------------------------------------------------------------------
# files of the site's own in pkgdatadir (a clinic profile beside the installed
# ones, a note) are not install's to remove
pkgdata=$prefix/share/pildoc
echo '<clinic country="GB"><name>Local</name></clinic>' > "$pkgdata/templates/clinics/local.xml"
echo 'site notes' > "$pkgdata/NOTES.txt"
make -s --no-print-directory uninstall DESTDIR="$ROOT" > "$T/uninstall.log" 2>&1
check "make uninstall succeeds" test $? = 0
check "uninstall keeps a clinic profile of the site's own in pkgdatadir" test -s "$pkgdata/templates/clinics/local.xml"
check "uninstall keeps another file of the site's own in pkgdatadir" test -s "$pkgdata/NOTES.txt"
check "uninstall leaves no other file behind" test "$(find "$ROOT" ! -type d | sort | tr '\n' ' ')" = "$pkgdata/NOTES.txt $pkgdata/templates/clinics/local.xml "
check "uninstall removes the emptied folders (fonts, po, templates/pictograms)" test ! -e "$pkgdata/fonts" -a ! -e "$pkgdata/po" -a ! -e "$pkgdata/templates/pictograms"
rm -f "$pkgdata/templates/clinics/local.xml" "$pkgdata/NOTES.txt"
make -s --no-print-directory uninstall DESTDIR="$ROOT" > "$T/uninstall.log" 2>&1
check "make uninstall again (nothing of the site's left) succeeds" test $? = 0
check "uninstall leaves no file behind" test -z "$(find "$ROOT" ! -type d)"
check "uninstall leaves no pildoc folder" test -z "$(find "$ROOT" -name '*pildoc*')"

summary install
