#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Single-node Apache Kafka (KRaft, combined broker+controller) on 127.0.0.1,
# run from Maven Central jars (deploy/local/pom.xml). No Docker, no ZooKeeper.
set -euo pipefail
set +m # no job control: the broker must not get its own process group via bash

LOG_TAG=kafka
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

KAFKA_PORT="${FIRESTORM_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${FIRESTORM_KAFKA_CONTROLLER_PORT:-9093}"
PARTITIONS="${FIRESTORM_KAFKA_PARTITIONS:-1}"
SASL_SSL_PORT="${FIRESTORM_KAFKA_SASL_SSL_PORT:-}" # empty: no SASL_SSL listener
HEAP_OPTS="${FIRESTORM_KAFKA_HEAP_OPTS:--Xms512m -Xmx1g}"
START_TIMEOUT="${FIRESTORM_KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${FIRESTORM_KAFKA_STOP_TIMEOUT:-30}"
require_int FIRESTORM_KAFKA_PORT "$KAFKA_PORT"
require_int FIRESTORM_KAFKA_CONTROLLER_PORT "$CONTROLLER_PORT"
require_int FIRESTORM_KAFKA_PARTITIONS "$PARTITIONS"
[[ -z "$SASL_SSL_PORT" ]] || require_int FIRESTORM_KAFKA_SASL_SSL_PORT "$SASL_SSL_PORT"
require_int FIRESTORM_KAFKA_START_TIMEOUT "$START_TIMEOUT"
require_int FIRESTORM_KAFKA_STOP_TIMEOUT "$STOP_TIMEOUT"

KAFKA_HOME="${STACK_DIR}/kafka"
LIBS_DIR="${FIRESTORM_KAFKA_LIBS:-${STACK_DIR}/kafka-libs}"
DATA_DIR="${KAFKA_HOME}/data"
LOGS_DIR="${KAFKA_HOME}/logs"
CONFIG="${KAFKA_HOME}/server.properties"
LOG4J_CONFIG="${KAFKA_HOME}/log4j.properties"
PID_FILE="${KAFKA_HOME}/kafka.pid"
SERVER_LOG="${LOGS_DIR}/server.log"
CONSOLE_LOG="${LOGS_DIR}/console.out"
POM="${LOCAL_DIR}/pom.xml"
BOOTSTRAP="127.0.0.1:${KAFKA_PORT}"
TLS_DIR="${KAFKA_HOME}/tls"
CLIENT_ENV="${TLS_DIR}/client.env"
SCRAM_USER="firestorm"

usage() {
  cat <<EOF
Usage: $(basename "$0") {start|stop|status|logs [-f]|smoke|jars}

  start    fetch jars if needed, format storage on first run, start the broker,
           wait until it answers a metadata request (idempotent)
  stop     SIGTERM, wait ${STOP_TIMEOUT}s, then SIGKILL (idempotent)
  status   exit 0 when running and answering, 3 when stopped, 1 when unhealthy
  logs     tail the broker log (-f to follow)
  smoke    produce one message and consume it back (kafka-python)
  jars     only fetch the broker jars (mvn) into ${LIBS_DIR}

Environment:
  FIRESTORM_STACK_DIR              state dir (default <repo>/.stack; now ${STACK_DIR})
  FIRESTORM_KAFKA_PORT             client port (default 9092)
  FIRESTORM_KAFKA_CONTROLLER_PORT  KRaft controller port (default 9093)
  FIRESTORM_KAFKA_PARTITIONS       num.partitions default of topics created without a count (1)
  FIRESTORM_KAFKA_SASL_SSL_PORT    also listen with SASL_SSL (TLS + SCRAM-SHA-512/256) on
                                   this port; user "firestorm", client settings written to
                                   \$FIRESTORM_STACK_DIR/kafka/tls/client.env (default: off)
  FIRESTORM_KAFKA_SASL_PASSWORD    the SCRAM password of "firestorm" (default: generated)
  FIRESTORM_KAFKA_HEAP_OPTS        JVM heap (default "-Xms512m -Xmx1g")
  FIRESTORM_KAFKA_START_TIMEOUT    seconds to wait for readiness (default 120)
  FIRESTORM_KAFKA_STOP_TIMEOUT     seconds before SIGKILL on stop (default 30)
  FIRESTORM_KAFKA_LIBS             jar folder (default \$FIRESTORM_STACK_DIR/kafka-libs)
  FIRESTORM_PYTHON                 python with kafka-python (default <repo>/.venv/bin/python)
  JAVA_HOME                        Java 17+ (default: java on PATH)
EOF
}

java_bin() {
  if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
    printf '%s' "${JAVA_HOME}/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    die "java not found: install openjdk-17-jre-headless or set JAVA_HOME"
  fi
}

# The jar folder is rebuilt whenever pom.xml changes (sha256 kept in a stamp),
# so a version bump never leaves two Kafka versions on the classpath.
ensure_jars() {
  local stamp="${LIBS_DIR}/.pom.sha256" want have="" t0
  want="$(sha256sum "$POM" | awk '{ print $1 }')"
  [[ -f "$stamp" ]] && have="$(cat "$stamp")"
  if [[ "$want" == "$have" ]] && compgen -G "${LIBS_DIR}/kafka_2.13-*.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: install maven (apt-get install maven)"
  log "fetching Kafka jars with Maven into ${LIBS_DIR} (~/.m2 caches them)"
  t0="$(now)"
  rm -rf "$LIBS_DIR"
  mkdir -p "$LIBS_DIR"
  mkdir -p "$LOGS_DIR"
  # mvn -q still prints ANSI resets on success: keep its output in a file.
  if ! mvn -B -q -Dstyle.color=never -f "$POM" -Dfirestorm.kafka.libs="$LIBS_DIR" package \
    </dev/null >"${LOGS_DIR}/mvn.log" 2>&1; then
    tail -n 40 "${LOGS_DIR}/mvn.log" >&2
    die "mvn failed to fetch the Kafka jars (full output: ${LOGS_DIR}/mvn.log)"
  fi
  printf '%s\n' "$want" >"$stamp"
  log "jars ready in $(elapsed "$t0")s: $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars"
}

write_config() {
  mkdir -p "$DATA_DIR" "$LOGS_DIR"
  local listeners="PLAINTEXT://127.0.0.1:${KAFKA_PORT}" protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [[ -n "$SASL_SSL_PORT" ]]; then
    listeners+=",SASL_SSL://127.0.0.1:${SASL_SSL_PORT}"
    protocols+=",SASL_SSL:SASL_SSL"
  fi
  cat >"$CONFIG" <<EOF
# Generated by deploy/local/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${CONTROLLER_PORT}
listeners=${listeners},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}
advertised.listeners=${listeners}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=${protocols}
log.dirs=${DATA_DIR}

# Small box (2 cores): few threads.
num.network.threads=2
num.io.threads=2
background.threads=4
num.replica.fetchers=1
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1

# Single node: everything replicated once.
num.partitions=${PARTITIONS}
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1

# Fast first group join. No topic is created by a client that merely writes to or
# reads from it: a typo'd topic must fail loudly, not swallow what was sent to it.
# The worker creates its topics (and Faust its internal ones) through the admin API.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true

# Local dev retention: a day, 128 MiB segments.
log.retention.hours=24
log.segment.bytes=134217728
log.retention.check.interval.ms=300000
EOF
  if [[ -n "$SASL_SSL_PORT" ]]; then
    local store_password
    store_password="$(cat "${TLS_DIR}/store.password")"
    cat >>"$CONFIG" <<EOF

# SASL_SSL listener (FIRESTORM_KAFKA_SASL_SSL_PORT): TLS with a self-signed certificate
# for 127.0.0.1 and localhost (clients trust ${TLS_DIR}/ca.pem), SCRAM logins.
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=${TLS_DIR}/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=${store_password}
listener.name.sasl_ssl.ssl.key.password=${store_password}
EOF
  fi
  cat >"$LOG4J_CONFIG" <<'EOF'
# Generated by deploy/local/kafka.sh. Logs go to ${kafka.logs.dir}.
log4j.rootLogger=INFO, kafkaAppender

log4j.appender.kafkaAppender=org.apache.log4j.RollingFileAppender
log4j.appender.kafkaAppender.File=${kafka.logs.dir}/server.log
log4j.appender.kafkaAppender.MaxFileSize=20MB
log4j.appender.kafkaAppender.MaxBackupIndex=3
log4j.appender.kafkaAppender.layout=org.apache.log4j.PatternLayout
log4j.appender.kafkaAppender.layout.ConversionPattern=[%d] %p %m (%c)%n

log4j.appender.stateChangeAppender=org.apache.log4j.RollingFileAppender
log4j.appender.stateChangeAppender.File=${kafka.logs.dir}/state-change.log
log4j.appender.stateChangeAppender.MaxFileSize=10MB
log4j.appender.stateChangeAppender.MaxBackupIndex=2
log4j.appender.stateChangeAppender.layout=org.apache.log4j.PatternLayout
log4j.appender.stateChangeAppender.layout.ConversionPattern=[%d] %p %m (%c)%n

log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=INFO, stateChangeAppender
log4j.additivity.state.change.logger=false
EOF
}

# The SASL_SSL listener's key and self-signed certificate (made once, with the JDK's
# keytool), and the SCRAM password of the user "firestorm".
ensure_tls() {
  [[ -n "$SASL_SSL_PORT" ]] || return 0
  mkdir -p "$TLS_DIR"
  chmod 700 "$TLS_DIR"
  local keytool
  keytool="$(dirname "$(readlink -f "$(java_bin)")")/keytool"
  [[ -x "$keytool" ]] || keytool="$(command -v keytool || true)"
  [[ -n "$keytool" ]] || die "keytool not found (it comes with the JDK): install openjdk-17-jdk-headless"
  if [[ ! -s "${TLS_DIR}/broker.p12" ]]; then
    od -An -N18 -tx1 /dev/urandom | tr -d ' \n' >"${TLS_DIR}/store.password"
    local pw
    pw="$(cat "${TLS_DIR}/store.password")"
    "$keytool" -genkeypair -keystore "${TLS_DIR}/broker.p12" -storetype PKCS12 -storepass "$pw" \
      -keypass "$pw" -alias broker -keyalg RSA -keysize 2048 -validity 3650 \
      -dname "CN=localhost, O=Firestorm local stack" -ext "SAN=ip:127.0.0.1,dns:localhost" \
      >"${LOGS_DIR}/keytool.log" 2>&1 || die "keytool failed (see ${LOGS_DIR}/keytool.log)"
    "$keytool" -exportcert -rfc -keystore "${TLS_DIR}/broker.p12" -storepass "$pw" -alias broker \
      >"${TLS_DIR}/ca.pem" 2>>"${LOGS_DIR}/keytool.log" || die "keytool could not export the certificate"
    log "made a self-signed TLS certificate for the SASL_SSL listener: ${TLS_DIR}/ca.pem"
  fi
  if [[ -n "${FIRESTORM_KAFKA_SASL_PASSWORD:-}" ]]; then
    printf '%s' "$FIRESTORM_KAFKA_SASL_PASSWORD" >"${TLS_DIR}/client.password"
  elif [[ ! -s "${TLS_DIR}/client.password" ]]; then
    od -An -N18 -tx1 /dev/urandom | tr -d ' \n' >"${TLS_DIR}/client.password"
  fi
  chmod 600 "${TLS_DIR}"/*
}

# After the broker is up: the SCRAM user (through the PLAINTEXT listener), then one
# metadata call over SASL_SSL with it; write the settings a client needs.
enable_sasl_user() {
  [[ -n "$SASL_SSL_PORT" ]] || return 0
  cat >"$CLIENT_ENV" <<EOF
# Firestorm settings for the local broker's SASL_SSL listener (deploy/local/kafka.sh).
# Use them with:  set -a; source ${CLIENT_ENV}; set +a
FIRESTORM_KAFKA_BOOTSTRAP=127.0.0.1:${SASL_SSL_PORT}
FIRESTORM_KAFKA_SECURITY_PROTOCOL=SASL_SSL
FIRESTORM_KAFKA_SASL_MECHANISM=SCRAM-SHA-512
FIRESTORM_KAFKA_SASL_USERNAME=${SCRAM_USER}
FIRESTORM_KAFKA_SASL_PASSWORD=$(cat "${TLS_DIR}/client.password")
FIRESTORM_KAFKA_SSL_CAFILE=${TLS_DIR}/ca.pem
EOF
  chmod 600 "$CLIENT_ENV"
  local py out
  py="$(firestorm_python)"
  "$py" -c 'import kafka' 2>/dev/null || die "the SASL_SSL listener needs kafka-python in $py (make install)"
  out="$("$py" "${LOCAL_DIR}/kafka_check.py" scram --bootstrap "$BOOTSTRAP" --client-env "$CLIENT_ENV" --timeout 10 2>&1)" \
    || die "SASL_SSL listener on 127.0.0.1:${SASL_SSL_PORT} not usable: ${out}"
  log "SASL_SSL on 127.0.0.1:${SASL_SSL_PORT}: ${out}; client settings in ${CLIENT_ENV}"
}

java_opts() {
  local -a opts
  # shellcheck disable=SC2206 # heap options are meant to be split into words
  opts=(${HEAP_OPTS})
  # Kafka's own JVM performance flags (bin/kafka-run-class.sh).
  opts+=(-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true
    -XX:+ExitOnOutOfMemoryError
    "-Xlog:gc*:file=${LOGS_DIR}/gc.log:time,tags:filecount=3,filesize=10M"
    "-Dkafka.logs.dir=${LOGS_DIR}" "-Dlog4j.configuration=file:${LOG4J_CONFIG}"
    -cp "${LIBS_DIR}/*")
  printf '%s\n' "${opts[@]}"
}

# JVM options for short-lived tools (StorageTool, BrokerApiVersionsCommand).
tool_opts() {
  printf '%s\n' -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "-Dkafka.logs.dir=${LOGS_DIR}" "-Dlog4j.configuration=file:${LOG4J_CONFIG}" -cp "${LIBS_DIR}/*"
}

running_pid() {
  local pid
  pid="$(read_pid "$PID_FILE")"
  if [[ -n "$pid" ]] && pid_alive "$pid" && pid_cmdline_has "$pid" "$CONFIG"; then
    printf '%s' "$pid"
  fi
}

# One real metadata call. Prefers kafka-python; falls back to Kafka's own
# BrokerApiVersionsCommand (a JVM start, slower) when it is not installed.
metadata_check() {
  local py
  py="$(firestorm_python)"
  if [[ -n "$py" ]] && "$py" -c 'import kafka' 2>/dev/null; then
    "$py" "${LOCAL_DIR}/kafka_check.py" ready --bootstrap "$BOOTSTRAP" --timeout 5
  else
    local -a opts
    mapfile -t opts < <(tool_opts)
    timeout 30 "$(java_bin)" "${opts[@]}" kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$BOOTSTRAP" >/dev/null 2>&1 \
      && echo "broker answered ApiVersions (kafka-python not found, used the JVM tool)"
  fi
}

# Tail of what this start wrote: the JVM console (truncated at each start) and
# the part of server.log appended since LOG_OFFSET.
LOG_OFFSET=0
print_log_tail() {
  if [[ -s "$CONSOLE_LOG" ]]; then
    echo "----- last 30 lines of $CONSOLE_LOG -----" >&2
    tail -n 30 "$CONSOLE_LOG" >&2
  fi
  if [[ -f "$SERVER_LOG" ]] && (($(stat -c %s "$SERVER_LOG") > LOG_OFFSET)); then
    echo "----- last 30 lines written to $SERVER_LOG by this start -----" >&2
    tail -c "+$((LOG_OFFSET + 1))" "$SERVER_LOG" | tail -n 30 >&2
  fi
}

format_storage() {
  local java="$1" cluster_id t0
  shift
  if [[ -f "${DATA_DIR}/meta.properties" ]]; then
    return 0
  fi
  t0="$(now)"
  log "first start: formatting KRaft storage in ${DATA_DIR}"
  cluster_id="$("$java" "$@" kafka.tools.StorageTool random-uuid 2>>"$CONSOLE_LOG")" \
    || die "StorageTool random-uuid failed (see $CONSOLE_LOG)"
  "$java" "$@" kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" \
    --ignore-formatted >>"$CONSOLE_LOG" 2>&1 || {
    print_log_tail
    die "StorageTool format failed"
  }
  log "formatted (cluster id ${cluster_id}) in $(elapsed "$t0")s"
}

cmd_start() {
  ensure_stack_dir
  local pid java t0 deadline out port
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    log "already running (pid $pid) on ${BOOTSTRAP}"
    enable_sasl_user
    return 0
  fi
  t0="$(now)"
  for port in "$KAFKA_PORT" "$CONTROLLER_PORT" ${SASL_SSL_PORT:+"$SASL_SSL_PORT"}; do
    if port_open "$port"; then
      die "port $port on 127.0.0.1 is already in use by another process (not our broker: no live pid in $PID_FILE)"
    fi
  done
  [[ "$KAFKA_PORT" != "$CONTROLLER_PORT" ]] || die "client and controller ports must differ"
  java="$(java_bin)"
  ensure_jars
  ensure_tls
  write_config
  local -a opts tools
  mapfile -t opts < <(java_opts)
  mapfile -t tools < <(tool_opts)
  : >"$CONSOLE_LOG"
  if [[ -f "$SERVER_LOG" ]]; then
    LOG_OFFSET="$(stat -c %s "$SERVER_LOG")"
  fi
  format_storage "$java" "${tools[@]}"

  log "starting broker on ${BOOTSTRAP} (controller 127.0.0.1:${CONTROLLER_PORT})"
  # setsid: own session, so the broker outlives this shell and its terminal.
  nohup setsid "$java" "${opts[@]}" kafka.Kafka "$CONFIG" >>"$CONSOLE_LOG" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"

  deadline=$(($(date +%s) + START_TIMEOUT))
  while :; do
    if ! pid_alive "$pid"; then
      rm -f "$PID_FILE"
      print_log_tail
      die "broker JVM exited during startup"
    fi
    if port_open "$KAFKA_PORT"; then
      if out="$(metadata_check 2>&1)"; then
        break
      fi
    else
      out="port ${KAFKA_PORT} not open yet"
    fi
    if (($(date +%s) >= deadline)); then
      print_log_tail
      warn "last readiness check: ${out}"
      die "broker not ready after ${START_TIMEOUT}s (still running as pid $pid; '$0 stop' to stop it)"
    fi
    sleep 0.5
  done
  enable_sasl_user
  log "ready in $(elapsed "$t0")s (pid $pid): ${out}"
  log "logs: ${SERVER_LOG} (JVM console: ${CONSOLE_LOG})"
}

cmd_stop() {
  local pid
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping broker (pid $pid, SIGTERM, SIGKILL after ${STOP_TIMEOUT}s)"
  local t0
  t0="$(now)"
  stop_pid "$pid" "$STOP_TIMEOUT" "broker"
  rm -f "$PID_FILE"
  log "stopped in $(elapsed "$t0")s"
}

cmd_status() {
  local pid out
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    log "stopped (state dir ${KAFKA_HOME})"
    return 3
  fi
  if out="$(metadata_check 2>&1)"; then
    log "running (pid $pid) on ${BOOTSTRAP}: ${out}"
    return 0
  fi
  log "running (pid $pid) but NOT answering on ${BOOTSTRAP}: ${out}"
  return 1
}

cmd_logs() { show_logs "$SERVER_LOG" "${1:-}"; }

cmd_smoke() {
  local py
  py="$(firestorm_python)"
  [[ -n "$py" ]] || die "no python found (set FIRESTORM_PYTHON)"
  [[ -n "$(running_pid)" ]] || die "broker not running ('$0 start')"
  "$py" "${LOCAL_DIR}/kafka_check.py" smoke --bootstrap "$BOOTSTRAP" --timeout 20
}

main() {
  case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    logs) cmd_logs "${2:-}" ;;
    smoke) cmd_smoke ;;
    jars)
      ensure_stack_dir
      ensure_jars
      ;;
    -h | --help | help)
      usage
      ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

# Run unless sourced (tests source the script to call single functions).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
