#!/usr/bin/env bash
# Stop the servers that scripts/services-start.sh recorded in RUN_DIR/pids, and
# nothing else.
#
#   bash scripts/services-stop.sh RUN_DIR
#
# Each pids/NAME.pid holds "PID STARTTIME"; a PID is signalled only while
# /proc/PID/stat still shows that start time (a reused PID is never hit, and
# zombies count as gone). Direct children of each recorded server (smbd
# helpers, the nginx worker, sshd sessions) are snapshotted the same way before
# the TERM and signalled too if they outlive their parent. TERM first, KILL
# after GENRO_SVC_STOP_TIMEOUT seconds (default 10). Logs and data stay in
# RUN_DIR; services.env is removed (nothing in it answers any more).
# Exit status 1 only if something recorded is still alive at the end.
set -uo pipefail

RUN=${1:?usage: services-stop.sh RUN_DIR}
TIMEOUT=${GENRO_SVC_STOP_TIMEOUT:-10}
rm -f "$RUN/services.env"
[ -d "$RUN/pids" ] || {
  echo "services-stop: nothing recorded in $RUN/pids"
  exit 0
}

starttime() { # field 22 of /proc/PID/stat, empty when gone or a zombie
  local s
  s=$(cat "/proc/$1/stat" 2> /dev/null) || return 0
  s=${s##*) } # drop "pid (comm) ", comm may hold spaces
  # shellcheck disable=SC2086
  set -- $s
  [ "$1" = Z ] || echo "${20}"
}
alive() { [ -n "$2" ] && [ "$(starttime "$1")" = "$2" ]; } # alive PID STARTTIME

T0=$(date +%s.%N)
declare -a TARGETS=() # "name pid starttime"
for f in "$RUN"/pids/*.pid; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .pid)
  read -r pid st < "$f" || true
  if [ -z "${pid:-}" ] || ! alive "$pid" "${st:-}"; then
    printf '%-11s not running\n' "$name"
    rm -f "$f"
    continue
  fi
  # snapshot children (with their start times) before the parent goes away
  for c in $(ps -o pid= --ppid "$pid" 2> /dev/null); do
    cst=$(starttime "$c")
    [ -n "$cst" ] && TARGETS+=("$name-child $c $cst")
  done
  TARGETS=("$name $pid $st" "${TARGETS[@]}")
  kill -TERM "$pid" 2> /dev/null
done

[ "${#TARGETS[@]}" -gt 0 ] || {
  echo "services-stop: nothing left to stop in $RUN"
  exit 0
}

deadline=$((SECONDS + TIMEOUT))
while :; do
  left=0
  for t in "${TARGETS[@]}"; do
    read -r _ pid st <<< "$t"
    alive "$pid" "$st" && left=1
  done
  [ "$left" = 0 ] && break
  if [ "$SECONDS" -ge "$deadline" ]; then
    for t in "${TARGETS[@]}"; do
      read -r name pid st <<< "$t"
      if alive "$pid" "$st"; then
        echo "$name: pid $pid ignored TERM for ${TIMEOUT}s, sending KILL" >&2
        kill -KILL "$pid" 2> /dev/null
      fi
    done
    sleep 0.5
    break
  fi
  # children left behind by a parent that already exited get their own TERM
  for t in "${TARGETS[@]}"; do
    read -r name pid st <<< "$t"
    [[ "$name" == *-child ]] || continue
    parent=${name%-child}
    read -r ppid pst < "$RUN/pids/$parent.pid" 2> /dev/null || continue
    if ! alive "$ppid" "$pst" && alive "$pid" "$st"; then kill -TERM "$pid" 2> /dev/null; fi
  done
  sleep 0.1
done

rc=0
for t in "${TARGETS[@]}"; do
  read -r name pid st <<< "$t"
  if [[ "$name" == *-child ]]; then
    if alive "$pid" "$st"; then
      echo "$name: pid $pid still alive" >&2
      rc=1
    fi
    continue
  fi
  if alive "$pid" "$st"; then
    echo "$name: pid $pid still alive" >&2
    rc=1
  else
    printf '%-11s stopped (pid %s)\n' "$name" "$pid"
    rm -f "$RUN/pids/$name.pid"
  fi
done
[ "$rc" = 0 ] && echo "all stopped in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s"
exit $rc
