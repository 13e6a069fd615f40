# shellcheck shell=bash disable=SC2034 # globals here are used by the scripts that source this file
# Shared helpers for deploy/local/*.sh. Sourced, never run.
#
# Environment (all optional):
#   FIRESTORM_STACK_DIR   state dir for data, logs, pid files, jars (default <repo>/.stack)
#   FIRESTORM_PYTHON      python with kafka-python (default <repo>/.venv/bin/python, else python3)

if [[ -n "${_FIRESTORM_LIB_SOURCED:-}" ]]; then
  return 0
fi
_FIRESTORM_LIB_SOURCED=1

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${LOCAL_DIR}/../.." && pwd)"
STACK_DIR="${FIRESTORM_STACK_DIR:-${REPO_ROOT}/.stack}"
STACK_DIR="$(realpath -m -- "$STACK_DIR")" # absolute: it ends up in configs and pid checks

log() { printf '[%s] %s\n' "${LOG_TAG:-stack}" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "${LOG_TAG:-stack}" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "${LOG_TAG:-stack}" "$*" >&2
  exit 1
}

# Seconds since the epoch with millisecond resolution, for timings.
now() { date +%s.%N; }
# elapsed START -> "12.3"
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }

# Integer check for port-like settings.
require_int() {
  local name="$1" value="$2"
  [[ "$value" =~ ^[0-9]+$ ]] || die "$name must be an integer, got '$value'"
}

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# pid_alive PID: true when PID is a live (non-zombie) process.
pid_alive() {
  local pid="$1" state
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ "$state" != "Z" ]]
}

# pid_cmdline_has PID TEXT: true when the process's command line contains TEXT
# (guards against a stale pid file pointing at a recycled pid).
pid_cmdline_has() {
  local pid="$1" text="$2"
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$text"
}

# read_pid FILE: prints the pid stored in FILE, or nothing.
read_pid() {
  local file="$1" pid=""
  if [[ -f "$file" ]]; then
    pid="$(tr -dc '0-9' <"$file")"
  fi
  printf '%s' "$pid"
}

# stop_pid PID TIMEOUT NAME: SIGTERM, wait up to TIMEOUT seconds, then SIGKILL.
stop_pid() {
  local pid="$1" timeout="$2" name="$3" waited=0
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if ((waited >= timeout * 10)); then
      warn "$name (pid $pid) still running after ${timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  if pid_alive "$pid"; then
    die "$name (pid $pid) did not exit"
  fi
}

# Python interpreter for readiness checks: FIRESTORM_PYTHON, the repo's venv, python3.
firestorm_python() {
  if [[ -n "${FIRESTORM_PYTHON:-}" ]]; then
    printf '%s' "$FIRESTORM_PYTHON"
  elif [[ -x "${REPO_ROOT}/.venv/bin/python" ]]; then
    printf '%s' "${REPO_ROOT}/.venv/bin/python"
  else
    command -v python3 || true
  fi
}

# Create the state dir, ignored by git from the inside (whatever the root .gitignore says).
ensure_stack_dir() {
  mkdir -p "$STACK_DIR"
  if [[ ! -f "${STACK_DIR}/.gitignore" ]]; then
    printf '# created by deploy/local: local stack state (data, logs, jars, pids)\n*\n' \
      >"${STACK_DIR}/.gitignore"
  fi
}

# Run a command as root: directly when root, else through sudo.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# show_logs FILE [-f]: print where a service logs and its tail (-f: follow).
show_logs() {
  local file="$1"
  [[ -f "$file" ]] || die "no log yet at $file"
  log "$file"
  if [[ "${2:-}" == "-f" ]]; then
    exec tail -n 50 -F "$file"
  fi
  tail -n 100 "$file"
}
