"""Writes a synthetic Slack Audit Logs export, one entry per line, in the API's shapes
(../shared/specs/slack/samples/audit_logs). For `sentry detect replay` benchmarks and tests.

Usage: python3 bench/generate_audit_log.py COUNT [SEED] > audit.jsonl

Mix: file downloads (some with sensitive names or watched keywords), uploads, public links, logins,
failed logins (a few spraying IPs among many benign ones), anomalies; times over a week with small
out-of-order jitter and about 0.5% duplicated entries, as a re-read audit log has."""
import json, random, sys

count = int(sys.argv[1])
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
users = [f"W{n:08d}" for n in range(2000)]
heavy = users[:5]
sprayers = [f"203.0.113.{n}" for n in range(1, 6)]
benign = ["notes.txt", "lunch.png", "roadmap.key", "design.fig", "team photo.jpg", "minutes.docx", "invoice-4411.pdf", "logo.svg"]
watched = ["Payroll-2026-11.xlsx", "passwords.kdbx", "customer-export.csv", "CONFIDENTIAL board deck.pdf", "salaries Q4.xlsx"]


def pick_file():
    # About 3% of file activity touches names the playbooks watch; heavy users do it more.
    return rng.choice(watched) if rng.random() < 0.03 else rng.choice(benign)
start = 1_795_000_000
out = sys.stdout
recent = []
for i in range(count):
    if recent and rng.random() < 0.005:
        out.write(rng.choice(recent))
        continue
    t = start + int(i * 604_800 / count) + rng.randint(-30, 30)
    r = rng.random()
    user = rng.choice(heavy) if rng.random() < 0.05 else rng.choice(users)
    ip = f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    entity = {"type": "user", "user": {"id": user, "name": "someone", "email": "someone@example.com", "team": "E0001"}}
    details = None
    if r < 0.55:
        action = "file_downloaded"
        name = pick_file()
        entity = {"type": "file", "file": {"id": f"F{rng.randint(0, 50000):08d}", "name": name, "filetype": name.rsplit(".", 1)[-1], "title": name}}
    elif r < 0.62:
        action = "file_uploaded"
        name = pick_file()
        entity = {"type": "file", "file": {"id": f"F{rng.randint(0, 50000):08d}", "name": name, "filetype": "txt", "title": name}}
    elif r < 0.64:
        action = "file_public_link_created"
        name = pick_file()
        entity = {"type": "file", "file": {"id": f"F{rng.randint(0, 50000):08d}", "name": name, "filetype": "txt", "title": name}}
    elif r < 0.80:
        action = "user_login"
    elif r < 0.97:
        action = "user_login_failed"
        if rng.random() < 0.3:
            ip = rng.choice(sprayers)
    else:
        action = "anomaly"
        details = {"reason": rng.choice([["unexpected_credential_testing"], ["tor"], ["unexpected_admin_action"]])}
        if rng.random() < 0.5:
            ip = rng.choice(sprayers)
    entry = {
        "id": f"{i:08x}-{rng.getrandbits(32):08x}-4bd1-8c2a-{rng.getrandbits(48):012x}",
        "date_create": t,
        "action": action,
        "actor": {"type": "user", "user": {"id": user, "name": "someone", "email": "someone@example.com", "team": "E0001"}},
        "entity": entity,
        "context": {"location": {"type": "enterprise", "id": "E0001", "name": "Example", "domain": "example"},
                    "ua": "Mozilla/5.0", "ip_address": ip, "session_id": rng.randint(10**12, 10**13)},
    }
    if details:
        entry["details"] = details
    line = json.dumps(entry, separators=(",", ":")) + "\n"
    recent.append(line)
    if len(recent) > 50:
        recent.pop(0)
    out.write(line)
