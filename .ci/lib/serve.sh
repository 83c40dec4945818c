# Sourced by the CI scripts that test a served ledger: serves a fresh SQLite ledger (with the
# Tamworth fixtures, as `serve` loads into an empty one) from the debug binary on a free
# port, as admin with a fixed token, and stops it on exit. Sets `dir`, `port`, `token`, `base`.
# Needs `cargo build` first.
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Fixed, like the seeds, so a failure reproduces: it opens only this throwaway ledger.
token="ci-throwaway-ledger-admin-token-fixed-for-reproducible-runs"
base="http://127.0.0.1:$port"
log_copy="target/$(basename "$0")-server.log"
GRANT_LEDGER_ADMIN_TOKEN="$token" ./target/debug/grant-ledger --database-url "sqlite://$dir/ledger.db" \
  serve --bind "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; cp "$dir/server.log" "$log_copy"; rm -rf "$dir"' EXIT
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the ledger did not come up")
PY
