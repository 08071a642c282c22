#!/usr/bin/env python3
"""Writes JSON lines of Meraki appliance uplink statuses: one organisation poll per line.

Usage: generate_uplinks.py APPLIANCES POLLS [SEED] > uplinks.jsonl
A week of 1-minute polls of 100 appliances is `generate_uplinks.py 100 10080` (1,008,000 statuses). About one
poll in 500 moves an appliance to cellular (and back a few polls later) or changes a WAN's public IP, so the
rules have something to find.
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

appliances = int(sys.argv[1])
polls = int(sys.argv[2])
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
start = datetime(2026, 11, 1, tzinfo=timezone.utc)
state = []
for n in range(appliances):
    state.append({"wan1": f"198.51.{n % 250}.{1 + n // 250}", "cell": f"100.64.{n % 250}.{1 + n // 250}", "on_cell": 0})
for poll in range(polls):
    at = (start + timedelta(minutes=poll)).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = []
    for n, s in enumerate(state):
        if s["on_cell"] > 0:
            s["on_cell"] -= 1
        elif rng.random() < 0.002:
            s["on_cell"] = rng.randint(2, 20)
        elif rng.random() < 0.002:
            s["wan1"] = f"203.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        cellular = s["on_cell"] > 0
        line.append({
            "networkId": f"N_{n:06d}", "serial": f"Q2XX-{n // 10000:04d}-{n % 10000:04d}", "model": "MX68C", "lastReportedAt": at,
            "highAvailability": {"enabled": False, "role": "primary"},
            "uplinks": [
                {"interface": "wan1", "status": "failed" if cellular else "active", "ip": "10.0.0.2", "gateway": "10.0.0.1",
                 "publicIp": s["wan1"], "primaryDns": "8.8.8.8", "secondaryDns": "8.8.4.4", "ipAssignedBy": "dhcp"},
                {"interface": "cellular", "status": "active" if cellular else "ready", "ip": "10.1.0.2", "provider": "carrier",
                 "publicIp": s["cell"], "connectionType": "4g", "apn": "internet", "signalType": "4G", "iccid": "8901"},
            ],
        })
    sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
