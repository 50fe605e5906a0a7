#!/usr/bin/env bash
# End-to-end tests: run ./pildoc as a user would and open the real PDFs
# (pdftotext, pdffonts, pdfinfo, pdftoppm). Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
PILDOC=${PILDOC:-./pildoc}
PIXCMP=${PIXCMP:-build/pixcmp}
T=$(mktemp -d /tmp/pildoc-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then ok; else ko "$what"; fi
}
export SOURCE_DATE_EPOCH=1795305600   # 2026-11-22

# --- every language renders, in its own words ---------------------------------
declare -A WORD=([en]="Information for patients" [fr]="kétamine" [zh_CN]="氯胺酮")
declare -A FOOTER=([en]="Page 1 of" [fr]="Page 1 sur" [zh_CN]="第 1 页")
for l in en fr zh_CN; do
  pdf=$T/leaflet-$l.pdf
  if ! $PILDOC render leaflet --lang $l -o "$pdf" 2>"$T/err-$l"; then ko "render leaflet $l"; continue; fi
  ok
  pdftotext -enc UTF-8 "$pdf" "$T/$l.txt"
  check "$l: its own words" grep -q "${WORD[$l]}" "$T/$l.txt"
  check "$l: localised footer" grep -q "${FOOTER[$l]}" "$T/$l.txt"
  if [ $l != en ]; then
    # not an English fallback: English sentences of the leaflet are absent
    check "$l: no English fallback" bash -c "! grep -q 'Information for patients\|What benefit can you expect' '$T/$l.txt'"
    check "$l: no untranslated warning" bash -c "! grep -q 'not translated' '$T/err-$l'"
  fi
  # fonts: all embedded, all shipped
  pdffonts "$pdf" | tail -n +3 > "$T/fonts-$l"
  check "$l: at least one font" test -s "$T/fonts-$l"
  check "$l: every font embedded" awk '$(NF-4) != "yes" { bad = 1 } END { exit bad }' "$T/fonts-$l"
  check "$l: only shipped fonts" bash -c "awk '{print \$1}' '$T/fonts-$l' | sed 's/^[A-Z]*+//' | grep -vxE 'NotoSans-(Regular|Bold|Italic|BoldItalic)|NotoSansCJKsc-(Regular|Bold)|NotoSansArabic-(Regular|Bold)' | grep -q . && exit 1 || exit 0"
  # metadata
  pdfinfo "$pdf" > "$T/info-$l"
  for k in Title Subject Author Creator; do
    check "$l: metadata $k" grep -qE "^$k: +[^ ]" "$T/info-$l"
  done
  check "$l: A4" grep -q 'A4' "$T/info-$l"
  pages=$(awk '/^Pages:/ {print $2}' "$T/info-$l")
  # page count agrees with the layout's own count, and is sensible
  tpages=$($PILDOC render leaflet --lang $l --format text -o - | tail -1 | cut -d' ' -f1)
  check "$l: page count $pages = layout's $tpages" test "$pages" = "$tpages"
  check "$l: 2 to 8 pages ($pages)" test "$pages" -ge 2 -a "$pages" -le 8
  # pixels: every page of the PDF, rasterised by poppler, against the same
  # page painted directly by cairo: a glyph lost in font subsetting fails
  for p in $(seq 1 "$pages"); do
    $PILDOC render leaflet --lang $l --format png --page $p --dpi 100 -o "$T/direct.png"
    pdftoppm -r 100 -f $p -l $p -png -singlefile "$pdf" "$T/poppler"
    if $PIXCMP "$T/direct.png" "$T/poppler.png" > "$T/pix" 2>&1; then ok; else ko "$l page $p pixels: $(cat "$T/pix")"; fi
  done
done
check "Chinese text is extractable as Chinese" grep -q "中枢敏化\|NMDA" "$T/zh_CN.txt"

# --- reproducibility ---------------------------------------------------------------
for l in en zh_CN; do
  $PILDOC render leaflet --lang $l -o "$T/again.pdf"
  check "$l: byte-identical with SOURCE_DATE_EPOCH" cmp -s "$T/leaflet-$l.pdf" "$T/again.pdf"
done
check "creation date from SOURCE_DATE_EPOCH" bash -c "pdfinfo '$T/leaflet-en.pdf' | grep -q 'CreationDate:.*Nov 22 .*2026'"

# --- paper --------------------------------------------------------------------
$PILDOC render leaflet --paper letter -o "$T/letter.pdf"
check "letter paper" bash -c "pdfinfo '$T/letter.pdf' | grep -q '612 x 792'"
check "bad paper is a usage error (2)" bash -c "$PILDOC render leaflet --paper a3 -o '$T/x.pdf'; test \$? = 2"

# --- languages ------------------------------------------------------------------
for spelling in fr-FR fr_FR.UTF-8 FR; do
  $PILDOC render leaflet --lang $spelling -o "$T/s.pdf" && pdftotext "$T/s.pdf" - | grep -q kétamine && ok || ko "--lang $spelling"
done
for spelling in zh zh-CN zh-Hans zh_CN.UTF-8; do
  $PILDOC render leaflet --lang $spelling -o "$T/s.pdf" && pdftotext "$T/s.pdf" - | grep -q 氯胺酮 && ok || ko "--lang $spelling"
done
# whatever locale the caller has
LANG=fr_FR.UTF-8 LC_ALL=de_DE.UTF-8 LANGUAGE=de $PILDOC render leaflet --lang zh_CN -o "$T/s.pdf" &&
  pdftotext "$T/s.pdf" - | grep -q 氯胺酮 && ok || ko "caller's LANG/LC_ALL/LANGUAGE ignored"
LANGUAGE=fr $PILDOC render leaflet --lang en -o "$T/s.pdf" &&
  pdftotext "$T/s.pdf" - | grep -q "Information for patients" && ok || ko "English with LANGUAGE=fr set"
$PILDOC render leaflet --lang de -o "$T/de.pdf" 2>"$T/err"; rc=$?
check "unknown language exits 1" test $rc = 1
check "unknown language lists the available ones" grep -q 'available: en, fr, zh_CN' "$T/err"
check "unknown language leaves no file" test ! -e "$T/de.pdf"
check "Traditional Chinese is not served Simplified" bash -c "! $PILDOC render leaflet --lang zh-TW -o '$T/tw.pdf' 2>/dev/null"

# --- conditions -------------------------------------------------------------------
$PILDOC render leaflet --set treatment.condition=crps -o "$T/crps.pdf" && pdftotext "$T/crps.pdf" "$T/crps.txt"
check "crps leaflet names CRPS" grep -q "CRPS" "$T/crps.txt"
check "crps leaflet leaves out fibromyalgia figures" bash -c "! grep -q '118' '$T/crps.txt'"
check "general leaflet covers fibromyalgia" grep -q "ibromyalgia" "$T/en.txt"
$PILDOC render leaflet --set treatment.medicine=esketamine -o "$T/esk.pdf" && ok || ko "esketamine leaflet"

# --- errors: one line, file and line, exit 1, no file -----------------------------------
cp -r templates "$T/tpl"
sed -i '0,/<p>/s//<p><var name="patient.nmae"\/>/' "$T/tpl/leaflet.xml"
$PILDOC render "$T/tpl/leaflet.xml" -o "$T/bad.pdf" 2>"$T/err"; rc=$?
check "unknown variable exits 1" test $rc = 1
check "unknown variable: file:line: message" grep -qE "leaflet.xml:[0-9]+: unknown variable 'patient.nmae'" "$T/err"
check "error is one line" test "$(wc -l < "$T/err")" = 1
check "no output after an error" test ! -e "$T/bad.pdf"
cp templates/leaflet.xml "$T/tpl/leaflet.xml"
sed -i '0,/<p>/s//<p><bogus\/>/' "$T/tpl/leaflet.xml"
$PILDOC render "$T/tpl/leaflet.xml" -o "$T/bad.pdf" 2>"$T/err"
check "schema error names file and line" grep -qE "leaflet.xml:[0-9]+: " "$T/err"
printf '<document name="x"' > "$T/tpl/broken.xml"
$PILDOC render "$T/tpl/broken.xml" -o "$T/bad.pdf" 2>"$T/err"; rc=$?
check "malformed XML exits 1 with file:line" bash -c "test $rc = 1 && grep -qE 'broken.xml:1: malformed XML' '$T/err'"
# a character no shipped font has
$PILDOC render leaflet --set "clinic.name=Clinic ก" -o "$T/glyph.pdf" 2>"$T/err"; rc=$?
check "missing glyph exits 1" test $rc = 1
check "missing glyph names U+0E01 and where" grep -qE "urgent.xml:[0-9]+: no shipped font has a glyph for U\+0E01 \(in the value of 'clinic.name'\)" "$T/err"
check "missing glyph leaves no file" test ! -e "$T/glyph.pdf"
check "patient data is not echoed" bash -c "! grep -q 'Clinic ก' '$T/err'"
# names from other scripts print
$PILDOC render leaflet --set "clinic.name=Zoë 王 Nguyễn محمد" -o "$T/names.pdf" &&
  pdftotext "$T/names.pdf" - | grep -q 'Zoë 王 Nguyễn' && ok || ko "names in several scripts print"
$PILDOC render leaflet --set "clinic.name=<b>x</b> &amp; \"%s\" %n {page}" -o "$T/lit.pdf" &&
  pdftotext "$T/lit.pdf" - | grep -qF '<b>x</b> &amp; "%s" %n {page}' && ok || ko "a value prints literally"

# --- output is atomic -----------------------------------------------------------------
echo old > "$T/keep.pdf"
$PILDOC render leaflet --set "clinic.name=ก" -o "$T/keep.pdf" 2>/dev/null
check "a failed render keeps the previous file" grep -q old "$T/keep.pdf"
check "unwritable folder is exit 1" bash -c "$PILDOC render leaflet -o /nonexistent/dir/x.pdf 2>/dev/null; test \$? = 1"
check "no temporary file left" bash -c "! ls -A '$T' | grep -q '^\.'"
$PILDOC render leaflet -o - > "$T/stdout.pdf" && head -c 5 "$T/stdout.pdf" | grep -q '%PDF-' && ok || ko "-o - writes the PDF to stdout"

# --- command line -------------------------------------------------------------------------
check "--help exits 0" $PILDOC --help
check "--version exits 0" $PILDOC --version
check "no arguments is a usage error" bash -c "$PILDOC 2>/dev/null; test \$? = 2"
check "unknown option is a usage error" bash -c "$PILDOC render leaflet --frobnicate 2>/dev/null; test \$? = 2"
abs=$(realpath "$PILDOC")
(mkdir -p "$T/d" && cd "$T/d" && "$abs" render leaflet --lang fr >/dev/null 2>&1) &&
  test -s "$T/d/out/leaflet-fr.pdf" && ok || ko "default output out/TEMPLATE-LANG.pdf"

echo "e2e: $pass passed, $fail failed"
[ $fail = 0 ]
