"""Helpers for bench/run.sh: the measurements that are easier in Python than in bash, and the table.

  startup BIN PORT RUNS DIR    spawn `BIN serve` RUNS times, each on a fresh SQLite database in DIR, and time
                               spawn -> first 200 from GET /readyz (polled every 10 ms); the serve environment
                               is inherited, SENTRY_DATABASE_URL and SENTRY_HTTP_PORT are overridden
  replay BIN FILE PLAYBOOKS [SOURCE ITEMS_PER_LINE]
                               `taskset -c 0 BIN detect replay FILE [--source SOURCE]`; its rate and the child's
                               peak RSS; ITEMS_PER_LINE (statuses per poll line) gives items_per_s
  parse FILE                   `taskset -c 0` python3 with orjson: json.loads of every line (the cost of reading
                               the file with a fast parser); lines/s and items/s (elements of a top-level list)
  socket BIN RUNS COMMANDS WINDOW PIN
                               `BIN bench socket` RUNS times (`taskset -c 0` when PIN is yes): each run sends
                               COMMANDS `/sentry help` envelopes over one loopback Socket Mode socket, then the same
                               command over signed HTTP, WINDOW in flight; the medians over the runs of acked/s and
                               of the p50 and p99 latencies, for each transport
  stats BIN ALERTS ROUNDS      `BIN bench stats`: ALERTS alerts seeded through the engine over 30 days in a fresh SQLite
                               file, then `/sentry stats 30d` (read, count, render) ROUNDS times; median and max seconds
  clicks BIN CLICKS ROUNDS [CONCURRENCY BATCH]
                               `taskset -c 0 BIN bench clicks`: CLICKS acks on one alert through the engine and a fresh
                               SQLite file, CONCURRENCY at once (1), committed together up to BATCH (64); medians
  ack-form ALERT SIM_PORT       the form body of a click on ALERT's `ack` button (answers to the simulator on SIM_PORT)
  scale BIN ALERTS AUDIT ROUNDS `BIN bench scale`: clicks and detections through the engine and SQLite on an empty
                               store and on one with ALERTS finished alerts and AUDIT audit entries, alternated; medians
  sqlite-ceiling CLICKS ROUNDS the ack click's SQL on raw SQLite from Python's sqlite3, one click per transaction
                               (the ceiling of `sentry bench clicks`); median rate, p50 and p99 over ROUNDS fresh files
  rss PID...                   VmRSS and VmHWM summed over the processes, in kB
  count DB PREFIX              rows in the database: detections whose id starts with PREFIX, the alerts they
                               landed on, and every outbox and audit row
  table RESULTS                the markdown table from run.sh's key=value results file

Every command prints key=value pairs on one line; on failure it says why on stderr and exits non-zero."""
import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def ack_form(alert, simulator_port):
    """The form body of a signed click on ALERT's `ack` button, its answer sent to the Slack simulator's response URL."""
    payload = {"type": "block_actions", "user": {"id": "U0BENCH", "username": "bench"}, "api_app_id": "A0BENCH",
               "trigger_id": "1.2.3", "container": {"type": "message", "message_ts": "1.0", "channel_id": "C0BENCH"},
               "channel": {"id": "C0BENCH"}, "response_url": f"http://127.0.0.1:{simulator_port}/response/bench",
               "actions": [{"type": "button", "action_id": "ack", "block_id": "alert_actions", "value": alert}]}
    sys.stdout.write("payload=" + urllib.parse.quote(json.dumps(payload)))


def die(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def terminate(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def startup(binary, port, runs, folder):
    os.makedirs(folder, exist_ok=True)
    url = f"http://127.0.0.1:{port}/readyz"
    times = []
    for run in range(int(runs)):
        database = os.path.join(folder, f"startup-{run}.db")
        log_path = os.path.join(folder, f"startup-{run}.log")
        env = dict(os.environ, SENTRY_DATABASE_URL=f"sqlite:{database}", SENTRY_HTTP_PORT=str(port),
                   SENTRY_HTTP_HOST="127.0.0.1")
        with open(log_path, "wb") as log:
            started = time.monotonic()
            process = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                while True:
                    if process.poll() is not None:
                        tail = open(log_path, errors="replace").read()[-600:]
                        die(f"start {run + 1}: sentry serve exited with {process.returncode} before /readyz answered 200:\n{tail}")
                    if time.monotonic() - started > 60:
                        die(f"start {run + 1}: GET {url} did not answer 200 within 60 s")
                    try:
                        with urllib.request.urlopen(url, timeout=1) as answer:
                            if answer.status == 200:
                                times.append((time.monotonic() - started) * 1000)
                                break
                    except (urllib.error.URLError, ConnectionError, OSError):
                        pass
                    time.sleep(0.01)
            finally:
                terminate(process)
    print(f"median_ms={statistics.median(times):.1f} min_ms={min(times):.1f} max_ms={max(times):.1f} runs={len(times)}")


def replay(binary, path, playbooks, source=None, items_per_line="1"):
    command = [binary, "detect", "replay", path, "--playbooks", playbooks] + (["--source", source] if source else [])
    pinned = shutil.which("taskset") is not None
    if pinned:
        command = ["taskset", "-c", "0"] + command
    else:
        print("taskset not found: replay runs unpinned", file=sys.stderr)
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # Only this child has been waited for, so the children's maximum is its peak RSS (kB on Linux).
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode != 0:
        die(f"sentry detect replay exited with {result.returncode}: {result.stderr.strip()[-400:]}")
    match = re.search(r"replayed (\d+) lines \((\d+) events.*?\) → (\d+) detections in ([\d.]+) s", result.stderr)
    if not match:
        die(f"sentry detect replay printed no summary line: {result.stderr.strip()[-400:]}")
    lines, events, detections, seconds = int(match[1]), int(match[2]), int(match[3]), float(match[4])
    print(f"lines={lines} events={events} detections={detections} seconds={seconds:.2f} "
          f"events_per_s={events / seconds if seconds else 0:.0f} lines_per_s={lines / seconds if seconds else 0:.0f} "
          f"items_per_s={lines * int(items_per_line) / seconds if seconds else 0:.0f} "
          f"peak_rss_kb={peak_kb} pinned={'yes' if pinned else 'no'}")


def parse(path):
    """Run in a child pinned to core 0, so the figure is comparable with the replay's."""
    pinned = shutil.which("taskset") is not None
    script = (
        "import sys, time, orjson\n"
        "lines = items = 0\n"
        "start = time.perf_counter()\n"
        "with open(sys.argv[1], 'rb') as f:\n"
        "    for line in f:\n"
        "        if line.strip():\n"
        "            value = orjson.loads(line)\n"
        "            lines += 1\n"
        "            items += len(value) if isinstance(value, list) else 1\n"
        "seconds = time.perf_counter() - start\n"
        "print(f'lines={lines} items={items} seconds={seconds:.2f} lines_per_s={lines / seconds:.0f} items_per_s={items / seconds:.0f} '\n"
        "      f'orjson={orjson.__version__}')\n")
    command = [sys.executable, "-c", script, path]
    if pinned:
        command = ["taskset", "-c", "0"] + command
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        die(f"orjson parse failed: {result.stderr.strip()[-400:]}")
    print(result.stdout.strip() + f" pinned={'yes' if pinned else 'no'}")


def socket(binary, runs, commands, window, pin):
    pinned = pin == "yes" and shutil.which("taskset") is not None
    command = [binary, "bench", "socket", "--commands", commands, "--window", window]
    if pinned:
        command = ["taskset", "-c", "0"] + command
    line = re.compile(r"^(socket|http) help: (\d+) in ([\d.]+) s = ([\d.]+)/s, latency p50 ([\d.]+) ms p99 ([\d.]+) ms")
    figures = {"socket": [], "http": []}
    for run in range(int(runs)):
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        if result.returncode != 0:
            die(f"sentry bench socket exited with {result.returncode}: {result.stderr.strip()[-400:]}")
        found = [m for m in map(line.match, result.stdout.splitlines()) if m]
        if {m[1] for m in found} != {"socket", "http"}:
            die(f"sentry bench socket printed no result lines: {result.stdout.strip()[-400:]}")
        for m in found:
            figures[m[1]].append((float(m[4]), float(m[5]), float(m[6])))
    out = [f"runs={runs} commands={commands} window={window} pinned={'yes' if pinned else 'no'}"]
    for name, rows in figures.items():
        rates, p50s, p99s = zip(*rows)
        out.append(f"{name}_rps={statistics.median(rates):.0f} {name}_p50_ms={statistics.median(p50s):.2f} "
                   f"{name}_p99_ms={statistics.median(p99s):.2f} {name}_p99_max_ms={max(p99s):.2f}")
    print(" ".join(out))


def scale(binary, alerts, audit, rounds):
    """`sentry bench scale`: clicks and detections on an empty store and on one with ALERTS finished alerts and AUDIT
    audit entries, alternating for ROUNDS rounds; the medians of each."""
    result = subprocess.run([binary, "bench", "scale", "--alerts", alerts, "--audit", audit, "--rounds", rounds],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=3600)
    if result.returncode != 0:
        die(f"sentry bench scale exited with {result.returncode}: {result.stderr.strip()[-400:]}")
    m = re.search(r"scale: (\d+) finished alerts, (\d+) audit entries \(seeded in ([\d.]+) s, (\d+) MB\); median of (\d+): "
                  r"empty (\d+) clicks/s p99 (\d+) us, (\d+) detections/s p99 (\d+) us; "
                  r"large (\d+) clicks/s p99 (\d+) us, (\d+) detections/s p99 (\d+) us", result.stdout)
    if not m:
        die(f"sentry bench scale printed no result line: {result.stdout.strip()[-400:]}")
    print(f"alerts={m[1]} audit={m[2]} seeded_s={m[3]} mb={m[4]} rounds={m[5]} empty_clicks={m[6]} empty_clicks_p99_us={m[7]} "
          f"empty_ingest={m[8]} empty_ingest_p99_us={m[9]} large_clicks={m[10]} large_clicks_p99_us={m[11]} "
          f"large_ingest={m[12]} large_ingest_p99_us={m[13]}")


def stats(binary, alerts, rounds):
    result = subprocess.run([binary, "bench", "stats", "--alerts", alerts, "--rounds", rounds],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1800)
    if result.returncode != 0:
        die(f"sentry bench stats exited with {result.returncode}: {result.stderr.strip()[-400:]}")
    m = re.search(r"stats 30d: (\d+) alerts \(seeded in ([\d.]+) s\); median of (\d+): ([\d.]+) s \(read and counted ([\d.]+) s, "
                  r"rendered ([\d.]+) s\), max ([\d.]+) s", result.stdout)
    if not m:
        die(f"sentry bench stats printed no result line: {result.stdout.strip()[-400:]}")
    print(f"alerts={m[1]} seeded_s={m[2]} rounds={m[3]} median_s={m[4]} read_s={m[5]} render_s={m[6]} max_s={m[7]}")


def clicks(binary, count, rounds, concurrency="1", batch="64"):
    """`sentry bench clicks`: the ack click's transaction through the engine and SQLite, no HTTP, one core; CONCURRENCY
    clicks at once, committed together up to BATCH at a time."""
    result = subprocess.run(["taskset", "-c", "0", binary, "bench", "clicks", "--clicks", count, "--rounds", rounds,
                             "--concurrency", concurrency, "--commit-batch", batch],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1800)
    if result.returncode != 0:
        die(f"sentry bench clicks exited with {result.returncode}: {result.stderr.strip()[-400:]}")
    m = re.search(r"clicks: (\d+) per round, (\d+) at once, commits of up to (\d+); median of (\d+): (\d+) clicks/s, "
                  r"p50 ([\d.]+) us, p99 ([\d.]+) us", result.stdout)
    if not m:
        die(f"sentry bench clicks printed no result line: {result.stdout.strip()[-400:]}")
    print(f"clicks={m[1]} concurrency={m[2]} batch={m[3]} rounds={m[4]} rps={m[5]} p50_us={m[6]} p99_us={m[7]}")


def sqlite_ceiling(count, rounds):
    """The ack click's SQL on raw SQLite, from Python's sqlite3 (the same library, WAL, synchronous=NORMAL): per click
    BEGIN IMMEDIATE, the alert's revision and body read by id, the ephemeral answer's outbox row inserted or ignored
    by its keys, COMMIT; the tables and indexes the click touches, a body the size of a real alert. No JSON decoding,
    no machine, no Swift: what SQLite itself costs for the work `sentry bench clicks` does, one core."""
    import tempfile
    body = json.dumps({"id": "A-CLICKS", "status": "acknowledged", "title": "bench", "evidence": "x" * 1800})
    effect = json.dumps({"tellUser": {"userID": "U0BENCH", "text": "Already acknowledged by <@U0BENCH>.",
                                      "responseURL": "http://127.0.0.1:9/response/bench"}})
    rates, p50s, p99s = [], [], []
    for _ in range(int(rounds)):
        with tempfile.TemporaryDirectory(prefix="sentry-sqlite-ceiling-") as folder:
            db = sqlite3.connect(os.path.join(folder, "clicks.db"), isolation_level=None)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript("""
                CREATE TABLE alert (id TEXT PRIMARY KEY NOT NULL, group_key TEXT NOT NULL, status TEXT NOT NULL,
                  created_at REAL NOT NULL, updated_at REAL NOT NULL, revision INTEGER NOT NULL, body TEXT NOT NULL);
                CREATE INDEX alert_by_status ON alert(status, created_at);
                CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT, effect TEXT NOT NULL,
                  coalesce_key TEXT, idempotency_key TEXT NOT NULL UNIQUE, state TEXT NOT NULL DEFAULT 'pending',
                  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL, created_at REAL NOT NULL,
                  finished_at REAL, last_error TEXT, ordered INTEGER NOT NULL DEFAULT 1, leased_by TEXT, leased_until REAL);
                CREATE UNIQUE INDEX outbox_coalesce ON outbox(coalesce_key) WHERE state = 'pending' AND coalesce_key IS NOT NULL;
                CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
                CREATE INDEX outbox_lane ON outbox(alert_id, state, ordered, id);
            """)
            now = time.time()
            db.execute("INSERT INTO alert VALUES ('A-CLICKS', 'bench|ip:203.0.113.7', 'acknowledged', ?, ?, 1, ?)", (now, now, body))
            latencies = []
            began = time.perf_counter()
            for n in range(int(count)):
                start = time.perf_counter()
                db.execute("BEGIN IMMEDIATE")
                db.execute("SELECT revision FROM alert WHERE id = ?", ("A-CLICKS",)).fetchone()
                db.execute("SELECT body FROM alert WHERE id = ?", ("A-CLICKS",)).fetchone()
                at = time.time()
                db.execute("INSERT OR IGNORE INTO outbox (alert_id, effect, coalesce_key, idempotency_key, next_attempt_at, created_at, ordered) "
                           "VALUES (?, ?, ?, ?, ?, ?, 0)", ("A-CLICKS", effect, "tell:A-CLICKS:U0BENCH", f"click:{n}", at, at))
                db.execute("COMMIT")
                latencies.append(time.perf_counter() - start)
            rates.append(int(count) / (time.perf_counter() - began))
            latencies.sort()
            p50s.append(latencies[len(latencies) // 2])
            p99s.append(latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)])
            db.close()
    print(f"clicks={count} rounds={rounds} rps={statistics.median(rates):.0f} "
          f"p50_us={statistics.median(p50s) * 1e6:.1f} p99_us={statistics.median(p99s) * 1e6:.1f}")


def rss(pids):
    total = {"VmRSS": 0, "VmHWM": 0}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    key, _, value = line.partition(":")
                    if key in total:
                        total[key] += int(value.split()[0])
        except FileNotFoundError:
            die(f"process {pid} is gone")
    print(f"rss_kb={total['VmRSS']} hwm_kb={total['VmHWM']}")


def count(database, prefix):
    if not os.path.exists(database):
        die(f"{database} does not exist")
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    detections, alerts = db.execute(
        "SELECT COUNT(*), COUNT(DISTINCT alert_id) FROM detection_seen WHERE id LIKE ? ESCAPE '\\'", (like,)).fetchone()
    outbox = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    audit = db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    print(f"detections={detections} alerts={alerts} outbox={outbox} audit={audit}")


# ---- the table ----

def number(value, digits=None):
    """Thousands separators for rates, a few significant digits for small figures."""
    value = float(value)
    if digits is not None:
        return f"{value:,.{digits}f}"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(path):
    r = {}
    with open(path) as results:
        for line in results:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep:
                r[key] = value

    def failure(prefix):
        if f"{prefix}.error" in r:
            return "FAILED: " + r[prefix + ".error"].replace("|", "\\|")
        return None

    def cell(prefix, key, fmt=number):
        broken = failure(prefix)
        if broken:
            return broken
        if f"{prefix}.{key}" not in r:
            return "FAILED: no result recorded (see the log above)"
        return fmt(r[f"{prefix}.{key}"])

    def mib(prefix, key):
        return cell(prefix, key, lambda kb: number(int(kb) / 1024))

    def latency(prefix):
        if failure(prefix) or f"{prefix}.p50_ms" not in r:
            return cell(prefix, "p50_ms")
        return f"{cell(prefix, 'p50_ms')} / {cell(prefix, 'p99_ms')}"

    def pair(prefix, a, b):
        if failure(prefix) or f"{prefix}.{a}" not in r:
            return cell(prefix, a)
        return f"{cell(prefix, a)} / {cell(prefix, b)}"

    def errors(prefix):
        if failure(prefix) or f"{prefix}.non2xx" not in r:
            return "?"
        return f"{r[prefix + '.non2xx']}/{r[prefix + '.sockerr']}"

    def ratio(a, b):
        try:
            return f"{float(r[a + '.rps']) / float(r[b + '.rps']):.1f}×"
        except (KeyError, ValueError, ZeroDivisionError):
            return "n/a"

    def warn(prefix):
        try:
            bad = int(r[f"{prefix}.non2xx"]) + int(r[f"{prefix}.sockerr"])
            return f" **{bad} failed requests: figures are not valid**" if bad else ""
        except (KeyError, ValueError):
            return ""

    rows = [
        ("`/slack/commands` (`/sentry help`) throughput", cell("cmd.sentry", "rps"), cell("cmd.peer", "rps"),
         f"req/s; sentry/peer {ratio('cmd.sentry', 'cmd.peer')}; "
         f"HTTP errors/socket errors {errors('cmd.sentry')} vs {errors('cmd.peer')}{warn('cmd.sentry')}"),
        ("`/slack/commands` latency p50 / p99", latency("cmd.sentry"), latency("cmd.peer"), "ms"),
        *ceiling_rows(r),
        ("`/slack/interactivity` (`ack` click) throughput", cell("ack.sentry", "rps"), cell("ack.peer", "rps"),
         f"req/s; sentry/peer {ratio('ack.sentry', 'ack.peer')}; each Sentry click is a SQLite transaction "
         f"({r.get('ack.outbox', '?')} outbox rows), the peer persists nothing; "
         f"HTTP errors/socket errors {errors('ack.sentry')} vs {errors('ack.peer')}{warn('ack.sentry')}"),
        ("`/slack/interactivity` latency p50 / p99", latency("ack.sentry"), latency("ack.peer"), "ms"),
        ("`/hooks/detections` ingest", cell("hook", "accepted_rps"), "—",
         f"202s/s; a unique id per request, subject ip from {r.get('hook.subjects', '?')} per wrk thread "
         f"(first creates an alert, the rest are grouped); {hook_errors(r)}{warn('hook')}"),
        ("`/hooks/detections` latency p50 / p99", latency("hook"), "—", "ms"),
        ("detections stored / accepted", stored(r), "—",
         f"`detection_seen` rows with the run's ids vs 202 answers, counted after shutdown "
         f"({r.get('hook.alerts', '?')} alerts; {r.get('hook.duplicates', '?')} answered duplicate)"),
        ("replay (`sentry detect replay`)", cell("replay", "lines_per_s"), "—", replay_notes(r)),
        ("replay peak RSS, whole file / a quarter of it", f"{mib('replay', 'peak_rss_kb')} / {mib('replay.small', 'peak_rss_kb')}", "—",
         f"MiB, peak RSS of the replay process over the {number(r.get('replay.requested', 0), 0)} lines and over "
         f"{number(r.get('replay.small.requested', 0), 0)} lines generated the same way"),
        ("audit log read by orjson", cell("parse.audit", "lines_per_s"), "—",
         f"lines/s, `orjson.loads` of each line of the same file, one core "
         f"({r.get('parse.audit.orjson', '?')}); replay/parse {rate_ratio(r, 'replay.lines_per_s', 'parse.audit.lines_per_s')}"),
        ("uplink replay (`--source meraki-uplinks`)", cell("uplinks", "items_per_s"), "—", uplink_notes(r)),
        ("uplink polls read by orjson", cell("parse.uplinks", "items_per_s"), "—",
         f"statuses/s, `orjson.loads` of each poll line of the same file, one core; "
         f"replay/parse {rate_ratio(r, 'uplinks.items_per_s', 'parse.uplinks.items_per_s')}"),
        ("Socket Mode `/sentry help` envelopes acked", cell("socket", "socket_rps"), "—", socket_notes(r)),
        ("Socket Mode ack latency p50 / p99", pair("socket", "socket_p50_ms", "socket_p99_ms"), "—",
         f"ms from the simulator's send of an envelope to its ack (worst run's p99 {r.get('socket.socket_p99_max_ms', '?')})"),
        ("the same over HTTP, same runs", cell("socket", "http_rps"), "—",
         "req/s, signed `POST /slack/commands` from an in-process client, each run right after its socket half"),
        ("HTTP latency p50 / p99, same runs", pair("socket", "http_p50_ms", "http_p99_ms"), "—",
         f"ms (worst run's p99 {r.get('socket.http_p99_max_ms', '?')})"),
        ("`/sentry stats 30d` over a large store", cell("stats", "median_s"), "—",
         f"s, median of {r.get('stats.rounds', '?')} (max {r.get('stats.max_s', '?')}): {number(r.get('stats.alerts', 0), 0)} alerts "
         f"over 30 days in one SQLite file, all in range (read and counted {r.get('stats.read_s', '?')} s, rendered "
         f"{r.get('stats.render_s', '?')} s; `sentry bench stats`); Slack waits 3 s"),
        ("RSS idle", mib("idle.sentry", "rss_kb"), mib("idle.peer", "rss_kb"),
         "MiB after start, before load; peer: gunicorn master + 2 workers"),
        ("RSS peak under load", mib("load.sentry", "hwm_kb"), mib("load.peer", "hwm_kb"),
         "MiB, VmHWM after all wrk runs (peer: summed over its processes)"),
        ("start-up to ready", cell("startup", "median_ms"), "—",
         f"ms from spawn to the first 200 from `GET /readyz` (polled every 10 ms), median of "
         f"{r.get('startup.runs', '?')} starts on fresh databases "
         f"(min {r.get('startup.min_ms', '?')}, max {r.get('startup.max_ms', '?')})"),
    ] + replica_rows(r)
    print("| measure | sentry | Bolt peer | unit/notes |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def socket_notes(r):
    pinned = "`taskset -c 0`" if r.get("socket.pinned") == "yes" else "not pinned"
    return (f"envelopes/s over one loopback socket (`sentry bench socket`: simulator, `SentryApplication` on SQLite and driver "
            f"in one process, {pinned}), {r.get('socket.window', '?')} in flight, {r.get('socket.commands', '?')} per run, "
            f"median of {r.get('socket.runs', '?')} runs, each followed by the HTTP half")


REPLICA_CONFIGS = (("sqlite1", "SQLite, 1 replica"), ("pg1", "PostgreSQL, 1 replica"), ("pg2", "PostgreSQL, 2 replicas"))


def replica_rows(r):
    """Medians over the rounds of each configuration; a round that failed says why when none succeeded."""
    rounds = int(r.get("rep.rounds", "1"))
    rows = []

    def values(config, key):
        found = []
        for n in range(1, rounds + 1):
            try:
                found.append(float(r[f"rep.{config}.r{n}.{key}"]))
            except (KeyError, ValueError):
                pass
        return found

    def errors(config, part):
        return [r[f"rep.{config}.r{n}.{part}.error"] for n in range(1, rounds + 1) if f"rep.{config}.r{n}.{part}.error" in r]

    def median_cell(config, part, key, unit=""):
        found = values(config, f"{part}.{key}")
        if not found:
            broken = errors(config, part)
            return "FAILED: " + (broken[0].replace("|", "\\|") if broken else "no result recorded (see the log above)")
        return number(statistics.median(found)) + unit

    def failed_requests(config, part):
        bad = sum(values(config, f"{part}.non2xx")) + sum(values(config, f"{part}.sockerr"))
        return f" **{bad:.0f} failed requests: figures are not valid**" if bad else ""

    def of_rounds(config, part):
        done = len(values(config, f"{part}.rps"))
        return f"median of {done} round{'s' if done != 1 else ''}" + (f" ({rounds - done} failed)" if done < rounds else "")

    spread = "wrk's 2 threads one per replica (`BENCH_PORTS`)"
    for config, name in REPLICA_CONFIGS:
        rows.append((f"`ack` clicks, {name}: throughput / p99",
                     f"{median_cell(config, 'ack', 'rps')} / {median_cell(config, 'ack', 'p99_ms', ' ms')}", "—",
                     f"clicks/s (each a transaction) and p99 latency; {of_rounds(config, 'ack')}"
                     f"{'; ' + spread if config == 'pg2' else ''}; outbox rows after: "
                     f"{', '.join(f'{v:.0f}' for v in values(config, 'outbox')) or '?'}{failed_requests(config, 'ack')}"))
    for config, name in REPLICA_CONFIGS:
        stored_rows, accepted = sum(values(config, "detections")), sum(values(config, "hook.accepted"))
        if not values(config, "hook.accepted") or not values(config, "detections"):
            verdict = "not counted"
        elif stored_rows < accepted:
            verdict = f"**{accepted - stored_rows:.0f} LOST**"
        else:
            verdict = "nothing lost" + (f" ({stored_rows - accepted:.0f} in flight when wrk stopped)" if stored_rows > accepted else "")
        rows.append((f"`/hooks/detections`, {name}: ingest / p99",
                     f"{median_cell(config, 'hook', 'accepted_rps')} / {median_cell(config, 'hook', 'p99_ms', ' ms')}", "—",
                     f"202s/s; {of_rounds(config, 'hook')}{'; ' + spread if config == 'pg2' else ''}; stored/accepted over the "
                     f"rounds {stored_rows:,.0f} / {accepted:,.0f} ({verdict}){failed_requests(config, 'hook')}"))
    rows.append(("click on replica A → chat.update from replica B, p50 / p99", cross_cell(r), "—", cross_notes(r)))
    return rows


def cross_cell(r):
    if "cross.error" in r:
        return "FAILED: " + r["cross.error"].replace("|", "\\|")
    if "cross.b_p50_ms" not in r:
        return f"FAILED: no update sent by B ({r.get('cross.b_count', '?')} of {r.get('cross.clicks', '?')})"
    return f"{r['cross.b_p50_ms']} / {r['cross.b_p99_ms']} ms"


def cross_notes(r):
    notes = ("ms from the click sent to A to B's chat.update reaching the simulator (bench/cross_replica.py: two replicas "
             "on one PostgreSQL, each through a proxy of its own; A's database role may not UPDATE outbox, so its runner "
             "leases nothing and B, woken by NOTIFY, runs all A queues); target p50 < 50 ms")
    if "cross.clicks" in r:
        notes += (f"; {r['cross.clicks']} clicks 1–2 s apart: {r.get('cross.b_count', '?')} updates by B "
                  f"(max {r.get('cross.b_max_ms', '?')} ms), {r.get('cross.a_count', '?')} by A, "
                  f"{int(r['cross.clicks']) - int(r.get('cross.updated', 0))} missing; alerts posted twice: "
                  f"{r.get('cross.duplicate_posts', '?')}")
    return notes


def hook_errors(r):
    try:
        return f"non-202 answers {int(r['hook.requests']) - int(r['hook.accepted'])}, socket errors {r['hook.sockerr']}"
    except (KeyError, ValueError):
        return "non-202 answers ?"


def replay_notes(r):
    pinned = "`taskset -c 0`" if r.get("replay.pinned", "yes") == "yes" else "NOT pinned: taskset missing"
    notes = f"entries/s on one core ({pinned}) over {number(r.get('replay.requested', 0), 0)} generated audit lines"
    if "replay.events" in r:
        notes += (f": {number(r['replay.events'], 0)} events (the rest duplicates; {number(r['replay.events_per_s'], 0)} events/s), "
                  f"{r['replay.detections']} detections in {r['replay.seconds']} s")
    return notes


def rate_ratio(r, a, b):
    try:
        return f"{float(r[a]) / float(r[b]):.2f}×"
    except (KeyError, ValueError, ZeroDivisionError):
        return "n/a"


def ceiling_rows(r):
    """The slash command against a bare Hummingbird route (alternated rounds, medians), and the click without HTTP."""
    rounds = int(r.get("ceiling.rounds", "0") or 0)

    def median(prefix, key):
        found = []
        for n in range(1, rounds + 1):
            try:
                found.append(float(r[f"{prefix}.r{n}.{key}"]))
            except (KeyError, ValueError):
                pass
        return statistics.median(found) if found else None

    def shown(value, unit=""):
        return "FAILED: no result recorded (see the log above)" if value is None else number(value) + unit

    def first_error(prefix):
        for key in [f"{prefix}.error"] + [f"{prefix}.r{n}.error" for n in range(1, rounds + 1)]:
            if key in r:
                return "FAILED: " + r[key].replace("|", "\\|")
        return None

    route, sentry = median("ceiling.route", "rps"), median("ceiling.sentry", "rps")
    share = f"{sentry / route:.2f}×" if route and sentry else "n/a"
    def rounds_cell(prefix, rate):
        if rate is None:
            return first_error(prefix) or shown(None)
        failed = f" ({first_error(prefix)} in a round)" if first_error(prefix) else ""
        return f"{shown(rate)} / {shown(median(prefix, 'p99_ms'), ' ms')}{failed}"

    route_cell, sentry_cell = rounds_cell("ceiling.route", route), rounds_cell("ceiling.sentry", sentry)
    store = r.get("ceiling.store.rps")
    store_cell = (first_error("ceiling.store") or
                  f"{number(store)} / {r.get('ceiling.store.p50_us', '?')} µs / {r.get('ceiling.store.p99_us', '?')} µs"
                  if store else first_error("ceiling.store") or "FAILED: no result recorded (see the log above)")
    raw = r.get("ceiling.sqlite.rps")
    raw_cell = (first_error("ceiling.sqlite") or
                f"{number(raw)} / {r.get('ceiling.sqlite.p50_us', '?')} µs / {r.get('ceiling.sqlite.p99_us', '?')} µs"
                if raw else first_error("ceiling.sqlite") or "FAILED: no result recorded (see the log above)")
    return [
        ("bare Hummingbird route, throughput / p99", route_cell, "—",
         f"req/s and ms: the same signed `/sentry help` form to a route that reads the body and answers a short string "
         f"(`sentry-bench-ceiling`), median of {rounds} rounds alternated with sentry"),
        ("`/slack/commands` in the same rounds, throughput / p99", sentry_cell, "—",
         f"req/s and ms; **sentry / bare route {share}**"),
        ("`ack` click without HTTP: clicks/s / p50 / p99", store_cell, "—",
         f"the click's transaction through the engine and the SQLite store (`sentry bench clicks`, one at a time, one core, "
         f"median of {r.get('ceiling.store.rounds', '?')} rounds of {number(r.get('ceiling.store.clicks', 0), 0)}); "
         f"HTTP clicks / store only {rate_ratio(r, 'ack.sentry.rps', 'ceiling.store.rps')}"),
        ("the click's SQL on raw SQLite: clicks/s / p50 / p99", raw_cell, "—",
         f"BEGIN IMMEDIATE, the alert read by id, the answer's outbox row, COMMIT, from Python's sqlite3 (WAL, "
         f"synchronous=NORMAL, one core, median of {r.get('ceiling.sqlite.rounds', '?')} rounds); "
         f"**store only / raw SQLite {rate_ratio(r, 'ceiling.store.rps', 'ceiling.sqlite.rps')}**"),
    ] + scale_rows(r)


def scale_rows(r):
    """The scale row: the same clicks and detections on an empty store and on a large one, and the ratios."""
    if "scale.error" in r:
        return [("clicks and detections, empty store vs a large one", f"FAILED: {r['scale.error']}", "—", "")]
    if "scale.large_clicks" not in r:
        return []
    def cell(store):
        return (f"{number(r[f'scale.{store}_clicks'])} clicks/s (p99 {r[f'scale.{store}_clicks_p99_us']} µs), "
                f"{number(r[f'scale.{store}_ingest'])} detections/s (p99 {r[f'scale.{store}_ingest_p99_us']} µs)")
    return [
        ("scale: clicks and detections without HTTP, empty store", cell("empty"), "—",
         f"`sentry bench scale`: the `ack` click and new detections over 1,000 subjects through the engine and SQLite, one "
         f"at a time, rounds alternated with the large store, median of {r.get('scale.rounds', '?')}"),
        (f"scale: the same on {number(r['scale.alerts'], 0)} finished alerts and {number(r['scale.audit'], 0)} audit entries",
         cell("large"), "—",
         f"a year of history ({r.get('scale.mb', '?')} MB, seeded in {r.get('scale.seeded_s', '?')} s; each subject's key carries "
         f"{number(int(r['scale.alerts']) // 1000, 0)} finished alerts); **large / empty: clicks {rate_ratio(r, 'scale.large_clicks', 'scale.empty_clicks')}, "
         f"detections {rate_ratio(r, 'scale.large_ingest', 'scale.empty_ingest')}**"),
    ]


def uplink_notes(r):
    notes = f"statuses/s on one core over {r.get('uplinks.requested', '?')}, generated (`generate_uplinks.py`)"
    if "uplinks.lines" in r:
        notes += (f": {number(r['uplinks.lines'], 0)} polls, {r['uplinks.events']} events, {r['uplinks.detections']} detections "
                  f"in {r['uplinks.seconds']} s, peak RSS {number(int(r.get('uplinks.peak_rss_kb', 0)) / 1024)} MiB")
    return notes


def stored(r):
    for key in ("hook.error", "hook.stored.error"):
        if key in r:
            return "FAILED: " + r[key].replace("|", "\\|")
    try:
        stored_rows, accepted = int(r["hook.stored"]), int(r["hook.accepted"])
    except (KeyError, ValueError):
        return "FAILED: no count recorded (see the log above)"
    # A request in flight when wrk stops can be stored without its answer being counted: more is fine, fewer is loss.
    if stored_rows < accepted:
        verdict = f"**{accepted - stored_rows} LOST**"
    elif stored_rows > accepted:
        verdict = f"nothing lost; {stored_rows - accepted} more were in flight when wrk stopped"
    else:
        verdict = "nothing lost"
    return f"{number(stored_rows, 0)} / {number(accepted, 0)} ({verdict})"


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = sys.argv[1:]
    commands = {"socket": (socket, 5), "startup": (startup, 4), "replay": (replay, 3), "count": (count, 2), "table": (table, 1), "parse": (parse, 1),
                "stats": (stats, 3), "clicks": (clicks, 3), "sqlite-ceiling": (sqlite_ceiling, 2),
                "scale": (scale, 4), "ack-form": (ack_form, 2)}
    if args and args[0] == "rss" and len(args) > 1:
        rss(args[1:])
    elif args and args[0] == "replay" and len(args) == 6:
        replay(*args[1:])
    elif args and args[0] == "clicks" and len(args) == 6:
        clicks(*args[1:])
    elif args and args[0] in commands and len(args) == commands[args[0]][1] + 1:
        commands[args[0]][0](*args[1:])
    else:
        die(__doc__)
