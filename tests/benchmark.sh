#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Measures this pam_keyinit against Linux-PAM's (the "stock" module of
# libpam-modules) in the same run, and prints the figures as Markdown tables:
#
#   - one login as a process: `pamtester SERVICE USER open_session
#     close_session` through `session required MODULE force revoke`, for a
#     normal user; instructions counted by callgrind for a no-op module (the
#     floor), the stock module and ours, and the median wall time of many
#     runs taken in turn;
#   - in one process: sessions per CPU second of pam_start_confdir, open, close,
#     pam_end (bench/session_bench.cc, Google Benchmark), for root and for
#     the normal user;
#   - footprint: stripped size, NEEDED, relocations.
#
#   tests/benchmark.sh [--brief] [--results FILE]
#
# --brief takes few samples (for CI: it shows that everything still runs).
# --results FILE also writes the figures as NAME=VALUE lines.
# Run it as root on Debian 12. It creates the user pkbench if there is none
# (and removes it again), and service files /etc/pam.d/pam-keyinit-bench-*
# (pamtester reads no other folder), which it removes on exit.
#
# Environment: PAM_KEYINIT_MODULE (ours; default: built in build-bench),
# PAM_KEYINIT_STOCK_MODULE (default: libpam-modules' file, past any diversion).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
. scripts/lib/common.sh
export LC_ALL=C

brief=0
results=
while [ $# -gt 0 ]; do
  case $1 in
    --brief) brief=1 ;;
    --results) results=$2; shift ;;
    *) echo "usage: $0 [--brief] [--results FILE]" >&2; exit 2 ;;
  esac
  shift
done

skip_unless_root benchmark "it switches users and writes /etc/pam.d"

if [ "$brief" -eq 1 ]; then
  callgrind_runs=1 wall_runs=21 bench_min_time=0.05 bench_repetitions=1
else
  callgrind_runs=3 wall_runs=301 bench_min_time=0.5 bench_repetitions=5
fi

ensure_packages "${BASE_PACKAGES[@]}" valgrind libbenchmark-dev binutils

build_dir=$top/build-bench
configure_build "$build_dir" -Dtests=false -Dbenchmarks=enabled -Dwerror=true >/dev/null
meson compile -C "$build_dir" >/dev/null

floor=$build_dir/bench/pam_bench_floor.so
ours=${PAM_KEYINIT_MODULE:-$build_dir/module/pam_keyinit.so}
if [ -z "${PAM_KEYINIT_STOCK_MODULE:-}" ]; then
  shipped=$(dpkg-query -L libpam-modules | grep '/security/pam_keyinit\.so$' | head -n 1)
  # Our Debian package diverts the stock module; follow it to its new name.
  PAM_KEYINIT_STOCK_MODULE=$(dpkg-divert --truename "$shipped")
fi
stock=$PAM_KEYINIT_STOCK_MODULE
modules=(floor stock ours)
declare -A path
for name in "${modules[@]}"; do
  # Resolved, as callgrind names objects (/lib is a link to /usr/lib).
  path[$name]=$(readlink -f "${!name}")
  [ -f "${path[$name]}" ] || { echo "benchmark: no module at ${!name}" >&2; exit 1; }
done
floor=${path[floor]} stock=${path[stock]} ours=${path[ours]}

work=$(mktemp -d -t pam-keyinit-bench.XXXXXX)
user=pkbench
created_user=0
cleanup() {
  rm -f /etc/pam.d/pam-keyinit-bench-$$-*
  rm -rf "$work"
  if [ "$created_user" -eq 1 ]; then
    userdel "$user" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! getent passwd "$user" >/dev/null; then
  useradd --no-create-home --shell /usr/sbin/nologin --comment "pam-keyinit benchmarks" "$user"
  created_user=1
fi
uid=$(id -u "$user")

declare -A service
for name in "${modules[@]}"; do
  service[$name]=pam-keyinit-bench-$$-$name
  echo "session required ${path[$name]} force revoke" >"/etc/pam.d/${service[$name]}"
done

# --- helpers -----------------------------------------------------------------

bench_started=$SECONDS
progress() {  # progress MESSAGE: on stderr, so that stdout is only the tables
  echo "benchmark: $* (at $((SECONDS - bench_started)) s)" >&2
}

median() {  # median NUMBER...: the middle value (the lower of the two middles)
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

ratio() {  # ratio A B: A/B to three places
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
}

grouped() {  # grouped INTEGER: 1234567 -> 1,234,567
  awk -v n="$1" 'BEGIN {
    sign = n < 0 ? "-" : ""; n = n < 0 ? -n : n; s = sprintf("%d", n)
    while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
    print sign s out }'
}

user_key_count() {  # the number of keys the benchmark user owns now
  local line_uid quota
  while read -r line_uid _ _ quota _; do
    if [ "${line_uid%:}" = "$uid" ]; then
      echo "${quota%/*} ${quota#*/}"
      return
    fi
  done </proc/key-users
  echo "0 1"
}

# Replaced session keyrings are freed by the kernel's garbage collector a
# little after their last process exits; wait for it (untimed) rather than
# run into the user's key quota (EDQUOT) in the middle of a measurement.
wait_for_key_collector() {
  local keys max tries=0
  read -r keys max < <(user_key_count)
  while [ $((keys * 2)) -gt "$max" ] && [ "$tries" -lt 10000 ]; do
    sleep 0.001
    tries=$((tries + 1))
    read -r keys max < <(user_key_count)
  done
}

login() {  # login NAME: one pamtester login through that module's stack
  pamtester "${service[$1]}" "$user" open_session close_session >/dev/null
}

# --- one login as a process: instructions -------------------------------------

declare -A instructions object_cost
for name in "${modules[@]}"; do
  progress "callgrind: $callgrind_runs login(s) through the $name module"
  counts=()
  for ((run = 0; run < callgrind_runs; run++)); do
    wait_for_key_collector
    out=$work/callgrind.$name.$run
    valgrind --tool=callgrind --callgrind-out-file="$out" \
      pamtester "${service[$name]}" "$user" open_session close_session >/dev/null 2>"$work/valgrind.log" ||
      { cat "$work/valgrind.log" >&2; echo "benchmark: pamtester failed with $name" >&2; exit 1; }
    counts+=("$(awk '/^summary:/ { print $2 }' "$out")")
  done
  instructions[$name]=$(median "${counts[@]}")
  # Self cost by object, from the last run: where the instructions go.
  while read -r object cost; do
    object_cost[$name,$object]=$cost
  done < <(callgrind_annotate --threshold=100 "$out" 2>/dev/null | awk -v module="${path[$name]}" '
    /^ *[0-9,]+ \(/ && /\[/ {
      cost = $1; gsub(",", "", cost)
      object = $0; sub(/.*\[/, "", object); sub(/\].*/, "", object)
      if (object == module) group = "module"
      else if (object ~ /\/ld-linux/) group = "ld.so"
      else if (object ~ /\/libc\.so/) group = "libc"
      else if (object ~ /\/libpam\.so/) group = "libpam"
      else if (object ~ /\/libkeyutils\.so/) group = "libkeyutils"
      else group = "other"
      total[group] += cost
    }
    END { for (g in total) print g, total[g] }')
done
own_stock=$((instructions[stock] - instructions[floor]))
own_ours=$((instructions[ours] - instructions[floor]))
instruction_ratio=$(ratio "${instructions[ours]}" "${instructions[stock]}")

# --- one login as a process: wall time ----------------------------------------

declare -A wall_times
progress "wall time: $wall_runs logins through each module, in turn"
for ((run = 0; run < wall_runs; run++)); do
  # Rotate the order, so that no module always runs first or last.
  for ((k = 0; k < 3; k++)); do
    name=${modules[$(((run + k) % 3))]}
    wait_for_key_collector
    start=$EPOCHREALTIME
    login "$name" || { echo "benchmark: pamtester failed with $name" >&2; exit 1; }
    end=$EPOCHREALTIME
    wall_times[$name]+=" $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", (e - s) * 1e6 }')"
  done
done
declare -A wall_median
for name in "${modules[@]}"; do
  # shellcheck disable=SC2086
  wall_median[$name]=$(median ${wall_times[$name]})
done
wall_ratio=$(ratio "${wall_median[ours]}" "${wall_median[stock]}")

# --- in one process: sessions per CPU second ---------------------------------

progress "in one process: Google Benchmark sessions for root and $user"
bench_args=(--benchmark_min_time="$bench_min_time" --benchmark_format=csv)
if [ "$bench_repetitions" -gt 1 ]; then
  bench_args+=(--benchmark_repetitions="$bench_repetitions" --benchmark_enable_random_interleaving=true
               --benchmark_report_aggregates_only=true)
fi
"$build_dir/bench/session-bench" --module=floor="$floor" --module=stock="$stock" --module=ours="$ours" \
  --user=root --user="$user" --arguments="force revoke" "${bench_args[@]}" \
  >"$work/bench.csv" 2>"$work/bench.log" ||
  { cat "$work/bench.log" >&2; echo "benchmark: session-bench failed" >&2; exit 1; }
declare -A per_second faults
while IFS=, read -r bench_name rate session_faults error; do
  if [ -n "$error" ]; then
    echo "benchmark: $bench_name: $error" >&2
    exit 1
  fi
  per_second[$bench_name]=$rate
  faults[$bench_name]=$session_faults
done < <(awk -F, -v aggregate="$([ "$bench_repetitions" -gt 1 ] && echo _median)" '
  NR == 1 { for (i = 1; i <= NF; i++) column[$i] = i; next }
  {
    name = $1; gsub(/"/, "", name)
    if (aggregate != "") { if (name !~ aggregate "$") next; sub(aggregate "$", "", name) }
    sub(/^session\//, "", name)
    error = $column["error_message"]; gsub(/"/, "", error)
    if ($column["error_occurred"] == "true") { print name ",,," (error == "" ? "failed" : error); next }
    printf "%s,%.0f,%.0f,\n", name, $column["\"sessions\""], $column["\"faults\""]
  }' "$work/bench.csv")
for who in root "$user"; do
  for name in "${modules[@]}"; do
    [ -n "${per_second[$name/$who]:-}" ] || { echo "benchmark: no result for $name/$who" >&2; exit 1; }
  done
done

# --- footprint ------------------------------------------------------------------

declare -A stripped_size needed relocations symbolic added_libraries forbidden
for name in stock ours; do
  strip --strip-unneeded -o "$work/stripped.so" "${path[$name]}"
  stripped_size[$name]=$(stat -c %s "$work/stripped.so")
  needed[$name]=$(readelf -d "${path[$name]}" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ' | sed 's/ $//')
  relocations[$name]=$(readelf -rW "${path[$name]}" | grep -c 'R_X86_64_' || true)
  symbolic[$name]=$(readelf -rW "${path[$name]}" | grep 'R_X86_64_' | grep -vc 'R_X86_64_RELATIVE' || true)
  # Libraries a PAM application does not have loaded already, and the
  # symbols that loading them makes ld.so look up.
  added=
  for library in ${needed[$name]}; do
    case $library in libc.so.*|libpam.so.*) continue ;; esac
    library_path=$(ldd "${path[$name]}" | awk -v l="$library" '$1 == l { print $3 }')
    library_symbolic=$(readelf -rW "$library_path" | grep 'R_X86_64_' | grep -vc 'R_X86_64_RELATIVE' || true)
    added+="${added:+, }$library ($library_symbolic symbolic relocations)"
  done
  added_libraries[$name]=${added:-none}
  forbidden[$name]=$(tr ' ' '\n' <<<"${needed[$name]}" | grep -E '^(libstdc\+\+|libgcc_s|libm)\.so' | tr '\n' ' ' | sed 's/ $//' || true)
done

# --- the tables -------------------------------------------------------------------

ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
os=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)
echo "Machine: $(nproc) × $cpu, Linux $(uname -r), $os; $(date -u '+%Y-%m-%d %H:%M UTC')."
echo "Stack: \`session required MODULE force revoke\`; normal user $user (uid $uid)."
echo "Stock: $stock; ours: $ours; floor: a module that does nothing (bench/pam_bench_floor.cc)."
echo
# What the module itself executes: its own object, and libkeyutils, which
# only it brings. These counts do not move with the machine, the NSS setup
# or ld.so's work, which is why tests/suites/50-benchmark.sh checks them.
code_stock=${object_cost[stock,module]:-0}
code_ours=$(( ${object_cost[ours,module]:-0} + ${object_cost[ours,libkeyutils]:-0} ))
echo "Checked by tests/suites/50-benchmark.sh (repeatable on any machine):"
echo
echo "| measure | stock | ours | ours − stock |"
echo "| --- | ---: | ---: | ---: |"
echo "| one pamtester login, instructions in the module's own object (ours: + libkeyutils) | $(grouped "$code_stock") | $(grouped "$code_ours") | $(grouped $((code_ours - code_stock))) |"
echo "| NEEDED | ${needed[stock]} | ${needed[ours]} | |"
echo
echo "Figures only, for this machine (whole logins depend on ld.so, libc and NSS, wall times on the load):"
echo
echo "| measure | floor | stock | ours | ours/stock |"
echo "| --- | ---: | ---: | ---: | ---: |"
echo "| one pamtester login, instructions (callgrind, median of $callgrind_runs) | $(grouped "${instructions[floor]}") | $(grouped "${instructions[stock]}") | $(grouped "${instructions[ours]}") | $instruction_ratio |"
echo "| the module's whole cost (login minus the floor), instructions | 0 | $(grouped "$own_stock") | $(grouped "$own_ours") | $(ratio "$own_ours" "$own_stock") |"
echo "| one pamtester login, median wall time ($wall_runs runs each, in turn) | $(ms "${wall_median[floor]}") | $(ms "${wall_median[stock]}") | $(ms "${wall_median[ours]}") | $wall_ratio |"
for who in root "$user"; do
  bench_ratio=$(ratio "${per_second[ours/$who]}" "${per_second[stock/$who]}")
  echo "| in one process, sessions per CPU second, $who | $(grouped "${per_second[floor/$who]}") | $(grouped "${per_second[stock/$who]}") | $(grouped "${per_second[ours/$who]}") | $bench_ratio |"
done
for who in root "$user"; do
  echo "| in one process, minor page faults per session, $who | ${faults[floor/$who]} | ${faults[stock/$who]} | ${faults[ours/$who]} | |"
done
echo
echo "Where one pamtester login's instructions go (callgrind, self cost by object):"
echo
echo "| object | floor | stock | ours | ours − stock |"
echo "| --- | ---: | ---: | ---: | ---: |"
for group in ld.so libc libpam module libkeyutils other; do
  f=${object_cost[floor,$group]:-0} s=${object_cost[stock,$group]:-0} o=${object_cost[ours,$group]:-0}
  echo "| $group | $(grouped "$f") | $(grouped "$s") | $(grouped "$o") | $(grouped $((o - s))) |"
done
echo
echo "Footprint:"
echo
echo "| | stock | ours |"
echo "| --- | ---: | ---: |"
echo "| stripped size, bytes | $(grouped "${stripped_size[stock]}") | $(grouped "${stripped_size[ours]}") |"
echo "| NEEDED | ${needed[stock]} | ${needed[ours]} |"
echo "| relocations: symbolic / all | ${symbolic[stock]} / ${relocations[stock]} | ${symbolic[ours]} / ${relocations[ours]} |"
echo "| libraries it adds to a PAM process | ${added_libraries[stock]} | ${added_libraries[ours]} |"
echo "| libstdc++, libgcc_s or libm in NEEDED | ${forbidden[stock]:-none} | ${forbidden[ours]:-none} |"

if [ -n "$results" ]; then
  {
    for name in "${modules[@]}"; do
      echo "instructions_$name=${instructions[$name]}"
      echo "wall_median_us_$name=${wall_median[$name]}"
      for who in root "$user"; do
        echo "sessions_per_second_${name}_$([ "$who" = root ] && echo root || echo user)=${per_second[$name/$who]}"
      done
    done
    echo "instruction_ratio=$instruction_ratio"
    echo "module_code_instructions_stock=$code_stock"
    echo "module_code_instructions_ours=$code_ours"
    echo "wall_ratio=$wall_ratio"
    for name in stock ours; do
      echo "stripped_size_$name=${stripped_size[$name]}"
      echo "needed_$name='${needed[$name]}'"
      echo "forbidden_needed_$name='${forbidden[$name]}'"
    done
  } >"$results"
fi
