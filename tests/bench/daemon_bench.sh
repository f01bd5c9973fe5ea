#!/usr/bin/env bash
# The daemon benchmark (issue 5): 1,000 SealedSecrets of 3 values each created at once against the
# test API server; prints the time until every Secret exists (target ≤ 15 s on 2 cores) and the
# daemon's peak RSS as GNU time's %M (target ≤ 40 MiB). The daemon runs as its own process, so the
# RSS is the daemon's alone.
#
# The SealedSecrets are one cluster-wide SealedSecret copied under 1,000 names: cluster-wide items
# open under any name, and each one still costs one RSA-4096 private-key operation per value, as
# a strict one does.
#
# Environment:
#   SEALOPS_BIN     the sealops binary (default: target/release/sealops, built here)
#   APISERVER_BIN   the test API server binary (default: built from tests/apiserver)
#   N               how many SealedSecrets (default 1000)
#   KUBECLIENT_QPS / KUBECLIENT_BURST   the daemon's client limiter (default: off)
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
die() {
    echo "error: $*" >&2
    exit 1
}
command -v kubectl >/dev/null || die "kubectl not found"
command -v python3 >/dev/null || die "python3 not found"
/usr/bin/time -f %M true >/dev/null 2>&1 || die "GNU time not found at /usr/bin/time (Debian: apt-get install time)"
n=${N:-1000}
# The client-side limiter (client-go's token bucket). Upstream's 5/10 would make this a benchmark
# of the limiter (about 4 requests per SealedSecret); the default here is no limit (QPS < 0).
qps=${KUBECLIENT_QPS:--1}
burst=${KUBECLIENT_BURST:-10}

if [[ -z ${SEALOPS_BIN:-} ]]; then
    (cd "$root" && cargo build --release --quiet --bin sealops)
    sealops="$root/target/release/sealops"
else
    sealops=$SEALOPS_BIN
fi
if [[ -z ${APISERVER_BIN:-} ]]; then
    manifest="$root/tests/apiserver/Cargo.toml"
    [[ -f $manifest ]] || die "no $manifest: set APISERVER_BIN"
    cargo build --release --quiet --manifest-path "$manifest" --target-dir "$root/target"
    apiserver="$root/target/release/sealops-test-apiserver"
else
    apiserver=$APISERVER_BIN
fi

work=$(mktemp -d)
pids=()
cleanup() {
    # Newest first: the daemon before GNU time, both before the API server.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

"$apiserver" "$work/kubeconfig" >/dev/null 2>"$work/apiserver.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/kubeconfig ]] && break; sleep 0.1; done
[[ -s $work/kubeconfig ]] || die "the test API server did not start: $(cat "$work/apiserver.log")"
k() { kubectl --kubeconfig "$work/kubeconfig" "$@"; }

k create --validate=false -f "$root/tests/daemon/data/bitnami.com_sealedsecrets.yaml" >/dev/null
# `kubectl create namespace` sends protobuf, which the test API server does not speak; a manifest
# goes as JSON.
echo '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}' | k create --validate=false -f - >/dev/null
k create --validate=false -f "$root/tests/data/sealed-secrets-upstream/keys/key-a/sealing-key-secret.yaml" >/dev/null
for _ in $(seq 100); do k get sealedsecrets -A >/dev/null 2>&1 && break; sleep 0.1; done

# One cluster-wide SealedSecret with 3 values, copied under N names into one List.
cat >"$work/secret.json" <<'EOF'
{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "template", "namespace": "bench"},
 "data": {"a": "YWxwaGE=", "b": "YnJhdm8=", "c": "Y2hhcmxpZQ=="}}
EOF
"$sealops" seal --cert "$root/tests/data/sealed-secrets-upstream/keys/key-a/tls.crt" --scope cluster-wide \
    --format json <"$work/secret.json" >"$work/sealed.json"
python3 - "$work/sealed.json" "$n" >"$work/list.json" <<'EOF'
import copy, json, sys
sealed = json.load(open(sys.argv[1]))
items = []
for i in range(int(sys.argv[2])):
    doc = copy.deepcopy(sealed)
    doc["metadata"]["name"] = f"s{i}"
    doc["spec"]["template"]["metadata"]["name"] = f"s{i}"
    items.append(doc)
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout)
EOF

/usr/bin/time -f "%M %U %S" -o "$work/rss" "$sealops" daemon --kubeconfig "$work/kubeconfig" --namespace kube-system \
    --listen-addr 127.0.0.1:0 --listen-metrics-addr "" --key-renew-period 0 --log-level warn \
    --kubeclient-qps="$qps" --kubeclient-burst="$burst" \
    >"$work/daemon.log" 2>&1 &
timer=$!
pids+=($timer)
sleep 1
# GNU time writes %M when its child exits, and dies without writing it on a signal of its own:
# signal the daemon (time's child), never time.
daemon=$(pgrep -P "$timer" | head -1)
[[ -n $daemon ]] || die "the daemon did not start: $(cat "$work/daemon.log")"
pids+=($daemon)

# One watch, started before the SealedSecrets exist, reports each Secret as it appears: polling
# with a `kubectl get` per tick would take CPU from the daemon on a 2-core machine.
k get secrets -n bench -o name --watch >"$work/watch" 2>"$work/watch.err" &
watcher=$!
pids+=($watcher)
sleep 0.5
start=$(date +%s.%N)
k create --validate=false -f "$work/list.json" >/dev/null
created=$(date +%s.%N)
if ! timeout 300 python3 - "$work/watch" "$n" <<'EOF'
import sys, time
path, want = sys.argv[1], int(sys.argv[2])
seen, offset, partial = set(), 0, b""
while len(seen) < want:
    with open(path, "rb") as f:
        f.seek(offset)
        chunk = f.read()
    offset += len(chunk)
    lines = (partial + chunk).split(b"\n")
    partial = lines.pop()
    seen.update(line for line in lines if line)
    if len(seen) < want:
        time.sleep(0.05)
EOF
then
    die "not every Secret appeared within 300 s ($(sort -u "$work/watch" | wc -l)/$n); daemon log: $(tail -5 "$work/daemon.log")"
fi
done_at=$(date +%s.%N)
kill "$watcher" 2>/dev/null || true
kill -TERM "$daemon"
wait "$timer" || true
read -r rss_kib user_s sys_s < <(tail -1 "$work/rss")
python3 - "$start" "$created" "$done_at" "$rss_kib" "$n" "$user_s" "$sys_s" <<'EOF'
import sys
start, created, done, rss, n = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
cpu = float(sys.argv[6]) + float(sys.argv[7])
print(f"daemon bench: {n} SealedSecrets x 3 values")
print(f"  kubectl create of all:      {created - start:6.2f} s")
print(f"  until every Secret exists:  {done - start:6.2f} s   (target <= 15 s)")
print(f"  daemon peak RSS:            {rss / 1024:6.1f} MiB (target <= 40 MiB)")
print(f"  daemon CPU (user+sys):      {cpu:6.2f} s   ({cpu * 1000 / (3 * int(n)):.2f} ms per value)")
EOF
