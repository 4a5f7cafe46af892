#!/usr/bin/env bash
# Schema fuzzing of the JSON API (issue 10): starts the app on a throw-away KV file with the demo
# catalog and an ADMIN_TOKEN on a free loopback port, then runs schemathesis against
# /api/openapi.json three times, anonymous, as admin and as a learner, with every check on (no 5xx,
# responses match their documented status, content type, headers and schema). Any failure → non-zero
# exit.
#
# Environment (all optional):
#   DENO_CMD            how to run deno (default: deno; .ci/run passes its npx command)
#   FUZZ_MAX_EXAMPLES   test cases per operation and phase (default 10)
#   FUZZ_SEED           schemathesis seed (default 20261202: CI runs are reproducible)
#   FUZZ_WORKERS        concurrent schemathesis workers (default 1: with 2, a race in a hypothesis cache
#                       made schemathesis 4.32.5 report a flaky "Runtime Error")
#   TB_CI_CACHE         where the schemathesis virtual env is cached (default ~/.cache/tb-ci)
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
read -r -a DENO_CMD <<<"${DENO_CMD:-deno}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-10}"
SEED="${FUZZ_SEED:-20261202}"
WORKERS="${FUZZ_WORKERS:-1}"
VENV="${TB_CI_CACHE:-$HOME/.cache/tb-ci}/schemathesis-$SCHEMATHESIS_VERSION"
ARTIFACTS="tests/artifacts/schemathesis"

# 1. schemathesis, pinned, in a cached virtual env (a half-made env is removed, never reused).
if ! "$VENV/bin/schemathesis" --version >/dev/null 2>&1; then
  echo "Installing schemathesis $SCHEMATHESIS_VERSION into $VENV…"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  if ! python3 -m venv "$VENV" || ! "$VENV/bin/pip" install -q --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION"; then
    rm -rf "$VENV"
    echo "fuzz: cannot install schemathesis $SCHEMATHESIS_VERSION (python3 -m venv and pip from PyPI are needed)" >&2
    exit 1
  fi
fi
"$VENV/bin/schemathesis" --version

# 2. The app on a free loopback port, in its own process group so everything it starts is stopped.
WORK="$(mktemp -d)"
APP_PID=""
cleanup() {
  local rc=$?
  if [ -n "$APP_PID" ] && kill -0 "$APP_PID" 2>/dev/null; then
    kill -TERM -- "-$APP_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$APP_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -s "$WORK/app.log" ]; then
    echo "---- app log (last 60 lines) ----" >&2
    tail -n 60 "$WORK/app.log" >&2
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
ADMIN_TOKEN="fuzz-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
BASE="http://127.0.0.1:$PORT"
# DEV_LOGIN=1 (the default): schemathesis also fuzzes the session cookie the document declares.
# AUTH_FAILURE_LIMIT=0: the fuzzer sends hundreds of bad credentials from one address; the limit
# would answer 429 (tested in tests/security/auth_limit_test.ts) where the auth checks expect 401.
env PORT="$PORT" DENO_KV_PATH="$WORK/app.kv" SEED_DEMO=1 DEV_LOGIN=1 ADMIN_TOKEN="$ADMIN_TOKEN" AUTH_FAILURE_LIMIT=0 \
  KAFKA_BROKERS= CALCOM_API_URL= CALCOM_API_KEY= CALCOM_WEBHOOK_SECRET= \
  setsid "${DENO_CMD[@]}" run -A main.ts >"$WORK/app.log" 2>&1 &
APP_PID=$!
echo "fuzz: app pid $APP_PID on $BASE (KV $WORK/app.kv)"
for _ in $(seq 1 240); do
  if curl -fsS -o /dev/null "$BASE/health" 2>/dev/null; then break; fi
  if ! kill -0 "$APP_PID" 2>/dev/null; then
    echo "fuzz: the app exited before answering /health" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fsS -o /dev/null "$BASE/health" || {
  echo "fuzz: the app did not answer /health within 120 s" >&2
  exit 1
}

# 3. Real ids, so that half the generated ids reach the handlers instead of a 404: the demo
#    catalog's sessions, courses, places and instructors, and a learner made here (with a token,
#    for a third pass as a learner). They become schemathesis dictionaries in a copy of the config.
cp scripts/fuzz_api.toml "$WORK/schemathesis.toml"
LEARNER_TOKEN="$(BASE="$BASE" ADMIN_TOKEN="$ADMIN_TOKEN" WORK="$WORK" python3 - <<'PY'
import json, os, urllib.request

base, admin, work = os.environ["BASE"], os.environ["ADMIN_TOKEN"], os.environ["WORK"]

def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("authorization", "Bearer " + admin)
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=20) as res:
        return json.load(res)

rows = call("GET", "/api/v1/sessions?limit=40")["sessions"]
learner = call("POST", "/api/v1/users", {"email": "fuzz.learner@example.com", "name": "Fuzz Learner"})["user"]
token = call("POST", "/api/v1/users/%s/tokens" % learner["id"], {})["token"]
ids = {
    "sessions": {r["session"]["id"] for r in rows},
    "courses": {r["course"]["id"] for r in rows},
    "places": {r["location"]["id"] for r in rows if r["location"]},
    "people": {r["session"]["instructorId"] for r in rows} | {learner["id"]},
}
bindings = {
    "path.id": "sessions", "path.sessionId": "sessions", "body.sessionId": "sessions",
    "body.courseId": "courses", "query.hub": "places", "query.location": "places", "body.locationId": "places",
    "body.instructorId": "people", "body.learnerId": "people", "query.learnerId": "people",
}
with open(os.path.join(work, "schemathesis.toml"), "a") as toml:
    toml.write("\n[dictionaries]\n")
    for name, values in ids.items():
        path = os.path.join(work, name + ".dict")
        with open(path, "w") as f:
            f.write("".join('"%s"\n' % v for v in sorted(values)))
        toml.write('%s = { from-file = "%s" }\n' % (name, path))
    toml.write("\n[parameters]\n")
    for key, name in bindings.items():
        toml.write('"%s" = { dictionary = "%s", probability = 0.5 }\n' % (key, name))
print(token)
PY
)"

# 4. schemathesis as anonymous, admin and learner. Reports (JUnit) go to tests/artifacts/ (ignored by git).
mkdir -p "$ARTIFACTS"
# Each pass's output goes to tests/artifacts/schemathesis/<pass>.log; the console gets one line per pass (and the log's
# tail when it fails), so CI's output ends on the test suite's own summary, not on schemathesis's pytest-style lines.
fuzz() {
  local name=$1
  shift
  local log="$ARTIFACTS/$name.log" rc=0
  "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run "$BASE/api/openapi.json" \
    --checks all \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --workers "$WORKERS" \
    --request-timeout 20 \
    --generation-database none \
    --no-color \
    --report junit --report-junit-path "$ARTIFACTS/$name.xml" \
    "$@" >"$log" 2>&1 || rc=$?
  local cases
  cases="$(grep -A1 '^Test cases:' "$log" | tail -n 1 | sed 's/^ *//')"
  if [ "$rc" -eq 0 ]; then
    echo "fuzz ($name): $MAX_EXAMPLES examples per operation, seed $SEED: ${cases:-no summary}"
  else
    echo "fuzz ($name) FAILED (exit $rc); the last 120 lines of $log:" >&2
    tail -n 120 "$log" >&2
  fi
  return "$rc"
}
status=0
fuzz anonymous || status=1
fuzz admin -H "Authorization: Bearer $ADMIN_TOKEN" || status=1
fuzz learner -H "Authorization: Bearer $LEARNER_TOKEN" || status=1
if ! kill -0 "$APP_PID" 2>/dev/null; then
  echo "fuzz: the app died during the run" >&2
  status=1
fi
if grep -q "failed:" "$WORK/app.log"; then
  echo "fuzz: the app logged failures (500s):" >&2
  grep -A3 "failed:" "$WORK/app.log" | head -n 40 >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "fuzz: OK (no 5xx, no schema violations)"
exit "$status"
