#!/bin/bash
# Golden layout tests: each tests/layout/CASE.xml is rendered with the
# arguments in CASE.args (if any) as `--format text` (page,
# x, y and text of every line; "____ LEN kind" for lines to write on;
# "[ ]" for boxes) and compared with CASE.expected. A case that must be
# refused expects "exit N" and the error line instead.
#   bash tests/layout.sh            compare
#   bash tests/layout.sh --update   rewrite the .expected files (review the diff)
# Also: layout time stays linear in the number of lines to write on in one
# paragraph (issue 10, item 33).
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
PILDOC=${PILDOC:-./pildoc}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
update=0
[ "${1:-}" = --update ] && update=1

for xml in tests/layout/*.xml; do
  name=${xml%.xml}
  args=
  [ -f "$name.args" ] && args=$(cat "$name.args")
  # shellcheck disable=SC2086
  $PILDOC render "$xml" $args --format text -o "$T/out" 2>"$T/err"
  rc=$?
  if [ $rc != 0 ]; then
    { echo "exit $rc"; cat "$T/err"; } > "$T/got"
  else
    cp "$T/out" "$T/got"
  fi
  if [ $update = 1 ]; then
    cp "$T/got" "$name.expected"
    ok
  elif diff -u "$name.expected" "$T/got" > "$T/diff"; then
    ok
  else
    ko "$(basename "$name"): layout differs:"
    head -40 "$T/diff" >&2
  fi
done

# the review's M9: a justified Chinese line that hangs its opening bracket
# half an em into the margin is half an em wider, so its right edge stays
# flush with the lines that do not (tests/layout/zh-bracket.xml; lines 1,
# 2 and 4 of the text are justified, 2 and 4 start with a bracket)
$PILDOC render tests/layout/zh-bracket.xml --lang zh_CN -o "$T/zb.pdf" 2>/dev/null
check "a hanging bracket: justified lines flush right" python3 -c '
import re, sys
xs = [(float(a), float(b)) for a, b in re.findall(r"<line xMin=\"([0-9.]+)\"[^>]*xMax=\"([0-9.]+)\"", sys.stdin.read())]
body = xs[3:10]
left, right = body[0]
assert abs(body[1][0] - (left - 5.5)) < 0.1, body  # hangs half of 11 pt
for i in (1, 3, 5):
    assert abs(body[i][1] - right) < 0.1, (i, body[i], right)' < <(pdftotext -bbox-layout "$T/zb.pdf" -)

# issue 10, item 33: 4,000 lines to write on in one paragraph (14.6 s before:
# quadratic). CPU time, not wall time, and compared with 1,000 lines (a
# quadratic layout takes 16 times as long, a linear one 4), so that a loaded
# or sanitized build does not fail it.
blanks() {
  python3 -c '
import sys
print("<?xml version=\"1.0\"?><document name=\"b\" version=\"1\" revised=\"2026-01-01\"><meta><title>T</title><subject>s</subject><author>a</author></meta><body><p>" + "<var name=\"clinic.phone\"/>" * int(sys.argv[1]) + "</p></body></document>")' "$1" > "$T/blanks-$1.xml"
}
cpu_ms() { # CPU milliseconds of a render of N blanks; its exit status in $T/rc-N
  local n=$1 t
  t=$( { TIMEFORMAT='%3U %3S'; time timeout 60 $PILDOC render "$T/blanks-$n.xml" --format text -o "$T/blanks-$n.txt" 2>/dev/null; echo $? > "$T/rc-$n"; } 2>&1 )
  python3 -c 'import sys; print(int(1000 * (float(sys.argv[1]) + float(sys.argv[2]))))' $t
}
blanks 1000
blanks 4000
small=$(cpu_ms 1000)
big=$(cpu_ms 4000)
check "4,000 lines to write on render (exit $(cat "$T/rc-4000"))" test "$(cat "$T/rc-4000")" = 0
echo "layout: 4,000 blanks ${big} ms CPU, 1,000 blanks ${small} ms"
check "4,000 lines to write on: not quadratic (${big} ms CPU vs ${small} ms for 1,000)" \
  test "$big" -lt $((8 * small + 500))
check "4,000 lines to write on, each drawn" test "$(grep -c ' ____ ' "$T/blanks-4000.txt")" = 4000
check "every line to write on within the margins" python3 -c '
import sys
for l in open(sys.argv[1], encoding="utf-8"):
    p, x, y, t = l.rstrip("\n").split(" ", 3)
    if t.startswith("____ "):
        w = float(t.split()[1][:-2]) * 72 / 25.4
        if float(x) < 56 or float(x) + w > 540: sys.exit(1)' "$T/blanks-4000.txt"

# The worker's cache of layouts (a layout found again by a hash of what
# makes it, checked against what it was made for; its measures kept with
# it) never changes a document: one worker lays out values of one length
# that differ in a letter, the same text in two print sizes, alone and
# beside a second language, and each PDF is byte for byte a fresh
# render's.
export SOURCE_DATE_EPOCH=1795305600
cat > "$T/cache.csv" <<'CSV'
template,lang,output,patient.name,patient.id,treatment.condition,large_print,also
consent,fr,c1.pdf,Zoë Martin,P0001,,,
consent,fr,c2.pdf,Zoë Mertin,P0002,,,
consent,fr,c3.pdf,Zoë Martin,P0001,,1,
consent,fr,c4.pdf,Zoë Martin,P0001,,,en
consent,zh_CN,c5.pdf,陈 Li,P0003,,,
consent,zh_CN,c6.pdf,王 Li,P0004,,,
leaflet,en,c7.pdf,,,crps,,
leaflet,en,c8.pdf,,,crps,1,
leaflet,en,c9.pdf,,,cancer,,
consent,fr,c10.pdf,Zoë Mertin,P0002,,,
CSV
$PILDOC batch "$T/cache.csv" --out "$T/cache" --jobs 1 --quiet 2>/dev/null
python3 - "$T/cache.csv" > "$T/cache.args" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    a = [r["template"], "--lang", r["lang"], "-o", r["output"]]
    for k in ("patient.name", "patient.id", "treatment.condition"):
        if r[k]:
            a += ["--set", "%s=%s" % (k, r[k])]
    if r["large_print"]:
        a.append("--large-print")
    if r["also"]:
        a += ["--also", r["also"]]
    print("\t".join(a))
PY
while IFS=$'\t' read -r -a args; do
  out=${args[4]}
  args[4]=$T/fresh-$out
  $PILDOC render "${args[@]}" 2>/dev/null
  check "layout cache: batch $out = a fresh render" cmp -s "$T/fresh-$out" "$T/cache/$out"
done < "$T/cache.args"

# A box continued on a new page opens with "(continued)"; its first
# paragraph is repeated only when it introduces a list (the urgent box's
# warning signs, tests/bilingual.sh), never otherwise: the English Letter
# leaflet's safety box, continued on page 5 in the middle of its second
# paragraph, repeated its first ("Who should not have it. ...") there.
$PILDOC render leaflet --lang en --paper letter -o "$T/cont.pdf"
check "leaflet en Letter: the safety box continued on a new page says (continued)" \
  bash -c "pdftotext -f 5 -l 5 '$T/cont.pdf' - | head -3 | grep -qx '(continued)'"
check "... and its first paragraph, which introduces no list, is printed once" \
  test "$(pdftotext "$T/cont.pdf" - | grep -c 'Who should not have it. Ketamine')" = 1

summary layout
