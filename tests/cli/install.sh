#!/usr/bin/env bash
# `cmake --install` into a DESTDIR, as a package build or the Dockerfile does:
# the cron and logrotate files land in /etc (where cron and logrotate read,
# whatever the prefix), the example config in /etc/ncbocr for the prefix
# /usr, the units name the installed binary, and every path the Dockerfile
# copies out of its install tree exists.
source "$(dirname "$0")/lib.bash"
build=$(dirname "$NCBOCR")
[ -f "$build/cmake_install.cmake" ] || { echo "no cmake_install.cmake beside $NCBOCR: skipped"; exit 125; }

root="$WORK/root"
DESTDIR="$root" cmake --install "$build" --prefix /usr >"$WORK/out" 2>"$WORK/err" && pass ||
  fail "cmake --install failed: $(tail -3 "$WORK/err")"
for f in usr/bin/ncbocr etc/cron.d/ncbocr etc/logrotate.d/ncbocr etc/ncbocr/ncbocr.example.yaml \
         usr/share/man/man1/ncbocr.1 usr/share/man/man1/ncbocr-fetch.1 usr/share/man/man5/ncbocr.yaml.5 \
         usr/lib/systemd/system/ncbocr@.service usr/lib/systemd/system/ncbocr-fetch.timer \
         usr/share/ncbocr/monitoring; do
  [ -e "$root/$f" ] && pass || fail "not installed: /$f"
done
[ ! -e "$root/usr/etc" ] && pass || fail "something went to /usr/etc, where nothing reads it: $(ls -R "$root/usr/etc")"
grep -q "ExecStart=/usr/bin/ncbocr" "$root/usr/lib/systemd/system/ncbocr@.service" && pass ||
  fail "the unit does not name /usr/bin/ncbocr"

# A prefix other than /usr: cron and logrotate still read /etc.
root2="$WORK/root2"
DESTDIR="$root2" cmake --install "$build" --prefix /opt/ncbocr >"$WORK/out" 2>"$WORK/err" || fail "install --prefix /opt/ncbocr"
[ -e "$root2/etc/cron.d/ncbocr" ] && [ -e "$root2/etc/logrotate.d/ncbocr" ] && pass ||
  fail "with --prefix /opt/ncbocr, cron.d/logrotate.d are not under /etc"
grep -q "ExecStart=/opt/ncbocr/bin/ncbocr" "$root2/opt/ncbocr/lib/systemd/system/ncbocr@.service" && pass ||
  fail "the unit does not name /opt/ncbocr/bin/ncbocr"

# The Dockerfile's COPY --from=build /out/PATH: each must exist after the
# same install (it runs `DESTDIR=/out cmake --install` with --prefix /usr).
paths=$(sed -n 's|^COPY --from=build /out\(/[^ ]*\) .*|\1|p' "$SOURCE_DIR/Dockerfile")
[ -n "$paths" ] && pass || fail "found no COPY --from=build lines in the Dockerfile"
for p in $paths; do
  [ -e "$root$p" ] && pass || fail "the Dockerfile copies $p, which the install does not create"
done
# COPY . takes the tree minus .dockerignore: never the quick start's spool.
for ignored in var build; do
  grep -qx "$ignored" "$SOURCE_DIR/.dockerignore" && pass || fail ".dockerignore lacks $ignored"
done
# scripts/install-server.sh on the installed tree: the directories, modes
# and config of the production walkthrough; a second run changes nothing.
srv="$SOURCE_DIR/scripts/install-server.sh"
"$srv" --root "$root" --no-user >"$WORK/out" 2>&1 && pass || fail "install-server.sh failed: $(tail -5 "$WORK/out")"
for d in var/spool/ncbocr var/spool/backups var/lib/ncbocr var/log/ncbocr etc/ncbocr/secrets; do
  [ "$(stat -c %a "$root/$d" 2>/dev/null)" = 700 ] && pass || fail "/$d is not 0700"
done
cfg="$root/etc/ncbocr/ncbocr.yaml"
[ "$(stat -c %a "$cfg" 2>/dev/null)" = 640 ] && pass || fail "/etc/ncbocr/ncbocr.yaml is not 0640"
grep -q '^spool: /var/spool/ncbocr$' "$cfg" && grep -q '^  file: /var/log/ncbocr/ncbocr.log$' "$cfg" && pass ||
  fail "the config does not name the walkthrough's spool and log file"
# Every directory the service writes is one the systemd units let it write.
for d in /var/spool/ncbocr /var/spool/backups /var/lib/ncbocr /var/log/ncbocr; do
  grep -q "^ReadWritePaths=.*-\?$d\b" "$SOURCE_DIR/systemd/ncbocr@.service" && pass || fail "ncbocr@.service may not write $d"
done
grep -q "validate-credentials --offline" "$WORK/out" && pass || fail "install-server.sh did not run the offline check"
echo "# edited by the operator" >> "$cfg"
sum=$(sha256sum "$cfg")
"$srv" --root "$root" --no-user >"$WORK/out" 2>&1 && [ "$(sha256sum "$cfg")" = "$sum" ] && pass ||
  fail "a second install-server.sh run changed the operator's config"

# As root, with a real service user (created and removed by this test).
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null; then
  u="ncbtest$$"
  trap 'userdel "$u" 2>/dev/null || true; groupdel "$u" 2>/dev/null || true' EXIT
  root3="$WORK/root3"
  DESTDIR="$root3" cmake --install "$build" --prefix /usr >/dev/null
  "$srv" --root "$root3" --user "$u" >"$WORK/out" 2>&1 && pass || fail "install-server.sh --user: $(tail -5 "$WORK/out")"
  getent passwd "$u" | grep -q ":/usr/sbin/nologin$" && pass || fail "no system user $u with a nologin shell"
  [ "$(stat -c %U "$root3/var/spool/ncbocr")" = "$u" ] && pass || fail "the spool is not owned by $u"
  [ "$(stat -c %U:%G "$root3/etc/ncbocr/ncbocr.yaml")" = "root:$u" ] && pass || fail "the config is not root:$u"
else
  echo "install-server.sh with a real user: needs root, not checked"
fi
finish
