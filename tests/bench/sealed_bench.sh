#!/usr/bin/env bash
# kubesealpy vs sealops: seal and unseal a Secret of 1,000 values as whole processes (hyperfine
# medians, GNU time peak RSS), then the per-value unseal cost against a bare aws-lc-rs RSA-4096
# OAEP decrypt (`cargo bench --bench sealed_unseal`). See tests/bench/README.md.
#
# Environment:
#   SEALOPS_KUBESEALPY_PYTHON  a Python that can `import kubesealpy` (default: target/interop-venv,
#                              then /opt/sopsvenv)
#   SEALOPS_BIN                the sealops binary (default: target/release/sealops, built here)
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
die() {
    echo "error: $*" >&2
    exit 1
}
for tool in hyperfine openssl; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install hyperfine openssl)"
done
/usr/bin/time -f %M true >/dev/null 2>&1 || die "GNU time not found at /usr/bin/time (Debian: apt-get install time)"

python=${SEALOPS_KUBESEALPY_PYTHON:-}
if [[ -z $python ]]; then
    for candidate in "$root/target/interop-venv/bin/python" /opt/sopsvenv/bin/python; do
        if [[ -x $candidate ]] && "$candidate" -c 'import kubesealpy' 2>/dev/null; then
            python=$candidate
            break
        fi
    done
fi
[[ -n $python ]] || die "no Python with kubesealpy: set SEALOPS_KUBESEALPY_PYTHON (pip install kubesealpy)"

if [[ -z ${SEALOPS_BIN:-} ]]; then
    (cd "$root" && cargo build --release --quiet)
    sealops="$root/target/release/sealops"
else
    sealops=$SEALOPS_BIN
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# One RSA-4096 sealing key for both tools, made by openssl (neither tool's own code).
openssl req -x509 -newkey rsa:4096 -nodes -keyout key.pem -out cert.pem -days 30 -subj "/" 2>/dev/null

# A Secret of 1,000 values of 64 random characters, deterministic.
"$python" - <<'PY'
import base64, json, random, string
random.seed(7)
data = {f"key-{i:04}": "".join(random.choices(string.ascii_letters + string.digits, k=64)) for i in range(1000)}
secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bench", "namespace": "demo"},
          "type": "Opaque", "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}
json.dump(secret, open("secret.json", "w"), indent=2)
json.dump(secret["data"], open("data.json", "w"))
PY

cat >seal.py <<'PY'
import base64, json, sys
from kubesealpy.sealer import Sealer
from kubesealpy.scopes import SealingScope
data = {k: base64.b64decode(v) for k, v in json.load(open(sys.argv[2])).items()}
sealed = Sealer.from_certificate_file(sys.argv[1]).seal(name="bench", namespace="demo", data=data, scope=SealingScope.STRICT)
sys.stdout.write(sealed.to_yaml())
PY
cat >unseal.py <<'PY'
import json, sys
from kubesealpy.models import SealedSecret
from kubesealpy.unsealer import Unsealer
secret = Unsealer.from_private_key_file(sys.argv[1]).unseal(SealedSecret.from_yaml(open(sys.argv[2]).read()))
json.dump({k: len(v) for k, v in (secret.data or {}).items()}, sys.stdout)
PY

"$sealops" seal --cert cert.pem -o yaml <secret.json >sealed.yaml
# Correctness first: each tool opens what the other sealed.
"$python" unseal.py key.pem sealed.yaml >/dev/null || die "kubesealpy cannot open sealops's SealedSecret"
"$python" seal.py cert.pem data.json >py-sealed.yaml
"$sealops" seal --recovery-unseal --recovery-private-key key.pem <py-sealed.yaml >/dev/null \
    || die "sealops cannot open kubesealpy's SealedSecret"

hyperfine --warmup 1 --runs 10 --style basic --export-json seal.json \
    -n kubesealpy "$python seal.py cert.pem data.json > out" \
    -n sealops "$sealops seal --cert cert.pem -o yaml < secret.json > out"
hyperfine --warmup 1 --runs 10 --style basic --export-json unseal.json \
    -n kubesealpy "$python unseal.py key.pem sealed.yaml > out" \
    -n sealops "$sealops seal --recovery-unseal --recovery-private-key key.pem < sealed.yaml > out"

rss() {
    /usr/bin/time -f %M "$@" >/dev/null 2>rss.txt </dev/null || true
    tail -n 1 rss.txt
}
median() { "$python" -c 'import json,sys; r={x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}; print("%.1f" % (r[sys.argv[2]]["median"] * 1000))' "$@"; }

printf '\n%-24s %14s %11s %8s %15s %12s\n' operation "kubesealpy ms" "sealops ms" ratio "kubesealpy MiB" "sealops MiB"
for op in seal unseal; do
    ref=$(median "$op.json" kubesealpy)
    ours=$(median "$op.json" sealops)
    if [[ $op == seal ]]; then
        ref_kb=$(rss "$python" seal.py cert.pem data.json)
        ours_kb=$(sh -c "/usr/bin/time -f %M '$sealops' seal --cert cert.pem -o yaml < secret.json > /dev/null" 2>&1 | tail -n 1)
    else
        ref_kb=$(rss "$python" unseal.py key.pem sealed.yaml)
        ours_kb=$(sh -c "/usr/bin/time -f %M '$sealops' seal --recovery-unseal --recovery-private-key key.pem < sealed.yaml > /dev/null" 2>&1 | tail -n 1)
    fi
    printf '%-24s %14s %11s %7.2fx %15.1f %12.1f\n' "$op 1,000 values" "$ref" "$ours" \
        "$(echo "$ref / $ours" | bc -l)" "$(echo "$ref_kb / 1024" | bc -l)" "$(echo "$ours_kb / 1024" | bc -l)"
done
echo "ratio = kubesealpy / sealops (whole processes, Python start-up included for kubesealpy)"

echo
(cd "$root" && cargo bench --quiet --bench sealed_unseal)
