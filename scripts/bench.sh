#!/usr/bin/env bash
# Measures what dynonode costs over talking to Redis directly: redis-benchmark
# against redis-server direct, twemproxy (nutcracker) in front of Redis,
# dynonode in front of Redis, dynonode on its embedded store (with versions,
# the default, and with `versions: false`: one node, no replica, should cost
# the same), 3-rack dynonode clusters (one redis per rack) with and without
# versions at DC_ONE and DC_QUORUM, and 3-rack clusters of embedded-store
# nodes with and without versions at DC_ONE and DC_QUORUM (what versions
# cost, in the same run), and last anti-entropy on a cluster of its own
# (cmd/dynobench refill: an emptied rack's refill time, client throughput
# meanwhile, the idle cost).
# Rounds are interleaved across targets; the median
# of BENCH_ROUNDS is reported as ops/s and as a ratio to redis direct
# measured in the same run. Every process it starts runs in its own process
# group and is killed by that group on exit, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${BENCH_N:-100000}"
ROUNDS="${BENCH_ROUNDS:-3}"
CLIENTS="${BENCH_CLIENTS:-50}"
SIZE="${BENCH_SIZE:-64}"
OUT="${BENCH_OUT:-results}"
BIN="${BENCH_BIN:-bin/dynonode}"
IDLE="${BENCH_IDLE_CONNS:-5000}" # idle connections for the memory check; 0 skips it
SOAK="${BENCH_SOAK:-0}"          # seconds of steady load on the embedded node, RSS sampled; 0 skips it
ONLY="${BENCH_TARGETS:-}"        # comma-separated target names to run (redis-direct is always run); empty runs all
PIPES="${BENCH_PIPELINES:-1 16}" # pipeline depths, space-separated
REFILL="${BENCH_REFILL_KEYS:-1000000}" # keys of the anti-entropy refill measurement; 0 skips it

# 5,000 idle clients need as many descriptors, here and in the node.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d)
pgids=()
cleanup() {
	for g in "${pgids[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: runs CMD in a new process group, logs to $work/NAME.log.
start() {
	local name=$1; shift
	setsid "$@" >"$work/$name.log" 2>&1 &
	pgids+=("$!")
	echo "$!" >"$work/$name.pid"
	disown "$!"
}

wait_port() { # host port
	for _ in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	echo "bench: nothing listening on $1:$2" >&2
	cat "$work"/*.log >&2 || true
	return 1
}

redis() { # name host port
	start "$1" redis-server --bind "$2" --port "$3" --save "" --appendonly no --protected-mode no --dir "$work"
	wait_port "$2" "$3"
}

dynonode() { # name conf host port
	start "$1" "$BIN" -c "$2" -v 3
	wait_port "$3" "$4"
}

redis direct 127.0.0.1 17000
redis twemproxy-redis 127.0.0.1 17003
cat >"$work/twemproxy.yml" <<YML
bench:
  listen: 127.0.0.1:17103
  hash: fnv1a_64
  distribution: ketama
  redis: true
  servers:
  - 127.0.0.1:17003:1
YML
start twemproxy nutcracker -c "$work/twemproxy.yml" -s 17203 -v 4
wait_port 127.0.0.1 17103

redis single-redis 127.0.0.1 17001
cat >"$work/single.yml" <<YML
dyn_o_mite:
  listen: 127.0.0.1:17101
  stats_listen: 127.0.0.1:17201
  servers:
  - 127.0.0.1:17001:1
  data_store: 0
YML
dynonode single "$work/single.yml" 127.0.0.1 17101
redis single-unversioned-redis 127.0.0.1 17005
cat >"$work/single-unversioned.yml" <<YML
dyn_o_mite:
  listen: 127.0.0.1:17105
  stats_listen: 127.0.0.1:17205
  servers:
  - 127.0.0.1:17005:1
  data_store: 0
  versions: false
YML
dynonode single-unversioned "$work/single-unversioned.yml" 127.0.0.1 17105
cat >"$work/embedded.yml" <<YML
dyn_o_mite:
  listen: 127.0.0.1:17102
  stats_listen: 127.0.0.1:17202
YML
dynonode embedded "$work/embedded.yml" 127.0.0.1 17102
cat >"$work/embedded-unversioned.yml" <<YML
dyn_o_mite:
  listen: 127.0.0.1:17104
  stats_listen: 127.0.0.1:17204
  versions: false
YML
dynonode embedded-unversioned "$work/embedded-unversioned.yml" 127.0.0.1 17104

# wanted PREFIX: some selected target's name starts with PREFIX (a cluster
# none of whose targets runs is not started: idle peers would only add noise).
wanted() {
	[ -z "$ONLY" ] && return 0
	local t
	for t in ${ONLY//,/ }; do [[ $t == "$1"* ]] && return 0; done
	return 1
}

# TLS: certificates for the client port of dynonode-embedded-tls and the
# peer links of cluster-tls-* (a CA, one certificate for every address).
bash scripts/certs.sh "$work/tls" 127.0.0.1 127.0.0.91 127.0.0.92 127.0.0.93 >/dev/null
# dynonode-embedded-tls: dynonode-embedded with client TLS (TLS / plain table).
if wanted dynonode-embedded-tls; then
	cat >"$work/embedded-tls.yml" <<YML
dyn_o_mite:
  listen: 127.0.0.1:17106
  stats_listen: 127.0.0.1:17206
  client_tls_cert_file: $work/tls/server.pem
  client_tls_key_file: $work/tls/server-key.pem
YML
	dynonode embedded-tls "$work/embedded-tls.yml" 127.0.0.1 17106
fi

# cluster NET NAME STORE EXTRA: three racks, one node each, on
# 127.0.0.NET1..NET3, nodes named NAME1..NAME3. STORE "redis": a redis per
# rack (NAMEi-redis, port 17010); "embedded": the embedded store. EXTRA is
# an extra dynomite.yml line (e.g. "versions: false").
cluster() {
	local net=$1 name=$2 store=$3 extra=$4 i j
	if [ "$store" = redis ]; then
		for i in 1 2 3; do redis "$name$i-redis" "127.0.0.$net$i" 17010; done
	fi
	for i in 1 2 3; do
		{
			echo "dyn_o_mite:"
			echo "  listen: 127.0.0.$net$i:17110"
			echo "  dyn_listen: 127.0.0.$net$i:17111"
			echo "  stats_listen: 127.0.0.$net$i:17210"
			echo "  datacenter: dc1"
			echo "  rack: rack$i"
			echo "  tokens: '0'"
			echo "  hints_dir: $work/hints-$name$i"
			if [ "$store" = redis ]; then
				echo "  servers:"
				echo "  - 127.0.0.$net$i:17010:1"
				echo "  data_store: 0"
			else
				echo "  data_store: 2"
			fi
			[ -z "$extra" ] || echo "  $extra"
			echo "  dyn_seeds:"
			for j in 1 2 3; do [ "$j" = "$i" ] || echo "  - 127.0.0.$net$j:17111:rack$j:dc1:0"; done
		} >"$work/$name$i.yml"
		dynonode "$name$i" "$work/$name$i.yml" "127.0.0.$net$i" 17110
	done
}
# cluster-*: one redis per rack, versions kept in the redis (the default),
# on 127.0.0.31..33; cluster-unversioned-*: one redis per rack, versions:
# false, on 127.0.0.61..63; cluster-embedded-*: embedded store with versions
# (the default), on 127.0.0.41..43; cluster-embedded-unversioned-*: embedded
# store, versions: false, on 127.0.0.51..53.
if wanted cluster-DC_; then cluster 3 rack redis "versions: true"; fi
if wanted cluster-unversioned-DC_; then cluster 6 nrack redis "versions: false"; fi
if wanted cluster-embedded-DC_; then cluster 4 erack embedded "versions: true"; fi
if wanted cluster-embedded-unversioned-; then cluster 5 urack embedded "versions: false"; fi
# cluster-nohints-*: as cluster-* (versions in each rack's redis) with
# hinted_handoff: false, on 127.0.0.71..73: what hinted handoff costs a
# healthy cluster.
if wanted cluster-nohints-DC_; then cluster 7 hrack redis "hinted_handoff: false"; fi
# cluster-tls-*: as cluster-* with every peer link mutual TLS 1.3
# (secure_server_option: all), on 127.0.0.91..93: what peer TLS costs.
if wanted cluster-tls-DC_; then
	cluster 9 tlsrack redis "secure_server_option: all
  tls_cert_file: $work/tls/server.pem
  tls_key_file: $work/tls/server-key.pem
  tls_ca_file: $work/tls/ca.pem"
fi

# cluster_of TARGET: its cluster's NET, node NAME prefix and STORE (see cluster).
cluster_of() {
	case $1 in
	cluster-embedded-unversioned-*) echo 5 urack embedded ;;
	cluster-embedded-*) echo 4 erack embedded ;;
	cluster-unversioned-*) echo 6 nrack redis ;;
	cluster-nohints-*) echo 7 hrack redis ;;
	cluster-tls-*) echo 9 tlsrack redis ;;
	cluster-*) echo 3 rack redis ;;
	esac
}

# check_replication TARGET ROUND: every rack's store holds the same number
# of keys (replication at DC_ONE is asynchronous: give it a few seconds):
# DBSIZE on each rack's redis, or on each embedded node's client port (the
# embedded store answers it with its own count). A redis behind a versioned
# node also holds the companion hashes __dyno:v (versions) and, once a key
# is deleted, __dyno:t (tombstones), and anti-entropy's data marker
# __dyno:m: they are not counted as keys, and the
# fields of __dyno:v (one per versioned key) are recorded beside the counts.
# Each cluster's racks are compared among themselves only (versioned with
# versioned, unversioned with unversioned).
: >"$work/replication.txt"
rack_keys() { # host port store: keys in one rack's store, companion hashes excluded
	local n c
	n=$(redis-cli -h "$1" -p "$2" dbsize)
	if [ "$3" = redis ]; then
		for c in __dyno:v __dyno:t __dyno:m; do n=$((n - $(redis-cli -h "$1" -p "$2" exists "$c"))); done
	fi
	echo "$n"
}
check_replication() {
	local counts net name store port=17010 extra="" i
	read -r net name store < <(cluster_of "$1")
	[ "$store" = redis ] || port=17110
	for _ in $(seq 1 50); do
		counts=$(for i in 1 2 3; do rack_keys "127.0.0.$net$i" "$port" "$store"; done | tr '\n' ' ')
		[ "$(echo "$counts" | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)" = 1 ] && break
		sleep 0.1
	done
	if [ "$store" = redis ]; then
		extra=" (__dyno:v fields $(for i in 1 2 3; do redis-cli -h "127.0.0.$net$i" -p "$port" hlen __dyno:v; done | tr '\n' ' ' | sed 's/ $//'))"
	fi
	echo "$1 round $2: ${counts% }$extra" >>"$work/replication.txt"
}

# settle TARGET: before a cluster's GETs are measured, wait (at most 10 s)
# until its racks' redis-servers are idle (under 50 commands in 200 ms:
# the purge runs one per second), so that the writes the SETs left queued
# for replicas (at DC_ONE the coordinator does not wait for them) do not
# load the reads. An embedded cluster gets a fixed second.
settle() {
	local net name store i a b busy
	read -r net name store < <(cluster_of "$1")
	if [ "$store" != redis ]; then sleep 1; return; fi
	total() { for i in 1 2 3; do redis-cli -h "127.0.0.$net$i" -p 17010 info stats | awk -F: '/^total_commands_processed/ {print $2+0}'; done | awk '{s += $1} END {print s}'; }
	for _ in $(seq 1 50); do
		a=$(total); sleep 0.2; b=$(total)
		busy=$((b - a))
		[ "$busy" -lt 50 ] && return 0
	done
	echo "bench: $1 still busy after 10 s ($busy commands in 200 ms)" >&2
}

set_level() { # target: its cluster's nodes, read and write, at the level its name ends in
	local net name store level=${1##*-} i
	read -r net name store < <(cluster_of "$1")
	for i in 1 2 3; do
		curl -fsS "http://127.0.0.$net$i:17210/set_consistency/read/$level" >/dev/null
		curl -fsS "http://127.0.0.$net$i:17210/set_consistency/write/$level" >/dev/null
	done
}

# cpu_ticks: the machine's busy and total CPU time so far, in clock ticks
# (all processes and the kernel: the benchmark client, the servers, the
# network stack). Around each run they give the machine's CPU per request
# and how much of its cores were busy: on a small machine every target is
# CPU-bound, and a proxy's ratio to redis direct is bounded by the CPU per
# request it adds.
cpu_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
HZ=$(getconf CLK_TCK)
# servers_of TARGET: the processes serving TARGET (the proxy or node and
# the redis behind it; a cluster's three nodes and three redis), whose CPU
# time splits the machine's CPU per request into the servers' and the
# rest's (the benchmark client, the kernel's work outside them).
servers_of() {
	case $1 in
	redis-direct) echo direct ;;
	twemproxy-redis) echo twemproxy twemproxy-redis ;;
	dynonode-redis) echo single single-redis ;;
	dynonode-redis-unversioned) echo single-unversioned single-unversioned-redis ;;
	dynonode-embedded) echo embedded ;;
	dynonode-embedded-unversioned) echo embedded-unversioned ;;
	cluster-embedded-unversioned-*) echo urack1 urack2 urack3 ;;
	cluster-embedded-*) echo erack1 erack2 erack3 ;;
	cluster-unversioned-*) echo nrack1 nrack2 nrack3 nrack1-redis nrack2-redis nrack3-redis ;;
	cluster-nohints-*) echo hrack1 hrack2 hrack3 hrack1-redis hrack2-redis hrack3-redis ;;
	cluster-tls-*) echo tlsrack1 tlsrack2 tlsrack3 tlsrack1-redis tlsrack2-redis tlsrack3-redis ;;
	cluster-*) echo rack1 rack2 rack3 rack1-redis rack2-redis rack3-redis ;;
	dynonode-embedded-tls) echo embedded-tls ;;
	esac
}
# server_ticks TARGET: "all datastores": the CPU ticks so far of TARGET's
# processes, and of those the datastores' (the redis behind a proxy or node).
server_ticks() {
	local total=0 ds=0 name t
	for name in $(servers_of "$1"); do
		t=$(awk '{print $14+$15}' "/proc/$(cat "$work/$name.pid")/stat")
		total=$((total + t))
		case $name in *-redis | direct) ds=$((ds + t)) ;; esac
	done
	echo "$total $ds"
}

targets=("redis-direct 127.0.0.1 17000" "twemproxy-redis 127.0.0.1 17103" "dynonode-redis 127.0.0.1 17101"
	"dynonode-redis-unversioned 127.0.0.1 17105" "dynonode-embedded 127.0.0.1 17102"
	"dynonode-embedded-unversioned 127.0.0.1 17104"
	"cluster-DC_ONE 127.0.0.31 17110" "cluster-DC_QUORUM 127.0.0.31 17110"
	"cluster-unversioned-DC_ONE 127.0.0.61 17110" "cluster-unversioned-DC_QUORUM 127.0.0.61 17110"
	"cluster-nohints-DC_ONE 127.0.0.71 17110" "cluster-nohints-DC_QUORUM 127.0.0.71 17110"
	"cluster-embedded-DC_ONE 127.0.0.41 17110" "cluster-embedded-DC_QUORUM 127.0.0.41 17110"
	"cluster-embedded-unversioned-DC_ONE 127.0.0.51 17110" "cluster-embedded-unversioned-DC_QUORUM 127.0.0.51 17110"
	"dynonode-embedded-tls 127.0.0.1 17106" "cluster-tls-DC_ONE 127.0.0.91 17110" "cluster-tls-DC_QUORUM 127.0.0.91 17110")
: >"$work/raw.csv"
for round in $(seq 1 "$ROUNDS"); do
	for t in "${targets[@]}"; do
		read -r name host port <<<"$t"
		if [ -n "$ONLY" ] && [ "$name" != redis-direct ] && [[ ",$ONLY," != *",$name,"* ]]; then continue; fi
		case $name in cluster-*) set_level "$name" ;; esac
		for p in $PIPES; do
			for test in set get; do
				read -r busy0 all0 < <(cpu_ticks)
				read -r srv0 ds0 < <(server_ticks "$name")
				tls=()
				case $name in dynonode-embedded-tls) tls=(--tls --cacert "$work/tls/ca.pem") ;; esac
				redis-benchmark -h "$host" -p "$port" "${tls[@]}" -t "$test" -n "$N" -c "$CLIENTS" -d "$SIZE" -r 100000 -P "$p" --csv 2>/dev/null |
					tail -n +2 | tr -d '"' >"$work/one.csv"
				read -r srv1 ds1 < <(server_ticks "$name")
				read -r busy1 all1 < <(cpu_ticks)
				while IFS=, read -r t rps _avg _min p50 _p95 p99 _max; do
					echo "$round,$name,$p,$t,$rps,$p50,$p99,$((busy1 - busy0)),$((all1 - all0)),$((srv1 - srv0)),$((ds1 - ds0))" >>"$work/raw.csv"
				done <"$work/one.csv"
				case $name in cluster-*) [ "$test" = set ] && settle "$name" ;; esac
			done
		done
		case $name in cluster-*) check_replication "$name" "$round" ;; esac
	done
	echo "bench: round $round of $ROUNDS done" >&2
done


mkdir -p "$OUT"
python3 - "$work/raw.csv" "$N" "$ROUNDS" "$work/replication.txt" "$OUT/bench.csv" "$HZ" >"$OUT/bench.md" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
n, rounds = sys.argv[2], sys.argv[3]
replication = [l.strip() for l in open(sys.argv[4]) if l.strip()]
hz = float(sys.argv[6])
med = {}
by_round = {}
cpu = {}  # (name, p, test) -> [(machine CPU us per request, busy share of all cores, servers' CPU us per request, datastores' of it)]
for rnd, name, p, test, rps, p50, p99, busy, total, srv, ds in rows:
    med.setdefault((name, p, test), []).append((float(rps), float(p50), float(p99)))
    by_round[(rnd, name, p, test)] = float(rps)
    if int(total) > 0:
        us = lambda ticks: int(ticks) / hz * 1e6 / int(n)
        cpu.setdefault((name, p, test), []).append((us(busy), int(busy) / int(total), us(srv), us(ds)))
def spread(name, p, t):
    # the ratio in each round, to redis direct in that round
    rs = [v / by_round[(r, "redis-direct", p, t)] for (r, n, pp, tt), v in by_round.items()
          if (n, pp, tt) == (name, p, t) and (r, "redis-direct", p, t) in by_round]
    return min(rs), max(rs)
def medians(v):
    # the median of each field of a list of tuples
    return tuple(statistics.median(x[i] for x in v) for i in range(len(v[0])))
def m(k):
    return medians(med[k])
def table(cell):
    # one markdown row per target, one column per pipeline depth and test;
    # cell(name, p, t) is the text, or None for "-"
    print("| target | " + " | ".join(f"P{p} {t}" for p, t in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for name in names:
        print(f"| {name} | " + " | ".join(cell(name, p, t) or "-" for p, t in cols) + " |")
names = list(dict.fromkeys(r[1] for r in rows))
print(f"redis-benchmark -n {n} -c 50 -d 64 -r 100000, median of {rounds} interleaved rounds; ratio = ops/s / redis-direct ops/s in this run, "
      "[lowest-highest] of the rounds' own ratios (each round to redis direct in that round)\n")
cols = [(p, t) for p in ("1", "16") for t in ("SET", "GET") if ("redis-direct", p, t) in med]
def ratio_cell(name, p, t):
    if (name, p, t) not in med:
        return None
    rps, p50, p99 = m((name, p, t))
    base = m(("redis-direct", p, t))[0]
    lo, hi = spread(name, p, t)
    rng = f" [{lo:.2f}-{hi:.2f}]" if name != "redis-direct" else ""
    return f"{rps/base:.2f}{rng} ({rps/1000:.1f}k/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms)"
table(ratio_cell)
def c(k):
    v = cpu.get(k, [])
    return medians(v) if v else (float("nan"),) * 4
def cpu_cell(name, p, t):
    if (name, p, t) not in cpu:
        return None
    us, share, srv, ds = c((name, p, t))
    return f"{us:.1f} us (servers {srv:.1f}, datastores {ds:.1f}), {share*100:.0f}% busy"
print("\nMachine CPU per request (all processes and the kernel: client, servers, network stack; median us), "
      "of it the servers' (the target's proxy or nodes and the redis behind them), and the share of the "
      "machine's cores busy meanwhile. Where every target keeps the cores near-busy, throughput is the "
      "machine's CPU divided by the CPU per request, and a proxy's ratio to redis direct cannot exceed "
      "redis direct's CPU per request divided by the proxy's:\n")
table(cpu_cell)
out = csv.writer(open(sys.argv[5], "w", newline=""))
out.writerow(["target", "pipeline", "test", "ops", "p50_ms", "p99_ms", "ratio", "ratio_lowest", "ratio_highest", "machine_cpu_us_per_request", "machine_busy_share", "servers_cpu_us_per_request", "datastores_cpu_us_per_request"])
for name in names:
    for p, t in cols:
        if (name, p, t) not in med:
            continue
        rps, p50, p99 = m((name, p, t))
        lo, hi = spread(name, p, t)
        us, share, srv, ds = c((name, p, t))
        out.writerow([name, p, t, f"{rps:.0f}", f"{p50:.3f}", f"{p99:.3f}", f"{rps / m(('redis-direct', p, t))[0]:.3f}", f"{lo:.3f}", f"{hi:.3f}", f"{us:.2f}", f"{share:.3f}", f"{srv:.2f}", f"{ds:.2f}"])
# What versions cost: each versioned target against its versions: false
# twin, the two measured back to back in every round.
pairs = [(v, u) for v, u in (("dynonode-redis", "dynonode-redis-unversioned"),
                             ("dynonode-embedded", "dynonode-embedded-unversioned"),
                             ("cluster-DC_ONE", "cluster-unversioned-DC_ONE"),
                             ("cluster-DC_QUORUM", "cluster-unversioned-DC_QUORUM"),
                             ("cluster-embedded-DC_ONE", "cluster-embedded-unversioned-DC_ONE"),
                             ("cluster-embedded-DC_QUORUM", "cluster-embedded-unversioned-DC_QUORUM"))
         if v in names and u in names]
def pair_table(intro, head, pairs):
    """One row per (a, b) pair measured in this run: a's ops/s over b's
    (medians), the rounds' own ratios' range, and the servers' CPU per
    request, a over b."""
    if not pairs:
        return
    print(intro)
    print(f"| {head} | " + " | ".join(f"P{p} {t}" for p, t in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for v, u in pairs:
        cells = []
        for p, t in cols:
            if (v, p, t) not in med or (u, p, t) not in med:
                cells.append("-")
                continue
            rs = [by_round[(r, v, p, t)] / by_round[(r, u, p, t)] for (r, nn, pp, tt) in by_round
                  if (nn, pp, tt) == (v, p, t) and (r, u, p, t) in by_round]
            (sv, dv), (su, du) = c((v, p, t))[2:4], c((u, p, t))[2:4]
            cpu_ratio = f"{sv / su:.2f}" if su > 0 else "-"
            if su > 0 and du > 0 and su > du:
                cpu_ratio += f" (proxies {(sv - dv) / (su - du):.2f}, datastores {dv / du:.2f})"
            cells.append(f"{m((v, p, t))[0] / m((u, p, t))[0]:.2f} [{min(rs):.2f}-{max(rs):.2f}], CPU {cpu_ratio}")
        print(f"| {v} | " + " | ".join(cells) + " |")
pair_table("\nVersions: versioned / unversioned (versions: true against versions: false), ops/s ratio of the medians, "
           "[lowest-highest] of the rounds' own ratios, and the servers' CPU per request, versioned / unversioned "
           "(medians; under 1.00 ops/s or over 1.00 CPU is what versions cost):\n", "versioned / unversioned", pairs)
# What hinted handoff costs a healthy cluster: hints on (the default)
# against hinted_handoff: false, both versioned on Redis.
hpairs = [(v, u) for v, u in (("cluster-DC_ONE", "cluster-nohints-DC_ONE"), ("cluster-DC_QUORUM", "cluster-nohints-DC_QUORUM"))
          if v in names and u in names]
pair_table("\nHinted handoff, healthy cluster: hints on / off (hinted_handoff: true against false), ops/s ratio of the medians, "
           "[lowest-highest] of the rounds' own ratios, and the servers' CPU per request, on / off:\n", "on / off", hpairs)
# What TLS costs: client TLS on one embedded node, mutual TLS on every
# peer link of a 3-rack Redis cluster, each against its plain twin.
tpairs = [(v, u) for v, u in (("dynonode-embedded-tls", "dynonode-embedded"), ("cluster-tls-DC_ONE", "cluster-DC_ONE"),
                              ("cluster-tls-DC_QUORUM", "cluster-DC_QUORUM"))
          if v in names and u in names]
pair_table("\nTLS / plain (client TLS on dynonode-embedded-tls; secure_server_option: all on cluster-tls-*), ops/s ratio of the medians, "
           "[lowest-highest] of the rounds' own ratios, and the servers' CPU per request, TLS / plain:\n", "TLS / plain", tpairs)
print("\nReference, from the issue (same method, ratios to redis direct): twemproxy P1 SET 0.95, GET 0.83, P16 SET 0.34, GET 0.25; "
      "Dynomite 1 node 0.92/1.05/0.42/0.27; 3 racks DC_ONE 0.50/1.01/0.05/0.19; DC_QUORUM 0.46/0.49/0.06/0.07.")
print("\nReplication (keys per rack's store after each cluster round: its redis, not counting the companion "
      "hashes __dyno:v and __dyno:t of a versioned node, or the embedded node's DBSIZE; in brackets the fields of "
      "__dyno:v, one per versioned key):\n")
short = 0
for line in replication:
    counts = line.split(": ", 1)[1].split(" (", 1)[0].split()
    ok = len(set(counts)) == 1
    short += 0 if ok else max(map(int, counts)) - min(map(int, counts))
    print(f"- {line}" + ("" if ok else "  <-- REPLICATION SHORTFALL"))
print(f"\nreplication shortfall: {short} keys")
PY
if [ "$IDLE" -gt 0 ]; then
	# Memory per idle client connection, on the embedded node.
	pid=$(cat "$work/embedded.pid")
	go run ./cmd/dynobench idle -addr 127.0.0.1:17102 -pid "$pid" -conns "$IDLE" >>"$OUT/bench.md" ||
		echo "bench: idle-connection check failed (ulimit -n?)" >&2
fi
if [ "$SOAK" -gt 0 ]; then
	# Memory under a steady load: RSS of the embedded node every tenth of
	# the run; it should level off, not grow.
	pid=$(cat "$work/embedded.pid")
	timeout "$SOAK" redis-benchmark -p 17102 -t set,get -n 100000000 -c 50 -d "$SIZE" -r 100000 -P 16 -q >/dev/null 2>&1 &
	load=$!
	samples=()
	for _ in $(seq 1 10); do
		sleep "$((SOAK / 10))"
		samples+=("$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")")
	done
	wait "$load" || true
	echo "soak: ${SOAK}s of SET/GET -P 16 on dynonode-embedded, RSS MiB every $((SOAK / 10))s: ${samples[*]}" >>"$OUT/bench.md"
fi
if [ "$REFILL" -gt 0 ]; then
	# Anti-entropy on a 3-rack cluster of its own (127.0.0.81..83), after
	# everything above: REFILL keys loaded at DC_QUORUM, rack3's datastore
	# emptied under a client load through node1, the time until node3 is
	# NORMAL again, the load's throughput meanwhile as a ratio to the same
	# load on the healthy cluster just before, then one idle round on the
	# converged cluster (per node; an hour at the default 10-minute
	# anti_entropy_interval is 6 rounds).
	{
		echo
		echo "anti-entropy, $REFILL keys, 3 racks (cmd/dynobench refill):"
		echo
		echo "| store | keys | refill s | keys pulled | healthy ops/s | ops while refilling / healthy | on-demand round, CPU s per node | on-demand round, bytes sent per node | idle hour at the default interval, CPU s per node | idle hour, bytes sent per node |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
	} >>"$OUT/bench.md"
	for store in redis embedded; do
		go run ./cmd/dynobench refill -store "$store" -keys "$REFILL" -dynonode "$BIN" -out "$OUT/bench.md" ||
			echo "bench: anti-entropy refill ($store) failed" >&2
	done
fi
go run ./cmd/dynobench chart -in "$OUT/bench.csv" -out "$OUT/bench.png"
cat "$OUT/bench.md"
