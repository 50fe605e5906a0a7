#!/bin/bash
# Tagged PDF (PDF/UA-1), issue 14 item 1.
#  - Golden structure trees: each tests/tags/CASE.xml is rendered (with the
#    arguments in CASE.args, if any) and its structure tree as poppler reads
#    it (`pdfinfo -struct-text`), followed by the checker's summary (alt
#    texts, link addresses, check boxes, text with its own language), is compared with
#    CASE.expected. Every case also passes tests/pdfua-check.py (with the
#    arguments in CASE.check), reading order included.
#  - The real documents (leaflet and consent, blank and filled, en fr
#    zh_CN): the checker passes; headings appear in the structure tree in
#    the order and with the text of the outline; list items have a label
#    and a body; table rows as many cells as the header.
#  - Each of the checker's conditions fails on a file broken on purpose.
#   bash tests/tags.sh            compare
#   bash tests/tags.sh --update   rewrite the .expected files (review the diff)
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
PILDOC=${PILDOC:-./pildoc}
PY=/usr/bin/python3 # Debian's, with python3-pikepdf
CHECK="$PY tests/pdfua-check.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
update=0
[ "${1:-}" = --update ] && update=1
export SOURCE_DATE_EPOCH=1767225600

for xml in tests/tags/*.xml; do
  name=${xml%.xml}
  base=$(basename "$name")
  args= extra=
  [ -f "$name.args" ] && args=$(cat "$name.args")
  [ -f "$name.check" ] && extra=$(cat "$name.check")
  # shellcheck disable=SC2086
  if ! $PILDOC render "$xml" $args -o "$T/$base.pdf" 2>"$T/err"; then
    ko "$base: not rendered: $(cat "$T/err")"
    continue
  fi
  { pdfinfo -struct-text "$T/$base.pdf"; $CHECK "$T/$base.pdf" --summary | grep -E '^(Figure|Link|/Lang|Check box)'; } > "$T/got" 2>&1
  if [ $update = 1 ]; then
    cp "$T/got" "$name.expected"
    ok
  elif diff -u "$name.expected" "$T/got" > "$T/diff"; then
    ok
  else
    ko "$base: structure tree differs:"
    head -40 "$T/diff" >&2
  fi
  # shellcheck disable=SC2086
  check "$base: PDF/UA conditions" eval "$CHECK '$T/$base.pdf' --order $extra"
done
# what the golden files show, made explicit
check "a paragraph across a page break is one P with content on both pages" $PY -c '
import pikepdf, sys
p = pikepdf.open(sys.argv[1])
for e in p.objects:
    if isinstance(e, pikepdf.Dictionary) and e.get("/S") == "/P" and isinstance(e.get("/K"), pikepdf.Array):
        if any(isinstance(k, pikepdf.Dictionary) and k.get("/Type") == "/MCR" for k in e.K):
            sys.exit(0)
sys.exit(1)' "$T/text.pdf"
check "the table header repeated on page 2 is a pagination artifact" $PY -c '
import pikepdf, sys
p = pikepdf.open(sys.argv[1])
sys.exit(0 if b"/Artifact<</Type/Pagination>>BDC" in p.pages[1].Contents.read_bytes() else 1)' "$T/table.pdf"
check "the table header is read once" test "$(grep -c 'TH:' tests/tags/table.expected)" = 3
check "the running header is an artifact" $PY -c '
import pikepdf, sys
p = pikepdf.open(sys.argv[1])
sys.exit(0 if b"/Subtype/Header" in p.pages[0].Contents.read_bytes() else 1)' "$T/form.pdf"
check "a link annotation is clickable (a /URI action)" $PY -c '
import pikepdf, sys
p = pikepdf.open(sys.argv[1])
a = [x for pg in p.pages for x in pg.obj.get("/Annots", [])]
sys.exit(0 if a and all(x.A.S == "/URI" for x in a) else 1)' "$T/links.pdf"

# --- the real documents -------------------------------------------------------
# headings of the structure tree (after the title) = the outline's entries;
# every LI has Lbl and LBody with text; every table row as wide as its header
model_check() {
  $PY - "$1" <<'EOF'
import subprocess, sys, pikepdf
path = sys.argv[1]
out = subprocess.run(["pdfinfo", "-struct-text", path], capture_output=True, text=True).stdout.splitlines()
heads, items, errors = [], [], []
def text_after(i, depth):
    t = []
    for l in out[i + 1:]:
        d = len(l) - len(l.lstrip())
        if d <= depth:
            break
        s = l.strip()
        if s.startswith('"'):
            t.append(s[1:-1])
    return "".join(t)
rows = []
for i, l in enumerate(out):
    s, d = l.strip(), len(l) - len(l.lstrip())
    if s.startswith(("H1 ", "H2 ")):
        heads.append(text_after(i, d).strip())
    if s.startswith("LI "):
        kids = [x.strip().split()[0] for x in out[i + 1:i + 6] if len(x) - len(x.lstrip()) == d + 2]
        if kids[:2] != ["Lbl", "LBody"] or not text_after(i, d).strip():
            errors.append("LI without Lbl and LBody text at line %d" % (i + 1))
    if s == "TR":
        cells = 0
        for x in out[i + 1:]:
            dx = len(x) - len(x.lstrip())
            if dx <= d:
                break
            if dx == d + 2:
                cells += 1
        rows.append(cells)
    if s.startswith("Table"):
        rows.append(None)
width = None
for r in rows:
    if r is None:
        width = None
    elif width is None:
        width = r
    elif r != width:
        errors.append("a table row of %d cells under a header of %d" % (r, width))
pdf = pikepdf.open(path)
outline = []
def walk(o):
    while o is not None:
        outline.append(str(o.Title).replace("\n", ""))
        if "/First" in o:
            walk(o.First)
        o = o.get("/Next")
if "/Outlines" in pdf.Root and "/First" in pdf.Root.Outlines:
    walk(pdf.Root.Outlines.First)
# the title is the first H1 and not in the outline
norm = lambda s: "".join(s.split())
if [norm(h) for h in heads[1:]] != [norm(o) for o in outline]:
    errors.append("headings differ from the outline: %s / %s" % (heads[1:4], outline[:3]))
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
EOF
}
for lang in en fr zh_CN; do
  for doc in leaflet consent consent-filled; do
    case $doc in
      consent-filled) args="consent --data templates/data/sample-patient.xml --clinic templates/clinics/paris.xml" ;;
      *) args=$doc ;;
    esac
    # shellcheck disable=SC2086
    $PILDOC render $args --lang $lang -o "$T/$doc-$lang.pdf" 2>/dev/null || { ko "$doc $lang: not rendered"; continue; }
    check "$doc $lang: PDF/UA conditions" $CHECK "$T/$doc-$lang.pdf" --order
    check "$doc $lang: headings, list items, table cells as in the document model" model_check "$T/$doc-$lang.pdf"
  done
done
# another script in a filled value: a Chinese name in a French sheet, a
# Latin one in a Chinese sheet
$PILDOC render consent --lang fr --data templates/data/sample-patient.xml --set patient.name=张伟 -o "$T/zh-name.pdf"
check "a Chinese name in a French sheet has /Lang zh" $CHECK "$T/zh-name.pdf" --lang-of 张伟=zh
$PILDOC render consent --lang zh_CN --data templates/data/sample-patient.xml --set "patient.name=Zoë Dupont" -o "$T/latin-name.pdf"
check "a Latin name in a Chinese sheet has /Lang und-Latn" $CHECK "$T/latin-name.pdf" --lang-of "Zoë Dupont=und-Latn"
check "... and is read as the patient's name" grep -q '"Zoë Dupont"' <(pdfinfo -struct-text "$T/latin-name.pdf")
# large print and Letter paper
$PILDOC render leaflet --lang fr --large-print --paper letter -o "$T/large.pdf"
check "large print: PDF/UA conditions" $CHECK "$T/large.pdf" --order

# --- each condition can fail ------------------------------------------------------
# the untagged output of before fails; so does a tagged file broken in each way
breaks() { # NAME EXPECTED-MESSAGE PYTHON (p: the pikepdf.Pdf of $T/links.pdf)
  $PY - "$T/links.pdf" "$T/broken-$1.pdf" <<EOF
import pikepdf, sys
p = pikepdf.open(sys.argv[1])
$3
p.save(sys.argv[2])
EOF
  $CHECK "$T/broken-$1.pdf" > "$T/broken-$1.out"
  if [ $? = 1 ] && grep -q "$2" "$T/broken-$1.out"; then ok; else ko "checker misses: $1 ($(head -3 "$T/broken-$1.out"))"; fi
}
$PILDOC render tests/tags/links.xml -o "$T/links.pdf"
breaks untagged-content "outside tagged content and artifacts" '
pg = p.pages[0]
pg.Contents = p.make_stream(pg.Contents.read_bytes() + b"\n0 0 m 10 10 l S\n")'
breaks mcid-not-in-tree "not in the structure tree" '
pg = p.pages[0]
pg.Contents = p.make_stream(pg.Contents.read_bytes() + b"\n/P<</MCID 999>>BDC 0 0 m 10 10 l S EMC\n")'
breaks parent-tree "the parent tree maps MCID" '
nums = p.Root.StructTreeRoot.ParentTree.Nums
arr = nums[1]
arr[0], arr[1] = arr[1], arr[0]'
breaks no-alt "Figure without /Alt" '
fig = p.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.Figure, P=p.Root.StructTreeRoot.K))
p.Root.StructTreeRoot.K.K.append(fig)'
$CHECK "$T/links.pdf" --lang-of "example=zh" | grep -q "is not shown with /Lang zh" && ok || ko "checker misses a missing /Lang"
$PILDOC render consent --lang fr --data templates/data/sample-patient.xml --set patient.name=张伟 -o "$T/zh-name.pdf"
$PY - "$T/zh-name.pdf" "$T/broken-zh.pdf" <<'EOF'
import pikepdf, sys
p = pikepdf.open(sys.argv[1])
for pg in p.pages:
    pg.Contents = p.make_stream(pg.Contents.read_bytes().replace(b"/Lang(zh)", b""))
p.save(sys.argv[2])
EOF
$CHECK "$T/broken-zh.pdf" | grep -q "Chinese texts marked as fr" && ok || ko "checker misses Chinese text without /Lang"
breaks negative-count "negative /Count" '
p.Root.Outlines.Count = -1'
breaks no-markinfo "no /MarkInfo" '
del p.Root["/MarkInfo"]'
breaks no-tabs "no /Tabs /S" '
del p.pages[0].obj["/Tabs"]'
breaks nested "nested in marked content" '
pg = p.pages[0]
pg.Contents = p.make_stream(pg.Contents.read_bytes().replace(b"/MCID 1>>BDC", b"/MCID 1>>BDC /Span<</MCID 998>>BDC EMC", 1))'
breaks link-contents "link annotation without /Contents" '
del p.pages[0].obj.Annots[0]["/Contents"]'
breaks th-scope "TH without /Scope" '
th = p.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.TH, P=p.Root.StructTreeRoot.K))
p.Root.StructTreeRoot.K.K.append(th)'
$PY - "$T/links.pdf" "$T/broken-order.pdf" <<'EOF'
import pikepdf, sys
p = pikepdf.open(sys.argv[1])
k = p.Root.StructTreeRoot.K.K
a, b = k[0], k[1]
k[0], k[1] = b, a
p.save(sys.argv[2])
EOF
$CHECK "$T/broken-order.pdf" --order | grep -q "reading order" && ok || ko "checker misses a reading order unlike the painted one"
summary tags
