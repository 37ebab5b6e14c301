#!/usr/bin/env bash
# Installs (Debian packages) and starts a throwaway Postfix relay for the SMTP integration test.
#   scripts/postfix.sh start   -> prints host:port on stdout (idempotent)
#   scripts/postfix.sh stop
# It is a Postfix instance of its own (postfix -c $DIR/etc): its own main.cf, master.cf, queue
# and log under $KAIROS_POSTFIX_DIR (default /tmp/kairos-postfix); a system Postfix, if any, is
# left alone. It listens on 127.0.0.1:$KAIROS_POSTFIX_PORT (2525), accepts mail from
# 127.0.0.0/8 only, delivers nothing locally and relays everything to
# [127.0.0.1]:$KAIROS_POSTFIX_RELAY_PORT (2526), where the test runs its sink. No chroot, no
# syslog (Postfix logs to $DIR/maillog), no systemd: it runs wherever we are root.
set -euo pipefail

DIR=${KAIROS_POSTFIX_DIR:-/tmp/kairos-postfix}
PORT=${KAIROS_POSTFIX_PORT:-2525}
RELAY_PORT=${KAIROS_POSTFIX_RELAY_PORT:-2526}
# The configuration directory must hold only root's files, so the queue is beside it.
CONF=$DIR/etc

install_postfix() {
  if [ ! -x /usr/sbin/postfix ]; then
    echo "installing Postfix from Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    # "No configuration": the package writes no /etc/postfix/main.cf and starts nothing.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postfix >&2
  fi
}

write_config() {
  mkdir -p "$CONF"
  cat >"$CONF/main.cf" <<EOF
# Written by scripts/postfix.sh: a relay for tests, not a mail server.
compatibility_level = 3.6
queue_directory = $DIR/queue
data_directory = $DIR/data
maillog_file = $DIR/maillog
maillog_file_prefixes = $DIR
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = kairos-postfix.localdomain
mydomain = localdomain
myorigin = \$myhostname
inet_protocols = ipv4
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 local delivery is disabled
alias_maps =
alias_database =
relayhost = [127.0.0.1]:$RELAY_PORT
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtputf8_enable = yes
biff = no
# Retry soon when the sink is not listening yet (the defaults wait minutes).
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
EOF
  cat >"$CONF/master.cf" <<EOF
# service      type  private unpriv chroot wakeup maxproc command
127.0.0.1:$PORT inet n       -      n      -      -       smtpd
pickup         unix  n       -      n      60     1       pickup
cleanup        unix  n       -      n      -      0       cleanup
qmgr           unix  n       -      n      300    1       qmgr
rewrite        unix  -       -      n      -      -       trivial-rewrite
bounce         unix  -       -      n      -      0       bounce
defer          unix  -       -      n      -      0       bounce
trace          unix  -       -      n      -      0       bounce
verify         unix  -       -      n      -      1       verify
flush          unix  n       -      n      1000?  0       flush
proxymap       unix  -       -      n      -      -       proxymap
proxywrite     unix  -       -      n      -      1       proxymap
smtp           unix  -       -      n      -      -       smtp
relay          unix  -       -      n      -      -       smtp
showq          unix  n       -      n      -      -       showq
error          unix  -       -      n      -      -       error
retry          unix  -       -      n      -      -       error
discard        unix  -       -      n      -      -       discard
anvil          unix  -       -      n      -      1       anvil
scache         unix  -       -      n      -      1       scache
postlog        unix-dgram n  -      n      -      1       postlogd
EOF
}

running() {
  /usr/sbin/postfix -c "$CONF" status >/dev/null 2>&1
}

start() {
  install_postfix
  if ! running; then
    write_config
    mkdir -p "$DIR/queue" "$DIR/data"
    chown root:root "$DIR" "$DIR/queue"
    chown postfix:postfix "$DIR/data"
    # The queue's subdirectories with the owners and modes Postfix checks for.
    /usr/sbin/postfix -c "$CONF" set-permissions >&2
    # Errors go to $DIR/maillog (there is no syslog): show it when something fails.
    if ! /usr/sbin/postfix -c "$CONF" start >&2; then
      tail -n 20 "$DIR/maillog" >&2 || true
      return 1
    fi
  fi
  # Wait until the listener answers, at most ~10 s.
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      echo "127.0.0.1:$PORT"
      return 0
    fi
    sleep 0.1
  done
  echo "Postfix did not start listening on 127.0.0.1:$PORT:" >&2
  tail -n 20 "$DIR/maillog" >&2 || true
  return 1
}

stop() {
  if [ -x /usr/sbin/postfix ] && [ -f "$CONF/main.cf" ] && running; then
    /usr/sbin/postfix -c "$CONF" stop >&2 || true
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
