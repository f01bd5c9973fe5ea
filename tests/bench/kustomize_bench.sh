#!/usr/bin/env bash
# kubectl kustomize vs sealops build: wall time (hyperfine medians), peak RSS (GNU time) and their
# ratios on a generated 150-app overlay (450 objects: Deployments, Services, HPAs, generated
# ConfigMaps; with generator merges, patches, images, replicas, namespace, prefix, labels), then
# `sealops build DIR1 … DIR100`: 100 overlays in one process.
#
# Usage: tests/bench/kustomize_bench.sh [--kubectl-only] [--keep] [--apps N] [--overlays N]
#   --kubectl-only  measure only kubectl (checks the harness before `sealops build` exists)
#   --keep          keep the temporary working directory (the generated fleet and outputs)
#   --apps N        apps in the overlay (3 objects each; default 150)
#   --overlays N    overlays for the one-process measurement (default 100; 0 skips it)
#
# Environment:
#   SEALOPS_BIN      the sealops binary (default: target/release/sealops; build it first with
#                    `cargo build --release --bin sealops` — this script does not build)
#   SEALOPS_KUBECTL  the kubectl to compare with (default: `kubectl` on PATH)
#   KUBECTL_RUNS     hyperfine runs for kubectl (default 3: one build takes seconds)
#   SEALOPS_RUNS     hyperfine runs for sealops (default 10, after 2 warm-up runs)
#   RSS_RUNS         GNU time runs per tool for the peak-RSS median (default 3)
#   BENCH_OUT        where hyperfine's JSON exports go (default: target/bench)
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)

kubectl_only=0
keep=0
apps=150
overlays=100
while [[ $# -gt 0 ]]; do
    case $1 in
        --kubectl-only) kubectl_only=1 ;;
        --keep) keep=1 ;;
        --apps) apps=${2:?--apps needs a number}; shift ;;
        --overlays) overlays=${2:?--overlays needs a number}; shift ;;
        *)
            echo "usage: $0 [--kubectl-only] [--keep] [--apps N] [--overlays N]" >&2
            exit 2
            ;;
    esac
    shift
done
kubectl_runs=${KUBECTL_RUNS:-3}
sealops_runs=${SEALOPS_RUNS:-10}
rss_runs=${RSS_RUNS:-3}

die() {
    echo "error: $*" >&2
    exit 1
}

# ---- tools -------------------------------------------------------------------------------

command -v hyperfine >/dev/null || die "hyperfine not found (Debian: apt-get install hyperfine)"
command -v python3 >/dev/null || die "python3 not found (Debian: apt-get install python3)"
python3 -c 'import yaml' 2>/dev/null \
    || die "python3 cannot import yaml, needed to compare the outputs (Debian: apt-get install python3-yaml)"
# BusyBox and the shell keyword `time` have no `-f %M`; only GNU time reports peak RSS this way.
if ! /usr/bin/time -f %M true >/dev/null 2>&1; then
    die "GNU time not found at /usr/bin/time (Debian: apt-get install time)"
fi

kubectl=${SEALOPS_KUBECTL:-$(command -v kubectl || true)}
[[ -n $kubectl ]] || die "kubectl not found: set SEALOPS_KUBECTL or put kubectl on PATH"
kubectl_version=$("$kubectl" version --client 2>/dev/null | tr '\n' ' ')
kubectl_note="as given"
# The Google Cloud SDK installs `kubectl` as a dispatcher that execs a versioned binary
# (kubectl.1.32, …) next to it; time that binary, so the dispatcher's own start is not charged.
if [[ $kubectl_version == *-dispatcher* ]]; then
    minor=$(sed -n 's/.*Client Version: v\([0-9]*\.[0-9]*\).*/\1/p' <<<"$kubectl_version")
    real=$(dirname -- "$(readlink -f -- "$kubectl")")/kubectl.${minor}
    if [[ -x $real ]]; then
        kubectl=$real
        kubectl_note="the versioned binary behind the gcloud dispatcher"
        kubectl_version=$("$kubectl" version --client 2>/dev/null | tr '\n' ' ')
    fi
fi
kustomize_version=$(sed -n 's/.*Kustomize Version: \([^ ]*\).*/\1/p' <<<"$kubectl_version")

if [[ $kubectl_only -eq 0 ]]; then
    sealops=${SEALOPS_BIN:-${root}/target/release/sealops}
    [[ -x $sealops ]] || die "sealops binary not found at $sealops (cargo build --release --bin sealops, or set SEALOPS_BIN)"
    sealops=$(cd -- "$(dirname -- "$sealops")" && pwd -P)/$(basename -- "$sealops")
fi

out_dir=${BENCH_OUT:-${root}/target/bench}
mkdir -p -- "$out_dir"
out_dir=$(cd -- "$out_dir" && pwd -P)

work=$(mktemp -d "${TMPDIR:-/tmp}/kustomize-bench.XXXXXX")
cleanup() {
    if [[ $keep -eq 1 ]]; then
        echo "kept ${work}"
    else
        rm -rf -- "$work"
    fi
}
trap cleanup EXIT
cd -- "$work"

# ---- inputs ------------------------------------------------------------------------------

python3 "${root}/tests/bench/gen_kustomize_fleet.py" fleet --apps "$apps" --overlays "$overlays"
objects=$((apps * 3))

# The objects of a YAML stream, for comparing two tools' outputs: the same list, in the same
# order, with the same values (key order and formatting do not matter).
same_objects() {
    python3 - "$1" "$2" <<'PY'
import sys
import yaml

def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]

a, b = load(sys.argv[1]), load(sys.argv[2])
if a == b:
    sys.exit(0)
if len(a) != len(b):
    print(f"  {len(b)} objects where kubectl has {len(a)}", file=sys.stderr)
for i, (x, y) in enumerate(zip(a, b)):
    if x != y:
        ident = lambda o: f"{o.get('kind')} {o.get('metadata', {}).get('name')}"
        print(f"  first difference at object {i}: kubectl {ident(x)}, sealops {ident(y)}", file=sys.stderr)
        break
sys.exit(1)
PY
}

# A benchmark of wrong output is meaningless: check before timing.
"$kubectl" kustomize fleet/overlay >expected.yaml
count=$(grep -c '^kind: ' expected.yaml || true)
[[ $count -eq $objects ]] || die "kubectl built ${count} objects, the generator promised ${objects}"
if [[ $kubectl_only -eq 0 ]]; then
    "$sealops" build fleet/overlay >actual.yaml || die "sealops build fleet/overlay failed"
    same_objects expected.yaml actual.yaml || die "sealops build and kubectl kustomize differ on the ${apps}-app overlay"
fi

# ---- one overlay ---------------------------------------------------------------------------

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
median_ms() { python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$1"; }
peak_kib() {
    for _ in $(seq "$rss_runs"); do
        /usr/bin/time -f %M -o rss.txt "$@" >/dev/null
        cat rss.txt
    done | median
}

echo
echo "### kubectl kustomize, ${objects} objects"
hyperfine --warmup 0 --runs "$kubectl_runs" --style basic --export-json "${out_dir}/kustomize-kubectl.json" \
    -n kubectl "$(printf '%q' "$kubectl") kustomize fleet/overlay > out.yaml"
kubectl_ms=$(median_ms "${out_dir}/kustomize-kubectl.json")
kubectl_kib=$(peak_kib "$kubectl" kustomize fleet/overlay)

if [[ $kubectl_only -eq 0 ]]; then
    echo
    echo "### sealops build, ${objects} objects"
    hyperfine --warmup 2 --runs "$sealops_runs" --style basic --export-json "${out_dir}/kustomize-sealops.json" \
        -n sealops "$(printf '%q' "$sealops") build fleet/overlay > out.yaml"
    sealops_ms=$(median_ms "${out_dir}/kustomize-sealops.json")
    sealops_kib=$(peak_kib "$sealops" build fleet/overlay)
fi

# ---- many overlays in one process ----------------------------------------------------------

many_note=""
if [[ $kubectl_only -eq 0 && $overlays -gt 0 ]]; then
    dirs=()
    for n in $(seq "$overlays"); do dirs+=("fleet/overlays/$(printf '%03d' "$n")"); done
    # Does `sealops build` take several directories? Try two, and check them against kubectl.
    rc=0
    "$sealops" build "${dirs[@]:0:2}" >two.yaml 2>two.err || rc=$?
    if [[ $rc -eq 0 ]]; then
        "$kubectl" kustomize "${dirs[0]}" >two-expected.yaml
        if [[ $overlays -ge 2 ]]; then
            { echo '---' && "$kubectl" kustomize "${dirs[1]}"; } >>two-expected.yaml
        fi
        same_objects two-expected.yaml two.yaml \
            || die "sealops build DIR1 DIR2 differs from kubectl kustomize DIR1 followed by kubectl kustomize DIR2"
        echo
        echo "### sealops build of ${overlays} overlays in one process ($((objects * overlays)) objects)"
        hyperfine --warmup 1 --runs 3 --style basic --export-json "${out_dir}/kustomize-sealops-many.json" \
            -n "sealops x${overlays}" "$(printf '%q' "$sealops") build ${dirs[*]} > many.yaml"
        many_ms=$(median_ms "${out_dir}/kustomize-sealops-many.json")
        many_count=$(grep -c '^kind: ' many.yaml || true)
        [[ $many_count -eq $((objects * overlays)) ]] \
            || echo "note: the ${overlays}-overlay output holds ${many_count} objects, expected $((objects * overlays))"
        # %P: CPU use over wall time, so 200% means both cores of a 2-core machine were busy.
        /usr/bin/time -f '%M %P %e' -o many-time.txt "$sealops" build "${dirs[@]}" >/dev/null
        read -r many_kib many_cpu many_wall <many-time.txt
    else
        many_note="sealops build does not accept several directories (exit ${rc}: $(head -n 1 two.err)); the ${overlays}-overlay measurement is skipped"
    fi
fi

# ---- report ------------------------------------------------------------------------------

echo
echo "kubectl: ${kubectl} (${kubectl_note}; kustomize ${kustomize_version:-unknown})"
[[ $kubectl_only -eq 1 ]] || echo "sealops: ${sealops}"
runs="kubectl ${kubectl_runs} runs"
[[ $kubectl_only -eq 1 ]] || runs+=", sealops ${sealops_runs} runs after 2 warm-up"
echo "input:   ${apps} apps, ${objects} objects per overlay; hyperfine medians (${runs}), peak RSS median of ${rss_runs} runs"
echo "cores:   $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "json:    ${out_dir}/kustomize-*.json"
echo
python3 - "$objects" "$kubectl_ms" "$kubectl_kib" "${sealops_ms:-}" "${sealops_kib:-}" <<'PY'
import sys

objects, k_ms, k_kib, s_ms, s_kib = sys.argv[1:]
k_ms, k_mib = float(k_ms), float(k_kib) / 1024
rows = [("build", "kubectl ms", "sealops ms", "ratio", "kubectl MiB", "sealops MiB", "ratio")]
if s_ms:
    s_ms, s_mib = float(s_ms), float(s_kib) / 1024
    rows.append((f"1 overlay, {objects} objects", f"{k_ms:.1f}", f"{s_ms:.1f}", f"{k_ms / s_ms:.2f}x",
                 f"{k_mib:.1f}", f"{s_mib:.1f}", f"{k_mib / s_mib:.2f}x"))
else:
    rows.append((f"1 overlay, {objects} objects", f"{k_ms:.1f}", "-", "-", f"{k_mib:.1f}", "-", "-"))
widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
for n, r in enumerate(rows):
    print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    if n == 0:
        print("  ".join("-" * w for w in widths))
if s_ms:
    print("\nratio = kubectl / sealops (above 1: sealops is faster / smaller); target: at least 20x faster")
PY
if [[ -n ${many_ms:-} ]]; then
    python3 - "$overlays" "$objects" "$many_ms" "$kubectl_ms" "$many_kib" "$many_cpu" "$many_wall" <<'PY'
import sys

n, objects, many_ms, k_ms, kib, cpu, wall = sys.argv[1:]
n, many_ms, k_ms = int(n), float(many_ms), float(k_ms)
print(f"\n{n} overlays in one sealops process ({n * int(objects)} objects): {many_ms:.0f} ms median, "
      f"{many_ms / n:.1f} ms per overlay, peak {float(kib) / 1024:.1f} MiB, CPU {cpu} of wall time ({wall} s)")
print(f"kubectl, one process per overlay, estimated from its 1-overlay median: {n * k_ms / 1000:.1f} s "
      f"(ratio {n * k_ms / many_ms:.1f}x)")
PY
fi
[[ -z $many_note ]] || echo -e "\nnote: ${many_note}"
