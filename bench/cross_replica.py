"""Cross-replica latency for bench/run.sh: a click handled by replica A, its chat.update sent by replica B.

  python3 cross_replica.py BIN SIM_PORT DATABASE_URL PORT_A PORT_B CLICKS DIR

Two `BIN serve` replicas share DATABASE_URL (PostgreSQL). Each reaches the Slack simulator (127.0.0.1:SIM_PORT)
through a forwarding proxy of its own, run here, so that every Web API request is known to come from A or from B
and is timestamped on arrival, on the same monotonic clock as the clicks.
Left alone, A's runner always wins the update of a click A handled (its own commit wakes it before PostgreSQL's
NOTIFY reaches B), so A logs in as a role of its own that may do everything but UPDATE outbox rows: its
transactions queue effects as usual (INSERT … ON CONFLICT DO NOTHING) and send NOTIFY, but its runner cannot lease
any (that is an UPDATE), so every effect A queues is run by B. B starts first and migrates the schema.
CLICKS alerts are created through A and posted by B; once the runners are idle, one signed `ack` click per alert
goes to A, one after the other, 1 to 2 s apart (each replica's SlackPacer allows ~50 chat.update a minute, burst
5: faster clicks would measure its queue). The latency of a click is from just before its request is sent to A
to the arrival of that alert's chat.update at B's proxy; an update arriving at A's proxy would mean A ran it.
The serve environment is inherited; SENTRY_DATABASE_URL, SENTRY_HTTP_PORT and SLACK_API_URL are set per replica.
Needs psql. Prints key=value pairs on one line; on failure says why on stderr and exits non-zero."""
import hashlib
import hmac
import http.client
import http.server
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

SECRET = os.environ.get("SLACK_SIGNING_SECRET", "")
TOKEN = os.environ.get("SENTRY_WEBHOOK_TOKEN", "")
lock = threading.Lock()
seen = []  # (monotonic seconds, replica, method, body bytes)
ROLE, PASSWORD = "bench_no_claim", "bench-no-claim"


def die(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def proxy(name, sim_port):
    local = threading.local()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def forward(self, body):
            arrived = time.monotonic()
            with lock:
                seen.append((arrived, name, self.path.rsplit("/", 1)[-1].split("?")[0], body))
            for attempt in (1, 2):
                if getattr(local, "conn", None) is None:
                    local.conn = http.client.HTTPConnection("127.0.0.1", sim_port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
                    local.conn.request(self.command, self.path, body=body if self.command == "POST" else None, headers=headers)
                    answer = local.conn.getresponse()
                    data = answer.read()
                    break
                except (http.client.HTTPException, OSError):
                    local.conn.close()
                    local.conn = None
                    if attempt == 2:
                        self.send_response(502)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def handle_one_request(self):
            try:
                super().handle_one_request()
            except OSError:
                self.close_connection = True

        def do_POST(self):
            self.forward(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def do_GET(self):
            self.forward(b"")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def top_level_posts():
    """chat.postMessage calls that posted an alert (not a thread reply), counted by alert id."""
    counts = {}
    with lock:
        bodies = [body for _, _, method, body in seen if method == "chat.postMessage"]
    for body in bodies:
        try:
            message = json.loads(body)
        except ValueError:
            continue
        alert = ((message.get("metadata") or {}).get("event_payload") or {}).get("alert_id")
        if alert and not message.get("thread_ts"):
            counts[alert] = counts.get(alert, 0) + 1
    return counts


def request(port, path, body, headers, method="POST"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def wait_ready(port, process, log_path, deadline=60):
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        if process.poll() is not None:
            die(f"a replica exited during start-up ({process.returncode}): {open(log_path, errors='replace').read()[-600:]}")
        try:
            if request(port, "/readyz", None, {}, "GET")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    die(f"replica on port {port} did not answer 200 on /readyz within {deadline} s")


def psql(url, sql):
    result = subprocess.run(["psql", "-qtA", "-v", "ON_ERROR_STOP=1", url, "-c", sql], capture_output=True, text=True)
    if result.returncode != 0:
        die(f"psql: {result.stderr.strip()[-300:]}")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def main(binary, sim_port, database_url, port_a, port_b, clicks, folder):
    sim_port, port_a, port_b, clicks = int(sim_port), int(port_a), int(port_b), int(clicks)
    proxies = {"A": proxy("A", sim_port), "B": proxy("B", sim_port)}
    processes = []
    try:
        def start(name, port, url):
            log_path = os.path.join(folder, f"cross-{name}.log")
            env = dict(os.environ, SENTRY_DATABASE_URL=url, SENTRY_HTTP_PORT=str(port),
                       SLACK_API_URL=f"http://127.0.0.1:{proxies[name]}/api")
            process = subprocess.Popen([binary, "serve"], env=env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT)
            processes.append((process, port, log_path))
            wait_ready(port, process, log_path)

        start("B", port_b, database_url)
        psql(database_url, f"""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'; END IF;
            END $$;
            GRANT CREATE, USAGE ON SCHEMA public TO {ROLE};
            GRANT ALL ON ALL TABLES IN SCHEMA public TO {ROLE};
            GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {ROLE};
            REVOKE UPDATE ON outbox FROM {ROLE};""")
        parts = urllib.parse.urlsplit(database_url)
        netloc = f"{ROLE}:{PASSWORD}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        start("A", port_a, urllib.parse.urlunsplit(parts._replace(netloc=netloc)))
        tag = f"x{int(time.time())}"
        alerts = []
        for i in range(clicks):
            ip = f"198.18.{i // 250}.{i % 250 + 1}"
            body = json.dumps({"id": f"bench-{tag}-{i}", "detection": "slack.failed_logins_by_ip",
                               "title": f"cross-replica {i}", "subject": {"ip": ip}}).encode()
            status, data = request(port_a, "/hooks/detections", body,
                                   {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
            if status != 202:
                die(f"POST /hooks/detections to A answered {status}: {data[:200]!r}")
            alerts.append(json.loads(data)["alert_id"])
        # Every alert is to be posted before its click, so that the update is the click's alone, and the runners idle.
        start = time.monotonic()
        while True:
            posted = top_level_posts()
            with lock:
                quiet = not seen or time.monotonic() - seen[-1][0] > 1.5
            if len(posted) >= clicks and quiet:
                break
            if time.monotonic() - start > 120:
                die(f"only {len(posted)} of {clicks} alerts were posted within 120 s")
            time.sleep(0.1)
        sent = {}
        for alert in alerts:
            payload = {"type": "block_actions", "user": {"id": "U0BENCH", "username": "bench"}, "api_app_id": "A0BENCH",
                       "trigger_id": "1.2.3", "container": {"type": "message", "message_ts": "1.0", "channel_id": "C0BENCH"},
                       "channel": {"id": "C0BENCH"}, "response_url": f"http://127.0.0.1:{proxies['A']}/response/bench",
                       "actions": [{"type": "button", "action_id": "ack", "block_id": "alert_actions", "value": alert}]}
            body = ("payload=" + urllib.parse.quote(json.dumps(payload))).encode()
            ts = str(int(time.time()))
            sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                       "X-Slack-Signature": sig}
            sent[alert] = time.monotonic()
            status, data = request(port_a, "/slack/interactivity", body, headers)
            if status // 100 != 2:
                die(f"the ack click on {alert} answered {status}: {data[:200]!r}")
            # B's SlackPacer: ~50 chat.update a minute (burst 5), a post a second per channel (the ack's reply).
            time.sleep(random.uniform(1.0, 2.0))
        found = {}
        start = time.monotonic()
        while time.monotonic() - start < 30:
            with lock:
                for at, replica, method, body in seen:
                    if method != "chat.update":
                        continue
                    for alert in alerts:
                        if alert not in found and alert.encode() in body and at >= sent[alert]:
                            found[alert] = ((at - sent[alert]) * 1000, replica)
            if len(found) == len(alerts):
                break
            time.sleep(0.2)
        with lock, open(os.path.join(folder, "cross-requests.log"), "w") as log:
            origin = min(sent.values())
            for at, replica, method, body in seen:
                log.write(f"{(at - origin) * 1000:10.1f} ms {replica} {method} {body[:160]!r}\n")
            for alert in alerts:
                log.write(f"{(sent[alert] - origin) * 1000:10.1f} ms click {alert}\n")
        by = {"A": [ms for ms, r in found.values() if r == "A"], "B": [ms for ms, r in found.values() if r == "B"]}
        posts = top_level_posts()
        out = [f"clicks={clicks}", f"updated={len(found)}", f"alerts_posted={len(posts)}",
               f"duplicate_posts={sum(n - 1 for n in posts.values())}"]
        for replica in ("A", "B"):
            values = by[replica]
            key = replica.lower()
            out.append(f"{key}_count={len(values)}")
            if values:
                out.append(f"{key}_p50_ms={statistics.median(values):.1f} {key}_p99_ms={percentile(values, 99):.1f}"
                           f" {key}_max_ms={max(values):.1f}")
        print(" ".join(out))
    finally:
        for process, _, _ in processes:
            if process.poll() is None:
                process.terminate()
        for process, _, _ in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


if __name__ == "__main__":
    if len(sys.argv) != 8:
        die(__doc__)
    main(*sys.argv[1:])
