#!/usr/bin/env bash
# A throwaway Request Tracker 5 for `make test-integrations`: Debian's request-tracker5 (installed
# here when missing), a SQLite database and RT's standalone server on 127.0.0.1, all in a temporary
# folder; an auth token for root. Runs the command given as arguments with CANDOR_TEST_RT_URL and
# CANDOR_TEST_RT_TOKEN set, then stops RT and removes the folder. Never part of `make test` or CI.
#
#   tests/integrations/rt_setup.sh .venv/bin/python -m pytest -m integrations tests/integration/test_servicedesk_rt.py
set -euo pipefail

RT_HOME=/usr/share/request-tracker5
if [ ! -x "$RT_HOME/libexec/rt-server" ] || ! dpkg -s rt5-db-sqlite >/dev/null 2>&1; then
  apt=apt-get
  [ "$(id -u)" = 0 ] || apt="sudo apt-get"
  $apt update -qq
  # dbconfig-no-thanks: Debian's database set-up is skipped; the database below is our own.
  DEBIAN_FRONTEND=noninteractive $apt install -y -q --no-install-recommends \
    request-tracker5 rt5-db-sqlite rt5-standalone dbconfig-no-thanks
fi

work=$(mktemp -d -t candor-rt-XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
mkdir -p "$work/site.d" "$work/mason"
# Our own site configuration, and an empty RT_SiteConfig.d, so nothing of /etc/request-tracker5 applies.
cat >"$work/RT_SiteConfig.pm" <<EOF
Set(\$rtname, 'candor-test');
Set(\$Organization, 'candor-test.invalid');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, '$work/rt.sqlite');
Set(\$WebPath, '');
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $port);
Set(\$WebBaseURL, '$url');
Set(\$MasonDataDir, '$work/mason');
Set(\$LogToSTDERR, 'warning');
Set(\$LogToSyslog, undef);
Set(\$LogToFile, undef);
Set(\$MailCommand, 'testfile');
1;
EOF
export RT_SITE_CONFIG="$work/RT_SiteConfig.pm" RT_SITE_CONFIG_DIR="$work/site.d"

echo "rt_setup: creating the SQLite database" >&2
/usr/sbin/rt-setup-database-5 --action init >"$work/setup.log" 2>&1 \
  || { cat "$work/setup.log" >&2; exit 1; }

token=$(perl -I"$RT_HOME/lib" -e '
  use strict; use warnings;
  use RT; RT::LoadConfig(); RT::Init();
  my $root = RT::User->new(RT->SystemUser); $root->Load("root") or die "no root user\n";
  my ($id, $msg, $auth) = RT::AuthToken->new(RT->SystemUser)->Create(Owner => $root->Id, Description => "candor-test");
  die "$msg\n" unless $id;
  print $auth;
')

echo "rt_setup: starting RT on $url" >&2
"$RT_HOME/libexec/rt-server" --port "$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  if curl -fsS -o /dev/null -H "Authorization: token $token" "$url/REST/2.0/rt" 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log" >&2; exit 1; fi
  sleep 1
done
curl -fsS -o /dev/null -H "Authorization: token $token" "$url/REST/2.0/rt" || { cat "$work/server.log" >&2; exit 1; }

CANDOR_TEST_RT_URL="$url" CANDOR_TEST_RT_TOKEN="$token" "$@"
