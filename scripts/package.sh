#!/usr/bin/env bash
# Builds the Debian package from an already-built Release tree and checks it:
#   scripts/package.sh [BUILD_DIR]     (default: build; CI runs it after scripts/test.sh)
# 1. cpack writes BUILD_DIR/sqlite-maintd_<version>_<arch>.deb (CPack first builds every
#    target of BUILD_DIR: nothing to do in a tree scripts/test.sh has just built);
# 2. the package holds what issue 15 asks for: the daemon, the unit, the sysusers/tmpfiles
#    snippets (the system user, /var/lib/sqlite-maintd), the example config as a conffile,
#    the man page and the docs;
# 3. lintian (Debian's package linter) reports nothing at warning level or above; the
#    overrides, each with its reason, are in packaging/debian/lintian-overrides.
# Installs lintian (and man-db, for the man page checks) through setup-deps.sh.
# Exit 0 when the package is clean, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
[ -x "$BUILD_DIR/bin/sqlite-maintd" ] || {
  echo "package: no $BUILD_DIR/bin/sqlite-maintd: build first (scripts/build.sh)" >&2
  exit 1
}
MAINTD_PACKAGE_DEPS=1 ./scripts/setup-deps.sh
rm -f "$BUILD_DIR"/sqlite-maintd_*.deb
(cd "$BUILD_DIR" && cpack -G DEB >/dev/null)
deb=$(ls "$BUILD_DIR"/sqlite-maintd_*.deb)
echo "package: $deb"

failed=0
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/bin/sqlite-maintd ./usr/lib/systemd/system/sqlite-maintd.service \
  ./usr/lib/sysusers.d/sqlite-maintd.conf ./usr/lib/tmpfiles.d/sqlite-maintd.conf \
  ./etc/sqlite-maintd/config.yaml.example ./usr/share/man/man8/sqlite-maintd.8.gz \
  ./usr/share/doc/sqlite-maintd/copyright ./usr/share/doc/sqlite-maintd/changelog.gz \
  ./usr/share/doc/sqlite-maintd/runbook.md ./usr/share/doc/sqlite-maintd/configuration.md; do
  if ! grep -qxF "$path" <<<"$contents"; then
    echo "package: $path missing from $deb" >&2
    failed=1
  fi
done
if ! dpkg-deb -I "$deb" conffiles | grep -qxF /etc/sqlite-maintd/config.yaml.example; then
  echo "package: /etc/sqlite-maintd/config.yaml.example is not a conffile" >&2
  failed=1
fi

# --fail-on warning: errors and warnings fail; info and pedantic tags are printed only.
if ! lintian --fail-on error,warning --info --display-level ">=warning" "$deb"; then
  echo "package: lintian reports problems (above)" >&2
  failed=1
fi
[ "$failed" = 0 ] && echo "package: contents and lintian clean"
exit "$failed"
