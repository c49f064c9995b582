#!/usr/bin/env bash
# Start a throw-away single-node Ceph (1 monitor + 1 memstore OSD) + RGW S3 gateway on 127.0.0.1,
# for tests. No systemd, auth off, nothing outside $CEPH_DIR, data in RAM: nothing survives a stop.
# Works as root or as an unprivileged user. Stop with stop-rgw.sh (by pid file; it removes CEPH_DIR).
# Tested with Ceph 16.2.15 from Debian 12; used by test/harness/rgw.ts.
#
# Env:
#   CEPH_DIR         where everything lives (default /tmp/ceph-rgw); must not exist or be empty
#   RGW_PORT         S3 port (default 7480)        MON_PORT  monitor port (default 40789)
#   MEMSTORE_BYTES   OSD capacity in RAM (default 2 GiB; writes fail at ~95% full)
#   S3_ACCESS_KEY / S3_SECRET_KEY   the fixed test user's keys (uid "tester")
#   RGW_WATCH_PID    if set: a detached watchdog stops this instance when that process is gone
#                    (so a crashed or SIGKILLed test run leaves no daemons behind)
#   RGW_WATCH_RMDIR  folder the watchdog also removes then (e.g. the parent holding CEPH_DIR)
#   RGW_START_TIMEOUT  seconds each phase may take before giving up (default 60)
# Needs: radosgw ceph-mon ceph-osd ceph-common (apt-get install -y --no-install-recommends ...),
#        uuidgen (uuid-runtime), curl, timeout (coreutils).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CEPH_DIR=${CEPH_DIR:-/tmp/ceph-rgw}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-40789}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-2147483648}
S3_ACCESS_KEY=${S3_ACCESS_KEY:-TESTACCESSKEY0000001}
S3_SECRET_KEY=${S3_SECRET_KEY:-testsecretkey000000000000000000000000001}
RGW_START_TIMEOUT=${RGW_START_TIMEOUT:-60}

T0=$(date +%s%N)
ph() { local ms=$((($(date +%s%N) - T0) / 1000000)); printf '[%d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2; }
die() { echo "start-rgw: $*" >&2; exit 1; }

# --- preconditions -----------------------------------------------------------------------------
missing=()
for b in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool uuidgen curl timeout; do
  command -v "$b" >/dev/null 2>&1 || missing+=("$b")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "start-rgw: missing programs: ${missing[*]}" >&2
  echo "start-rgw: run .ci/run or apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd ceph-common uuid-runtime curl" >&2
  exit 127
fi
case "$CEPH_DIR" in /*) ;; *) CEPH_DIR="$PWD/$CEPH_DIR" ;; esac
# Unix sockets are limited to 107 bytes: "$CEPH_DIR/run/ceph-client.rgw.gw.asok" must fit.
[ ${#CEPH_DIR} -le 70 ] || die "CEPH_DIR is too long for Ceph's admin sockets (max 70 chars): $CEPH_DIR"
if [ -e "$CEPH_DIR" ] && [ -n "$(ls -A "$CEPH_DIR" 2>/dev/null)" ]; then
  die "$CEPH_DIR exists and is not empty; run stop-rgw.sh first (it removes it)"
fi
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$RGW_PORT" "$MON_PORT"; do
  port_busy "$p" && die "port $p on 127.0.0.1 is already in use (choose RGW_PORT / MON_PORT)"
done

mkdir -p "$CEPH_DIR"/{mon/ceph-a,osd/ceph-0,rgw/ceph-rgw.gw,log,run}
echo "$RGW_PORT $MON_PORT" >"$CEPH_DIR/ports"
CONF=$CEPH_DIR/ceph.conf
export CEPH_CONF=$CONF

# On any failure: show the daemons' last log lines, stop what was started, keep the logs for a look.
on_error() {
  local rc=$?
  echo "start-rgw: startup failed (exit $rc); last log lines:" >&2
  for f in "$CEPH_DIR"/log/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done
  KEEP_CEPH_DIR=1 bash "$HERE/stop-rgw.sh" >&2 || true
  exit "$rc"
}
trap on_error ERR

# --- watchdog: stop this instance when its owner process is gone --------------------------------
if [ -n "${RGW_WATCH_PID:-}" ]; then
  START_PID=$$
  # setsid + closed stdio: survives the owner's death and never holds the owner's pipes open.
  setsid bash -c '
    owner=$1 starter=$2 dir=$3 stop=$4 rmdir=$5
    while kill -0 "$owner" 2>/dev/null && [ -d "$dir/run" ]; do sleep 1; done
    while kill -0 "$starter" 2>/dev/null; do sleep 0.5; done   # let a running start finish first
    [ -d "$dir/run" ] || exit 0                                  # stopped normally
    rm -f "$dir/run/watchdog.pid"
    CEPH_DIR="$dir" bash "$stop"
    [ -n "$rmdir" ] && rm -rf "$rmdir"
  ' rgw-watchdog "$RGW_WATCH_PID" "$START_PID" "$CEPH_DIR" "$HERE/stop-rgw.sh" "${RGW_WATCH_RMDIR:-}" \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$CEPH_DIR/run/watchdog.pid"
fi

FSID=$(uuidgen)
cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
ms bind msgr2 = false
ms bind ipv6 = false
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
keyring = $CEPH_DIR/\$cluster.\$name.keyring
run dir = $CEPH_DIR/run
admin socket = $CEPH_DIR/run/\$cluster-\$name.asok
log file = $CEPH_DIR/log/\$cluster-\$name.log
pid file = $CEPH_DIR/run/\$cluster-\$name.pid
log to stderr = false
err to stderr = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0

[mon]
mon data = $CEPH_DIR/mon/\$cluster-\$id
mon allow pool delete = true
paxos propose interval = 0.05
paxos min wait = 0.01

[osd]
osd data = $CEPH_DIR/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
# The OSD would place itself in the CRUSH map with a mon command sent at init, which races with its
# first monmap ("mon_cmd_maybe_osd_create fail: 'wrong fsid'", fsid 0000... in the mon log) and then
# fails its start. We place it with the CLI (retried) instead, before starting it.
osd crush update on start = false
osd class update on start = false

[client.rgw.gw]
rgw data = $CEPH_DIR/rgw/\$cluster-\$id
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw thread pool size = 64
rgw dynamic resharding = false
EOF

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds or the deadline passes.
wait_for() {
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# A mon command sent before the client has its first monmap carries fsid 0 and is refused with EPERM
# "wrong fsid" (seen with the ceph CLI and inside ceph-osd, ~1 start in 3 on 2 cores): retry. The
# commands used here are idempotent (`osd new UUID` returns the same id for the same UUID).
cephcli() {
  local i
  for i in 1 2 3 4 5 6; do
    timeout 30 ceph "$@" && return 0
    sleep 0.3
  done
  return 1
}

# --- monitor -------------------------------------------------------------------------------------
ceph-authtool --create-keyring "$CEPH_DIR/ceph.mon.a.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v1:127.0.0.1:$MON_PORT]" "$CEPH_DIR/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$CEPH_DIR/monmap" --keyring "$CEPH_DIR/ceph.mon.a.keyring"
ceph-mon -i a # daemonizes, writes its pid file to $CEPH_DIR/run/ceph-mon.a.pid
wait_for "$RGW_START_TIMEOUT" timeout 5 ceph -s || die "monitor did not come up"
ph mon up

# --- OSD (memstore) ------------------------------------------------------------------------------
OSD_UUID=$(uuidgen)
OSD_ID=$(cephcli osd new "$OSD_UUID")
cephcli osd crush add "osd.$OSD_ID" 1.0 root=default host=localhost >/dev/null 2>&1
ceph-osd -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" 2>&1 | grep -v "^$" | grep -v "memstore(" >&2 || true
for attempt in 1 2 3; do # safety net for startup races under heavy load
  if out=$(ceph-osd -i "$OSD_ID" 2>&1); then break; fi
  echo "$out" >&2
  echo "start-rgw: ceph-osd start failed (attempt $attempt)" >&2
  [ "$attempt" = 3 ] && die "ceph-osd did not start"
  sleep 1
done
osd_up() { timeout 5 ceph osd dump 2>/dev/null | grep -q "^osd.$OSD_ID up"; }
wait_for "$RGW_START_TIMEOUT" osd_up || die "osd.$OSD_ID did not come up"
ph osd up

# --- RGW -----------------------------------------------------------------------------------------
# radosgw creates its pools with mon commands at init (the same race as above can kill it): if it
# exits before it answers, start it again.
rgw_pidfile=$CEPH_DIR/run/ceph-client.rgw.gw.pid
rgw_answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$RGW_PORT/"; }
rgw_started=0
for attempt in 1 2 3; do
  rm -f "$rgw_pidfile"
  radosgw -n client.rgw.gw || { echo "start-rgw: radosgw failed to start (attempt $attempt)" >&2; sleep 1; continue; }
  deadline=$(($(date +%s) + RGW_START_TIMEOUT))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if rgw_answers; then rgw_started=1; break; fi
    pid=$(cat "$rgw_pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  [ "$rgw_started" = 1 ] && break
  echo "start-rgw: radosgw exited or hung during startup (attempt $attempt)" >&2
  pid=$(cat "$rgw_pidfile" 2>/dev/null || true)
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
done
[ "$rgw_started" = 1 ] || die "radosgw did not answer on port $RGW_PORT"
ph rgw listening
create_user() {
  timeout 60 radosgw-admin -n client.admin user create --uid=tester --display-name="Test User" \
    --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >/dev/null && return 0
  # a first attempt may have created it before failing
  timeout 60 radosgw-admin -n client.admin user info --uid=tester 2>/dev/null | grep -q "$S3_ACCESS_KEY"
}
for attempt in 1 2 3 4; do
  create_user && break
  [ "$attempt" = 4 ] && die "could not create the test user"
  sleep 0.5
done

trap - ERR
MS=$((($(date +%s%N) - T0) / 1000000))
echo "RGW ready on http://127.0.0.1:$RGW_PORT  access=$S3_ACCESS_KEY secret=$S3_SECRET_KEY"
echo "CEPH_CONF=$CONF"
printf 'startup seconds: %d.%03d\n' $((MS / 1000)) $((MS % 1000))
