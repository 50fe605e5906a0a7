#!/bin/bash
# Fillable, signable consent sheets (issue 14 item 3): pildoc render
# consent --form writes an AcroForm. Checked here, with real tools:
#  - fields per variant (language, paper, clinic profile, blank or
#    filled): one widget at every line to write on and every box (not the
#    patient label's), none for what a filled sheet prints; signature
#    fields, initials or (China) tick boxes as the country wants; /TU on
#    every field, in the document's language; appearance streams; /Tabs /S
#    and widgets in reading order (tests/formcheck.py, pikepdf);
#  - filled with pdftk-java and with pikepdf, then read back with
#    poppler (pdftotext, pdftoppm): Latin and French values, check boxes,
#    Chinese values;
#  - signed with pdfsig into an existing signature field, with a
#    self-signed certificate made by certutil: "Signature is Valid";
#  - Preflight: forms, and forms filled and signed, are PDF/A-1b; tagged,
#    every widget is in a Form element of the structure tree;
#  - the leaflet is refused with one line; without --form nothing
#    changes, and the form itself draws nothing until it is filled.
cd "$(dirname "$0")/.."
. tests/lib.sh

PY=/usr/bin/python3 # Debian's, with python3-pikepdf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fields() { "$PY" tests/formcheck.py fields "$1"; }

# ---- fields per variant --------------------------------------------------
# what the page shows: lines to write on and boxes, without the patient
# label's box; a filled sheet's boxes of answered choices are printed, not
# fields (sample-patient.xml answers 10: medicine 2, condition 5, interpreting 3)
for lang in en fr zh_CN; do
  for paper in a4 letter; do
    for clinic in default paris montreal beijing; do
      for fill in blank filled; do
        [ "$paper" = letter ] && [ "$clinic" != default ] && [ "$clinic" != beijing ] && continue
        v="$lang-$paper-$clinic-$fill"
        args=(consent --lang "$lang" --paper "$paper" --clinic "templates/clinics/$clinic.xml")
        [ "$fill" = filled ] && args+=(--data templates/data/sample-patient.xml)
        if ! ./pildoc render "${args[@]}" --form -o "$tmp/$v.pdf" 2>"$tmp/err" ||
          ! ./pildoc render "${args[@]}" --format text -o "$tmp/$v.txt"; then
          ko "$v: render failed: $(head -1 "$tmp/err")"
          continue
        fi
        fields "$tmp/$v.pdf" >"$tmp/$v.fields"
        check "$v: qpdf --check" qpdf --check "$tmp/$v.pdf"
        check "$v: no problem in the form ($(grep -m1 PROBLEM "$tmp/$v.fields"))" \
          bash -c "! grep -q PROBLEM '$tmp/$v.fields'"
        lines=$(grep -c ' ____ ' "$tmp/$v.txt")
        boxes=$(grep ' \[.\] ' "$tmp/$v.txt" | grep -vc '72.0x38.0mm')
        answered=0
        [ "$fill" = filled ] && answered=10
        widgets=$(awk -F'\t' '{ n += $3 } END { print n + 0 }' "$tmp/$v.fields")
        if [ "$widgets" = $((lines + boxes - answered)) ]; then ok; else
          ko "$v: $widgets widgets for $lines lines and $boxes boxes ($answered answered)"
        fi
        signs=$(awk -F'\t' '$2 == "sign"' "$tmp/$v.fields" | wc -l)
        want=4
        [ "$clinic" = paris ] && want=5 # France: the second holder of parental authority
        if [ "$signs" = "$want" ]; then ok; else ko "$v: $signs signature fields, not $want"; fi
        # named by role (<sign name="..."> in consent.xml), not by position
        names=$(awk -F'\t' '$2 == "sign" { print $1 }' "$tmp/$v.fields" | sort | tr '\n' ' ')
        want="sign.clinician sign.interpreter sign.patient sign.witness "
        [ "$clinic" = paris ] && want="sign.clinician sign.interpreter sign.patient sign.second_parent sign.witness "
        if [ "$names" = "$want" ]; then ok; else ko "$v: signature fields '$names', not '$want'"; fi
        initials=$(grep -c '^initials\.' "$tmp/$v.fields")
        ticks=$(grep -c '^tick\.' "$tmp/$v.fields")
        statements=$(grep -c '17.0x11.0mm' "$tmp/$v.txt")
        if [ "$clinic" = beijing ]; then
          [ "$ticks" = "$statements" ] && [ "$initials" = 0 ] && [ "$ticks" -ge 8 ] && ok ||
            ko "$v: $ticks tick boxes and $initials initials boxes for $statements statements (China ticks)"
        else
          [ "$initials" = "$statements" ] && [ "$ticks" = 0 ] && [ "$initials" -ge 8 ] && ok ||
            ko "$v: $initials initials boxes and $ticks tick boxes for $statements statements"
        fi
        if [ "$fill" = filled ]; then
          # what the sheet prints is no field
          check "$v: no field for a value the sheet prints" \
            bash -c "! grep -qE '^(patient|treatment\.medicine|treatment\.condition|treatment\.sessions|treatment\.start_date|clinic\.name|clinic\.phone|interpreter)\.' '$tmp/$v.fields'"
        else
          check "$v: patient.name is one field on every page" \
            bash -c "awk -F'\t' '\$1 == \"patient.name\" && \$3 >= $(pdfinfo "$tmp/$v.pdf" | awk '/^Pages:/ { print $2 }')' '$tmp/$v.fields' | grep -q ."
          check "$v: a check box per choice" grep -q '^treatment\.medicine\.ketamine	check' "$tmp/$v.fields"
        fi
        # accessible names in the document's language
        case $lang in
        en) check "$v: English /TU" grep -qP '\tDate: \(DD/MM/YYYY\)$|– Date: \(DD/MM/YYYY\)$' "$tmp/$v.fields" ;;
        fr) check "$v: French /TU" grep -qP '\tDate[^\t:]{1,3}: \(JJ/MM/AAAA\)$|– Date[^\t:]{1,3}: \(JJ/MM/AAAA\)$' "$tmp/$v.fields" ;;
        zh_CN) check "$v: Chinese /TU" grep -qP '\t[^\t]*签名：$' "$tmp/$v.fields" ;;
        esac
      done
    done
  done
done

# ---- tagged: every widget in a Form element (formcheck.py checks each
# widget's /StructParent and OBJR above; poppler reads the same tree)
./pildoc render consent --clinic templates/clinics/paris.xml --form -o "$tmp/tagged.pdf"
forms=$(pdfinfo -struct "$tmp/tagged.pdf" 2>/dev/null | grep -c '^ *Form')
widgets=$(fields "$tmp/tagged.pdf" | awk -F'\t' '{ n += $3 } END { print n + 0 }')
[ "$forms" -gt 0 ] && [ "$forms" = "$widgets" ] && ok ||
  ko "tagged: $forms Form elements in poppler's structure tree for $widgets widgets"
check "--plain: a form without a structure tree still has its fields" bash -c \
  "./pildoc render consent --plain --form -o '$tmp/plain-form.pdf' && $PY tests/formcheck.py fields '$tmp/plain-form.pdf' | grep -q '^sign.patient' && ! $PY tests/formcheck.py fields '$tmp/plain-form.pdf' | grep -q PROBLEM"

# ---- filled with pdftk-java: Latin and French ------------------------------
./pildoc render consent --form -o "$tmp/en.pdf"
cat >"$tmp/en.xfdf" <<'X'
<?xml version="1.0" encoding="UTF-8"?>
<xfdf xmlns="http://ns.adobe.com/xfdf/" xml:space="preserve"><fields>
<field name="patient.name"><value>Zoë Dupré-Lefèvre</value></field>
<field name="patient.id"><value>P-0042</value></field>
<field name="initials.1"><value>ZDL</value></field>
<field name="date.1"><value>26/11/2026</value></field>
<field name="treatment.medicine.ketamine"><value>Yes</value></field>
</fields></xfdf>
X
if pdftk "$tmp/en.pdf" fill_form "$tmp/en.xfdf" output "$tmp/en-filled.pdf"; then
  pdftotext "$tmp/en-filled.pdf" "$tmp/en-filled.txt"
  for value in 'Zoë Dupré-Lefèvre' P-0042 ZDL 26/11/2026; do
    check "pdftk: '$value' shows in poppler" grep -qF "$value" "$tmp/en-filled.txt"
  done
  # the name on every page (one field, a widget per page)
  pages=$(pdfinfo "$tmp/en-filled.pdf" | awk '/^Pages:/ { print $2 }')
  n=$(grep -c 'Zoë Dupré-Lefèvre' "$tmp/en-filled.txt")
  [ "$n" -ge "$pages" ] && ok || ko "pdftk: the name shows $n times on $pages pages"
  check "pdftk: filled file passes qpdf --check" qpdf --check "$tmp/en-filled.pdf"
else
  ko "pdftk fill_form failed"
fi
# the tick: page 1 drawn differently once the box is ticked, and nothing
# else drawn by the form until it is filled
cat >"$tmp/tick.xfdf" <<'X'
<?xml version="1.0" encoding="UTF-8"?>
<xfdf xmlns="http://ns.adobe.com/xfdf/"><fields>
<field name="treatment.medicine.ketamine"><value>Yes</value></field>
</fields></xfdf>
X
./pildoc render consent -o "$tmp/plain.pdf"
pdftk "$tmp/en.pdf" fill_form "$tmp/tick.xfdf" output "$tmp/tick.pdf"
pdftoppm -r 50 -f 1 -l 1 "$tmp/plain.pdf" "$tmp/plain"
pdftoppm -r 50 -f 1 -l 1 "$tmp/en.pdf" "$tmp/form"
pdftoppm -r 50 -f 1 -l 1 "$tmp/tick.pdf" "$tmp/tick"
check "an unfilled form draws exactly what the sheet does" cmp "$tmp/plain-1.ppm" "$tmp/form-1.ppm"
check "a ticked box draws its tick" bash -c "! cmp -s '$tmp/plain-1.ppm' '$tmp/tick-1.ppm'"

./pildoc render consent --lang fr --clinic templates/clinics/paris.xml --form -o "$tmp/fr.pdf"
cat >"$tmp/fr.xfdf" <<'X'
<?xml version="1.0" encoding="UTF-8"?>
<xfdf xmlns="http://ns.adobe.com/xfdf/"><fields>
<field name="patient.name"><value>Hélène Côté-Lœwy</value></field>
<field name="text.3"><value>Médecin anesthésiste-réanimateur</value></field>
</fields></xfdf>
X
if pdftk "$tmp/fr.pdf" fill_form "$tmp/fr.xfdf" output "$tmp/fr-filled.pdf"; then
  pdftotext "$tmp/fr-filled.pdf" "$tmp/fr-filled.txt"
  check "pdftk: French accents and œ show in poppler" grep -qF 'Hélène Côté-Lœwy' "$tmp/fr-filled.txt"
  check "pdftk: a French role shows" grep -qF 'Médecin anesthésiste-réanimateur' "$tmp/fr-filled.txt"
else
  ko "pdftk fill_form failed (French)"
fi

# ---- filled with pikepdf; Chinese -----------------------------------------
"$PY" tests/formcheck.py fill "$tmp/en.pdf" "$tmp/en-pike.pdf" 'patient.name=Jürgen Øster' \
  'interpreter.mode.video=Yes'
check "pikepdf: a Latin value shows in poppler" bash -c \
  "pdftotext '$tmp/en-pike.pdf' - 2>/dev/null | grep -qF 'Jürgen Øster'"
./pildoc render consent --lang zh_CN --clinic templates/clinics/beijing.xml --form -o "$tmp/zh.pdf"
"$PY" tests/formcheck.py fill "$tmp/zh.pdf" "$tmp/zh-pike.pdf" 'patient.name=王芳' \
  'text.4=主治医师' 'tick.1=Yes'
pdftotext "$tmp/zh-pike.pdf" "$tmp/zh-pike.txt" 2>/dev/null
check "pikepdf: a Chinese name shows in poppler" grep -qF '王芳' "$tmp/zh-pike.txt"
check "pikepdf: a Chinese role shows in poppler" grep -qF '主治医师' "$tmp/zh-pike.txt"
cat >"$tmp/zh.xfdf" <<'X'
<?xml version="1.0" encoding="UTF-8"?>
<xfdf xmlns="http://ns.adobe.com/xfdf/"><fields>
<field name="patient.name"><value>李明华</value></field>
</fields></xfdf>
X
pdftk "$tmp/zh.pdf" fill_form "$tmp/zh.xfdf" output "$tmp/zh-pdftk.pdf" need_appearances
check "pdftk need_appearances: a Chinese name shows in poppler" bash -c \
  "pdftotext '$tmp/zh-pdftk.pdf' - 2>/dev/null | grep -qF '李明华'"

# a filler that draws the fields itself with the form's font (as poppler
# does in a viewer): Chinese shows without NeedAppearances, which PDF/A
# forbids, and the tick boxes keep their ticks
"$PY" tests/formcheck.py fill-drawn "$tmp/zh.pdf" "$tmp/zh-drawn.pdf" 'patient.name=王芳' \
  'patient.birth_date.1=1978' 'tick.1=Yes'
pdftotext "$tmp/zh-drawn.pdf" "$tmp/zh-drawn.txt" 2>/dev/null
check "drawn with the /DR font: a Chinese name shows in poppler" grep -qF '王芳' "$tmp/zh-drawn.txt"
check "drawn with the /DR font: no NeedAppearances" bash -c \
  "! $PY tests/formcheck.py fields '$tmp/zh-drawn.pdf' | grep -q NeedAppearances"
pdftoppm -r 50 -f 5 -l 5 "$tmp/zh.pdf" "$tmp/zh-blank"
pdftoppm -r 50 -f 5 -l 5 "$tmp/zh-drawn.pdf" "$tmp/zh-tick"
check "drawn: the ticked statement shows its tick" bash -c "! cmp -s '$tmp/zh-blank-5.ppm' '$tmp/zh-tick-5.ppm'"

# ---- signed with pdfsig ----------------------------------------------------
nss="$tmp/nss"
mkdir "$nss"
head -c 64 /dev/urandom >"$tmp/noise"
certutil -N -d "sql:$nss" --empty-password &&
  certutil -S -n pildoc-test -s "CN=pildoc test signer" -x -t "CT,C,C" -d "sql:$nss" \
    -z "$tmp/noise" -k rsa -g 2048 -v 12 --keyUsage digitalSignature,nonRepudiation >/dev/null 2>&1
check "certutil made a self-signed test certificate" bash -c "pdfsig -nssdir 'sql:$nss' -list-nicks 2>/dev/null | grep -q pildoc-test"
for f in en-filled zh-drawn; do
  pdfsig -nssdir "sql:$nss" -sign sign.patient -nick pildoc-test -reason consent "$tmp/$f.pdf" \
    "$tmp/$f-signed.pdf" >/dev/null 2>&1
  pdfsig -nssdir "sql:$nss" "$tmp/$f-signed.pdf" >"$tmp/$f-sig.txt" 2>&1
  check "pdfsig: $f signed in sign.patient: Signature is Valid" grep -q 'Signature is Valid' "$tmp/$f-sig.txt"
  check "pdfsig: $f: the other signature fields stay unsigned" \
    grep -q 'sign.clinician' "$tmp/$f-sig.txt"
  check "$f signed: qpdf --check" qpdf --check "$tmp/$f-signed.pdf"
done
# ---- PDF/A-1b (Apache PDFBox Preflight): forms as written, and filled
# and signed (pdftk with Latin-1 values; Chinese drawn with the /DR font)
CP=
for j in preflight pdfbox2 fontbox2 xmpbox commons-logging javax.activation jaxb-api; do
  [ -f /usr/share/java/$j.jar ] && CP=$CP:/usr/share/java/$j.jar
done
mkdir "$tmp/pdfa"
cp "$tmp/en.pdf" "$tmp/zh.pdf" "$tmp/fr.pdf" "$tmp/en-filled-signed.pdf" "$tmp/zh-drawn-signed.pdf" "$tmp/pdfa/"
java -cp "${CP#:}" org.apache.pdfbox.preflight.Validator_A1b batch "$tmp/pdfa" >"$tmp/preflight.txt" 2>&1
for f in en zh fr en-filled-signed zh-drawn-signed; do
  check "Preflight: $f.pdf is a valid PDF/A-1b file ($(grep -A1 "file $f.pdf is not" "$tmp/preflight.txt" | tail -1))" \
    grep -qxF "The file $f.pdf is a valid PDF/A-1b file" "$tmp/preflight.txt"
done
check "pdfsig: an unsigned form has no signature to validate" bash -c \
  "pdfsig '$tmp/en.pdf' 2>&1 | grep -q 'not signed' && ! pdfsig '$tmp/en.pdf' 2>&1 | grep -q 'Signature is Valid'"

# ---- batch: the form column (CSV) and attribute (XML) -----------------------
cat >"$tmp/jobs.csv" <<'C'
template,lang,output,clinic,form,patient.name
consent,fr,f1.pdf,paris,yes,
consent,zh_CN,f2.pdf,beijing,1,王芳
consent,en,f3.pdf,,,
consent,en,f4.pdf,,maybe,
leaflet,en,f5.pdf,,1,
C
SOURCE_DATE_EPOCH=1700000000 ./pildoc batch "$tmp/jobs.csv" --out "$tmp/batch" --jobs 2 -q >/dev/null 2>"$tmp/batch.err"
m="$tmp/batch/manifest.csv"
for j in 1 2 3; do check "batch: job $j ok" grep -q "^\"$j\",\"[^\"]*\",\"ok\"" "$m"; done
check "batch: form=yes is a form" bash -c "pdfsig '$tmp/batch/f1.pdf' 2>&1 | grep -q 'sign.second_parent'"
check "batch: form=1 is a form, without the field the data fills" bash -c \
  "$PY tests/formcheck.py fields '$tmp/batch/f2.pdf' | grep -q '^tick.1' && ! $PY tests/formcheck.py fields '$tmp/batch/f2.pdf' | grep -q '^patient.name'"
check "batch: an empty form cell is no form" bash -c "! grep -aq AcroForm '$tmp/batch/f3.pdf'"
check "batch: form=maybe fails its job, naming the column" bash -c \
  "grep '^\"4\"' '$m' | grep -q 'form must be yes or no'"
check "batch: the leaflet with form=1 fails alone" bash -c \
  "grep '^\"5\"' '$m' | grep -q 'no line to sign on'"
SOURCE_DATE_EPOCH=1700000000 ./pildoc render consent --lang fr --clinic templates/clinics/paris.xml \
  --form -o "$tmp/f1.pdf"
check "batch: a form is byte-identical to render --form" cmp "$tmp/f1.pdf" "$tmp/batch/f1.pdf"
cat >"$tmp/jobs.xml" <<'X'
<batch><job template="consent" lang="en" output="x1.pdf" form="yes"/>
<job template="consent" lang="en" output="x2.pdf"/></batch>
X
./pildoc batch "$tmp/jobs.xml" --out "$tmp/xbatch" --jobs 1 -q >/dev/null 2>&1
check "batch XML: form=\"yes\" is a form" bash -c "pdfsig '$tmp/xbatch/x1.pdf' 2>&1 | grep -q 'sign.patient'"
check "batch XML: no attribute, no form" bash -c "! grep -aq AcroForm '$tmp/xbatch/x2.pdf'"

# ---- signature names: by role in both languages of a bilingual sheet; a
# <sign> without a name is numbered (sign.1); two of the same name stay two
./pildoc render consent --lang zh_CN --also en --form -o "$tmp/bi.pdf"
check "bilingual form: signature fields named by role" bash -c \
  "test \"\$($PY tests/formcheck.py fields '$tmp/bi.pdf' | awk -F'\t' '\$2 == \"sign\" { print \$1 }' | sort | tr '\n' ' ')\" = 'sign.clinician sign.interpreter sign.patient sign.witness '"
./pildoc render tests/tags/form.xml --form -o "$tmp/unnamed.pdf"
check "an unnamed <sign>: sign.1" bash -c "$PY tests/formcheck.py fields '$tmp/unnamed.pdf' | grep -qP '^sign\.1\tsign\t'"
sed '/<sign/p' tests/tags/form.xml | sed 's/<sign>/<sign name="sign.x">/' >"$tmp/dup.xml"
./pildoc render "$tmp/dup.xml" --form -o "$tmp/dup.pdf"
check "two <sign name=\"sign.x\">: two signature fields, no problem" bash -c \
  "test \"\$($PY tests/formcheck.py fields '$tmp/dup.pdf' | grep -cP '\tsign\t')\" = 2 && ! $PY tests/formcheck.py fields '$tmp/dup.pdf' | grep -q PROBLEM"
sed 's/<sign>/<sign name="Sign X">/' tests/tags/form.xml >"$tmp/badname.xml"
./pildoc render "$tmp/badname.xml" --form -o "$tmp/badname.pdf" 2>"$tmp/badname.err"; rc=$?
check "<sign name=\"Sign X\">: refused (exit $rc), one line naming file and line" bash -c \
  "test $rc = 1 && test \$(wc -l <'$tmp/badname.err') = 1 && grep -q 'badname.xml:20:' '$tmp/badname.err' && test ! -e '$tmp/badname.pdf'"

# ---- the leaflet; without --form --------------------------------------------
./pildoc render leaflet --form -o "$tmp/leaflet.pdf" 2>"$tmp/leaflet.err"
status=$?
[ "$status" = 1 ] && [ "$(wc -l <"$tmp/leaflet.err")" = 1 ] && [ ! -e "$tmp/leaflet.pdf" ] &&
  grep -q 'no line to sign on' "$tmp/leaflet.err" && ok ||
  ko "leaflet --form: exit $status, '$(head -2 "$tmp/leaflet.err")', want one line, exit 1, no file"
check "without --form: no AcroForm, no widget" bash -c \
  "! qpdf --qdf '$tmp/plain.pdf' - | grep -aqE '/AcroForm|/Widget|/Annots'"
SOURCE_DATE_EPOCH=1700000000 ./pildoc render consent -o "$tmp/a.pdf"
SOURCE_DATE_EPOCH=1700000000 ./pildoc render consent --form -o "$tmp/b.pdf"
SOURCE_DATE_EPOCH=1700000000 ./pildoc render consent --form -o "$tmp/c.pdf"
check "a form is reproducible byte for byte" cmp "$tmp/b.pdf" "$tmp/c.pdf"
check "a form is another file than the sheet (its own /ID)" bash -c "! cmp -s '$tmp/a.pdf' '$tmp/b.pdf'"

summary form
