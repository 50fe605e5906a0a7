#!/usr/bin/env bash
# PDF/A-1b and the document-level objects (issue 14 items 2 and 4): every
# kind of document `make run` makes, and the variants (paper, large print,
# logos, a Chinese name that needs the full CJK face), rendered and batched
# under SOURCE_DATE_EPOCH, then
#  - Apache PDFBox Preflight (one JVM for all the files) says valid PDF/A-1b;
#  - qpdf --check;
#  - tests/pdfa-check.py (pikepdf): the XMP says what /Info says, pdfaid
#    1/B, one sRGB OutputIntent, CIDSets, no /SMask, /ID, the outline's
#    /Count never negative, /PageMode, /ViewerPreferences;
#  - /ID identical across runs, between render and batch and whatever --jobs;
#  - --plain: no XMP, OutputIntent or CIDSet, smaller, and Preflight says
#    it is not PDF/A (so Preflight does reject, here).
# Prints "pdfa: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
PILDOC=${PILDOC:-./pildoc}
PY=/usr/bin/python3 # Debian's, with python3-pikepdf
T=$(mktemp -d /tmp/pildoc-pdfa.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600 # 2026-11-22

# Preflight and what it needs at run time: Debian's jars (libpdfbox2-java,
# libactivation-java, libjaxb-api-java); PREFLIGHT_CLASSPATH adds more.
CP=
for j in preflight pdfbox2 fontbox2 xmpbox commons-logging javax.activation jaxb-api; do
  [ -f /usr/share/java/$j.jar ] && CP=$CP:/usr/share/java/$j.jar
done
CP=${CP#:}${PREFLIGHT_CLASSPATH:+:$PREFLIGHT_CLASSPATH}
# preflight DIR: Validator_A1b's batch mode, one line per file
preflight() { java -cp "$CP" org.apache.pdfbox.preflight.Validator_A1b batch "$1" 2>&1; }

# --- the documents ---------------------------------------------------------------
A=$T/a
mkdir -p "$A" "$T/plain"
render() { # NAME ARGS...: renders into $A/NAME.pdf
  local name=$1
  shift
  if $PILDOC render "$@" -o "$A/$name.pdf" 2>"$T/err"; then ok; else ko "render $name: $(cat "$T/err")"; fi
}
for t in leaflet consent; do
  for l in en fr zh_CN; do
    for p in a4 letter; do render $t-$l-$p $t --lang $l --paper $p; done
  done
done
for l in en fr zh_CN; do render consent-sample-$l consent --lang $l --data templates/data/sample-patient.xml; done
for s in paris-fr montreal-fr paris-zh_CN; do
  render consent-$s consent --lang ${s#*-} --data templates/data/crps-$s.xml --clinic templates/clinics/${s%%-*}.xml
done
render consent-beijing-zh_CN consent --lang zh_CN --clinic templates/clinics/beijing.xml
render leaflet-paris-logo-fr leaflet --lang fr --clinic templates/clinics/paris.xml
render leaflet-montreal-logo-en-letter leaflet --lang en --paper letter --clinic templates/clinics/montreal.xml
render leaflet-large-en leaflet --large-print
render leaflet-large-zh_CN leaflet --lang zh_CN --large-print
render consent-large-fr consent --lang fr --large-print --clinic templates/clinics/paris.xml
# 䶮 (Extension A) and 𠀋 (Extension B) are not in the Core faces: the full
# CFF face is embedded (a CIDFontType0 subset with its own CIDSet)
render consent-rare-zh_CN consent --lang zh_CN --set 'patient.name=王䶮𠀋' --set 'clinician.name=龘喆'
render consent-rare-fr consent --lang fr --data templates/data/sample-patient.xml --set 'patient.name=李䶮'
check "the rare name embeds the full CJK face" bash -c "pdffonts '$A/consent-rare-zh_CN.pdf' | grep -q 'NotoSansCJKsc-\(Regular\|Bold\) *CID Type 0C'"
n_docs=$(ls "$A" | wc -l)

# --- Preflight: valid PDF/A-1b -------------------------------------------------------
preflight "$A" > "$T/preflight.txt"
if ! grep -q '^The file ' "$T/preflight.txt"; then
  ko "Preflight did not run (make deps installs it): $(head -3 "$T/preflight.txt" | tr '\n' ' ')"
fi
for f in "$A"/*.pdf; do
  n=$(basename "$f")
  if grep -qxF "The file $n is a valid PDF/A-1b file" "$T/preflight.txt"; then ok; else
    ko "Preflight: $n is not valid PDF/A-1b: $(grep -A3 -F "The file $n " "$T/preflight.txt" | tail -n +2 | sort -u | head -3 | tr '\n' ' ')"
  fi
done

# --- qpdf and the pikepdf checks --------------------------------------------------------
for f in "$A"/*.pdf; do check "qpdf --check $(basename "$f")" qpdf --check "$f"; done
count_py() { # FILE of PASS/FAIL lines
  while read -r verdict rest; do
    case $verdict in PASS) ok ;; *) ko "$rest" ;; esac
  done < "$1"
}
$PY tests/pdfa-check.py archival "$A"/*.pdf > "$T/check.txt" 2>&1
count_py "$T/check.txt"
check "pikepdf checked every document" test "$(grep -c 'XMP dc:title equals' "$T/check.txt")" = "$n_docs"

# the checks can fail: a copy with a negative outline /Count, a title that
# differs from the XMP's, no OutputIntent and an /SMask on an image
$PY - "$A/leaflet-paris-logo-fr.pdf" "$T/broken.pdf" <<'PY'
import sys, pikepdf
pdf = pikepdf.open(sys.argv[1])
pdf.Root.Outlines.Count = -3
pdf.trailer.Info.Title = "Another title"
del pdf.Root["/OutputIntents"]
for page in pdf.pages:
    for k in list(page.Resources.get("/XObject", {}).keys()):
        page.Resources.XObject[k].SMask = pdf.make_stream(b"\xff", Width=1, Height=1)
pdf.save(sys.argv[2])
PY
$PY tests/pdfa-check.py archival "$T/broken.pdf" > "$T/broken.txt" 2>&1
for what in "negative outline /Count" "XMP dc:title equals" "OutputIntent" "/SMask"; do
  check "the checker notices a broken $what" grep -q "^FAIL .*$what" "$T/broken.txt"
done

# --- /ID: from the content, the same in every run and in batch -----------------------------
mkdir -p "$T/again"
$PILDOC render leaflet --lang zh_CN -o "$T/again/leaflet-zh_CN-a4.pdf"
$PILDOC render consent --lang fr --data templates/data/sample-patient.xml -o "$T/again/consent-sample-fr.pdf"
ids() { $PY tests/pdfa-check.py id "$@"; }
check "/ID: the same in a second run (leaflet zh_CN)" test "$(ids "$A/leaflet-zh_CN-a4.pdf" | cut -d' ' -f2)" = "$(ids "$T/again/leaflet-zh_CN-a4.pdf" | cut -d' ' -f2)"
check "/ID: the same in a second run (filled consent fr)" cmp "$A/consent-sample-fr.pdf" "$T/again/consent-sample-fr.pdf"
check "/ID: differs between documents" test "$(ids "$A/leaflet-en-a4.pdf" | cut -d' ' -f2)" != "$(ids "$A/leaflet-fr-a4.pdf" | cut -d' ' -f2)"
SAMPLE=$(realpath templates/data/sample-patient.xml)
{
  echo "template,lang,output,data"
  echo "leaflet,en,leaflet-en-a4.pdf,"
  echo "consent,zh_CN,consent-zh_CN-a4.pdf,"
  echo "consent,fr,consent-sample-fr.pdf,sample-patient.xml"
  echo "leaflet,fr,leaflet-fr-a4.pdf,"
  echo "consent,en,consent-sample-en.pdf,sample-patient.xml"
  echo "leaflet,zh_CN,leaflet-zh_CN-a4.pdf,"
} > "$T/jobs.csv"
cp "$SAMPLE" "$T/sample-patient.xml"
for j in 1 2; do
  if $PILDOC batch "$T/jobs.csv" --out "$T/batch$j" --jobs $j --quiet 2>"$T/err"; then ok; else ko "batch --jobs $j: $(cat "$T/err")"; fi
  for f in leaflet-en-a4 consent-zh_CN-a4 consent-sample-fr leaflet-fr-a4 consent-sample-en leaflet-zh_CN-a4; do
    check "/ID: batch --jobs $j gives $f the /ID of render" test "$(ids "$T/batch$j/$f.pdf" | cut -d' ' -f2)" = "$(ids "$A/$f.pdf" | cut -d' ' -f2)"
  done
done
check "batch --jobs 1 and 2: the same files" diff -r -x 'manifest*' "$T/batch1" "$T/batch2"

# --- --plain: the smallest file, not PDF/A ----------------------------------------------------
for d in "leaflet en" "leaflet fr" "leaflet zh_CN" "consent en"; do
  set -- $d
  if $PILDOC render $1 --lang $2 --plain -o "$T/plain/$1-$2-a4.pdf"; then ok; else ko "render --plain $1 $2"; fi
  a=$(stat -c %s "$A/$1-$2-a4.pdf")
  p=$(stat -c %s "$T/plain/$1-$2-a4.pdf")
  check "--plain $1 $2 is smaller ($p < $a bytes)" test "$p" -lt "$a"
  echo "pdfa: $1 $2: PDF/A-1b $a bytes, --plain $p bytes (saves $((a - p)))"
done
$PILDOC render consent --lang zh_CN --plain --set 'patient.name=王䶮𠀋' -o "$T/plain/consent-rare-zh_CN.pdf"
printf 'template,lang,output\nleaflet,fr,leaflet-fr-a4.pdf\n' > "$T/plain-jobs.csv"
if $PILDOC batch "$T/plain-jobs.csv" --out "$T/plain-batch" --plain --quiet; then ok; else ko "batch --plain"; fi
check "batch --plain gives render --plain's file" cmp "$T/plain-batch/leaflet-fr-a4.pdf" "$T/plain/leaflet-fr-a4.pdf"
$PY tests/pdfa-check.py plain "$T"/plain/*.pdf > "$T/plain.txt" 2>&1
count_py "$T/plain.txt"
check "--plain: a different /ID than PDF/A" test "$(ids "$T/plain/leaflet-en-a4.pdf" | cut -d' ' -f2)" != "$(ids "$A/leaflet-en-a4.pdf" | cut -d' ' -f2)"
for f in "$T"/plain/*.pdf; do check "qpdf --check --plain $(basename "$f")" qpdf --check "$f"; done
preflight "$T/plain" > "$T/preflight-plain.txt"
check "Preflight rejects --plain output (no OutputIntent, no XMP)" grep -q "leaflet-en-a4.pdf is not a valid PDF/A-1b" "$T/preflight-plain.txt"

summary pdfa
