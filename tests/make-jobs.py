#!/usr/bin/env python3
"""Writes N distinct batch jobs (leaflets and consent sheets, en/fr/zh_CN,
different fictitious patients and conditions) as CSV: make-jobs.py N FILE."""
import csv
import sys

n = int(sys.argv[1])
conditions = ["crps", "fibromyalgia", "neuropathic", "cancer", "other"]
medicines = ["ketamine", "esketamine"]
langs = ["en", "fr", "zh_CN"]
given = ["Zoë", "Jean", "Li", "Amina", "Nguyễn Văn", "Maria", "Wei", "Olu", "Sofia", "Karim"]
family = ["Martin", "Dupont", "王", "Haddad", "An", "Rossi", "陈", "Adeyemi", "García", "Benali"]
with open(sys.argv[2], "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["template", "lang", "output", "patient.id", "patient.name", "patient.birth_date",
                "treatment.condition", "treatment.medicine", "treatment.sessions",
                "treatment.start_date", "clinician.name", "interpreter.name",
                "interpreter.language", "interpreter.mode"])
    for i in range(1, n + 1):
        template = "consent" if i % 2 else "leaflet"
        lang = langs[i % 3]
        pid = "P%05d" % i
        interp = i % 4 == 0
        w.writerow([template, lang, "%s-%s-%s.pdf" % (pid, template, lang), pid,
                    "%s %s" % (given[i % 10], family[(i * 7) % 10]),
                    "19%02d-%02d-%02d" % (40 + i % 60, 1 + i % 12, 1 + i % 28),
                    conditions[i % 5], medicines[(i // 5) % 2], str(1 + i % 6),
                    "2026-12-%02d" % (1 + i % 28), "Dr Durand",
                    "Interpreter %d" % i if interp else "", "Mandarin" if interp else "",
                    "video" if interp else ""])
