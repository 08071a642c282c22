"""Validates the Slack app manifest against Slack's JSON schema (../shared/specs/slack/manifest.schema.json).

Checks both the committed manifest/manifest.json and what `sentry manifest --url` prints now, and that the
two agree. Usage: python3 scripts/check_manifest.py [path/to/sentry]"""
import json, os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
schema_path = os.path.join(root, "..", "shared", "specs", "slack", "manifest.schema.json")
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, ".build", "debug", "sentry")

try:
    import jsonschema
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "jsonschema"])
    import jsonschema

schema = json.load(open(schema_path))
committed = json.load(open(os.path.join(root, "manifest", "manifest.json")))
printed = json.loads(subprocess.check_output([binary, "manifest", "--url", "https://sentry.example.com"]))
socket = json.loads(subprocess.check_output([binary, "manifest", "--socket-mode"]))
failures = 0
for name, manifest in (("manifest/manifest.json", committed), ("sentry manifest --url", printed),
                       ("sentry manifest --socket-mode", socket)):
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=lambda e: list(e.path))
    for error in errors:
        print(f"{name}: {'/'.join(map(str, error.path)) or '(root)'}: {error.message}")
    failures += len(errors)
if committed != printed:
    print("manifest/manifest.json differs from `sentry manifest --url https://sentry.example.com`; regenerate it")
    failures += 1
urls = [printed["features"]["slash_commands"][0]["url"], printed["settings"]["interactivity"]["request_url"],
        printed["settings"]["event_subscriptions"]["request_url"]]
expected = ["https://sentry.example.com/slack/commands", "https://sentry.example.com/slack/interactivity",
            "https://sentry.example.com/slack/events"]
if urls != expected:
    print(f"request URLs are {urls}, expected {expected}")
    failures += 1
def request_urls(value, path=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from ([f"{path}/{key}"] if key in ("url", "request_url") else []) + list(request_urls(inner, f"{path}/{key}"))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from request_urls(inner, f"{path}/{index}")
leftover = list(request_urls(socket))
if socket["settings"].get("socket_mode_enabled") is not True or leftover:
    print(f"sentry manifest --socket-mode: socket_mode_enabled must be true with no request URLs (found {leftover})")
    failures += 1
if printed["settings"].get("socket_mode_enabled") is not False:
    print("sentry manifest --url: socket_mode_enabled must be false")
    failures += 1
print("manifest: valid against Slack's schema" if failures == 0 else f"manifest: {failures} problem(s)")
sys.exit(1 if failures else 0)
