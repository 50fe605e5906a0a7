#!/usr/bin/env bash
# End-to-end tests: run ./pildoc as a user would and open the real PDFs
# (pdftotext, pdffonts, pdfinfo, pdftoppm). Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
PILDOC=${PILDOC:-./pildoc}
PIXCMP=${PIXCMP:-build/pixcmp}
T=$(mktemp -d /tmp/pildoc-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600   # 2026-11-22

# --- every language renders, in its own words ---------------------------------
declare -A WORD=([en]="Information for patients" [fr]="kétamine" [zh_CN]="氯胺酮")
declare -A FOOTER=([en]="Page 1 of" [fr]="Page 1 sur" [zh_CN]="第 \?1 \?页")
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
  check "$l: only shipped fonts" bash -c "awk '{print \$1}' '$T/fonts-$l' | sed 's/^[A-Z]*+//' | grep -vxE 'NotoSans-(Regular|Bold|Italic|BoldItalic)|NotoSansCJKsc-(Core-)?(Regular|Bold)|NotoSansArabic-(Regular|Bold)' | grep -q . && exit 1 || exit 0"
  # metadata
  pdfinfo "$pdf" > "$T/info-$l"
  for k in Title Subject Author Creator; do
    check "$l: metadata $k" grep -qE "^$k: +[^ ]" "$T/info-$l"
  done
  check "$l: A4" grep -q 'A4' "$T/info-$l"
  # the document language for screen readers, in the catalog
  declare -A TAG=([en]=en [fr]=fr [zh_CN]=zh-CN)
  root=$(qpdf --show-object=trailer "$pdf" | sed -n 's/.*\/Root \([0-9]*\) 0 R.*/\1/p')
  check "$l: /Lang (${TAG[$l]}) in the catalog" bash -c "qpdf --show-object=$root '$pdf' | grep -qF '/Lang (${TAG[$l]})'"
  check "$l: qpdf --check passes" qpdf --check "$pdf"
  # src/pdfobj.h: page contents and ToUnicode maps (made for every
  # document) by libdeflate at level 4 (zlib header 78 5E), the streams
  # made once per worker (font programs, CIDSets, images, the ICC profile)
  # at level 6 (78 9C); the XMP is not deflated (PDF/A)
  check "$l: streams deflated at their level" python3 -c '
import re, sys
d = open(sys.argv[1], "rb").read()
streams = [(int(m.group(1)), m.group(2), d[m.end():m.end() + 2]) for m in re.finditer(rb"(?:^|\n)(\d+) 0 obj\r?\n<<((?:[^<>]|<<[^<>]*>>)*)>>\r?\nstream\r?\n", d) if b"/FlateDecode" in m.group(2)]
per_doc = {int(n) for n in re.findall(rb"/(?:Contents|ToUnicode) (\d+) 0 R", d)}
content = [h for n, dic, h in streams if n in per_doc]
shared = [h for n, dic, h in streams if n not in per_doc]
sys.exit(not content or not shared or any(h != b"\x78\x5e" for h in content) or any(h != b"\x78\x9c" for h in shared))' "$pdf"
  # the words a reader copies or searches are the laid-out words
  $PILDOC render leaflet --lang $l --format text -o "$T/layout-$l.txt"
  check "$l: pdftotext gives the laid-out text" python3 tests/pdftext.py "$pdf" "$T/layout-$l.txt"
  pages=$(awk '/^Pages:/ {print $2}' "$T/info-$l")
  # page count agrees with the layout's own count, and is sensible
  tpages=$($PILDOC render leaflet --lang $l --format text -o - | tail -1 | cut -d' ' -f1)
  check "$l: page count $pages = layout's $tpages" test "$pages" = "$tpages"
  check "$l: 2 to 16 pages ($pages)" test "$pages" -ge 2 -a "$pages" -le 16
  # pixels: every page of the PDF, rasterised by poppler, against the same
  # page painted directly by cairo: a glyph lost in font subsetting fails
  for p in $(seq 1 "$pages"); do
    $PILDOC render leaflet --lang $l --format png --page $p --dpi 100 -o "$T/direct.png"
    pdftoppm -r 100 -f $p -l $p -png -singlefile "$pdf" "$T/poppler"
    if $PIXCMP "$T/direct.png" "$T/poppler.png" > "$T/pix" 2>&1; then ok; else ko "$l page $p pixels: $(cat "$T/pix")"; fi
  done
done
check "Chinese documents embed only the Core CJK faces" bash -c "awk '{print \$1}' '$T/fonts-zh_CN' | grep CJK | grep -qv Core && exit 1 || exit 0"
# a character outside GB2312 but in the CJK Unified Ideographs block (喆) is
# in the Core faces: no 18 MB face to subset for most names
$PILDOC render consent --lang zh_CN --set "patient.name=王喆" -o "$T/uro.pdf" && ok || ko "CJK block name renders"
check "CJK block name: Core faces only" bash -c "pdffonts '$T/uro.pdf' | grep CJK | grep -qv Core && exit 1 || exit 0"
check "CJK block name: extractable" bash -c "pdftotext '$T/uro.pdf' - | grep -q '王喆'"
# a rare character (䶮, Extension A: not in the Core faces) comes from the
# full face, and prints
$PILDOC render consent --lang zh_CN --set "patient.name=王䶮喆" -o "$T/rare.pdf" && ok || ko "rare Chinese characters render"
check "rare characters: the full CJK face is embedded" bash -c "pdffonts '$T/rare.pdf' | grep -qE 'NotoSansCJKsc-(Regular|Bold)'"
check "rare characters: extractable" bash -c "pdftotext '$T/rare.pdf' - | grep -q '王䶮喆'"
for p in 1; do
  $PILDOC render consent --lang zh_CN --set "patient.name=王䶮喆" --format png --page $p --dpi 100 -o "$T/rd.png"
  pdftoppm -r 100 -f $p -l $p -png -singlefile "$T/rare.pdf" "$T/rp"
  if $PIXCMP "$T/rd.png" "$T/rp.png" >/dev/null 2>&1; then ok; else ko "rare characters: pixels"; fi
done
# every page of a filled consent sheet with a clinic's logo (an image with
# transparency, over the white page) and running header, and of a large-print
# Chinese leaflet on Letter paper, against cairo's own painting
PIXDOCS=("consent --lang fr --data templates/data/sample-patient.xml --clinic templates/clinics/paris.xml"
         "leaflet --lang zh_CN --large-print --paper letter")
for i in 0 1; do
  args=(${PIXDOCS[$i]})
  $PILDOC render "${args[@]}" -o "$T/pix-$i.pdf" && ok || ko "render ${PIXDOCS[$i]}"
  n=$(pdfinfo "$T/pix-$i.pdf" | awk '/^Pages:/ {print $2}')
  bad=""
  for p in $(seq 1 "$n"); do
    $PILDOC render "${args[@]}" --format png --page $p --dpi 100 -o "$T/direct.png"
    pdftoppm -r 100 -f $p -l $p -png -singlefile "$T/pix-$i.pdf" "$T/poppler"
    $PIXCMP "$T/direct.png" "$T/poppler.png" > "$T/pix" 2>&1 || bad="$bad page $p: $(cat "$T/pix")"
  done
  check "${PIXDOCS[$i]}: $n pages, pixels as cairo paints them$bad" test -z "$bad" -a "$n" -gt 1
done
# the logo is an image XObject, its transparency composited onto the white
# page when written (no /SMask: nothing transparent for PDF/A-1)
check "clinic logo: an image XObject" bash -c "qpdf --qdf --object-streams=disable '$T/pix-0.pdf' - | grep -a -q '/Subtype /Image'"
check "clinic logo: no soft mask" bash -c "! qpdf --qdf --object-streams=disable '$T/pix-0.pdf' - | grep -a -q '/SMask'"
check "clinic logo: pdfimages lists it" bash -c "pdfimages -list '$T/pix-0.pdf' | awk 'NR > 2 && \$3 == \"image\" && \$6 == \"rgb\"' | grep -q ."
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
# every option render takes and every command are in --help (--data and batch were missing)
help=$($PILDOC --help)
for word in --lang --also --data --set --paper --clinic --large-print --plain --form --output --format --page --dpi \
            "pildoc batch" "pildoc serve" "pildoc langs" "pildoc templates"; do
  check "--help names $word" grep -qF -- "$word" <<<"$help"
done
check "--version exits 0" $PILDOC --version
check "no arguments is a usage error" bash -c "$PILDOC 2>/dev/null; test \$? = 2"
check "unknown option is a usage error" bash -c "$PILDOC render leaflet --frobnicate 2>/dev/null; test \$? = 2"
abs=$(realpath "$PILDOC")
(mkdir -p "$T/d" && cd "$T/d" && "$abs" render leaflet --lang fr >/dev/null 2>&1) &&
  test -s "$T/d/out/leaflet-fr.pdf" && ok || ko "default output out/TEMPLATE-LANG.pdf"


# --- consent sheet: blank, filled, partial -------------------------------------------
SAMPLE=templates/data/sample-patient.xml
declare -A CWORD=([en]="Consent to ketamine" [fr]="Consentement" [zh_CN]="知情同意")
declare -A SESSIONS1=([en]="1 session" [fr]="1 séance" [zh_CN]="1次")
declare -A SESSIONS0=([en]="0 sessions" [fr]="0 séance" [zh_CN]="0次")
declare -A SESSIONS4=([en]="4 sessions" [fr]="4 séances" [zh_CN]="4次")
declare -A DATE=([en]="1 December 2026" [fr]="1ᵉʳ décembre 2026" [zh_CN]="2026年12月1日")
declare -A BIRTH=([en]="14 March 1978" [fr]="14 mars 1978" [zh_CN]="1978年3月14日")
for l in en fr zh_CN; do
  # blank: lines to write on, empty boxes, nothing ticked
  if $PILDOC render consent --lang $l -o "$T/consent-$l.pdf" 2>"$T/err"; then ok; else ko "consent $l: $(cat "$T/err")"; continue; fi
  check "consent $l: its own words" bash -c "pdftotext '$T/consent-$l.pdf' - | grep -q '${CWORD[$l]}'"
  $PILDOC render consent --lang $l --format text -o "$T/blank-$l.txt"
  check "consent $l blank: empty boxes" grep -q '\[ \]' "$T/blank-$l.txt"
  check "consent $l blank: nothing ticked" bash -c "! grep -q '\[x\]' '$T/blank-$l.txt'"
  NBSP=$'\xc2\xa0'
  check "consent $l blank: lines to write on" grep -q " ____ [0-9.]*mm [a-z]*$" "$T/blank-$l.txt"
  check "consent $l blank: no sample value" bash -c "! grep -q 'Nguy' '$T/blank-$l.txt'"
  # filled from the sample
  $PILDOC render consent --lang $l --data $SAMPLE -o "$T/filled-$l.pdf" && ok || ko "consent $l filled"
  pdftotext "$T/filled-$l.pdf" "$T/filled-$l.txt"
  check "consent $l: patient name literal" grep -q 'Zoë Nguyễn-Martin' "$T/filled-$l.txt"
  check "consent $l: interpreter name in Chinese" grep -q '李伟 (Li Wei)' "$T/filled-$l.txt"
  check "consent $l: localised start date ${DATE[$l]}" grep -q "${DATE[$l]}" "$T/filled-$l.txt"
  check "consent $l: localised birth date" grep -q "${BIRTH[$l]}" "$T/filled-$l.txt"
  check "consent $l: ${SESSIONS4[$l]}" grep -q "${SESSIONS4[$l]}" "$T/filled-$l.txt"
  check "consent $l: leaflet version named" grep -q '1.0' "$T/filled-$l.txt"
  $PILDOC render consent --lang $l --data $SAMPLE --format text -o "$T/filled-$l.tt"
  check "consent $l: pdftotext gives the laid-out text" python3 tests/pdftext.py "$T/filled-$l.pdf" "$T/filled-$l.tt"
  check "consent $l: three boxes ticked (medicine, condition, mode)" test "$(grep -c '\[x\]' "$T/filled-$l.tt")" = 3
  for n in 1 0; do
    want=SESSIONS$n; want=${want}[$l]; want=${!want}
    $PILDOC render consent --lang $l --set treatment.sessions=$n -o "$T/n.pdf" &&
      pdftotext "$T/n.pdf" - | tr -d ' ' | grep -q "${want// /}" && ok || ko "consent $l: plural '$want'"
  done
  check "consent $l: page count 3-16" bash -c "n=\$(pdfinfo '$T/filled-$l.pdf' | awk '/^Pages:/{print \$2}'); test \$n -ge 3 -a \$n -le 16"
done
# values print exactly as written, in any script, in any language
VAL='<b>&amp; "quotes" %s %n {page} Nguyễn Văn An محمد'
$PILDOC render consent --lang fr --set "patient.name=$VAL" -o "$T/lit.pdf" && ok || ko "consent with markup-like value"
pdftotext "$T/lit.pdf" - | grep -qF '<b>&amp; "quotes" %s %n {page} Nguyễn Văn An' && ok || ko "value printed literally"
# partial data: given values filled, the rest blank
$PILDOC render consent --set patient.name=Zoë --set interpreter.language=Tamil --format text -o "$T/partial.txt"
check "partial: the given name" grep -q 'Zoë' "$T/partial.txt"
check "partial: interpreter language" grep -q 'Tamil' "$T/partial.txt"
check "partial: interpreter name left blank" bash -c "grep -A2 ' Name: \$' '$T/partial.txt' | grep -q ' ____ '"
check "partial: no box ticked" bash -c "! grep -q '\[x\]' '$T/partial.txt'"
# bad data: one line, file and line, exit 1, no file
printf '<data>\n  <patient>\n    <birth_date>1978-02-30</birth_date>\n  </patient>\n</data>\n' > "$T/bad1.xml"
$PILDOC render consent --data "$T/bad1.xml" -o "$T/bad.pdf" 2>"$T/err"; rc=$?
check "invalid date exits 1" test $rc = 1
check "invalid date names file, line and field" grep -qxF "$T/bad1.xml:3: 'patient.birth_date' is not a valid date (expected YYYY-MM-DD)" "$T/err"
check "invalid date leaves no file" test ! -e "$T/bad.pdf"
printf '<data>\n<treatment><medicine>aspirin</medicine></treatment>\n</data>\n' > "$T/bad2.xml"
$PILDOC render consent --data "$T/bad2.xml" -o "$T/bad.pdf" 2>"$T/err"; rc=$?
check "value outside its list: field and allowed values" grep -qxF "$T/bad2.xml:2: 'treatment.medicine' must be one of: ketamine, esketamine" "$T/err"
check "value outside its list does not echo the value" bash -c "! grep -q aspirin '$T/err'"
printf '<data><patient><name>Zoë</patient></data>' > "$T/bad3.xml"
$PILDOC render consent --data "$T/bad3.xml" -o "$T/bad.pdf" 2>"$T/err"; rc=$?
check "malformed data exits 1 naming file:line" bash -c "test $rc = 1 && grep -qE '^$T/bad3.xml:1: malformed XML' '$T/err'"
check "bad data leaves no file" test ! -e "$T/bad.pdf"
$PILDOC render consent --set treatment.start_date=2026-13-01 -o "$T/bad.pdf" 2>"$T/err"; rc=$?
check "--set invalid date names the field" bash -c "test $rc = 1 && grep -q \"'treatment.start_date' is not a valid date\" '$T/err'"
$PILDOC render consent --data "$T/nonexistent.xml" -o "$T/bad.pdf" 2>"$T/err"; rc=$?
check "missing data file exits 1" bash -c "test $rc = 1 && grep -q 'nonexistent.xml: cannot open' '$T/err'"
# signature blocks never split across pages
for l in en fr zh_CN; do
  for paper in a4 letter; do
    $PILDOC render consent --lang $l --paper $paper --data $SAMPLE --format text -o "$T/sig.txt"
    # every line between a signature heading and its last Date line is on one page
    python3 - "$T/sig.txt" <<'PY' && ok || ko "consent $l $paper: a signature block splits"
import sys
rows = [l.rstrip('\n').split(' ', 3) for l in open(sys.argv[1], encoding='utf-8')]
# a block starts at a line followed (within 8 lines) by a "Signature"-like line
# and ends at the next "Date" line after it; all must share one page
sig_words = ('Signature:', 'Signature :', '签名：', '签名:')
pages = [r[0] for r in rows]
texts = [r[3] if len(r) > 3 else '' for r in rows]
for i, t in enumerate(texts):
    if any(t.startswith(w) for w in sig_words):
        # the date line after the signature, and the name line before it
        j = i + 1
        while j < len(texts) and not (texts[j].startswith('Date') or texts[j].startswith('日期')):
            j += 1
        k = max(0, i - 2)
        if j < len(texts) and len(set(pages[k:j + 1])) != 1:
            sys.exit(1)
PY
  done
done

# --- hostile values and outputs ---------------------------------------------------------
LONG=$(python3 -c "print('Aé王' * 3333 + 'x')")
timeout 60 $PILDOC render consent --set "patient.name=$LONG" --format text -o "$T/long.txt" 2>"$T/err"; rc=$?
check "a 10,000-character value renders (no hang)" test $rc = 0
check "a 10,000-character value stays within the margins" python3 - "$T/long.txt" <<'PY'
import sys
for line in open(sys.argv[1], encoding='utf-8'):
    page, x, y, *rest = line.split(' ', 3)
    if not (55.0 <= float(x) <= 540.0 and 40.0 <= float(y) <= 815.0):
        sys.exit(1)
PY
python3 -c "print('A' * 10001)" > "$T/toolong"
$PILDOC render consent --set "patient.name=$(cat "$T/toolong")" -o "$T/x.pdf" 2>"$T/err"; rc=$?
check "a value over 10,000 characters is refused by name" bash -c "test $rc = 1 && grep -q \"value of 'patient.name' is longer than 10000 characters\" '$T/err'"
$PILDOC render consent --set "patient.name=$(printf 'a\tb')" -o "$T/x.pdf" 2>"$T/err"; rc=$?
check "a control character is refused naming the field" bash -c "test $rc = 1 && grep -q \"value of 'patient.name' holds a control character (U+0009)\" '$T/err'"
echo old > "$T/ro.pdf"; chmod 444 "$T/ro.pdf"
$PILDOC render leaflet -o "$T/ro.pdf" 2>"$T/err"; rc=$?
check "an existing read-only file is kept, exit 1" bash -c "test $rc = 1 && grep -q old '$T/ro.pdf' && grep -q 'read-only' '$T/err'"
mkdir -p "$T/rodir"; chmod 555 "$T/rodir"
if [ "$(id -u)" = 0 ]; then
  # root ignores permissions: a full disk instead, on a tiny tmpfs
  mkdir -p "$T/tiny"
  if mount -t tmpfs -o size=32k tmpfs "$T/tiny" 2>/dev/null; then
    $PILDOC render leaflet -o "$T/tiny/x.pdf" 2>"$T/err"; rc=$?
    check "a full disk: exit 1" test $rc = 1
    check "a full disk: a clear error" grep -q 'x.pdf: cannot write: No space left on device' "$T/err"
    check "a full disk: nothing left behind" test -z "$(ls -A "$T/tiny")"
    umount "$T/tiny"
  fi
else
  $PILDOC render leaflet -o "$T/rodir/x.pdf" 2>"$T/err"; rc=$?
  check "an unwritable folder: exit 1 and a clear error" bash -c "test $rc = 1 && grep -q 'cannot write' '$T/err'"
fi
check "writing to a device is refused" bash -c "! $PILDOC render leaflet -o /dev/null 2>/dev/null"
check "/dev/null is still a device" test -c /dev/null

# --- a batch worker's font and stream caches never change a file -----------------------
# one worker renders documents that share most glyphs (cached subsets) and
# some that need their own (a rare character, other languages); each file
# must be byte-identical to the same document rendered alone
mkdir -p "$T/cache"
cat > "$T/cache/jobs.csv" <<'CSV'
template,lang,output,patient.name,treatment.condition
consent,zh_CN,c1.pdf,王喆,crps
leaflet,zh_CN,l1.pdf,,
consent,zh_CN,c2.pdf,王䶮喆,
consent,fr,c3.pdf,Zoë Nguyễn,cancer
consent,zh_CN,c4.pdf,李伟,crps
leaflet,fr,l2.pdf,,crps
CSV
$PILDOC batch "$T/cache/jobs.csv" --out "$T/cache/out" --jobs 1 --quiet 2>/dev/null && ok || ko "cache batch runs"
while IFS=, read -r tpl lang out name cond; do
  [ "$tpl" = template ] && continue
  args=()
  [ -n "$name" ] && args+=(--set "patient.name=$name")
  [ -n "$cond" ] && args+=(--set "treatment.condition=$cond")
  $PILDOC render "$tpl" --lang "$lang" "${args[@]}" -o "$T/cache/alone-$out" 2>/dev/null
  check "cached fonts: $out byte-identical to a render alone" cmp "$T/cache/out/$out" "$T/cache/alone-$out"
done < "$T/cache/jobs.csv"

# --- every PDF made above: qpdf and MuPDF read it without a complaint ---------------
for pdf in "$T"/*.pdf "$T"/d/out/*.pdf "$T"/cache/out/*.pdf; do
  [ -s "$pdf" ] && head -c 5 "$pdf" | grep -q '%PDF-' || continue
  check "qpdf --check $(basename "$pdf")" qpdf --check "$pdf"
  # Debian's MuPDF is built without colour management: that one note is not about the file
  check "mutool draw $(basename "$pdf") is clean" bash -c "mutool draw -o /dev/null '$pdf' 2>&1 | grep -v -e '^page ' -e 'ICC support is not available' | grep -q . && exit 1 || exit 0"
done

summary e2e
