#!/bin/sh
# The schedule of cron/ncbocr in one long-running process, for a container
# (where there is no cron) or any host that prefers one supervised process:
# every NCBOCR_INTERVAL seconds a pass of every stage, the metrics and the
# alert check; once a day, from NCBOCR_BACKUP_HOUR on, a backup; once a day,
# from NCBOCR_SUMMARY_HOUR on, the daily summary. What ran on which day is
# kept in NCBOCR_SCHEDULE_STATE, so a restart does not repeat a backup.
# SIGTERM or SIGINT ends it after the step in progress (every step is safe
# to cut: the spool is crash-safe and each stage locks itself).
#
# Installed as /usr/libexec/ncbocr/ncbocr-schedule; compose.yaml runs it.
#
#   NCBOCR_INTERVAL        seconds between passes (default 60)
#   NCBOCR_BACKUP_HOUR     hour (0-23, local time) of the daily backup (default 2)
#   NCBOCR_SUMMARY_HOUR    hour of the daily summary (default 18)
#   NCBOCR_SCHEDULE_STATE  state file (default /var/lib/ncbocr/schedule.state)
#   NCBOCR_PASSES          stop after this many passes (default 0: never; for tests)
set -u

interval=${NCBOCR_INTERVAL:-60}
backup_hour=${NCBOCR_BACKUP_HOUR:-2}
summary_hour=${NCBOCR_SUMMARY_HOUR:-18}
state=${NCBOCR_SCHEDULE_STATE:-/var/lib/ncbocr/schedule.state}
passes=${NCBOCR_PASSES:-0}
ncbocr=${NCBOCR:-ncbocr}

stop=
trap 'stop=1' TERM INT

# state file: one "job YYYY-MM-DD" line per daily job.
last_day() { [ -f "$state" ] && sed -n "s/^$1 //p" "$state" | tail -n 1; }
mark_day() {
  tmp="$state.tmp.$$"
  { [ -f "$state" ] && grep -v "^$1 " "$state"; echo "$1 $2"; } > "$tmp" && mv "$tmp" "$state"
}
# A daily job runs once a day, at or after its hour.
daily() {
  job=$1 hour=$2
  shift 2
  today=$(date +%F)
  now=$(date +%H)
  [ "${now#0}" -ge "$hour" ] || return 0
  [ "$(last_day "$job")" = "$today" ] && return 0
  if "$ncbocr" "$@"; then
    mark_day "$job" "$today"
  else
    echo "ncbocr-schedule: '$ncbocr $*' failed (exit $?); tried again next pass" >&2
  fi
}

n=0
while [ -z "$stop" ]; do
  "$ncbocr" -q run
  [ -n "$stop" ] && break
  "$ncbocr" -q metrics
  "$ncbocr" -q alert --check
  [ -n "$stop" ] && break
  daily backup "$backup_hour" -q backup
  daily summary "$summary_hour" -q alert --summary
  n=$((n + 1))
  [ "$passes" -gt 0 ] && [ "$n" -ge "$passes" ] && break
  # Sleep in the background so a signal ends the wait at once.
  sleep "$interval" &
  wait $! 2>/dev/null || kill $! 2>/dev/null
done
echo "ncbocr-schedule: stopped after $n passes" >&2
