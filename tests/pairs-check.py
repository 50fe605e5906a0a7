#!/usr/bin/env python3
"""Checks that no bilingual pair is split across pages (issue 16).

pairs-check.py FILE.pdf LANG ALSO LOCALEDIR: for every message of the
catalogs that both languages translate, the start of its text in LANG and
the start and end of its text in ALSO must lie on one page when each is
found once in the document. Prints each split pair and the count checked;
exits 1 on a split pair or when fewer than MIN pairs could be checked."""
import gettext
import re
import subprocess
import sys

MIN = 40

pdf, lang, also, localedir = sys.argv[1:5]


def catalog(code):
    if code == "en":
        return None
    with open(f"{localedir}/{code}/LC_MESSAGES/pildoc.mo", "rb") as f:
        return gettext.GNUTranslations(f)._catalog


def norm(s):
    s = s.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"[\s\u00ad\u2060\u200b]+", "", s)


def clean_part(s, last):
    # the text before the first (or after the last) markup or placeholder
    parts = [p for p in re.split(r"<[^>]*>|\{[^}]*\}|%[a-z0-9()]+", s)]
    p = parts[-1] if last else parts[0]
    p = norm(p)
    n = 10 if any("\u4e00" <= c <= "\u9fff" for c in p) else 22
    if len(p) < n:
        return None
    return p[-n:] if last else p[:n]


cats = {c: catalog(c) for c in (lang, also)}
def text(code, msgid):
    c = cats[code]
    return msgid if c is None else c.get(msgid)


base = cats[lang] if cats[lang] is not None else cats[also]
pages = subprocess.run(["pdftotext", "-enc", "UTF-8", pdf, "-"], capture_output=True,
                       check=True, text=True).stdout.split("\f")
npages = [norm(p) for p in pages]


def where(needle):
    hits = [i for i, p in enumerate(npages) for _ in range(p.count(needle))]
    return hits[0] + 1 if len(hits) == 1 else None


def all_texts(code):
    c = cats[code]
    return [norm(k if c is None else v) for k, v in (base.items() if c is None else c.items())
            if isinstance(k, str) and isinstance(v, str)]


texts = {code: all_texts(code) for code in (lang, also)}


def unique(code, needle):
    # a needle that only one message of the language holds
    return needle and sum(needle in t for t in texts[code]) == 1


checked = split = 0
for msgid in base:
    if not isinstance(msgid, str) or not msgid or "\x04" in msgid:
        continue
    a, b = text(lang, msgid), text(also, msgid)
    if not a or not b or norm(a) == norm(b):
        continue
    na, nb, eb = clean_part(a, False), clean_part(b, False), clean_part(b, True)
    if not unique(lang, na) or not unique(also, nb):
        continue
    if not unique(also, eb):
        eb = None
    pa, pb = where(na), where(nb)
    pe = where(eb) if eb else pb
    if not pa or not pb:
        continue
    checked += 1
    if not (pa == pb == (pe or pb)):
        split += 1
        print(f"split pair: {na!r} on page {pa}, {nb!r} on page {pb} (its end on {pe})")
print(f"{pdf}: {checked} pairs checked, {split} split")
sys.exit(1 if split or checked < MIN else 0)
