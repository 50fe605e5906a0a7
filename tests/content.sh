#!/bin/bash
# Medical content traceability: every source="..." in the templates names
# an existing source in ../shared/sources (for the safety digest 005, an
# existing item: source="005:B33"), and every block of the medical
# sections carries one (on itself or on its list, table or callout).
# Besides source files, two words are allowed: "clinic" (a setting of the
# clinic profile or a rule of its country) and "practice" (general care
# advice that makes no medical claim).
#
# The valid ids: read from ../shared/sources when it is there (the shared
# folder sits beside the repository, in CI as on the build machine), and
# compared with the checked-in copy tests/content-sources.txt, which is
# used alone when ../shared is absent. `bash tests/content.sh --update`
# rewrites the copy from ../shared/sources.
#
# Also: the clinic profiles (templates/clinics/*.xml) load, a broken
# profile is one error line naming file and line, and the country decides
# the legal variants and the emergency numbers.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
PILDOC=${PILDOC:-./pildoc}
SHARED=${PILDOC_SHARED:-../shared}
COPY=tests/content-sources.txt
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# The ids found in a sources folder, one per line, sorted.
ids_from() {
  python3 - "$1" <<'PY'
import os, re, sys
d = sys.argv[1]
ids = set()
for f in os.listdir(d):
    m = re.match(r'^(\d{3})[_-]', f)
    if not m:
        continue
    ids.add(m.group(1))
    if f.endswith('.md'):
        for line in open(os.path.join(d, f), encoding='utf-8'):
            m2 = re.match(r'^- \*\*([A-Z]\d+)\.\*\*', line)
            if m2:
                ids.add(m.group(1) + ':' + m2.group(1))
for i in sorted(ids):
    print(i)
PY
}

if [ "$1" = --update ]; then
  ids_from "$SHARED/sources" > "$COPY" && echo "wrote $COPY ($(wc -l < "$COPY") ids)"
  exit
fi

if [ -d "$SHARED/sources" ]; then
  ids_from "$SHARED/sources" > "$T/ids"
  check "checked-in $COPY matches $SHARED/sources (else: bash tests/content.sh --update)" \
    cmp -s "$T/ids" "$COPY"
else
  echo "content.sh: $SHARED/sources absent: using the checked-in $COPY"
  cp "$COPY" "$T/ids"
fi

# check_sources IDS DIR: prints one line per problem, exit 1 if any.
check_sources() {
  python3 - "$1" "$2" <<'PY'
import os, sys
import xml.etree.ElementTree as ET
ids = set(open(sys.argv[1]).read().split()) | {'clinic', 'practice'}
tdir = sys.argv[2]
BLOCKS = {'p', 'ul', 'ol', 'table', 'callout'}
# Which parts are medical: the leaflet all but its questions and its
# reference list; the consent its treatment, benefit, safety, risk and
# options parts (the rest is identity, rights and signatures).
def leaflet_medical(h1, h2):
    return h1 not in ('Questions you may want to ask', 'Sources')
CONSENT_H1 = {'What benefit can you expect?', 'Risks, precautions and checks',
              'Other options'}
CONSENT_H2 = {'How it is given', 'A medicine used “off-label”',
              'A medicine used outside its approved uses (“off-label”)'}
def consent_medical(h1, h2):
    return h1 in CONSENT_H1 or h2 in CONSENT_H2
RULES = {'leaflet.xml': leaflet_medical, 'consent.xml': consent_medical}
problems = []
def text(e):
    return ' '.join(''.join(e.itertext()).split())
def check_tokens(e, where):
    src = e.get('source')
    if src is None:
        return
    for tok in src.split():
        if tok not in ids:
            problems.append('%s:%s: source "%s" names no source or digest item' % (where[0], where[1] or '?', tok))
class Walker:
    def __init__(self, rule):
        self.rule, self.h1, self.h2 = rule, None, None
    def walk(self, parent, path, covered):
        for e in parent:
            where = (path, getattr(e, 'sourceline', None))
            check_tokens(e, where)
            if e.tag == 'include':
                fpath = os.path.join(os.path.dirname(path), e.get('href'))
                root = parse(fpath)
                self.walk(root, fpath, covered)
                continue
            if e.tag == 'h1':
                self.h1, self.h2 = text(e), None
                continue
            if e.tag == 'h2':
                self.h2 = text(e)
                continue
            has = covered or e.get('source') is not None
            if e.tag in BLOCKS and not has and self.rule(self.h1, self.h2):
                problems.append('%s: <%s> "%.50s" in a medical section has no source' % (path, e.tag, text(e)))
            if e.tag in ('if', 'keep', 'callout', 'ul', 'ol', 'table', 'tr', 'body', 'fragment'):
                self.walk(e, path, has if e.tag != 'if' and e.tag != 'keep' else covered)
def parse(path):
    return ET.parse(path).getroot()
for name, rule in RULES.items():
    path = os.path.join(tdir, name)
    root = parse(path)
    Walker(rule).walk(root.find('body'), path, False)
for p in dict.fromkeys(problems):
    print(p)
sys.exit(1 if problems else 0)
PY
}

check_sources "$T/ids" templates > "$T/problems"
rc=$?
[ $rc = 0 ] && ok || { ko "templates: sources"; cat "$T/problems" >&2; }
grep -q '005:' templates/fragments/*.xml && ok || ko "the safety digest is cited"

# The checker can fail: a block without a source, an unknown digest item.
cp -r templates "$T/tpl"
sed -i 's|<p source="005:B12">|<p source="005:B99">|' "$T/tpl/fragments/pregnancy.xml"
sed -i 's|<p source="005:B9">|<p>|' "$T/tpl/fragments/pregnancy.xml"
check_sources "$T/ids" "$T/tpl" > "$T/bad" && ko "checker accepts broken sources"
check "an unknown digest item is named" grep -q 'source "005:B99" names no source' "$T/bad"
check "a block without a source is named" grep -q '<p> "In animal studies' "$T/bad"

# --- clinic profiles ----------------------------------------------------------
# the laid-out text, its lines joined
render() { "$PILDOC" render consent --format text -o - "$@" 2>"$T/err" | cut -d' ' -f4- | tr '\n' ' ' | tr -s ' '; }
for c in templates/clinics/*.xml; do
  check "profile $c loads" bash -c "'$PILDOC' render consent --clinic '$c' --allow-incomplete --format text -o - >/dev/null"
done
render --lang fr --clinic templates/clinics/paris.xml > "$T/paris-fr.txt"
NB=$'\xc2\xa0' # French: a no-break space keeps "le" with the number
check "Paris, fr: 15 and 112" grep -q "appelez le${NB}15 ou le${NB}112" "$T/paris-fr.txt"
check "Paris, fr: prescribing doctor's block" grep -q 'Médecin prescripteur' "$T/paris-fr.txt"
check "Paris, fr: Assurance maladie" grep -q 'Assurance maladie' "$T/paris-fr.txt"
check "Paris, fr: hors AMM" grep -q 'hors AMM' "$T/paris-fr.txt"
check "Paris, fr: ANSM portal" grep -q 'signalement-sante.gouv.fr' "$T/paris-fr.txt"
check "Paris, fr: the clinic's own monitoring protocol" grep -q 'protocole kétamine du CETD' "$T/paris-fr.txt"
check "Paris, fr: no 911, no 120" bash -c "! grep -qE '\\b(911|120)\\b' '$T/paris-fr.txt'"
render --lang fr --clinic templates/clinics/montreal.xml > "$T/montreal-fr.txt"
check "Montréal, fr: 911" grep -q "appelez le${NB}911" "$T/montreal-fr.txt"
check "Montréal, fr: no AMM, no Assurance maladie, no 15/112" \
  bash -c "! grep -qE 'AMM|Assurance maladie|le 15|112|Médecin prescripteur' '$T/montreal-fr.txt'"
check "Montréal, fr: Canada Vigilance" grep -q 'Canada Vigilance' "$T/montreal-fr.txt"
render --lang zh_CN --clinic templates/clinics/paris.xml > "$T/paris-zh.txt"
check "Paris, zh_CN: 15 and 112" grep -qE '急救电话 ?15或 ?112' "$T/paris-zh.txt"
check "Paris, zh_CN: never 120" bash -c "! grep -q '120' '$T/paris-zh.txt'"
check "Paris, zh_CN: the French prescribing doctor's block" grep -q '处方医师' "$T/paris-zh.txt"
render --lang zh_CN --clinic templates/clinics/beijing.xml > "$T/beijing-zh.txt"
check "Beijing, zh_CN: 120" grep -qE '急救电话 ?120' "$T/beijing-zh.txt"
check "Beijing, zh_CN: ticks, not initials" grep -q '打“√”' "$T/beijing-zh.txt"
check "Beijing, zh_CN: signatories and 谈话医师" bash -c "grep -q '监护人、近亲属、授权委托人' '$T/beijing-zh.txt' && grep -q '谈话医师' '$T/beijing-zh.txt'"
check "Beijing, zh_CN: no French law" bash -c "! grep -q 'Assurance maladie' '$T/beijing-zh.txt'"
render --lang en > "$T/default-en.txt"
check "default profile: generic emergency sentence" grep -q 'call your local emergency number' "$T/default-en.txt"
check "default profile: no country's law" bash -c "! grep -qE 'Prescribing doctor|Assurance maladie|Health Canada' '$T/default-en.txt'"
render --lang en --clinic templates/clinics/paris.xml --set clinic.phone=0123456789 > "$T/set.txt"
check "--set overrides the profile" grep -q 'Phone: 0123456789' "$T/set.txt"

# A broken profile: exit 1, one line naming file and line, no output file.
bad() { # NAME EXPECTED-PATTERN CONTENT
  printf '%b' "$3" > "$T/$1.xml"
  "$PILDOC" render consent --clinic "$T/$1.xml" -o "$T/$1.pdf" 2>"$T/$1.err"
  local rc=$?
  if [ $rc = 1 ] && [ ! -e "$T/$1.pdf" ] && [ "$(wc -l < "$T/$1.err")" = 1 ] &&
    grep -qE "$T/$1.xml:[0-9]+: $2" "$T/$1.err"; then ok; else ko "bad profile $1: $(cat "$T/$1.err")"; fi
}
bad country "'clinic.country' must be one of" '<clinic country="XX"/>\n'
bad phone "a phone number has" '<clinic>\n<phone>call us</phone>\n</clinic>\n'
bad emergency "an emergency number is 2 to 4 digits" '<clinic>\n<emergency>1-5</emergency>\n</clinic>\n'
bad three "at most two emergency numbers" '<clinic>\n<emergency>15</emergency>\n<emergency>112</emergency>\n<emergency>18</emergency>\n</clinic>\n'
bad scheme "'clinic.reporting' must be one of" '<clinic>\n<reporting scheme="fax">x</reporting>\n</clinic>\n'
bad logo "logo 'missing.svg' not found" '<clinic>\n<logo>missing.svg</logo>\n</clinic>\n'
bad escape "the logo must be a file in the profile's folder" '<clinic>\n<logo>../x.svg</logo>\n</clinic>\n'
bad unknown "Element clinic has extra content: fax" '<clinic>\n<fax>1</fax>\n</clinic>\n'
bad malformed "malformed XML" '<clinic>\n<name>x</name\n'

# --- images: the clinic's logo, <img> pictograms --------------------------------
"$PILDOC" render consent --lang fr --clinic templates/clinics/paris.xml --format text -o - > "$T/logo.txt"
check "SVG logo on page 1 with its alt text" grep -q "^1 .* \[image: Centre hospitalier de l'Exemple\]" "$T/logo.txt"
"$PILDOC" render consent --lang fr --clinic templates/clinics/montreal.xml --format text -o - > "$T/logo2.txt"
check "PNG logo on page 1" grep -q "^1 .* \[image: Centre hospitalier exemple de Montréal\]" "$T/logo2.txt"
"$PILDOC" render leaflet --lang fr --clinic templates/clinics/paris.xml --format text -o - > "$T/picto.txt"
check "pictogram with translated alt text" grep -q "\[image: Pictogramme${NB}: une voiture barrée" "$T/picto.txt"
"$PILDOC" render consent --clinic templates/clinics/paris.xml -o "$T/logo.pdf" &&
  pdfimages -list "$T/logo.pdf" 2>/dev/null | awk 'NR > 2' | grep -q . && ok || ko "the PDF embeds the images"
# broken or hostile images: one line naming the file and line, exit 1, no output
mkdir -p "$T/prof"
printf 'not a png' > "$T/prof/bad.png"
printf '<svg xmlns="http://www.w3.org/2000/svg"><g>' > "$T/prof/bad.svg"
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x06\x00\x00\x00' > "$T/prof/huge.png"
ln -s /etc/hostname "$T/prof/link.png"
imgbad() { # NAME EXPECTED-PATTERN LOGO
  printf '<clinic>\n<name>x</name>\n<logo>%s</logo>\n</clinic>\n' "$3" > "$T/prof/$1.xml"
  "$PILDOC" render consent --clinic "$T/prof/$1.xml" -o "$T/$1.pdf" 2>"$T/$1.err"
  if [ $? = 1 ] && [ ! -e "$T/$1.pdf" ] && [ "$(wc -l < "$T/$1.err")" = 1 ] &&
    grep -qE "$T/prof/$1.xml:3: $2" "$T/$1.err"; then ok; else ko "bad logo $1: $(cat "$T/$1.err")"; fi
}
imgbad png "image '.*bad.png': not a valid PNG file" bad.png
imgbad svg "image '.*bad.svg': not a valid SVG file" bad.svg
imgbad huge "image '.*huge.png': larger than 4096 pixels a side" huge.png
imgbad link "image '.*link.png' is outside the folder" link.png
# a template's <img>: alt required (schema), src confined to the templates' folder
cp -r templates "$T/tpl2"
sed -i 's|alt="Pictogram: a car, crossed out (do not drive)"||' "$T/tpl2/fragments/driving.xml"
"$PILDOC" render "$T/tpl2/leaflet.xml" -o "$T/noalt.pdf" 2>"$T/noalt.err"
check "<img> without alt is refused with file:line" grep -qE "driving.xml:[0-9]+: " "$T/noalt.err"
cp -r templates "$T/tpl3"
sed -i 's|src="../pictograms/no-driving.svg"|src="../../prof/bad.png"|' "$T/tpl3/fragments/driving.xml"
"$PILDOC" render "$T/tpl3/leaflet.xml" -o "$T/escape.pdf" 2>"$T/escape.err"
check "<img> outside the templates' folder is refused" grep -qE "driving.xml:[0-9]+: image '.*' is outside the folder" "$T/escape.err"
check "no partial output" test ! -e "$T/escape.pdf"

# --- issue 12 residuals ------------------------------------------------------------
render --lang zh_CN > "$T/default-zh.txt"
check "default profile, zh_CN: generic emergency sentence, no 120" \
  bash -c "grep -q '请拨打当地急救电' '$T/default-zh.txt' && ! grep -q '120' '$T/default-zh.txt'"
check "Beijing, zh_CN: two copies (一式两份)" grep -q '本同意书一式两份' "$T/beijing-zh.txt"
check "Beijing, zh_CN: time of signing" grep -q '具体时间（时、分）' "$T/beijing-zh.txt"
check "Paris, zh_CN: no CN-only form rules" bash -c "! grep -qE '一式两份|具体时间（时、分）' '$T/paris-zh.txt'"
check "zh_CN: the consent's 'Other options' (替代治疗方案)" grep -q '替代治疗方案' "$T/default-zh.txt"
"$PILDOC" render leaflet --lang zh_CN --format text -o - | cut -d' ' -f4- | tr -d '\n' > "$T/leaflet-zh.txt"
check "zh_CN: the leaflet's 'Other options' (其他治疗选择)" grep -q '其他治疗选择' "$T/leaflet-zh.txt"
check "next review date in the consent" grep -q 'Next review of this form due by: 22 November 2027' "$T/default-en.txt"
check "approver printed from the profile" grep -q "Validé pour utilisation dans cet établissement par${NB}: Commission du médicament" "$T/paris-fr.txt"
check "no approver without a profile (no invented name)" bash -c "! grep -q 'Approved for use' '$T/default-en.txt'"

# --- batch: a clinic profile per job ------------------------------------------------
# clinic=NAME is an installed profile (templates/clinics/NAME.xml);
# clinic=FILE.xml a profile in the job file's folder, confined like data=.
B=$T/batch; mkdir -p "$B/jobs"
cp templates/clinics/montreal.xml templates/clinics/logo-montreal.png "$B/jobs/"
mkdir -p "$B/outside" && cp templates/clinics/paris.xml templates/clinics/logo-paris.svg "$B/outside/"
ln -s ../outside/paris.xml "$B/jobs/link.xml"
cat > "$B/jobs/jobs.csv" <<'CSV'
template,lang,output,clinic,patient.id
consent,fr,paris.pdf,paris,C1
consent,fr,own.pdf,montreal.xml,C2
consent,fr,none.pdf,,C3
consent,fr,up.pdf,../outside/paris.xml,C4
consent,fr,abs.pdf,/etc/pildoc.xml,C5
consent,fr,name.pdf,Paris!,C6
consent,fr,missing.pdf,nosuch,C7
consent,fr,link.pdf,link.xml,C8
CSV
printf '<batch><job template="consent" lang="zh_CN" output="bj.pdf" clinic="beijing"><data><patient><id>X1</id></patient></data></job></batch>\n' > "$B/jobs/jobs.xml"
export SOURCE_DATE_EPOCH=1795305600
"$PILDOC" batch "$B/jobs/jobs.csv" --out "$B/out" --jobs 2 --quiet 2> "$B/err"
check "batch clinic: exit 1 (bad jobs among good ones)" test $? = 1
"$PILDOC" render consent --lang fr --clinic templates/clinics/paris.xml --set patient.id=C1 -o "$B/paris.pdf"
"$PILDOC" render consent --lang fr --clinic "$B/jobs/montreal.xml" --set patient.id=C2 -o "$B/own.pdf"
"$PILDOC" render consent --lang fr --set patient.id=C3 -o "$B/none.pdf"
for f in paris own none; do check "batch clinic: $f.pdf = pildoc render --clinic" cmp -s "$B/out/$f.pdf" "$B/$f.pdf"; done
check "batch clinic: .. refused" grep -q "[( ]up.pdf): .*a clinic profile must be inside the job file's folder (no ..)" "$B/err"
check "batch clinic: absolute path refused" grep -q "[( ]abs.pdf): .*a clinic profile must be relative to the job file's folder" "$B/err"
check "batch clinic: not a name refused" grep -q "[( ]name.pdf): .*clinic must be the name of an installed clinic profile" "$B/err"
check "batch clinic: unknown profile fails its job" grep -q "C7.*nosuch.xml" "$B/err"
check "batch clinic: a link leading out refused" grep -q "[( ]link.pdf): .*a clinic profile must be inside the job file's folder (a link leads out)" "$B/err"
check "batch clinic: no output for refused jobs" bash -c "! ls '$B/out' | grep -qE '^(up|abs|name|missing|link)\.pdf$'"
"$PILDOC" batch "$B/jobs/jobs.xml" --out "$B/xml" --quiet 2> "$B/err2"
"$PILDOC" render consent --lang zh_CN --clinic templates/clinics/beijing.xml --set patient.id=X1 -o "$B/bj.pdf"
check "batch clinic: XML clinic= attribute" cmp -s "$B/xml/bj.pdf" "$B/bj.pdf"
unset SOURCE_DATE_EPOCH

# --- the consent sheet is short enough to be read with the clinician -------------
# Issue 12: the consent summarises the safety sections (the leaflet has the
# detail): at most 8 pages of A4, blank and filled, in every language, and
# with each country's legal variants (the Makefile's sample sheets).
pages() { "$PILDOC" render consent "$@" -o "$T/p.pdf" 2>/dev/null && pdfinfo "$T/p.pdf" | awk '/^Pages:/ {print $2}'; }
for l in en fr zh_CN; do
  n=$(pages --lang $l); check "consent $l blank: $n pages (at most 8)" test "${n:-99}" -le 8
  n=$(pages --lang $l --data templates/data/sample-patient.xml)
  check "consent $l filled: $n pages (at most 8)" test "${n:-99}" -le 8
done
for s in paris-fr montreal-fr paris-zh_CN; do
  n=$(pages --lang "${s#*-}" --data "templates/data/crps-$s.xml" --clinic "templates/clinics/${s%%-*}.xml")
  check "consent $s: $n pages (at most 8)" test "${n:-99}" -le 8
done
n=$(pages --lang zh_CN --clinic templates/clinics/beijing.xml)
check "consent Beijing, zh_CN: $n pages (at most 8)" test "${n:-99}" -le 8
# the longest: a blank French sheet with France's legal variants; its
# two-line blank running header and the urgent box kept whole (a form's boxes
# never split) take it to 9
n=$(pages --lang fr --clinic templates/clinics/paris.xml)
check "consent Paris, fr, blank: $n pages (at most 9)" test "${n:-99}" -le 9
n=$(pages --lang fr --clinic templates/clinics/paris.xml --data templates/data/sample-patient.xml --set treatment.condition=fibromyalgia)
check "consent Paris, fr, fibromyalgia: $n pages (at most 8)" test "${n:-99}" -le 8
# what the summary keeps in the consent itself
render --lang en --set treatment.condition=fibromyalgia > "$T/fibro.txt"
check "consent: benefit for the patient's own condition (grade D)" grep -q 'weak evidence (grade D)' "$T/fibro.txt"
check "consent: the placebo response" grep -q 'dummy treatment (placebo) can itself help' "$T/fibro.txt"
check "consent: the higher-dose warning" grep -q 'Higher doses can have serious effects' "$T/fibro.txt"
check "consent: side-effect frequencies as the sources give them" grep -q '4 of 10 people had hallucinations' "$T/fibro.txt"
check "consent: the leaflet has the detail" grep -q 'The leaflet explains them in detail' "$T/fibro.txt"
# the summary is the leaflet's too, in the same words
"$PILDOC" render leaflet --lang en --format text -o - | cut -d' ' -f4- | tr '\n' ' ' | tr -s ' ' > "$T/leaflet-en.txt"
check "the leaflet prints the same summary" grep -q 'Driving and going home. Do not drive, use machines or do anything dangerous for at least 24 hours after an infusion' "$T/leaflet-en.txt"

# the urgent box is never split across pages or columns: its warning signs
# and the number to call are read as one (a split box was seen on the
# two-column leaflet with the Paris profile)
for doc in leaflet consent; do
  for paper in a4 letter; do
    for clinic in "" --clinic=templates/clinics/paris.xml --clinic=templates/clinics/montreal.xml; do
      "$PILDOC" render $doc --lang en --paper $paper $clinic --format text -o "$T/urgent.txt" 2>/dev/null
      first=$(grep -m1 'Contact the clinic at once' "$T/urgent.txt" | cut -d' ' -f1-2)
      last=$(grep -m1 'Do not wait for your next appointment' "$T/urgent.txt" | cut -d' ' -f1-2)
      check "urgent box whole: $doc $paper ${clinic#--clinic=}" test -n "$first" -a "$first" = "$last"
    done
  done
done

summary content
