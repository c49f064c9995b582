#!/usr/bin/env bash
# Stop the daemons started by start-rgw.sh (by their pid files only, never by name) and remove CEPH_DIR.
# Env: CEPH_DIR (default /tmp/ceph-rgw); KEEP_CEPH_DIR=1 keeps the folder (logs);
#      RGW_STOP_GRACE: 0 (default) = SIGKILL at once: the cluster is throw-away and holds its data in
#      RAM, so there is nothing to shut down cleanly (~30 ms). N > 0 = SIGTERM the daemons one by one
#      (rgw, osd, mon: ~2 s each) and SIGKILL any still running after N seconds. Signalling them all
#      at once is slow: the OSD waits 5 s for the dead monitor, or RGW 120 s for the dead OSD.
CEPH_DIR=${CEPH_DIR:-/tmp/ceph-rgw}
GRACE=${RGW_STOP_GRACE:-0}

# A pid file can outlive its process and the pid be reused: only signal a pid whose command line
# is the program we expect.
is_ours() { # pid expected-program
  local cmd
  cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  case "$cmd" in *"$2"*) return 0 ;; *) return 1 ;; esac
}
# Gone: no such process, or a zombie (the daemons are reparented to pid 1, which in some containers
# never reaps them).
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

wd=$CEPH_DIR/run/watchdog.pid
if [ -f "$wd" ]; then
  pid=$(cat "$wd")
  rm -f "$wd"
  [ -n "$pid" ] && is_ours "$pid" rgw-watchdog && kill -TERM "$pid" 2>/dev/null
fi
for spec in client.rgw.gw:radosgw osd.0:ceph-osd mon.a:ceph-mon; do
  name=${spec%%:*} prog=${spec##*:}
  pf=$CEPH_DIR/run/ceph-$name.pid
  [ -f "$pf" ] || continue
  pid=$(cat "$pf" 2>/dev/null)
  [ -n "$pid" ] && is_ours "$pid" "$prog" || continue
  if [ "$GRACE" = 0 ]; then
    kill -KILL "$pid" 2>/dev/null
  else
    kill -TERM "$pid" 2>/dev/null
    deadline=$(($(date +%s%N) + GRACE * 1000000000))
    while alive "$pid"; do
      if [ "$(date +%s%N)" -ge "$deadline" ]; then kill -KILL "$pid" 2>/dev/null; fi
      sleep 0.1
    done
  fi
done
[ "${KEEP_CEPH_DIR:-0}" = 1 ] || rm -rf "$CEPH_DIR"
exit 0
