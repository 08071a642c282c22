"""Before and after for `sentry detect replay`: two builds alternated over the same generated files, one core each.

Usage: python3 bench/compare_replay.py OLD_BIN NEW_BIN [RUNS]   (RUNS: 5 unless given)
Knobs: BENCH_REPLAY_LINES (1000000), BENCH_UPLINK_APPLIANCES (100), BENCH_UPLINK_POLLS (3000), BENCH_KEEP_FILES (a folder:
generate the files there once and reuse them on later runs).

Each run replays the audit log and the uplink polls with each build in turn, then reads both files with orjson
(`json.loads` of each line, the cost of reading them with a fast parser), all pinned to core 0 with `taskset`. It prints
medians (and ranges) of the rates the replay reports (wall clock) and of the rates by CPU time of the process (user +
system: what the process would do on a core of its own, when the machine is shared), the peak RSS, and whether both
builds printed the same detections. The machine is noisy: compare within one run of this script."""
import hashlib
import os
import re
import statistics
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)


def run_pinned(command):
    """The command on core 0: its standard output and error, CPU seconds (user + system) and peak RSS (kB), the last
    two from the child's own resource usage."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(["taskset", "-c", "0"] + command, stdout=subprocess.PIPE, stderr=errors)
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        errors.seek(0)
        err = errors.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(command)} exited with {os.waitstatus_to_exitcode(status)}: {err[-400:]}")
    return out, err, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def replay(binary, path, items_per_line, source=None):
    command = [binary, "detect", "replay", path, "--playbooks", os.path.join(root, "Playbooks")] + (["--source", source] if source else [])
    out, err, cpu, rss = run_pinned(command)
    match = re.search(r"replayed (\d+) lines .*?→ (\d+) detections in ([\d.]+) s", err)
    if not match:
        raise SystemExit(f"no summary from {binary}: {err[-400:]}")
    items = int(match[1]) * items_per_line
    return {"wall": items / float(match[3]), "cpu": items / cpu, "rss": rss, "detections": int(match[2]),
            "digest": hashlib.sha256(out).hexdigest()}


def parse(path):
    script = ("import sys, time, orjson\n"
              "items = 0\n"
              "start = time.perf_counter()\n"
              "with open(sys.argv[1], 'rb') as f:\n"
              "    for line in f:\n"
              "        if line.strip():\n"
              "            value = orjson.loads(line)\n"
              "            items += len(value) if isinstance(value, list) else 1\n"
              "print(items, time.perf_counter() - start, orjson.__version__)\n")
    out, _, cpu, rss = run_pinned([sys.executable, "-c", script, path])
    items, seconds, version = out.decode().split()
    return {"wall": int(items) / float(seconds), "cpu": int(items) / cpu, "rss": rss, "version": version}


def summary(values):
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    old, new = (os.path.abspath(path) for path in sys.argv[1:3])
    runs = int(sys.argv[3]) if len(sys.argv) == 4 else 5
    lines = int(os.environ.get("BENCH_REPLAY_LINES", "1000000"))
    appliances = int(os.environ.get("BENCH_UPLINK_APPLIANCES", "100"))
    polls = int(os.environ.get("BENCH_UPLINK_POLLS", "3000"))
    folder = os.environ.get("BENCH_KEEP_FILES") or tempfile.mkdtemp(prefix="sentry-compare.")
    os.makedirs(folder, exist_ok=True)
    audit = os.path.join(folder, f"audit-{lines}.jsonl")
    uplinks = os.path.join(folder, f"uplinks-{appliances}x{polls}.jsonl")
    if not os.path.exists(audit):
        print(f"generating {lines} audit lines", file=sys.stderr)
        with open(audit, "w") as out:
            subprocess.run([sys.executable, os.path.join(here, "generate_audit_log.py"), str(lines)], stdout=out, check=True)
    if not os.path.exists(uplinks):
        print(f"generating {polls} polls of {appliances} appliances", file=sys.stderr)
        with open(uplinks, "w") as out:
            subprocess.run([sys.executable, os.path.join(here, "generate_uplinks.py"), str(appliances), str(polls)], stdout=out, check=True)
    results = {key: [] for key in ("old.audit", "new.audit", "old.uplinks", "new.uplinks", "orjson.audit", "orjson.uplinks")}
    for run in range(runs):
        print(f"run {run + 1} of {runs}", file=sys.stderr)
        for name, binary in (("old", old), ("new", new)) if run % 2 == 0 else (("new", new), ("old", old)):
            results[f"{name}.audit"].append(replay(binary, audit, 1))
            results[f"{name}.uplinks"].append(replay(binary, uplinks, appliances, "meraki-uplinks"))
        results["orjson.audit"].append(parse(audit))
        results["orjson.uplinks"].append(parse(uplinks))

    def same(kind):
        digests = {r["digest"] for r in results[f"old.{kind}"] + results[f"new.{kind}"]}
        return "identical" if len(digests) == 1 else f"**{len(digests)} different outputs**"

    print(f"\n{runs} runs, alternated, each pinned to core 0 (`taskset -c 0`); median (min–max)\n")
    print("| file | reader | wall clock rate | rate by CPU time | peak RSS MiB | detections |")
    print("|---|---|---|---|---|---|")
    for kind, label, unit in (("audit", f"{lines:,} audit lines", "entries/s"), ("uplinks", f"{appliances * polls:,} uplink statuses", "statuses/s")):
        for name, binary in (("old", old), ("new", new)):
            rows = results[f"{name}.{kind}"]
            print(f"| {label} | `{os.path.basename(binary)}` ({name}) | {summary([r['wall'] for r in rows])} {unit} | "
                  f"{summary([r['cpu'] for r in rows])} | {statistics.median(r['rss'] for r in rows) / 1024:.1f} | "
                  f"{rows[0]['detections']} ({same(kind)}) |")
        rows = results[f"orjson.{kind}"]
        print(f"| {label} | orjson {rows[0]['version']} | {summary([r['wall'] for r in rows])} {unit} | "
              f"{summary([r['cpu'] for r in rows])} | {statistics.median(r['rss'] for r in rows) / 1024:.1f} | — |")


if __name__ == "__main__":
    main()
