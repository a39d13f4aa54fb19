#!/usr/bin/env bash
# Sets up a Debian 12 host for ncbocr, the README's production walkthrough as
# a script. Idempotent: a second run changes nothing that is already right,
# and never overwrites a configuration or a secret.
#
#   scripts/install-server.sh                  as root, after `cmake --install build --prefix /usr`
#   scripts/install-server.sh --root DIR       the same tree under DIR (for tests and packaging)
#   scripts/install-server.sh --user NAME      the service user (default ncbocr)
#   scripts/install-server.sh --no-user        do not create the user (it exists, or --root)
#
# What it does:
#   1. the system user and group (no login shell, home /var/lib/ncbocr);
#   2. /var/spool/ncbocr, /var/spool/backups (backup.dir's default, beside the
#      spool), /var/lib/ncbocr, /var/log/ncbocr (0700, owned by the user): the
#      directories the systemd units may write;
#   3. /etc/ncbocr/ncbocr.yaml from the installed example, 0640 root:GROUP,
#      with the spool and log file above, unless it exists;
#   4. /etc/ncbocr/secrets (0700, owned by the user) for key and token files,
#      which must be 0600 and owned by the user;
#   5. `ncbocr validate-credentials --offline` as the user;
# then prints the steps only a person can do (credentials, consent, enabling
# the schedule).
set -euo pipefail

root=""
user=ncbocr
make_user=1
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=${2:?--root needs a directory}; shift ;;
    --user) user=${2:?--user needs a name}; shift ;;
    --no-user) make_user=0 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "install-server.sh: unknown option $1" >&2; exit 64 ;;
  esac
  shift
done

say() { echo "install-server: $*"; }
if [ "$(id -u)" != 0 ] && [ -z "$root" ]; then
  echo "install-server.sh: run as root (or with --root DIR to build the tree elsewhere)" >&2
  exit 77
fi

ncbocr=$(command -v ncbocr || true)
[ -n "$root" ] && [ -x "$root/usr/bin/ncbocr" ] && ncbocr="$root/usr/bin/ncbocr"
[ -n "$ncbocr" ] || { echo "install-server.sh: ncbocr is not installed (cmake --install build --prefix /usr)" >&2; exit 69; }
example="$root/etc/ncbocr/ncbocr.example.yaml"
[ -f "$example" ] || { echo "install-server.sh: $example is missing (cmake --install build --prefix /usr)" >&2; exit 69; }

# 1. The service user.
if [ "$make_user" = 1 ]; then
  if getent passwd "$user" >/dev/null; then
    say "user $user exists"
  else
    useradd --system --user-group --home-dir /var/lib/ncbocr --no-create-home --shell /usr/sbin/nologin "$user"
    say "created system user $user"
  fi
fi
owner=$user
group=$user
if ! getent passwd "$user" >/dev/null; then
  # Only with --root and --no-user: the tree is built for another host.
  owner=$(id -un)
  group=$(id -gn)
fi

# 2. Directories, private to the user.
for d in /var/spool/ncbocr /var/spool/backups /var/lib/ncbocr /var/log/ncbocr /etc/ncbocr/secrets; do
  install -d -m 0700 -o "$owner" -g "$group" "$root$d"
done
install -d -m 0755 "$root/etc/ncbocr"
say "directories ready (0700, owned by $owner)"

# 3. The configuration: readable by the service's group, writable by root.
config="$root/etc/ncbocr/ncbocr.yaml"
if [ -e "$config" ]; then
  say "$config exists: left as it is"
else
  sed -e 's|^spool: .*|spool: /var/spool/ncbocr|' \
      -e 's|^  file: ""  *# empty: stderr.*|  file: /var/log/ncbocr/ncbocr.log|' \
      "$example" > "$config.tmp"
  chmod 0640 "$config.tmp"
  chown "root:$group" "$config.tmp" 2>/dev/null || chown ":$group" "$config.tmp"
  mv "$config.tmp" "$config"
  say "wrote $config (0640, group $group): edit it next"
fi

# 4. Secrets: only the user reads them.
find "$root/etc/ncbocr/secrets" -type f ! -perm 0600 -exec chmod 0600 {} + 2>/dev/null || true

# 5. An offline check of what is configured so far, as the service user.
run_as() {
  if [ -z "$root" ] && [ "$(id -u)" = 0 ] && [ "$owner" != root ]; then
    setpriv --reuid="$owner" --regid="$group" --init-groups -- "$@"
  else
    "$@"
  fi
}
cfg_for_check=$config
if [ -n "$root" ]; then
  # The config names host paths; check a copy that points into the tree.
  cfg_for_check="$root/etc/ncbocr/.check.yaml"
  sed -e "s|^spool: .*|spool: $root/var/spool/ncbocr|" -e "s|/var/log/ncbocr/|$root/var/log/ncbocr/|" \
      "$config" > "$cfg_for_check"
  chmod 0600 "$cfg_for_check"
fi
if run_as "$ncbocr" --config "$cfg_for_check" validate-credentials --offline; then
  say "validate-credentials --offline: ok"
else
  say "validate-credentials --offline found problems (above): fix them before enabling the schedule"
fi
[ -n "$root" ] && rm -f "$cfg_for_check"

cat <<EOF

Next, by hand (README: "Production walkthrough"):
  1. Edit $config: fetch.source and its settings, ncb.base_url,
     ncb.api_key_file (put the key in /etc/ncbocr/secrets/ncb-api-key, 0600,
     owned by $user), archive.* and alerts.*.
  2. Gmail only: put the OAuth client file in /etc/ncbocr/secrets, then
     sudo -u $user ncbocr auth gmail
  3. sudo -u $user ncbocr validate-credentials     (now with live calls)
  4. Enable the schedule, one of:
       systemctl enable --now ncbocr-fetch.timer ncbocr-ocr.timer ncbocr-extract.timer \\
         ncbocr-submit.timer ncbocr-archive.timer ncbocr-backup.timer \\
         ncbocr-alert-check.timer ncbocr-summary.timer
       or cron: /etc/cron.d/ncbocr runs the same schedule as installed
       (use one of the two: delete the cron file if you enable the timers).
EOF
