# shellcheck shell=bash
# The library every `make demo` segment sources (see scripts/demo.sh for the story and for how a
# vendor adds its segment). It prints what a user would see and checks every step: a step that
# does not happen stops the demo with a message naming it and a non-zero exit.
#
# What scripts/demo.sh exports for the segments:
#   LOCKSTEP_API_URL, LOCKSTEP_WRITER_URL, LOCKSTEP_POLLER_URL, LOCKSTEP_TOKEN  the CLI's settings
#   DEMO_BIN           directory holding the `lockstep` binary
#   DEMO_SIM_URL       the one itsm-sim process (every vendor it emulates, HTTPS)
#   DEMO_SIM_CA        the emulator's CA certificate (PEM), for curl
#   DEMO_WEBHOOK_BASE  ingest-webhook's base URL; deliveries go to $DEMO_WEBHOOK_BASE/v1/webhooks/<id>
#   DEMO_WORK          a scratch directory, removed at the end
#   DEMO_POLL_SECS     the poll interval segments give their integrations (30 s, the smallest allowed)

DEMO_SEGMENT="${DEMO_SEGMENT:-demo}"
# fd 3 is the terminal's stderr, so `fail` is heard even inside a redirected condition.
exec 3>&2
DEMO_STEP="${DEMO_STEP:-start}"

# ---- output -------------------------------------------------------------------------------------

if [ -t 1 ]; then
  _bold=$'\033[1m' _cyan=$'\033[36m' _mag=$'\033[35m' _green=$'\033[32m' _red=$'\033[31m' _off=$'\033[0m'
else
  _bold='' _cyan='' _mag='' _green='' _red='' _off=''
fi

banner() { printf '\n%s== %s ==%s\n' "$_bold" "$*" "$_off"; }

# step "title": starts a named step; a failure from here on names it.
step() {
  DEMO_STEP="$*"
  printf '\n%s-- [%s] %s%s\n' "$_bold" "$DEMO_SEGMENT" "$DEMO_STEP" "$_off"
}

# ok "what was checked": one line per check that passed.
ok() { printf '%s   ok: %s%s\n' "$_green" "$*" "$_off"; }

# fail "what did not happen": stops the demo, naming the segment and the step.
fail() {
  printf '\n%sDEMO FAILED in %s, step "%s": %s%s\n' "$_red" "$DEMO_SEGMENT" "$DEMO_STEP" "$*" "$_off" >&3
  exit 1
}

# ---- the lockstep CLI ---------------------------------------------------------------------------

# lockstep ARGS...: runs the CLI the way a user types it, showing the command and its output.
lockstep() {
  printf '%s$ lockstep %s%s\n' "$_cyan" "$(_show_args "$@")" "$_off"
  "$DEMO_BIN/lockstep" "$@" || fail "\`lockstep $1 $2\` exited with status $?"
}

# lockstep_json ARGS...: the same command's JSON (-o json), quietly, for the checks.
lockstep_json() {
  "$DEMO_BIN/lockstep" -o json "$@" 2>"$DEMO_WORK/cli.err" ||
    fail "\`lockstep $1 $2 -o json\` exited with status $?: $(cat "$DEMO_WORK/cli.err")"
}

# Arguments as typed, with secrets masked.
_show_args() {
  local out='' mask=false a
  for a in "$@"; do
    if $mask; then a='***'; mask=false; fi
    case "$a" in --password | --client-secret | --api-key | --webhook-secret | --secret) mask=true ;; esac
    case "$a" in *' '*) a="'$a'" ;; esac
    out+="$a "
  done
  printf '%s' "${out% }"
}

# ---- the vendor side: the emulator's control API ------------------------------------------------

# vendor "who does what": announces an action taken on the vendor's side (in the emulator).
vendor() { printf '%s[vendor side] %s%s\n' "$_mag" "$*" "$_off"; }

# sim METHOD PATH [JSON]: one call to the emulator's control API (/_sim/...); prints the answer.
sim() {
  local method=$1 path=$2 body=${3:-} out
  local args=(-sS --fail-with-body --cacert "$DEMO_SIM_CA" -X "$method" "$DEMO_SIM_URL$path")
  [ -n "$body" ] && args+=(-H 'content-type: application/json' --data "$body")
  out=$(curl "${args[@]}" 2>&1) || fail "the emulator refused $method $path: ${out:0:300}"
  printf '%s' "$out"
}

# sim_show METHOD PATH [JSON]: the same, showing the call (a vendor-side action made visible).
sim_show() {
  # shellcheck disable=SC2016 # the single quotes are printed around the expanded body
  printf '%s$ curl -X %s %s%s%s\n' "$_mag" "$1" "$DEMO_SIM_URL" "$2" "${3:+ -d '$3'}$_off"
  sim "$@" >/dev/null
}

# sim_drop_webhooks RATE: the emulator drops this share (0..1) of its outbound webhooks, for every
# vendor (one emulator-wide control; set it back to 0 when the segment's drop is shown).
sim_drop_webhooks() {
  sim_show PUT /_sim/webhooks/behaviour "{\"drop_rate\": $1}"
}

# sim_webhook_target VENDOR INTEGRATION [JSON fields]: the emulator sends VENDOR's webhooks to
# ingest-webhook for INTEGRATION; extra fields of the target (secret, token, signing) as JSON.
sim_webhook_target() {
  local vendor=$1 integration=$2 extra=${3:-}
  sim_show POST /_sim/webhooks/targets \
    "{\"vendor\": \"$vendor\", \"url\": \"$DEMO_WEBHOOK_BASE/v1/webhooks/$integration\"${extra:+, $extra}}"
}

# ---- waiting for conditions ---------------------------------------------------------------------

# wait_for SECONDS "what should happen" COMMAND...: runs COMMAND until it succeeds; fails the step
# when SECONDS pass first. Never a fixed sleep: it returns as soon as the condition holds.
wait_for() {
  local timeout=$1 what=$2 start=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS - start >= timeout)); then
      fail "$what did not happen within ${timeout} s"
    fi
    sleep 0.25
  done
  ok "$what (after $((SECONDS - start)) s)"
}

# ---- findings -----------------------------------------------------------------------------------

# segment_scan VENDOR: writes the sample scan (deploy/demo/scan.json) with keys and assets of this
# segment, so every segment tickets and moves findings of its own; prints the file's path.
segment_scan() {
  local out="$DEMO_WORK/scan-$1.json"
  jq --arg v "$1" '.findings |= map(.key += "-" + $v | .asset = ($v + "-" + .asset))' \
    "$DEMO_ROOT/deploy/demo/scan.json" >"$out"
  printf '%s' "$out"
}

# finding_field ID JQ: a field of a finding (lockstep findings get -o json).
finding_field() { "$DEMO_BIN/lockstep" -o json findings get "$1" 2>/dev/null | jq -er "$2"; }

# finding_is ID STATUS: whether the finding has this status.
finding_is() { [ "$(finding_field "$1" .status)" = "$2" ]; }

# last_channel ID: the channel (webhook, poll, api, ...) of the finding's newest activity entry.
last_channel() {
  "$DEMO_BIN/lockstep" -o json findings activity "$1" | jq -r '.[0].channel'
}
