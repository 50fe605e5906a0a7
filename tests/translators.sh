#!/usr/bin/env bash
# The translator's workflow, end to end, on a copy of the source tree:
# a new language with some messages translated (English fallback, warning,
# --strict), a broken placeholder refused by make, update-po idempotent.
# Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
T=$(mktemp -d /tmp/pildoc-tr.XXXXXX)
trap 'rm -rf "$T"' EXIT

# a copy of what git tracks (plus the built program, so nothing recompiles)
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$T" 2>/dev/null || cp -r Makefile src templates po fonts tests "$T"
mkdir -p "$T/build" && cp -r build/obj "$T/build/" 2>/dev/null
cp pildoc "$T/"
cd "$T" || exit 1
make -s all >/dev/null 2>&1 || { echo "FAIL: the copy does not build"; exit 1; }

# --- a new language: Portuguese, two messages translated ------------------------
{
  cat <<'PO'
msgid ""
msgstr ""
"Project-Id-Version: pildoc\n"
"Language: pt\n"
"MIME-Version: 1.0\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Content-Transfer-Encoding: 8bit\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

msgid "Information for patients"
msgstr "Informação para doentes"

msgid "Page {page} of {pages}"
msgstr "Página {page} de {pages}"
PO
} > po/pt.po
echo pt >> po/LINGUAS
./pildoc render leaflet --lang pt -o nocat.pdf 2> err.txt; rc=$?
check "a listed language without its compiled catalog: exit 1" test $rc = 1
check "a missing catalog says what to do" grep -q "no compiled catalog for 'pt': run make" err.txt
check "make builds the new catalog" make -s all
check "the new catalog is compiled" test -s build/locale/pt/LC_MESSAGES/pildoc.mo
./pildoc langs > langs.txt
check "pildoc langs lists pt" grep -qE '^pt +leaflet +1 +0 +[0-9]+' langs.txt
check "pildoc langs counts fr complete" grep -qE '^fr +leaflet +[0-9]+ +0 +0$' langs.txt
./pildoc render leaflet --lang pt -o pt.pdf 2> warn.txt; rc=$?
check "render pt succeeds with fallback" test $rc = 0
pdftotext pt.pdf pt.txt
check "pt: translated text present" grep -q 'Informação para doentes' pt.txt
check "pt: translated footer" grep -q 'Página 1 de' pt.txt
check "pt: English fallback present" grep -q 'What benefit can you expect' pt.txt
check "pt: warning names the count" grep -qE 'warning: templates/leaflet.xml: [0-9]+ of [0-9]+ messages are not translated into pt' warn.txt
check "pt: warning gives examples" grep -q 'e.g. "Ketamine and esketamine' warn.txt
check "pt: warning is one line" test "$(wc -l < warn.txt)" = 1
./pildoc render leaflet --lang pt --strict -o strict.pdf 2> err.txt; rc=$?
check "--strict refuses (exit 1)" test $rc = 1
check "--strict leaves no file" test ! -e strict.pdf
check "--strict says why" grep -q 'not translated into pt' err.txt
./pildoc render consent --lang pt -o consent-pt.pdf 2> err.txt; rc=$?
check "a consent sheet is strict by default" test $rc = 1
check "strict consent leaves no file" test ! -e consent-pt.pdf
check "strict consent names the way out" grep -q -- '--allow-incomplete' err.txt
./pildoc render consent --lang pt --allow-incomplete -o consent-pt.pdf 2> warn.txt
check "--allow-incomplete lets it through" test -s consent-pt.pdf
check "--allow-incomplete still warns" grep -q 'warning:' warn.txt
# the same in a batch, where one worker keeps the parsed messages of each
# template and language: the second document is as incomplete as the first
printf 'template,lang,output\nconsent,pt,c1.pdf\nleaflet,pt,l1.pdf\nconsent,pt,c2.pdf\nleaflet,pt,l2.pdf\n' > pt-jobs.csv
./pildoc batch pt-jobs.csv --out pt-out --jobs 1 2> batch-err.txt; rc=$?
check "batch: incomplete consent sheets fail (exit 1)" test $rc = 1
check "batch: both consent sheets refused" test "$(grep -c '^"[13]","c[12].pdf","failed",.*not translated into pt' pt-out/manifest.csv)" = 2
check "batch: both leaflets written" test "$(grep -c '^"[24]","l[12].pdf","ok",' pt-out/manifest.csv)" = 2
check "batch: no consent file" test ! -e pt-out/c1.pdf -a ! -e pt-out/c2.pdf
check "batch: both leaflets warn, with the same count" test "$(grep 'warning: job [24]: .*not translated into pt' batch-err.txt | sed 's/job [24]//' | sort -u | wc -l)" = 1 -a "$(grep -c 'warning: job' batch-err.txt)" = 2
# a fuzzy translation prints in English too
sed -i 's/^msgid "Information for patients"/#, fuzzy\nmsgid "Information for patients"/' po/pt.po
make -s all >/dev/null 2>&1
./pildoc render leaflet --lang pt -o pt2.pdf 2>/dev/null
check "a fuzzy message prints in English" bash -c "pdftotext pt2.pdf - | grep -q 'Information for patients'"
./pildoc langs > langs.txt
check "pildoc langs counts the fuzzy one" grep -qE '^pt +leaflet +0 +1 ' langs.txt

# --- a broken placeholder stops make, naming the catalog's file and line -----------
cp po/fr.po fr.po.good
sed -i 's/^msgstr "Page {page} sur {pages}"/msgstr "Page {page} sur {total}"/' po/fr.po
line=$(grep -n 'msgstr "Page {page} sur {total}"' po/fr.po | cut -d: -f1)
make -s all > make.txt 2>&1; rc=$?
check "make refuses a renamed {placeholder}" test $rc != 0
check "the error names po/fr.po:$line" grep -q "po/fr.po:$line: the placeholders differ" make.txt
cp fr.po.good po/fr.po
python3 - <<'PY' > dropped.txt
import re
p = 'po/fr.po'
lines = open(p, encoding='utf-8').read().split('\n')
in_msgstr = False
for i, line in enumerate(lines):
    if line.startswith('msgstr'):
        in_msgstr = True
    elif not line.startswith('"'):
        in_msgstr = False
    m = re.search(r'<var name=\\"([a-z._]+)\\"/>', line) if in_msgstr else None
    if m:
        lines[i] = line[:m.start()] + 'XX' + line[m.end():]
        print(m.group(1))
        break
open(p, 'w', encoding='utf-8').write('\n'.join(lines))
PY
make -s all > make.txt 2>&1; rc=$?
check "make refuses a dropped <var>" test $rc != 0
check "dropped <var>: file, line and what" grep -qE "^po/fr.po:[0-9]+: the translation lacks <var $(cat dropped.txt)>" make.txt
cp fr.po.good po/fr.po
check "make is happy again" make -s all

# --- update-po is idempotent -------------------------------------------------------
if make -s update-po >/dev/null 2>&1; then
  cp po/pildoc.pot pot.1; cp po/fr.po fr.1; cp po/zh_CN.po zh.1
  make -s update-po >/dev/null 2>&1
  check "update-po twice: pot unchanged" cmp -s pot.1 po/pildoc.pot
  check "update-po twice: fr.po unchanged" cmp -s fr.1 po/fr.po
  check "update-po twice: zh_CN.po unchanged" cmp -s zh.1 po/zh_CN.po
  # (source line numbers may lag behind the C code; the messages may not)
  check "the committed pot has every message (run make update-po)" \
    cmp -s <(grep -v '^#:' "$OLDPWD/po/pildoc.pot") <(grep -v '^#:' po/pildoc.pot)
  check "pot carries translator notes" grep -q '^#\. ' po/pildoc.pot
  check "pot carries contexts" grep -q '^msgctxt ' po/pildoc.pot
  check "pot carries source locations" grep -q '^#: templates/leaflet.xml:' po/pildoc.pot
  check "pot carries plural forms" grep -q '^msgid_plural "{n} sessions"' po/pildoc.pot
else
  ko "make update-po"
fi

summary translators
