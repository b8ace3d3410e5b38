# Build and install the zones tools (issue 18).
#
#   make                      release build of every shipped binary
#   make install PREFIX=/usr DESTDIR=/tmp/root
#   make uninstall PREFIX=/usr
#   make deb                  target/deb/zones_VERSION_ARCH.deb (dpkg-deb)
#
# What goes where (PREFIX defaults to /usr/local):
#   PREFIX/sbin        zoneadm zonecfg zlogin jail jls jexec zoned zonefs zones-oci
#   PREFIX/bin         kstat ztop
#   PREFIX/lib/zones   zsched (the tools look for ../lib/zones/zsched
#                      beside their own directory)
#   PREFIX/share/man   the man pages of assets/man
#   PREFIX/share/{bash-completion,zsh,fish}   the completions of assets/completions
#   UNITDIR            zoned.service, zonefs.service (ExecStart names SBINDIR)
#   SYSCONFDIR/jail.conf.d   made empty if missing
# Binaries are stripped (the release profile strips them; install -s too).

PREFIX     ?= /usr/local
DESTDIR    ?=
SYSCONFDIR ?= /etc
CARGO      ?= cargo
BINDIR      = $(PREFIX)/bin
SBINDIR     = $(PREFIX)/sbin
LIBEXECDIR  = $(PREFIX)/lib/zones
MANDIR      = $(PREFIX)/share/man
BASHDIR     = $(PREFIX)/share/bash-completion/completions
ZSHDIR      = $(PREFIX)/share/zsh/vendor-completions
FISHDIR     = $(PREFIX)/share/fish/vendor_completions.d
UNITDIR    ?= $(PREFIX)/lib/systemd/system
RELEASE     = target/release

SBIN  = zoneadm zonecfg zlogin jail jls jexec zoned zonefs zones-oci
BIN   = kstat ztop
TOOLS = $(SBIN) $(BIN)
MAN   = $(wildcard assets/man/*.[158])
UNITS = assets/systemd/zoned.service assets/systemd/zonefs.service
VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
ARCH    = $(shell dpkg --print-architecture 2>/dev/null || echo amd64)

.PHONY: all build install uninstall deb clean-deb

all: build

build:
	$(CARGO) build --release --locked -p zones-linux -p zones-tools -p zoned -p ztop -p zonefs --bins

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR)
	for b in $(SBIN); do install -m 0755 -s $(RELEASE)/$$b $(DESTDIR)$(SBINDIR)/$$b || exit 1; done
	for b in $(BIN); do install -m 0755 -s $(RELEASE)/$$b $(DESTDIR)$(BINDIR)/$$b || exit 1; done
	install -m 0755 -s $(RELEASE)/zsched $(DESTDIR)$(LIBEXECDIR)/zsched
	for p in $(MAN); do \
	  s=$${p##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	  gzip -9n < $$p > $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$p).gz || exit 1; \
	done
	install -d $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR) $(DESTDIR)$(FISHDIR)
	for t in $(TOOLS); do install -m 0644 assets/completions/bash/zones $(DESTDIR)$(BASHDIR)/$$t || exit 1; done
	install -m 0644 assets/completions/zsh/_zones $(DESTDIR)$(ZSHDIR)/_zones
	install -m 0644 assets/completions/fish/*.fish $(DESTDIR)$(FISHDIR)/
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
	  sed 's|/usr/sbin/|$(SBINDIR)/|g' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
	done
	install -d $(DESTDIR)$(SYSCONFDIR)/jail.conf.d

uninstall:
	for b in $(SBIN); do rm -f $(DESTDIR)$(SBINDIR)/$$b; done
	for b in $(BIN); do rm -f $(DESTDIR)$(BINDIR)/$$b; done
	rm -f $(DESTDIR)$(LIBEXECDIR)/zsched
	-rmdir $(DESTDIR)$(LIBEXECDIR)
	for p in $(MAN); do s=$${p##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$p).gz; done
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BASHDIR)/$$t; done
	rm -f $(DESTDIR)$(ZSHDIR)/_zones
	for f in assets/completions/fish/*.fish; do rm -f $(DESTDIR)$(FISHDIR)/$$(basename $$f); done
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$(basename $$u); done

# The Debian package: the `make install` tree under PREFIX=/usr, with the
# control file and maintainer scripts of packaging/deb, built by dpkg-deb
# (in dpkg itself: nothing more to install, on any Debian).
deb: build
	rm -rf target/deb/root
	$(MAKE) install PREFIX=/usr DESTDIR=$(CURDIR)/target/deb/root UNITDIR=/usr/lib/systemd/system
	rmdir $(CURDIR)/target/deb/root/etc/jail.conf.d $(CURDIR)/target/deb/root/etc
	install -d target/deb/root/DEBIAN
	sed -e 's/@VERSION@/$(VERSION)/' -e 's/@ARCH@/$(ARCH)/' \
	    -e "s/@SIZE@/$$(du -sk target/deb/root | cut -f1)/" \
	    packaging/deb/control > target/deb/root/DEBIAN/control
	for s in postinst prerm postrm; do install -m 0755 packaging/deb/$$s target/deb/root/DEBIAN/$$s || exit 1; done
	install -d target/deb/root/usr/share/doc/zones
	install -m 0644 packaging/deb/copyright target/deb/root/usr/share/doc/zones/copyright
	dpkg-deb --root-owner-group --build target/deb/root target/deb/zones_$(VERSION)_$(ARCH).deb

clean-deb:
	rm -rf target/deb
