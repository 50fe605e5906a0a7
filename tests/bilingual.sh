#!/bin/bash
# Bilingual documents (`--also`, issue 16: the renderer and binding side):
# both languages in one PDF, the first first; the default file name
# TEMPLATE-LL+MM.pdf; --also equal to --lang refused; an incomplete second
# (or first) language refused whatever --allow-incomplete says; the same
# bytes twice under SOURCE_DATE_EPOCH. Pairing of every block is checked by
# the unit tests (tests/unit/test_lang.c) on the document model.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
SRC=$PWD
PILDOC=${PILDOC:-$SRC/pildoc}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600

# default name, from another folder
(cd "$T" && "$PILDOC" render consent --lang zh_CN --also fr) 2> "$T/err"
check "--also: default file out/consent-zh_CN+fr.pdf" test -s "$T/out/consent-zh_CN+fr.pdf"
check "... and nothing on stderr" test ! -s "$T/err"
pdftotext "$T/out/consent-zh_CN+fr.pdf" "$T/zhfr.txt"
check "... Chinese and French text in the PDF" bash -c "grep -q '知情同意书' '$T/zhfr.txt' && grep -q 'Consentement aux perfusions' '$T/zhfr.txt'"
check "... the title in both languages, Chinese first" bash -c "pdfinfo '$T/out/consent-zh_CN+fr.pdf' | grep -q '^Title: *氯胺酮.* / Consentement'"
check "... the document language is the first one" bash -c "qpdf --qdf --object-streams=disable '$T/out/consent-zh_CN+fr.pdf' - | grep -aq '/Lang (zh-CN)'"

# the same bytes twice
for pair in "fr en" "en zh_CN"; do
  set -- $pair
  "$PILDOC" render leaflet --lang "$1" --also "$2" -o "$T/a.pdf" && "$PILDOC" render leaflet --lang "$1" --also "$2" -o "$T/b.pdf"
  check "leaflet $1+$2: byte-identical twice" cmp -s "$T/a.pdf" "$T/b.pdf"
done
"$PILDOC" render consent --lang fr --also zh_CN --paper letter --large-print -o "$T/lp.pdf"
check "consent fr+zh_CN, Letter, large print" test -s "$T/lp.pdf"

# --also equal to --lang, however written
"$PILDOC" render consent --lang fr --also fr-FR -o "$T/same.pdf" 2> "$T/err"; rc=$?
check "--also fr-FR with --lang fr refused: exit 1" test $rc = 1
check "... one line saying why" bash -c "test \$(wc -l < '$T/err') = 1 && grep -q 'is the document.s language already' '$T/err'"
check "... no file" test ! -e "$T/same.pdf"
"$PILDOC" render consent --lang fr --also xx -o "$T/xx.pdf" 2> "$T/err"; rc=$?
check "--also xx: unknown language, exit 1" bash -c "test $rc = 1 && grep -q \"unknown language 'xx'\" '$T/err'"

# an incomplete French catalog: a French sheet alone may fall back to
# English with --allow-incomplete, a bilingual one never
mkdir -p "$T/dd/build/locale/fr/LC_MESSAGES"
cp -r po "$T/dd/po"
for x in templates fonts; do ln -s "$SRC/$x" "$T/dd/$x"; done
ln -s "$SRC/build/locale/zh_CN" "$T/dd/build/locale/zh_CN"
python3 - "$T/dd/po/fr.po" <<'PY'
import sys
p = sys.argv[1]
s = open(p, encoding="utf-8").read()
import re
new, n = re.subn(r'(msgid "Patient\'s name:"\n)msgstr "[^"]*"', r'\1msgstr ""', s)
assert n == 1
open(p, "w", encoding="utf-8").write(new)
PY
msgfmt -o "$T/dd/build/locale/fr/LC_MESSAGES/pildoc.mo" "$T/dd/po/fr.po"
PILDOC_DATADIR="$T/dd" "$PILDOC" render consent --lang fr --allow-incomplete -o "$T/fr.pdf" 2> "$T/err"
check "incomplete fr alone with --allow-incomplete: made, with a warning" bash -c "test -s '$T/fr.pdf' && grep -q 'not translated into fr' '$T/err'"
for args in "--lang zh_CN --also fr" "--lang fr --also zh_CN"; do
  # shellcheck disable=SC2086
  PILDOC_DATADIR="$T/dd" "$PILDOC" render consent $args --allow-incomplete -o "$T/bi.pdf" 2> "$T/err"; rc=$?
  check "incomplete fr, $args --allow-incomplete: refused, exit 1" test $rc = 1
  check "... one line naming the template and the language" bash -c "test \$(wc -l < '$T/err') = 1 && grep -q 'consent.xml: 1 of [0-9]* messages are not translated into fr, e.g. \"Patient.s name:\"; a bilingual consent needs both languages complete' '$T/err'"
  check "... no file" test ! -e "$T/bi.pdf"
done

summary bilingual
