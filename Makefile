# p2pd: the only build entry.
#
#   make            build the four binaries into $(BUILD)/
#   make test       install missing dependencies (scripts/deps.sh), unit tests, end-to-end tests
#   make check      the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo       the whole chain on this machine (see README.md)
#   make bench      benchmarks that print a table (not timed tests)
#   make fuzz       each libFuzzer harness for a bounded time (clang)
#   make install    programs, man pages, configuration examples, service files (uninstall too)
#   make format     clang-format every source file in place
#
# BUILD names the output directory, so that several builds (plain, sanitizers) can coexist.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
UNAME_S := $(shell uname -s)

PKG_CONFIG ?= pkg-config
PKGS       := libsodium inih
ifeq ($(UNAME_S),Linux)
PKGS       += libseccomp
endif

# libev ships no pkg-config file on Debian: take EV_CFLAGS/EV_LIBS from the
# environment, or use the plain -lev that works with the distribution packages.
EV_CFLAGS ?=
EV_LIBS   ?= -lev

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# CFLAGS/LDFLAGS are the user's; EXTRA_* carry sanitizer or fuzzer flags; the
# language level, warnings and library flags are always added.
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
VERSION  := 0.1.0
ALL_CPPFLAGS = -I. -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DP2PD_VERSION='"$(VERSION)"' $(CPPFLAGS)
ALL_CFLAGS   = -std=c11 $(WARN) -fno-strict-aliasing $(CFLAGS) $(EXTRA_CFLAGS) $(PKG_CFLAGS) $(EV_CFLAGS)
ALL_LDFLAGS  = $(LDFLAGS) $(EXTRA_LDFLAGS)
LDLIBS   += $(PKG_LIBS) $(EV_LIBS) -lm

# connectd runs once per remote device (p2pd forks one per provisioning file),
# so its resident memory counts many times over. On Linux it is linked as a
# static PIE when every archive it needs is installed (Debian's -dev packages
# and libc6-dev ship them): only the library code it uses is mapped, and an
# idle worker stays well under 2 MiB resident instead of ~2.9 MiB with the
# shared libraries (docs/BENCH.md). Still position-independent (ASLR). The
# linker warns that getpwnam and getaddrinfo in a static program would load
# NSS modules: a static connectd uses only the services glibc has built in
# (users from /etc/passwd, hosts from /etc/hosts and DNS; connectd_main.c),
# never the other modules of nsswitch.conf (ldap, sss, mdns...), so its worker
# user must be in /etc/passwd (the sysusers file puts it there). STATIC_CONNECTD=no links it dynamically; sanitizer and
# fuzzer builds (EXTRA_CFLAGS with -fsanitize) always are, as valgrind needs
# to be: `make STATIC_CONNECTD=no` before running connectd under valgrind.
STATIC_CONNECTD ?= auto
STATIC_ARCHIVES := libsodium.a libinih.a libseccomp.a libev.a libc.a libm.a
static_missing = $(strip $(foreach a,$(STATIC_ARCHIVES),$(if $(filter /%,$(shell $(CC) -print-file-name=$(a))),,$(a))))
ifeq ($(UNAME_S)$(findstring -fsanitize,$(EXTRA_CFLAGS) $(EXTRA_LDFLAGS) $(CFLAGS) $(LDFLAGS)),Linux)
ifeq ($(STATIC_CONNECTD),auto)
STATIC_CONNECTD := $(if $(static_missing),no,yes)
endif
else
STATIC_CONNECTD := no
endif
ifeq ($(STATIC_CONNECTD),yes)
CONNECTD_NSS  := -DP2PD_STATIC_NSS
CONNECTD_LINK := -static-pie
CONNECTD_LIBS := $(shell $(PKG_CONFIG) --libs --static $(PKGS) 2>/dev/null) $(EV_LIBS) -lm
else
CONNECTD_NSS  :=
CONNECTD_LINK :=
CONNECTD_LIBS  = $(LDLIBS)
endif

# Sources: every *_main.c is a program entry point; everything else in a
# directory goes into that directory's static library, so unit tests can link it.
COMMON_SRC := $(filter-out %_main.c,$(wildcard common/*.c))
WORKER_SRC := $(filter-out %_main.c,$(wildcard worker/*.c))
SUPER_SRC  := $(filter-out %_main.c,$(wildcard supervisor/*.c))
RDV_SRC    := $(filter-out %_main.c,$(wildcard rendezvous/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON := $(BUILD)/lib/libcommon.a
LIBWORKER := $(BUILD)/lib/libworker.a
LIBSUPER  := $(BUILD)/lib/libsuper.a
LIBRDV    := $(BUILD)/lib/librdv.a

BINS := $(BUILD)/connectd $(BUILD)/p2pd $(BUILD)/p2pctl $(BUILD)/rendezvousd

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
UNIT_HELP  := $(wildcard tests/unit/helper_*.c)

.PHONY: all test unit e2e check demo bench fuzz format clean deps install uninstall
.DEFAULT_GOAL := all

all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBWORKER): $(call obj,$(WORKER_SRC))
$(LIBSUPER):  $(call obj,$(SUPER_SRC))
$(LIBRDV):    $(call obj,$(RDV_SRC))
$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/connectd: $(call obj,worker/connectd_main.c) $(LIBWORKER) $(LIBCOMMON) $(BUILD)/connectd-link
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(CONNECTD_LINK) -o $@ $(filter-out $(BUILD)/connectd-link,$^) $(CONNECTD_LIBS)
$(BUILD)/p2pd: $(call obj,supervisor/p2pd_main.c) $(LIBSUPER) $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/p2pctl: $(call obj,supervisor/p2pctl_main.c) $(LIBSUPER) $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/rendezvousd: $(call obj,rendezvous/rendezvousd_main.c) $(LIBRDV) $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests: one cmocka program per tests/unit/test_<module>.c, linked against
# every library (the archives pull in only what a test uses).
$(BUILD)/tests/%: tests/unit/%.c $(call obj,$(UNIT_HELP)) $(LIBWORKER) $(LIBSUPER) $(LIBRDV) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) $(ALL_LDFLAGS) -MMD -MP -o $@ $(filter-out %.h,$^) $(CMOCKA_LIBS) $(LDLIBS)

deps:
	@sh scripts/deps.sh $(if $(DEPS_MODE),$(DEPS_MODE),check)

unit: $(BINS) $(UNIT_BINS)
	@SKIP_E2E=1 BUILD=$(BUILD) sh tests/run-all.sh

e2e: $(BINS)
	@BUILD=$(BUILD) bash tests/e2e/run.sh

# make test: the README's test command (also what .ci/run calls).
test:
	@sh scripts/deps.sh install-test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit-and-e2e

.PHONY: unit-and-e2e
unit-and-e2e: $(BINS) $(UNIT_BINS)
	@BUILD=$(BUILD) sh tests/run-all.sh

SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
check:
	@sh scripts/deps.sh install-test
	@$(MAKE) --no-print-directory BUILD=build-san OPT=-O1 EXTRA_CFLAGS="$(SAN)" EXTRA_LDFLAGS="$(SAN)" unit-and-e2e

demo:
	@sh scripts/deps.sh install-demo
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash scripts/demo.sh

bench:
	@sh scripts/deps.sh install-bench
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/bench/run.sh

FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_SECS ?= 20
fuzz:
	@sh scripts/deps.sh install-fuzz
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT=-O1 \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
		build-fuzz/lib/libcommon.a build-fuzz/lib/libworker.a build-fuzz/lib/librdv.a
	@BUILD=build-fuzz FUZZ_SECS=$(FUZZ_SECS) sh tests/fuzz/run.sh $(FUZZ_SRC)

format:
	clang-format -i $(wildcard common/*.[ch] worker/*.[ch] supervisor/*.[ch] rendezvous/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c)

clean:
	rm -rf build build-san build-fuzz

# ---------------------------------------------------------------------------
# make install / make uninstall
#
#   make install [PREFIX=/usr/local] [DESTDIR=] [SBINDIR=] [MANDIR=] [SYSCONFDIR=/etc] ...
#
# Installs the four programs, the manual pages, the configuration files (only
# those not there yet: an edited p2pd.conf is never overwritten), the examples
# of conf.d/ (as *.conf.example, which p2pd does not read), the bash completion
# of p2pctl and the service files: systemd units and a sysusers.d file on
# Linux, launchd property lists on macOS (SERVICES= chooses). make uninstall
# removes exactly those files, a configuration file only while it is still
# the one installed, and the p2pd directories of SYSCONFDIR once empty.
#
# The programs look for /etc/p2pd/p2pd.conf and /etc/p2pd/rendezvousd.conf;
# the installed service files name the configuration under SYSCONFDIR, and
# p2pd's default worker_binary is $(SBINDIR)/connectd.
DESTDIR     ?=
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
LAUNCHDDIR  ?= /Library/LaunchDaemons
ifeq ($(UNAME_S),Darwin)
SERVICES    ?= launchd
else
SERVICES    ?= systemd
endif
INSTALL     ?= install

CONFDIR    := $(SYSCONFDIR)/p2pd
MAN5       := p2pd.conf.5 rendezvousd.conf.5 p2p-provisioning.5
MAN8       := connectd.8 p2pd.8 p2pctl.8 rendezvousd.8
EXAMPLES   := $(notdir $(wildcard conf.d/*.conf.example))
UNITS      := p2pd.service rendezvousd.service
PLISTS     := p2pd.plist p2pd.rendezvousd.plist
# Source files name /usr/local/sbin and /etc/p2pd; installed copies name
# where things went.
INST_SUBST := sed -e 's|/usr/local/sbin|$(SBINDIR)|g' -e 's|/etc/p2pd|$(CONFDIR)|g'

# p2pd's default worker_binary: only common/p2pdconf.c (and its unit test)
# is compiled with it; a stamp file that changes only with SBINDIR makes a
# new SBINDIR rebuild that one object, not everything. (Not "private", which
# make 3.81 lacks; where the flag reaches other objects, they do not use it.)
CONNECTD_DEF := -DCONNECTD_PATH='"$(SBINDIR)/connectd"'
$(call obj,common/p2pdconf.c) $(BUILD)/tests/test_p2pdconf: ALL_CPPFLAGS += $(CONNECTD_DEF)
# Rebuild connectd when the choice between static and dynamic changes.
$(call obj,worker/connectd_main.c): ALL_CPPFLAGS += $(CONNECTD_NSS)
$(call obj,worker/connectd_main.c): $(BUILD)/connectd-link
$(BUILD)/connectd-link: FORCE
	@mkdir -p $(@D)
	@echo '$(CONNECTD_LINK) $(CONNECTD_LIBS)' | cmp -s - $@ 2>/dev/null || echo '$(CONNECTD_LINK) $(CONNECTD_LIBS)' >$@

$(call obj,common/p2pdconf.c): $(BUILD)/connectd-path
$(BUILD)/connectd-path: FORCE
	@mkdir -p $(dir $@)
	@echo '$(SBINDIR)/connectd' | cmp -s - $@ 2>/dev/null || echo '$(SBINDIR)/connectd' >$@
.PHONY: FORCE
FORCE:

install: $(BINS)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(CONFDIR)
	$(INSTALL) -d -m 0700 $(DESTDIR)$(CONFDIR)/conf.d
	$(INSTALL) -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 $(addprefix docs/man/,$(MAN5)) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(addprefix docs/man/,$(MAN8)) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 completions/p2pctl.bash $(DESTDIR)$(BASHCOMPDIR)/p2pctl
	$(INSTALL) -m 0600 $(addprefix conf.d/,$(EXAMPLES)) $(DESTDIR)$(CONFDIR)/conf.d/
	@for f in p2pd.conf:0644 rendezvousd.conf:0600; do \
		n=$${f%:*}; m=$${f#*:}; t=$(DESTDIR)$(CONFDIR)/$$n; \
		if [ -e "$$t" ]; then echo "$$t exists: kept (the new example is etc/$$n.example)"; \
		else echo "$(INST_SUBST) etc/$$n.example >$$t"; \
			$(INST_SUBST) etc/$$n.example >"$$t.tmp" && chmod $$m "$$t.tmp" && \
			mv "$$t.tmp" "$$t" || exit 1; fi; \
	done
ifneq ($(filter systemd,$(SERVICES)),)
	$(INSTALL) -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	for u in $(UNITS); do $(INST_SUBST) systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u || exit 1; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; done
	$(INSTALL) -m 0644 systemd/p2pd.sysusers $(DESTDIR)$(SYSUSERSDIR)/p2pd.conf
	@[ -n "$(DESTDIR)" ] || echo "p2pd: next, as root: systemd-sysusers p2pd.conf &&" \
		"systemctl daemon-reload && systemctl enable --now p2pd"
endif
ifneq ($(filter launchd,$(SERVICES)),)
	$(INSTALL) -d $(DESTDIR)$(LAUNCHDDIR)
	for p in $(PLISTS); do $(INST_SUBST) launchd/$$p >$(DESTDIR)$(LAUNCHDDIR)/$$p || exit 1; \
		chmod 0644 $(DESTDIR)$(LAUNCHDDIR)/$$p; done
endif

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(BINS)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(MAN5)) $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(MAN8))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/p2pctl
	rm -f $(addprefix $(DESTDIR)$(CONFDIR)/conf.d/,$(EXAMPLES))
	@for n in p2pd.conf rendezvousd.conf; do t=$(DESTDIR)$(CONFDIR)/$$n; \
		if [ -e "$$t" ]; then \
			if $(INST_SUBST) etc/$$n.example | cmp -s - "$$t"; then echo "rm -f $$t"; rm -f "$$t"; \
			else echo "$$t was changed: kept"; fi; \
		fi; \
	done
	@for d in $(DESTDIR)$(CONFDIR)/conf.d $(DESTDIR)$(CONFDIR); do \
		if [ -d "$$d" ]; then rmdir "$$d" 2>/dev/null || echo "$$d is not empty: kept"; fi; \
	done
ifneq ($(filter systemd,$(SERVICES)),)
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) $(DESTDIR)$(SYSUSERSDIR)/p2pd.conf
endif
ifneq ($(filter launchd,$(SERVICES)),)
	rm -f $(addprefix $(DESTDIR)$(LAUNCHDDIR)/,$(PLISTS))
endif

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
