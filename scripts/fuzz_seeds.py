#!/usr/bin/env python3
"""Writes the fuzz seed corpora under Fuzz/Seeds/<target>/ from ../shared/specs, Playbooks/*.yml and a few
hand-made inputs. The output is committed; rerun this only to refresh it (it replaces those folders)."""
import hashlib
import hmac
import json
import pathlib
import shutil
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPECS = ROOT.parent / "shared" / "specs"
SEEDS = ROOT / "Fuzz" / "Seeds"
# Seeds stay small: libFuzzer's default -max_len follows the largest seed, and the corpus is committed.
MAX_SEED_BYTES = 8 * 1024

SLACK_SECRET = b"8f742231b10e8888abcd99yyyzzz85a5"  # Slack's documented example secret, as the verify target uses
SLACK_NOW = "1531420618"


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def spec(path):
    return (SPECS / path).read_bytes()


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED_BYTES:
        return
    folder = SEEDS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def sign(timestamp, body):
    return "v0=" + hmac.new(SLACK_SECRET, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


def verify_seeds():
    vector = json.loads(spec("slack/samples/signing/signature_test_vector.slack_docs_example.json"))
    headers = vector["headers"]
    body = vector["raw_body"].encode()
    write("verify", "slack-docs-vector", f"{headers['X-Slack-Request-Timestamp']}\n{headers['X-Slack-Signature']}\n".encode() + body)
    slash = spec("slack/samples/slash_commands/slash_command.slack_docs_example.form-urlencoded.txt").strip()
    write("verify", "slash-command-signed", f"{SLACK_NOW}\n{sign(SLACK_NOW, slash)}\n".encode() + slash)
    block = spec("slack/samples/interactivity/block_actions.bolt_python_fixture.form-urlencoded.txt").strip()
    write("verify", "block-actions-signed", f"{SLACK_NOW}\n{sign(SLACK_NOW, block)}\n".encode() + block)
    write("verify", "upper-case-hex", f"{SLACK_NOW}\n{sign(SLACK_NOW, b'a=1').upper().replace('V0=', 'v0=')}\na=1")
    write("verify", "stale", f"1531420000\n{sign('1531420000', b'a=1')}\na=1")
    write("verify", "future", f"1531421000\n{sign('1531421000', b'a=1')}\na=1")
    write("verify", "no-headers", "\n\na=1")
    write("verify", "short-signature", f"{SLACK_NOW}\nv0=abcd\na=1")
    for name, form in [
        ("form-escapes", "text=caf%C3%A9+au+lait&empty=&flag&a=%2B%25%26%3D"),
        ("form-bad-escape", "a=%4"),
        ("form-bad-hex", "a=%zz&b=1"),
        ("form-empty-name", "=x&a=1"),
        ("form-separators", "&&a=1&&b==2&"),
        ("form-bad-utf8", "a=%C3%28"),
        ("form-duplicate", "a=1&a=2&%61=3"),
    ]:
        write("verify", name, f"{SLACK_NOW}\n{sign(SLACK_NOW, form.encode())}\n{form}")


def json_seeds():
    for path in [
        "engines/alertmanager/firing.json", "engines/grafana/firing.json", "engines/splunk/webhook.json",
        "engines/elastic/webhook-body.json", "engines/panther/alert.json", "engines/azure-monitor/log-search.fired.json",
        "slack/samples/interactivity/block_actions.docs_example.json", "slack/samples/events/url_verification.slack_docs_example.json",
        "slack/samples/audit_logs/entry.user_login.slack_docs_example.json", "meraki/samples/getNetworkClients.response.json",
        "meraki/samples/getOrganizationApplianceUplinkStatuses.response.json",
    ]:
        write("json", path.replace("/", "-"), spec(path))
    for name, text in [
        ("scalars", '[null,true,false,0,-0,1,-1,1.5,1e3,1E-3,0e2,-0.0,2.5e+10,9007199254740993,1e308,5e-324,1e-400]'),
        ("strings", '["", "\\"\\\\\\/\\b\\f\\n\\r\\t", "\\u00e9\\u0000\\u001f", "\\ud83d\\ude00", "caf\u00e9", "\u2028"]'),
        ("lone-surrogate", '"\\ud800"'),
        ("nested", "[" * 40 + "{}" + "]" * 40),
        ("too-deep", "[" * 513 + "]" * 513),
        ("objects", '{"b":{"a":[]},"a":{},"dup":1,"dup":2,"e\u0301":1,"\u00e9":2}'),
        ("trailing-comma", '{"a":[1,2,],}'),
        ("bom", "\ufeff{\"a\":1}"),
        ("white-space", ' \t\r\n{ "a" : [ 1 , 2 ] }\n'),
        ("bad-number", "[01, 1., .5, -, 1e]"),
    ]:
        write("json", name, text)


def interaction_seeds():
    for path in [
        "slack/samples/interactivity/block_actions.docs_example.json",
        "slack/samples/interactivity/block_actions.bolt_python_fixture.json",
        "slack/samples/interactivity/view_submission.all_fields.shape.json",
        "slack/samples/interactivity/view_submission.bolt_python_fixture.json",
        "slack/samples/interactivity/view_closed.all_fields.shape.json",
    ]:
        write("interaction", path.split("/")[-1], spec(path))
    write("interaction", "block_actions.bolt_python_fixture.form",
          spec("slack/samples/interactivity/block_actions.bolt_python_fixture.form-urlencoded.txt").strip())
    minimal = {
        "block-actions-container": {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "ack", "value": "a-1"}],
                                    "container": {"channel_id": "C1", "message_ts": "1.2"}},
        "view-submission": {"type": "view_submission", "user": {"id": "U1"},
                            "view": {"callback_id": "contain", "private_metadata": "a-1", "state": {"values": {"b": {"a": {"value": "x"}}}}}},
        "view-closed": {"type": "view_closed", "user": {"id": "U1"}},
        "shortcut": {"type": "shortcut"},
        "no-actions": {"type": "block_actions", "user": {"id": "U1"}, "actions": []},
    }
    for name, payload in minimal.items():
        write("interaction", name, compact(payload))
        write("interaction", name + ".form", "payload=" + urllib.parse.quote_plus(compact(payload)))


def webhook_seeds():
    for path in ["engines/splunk/webhook.json", "engines/panther/alert.json", "engines/grafana/firing.json"]:
        write("webhook", path.replace("/", "-"), spec(path))
    splunk = json.loads(spec("engines/splunk/webhook.json"))
    for name, body in {
        "full": {"id": "splunk-1", "detection": "slack.max_daily_download", "severity": "High", "title": " Downloads ",
                 "summary": "101 files", "subject": {"slack_user_id": "W0HOARDER", "ip": "2001:DB8::1"},
                 "occurred_at": "2026-11-22T09:00:00.250Z", "evidence": splunk},
        "minimal": {"id": "x1", "detection": "custom.rule", "subject": {"meraki_serial": "Q2XX-1"}},
        "ipv4-offset": {"id": "x2", "detection": "d", "subject": {"ip": "10.0.0.1", "meraki_network_id": "N_1"},
                        "occurred_at": "2026-11-22T10:00:00+01:00"},
        "bad-ip": {"id": "x3", "detection": "d", "subject": {"ip": "1.23.45.678"}},
        "ip-with-nul": {"id": "x6", "detection": "d", "subject": {"ip": "10.0.0.1\u0000evil"}},
        "unknown-subject-field": {"id": "x4", "detection": "d", "subject": {"host": "a"}},
        "nulls": {"id": "x5", "detection": "d", "severity": None, "title": None, "subject": {"ip": "::ffff:192.0.2.1"}, "evidence": None},
    }.items():
        write("webhook", name, compact(body))


def syslog_seeds():
    lines = [line for line in spec("meraki/samples/mx-syslog.examples.txt").decode().splitlines() if line and not line.startswith("#")]
    write("syslog", "mx-examples-stream", "\n".join(lines) + "\n")
    for index, line in enumerate(lines):
        write("syslog", f"mx-example-{index:02}", line + "\n")
    hand = [
        '<165>1 2026-11-22T09:00:00.003Z host app 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Ap\\"p"] \ufeffmessage',
        "<34>1 - - - - - -",
        "<13>Nov 22 09:00:00 host sshd[42]: Failed password",
        "<13>Feb 29 23:59:59 host tag: leap day",
        "Jan  1 00:00:00 relay <134>1 1563249630.774247467 MX84 events failover to wan2",
    ]
    write("syslog", "rfc-lines-crlf", "\r\n".join(hand) + "\r\n")
    write("syslog", "octet-counted", "".join(f"{len(line.encode())} {line}" for line in hand))
    write("syslog", "oversized", "300 <13>" + "x" * 300 + "\n" + "y" * 300 + "\nshort line\n")
    write("syslog", "nul-and-blank", "\0\n\n<13>Nov 22 09:00:00 h t: m\0\0\r\n")


def audit_seeds():
    for path in ["slack/samples/audit_logs/logs_response.python_sdk_fixture.json", "slack/samples/audit_logs/logs_response.all_fields.shape.json"]:
        for index, entry in enumerate(json.loads(spec(path))["entries"]):
            write("audit", f"{path.split('/')[-1].split('.')[1]}-{index}", compact(entry))
    write("audit", "entry.user_login", spec("slack/samples/audit_logs/entry.user_login.slack_docs_example.json"))
    for name, entry in [
        ("reasons", '{"id":"a1","date_create":1795000000,"action":"anomaly","details":{"reason":["tor"," new_ip "]}}'),
        ("escapes", '{"id":"a\\u0032","date_create":"1795000000","action":"file_downloaded","entity":{"file":{"id":"F1","title":"\\"x\\""}}}'),
        ("spaced", '{ "id" : "a3" , "date_create" : 1795000000.9 , "action" : "user_login" , "context" : { "ip_address" : " 203.0.113.7 " } }'),
        ("duplicate", '{"id":"a4","id":"a5","date_create":1795000000,"action":"x"}'),
        ("skipped", '{"id":"a6","date_create":1795000000,"action":"x","other":[1,{"a":"]}"}],"details":{"channel":"C1"}}'),
    ]:
        write("audit", name, entry)


def playbook_seeds():
    for path in sorted((ROOT / "Playbooks").glob("*.yml")):
        write("playbook", path.name, path.read_bytes())
    write("playbook", "minimal.yml", "id: a\ntitle: A\ndetection: '*'\n")
    write("playbook", "anchors.yml", "id: a\ntitle: &t A\ndetection: d\nrule: {x: *t, y: [1, 2.5, true, ~]}\ntests: [&c {a: 1}, *c]\n")
    write("playbook", "mistakes.yml", "id: a b\ntitel: A\ndetection: D\nseverity: urgent\nchannel: '#sec'\nescalation: {repeat: 99}\n"
                                      "actions: {block_user: {approvals: 9, ttl: 0s}, nuke: {}}\nresponders: [U1, bob]\nid: again\n")
    write("playbook", "not-yaml.yml", "id: [unclosed\n\t- x: : y\n")


def main():
    if SEEDS.exists():
        shutil.rmtree(SEEDS)
    for make in [verify_seeds, json_seeds, interaction_seeds, webhook_seeds, syslog_seeds, audit_seeds, playbook_seeds]:
        make()
    for folder in sorted(SEEDS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
