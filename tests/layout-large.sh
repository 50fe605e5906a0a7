#!/usr/bin/env bash
# Large print in batch (issue 11): a large_print CSV column and XML
# attribute give the same bytes as `pildoc render --large-print`; 0 or an
# empty cell is normal print; any other value fails its job alone; a
# resumed run re-renders a job whose large_print changed.
# (serve's large_print=1 is tested in tests/serve.sh.)
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
PILDOC=$(realpath "${PILDOC:-./pildoc}")
T=$(mktemp -d /tmp/pildoc-large.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600

$PILDOC render leaflet --lang fr --large-print -o "$T/ref-large.pdf"
$PILDOC render leaflet --lang fr -o "$T/ref-normal.pdf"
$PILDOC render consent --lang zh_CN --large-print --set patient.id=P7 -o "$T/ref-consent.pdf"

printf 'template,lang,output,large_print,patient.id\n' > "$T/jobs.csv"
printf 'leaflet,fr,big.pdf,1,\n' >> "$T/jobs.csv"
printf 'leaflet,fr,normal.pdf,,\n' >> "$T/jobs.csv"
printf 'leaflet,fr,zero.pdf,0,\n' >> "$T/jobs.csv"
printf 'leaflet,fr,bad.pdf,yes,P4\n' >> "$T/jobs.csv"
printf 'consent,zh_CN,consent.pdf,1,P7\n' >> "$T/jobs.csv"
$PILDOC batch "$T/jobs.csv" --out "$T/c" --jobs 2 --quiet 2> "$T/err"; rc=$?
check "csv: exit 1 (one bad job)" test $rc = 1
check "csv: large_print=1 is render --large-print" cmp -s "$T/c/big.pdf" "$T/ref-large.pdf"
check "csv: an empty cell is normal print" cmp -s "$T/c/normal.pdf" "$T/ref-normal.pdf"
check "csv: 0 is normal print" cmp -s "$T/c/zero.pdf" "$T/ref-normal.pdf"
check "csv: large print in Chinese, with values" cmp -s "$T/c/consent.pdf" "$T/ref-consent.pdf"
check "csv: large_print=yes fails its job, naming the line" \
  grep -q 'jobs.csv:5: large_print must be 1 or 0' "$T/c/manifest.csv"
check "csv: the bad job leaves no file" test ! -e "$T/c/bad.pdf"

cat > "$T/jobs.xml" <<'XML'
<batch>
  <job template="leaflet" lang="fr" output="big.pdf" large_print="1"/>
  <job template="leaflet" lang="fr" output="normal.pdf" large_print="0"/>
  <job template="leaflet" lang="fr" output="bad.pdf" large_print="2"/>
</batch>
XML
$PILDOC batch "$T/jobs.xml" --out "$T/x" --jobs 1 --quiet 2> "$T/err"; rc=$?
check "xml: exit 1 (one bad job)" test $rc = 1
check "xml: large_print=\"1\" is render --large-print" cmp -s "$T/x/big.pdf" "$T/ref-large.pdf"
check "xml: large_print=\"0\" is normal print" cmp -s "$T/x/normal.pdf" "$T/ref-normal.pdf"
check "xml: large_print=\"2\" fails its job" grep -q 'jobs.xml:4: large_print must be 1 or 0' "$T/x/manifest.csv"

# --resume: a job whose large_print changed is rendered again
printf 'template,lang,output,large_print\nleaflet,fr,a.pdf,\n' > "$T/r.csv"
$PILDOC batch "$T/r.csv" --out "$T/r" --quiet 2>/dev/null
printf 'template,lang,output,large_print\nleaflet,fr,a.pdf,1\n' > "$T/r.csv"
$PILDOC batch "$T/r.csv" --out "$T/r" --quiet --resume 2>/dev/null
check "resume: a changed large_print is rendered again" cmp -s "$T/r/a.pdf" "$T/ref-large.pdf"

summary layout-large
