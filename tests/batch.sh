#!/usr/bin/env bash
# pildoc batch, end to end: XML and CSV job files, identical to single
# renders, a bad job among good ones, path escapes, the manifest, shards,
# interruption, streaming. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
PILDOC=$(realpath "${PILDOC:-./pildoc}")
T=$(mktemp -d /tmp/pildoc-batch.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600

# --- XML jobs, with a bad job and path escapes among good ones --------------------
printf '<data><patient><name>Li Wei</name><id>P0005</id></patient></data>\n' > "$T/p5.xml"
cat > "$T/jobs.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<batch>
  <job template="consent" lang="fr" output="P0001-consent-fr.pdf">
    <data><patient><name>Zoë Martin</name><id>P0001</id></patient>
          <treatment><sessions>3</sessions><medicine>ketamine</medicine></treatment></data>
  </job>
  <job template="leaflet" lang="zh_CN" output="P0002-leaflet-zh_CN.pdf">
    <data><treatment><condition>crps</condition></treatment></data>
  </job>
  <job template="leaflet" lang="xx" output="P0003.pdf"><data><patient><id>P0003</id><name>Secret Name</name></patient></data></job>
  <job template="leaflet" lang="en" output="../escape.pdf"/>
  <job template="consent" lang="en" output="sub/P0005.pdf" data="p5.xml"/>
  <job template="consent" lang="en" output="P0006.pdf"><data><patient><birth_date>2020-02-31</birth_date></patient></data></job>
  <job template="leaflet" lang="en" output="/tmp/pildoc-absolute.pdf"/>
  <job template="nonexistent" lang="en" output="P0008.pdf"/>
  <job template="leaflet" lang="fr-FR" output="P0009.pdf"/>
</batch>
XML
$PILDOC batch "$T/jobs.xml" --out "$T/x" --jobs 2 > "$T/stdout" 2> "$T/err"; rc=$?
M=$T/x/manifest.csv
check "xml: exit 1 when a job failed" test $rc = 1
check "xml: manifest written" test -s "$M"
check "xml: manifest header" grep -qx 'job,output,status,pages,bytes,sha256,error,input_sha256' "$M"
check "xml: one row per job (9)" test "$(($(wc -l < "$M") - 1))" = 9
for n in 1 2 5 9; do check "xml: job $n ok" bash -c "grep -q '^\"$n\",\"[^\"]*\",\"ok\"' '$M'"; done
for n in 3 4 6 7 8; do check "xml: job $n failed" bash -c "grep -q '^\"$n\",\"[^\"]*\",\"failed\"' '$M'"; done
check "xml: outputs written" test -s "$T/x/P0001-consent-fr.pdf" -a -s "$T/x/P0002-leaflet-zh_CN.pdf" -a -s "$T/x/sub/P0005.pdf" -a -s "$T/x/P0009.pdf"
check "xml: escape refused, nothing outside" test ! -e "$T/escape.pdf" -a ! -e /tmp/pildoc-absolute.pdf
check "xml: the escape's reason" bash -c "grep '^\"4\"' '$M' | grep -q 'inside the output folder'"
check "xml: absolute path's reason" bash -c "grep '^\"7\"' '$M' | grep -q 'absolute'"
check "xml: failed job named on stderr by number, id, output" grep -q '^pildoc: job 3 (P0003, P0003.pdf): unknown language' "$T/err"
check "xml: bad date names file:line and field" bash -c "grep '^\"6\"' '$M' | grep -q \"jobs.xml:13: 'patient.birth_date' is not a valid date\""
check "xml: no patient data on stderr" bash -c "! grep -q 'Secret Name\|Zoë' '$T/err'"
check "xml: summary line" grep -qE '^pildoc batch: 9 jobs: 4 written, 5 failed' "$T/err"
check "xml: stdout stays empty" test ! -s "$T/stdout"
# manifest figures are those of the files
for f in P0001-consent-fr.pdf P0002-leaflet-zh_CN.pdf sub/P0005.pdf; do
  line=$(grep -F "\"$f\"" "$M")
  sha=$(sha256sum "$T/x/$f" | cut -d' ' -f1)
  size=$(stat -c %s "$T/x/$f")
  pages=$(pdfinfo "$T/x/$f" | awk '/^Pages:/ {print $2}')
  check "manifest sha256 of $f" bash -c "echo '$line' | grep -q '\"$sha\"'"
  check "manifest bytes of $f" bash -c "echo '$line' | grep -q '\"$size\"'"
  check "manifest pages of $f" bash -c "echo '$line' | grep -q '\"ok\",\"$pages\"'"
done
# identical to single renders of the same jobs
$PILDOC render consent --lang fr --set "patient.name=Zoë Martin" --set patient.id=P0001 \
  --set treatment.sessions=3 --set treatment.medicine=ketamine -o "$T/s1.pdf"
check "batch output = single render (consent fr)" cmp -s "$T/s1.pdf" "$T/x/P0001-consent-fr.pdf"
$PILDOC render leaflet --lang zh_CN --set treatment.condition=crps -o "$T/s2.pdf"
check "batch output = single render (leaflet zh_CN)" cmp -s "$T/s2.pdf" "$T/x/P0002-leaflet-zh_CN.pdf"
$PILDOC render consent --data "$T/p5.xml" -o "$T/s5.pdf"
check "batch output = single render (data=FILE)" cmp -s "$T/s5.pdf" "$T/x/sub/P0005.pdf"
# a page met before in the worker comes from its deflated-stream cache
# (a leaflet's pages: every page of the third job): the same bytes as a
# fresh render, which has no cache
printf 'template,lang,output,patient.name,patient.id,treatment.condition\nleaflet,fr,r1.pdf,Anna Lee,A12,crps
leaflet,fr,r2.pdf,Lee Anna,A21,crps\nleaflet,fr,r3.pdf,Ella Nan,A11,crps\n' > "$T/rep.csv"
$PILDOC batch "$T/rep.csv" --out "$T/rep" --jobs 1 --quiet 2> /dev/null
$PILDOC render leaflet --lang fr --set "patient.name=Ella Nan" --set patient.id=A11 \
  --set treatment.condition=crps -o "$T/r3.pdf"
check "a page from the stream cache = a fresh render" cmp -s "$T/r3.pdf" "$T/rep/r3.pdf"
# lines met before in the worker are painted from its line cache (render.c,
# S_paint_cached), in other contexts: another document order, fonts
# numbered otherwise (a Chinese name first in a French sheet), untagged,
# large print, a form, a second language. Every file is the same as a
# render of its job alone.
printf '%s\n' 'template,lang,output,patient.name,patient.id,treatment.condition,plain,form,large_print,also' \
  'consent,fr,l1.pdf,Anna Lee,L1,crps,,,,' 'consent,fr,l2.pdf,李安,L2,crps,,,,' \
  'consent,fr,l3.pdf,Anna Lee,L3,crps,1,,,' 'leaflet,fr,l4.pdf,,,crps,,,,' \
  'consent,fr,l5.pdf,Zoë Lee,L5,fibromyalgia,,1,,' 'leaflet,fr,l6.pdf,,,crps,1,,,' \
  'leaflet,fr,l7.pdf,,,crps,,,1,' 'consent,fr,l8.pdf,Anna Lee,L8,crps,,,,en' \
  'consent,fr,l9.pdf,李安,L9,crps,1,,,' 'consent,zh_CN,l10.pdf,Anna Lee,L10,crps,,,,' > "$T/lines.csv"
$PILDOC batch "$T/lines.csv" --out "$T/lines" --jobs 1 --quiet 2> /dev/null
same=1
while IFS=, read -r tpl lang out name id cond plain form large also; do
  [ "$tpl" = template ] && continue
  set -- render "$tpl" --lang "$lang" --set treatment.condition="$cond" -o "$T/lines-$out"
  [ -n "$name" ] && set -- "$@" --set "patient.name=$name" --set "patient.id=$id"
  [ -n "$plain" ] && set -- "$@" --plain
  [ -n "$form" ] && set -- "$@" --form
  [ -n "$large" ] && set -- "$@" --large-print
  [ -n "$also" ] && set -- "$@" --also "$also"
  $PILDOC "$@" 2> /dev/null
  cmp -s "$T/lines-$out" "$T/lines/$out" || { same=0; echo "differs: $out" >&2; }
done < "$T/lines.csv"
check "lines from the line cache = a render alone (10 jobs: order, fonts, plain, form, large print, bilingual)" test $same = 1

# a folder inside DIR that is a symbolic link to elsewhere is not followed
mkdir -p "$T/sym/out" "$T/elsewhere"
ln -s "$T/elsewhere" "$T/sym/out/link"
printf '<batch><job template="leaflet" lang="en" output="link/x.pdf"/></batch>\n' > "$T/sym.xml"
$PILDOC batch "$T/sym.xml" --out "$T/sym/out" --quiet 2>/dev/null; rc=$?
check "symlinked folder: the job fails" test $rc = 1
check "symlinked folder: nothing written through it" test -z "$(ls -A "$T/elsewhere")"

# --- CSV: quoted fields with commas, quotes, newlines (libcsv) ----------------------
printf 'template,lang,output,patient.name,patient.id,treatment.condition\n' > "$T/jobs.csv"
printf 'consent,en,c1.pdf,"Smith, ""Jo"" Ann",C1,crps\n' >> "$T/jobs.csv"
printf 'leaflet,fr,c2.pdf,,C2,fibromyalgia\n' >> "$T/jobs.csv"
printf 'consent,en,c3.pdf,"two\nlines",C3,\n' >> "$T/jobs.csv"
printf 'consent,zh_CN,c4.pdf,王芳,C4,other\n' >> "$T/jobs.csv"
$PILDOC batch "$T/jobs.csv" --out "$T/c" --jobs 2 --quiet 2> "$T/err"; rc=$?
M=$T/c/manifest.csv
check "csv: four jobs in the manifest" test "$(($(wc -l < "$M") - 1))" = 4
check "csv: comma and quotes in a field print" bash -c "pdftotext '$T/c/c1.pdf' - | grep -qF 'Smith, \"Jo\" Ann'"
check "csv: a newline in a field is one field, refused by name" bash -c "grep '^\"3\"' '$M' | grep -q \"jobs.csv:4: value of 'patient.name' holds a control character\""
check "csv: the row after it is its own job" test -s "$T/c/c4.pdf"
check "csv: --quiet leaves only failures and the summary" test "$(grep -vc '^pildoc: job \|^pildoc batch: ' "$T/err")" = 0
$PILDOC render consent --set "patient.name=Smith, \"Jo\" Ann" --set patient.id=C1 --set treatment.condition=crps -o "$T/sc1.pdf"
check "csv: output = single render" cmp -s "$T/sc1.pdf" "$T/c/c1.pdf"
printf 'lang,template,output\n' > "$T/badhead.csv"
$PILDOC batch "$T/badhead.csv" --out "$T/bh" 2> "$T/err"; rc=$?
check "csv: a bad header stops with file:line" bash -c "test $rc = 1 && grep -q 'badhead.csv:1: the header row must start with template,lang,output' '$T/err'"
check "usage error: --jobs 0" bash -c "$PILDOC batch '$T/jobs.csv' --jobs 0 2>/dev/null; test \$? = 2"
check "usage error: --shard 4/3" bash -c "$PILDOC batch '$T/jobs.csv' --shard 4/3 2>/dev/null; test \$? = 2"

# --- the same outputs whatever --jobs and --shard -------------------------------------
python3 tests/make-jobs.py 60 "$T/j60.csv"
$PILDOC batch "$T/j60.csv" --out "$T/one" --jobs 1 --quiet 2>/dev/null
check "60 jobs, --jobs 1: all written" test "$(grep -c '"ok"' "$T/one/manifest.csv")" = 60
$PILDOC batch "$T/j60.csv" --out "$T/two" --jobs 2 --quiet 2>/dev/null
check "--jobs 2 gives the same manifest" cmp -s "$T/one/manifest.csv" "$T/two/manifest.csv"
for k in 1 2 3; do $PILDOC batch "$T/j60.csv" --out "$T/sh" --shard $k/3 --jobs 2 --quiet 2>/dev/null; done
cat "$T"/sh/manifest-*-of-3.csv | grep -v '^job,' | sort -t, -k1,1 -V > "$T/shards"
tail -n +2 "$T/one/manifest.csv" | sort -t, -k1,1 -V > "$T/whole"
check "shards together = one run (every job in exactly one shard)" cmp -s "$T/shards" "$T/whole"
check "shard 2/3 holds jobs 2, 5, 8 ..." bash -c "cut -d, -f1 '$T/sh/manifest-2-of-3.csv' | tail -n +2 | tr -d '\"' | head -3 | tr '\n' ' ' | grep -qx '2 5 8 '"
same=1
for f in "$T"/one/*.pdf; do cmp -s "$f" "$T/sh/$(basename "$f")" || same=0; done
check "sharded outputs byte-identical to the unsharded run" test $same = 1
# jobs of many kinds interleaved (templates, languages, a second language,
# large print, clinic profiles with logos, the first Chinese one among
# them): the master warms one of each set of font families and sends each
# worker the kinds it has laid out; the files and the manifest are the
# same with 1, 2 or 3 workers
python3 - "$T/mix.csv" <<'PY'
import csv, sys
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["template", "lang", "output", "patient.id", "also", "large_print", "clinic"])
    for i in range(1, 49):
        t = ["leaflet", "consent"][i % 2]
        lang = ["en", "fr", "zh_CN"][(i // 2) % 3]
        also = ("en" if lang == "fr" else "fr") if t == "leaflet" and i % 3 == 0 else ""
        w.writerow([t, lang, "m%02d.pdf" % i, "M%03d" % i, also, "1" if i % 7 == 0 else "",
                    ["montreal", "paris", "", "beijing"][i % 4]])
PY
for j in 1 2 3; do $PILDOC batch "$T/mix.csv" --out "$T/mix$j" --jobs $j --quiet 2>/dev/null; done
check "mixed kinds, --jobs 1: all written" test "$(grep -c '"ok"' "$T/mix1/manifest.csv")" = 48
check "mixed kinds: the same manifest with 2 and 3 workers" \
  bash -c "cmp -s '$T/mix1/manifest.csv' '$T/mix2/manifest.csv' && cmp -s '$T/mix1/manifest.csv' '$T/mix3/manifest.csv'"
same=1
for f in "$T"/mix1/*.pdf; do cmp -s "$f" "$T/mix2/${f##*/}" && cmp -s "$f" "$T/mix3/${f##*/}" || same=0; done
check "mixed kinds: byte-identical files with 1, 2 and 3 workers" test $same = 1
# the master's warm-up shapes its documents' paragraphs on two threads from
# the plan the last run kept (src/layoutplan.h): kept on the first run,
# used on the second, the same files
mkdir -m 700 "$T/planhome"
for r in a b; do
  XDG_CACHE_HOME="$T/planhome" $PILDOC batch "$T/mix.csv" --out "$T/mixp$r" --jobs 2 --quiet 2>/dev/null
done
check "the warm-up keeps a plan for each document it warms" \
  bash -c "ls '$T'/planhome/pildoc/plan-*.layouts > /dev/null 2>&1"
same=1
for f in "$T"/mix1/*.pdf; do cmp -s "$f" "$T/mixpa/${f##*/}" && cmp -s "$f" "$T/mixpb/${f##*/}" || same=0; done
check "mixed kinds, --jobs 2, warmed without and with the plan: byte-identical files" test $same = 1
check "the plan holds none of the jobs' values (M001 ...)" \
  bash -c "! grep -q -e M001 -e M017 '$T'/planhome/pildoc/plan-*.layouts"

# --- progress: on a terminal only ------------------------------------------------------
if command -v script >/dev/null; then
  python3 tests/make-jobs.py 20 "$T/j20.csv"
  script -qec "$PILDOC batch '$T/j20.csv' --out '$T/tty' --jobs 2" /dev/null > "$T/tty.txt" 2>&1
  check "a terminal shows progress (done/total, rate, time left)" grep -qE 'pildoc batch: [0-9]+/20 done, [0-9]+ documents/s, [0-9]+ s left' "$T/tty.txt"
  script -qec "$PILDOC batch '$T/j20.csv' --out '$T/tty2' --jobs 2 --quiet" /dev/null > "$T/tty2.txt" 2>&1
  check "--quiet on a terminal: no progress" bash -c "! grep -q '/20 done' '$T/tty2.txt'"
  $PILDOC batch "$T/j20.csv" --out "$T/notty" --jobs 2 2> "$T/notty.txt"
  check "not a terminal: only the summary" test "$(cat "$T/notty.txt" | wc -l)" = 1
fi

# --- interruption: no partial file, the manifest records what was finished ---------------
python3 tests/make-jobs.py 2000 "$T/jobs-int.csv"
$PILDOC batch "$T/jobs-int.csv" --out "$T/int" --jobs 2 --quiet 2> "$T/err" &
pid=$!
# once it has written some files, whatever the machine's speed (a fixed
# 1.5 s let a fast run of the 2,000 jobs finish first)
for _ in $(seq 600); do
  [ "$(find "$T/int" -name '*.pdf' 2>/dev/null | wc -l)" -ge 20 ] && break
  sleep 0.05
done
kill -TERM $pid
wait $pid; rc=$?
check "interrupted batch exits 1" test $rc = 1
check "interrupted batch says so" grep -q '(interrupted)' "$T/err"
check "no temporary file left " bash -c "! find '$T/int' -name '.*' | grep -q ."
check "interrupted: no manifest that looks finished" test ! -e "$T/int/manifest.csv"
check "interrupted: the partial manifest says so" grep -q 'run did not finish.*int/manifest.csv.partial.*--resume' "$T/err"
rows=$(grep -c '"ok"' "$T/int/manifest.csv.partial")
pdfs=$(find "$T/int" -name '*.pdf' | wc -l)
check "interrupted: stopped early ($rows of 2000)" test "$rows" -lt 2000
check "interrupted: every finished file is in the manifest ($pdfs = $rows)" test "$pdfs" = "$rows"
check "interrupted: every listed file is whole (sha256)" manifest_files_whole "$T/int" "$T/int/manifest.csv.partial"

# --- a job file is a stream: 200,000 jobs need no more memory than 2,000 --------------
# (not under AddressSanitizer: its quarantine keeps freed memory on purpose)
# --- a job names installed templates only, and never tells which files exist -----------
cat > "$T/tplpath.xml" <<XML
<batch>
  <job template="/etc/hostname" lang="en" output="h1.pdf"><data><patient><id>H1</id></patient></data></job>
  <job template="/no/such/file" lang="en" output="h2.pdf"><data><patient><id>H2</id></patient></data></job>
  <job template="$(pwd)/templates/leaflet.xml" lang="en" output="h3.pdf"/>
  <job template="leaflet" lang="en" output="h4.pdf"/>
</batch>
XML
$PILDOC batch "$T/tplpath.xml" --out "$T/tplpath" --quiet 2> "$T/tplpath.err"; rc=$?
check "template path: exit 1" test $rc = 1
check "template path: one line naming file, line and id" \
  grep -qx "pildoc: job 1 (H1, h1.pdf): $T/tplpath.xml:2: template must be the name of an installed template, not a path" "$T/tplpath.err"
# an existing and a missing file get the same words: the error reveals nothing
check "template path: existing and missing files are refused alike" \
  bash -c "grep '^pildoc: job 1 ' '$T/tplpath.err' | sed 's/.*: template/template/' > '$T/a'; grep '^pildoc: job 2 ' '$T/tplpath.err' | sed 's/.*: template/template/' > '$T/b'; test -s '$T/a' && cmp -s '$T/a' '$T/b'"
printf 'template,lang,output,patient.id\n/etc/hostname,en,c1.pdf,C1\n' > "$T/tplpath.csv"
$PILDOC batch "$T/tplpath.csv" --out "$T/tplpathc" --quiet 2> "$T/tplpathc.err"
check "template path: CSV, one line naming file, line and id" \
  grep -qx "pildoc: job 1 (C1, c1.pdf): $T/tplpath.csv:2: template must be the name of an installed template, not a path" "$T/tplpathc.err"
check "template path: an installed template's own file refused too" grep -q "^pildoc: job 3 (h3.pdf): .*not a path" "$T/tplpath.err"
check "template path: nothing rendered for them, the name still works" \
  bash -c "test ! -e '$T/tplpath/h1.pdf' && test ! -e '$T/tplpath/h3.pdf' && test -s '$T/tplpath/h4.pdf'"

# --- CSV injection: an output name a spreadsheet would run as a formula -----------
# (OWASP: a cell starting with = + - @ tab CR) is written after a single
# quote; so is one starting with a quote, and --resume reads them back.
cat > "$T/formula.csv" <<'CSV'
template,lang,output
leaflet,en,"=HYPERLINK(""evil.example"";""y"").pdf"
leaflet,en,+1+2.pdf
leaflet,en,-x.pdf
leaflet,en,@SUM(A1).pdf
leaflet,en,'quoted.pdf
leaflet,en,'=already.pdf
leaflet,en,plain.pdf
CSV
$PILDOC batch "$T/formula.csv" --out "$T/formula" --quiet 2> "$T/err"; rc=$?
check "formula names: exit 0" test $rc = 0
check "formula names: the files have their names" bash -c "cd '$T/formula' && test -s '=HYPERLINK(\"evil.example\";\"y\").pdf' -a -s +1+2.pdf -a -s ./-x.pdf -a -s '@SUM(A1).pdf' -a -s \"'quoted.pdf\" -a -s \"'=already.pdf\" -a -s plain.pdf"
/usr/bin/python3 - "$T/formula/manifest.csv" > "$T/cells" <<'PY'
import csv, sys
for row in csv.reader(open(sys.argv[1], newline='')):
    print(row[1])
PY
check "formula names: no manifest cell starts with = + - @" bash -c "! grep -q '^[-=+@]' '$T/cells'"
check "formula names: each is written after one quote" test "$(sed -n '2,7p' "$T/cells" | tr '\n' ' ')" = "'=HYPERLINK(\"evil.example\";\"y\").pdf '+1+2.pdf '-x.pdf '@SUM(A1).pdf ''quoted.pdf ''=already.pdf "
check "formula names: a plain name is as it was" test "$(sed -n 8p "$T/cells")" = plain.pdf
$PILDOC batch "$T/formula.csv" --out "$T/formula" --quiet --resume 2> "$T/err"; rc=$?
check "formula names: --resume reads them back: every job kept" grep -q ': 7 jobs: 0 written, 7 kept' "$T/err"

# --- --resume re-checks each output against its manifest row --------------------
head -4 "$T/formula.csv" | sed 's/^leaflet,en,/consent,fr,/' > "$T/three.csv"
$PILDOC batch "$T/three.csv" --out "$T/rc" --quiet 2> /dev/null
cp -r "$T/rc" "$T/rc-whole"
f1=$(sed -n '3s/^"2","\([^"]*\)".*/\1/p' "$T/rc/manifest.csv"); f1=${f1#\'}
f2=$(sed -n '4s/^"3","\([^"]*\)".*/\1/p' "$T/rc/manifest.csv"); f2=${f2#\'}
truncate -s 2000 "$T/rc/$f1"                                    # a write cut short
head -c "$(stat -c %s "$T/rc/$f2")" /dev/urandom > "$T/rc/$f2"  # a foreign file of the same size
$PILDOC batch "$T/three.csv" --out "$T/rc" --quiet --resume 2> "$T/err"
check "resume: a truncated output and a foreign one of the right size are rendered again" grep -q ': 3 jobs: 2 written, 1 kept' "$T/err"
check "resume: ... and are right again" bash -c "cmp -s '$T/rc/$f1' '$T/rc-whole/$f1' && cmp -s -- '$T/rc/$f2' '$T/rc-whole/$f2'"
check "resume: ... the manifest as after one whole run" cmp -s "$T/rc/manifest.csv" "$T/rc-whole/manifest.csv"

# --- a resumed run lays out nothing for the jobs it keeps: not even the master's
#     warm-up (PILDOC_TIMING prints a line for each document laid out)
python3 tests/make-jobs.py 30 "$T/j30.csv"
$PILDOC batch "$T/j30.csv" --out "$T/rk" --jobs 2 --quiet 2> /dev/null
cp -r "$T/rk" "$T/rk-whole"
PILDOC_TIMING=1 $PILDOC batch "$T/j30.csv" --out "$T/rk" --jobs 2 --quiet --resume 2> "$T/err"
check "resume, every job kept: nothing laid out, no warm-up" \
  bash -c "grep -q ': 30 jobs: 0 written, 30 kept' '$T/err' && ! grep -q 'timing:' '$T/err'"
rm "$T/rk/P00005-consent-zh_CN.pdf"
PILDOC_TIMING=1 $PILDOC batch "$T/j30.csv" --out "$T/rk" --jobs 2 --quiet --resume 2> "$T/err"
check "resume, one job missing: it alone is laid out again, the same bytes" \
  bash -c "grep -q ': 30 jobs: 1 written, 29 kept' '$T/err' && test \$(grep -c 'timing:' '$T/err') = 1 &&
    cmp -s '$T/rk/P00005-consent-zh_CN.pdf' '$T/rk-whole/P00005-consent-zh_CN.pdf'"

# --- plain per job: a `plain` column (CSV) or attribute (XML) -------------------
# 1/yes: the same bytes as `render --plain`; 0/no/empty: as `render`; any
# other value fails that job alone, with one line naming the file and line.
$PILDOC render leaflet --lang fr --plain -o "$T/pl-ref.pdf"
$PILDOC render leaflet --lang fr -o "$T/pl-full.pdf"
printf 'template,lang,output,plain\nleaflet,fr,a.pdf,1\nleaflet,fr,b.pdf,yes\nleaflet,fr,c.pdf,0\nleaflet,fr,d.pdf,\nleaflet,fr,e.pdf,maybe\n' > "$T/plain.csv"
cat > "$T/plain.xml" <<'XML'
<batch>
  <job template="leaflet" lang="fr" output="a.pdf" plain="yes"/>
  <job template="leaflet" lang="fr" output="c.pdf" plain="no"/>
  <job template="leaflet" lang="fr" output="e.pdf" plain="2"/>
</batch>
XML
$PILDOC batch "$T/plain.csv" --out "$T/plc" --jobs 2 --quiet 2> "$T/plc.err"; rc=$?
$PILDOC batch "$T/plain.xml" --out "$T/plx" --jobs 1 --quiet 2> "$T/plx.err"; rcx=$?
check "plain column: a bad value fails the batch (exit $rc)" test $rc = 1
check "plain column: 1 and yes give render --plain's bytes" bash -c "cmp -s '$T/pl-ref.pdf' '$T/plc/a.pdf' && cmp -s '$T/pl-ref.pdf' '$T/plc/b.pdf'"
check "plain column: 0 and empty give render's bytes" bash -c "cmp -s '$T/pl-full.pdf' '$T/plc/c.pdf' && cmp -s '$T/pl-full.pdf' '$T/plc/d.pdf'"
check "plain column: maybe fails that job with one line naming file and line" bash -c "test \"\$(grep -c 'plain' '$T/plc.err')\" = 1 && grep -q 'plain.csv:6: plain must be yes or no (1 or 0), not <maybe>' '$T/plc.err' && test ! -e '$T/plc/e.pdf'"
check "plain attribute: a bad value fails the batch (exit $rcx)" test $rcx = 1
check "plain attribute: yes gives render --plain's bytes, no render's" bash -c "cmp -s '$T/pl-ref.pdf' '$T/plx/a.pdf' && cmp -s '$T/pl-full.pdf' '$T/plx/c.pdf'"
check "plain attribute: 2 fails that job with one line" bash -c "grep -q 'plain.xml:4: plain must be yes or no (1 or 0), not <2>' '$T/plx.err' && test ! -e '$T/plx/e.pdf'"

if [ -z "${PILDOC_SANITIZED:-}" ]; then
mkjobs() { python3 -c "
import sys
n = int(sys.argv[1])
print('template,lang,output')
for i in range(n): print('leaflet,en,../refused-%d.pdf' % i)" "$1" > "$2"; }
mkjobs 2000 "$T/small.csv"
mkjobs 200000 "$T/big.csv"
rss() { /usr/bin/time -f %M "$PILDOC" batch "$1" --out "$T/mem" --jobs 1 --quiet 2>&1 >/dev/null | tail -1; }
small=$(rss "$T/small.csv"); big=$(rss "$T/big.csv")
check "streaming: 200000 jobs read in ${big} KB vs 2000 in ${small} KB" test "$big" -lt $((small + 4096))
check "streaming: all 200000 refused and listed" test "$(($(wc -l < "$T/mem/manifest.csv") - 1))" = 200000
fi

summary batch
