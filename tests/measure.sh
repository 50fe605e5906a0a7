#!/bin/bash
# Measures the laid-out documents (`--format text`) against the reading
# and form rules of issue 11, in en/fr/zh_CN, A4 and Letter, blank and
# filled, normal and large print:
# - no body line longer than 75 characters (en, fr) or 36 ideograph
#   widths (zh_CN, Latin counting half);
# - every line to write on at least its minimum: names 70 mm, phone
#   numbers 50 mm, ids 35 mm, dates 30 mm, other text 25 mm; rows of lines
#   at least 8 mm apart;
# - check boxes at least 4 mm, initials boxes at least 15 x 10 mm with a
#   clear gap (3 mm or more) between them;
# - every page of the consent sheet after the first, and every page with
#   a signature line, identifies the patient (name and number filled, or
#   the header's lines to write them on).
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
PILDOC=${PILDOC:-./pildoc}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SAMPLE=templates/data/sample-patient.xml

for l in en fr zh_CN; do
  for paper in a4 letter; do
    for size in normal large; do
      big=; [ $size = large ] && big=--large-print
      for doc in leaflet consent; do
        for fill in blank filled; do
          data=; [ $fill = filled ] && data="--data $SAMPLE"
          what="$doc $l $paper $size $fill"
          # shellcheck disable=SC2086
          if ! $PILDOC render $doc --lang $l --paper $paper $big $data --format text -o "$T/t" 2>"$T/err"; then
            ko "$what: $(cat "$T/err")"
            continue
          fi
          python3 - "$T/t" "$l" "$doc" "$fill" > "$T/why" <<'PY' && ok || ko "$what: $(cat "$T/why")"
import sys, unicodedata
path, lang, doc, fill = sys.argv[1:5]
rows = []
for line in open(path, encoding='utf-8'):
    p, x, y, t = line.rstrip('\n').split(' ', 3)
    rows.append((int(p), float(x), float(y), t))
bad = []
def width(t):
    t = t.replace('\u2060', '').replace('\u200b', '').strip()
    if lang != 'zh_CN':
        return len(t)
    return sum(1 if unicodedata.east_asian_width(c) in 'WF' else
               0.25 if c == '\u2005' else 0.5 for c in t)  # U+2005: a quarter em
limit = 75 if lang != 'zh_CN' else 36
MIN = {'name': 70, 'phone': 50, 'id': 35, 'date': 30, 'text': 25, 'part': 7}
pages = {}
for p, x, y, t in rows:
    pages.setdefault(p, []).append((x, y, t))
    if t.startswith('____ '):
        _, mm, kind = t.split(' ')
        if float(mm[:-2]) + 0.05 < MIN[kind]:
            bad.append(f'p{p}: a {kind} line of {mm} (min {MIN[kind]} mm)')
    elif t.startswith('[ ] ') or t.startswith('[x] '):
        w, h = (float(v) for v in t[4:-2].split('x'))
        if w < 4 or h < 4:
            bad.append(f'p{p}: a box of {w}x{h} mm')
        if w >= 12 and h < 10:
            bad.append(f'p{p}: an initials box of {w}x{h} mm')
    elif width(t) > limit:
        bad.append(f'p{p}: {width(t):.0f} characters: {t[:40]}')
for p, items in pages.items():
    # rows of lines one above the other (their spans across the page
    # overlap; side-by-side blocks each have their own rows)
    ls = [(x, x + float(t.split(' ')[1][:-2]) * 72 / 25.4, y) for x, y, t in items
          if t.startswith('____ ')]
    for x0, x1, y in ls:
        below = [b for a0, a1, b in ls if b > y + 0.1 and a0 < x1 - 1 and a1 > x0 + 1]
        if below and min(below) - y < 8 * 72 / 25.4 - 0.05:
            bad.append(f'p{p}: lines to write on {(min(below) - y) * 25.4 / 72:.1f} mm apart')
for p, items in pages.items():
    big = sorted((y, float(t[4:-2].split('x')[1])) for x, y, t in items
                 if t[:4] in ('[ ] ', '[x] ') and 12 <= float(t[4:-2].split('x')[0]) < 30)
    for (y1, h1), (y2, h2) in zip(big, big[1:]):
        if (y2 - y1) * 25.4 / 72 < h1 + 3 - 0.05:
            bad.append(f'p{p}: initials boxes {(y2 - y1) * 25.4 / 72 - h1:.1f} mm apart')
if doc == 'consent':
    sig = {'Signature:', 'Signature :', 'Signature\u00a0:', '签名：'}
    for p, items in pages.items():
        texts = [t.strip() for x, y, t in items]
        if p == 1 and not any(t in sig for t in texts):
            continue
        top = [t for x, y, t in items if y < 140]
        if fill == 'filled':
            ok = any('P0001' in t for t in top) and any('Nguy' in t for t in top)
        else:
            ok = any(t.startswith('____ ') and t.endswith(' name') for t in top) and \
                 any(t.startswith('____ ') and t.endswith(' id') for t in top)
        if not ok:
            bad.append(f'p{p}: no patient identification at the top')
print('; '.join(bad[:3]))
sys.exit(1 if bad else 0)
PY
        done
      done
    done
  done
done
# The leaflet is set in two columns: every line of a column holds at most
# 56 characters (en, fr) or 24 ideograph widths (zh_CN); the same check
# must fail on the leaflet set in one column (a column too wide).
cat > "$T/column.py" <<'PY'
import sys, unicodedata
path, lang, height = sys.argv[1], sys.argv[2], float(sys.argv[3])
limit = 56 if lang != 'zh_CN' else 24
worst = ''
wmax = 0
for line in open(path, encoding='utf-8'):
    p, x, y, t = line.rstrip('\n').split(' ', 3)
    if float(y) > height - 50 or t.startswith(('____ ', '[ ] ', '[x] ', '[image: ')):
        continue  # the footer spans the page; lines to write on, boxes, images
    t = t.replace('\u2060', '').replace('\u200b', '').strip()
    w = len(t) if lang != 'zh_CN' else \
        sum(1 if unicodedata.east_asian_width(c) in 'WF' else 0.25 if c == '\u2005' else 0.5
            for c in t)
    if w > wmax:
        wmax, worst = w, t
print(f'{wmax:.0f} characters (limit {limit}): {worst[:40]}')
sys.exit(1 if wmax > limit else 0)
PY
cp -r templates "$T/tpl"
sed -i 's|<meta columns="2">|<meta columns="1">|' "$T/tpl/leaflet.xml"
for l in en fr zh_CN; do
  for paper in a4:842 letter:792; do
    $PILDOC render leaflet --lang $l --paper ${paper%:*} --format text -o "$T/c" 2>/dev/null
    check "leaflet $l ${paper%:*}: two columns of a comfortable measure ($(python3 "$T/column.py" "$T/c" $l ${paper#*:}))" \
      python3 "$T/column.py" "$T/c" $l ${paper#*:}
  done
  $PILDOC render "$T/tpl/leaflet.xml" --lang $l --format text -o "$T/c1" 2>/dev/null
  check "leaflet $l in one column: the column check fails ($(python3 "$T/column.py" "$T/c1" $l 842))" \
    test -s "$T/c1" -a "$(python3 "$T/column.py" "$T/c1" $l 842 >/dev/null; echo $?)" = 1
done

# The signature section (issue 11, the review's H1): the four signers'
# blocks all on one page, the last, in every language, paper, clinic
# profile (its legal variants add blocks), blank and filled; on A4 the
# last statement the patient initials is on it too; no page holds a
# statement alone (an initials box and nothing to sign). In large print
# the blocks follow one another: the interpreter's and the witness's
# share a page. The same check must fail on the sheet laid out without
# side-by-side blocks.
cat > "$T/sign.py" <<'PY'
import sys
path, paper, size = sys.argv[1:4]
rows = [l.rstrip('\n').split(' ', 3) for l in open(path, encoding='utf-8')]
n = int(rows[-1][0])
sig = {'Signature:', 'Signature :', 'Signature\u00a0:', '签名：'}
sp = sorted({int(p) for p, x, y, t in rows if t.strip() in sig})
bad = []
if size == 'normal':
    if sp != [n]:
        bad.append(f'signature lines on pages {sp} of {n}')
    last = [int(p) for p, x, y, t in rows
            if t.startswith(('I give my free', 'Je donne mon consentement', '我自愿同意'))]
    if paper == 'a4' and last != [n]:
        bad.append(f'the last statement on page {last}, the signatures on {n}')
else:
    heads = {int(p) for p, x, y, t in rows if t.startswith(('Interpreter', 'Interprète', '翻译'))}
    wit = {int(p) for p, x, y, t in rows if t.startswith(('Witness', 'Témoin', '见证'))}
    if heads != wit:
        bad.append(f'interpreter on {sorted(heads)}, witness on {sorted(wit)}')
for p in range(1, n + 1):
    texts = [t for q, x, y, t in rows if int(q) == p]
    boxes = [t for t in texts if t.startswith('[ ] 17.0x11.0mm') or t.startswith('[ ] 24.7x16.0mm')]
    if len(boxes) == 1 and not any(t.strip() in sig for t in texts):
        bad.append(f'p{p}: one statement alone')
print('; '.join(bad))
sys.exit(1 if bad else 0)
PY
for l in en fr zh_CN; do
  for paper in a4 letter; do
    for clinic in default paris beijing montreal; do
      for fill in blank filled; do
        data=; [ $fill = filled ] && data="--data $SAMPLE"
        # shellcheck disable=SC2086
        $PILDOC render consent --lang $l --paper $paper --clinic templates/clinics/$clinic.xml $data \
          --format text -o "$T/s" 2>/dev/null
        why=$(python3 "$T/sign.py" "$T/s" $paper normal)
        check "consent $l $paper $clinic $fill: signature section on one page ($why)" \
          python3 "$T/sign.py" "$T/s" $paper normal
      done
    done
    $PILDOC render consent --lang $l --paper $paper --large-print --format text -o "$T/s" 2>/dev/null
    why=$(python3 "$T/sign.py" "$T/s" $paper large)
    check "consent $l $paper large print: interpreter and witness together ($why)" \
      python3 "$T/sign.py" "$T/s" $paper large
  done
  sed 's|<keep columns="2">|<keep>|' templates/consent.xml > "$T/tpl/consent-seq.xml"
  $PILDOC render "$T/tpl/consent-seq.xml" --lang $l --format text -o "$T/s" 2>/dev/null
  check "consent $l with its signature blocks one after another: the check fails" \
    test -s "$T/s" -a "$(python3 "$T/sign.py" "$T/s" a4 normal >/dev/null; echo $?)" = 1
done

# Pagination (issue 11, the review's M6 and M7): no column before the
# last page ends more than 75 mm above the body's foot (the review found
# up to 63 mm, and 82-118 mm came back when the leaflet's urgent box moved
# up) unless a form marks the space as left blank on purpose; the last
# page is not nearly empty (at most 130 mm of its columns' height unused;
# the review found 138-220 mm). Normal print; the same check must fail on
# a page whose keep group moved whole, leaving a gap.
cat > "$T/gaps.py" <<'PY'
import sys
path, H, ncols = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
gap_max = float(sys.argv[4]) if len(sys.argv) > 4 else 75
bottom = H - 64
rows = [l.rstrip('\n').split(' ', 3) for l in open(path, encoding='utf-8')]
n = int(rows[-1][0])
bad = []
for p in range(1, n + 1):
    items = [(float(x), float(y), t) for q, x, y, t in rows
             if int(q) == p and 95 < float(y) < bottom + 1]
    marked = any(t.startswith(('This space is', 'Cet espace', '此处')) for x, y, t in items)
    cols = {}
    for x, y, t in items:
        c = 0 if ncols == 1 or x < (595.3 if H > 800 else 612) / 2 else 1
        cols[c] = max(cols.get(c, 0), y)
    if not cols:
        bad.append(f'p{p}: empty')
        continue
    gap = max(bottom - v for v in cols.values()) * 25.4 / 72
    if p < n and gap > gap_max and not marked:
        bad.append(f'p{p}: {gap:.0f} mm empty at a column foot')
    if p == n and gap > 130:
        bad.append(f'last page p{p}: {gap:.0f} mm empty')
print('; '.join(bad))
sys.exit(1 if bad else 0)
PY
for l in en fr zh_CN; do
  for paper in a4:842 letter:792; do
    for v in leaflet:2: leaflet:2:crps,esketamine leaflet:2:fibromyalgia, leaflet:2:paris \
             consent:1: consent:1:paris consent:1:filled; do
      IFS=: read -r doc cols what <<< "$v"
      args=
      case $what in
        paris) args="--clinic templates/clinics/paris.xml" ;;
        filled) args="--data $SAMPLE" ;;
        ?*,*) args="--set treatment.condition=${what%,*}"
              [ -n "${what#*,}" ] && args="$args --set treatment.medicine=${what#*,}" ;;
      esac
      # shellcheck disable=SC2086
      $PILDOC render $doc --lang $l --paper ${paper%:*} $args --format text -o "$T/g" 2>/dev/null
      why=$(python3 "$T/gaps.py" "$T/g" ${paper#*:} $cols)
      check "$doc $l ${paper%:*} ${what:-general}: no large empty area ($why)" \
        python3 "$T/gaps.py" "$T/g" ${paper#*:} $cols
    done
  done
done
# Large print (16 pt, one column, 20-odd pages) the same, a page before
# the last at most 80 mm empty: the English A4 leaflet's last page was
# 201 mm empty, the Letter leaflet had 88 mm at the foot of p5, the
# French one 88 mm at p21. The spacing between blocks is searched from
# 1.0 down to 0.55 for the fewest pages, then the fullest last page.
for l in en fr zh_CN; do
  for paper in a4:842 letter:792; do
    for v in leaflet: consent: consent:filled; do
      IFS=: read -r doc what <<< "$v"
      args=; [ "$what" = filled ] && args="--data $SAMPLE"
      # shellcheck disable=SC2086
      $PILDOC render $doc --lang $l --paper ${paper%:*} --large-print $args --format text -o "$T/g" 2>/dev/null
      why=$(python3 "$T/gaps.py" "$T/g" ${paper#*:} 1 80)
      check "$doc $l ${paper%:*} large print ${what:-blank}: no large empty area ($why)" \
        python3 "$T/gaps.py" "$T/g" ${paper#*:} 1 80
    done
  done
done
# ... and can fail: one long paragraph two lines longer than a page (no
# space between blocks to take up) leaves a last page nearly empty
{ echo '<?xml version="1.0"?><document name="g" version="1" revised="2026-01-01"><meta><title>T</title><subject>s</subject><author>a</author></meta><body><p>'
  for i in $(seq 280); do echo 'words that fill the page'; done; echo '</p></body></document>'
} > "$T/last.xml"
$PILDOC render "$T/last.xml" --large-print --format text -o "$T/g" 2>/dev/null
check "a nearly empty last page in large print: the empty-area check fails" \
  test -s "$T/g" -a "$(python3 "$T/gaps.py" "$T/g" 842 1 80 >/dev/null; echo $?)" = 1
{ echo '<?xml version="1.0"?><document name="g" version="1" revised="2026-01-01"><meta><title>T</title><subject>s</subject><author>a</author></meta><body>'
  for i in $(seq 9); do echo '<p>Filler paragraph that takes room on the page so that what follows falls near the foot of the page, where the keep moves whole.</p>'; done
  echo '<keep>'; for i in $(seq 24); do echo "<p>Line $i of a group kept together.</p>"; done; echo '</keep></body></document>'
} > "$T/gap.xml"
$PILDOC render "$T/gap.xml" --format text -o "$T/g" 2>/dev/null
check "a keep group moved whole: the empty-area check fails" \
  test -s "$T/g" -a "$(python3 "$T/gaps.py" "$T/g" 842 1 >/dev/null; echo $?)" = 1

# The legal representative signs on two lines of their own (the review's
# L9: one 53 mm line for a name and a relationship): a name line, then a
# line for their capacity or relationship, in every language and in the
# clinic profiles' variants. The leaflet says it exists in large print
# and other languages (the review's L14).
for l in en fr zh_CN; do
  for clinic in default paris beijing; do
    $PILDOC render consent --lang $l --clinic templates/clinics/$clinic.xml --format text -o "$T/r" 2>/dev/null
    why=$(python3 - "$T/r" <<'PY'
import sys
rows = [l.rstrip('\n').split(' ', 3)[3] for l in open(sys.argv[1], encoding='utf-8')]
names = ('Name of the legal representative', 'Name of the person signing', 'Nom du représentant légal',
         'Nom de la personne qui signe', '法定代理人姓名', '代签人姓名')
rels = ('Capacity or relationship', 'Relationship to the patient', 'Qualité ou lien', 'Lien avec le patient',
        '代理人身份或与患者关系', '代签人与患者关系')
def line_after(i):
    for t in rows[i + 1:i + 4]:
        if t.startswith('____ '):
            return t
    return ''
n = [line_after(i) for i, t in enumerate(rows) if t.startswith(names)]
r = [line_after(i) for i, t in enumerate(rows) if t.startswith(rels)]
ok = len(n) == 1 and n[0].endswith(' name') and len(r) == 1 and r[0].startswith('____ ')
print('ok' if ok else f'name line {n}, relationship line {r}')
PY
)
    check "consent $l $clinic: the representative's name and relationship on two lines ($why)" test "$why" = ok
  done
  $PILDOC render leaflet --lang $l --format text -o "$T/r" 2>/dev/null
  check "leaflet $l: says it is available in large print and other languages" \
    grep -q -e 'is available in large print' -e 'existe en gros caractères' -e '另有大字版' "$T/r"
done

# The interpreter's language (the review's L15): a code prints as the
# language's name in the sheet's language, and the statement names no
# language of its own ("between English and the language above" printed
# "在中文与上述语种之间… Mandarin Chinese" on a Chinese sheet); a name
# prints as given; a code that names no language is one error line.
for l in en:Cantonese fr:cantonais zh_CN:粤语; do
  $PILDOC render consent --lang ${l%%:*} --data $SAMPLE --format text -o "$T/i" 2>/dev/null
  why=$(python3 - "$T/i" "${l#*:}" <<'PY'
import sys
rows = [l.rstrip('\n').split(' ', 3)[3] for l in open(sys.argv[1], encoding='utf-8')]
text = ' '.join(rows)
labels = ('Language interpreted:', 'Langue utilisée avec le patient', '翻译语种')
at = [i for i, t in enumerate(rows) if t.startswith(labels)]
value = (rows[at[0]].split(':')[-1].split('：')[-1].strip() or rows[at[0] + 1].strip()) if at else ''
bad = [w for w in ('English and', 'le français et', '在中文与', 'Mandarin', 'yue') if w in text]
print('ok' if value == sys.argv[2] and not bad else f'language printed {value!r}, statement has {bad}')
PY
)
  check "consent ${l%%:*} filled: the interpreter's language by its code, in the sheet's language ($why)" test "$why" = ok
done
$PILDOC render consent --lang zh_CN --set interpreter.language=ar-EG --format text -o "$T/i" 2>/dev/null
check "a code with a region: 阿拉伯语（埃及）" grep -q '阿拉伯语（埃及）' "$T/i"
$PILDOC render consent --lang fr --set interpreter.language='Tamoul (Sri Lanka)' --format text -o "$T/i" 2>/dev/null
check "a language's name prints as given" grep -q 'Tamoul (Sri Lanka)' "$T/i"
rm -f "$T/i"
$PILDOC render consent --set interpreter.language=xq --format text -o "$T/i" 2>"$T/err"; rc=$?
check "an unknown code: exit 1, one error line naming the variable" \
  test $rc = 1 -a "$(wc -l < "$T/err")" = 1 -a ! -s "$T/i"
check "an unknown code: the error names it" grep -q "interpreter.language' is not a language code" "$T/err"

# The footer's running title is never drawn cut inside a word (the
# review's H2: "Version 1.0 d…"; in large print the short title gave way
# to "Ketamine and esketami…"): when it does not fit beside the version
# and the page number, it is cut after a whole word, with an ellipsis.
# A drawn title takes at least 0.4 em a character up to the version.
for l in en fr zh_CN; do
  for paper in a4:842 letter:792; do
    for big in "" --large-print; do
      for doc in leaflet consent; do
        # shellcheck disable=SC2086
        $PILDOC render $doc --lang $l --paper ${paper%:*} $big --format text -o "$T/f" 2>/dev/null
        why=$(python3 - "$T/f" $(( ${paper#*:} - 34 )) "${big:+large}" <<'PY'
import sys
path, y, large = sys.argv[1], float(sys.argv[2]), sys.argv[3]
size = 8.5 * (16 / 11 if large else 1)
rows = [l.rstrip('\n').split(' ', 3) for l in open(path, encoding='utf-8')]
bad = set()
for p in sorted({r[0] for r in rows}):
    foot = sorted((float(x), t) for q, x, yy, t in rows if q == p and abs(float(yy) - y) < 0.5)
    if len(foot) < 3:
        continue
    (tx, title), (vx, _) = foot[0], foot[1]
    if title.endswith('…') and not title[-2].isalnum():
        bad.add(f'cut after punctuation: {title!r}')
    if vx - tx < 0.4 * size * len(title):
        bad.add(f'{title!r} drawn in {vx - tx:.0f} pt')
print('; '.join(sorted(bad)) or 'ok')
PY
)
        check "$doc $l ${paper%:*} ${big:-normal}: footer title whole or cut after a word ($why)" test "$why" = ok
      done
    done
  done
done

# No Chinese line holds one ideograph and its punctuation alone (the
# review's M10), in a paragraph, a list item ("…过夜 / 吗？": ？ and ！
# close a sentence too) or a table cell ("…不一 / 致。"), in every
# variant of the leaflet and the consent sheet, normal and large.
for paper in a4 letter; do
  for big in "" --large-print; do
    for v in leaflet: leaflet:crps,esketamine leaflet:fibromyalgia,ketamine consent: consent:filled; do
      IFS=: read -r doc what <<< "$v"
      case $what in
        filled) args="--data $SAMPLE" ;;
        ?*) args="--set treatment.condition=${what%,*} --set treatment.medicine=${what#*,}" ;;
        *) args= ;;
      esac
      # shellcheck disable=SC2086
      $PILDOC render $doc --lang zh_CN --paper $paper $big $args --format text -o "$T/z" 2>/dev/null
      why=$(python3 - "$T/z" <<'PY'
import re, sys
han = re.compile(r'[\u4e00-\u9fff]')
bad = []
for l in open(sys.argv[1], encoding='utf-8'):
    p, x, y, t = l.rstrip('\n').split(' ', 3)
    s = t.replace('\u2060', '').strip()
    if len(s) == 2 and han.match(s) and s[1] in '。！？；，、）”':
        bad.append(f'p{p} {s}')
print(', '.join(bad) or 'ok')
PY
)
      check "zh_CN $doc $paper ${big:-normal} ${what:-general}: no ideograph alone with its punctuation ($why)" test "$why" = ok
    done
  done
done

summary measure
