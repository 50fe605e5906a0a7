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
[ "${1:-}" = --update ] && UPDATE=1

# `--format text` goldens (tests/bilingual/consent-part-LL+MM.expected; a
# part of the consent holding a block of each kind): every block followed
# by its translation, the statement of which version prevails, the
# interpreter's statement naming both languages, a field's label one
# language a line when the two do not fit on one, title, edition and
# footer in both. `bash tests/bilingual.sh --update` rewrites them.
for pair in "zh_CN fr" "fr en" "en zh_CN"; do
  set -- $pair
  golden=tests/bilingual/consent-part-$1+$2.expected
  "$PILDOC" render tests/bilingual/consent-part.xml --lang "$1" --also "$2" --format text -o "$T/part.txt"
  if [ "${UPDATE:-}" = 1 ]; then cp "$T/part.txt" "$golden"; fi
  check "golden $golden" diff -u "$golden" "$T/part.txt"
done

# default name, from another folder
(cd "$T" && "$PILDOC" render consent --lang zh_CN --also fr) 2> "$T/err"
check "--also: default file out/consent-zh_CN+fr.pdf" test -s "$T/out/consent-zh_CN+fr.pdf"
check "... and nothing on stderr" test ! -s "$T/err"
pdftotext "$T/out/consent-zh_CN+fr.pdf" "$T/zhfr.txt"
check "... Chinese and French text in the PDF" bash -c "grep -q '知情同意书' '$T/zhfr.txt' && grep -q 'Consentement aux perfusions' '$T/zhfr.txt'"
check "... the title in both languages, Chinese first" bash -c "pdfinfo '$T/out/consent-zh_CN+fr.pdf' | grep -q '^Title: *氯胺酮.* / Consentement'"
check "... the document language is the first one" bash -c "qpdf --qdf --object-streams=disable '$T/out/consent-zh_CN+fr.pdf' - | grep -aq '/Lang (zh-CN)'"

# the XMP metadata: the title and subject in each language with its
# xml:lang (beside the joined x-default, the Info dictionary's), both languages
qpdf --qdf --object-streams=disable "$T/out/consent-zh_CN+fr.pdf" "$T/zhfr.qdf"
check "... XMP dc:title: each language's with its xml:lang" bash -c "grep -aq '<rdf:li xml:lang=\"zh-CN\">氯胺酮或艾司氯胺酮输注治疗慢性疼痛知情同意书</rdf:li><rdf:li xml:lang=\"fr\">Consentement aux perfusions' '$T/zhfr.qdf'"
check "... XMP dc:description likewise" bash -c "grep -a '<dc:description>' '$T/zhfr.qdf' | grep -q 'xml:lang=\"fr\">Formulaire de consentement'"
check "... XMP dc:language: both" grep -aq '<dc:language><rdf:Bag><rdf:li>zh-CN</rdf:li><rdf:li>fr</rdf:li></rdf:Bag></dc:language>' "$T/zhfr.qdf"

check "... the document checks of PDF/A (tests/pdfa-check.py) pass: x-default as /Info says" bash -c "/usr/bin/python3 tests/pdfa-check.py archival '$T/out/consent-zh_CN+fr.pdf' > '$T/pdfa.txt' 2>&1 && ! grep -q FAIL '$T/pdfa.txt'"

# the French text is shaped as French (Noto Sans first, its italic), not
# with the Chinese document's CJK fonts
check "... the French set in Noto Sans Italic" bash -c "pdffonts '$T/out/consent-zh_CN+fr.pdf' | grep -q 'NotoSans-Italic'"

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

# no pair split across pages: every message both catalogs translate starts,
# in both languages, and ends in the second, on one page
# (tests/pairs-check.py, pdftotext page by page)
for pair in "zh_CN fr" "fr en" "en zh_CN"; do
  set -- $pair
  for tpl in consent leaflet; do
    for paper in a4 letter; do
      "$PILDOC" render $tpl --lang "$1" --also "$2" --paper $paper -o "$T/pairs.pdf"
      check "no pair split across pages: $tpl $1+$2 $paper" python3 tests/pairs-check.py "$T/pairs.pdf" "$1" "$2" "$SRC/build/locale"
    done
  done
done

# a batch column `also` (CSV) / attribute (XML): the same bytes as pildoc
# render --also, whatever --jobs
printf '<data><patient><name>Zoë Martin</name><id>P0001</id></patient></data>\n' > "$T/p1.xml"
cat > "$T/jobs.xml" <<EOF
<batch>
  <job template="consent" lang="zh_CN" also="fr" output="a.pdf" data="p1.xml"/>
  <job template="leaflet" lang="fr" also="en" output="b.pdf"/>
  <job template="consent" lang="en" also="zh_CN" output="c.pdf" large_print="1"/>
  <job template="consent" lang="fr" output="d.pdf"/>
  <job template="consent" lang="fr" also="fr_FR" output="same.pdf"/>
</batch>
EOF
"$PILDOC" render consent --lang zh_CN --also fr --data "$T/p1.xml" -o "$T/ref-a.pdf"
"$PILDOC" render leaflet --lang fr --also en -o "$T/ref-b.pdf"
"$PILDOC" render consent --lang en --also zh_CN --large-print -o "$T/ref-c.pdf"
"$PILDOC" render consent --lang fr -o "$T/ref-d.pdf"
for jobs in 1 3; do
  "$PILDOC" batch "$T/jobs.xml" --out "$T/bx$jobs" --jobs $jobs --quiet > /dev/null 2> "$T/berr"
  for k in a b c d; do
    check "batch XML also=, --jobs $jobs: $k.pdf identical to pildoc render" cmp -s "$T/bx$jobs/$k.pdf" "$T/ref-$k.pdf"
  done
  check "batch XML, --jobs $jobs: also equal to lang fails that job alone" bash -c "test ! -e '$T/bx$jobs/same.pdf' && grep -q 'language already' '$T/berr'"
done
printf 'template,lang,output,also,patient.name,patient.id\nconsent,zh_CN,a.pdf,fr,Zoë Martin,P0001\nleaflet,fr,b.pdf,en,,\nconsent,fr,d.pdf,,,\nconsent,fr,bad.pdf,f r,,\n' > "$T/jobs.csv"
for jobs in 1 2; do
  "$PILDOC" batch "$T/jobs.csv" --out "$T/bc$jobs" --jobs $jobs --quiet > /dev/null 2> "$T/berr"
  for k in a b d; do
    check "batch CSV also column, --jobs $jobs: $k.pdf identical to pildoc render" cmp -s "$T/bc$jobs/$k.pdf" "$T/ref-$k.pdf"
  done
  check "batch CSV, --jobs $jobs: a bad also fails that job alone, naming the line" bash -c "test ! -e '$T/bc$jobs/bad.pdf' && grep -q 'jobs.csv:5: also must be a language code' '$T/berr'"
done

# the running header labelled in both languages, each value once
"$PILDOC" render consent --lang fr --also en -o "$T/hdr-fren.pdf"
pdftotext -f 2 -l 2 "$T/hdr-fren.pdf" "$T/hdr2.txt"
check "running header, blank fr+en: labels in both languages on page 2" bash -c "grep -q '^Patient : / Patient:' '$T/hdr2.txt' && grep -q 'N° de dossier ou de patient : / Patient number:' '$T/hdr2.txt'"
pdftotext -f 2 -l 2 "$T/ref-a.pdf" "$T/hdr2.txt"
check "running header, filled zh_CN+fr: both labels, the name once" bash -c "grep -q '^患者：/ Patient : Zoë Martin\$' '$T/hdr2.txt' && test \$(grep -c 'Zoë Martin' '$T/hdr2.txt') = 1"
"$PILDOC" render consent --lang en --also zh_CN -o "$T/hdr-enzh.pdf"
pdftotext -f 2 -l 2 "$T/hdr-enzh.pdf" "$T/hdr2.txt"
check "running header, blank en+zh_CN: the Chinese labels without the date's last character" bash -c "grep -q '^Date of birth: / 出生日期：' '$T/hdr2.txt' && grep -q '^Patient number: / 病历号：' '$T/hdr2.txt'"

# the statement that both versions say the same, and which prevails: by
# default the clinician's (--also) language; a data value may name the other
pdftotext "$T/out/consent-zh_CN+fr.pdf" - | tr '\n' ' ' > "$T/zhfr1.txt"
check "consent zh_CN+fr: the statement in Chinese, French governing by default" grep -q '本同意书以两种语言书写，两种语言版本内容相同。如两种版本有不一致 *之处，以法文版本为准。' "$T/zhfr1.txt"
check "... and in French, after it" grep -q '以法文版本为准。 *Ce formulaire est rédigé en deux langues. Les deux versions ont le *même contenu. En cas de divergence entre les deux versions, la version *française fait foi.' "$T/zhfr1.txt"
printf '<data><document><governing_language>zh_CN</governing_language></document></data>\n' > "$T/gov.xml"
"$PILDOC" render leaflet --lang zh_CN --also fr --data "$T/gov.xml" -o "$T/gov.pdf"
pdftotext "$T/gov.pdf" - | tr '\n' ' ' > "$T/gov.txt"
check "leaflet zh_CN+fr, governing_language zh_CN from a data file: the leaflet's wording, Chinese prevails" bash -c "grep -q '本须知以两种语言书写.*以中文版本为准' '$T/gov.txt' && grep -q 'Cette fiche est rédigée en deux langues.*la version *chinoise fait foi' '$T/gov.txt'"
check "... printed once in each language" test "$(grep -o 'deux langues' "$T/gov.txt" | wc -l)" = 1
"$PILDOC" render consent --lang fr -o "$T/mono.pdf" --set document.governing_language=fr
check "a document in one language: no such statement (whatever governing_language says)" bash -c "! pdftotext '$T/mono.pdf' - | grep -q 'deux langues'"
rm -f "$T/bad.pdf"
"$PILDOC" render consent --lang fr --also en --set document.governing_language=zh_CN -o "$T/bad.pdf" 2> "$T/err"; rc=$?
check "governing_language zh_CN in a fr+en consent: exit 1, no file" bash -c "test $rc = 1 && test ! -e '$T/bad.pdf'"
check "... one line naming the value and the two languages" bash -c "test \$(wc -l < '$T/err') = 1 && grep -q 'document.governing_language is zh_CN, not one of this document.s two languages (fr, en)' '$T/err'"
"$PILDOC" render consent --lang fr --also en --set document.governing_language=de -o "$T/bad.pdf" 2> "$T/err"; rc=$?
check "governing_language de: exit 1, one line naming the choices" bash -c "test $rc = 1 && test ! -e '$T/bad.pdf' && test \$(wc -l < '$T/err') = 1 && grep -q \"'document.governing_language' must be one of: en, fr, zh_CN\" '$T/err'"
"$PILDOC" render consent --lang fr --also en --set document.languages=en+fr -o "$T/bad.pdf" 2> "$T/err"; rc=$?
check "document.languages cannot be set: exit 1, one line" bash -c "test $rc = 1 && test ! -e '$T/bad.pdf' && grep -q \"'document.languages' is set by --also and cannot be set\" '$T/err'"
printf 'template,lang,output,also,document.governing_language\nconsent,fr,ok.pdf,en,\nconsent,fr,bad.pdf,en,zh_CN\n' > "$T/gov.csv"
"$PILDOC" batch "$T/gov.csv" --out "$T/bg" --jobs 1 --quiet > /dev/null 2> "$T/berr"
check "batch: a governing_language not among the job's languages fails that job alone, naming the job" bash -c "test -s '$T/bg/ok.pdf' && test ! -e '$T/bg/bad.pdf' && grep -q 'job 2 (bad.pdf): document.governing_language is zh_CN' '$T/berr'"

# the interpreter's statement names both languages, in each language
for pair in "zh_CN fr 在法语与中文之间 'entre le français et le chinois'" "fr en \"entre l’anglais et le français\" 'between English and French'" "en zh_CN 'between English and Chinese' 在英语与中文之间"; do
  eval set -- $pair
  "$PILDOC" render consent --lang "$1" --also "$2" -o "$T/int.pdf"
  pdftotext "$T/int.pdf" - | tr '\n' ' ' | sed 's/  */ /g' > "$T/int.txt"
  check "interpreter $1+$2: '$3' then '$4'" bash -c "grep -q \"$3.*$4\" '$T/int.txt' && ! grep -q 'language above\|langue indiquée ci-dessus\|上述语种' '$T/int.txt'"
done

# the second language's text is tagged with its /Lang (marked content of
# every block and span in it, inside the document's /Lang), in each pair
for pair in "zh_CN fr fr" "fr en en" "en zh_CN zh-CN"; do
  set -- $pair
  "$PILDOC" render consent --lang "$1" --also "$2" -o "$T/lang.pdf"
  qpdf --qdf --object-streams=disable "$T/lang.pdf" "$T/lang.qdf"
  n=$(grep -ao "<</MCID [0-9]*/Lang($3)>>BDC" "$T/lang.qdf" | wc -l)
  check "consent $1+$2: the second language's text marked /Lang($3) ($n times)" test "$n" -ge 100
  check "... its French or English headings too" bash -c "grep -aq '/H1<</MCID [0-9]*/Lang($3)>>BDC' '$T/lang.qdf'"
done

# PDF/UA conditions (tests/pdfua-check.py --order) on every pair, with the
# language of texts of the second language: headings, paragraphs, the
# statement, a field's label beside the first language's
for pair in "zh_CN fr" "fr en" "en zh_CN"; do
  set -- $pair
  for tpl in consent leaflet; do
    case "$tpl $2" in
      "consent fr") lo=(--lang-of "Consentement aux perfusions=fr" --lang-of "À propos de ce formulaire=fr" --lang-of "Ce formulaire est rédigé en deux langues=fr") ;;
      "leaflet fr") lo=(--lang-of "Cette fiche est rédigée en deux langues=fr" --lang-of "Téléphone=fr") ;;
      "consent en") lo=(--lang-of "About this form=en" --lang-of "This form is given in two languages=en") ;;
      "leaflet en") lo=(--lang-of "This leaflet is given in two languages=en" --lang-of "Phone:=en") ;;
      "consent zh_CN") lo=(--lang-of "关于本同意书=zh-CN" --lang-of "本同意书以两种语言书写=zh-CN") ;;
      "leaflet zh_CN") lo=(--lang-of "本须知以两种语言书写=zh-CN" --lang-of "科室：=zh-CN") ;;
    esac
    "$PILDOC" render $tpl --lang "$1" --also "$2" -o "$T/ua.pdf"
    check "PDF/UA checks and the second language's /Lang: $tpl $1+$2" /usr/bin/python3 tests/pdfua-check.py "$T/ua.pdf" --order "${lo[@]}"
  done
done

# the title shaped per language: in a Chinese and French title the French
# apostrophe is Noto Sans's, not a full-width Chinese one
pdftotext -l 1 -bbox "$T/out/consent-zh_CN+fr.pdf" - > "$T/bbox.html"
check "zh_CN+fr title: d’eskétamine set as French (its width under 1.5 times kétamine's)" python3 - "$T/bbox.html" <<'PY'
import re, sys
words = re.findall(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)<', open(sys.argv[1], encoding="utf-8").read())
w = {}
for x0, x1, t in words:
    w.setdefault(t, float(x1) - float(x0))
sys.exit(0 if w["d’eskétamine"] < 1.5 * w["kétamine"] else 1)
PY

# the running header's blank Chinese date (____年__月__日) never wraps
# across its rows, in one language or two
"$PILDOC" render consent --lang zh_CN -o "$T/zh1.pdf"
for f in zh1 out/consent-zh_CN+fr; do
  check "running header ($f): the blank date 年 月 日 on one row" bash -c "pdftotext -layout -f 2 -l 2 '$T/$f.pdf' - | head -6 | grep -q '出生日期：.*年 *月 *日'"
done

# the bilingual footer: title, version and date, page number, all in both
# languages (two lines), in large print too
"$PILDOC" render consent --lang en --also zh_CN --large-print --paper letter -o "$T/foot.pdf"
pdftotext -f 2 -l 2 "$T/out/consent-zh_CN+fr.pdf" - | tail -6 > "$T/foot1.txt"
pdftotext -layout -f 2 -l 2 "$T/foot.pdf" - | tail -6 > "$T/foot2.txt"
check "footer zh_CN+fr: the short title in both languages" grep -q '知情同意书：氯胺酮输注治疗 / Consentement : perfusions de kétamine' "$T/foot1.txt"
check "... version and date in both" grep -q '版本号：1.0 *修订日期：2026 年 11 月 22 日 / Version 1.0 du 22 novembre 2026' "$T/foot1.txt"
check "... the page number in both" grep -q '第 2 页，共 [0-9]* 页 / Page 2 sur [0-9]*' "$T/foot1.txt"
check "footer en+zh_CN, Letter, large print: title, version and date, page" bash -c "grep -q '^ *Consent: ketamine and esketamine infusions / 知' '$T/foot2.txt' && grep -q 'Version 1.0, revised 22 November 2026 / 版本号：1.0 *修订日期：2026 年 11 月 22 日' '$T/foot2.txt' && grep -q 'Page 2 of [0-9]* / 第 2 页，共 [0-9]* 页' '$T/foot2.txt'"

# large print: the two-language urgent box fills most of a page; moved
# whole below the title it left page 1 126-159 mm empty (of 223-241): it
# now breaks between its blocks, never inside a text and its translation
# (between Chinese and English: page 1 ends with a second-language line).
# Every pairing, both templates, A4 and Letter.
cat > "$T/p1.py" <<'PY'
import re, sys
path, H, second = sys.argv[1], float(sys.argv[2]), sys.argv[3]
top, bottom = 95, H - 64
rows = [l.rstrip('\n').split(' ', 3) for l in open(path, encoding='utf-8')]
body = [(float(y), t) for q, x, y, t in rows if q == '1' and top < float(y) < bottom + 1]
gap = bottom - max(y for y, t in body)
bad = []
if gap > (bottom - top) / 2:
    bad.append(f'page 1 {gap * 25.4 / 72:.0f} mm empty')
last = max(body)[1]
cjk = re.search('[\u4e00-\u9fff]', last) is not None
if (second == 'zh_CN' and not cjk) or (second == 'en' and cjk):
    bad.append(f'page 1 ends inside a pair: {last!r}')
print('; '.join(bad))
sys.exit(1 if bad else 0)
PY
# ... and where the urgent box breaks, its part on the next page opens
# with "(continued)" in both languages and, above the warning signs it
# holds, the box's lead ("Contact the clinic at once if you have any of
# these:") again: a page never lists them without it. It broke without
# either before.
cat > "$T/cont.py" <<'PY'
import sys
path, first, second = sys.argv[1:4]
mark = {'en': '(continued)', 'fr': '(suite)', 'zh_CN': '（续）'}
lead = {'en': 'Contact the clinic at once', 'fr': 'Contactez immédiatement le centre',
        'zh_CN': '如果出现以下任何一种情况'}
sign = {'en': 'a heartbeat that feels very fast', 'fr': 'des battements de cœur très rapides',
        'zh_CN': '感觉心跳很快或心跳不规则'}
end = {'en': 'Do not wait for your next appointment', 'fr': 'N’attendez pas votre prochain',
       'zh_CN': '请不要等到下次复诊时再处理'}
rows = [l.rstrip('\n').split(' ', 3) for l in open(path, encoding='utf-8')]
rows = [(int(q), float(y), t.replace('\u2060', '')) for q, x, y, t in rows]  # word joiners
def page(s):
    return min(q for q, y, t in rows if s in t)
def y_on(q, s):
    return [y for p, y, t in rows if p == q and s in t]
p1, p2 = page(lead[first]), page(end[first])
bad = []
for q in range(p1 + 1, p2 + 1):
    m = y_on(q, mark[first] + ' ' + mark[second])
    if not m:
        bad.append(f'page {q}: no "(continued)" in both languages')
    for lang in (first, second):
        s = y_on(q, sign[lang])
        if s and not (m and [y for y in y_on(q, lead[lang]) if m[0] < y < s[0]]):
            bad.append(f'page {q}: a warning sign without the lead ({lang})')
print('; '.join(bad) if bad else f'broken {p2 - p1}')
sys.exit(1 if bad else 0)
PY
broken=0
for doc in leaflet consent; do
  for paper in a4:842 letter:792; do
    for pair in "en fr" "en zh_CN" "fr en" "fr zh_CN" "zh_CN en" "zh_CN fr"; do
      set -- $pair
      "$PILDOC" render $doc --lang $1 --also $2 --paper ${paper%:*} --large-print --format text -o "$T/lp1.txt"
      why=$(python3 "$T/p1.py" "$T/lp1.txt" ${paper#*:} $2)
      check "$doc $1+$2 ${paper%:*} large print: page 1 not left mostly empty ($why)" \
        python3 "$T/p1.py" "$T/lp1.txt" ${paper#*:} $2
      why=$(python3 "$T/cont.py" "$T/lp1.txt" $1 $2)
      check "$doc $1+$2 ${paper%:*} large print: the urgent box continued on a new page opens with (continued) and its lead ($why)" \
        python3 "$T/cont.py" "$T/lp1.txt" $1 $2
      case $why in "broken 0") ;; *) broken=$((broken + 1)) ;; esac
    done
  done
done
check "the urgent box breaks across pages in at least 12 of the 24 (the checks above are not vacuous: $broken)" test $broken -ge 12
"$PILDOC" render leaflet --lang en --also fr --large-print -o "$T/lp-cont.pdf"
check "the repeated lead is printed (twice on the pages) but read once: an artifact, outside the structure tree" \
  bash -c "test \$(pdftotext '$T/lp-cont.pdf' - | grep -c 'Contact the clinic at once if') = 2 && test \$(pdfinfo -struct-text '$T/lp-cont.pdf' | grep -c 'Contact the clinic at once if') = 1 && ! pdfinfo -struct-text '$T/lp-cont.pdf' | grep -q '(continued)'"

# pildoc serve: also=
: > "$T/serve.log"
"$PILDOC" serve --listen 127.0.0.1:0 --workers 1 2> "$T/serve.log" &
SPID=$!
port=$(serve_port "$T/serve.log" "$SPID")
URL=http://127.0.0.1:$port
code() { curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@"; }
check "serve also=en: 200" test "$(code -X POST "$URL/render/leaflet?lang=fr&also=en")" = 200
check "... identical to pildoc render --also" cmp -s "$T/body" "$T/ref-b.pdf"
check "... named leaflet-fr+en.pdf" grep -q 'filename="leaflet-fr+en.pdf"' "$T/hdr"
check "serve also=fr with patient data: identical to pildoc render --also" bash -c "test \"\$(curl -s -o '$T/body2' -w '%{http_code}' -X POST -H 'Content-Type: application/xml' --data-binary @'$T/p1.xml' '$URL/render/consent?also=fr&lang=zh_CN')\" = 200 && cmp -s '$T/body2' '$T/ref-a.pdf'"
check "serve also=xx: 400" test "$(code -X POST "$URL/render/leaflet?lang=fr&also=xx")" = 400
check "... naming the field also" grep -q '"field":"also"}' "$T/body"
check "serve also equal to lang (fr-FR, fr): 400" test "$(code -X POST "$URL/render/leaflet?also=fr-FR&lang=fr")" = 400
check "... naming the field also" bash -c "grep -q '\"field\":\"also\"}' '$T/body' && grep -q 'differ from lang' '$T/body'"
check "serve: a form field document.languages is refused (set by also= alone): 400" test "$(code -X POST --data 'document.languages=en%2Bfr' "$URL/render/consent?lang=en")" = 400
check "... naming the field" bash -c "grep -q '\"field\":\"document.languages\"' '$T/body' && grep -q 'is set by --also and cannot be set' '$T/body'"
check "serve: governing_language as a form field, with also=: 200, French prevails" bash -c "test \"\$(curl -s -o '$T/gov-serve.pdf' -w '%{http_code}' -X POST --data 'document.governing_language=fr' '$URL/render/leaflet?lang=en&also=fr')\" = 200 && pdftotext '$T/gov-serve.pdf' - | tr '\n' ' ' | grep -q 'the French version *prevails'"
kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null

summary bilingual
