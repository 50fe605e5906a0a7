# pildoc: plain GNU Makefile (pkg-config). `make help` lists the targets.

PKGS       := pangocairo pangofc fontconfig cairo harfbuzz-subset libxml-2.0 zlib nettle libdeflate icu-uc
# opened at first use, not linked (src/lazylib.h): headers only
LAZY_PKGS  := librsvg-2.0 libmicrohttpd
CC         ?= cc
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes
# the sonames of the lazily opened libraries, from the files the linker would
# use, and the file each soname names there (image.c keys its SVG cache on it)
LAZY_DEFS  := $(shell set -- RSVG librsvg-2.so MHD libmicrohttpd.so GETTEXTPO libgettextpo.so; \
                while [ $$# -gt 0 ]; do \
                  f=$$(readlink -f "$$($(CC) -print-file-name=$$2)"); \
                  s=$$(objdump -p "$$f" 2>/dev/null | sed -n 's/^ *SONAME *//p'); \
                  [ -z "$$s" ] || printf -- "-DPD_%s_SONAME='\"%s\"' -DPD_%s_FILE='\"%s/%s\"' " \
                    "$$1" "$$s" "$$1" "$${f%/*}" "$$s"; shift 2; done)
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS) 2>/dev/null)
# --as-needed: only the libraries pildoc calls are loaded at start-up
LIBS       := -Wl,--as-needed -Wl,-O1 $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lm -pthread
SAN        ?=
ifneq ($(SAN),)
# GCC's format-truncation analysis gives false positives on instrumented code
ALL_CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer -Wno-format-truncation
LDFLAGS    += -fsanitize=$(SAN)
endif

BUILD      := build
# build/flavour holds the SAN setting of the last build: when it changes,
# ./pildoc and the tests are relinked from the matching objects.
FLAVOUR    := $(shell mkdir -p build; [ -f build/flavour ] && [ "$$(cat build/flavour)" = "$(SAN)" ] || echo "$(SAN)" > build/flavour)
OBJDIR     := $(BUILD)/obj$(if $(SAN),-san)
LIB_SRCS   := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS   := $(LIB_SRCS:src/%.c=$(OBJDIR)/%.o)
LINGUAS    := $(shell sed -e 's/\#.*//' po/LINGUAS)
MO_FILES   := $(foreach l,$(LINGUAS),$(BUILD)/locale/$(l)/LC_MESSAGES/pildoc.mo)
TEMPLATES  := $(filter-out templates/variables.xml,$(wildcard templates/*.xml))
DOCS       := $(notdir $(TEMPLATES:.xml=))
SAMPLE     := templates/data/sample-patient.xml

# Installation folders (GNU conventions): `make install prefix=/usr DESTDIR=...`.
# The installed pildoc looks for its data in pkgdatadir and localedir,
# compiled into src/paths.c; a change here rebuilds it.
prefix       = /usr/local
exec_prefix  = $(prefix)
bindir       = $(exec_prefix)/bin
datarootdir  = $(prefix)/share
datadir      = $(datarootdir)
pkgdatadir   = $(datadir)/pildoc
localedir    = $(datarootdir)/locale
mandir       = $(datarootdir)/man
man1dir      = $(mandir)/man1
man5dir      = $(mandir)/man5
INSTALL       = install
INSTALL_DATA  = $(INSTALL) -m 644
# The sRGB ICC profile of PDF/A's OutputIntent (Debian's icc-profiles-free,
# a run-time dependency): read where that package puts it.
ICC_PROFILE  = /usr/share/color/icc/sRGB.icc
PATHS_DEFS := -DPILDOC_BINDIR='"$(bindir)"' -DPILDOC_PKGDATADIR='"$(pkgdatadir)"' \
              -DPILDOC_LOCALEDIR='"$(localedir)"' -DPILDOC_ICC_PROFILE='"$(ICC_PROFILE)"'

# Debian 12 packages: to build and run, then to test.
DEB_BUILD  := build-essential pkg-config libpango1.0-dev libharfbuzz-dev libcairo2-dev libxml2-dev \
              libfontconfig-dev zlib1g-dev gettext libgettextpo-dev libcsv-dev scdoc librsvg2-dev \
              libmicrohttpd-dev nettle-dev libdeflate-dev icc-profiles-free libicu-dev
# PDF/A checks: Apache PDFBox Preflight (and the two jars it loads at run
# time that Debian's libpdfbox2-java does not pull in), pikepdf
DEB_TEST   := check libsubunit-dev poppler-utils libxml2-utils time qpdf mupdf-tools parallel man-db python3-yaml \
              python3 libc-l10n procps curl libpdfbox2-java default-jre-headless libactivation-java \
              libjaxb-api-java python3-pikepdf pdftk-java libnss3-tools
DEB_SLURM  := slurm-wlm munge
DEB_LINT   := clang-format clang-tidy cppcheck

.PHONY: all deps deps-lint deps-fuzz run docs check unit e2e bench bench-sizes fuzz memcheck update-po format lint clean help \
        install uninstall check-slurm

MAN_PAGES := $(BUILD)/man/pildoc.1 $(BUILD)/man/pildoc-templates.5

all: pildoc $(MO_FILES) $(MAN_PAGES)

help:
	@echo "make          build ./pildoc and the compiled catalogs"
	@echo "make deps     install missing Debian packages (as root)"
	@echo "make run      deps + build + render every document in every language into out/"
	@echo "make check    deps + build + every test"
	@echo "make update-po  re-extract po/pildoc.pot and merge it into po/*.po"
	@echo "make install / make uninstall   (prefix=/usr/local DESTDIR= bindir= datadir= localedir= mandir=)"
	@echo "make check-slurm  a batch sharded over a one-node Slurm started here (as root)"
	@echo "make bench / make bench-sizes   speed and file-size comparisons (not tests)"
	@echo "make format / make lint / make clean"

# --- dependencies -----------------------------------------------------------
define install_missing
	@missing=$$(for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make deps: not root; run: sudo apt-get install" $$missing >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
endef

deps:
	$(call install_missing,$(DEB_BUILD) $(DEB_TEST))

deps-lint:
	$(call install_missing,$(DEB_LINT))

# --- build --------------------------------------------------------------------
$(OBJDIR)/%.o: src/%.c $(wildcard src/*.h) | $(OBJDIR)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJDIR):
	mkdir -p $@

# the installation folders the installed binary looks in (and the ICC
# profile): build/paths changes (and paths.o, pdfmeta.o are rebuilt) only
# when they do
$(OBJDIR)/paths.o: $(BUILD)/paths
$(OBJDIR)/paths.o: ALL_CFLAGS += $(PATHS_DEFS)
$(OBJDIR)/pdfmeta.o: $(BUILD)/paths
$(OBJDIR)/pdfmeta.o: ALL_CFLAGS += $(PATHS_DEFS)
$(OBJDIR)/lazyrsvg.o $(OBJDIR)/lazymhd.o $(OBJDIR)/lazypo.o $(OBJDIR)/image.o: ALL_CFLAGS += $(LAZY_DEFS)
$(BUILD)/paths: FORCE
	@mkdir -p $(BUILD)
	@echo '$(PATHS_DEFS)' | cmp -s - $@ || echo '$(PATHS_DEFS)' > $@
FORCE:

pildoc: $(OBJDIR)/main.o $(LIB_OBJS) $(BUILD)/flavour
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS)

# Catalogs: checked (formats, headers) and compiled where ./pildoc finds them.
# msgexec runs `pildoc check-message` on every translation: one that
# breaks a placeholder stops the build with the catalog's file and line.
$(BUILD)/locale/%/LC_MESSAGES/pildoc.mo: po/%.po pildoc
	@mkdir -p $(dir $@)
	@msgexec -i $< ./pildoc check-message
	msgfmt --check --statistics -o $@ $<

# Manual pages, written in scdoc (man/*.scd)
$(BUILD)/man/%: man/%.scd $(BUILD)/paths
	@mkdir -p $(dir $@)
	sed -e 's|@PKGDATADIR@|$(pkgdatadir)|g' -e 's|@LOCALEDIR@|$(localedir)|g' \
	  -e 's|@ICCPROFILE@|$(ICC_PROFILE)|g' $< | scdoc > $@.tmp
	mv $@.tmp $@

# --- installation (GNU conventions; DESTDIR for staging) -------------------------
# Data: $(pkgdatadir)/templates, fonts (with their licences) and po (LINGUAS
# and the catalogs, which `pildoc langs` counts); compiled catalogs in
# $(localedir)/LL/LC_MESSAGES/pildoc.mo; manual pages in $(mandir).
install: all
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(pkgdatadir)/po $(DESTDIR)$(pkgdatadir)/fonts \
	  $(DESTDIR)$(man1dir) $(DESTDIR)$(man5dir)
	$(INSTALL) pildoc $(DESTDIR)$(bindir)/pildoc
	cd templates && find . -type f ! -name '.*' -exec $(INSTALL) -D -m 644 '{}' '$(DESTDIR)$(pkgdatadir)/templates/{}' ';'
	$(INSTALL_DATA) $(FONT_FILES) fonts/COPYRIGHT fonts/OFL.txt fonts/README.md $(DESTDIR)$(pkgdatadir)/fonts
	$(INSTALL_DATA) po/LINGUAS $(LINGUAS:%=po/%.po) $(DESTDIR)$(pkgdatadir)/po
	for l in $(LINGUAS); do \
	  $(INSTALL) -D -m 644 $(BUILD)/locale/$$l/LC_MESSAGES/pildoc.mo \
	    $(DESTDIR)$(localedir)/$$l/LC_MESSAGES/pildoc.mo || exit 1; done
	$(INSTALL_DATA) $(BUILD)/man/pildoc.1 $(DESTDIR)$(man1dir)
	$(INSTALL_DATA) $(BUILD)/man/pildoc-templates.5 $(DESTDIR)$(man5dir)

# make print-VAR: a variable's value (tests read the installation folders)
print-%:
	@echo '$($*)'

# Removes what install puts there and nothing else: a file of the site's own
# in $(pkgdatadir) (a clinic profile beside the installed ones) stays, and
# so do the folders that hold one; empty folders go.
uninstall:
	rm -f $(DESTDIR)$(bindir)/pildoc $(DESTDIR)$(man1dir)/pildoc.1 $(DESTDIR)$(man5dir)/pildoc-templates.5
	rm -f $(LINGUAS:%=$(DESTDIR)$(localedir)/%/LC_MESSAGES/pildoc.mo)
	cd templates && find . -type f ! -name '.*' -exec rm -f '$(DESTDIR)$(pkgdatadir)/templates/{}' ';'
	rm -f $(addprefix $(DESTDIR)$(pkgdatadir)/fonts/,$(notdir $(FONT_FILES)) COPYRIGHT OFL.txt README.md)
	rm -f $(addprefix $(DESTDIR)$(pkgdatadir)/po/,LINGUAS $(LINGUAS:%=%.po))
	if [ -d '$(DESTDIR)$(pkgdatadir)' ]; then \
	  find '$(DESTDIR)$(pkgdatadir)' -depth -type d -empty -delete; fi

# --- documents ----------------------------------------------------------------
# deps first, then a new make: its pkg-config calls see what deps installed.
# Each PDF is a file target: after an edit to po/fr.po only the French
# documents are rendered again.
run: deps
	@$(MAKE) --no-print-directory all docs

LANGS          := en $(LINGUAS)
TEMPLATE_FILES := $(shell find templates -name '*.xml' -o -name '*.rng')
FONT_FILES     := $(wildcard fonts/*.ttf fonts/*.otf)
mo_of           = $(if $(filter en,$(1)),,$(BUILD)/locale/$(1)/LC_MESSAGES/pildoc.mo)

define doc_rule
out/$(1)-$(2).pdf: pildoc $(TEMPLATE_FILES) $(FONT_FILES) $(call mo_of,$(2))
	@mkdir -p out
	./pildoc render $(1) --lang $(2) -o $$@
endef
define sample_rule
out/consent-sample-$(1).pdf: pildoc $(TEMPLATE_FILES) $(FONT_FILES) $(call mo_of,$(1))
	@mkdir -p out
	./pildoc render consent --lang $(1) --data $(SAMPLE) -o $$@
endef
# Filled consent sheets with a clinic profile: CLINIC-LANG from
# templates/data/crps-CLINIC-LANG.xml and templates/clinics/CLINIC.xml
# (the country of the clinic, not the language, sets the legal variants).
CLINIC_SAMPLES := paris-fr montreal-fr paris-zh_CN
define clinic_rule
out/consent-$(1).pdf: pildoc $(TEMPLATE_FILES) $(FONT_FILES) $(call mo_of,$(lastword $(subst -, ,$(1))))
	@mkdir -p out
	./pildoc render consent --lang $(lastword $(subst -, ,$(1))) --data templates/data/crps-$(1).xml \
	  --clinic templates/clinics/$(firstword $(subst -, ,$(1))).xml -o $$@
endef
$(foreach d,$(DOCS),$(foreach l,$(LANGS),$(eval $(call doc_rule,$(d),$(l)))))
$(foreach l,$(LANGS),$(eval $(call sample_rule,$(l))))
$(foreach s,$(CLINIC_SAMPLES),$(eval $(call clinic_rule,$(s))))
OUT_PDFS := $(foreach d,$(DOCS),$(foreach l,$(LANGS),out/$(d)-$(l).pdf)) \
            $(if $(filter consent,$(DOCS)),$(foreach l,$(LANGS),out/consent-sample-$(l).pdf)) \
            $(if $(filter consent,$(DOCS)),$(foreach s,$(CLINIC_SAMPLES),out/consent-$(s).pdf))

docs: $(OUT_PDFS)

# --- translation ----------------------------------------------------------------
POT_XML := $(shell grep -v '^\#' po/POTFILES.in | grep '\.xml$$')
POT_C   := $(shell grep -v '^\#' po/POTFILES.in | grep '\.c$$')

update-po:
	xgettext --language=C --from-code=UTF-8 --add-comments=TRANSLATORS \
	  --keyword=_:2 --keyword=N_ --keyword=P_:2c,3 --keyword=NP_:1c,2 --keyword=NN_:1,2 \
	  --package-name=pildoc --msgid-bugs-address= \
	  -o po/pildoc.pot.new $(POT_C)
	xgettext --its=po/pildoc.its --from-code=UTF-8 --join-existing \
	  --package-name=pildoc --msgid-bugs-address= -o po/pildoc.pot.new $(POT_XML)
	@sed -i -e '/^"POT-Creation-Date:/d' po/pildoc.pot.new
	@if [ -f po/pildoc.pot ] && cmp -s po/pildoc.pot po/pildoc.pot.new; then rm po/pildoc.pot.new; \
	  else mv po/pildoc.pot.new po/pildoc.pot; fi
	@for l in $(LINGUAS); do \
	  msgmerge --quiet --update --previous --backup=none po/$$l.po po/pildoc.pot || exit 1; done

# --- tests --------------------------------------------------------------------
TEST_SRCS := $(wildcard tests/unit/*.c)
# test_lang.c compares with libgettextpo itself: linked here, opened lazily by pildoc
$(BUILD)/unit-tests: $(TEST_SRCS) $(LIB_OBJS) $(BUILD)/flavour | $(OBJDIR)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags check) -Isrc -o $@ $(TEST_SRCS) $(LIB_OBJS) \
	  $(LDFLAGS) $(LIBS) -lgettextpo $(shell pkg-config --libs check)

$(BUILD)/pixcmp: tests/pixcmp.c
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS) $(shell pkg-config --libs cairo) -lm

unit: all $(BUILD)/unit-tests
	PILDOC_DATADIR=$(CURDIR) $(BUILD)/unit-tests

e2e: all $(BUILD)/pixcmp
	bash tests/e2e.sh
	bash tests/translators.sh
	bash tests/batch.sh
	bash tests/doccache.sh
	bash tests/fontorder.sh
	bash tests/robustness.sh
	bash tests/bad-input.sh
	bash tests/install.sh
	bash tests/shards.sh
	bash tests/content.sh
	bash tests/input.sh
	bash tests/layout.sh
	bash tests/layout-large.sh
	bash tests/measure.sh
	bash tests/tags.sh
	bash tests/serve.sh
	bash tests/bilingual.sh
	bash tests/pdfa.sh
	bash tests/form.sh
	bash tests/startup.sh

check: deps
	$(MAKE) unit e2e

# A one-node Slurm on 127.0.0.1 (started and stopped by the script, as root):
# the README's job array over a few hundred jobs, checked against one run.
check-slurm: deps
	$(call install_missing,$(DEB_SLURM))
	@$(MAKE) --no-print-directory all
	bash tests/slurm.sh

# make bench only: Node and npm for the Typst comparison (typst.ts from npm,
# into build/bench), pikepdf to read PDFs. Offline, the Typst part is skipped.
DEB_BENCH  := nodejs npm python3-pikepdf
TYPST_TS   := @myriaddreamin/typst-ts-node-compiler@0.7.0
bench: deps
	@$(MAKE) --no-print-directory all
	-$(call install_missing,$(DEB_BENCH))
	-@[ -d $(BUILD)/bench/node_modules/@myriaddreamin/typst-ts-node-compiler ] || \
	  { mkdir -p $(BUILD)/bench && timeout 300 npm install --no-audit --no-fund --prefix $(BUILD)/bench \
	    $(TYPST_TS) >$(BUILD)/bench/npm.log 2>&1; } || \
	  echo "make bench: npm install $(TYPST_TS) failed: $$(grep -m1 -i 'err.*reason\|ERR! code' \
	    $(BUILD)/bench/npm.log) (all of npm's output: $(BUILD)/bench/npm.log)"
	bash tests/bench.sh
	@$(call install_missing,apache2-utils)
	bash tests/bench-serve.sh

# File sizes on the same content: the cairo-era leaflet (built from git) and
# Typst's output for today's (when make bench installed typst.ts).
bench-sizes: deps
	@$(MAKE) --no-print-directory all
	bash tests/bench/sizes.sh

# --- valgrind: a render and a batch, zero errors and zero leaks -----------------------
# PILDOC_FREE_AT_EXIT: render frees everything before exiting (src/main.c)
VALGRIND := PILDOC_FREE_AT_EXIT=1 valgrind --quiet --error-exitcode=3 --leak-check=full \
            --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
            --suppressions=tests/valgrind.supp
memcheck: deps
	@$(MAKE) --no-print-directory all
	@$(call install_missing,valgrind)
	@mkdir -p $(BUILD)/memcheck
	$(VALGRIND) ./pildoc render leaflet --lang zh_CN -o $(BUILD)/memcheck/leaflet.pdf
	$(VALGRIND) ./pildoc render consent --lang fr --data $(SAMPLE) -o $(BUILD)/memcheck/consent.pdf
	env -u XDG_CACHE_HOME HOME=/proc/version $(VALGRIND) ./pildoc render leaflet -o $(BUILD)/memcheck/no-cache.pdf
	$(VALGRIND) ./pildoc render consent --lang zh_CN --clinic templates/clinics/beijing.xml --form -o $(BUILD)/memcheck/form-zh.pdf
	$(VALGRIND) ./pildoc render consent --lang fr --clinic templates/clinics/paris.xml --form -o $(BUILD)/memcheck/form-fr.pdf
	$(VALGRIND) ./pildoc draw-svg 512 $$$$ < templates/pictograms/no-driving.svg > $(BUILD)/memcheck/drawn.bin
	python3 tests/make-jobs.py 12 $(BUILD)/memcheck/jobs.csv
	$(VALGRIND) ./pildoc batch $(BUILD)/memcheck/jobs.csv --out $(BUILD)/memcheck/out --jobs 2 --quiet
	@echo "memcheck: 7 runs, 0 errors, 0 leaks"

# --- fuzzing (libFuzzer, clang) ------------------------------------------------------
# make fuzz runs each harness FUZZ_SECONDS (default 60) on its seed corpus in
# tests/fuzz/corpus/NAME, after replaying the crashes found before
# (tests/fuzz/regressions/NAME: each is a regression test). New corpus
# entries go to build/fuzz-corpus, crashes to build/fuzz-crashes.
FUZZERS      := template data jobs message pdf mo plan
FUZZ_SECONDS ?= 60
FUZZ_OBJDIR  := $(BUILD)/obj-fuzz
FUZZ_FLAGS   := -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror \
                $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS) 2>/dev/null) -Isrc
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
DEB_FUZZ     := clang libclang-rt-14-dev
FUZZ_ENV     := PILDOC_DATADIR=$(CURDIR) LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

$(FUZZ_OBJDIR)/%.o: src/%.c $(wildcard src/*.h) | $(FUZZ_OBJDIR)
	clang $(FUZZ_FLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ_OBJDIR):
	mkdir -p $@
$(BUILD)/fuzz-%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(LIB_SRCS:src/%.c=$(FUZZ_OBJDIR)/%.o)
	clang $(FUZZ_FLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(LIB_SRCS:src/%.c=$(FUZZ_OBJDIR)/%.o) $(LIBS)

.SECONDARY: $(LIB_SRCS:src/%.c=$(FUZZ_OBJDIR)/%.o)

# fuzz_mo's compiled seeds, in both byte orders, from tests/fuzz/seed-mo.po
FUZZ_SEEDS := $(BUILD)/fuzz-seed/mo/small.mo $(BUILD)/fuzz-seed/mo/small-be.mo
$(BUILD)/fuzz-seed/mo/small.mo: tests/fuzz/seed-mo.po
	@mkdir -p $(@D)
	msgfmt -o $@ $<
$(BUILD)/fuzz-seed/mo/small-be.mo: tests/fuzz/seed-mo.po
	@mkdir -p $(@D)
	msgfmt --endianness=big -o $@ $<

deps-fuzz:
	$(call install_missing,$(DEB_FUZZ))

fuzz: deps deps-fuzz
	@$(MAKE) --no-print-directory all $(FUZZERS:%=$(BUILD)/fuzz-%) $(FUZZ_SEEDS)
	@for f in $(FUZZERS); do \
	  mkdir -p $(BUILD)/fuzz-corpus/$$f $(BUILD)/fuzz-crashes $(BUILD)/fuzz-seed/$$f; \
	  if ls tests/fuzz/regressions/$$f/* >/dev/null 2>&1; then \
	    echo "fuzz $$f: replaying tests/fuzz/regressions/$$f"; \
	    $(FUZZ_ENV) $(BUILD)/fuzz-$$f tests/fuzz/regressions/$$f/* >/dev/null 2>&1 \
	      || { echo "fuzz $$f: a regression input fails again"; exit 1; }; fi; \
	  echo "fuzz $$f: $(FUZZ_SECONDS) s"; \
	  $(FUZZ_ENV) $(BUILD)/fuzz-$$f -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz-crashes/$$f- \
	    $(BUILD)/fuzz-corpus/$$f tests/fuzz/corpus/$$f $(BUILD)/fuzz-seed/$$f > $(BUILD)/fuzz-$$f.log 2>&1 \
	    || { tail -40 $(BUILD)/fuzz-$$f.log; echo "fuzz $$f: crash, input in $(BUILD)/fuzz-crashes"; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' $(BUILD)/fuzz-$$f.log | tr '\n' ' '; echo; \
	done

# --- code hygiene --------------------------------------------------------------
format: deps-lint
	clang-format -i src/*.c src/*.h tests/unit/*.c tests/*.c tests/fuzz/*.c tests/fuzz/*.h

lint: deps-lint
	clang-format --dry-run --Werror src/*.c src/*.h tests/unit/*.c tests/*.c tests/fuzz/*.c tests/fuzz/*.h
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 --inline-suppr -D_GNU_SOURCE --suppress=missingIncludeSystem src tests
	clang-tidy --quiet src/*.c -- -std=c11 -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS))

clean:
	rm -rf $(BUILD) pildoc
