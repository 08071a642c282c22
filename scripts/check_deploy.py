#!/usr/bin/env python3
"""Checks the deployment files in deploy/ against each other and against the app.

    python3 scripts/check_deploy.py [REPO_ROOT]

One line per check, `ok` or `FAIL` with the reason; exits 1 if any check fails. Reads the environment
variable names, their defaults and which of them are secret from the Swift sources, so a renamed
variable or a moved port shows up here. Needs PyYAML (Debian: python3-yaml; scripts/install-deps.sh).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

PLACEHOLDER = re.compile(r"REPLACE", re.IGNORECASE)
ENV_NAME = re.compile(r"\b(?:SENTRY|SLACK|MERAKI)_[A-Z0-9_]*[A-Z0-9]\b")


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def ok(self, name: str, detail: str = "") -> None:
        self.passed += 1
        print(f"ok    {name}" + (f": {detail}" if detail else ""))

    def fail(self, name: str, reason: str) -> None:
        self.failed += 1
        print(f"FAIL  {name}: {reason}")

    def check(self, name: str, problems: list[str], detail: str = "") -> None:
        if problems:
            self.fail(name, "; ".join(problems))
        else:
            self.ok(name, detail)


def load_yaml_all(path: Path):
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


# ---------------------------------------------------------------------------------------------------
# What the app says about its configuration.

class AppFacts:
    def __init__(self, root: Path) -> None:
        self.swift_text = ""
        for path in sorted((root / "Sources").rglob("*.swift")):
            self.swift_text += path.read_text(encoding="utf-8", errors="replace") + "\n"
        config = root / "Sources/SentryServer/Configuration/ServerConfiguration.swift"
        self.config_text = config.read_text(encoding="utf-8") if config.exists() else ""
        self.config_found = bool(self.config_text)

        found = re.findall(r'required\(\s*"([A-Z0-9_]+)"', self.config_text)
        self.required = set(found) or {"SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"}
        # Required for `serve` unless every playbook names a channel (DESIGN.md §4.2): deploy files set it.
        self.required.add("SLACK_ALERT_CHANNEL")

        block = re.search(r"secretNames[^=]*=\s*\[(.*?)\]", self.config_text, re.S)
        names = re.findall(r'"([A-Z0-9_]+)"', block.group(1)) if block else []
        self.secrets = set(names) or {
            "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_ADMIN_TOKEN", "MERAKI_API_KEY",
            "SENTRY_WEBHOOK_SECRET", "SENTRY_WEBHOOK_TOKEN",
        }

        port = re.search(r'"SENTRY_HTTP_PORT"[^\n]*?default:\s*([0-9]+)', self.config_text)
        self.default_port = int(port.group(1)) if port else 8080
        self.default_port_found = port is not None

        # Graceful shutdown: SENTRY_SHUTDOWN_TIMEOUT, then the service group's cancellation bound.
        timeout = re.search(r'"SENTRY_SHUTDOWN_TIMEOUT"[^\n]*?default:\s*([0-9]+)', self.config_text)
        self.shutdown_default = int(timeout.group(1)) if timeout else 10
        cancel = re.search(r"maximumCancellationDuration\s*=\s*\.seconds\(([0-9]+)\)", self.swift_text)
        self.cancellation = int(cancel.group(1)) if cancel else 5

    def shutdown_bound(self, environment: dict) -> int:
        """Seconds a graceful shutdown may take with this environment; stop timeouts must exceed it."""
        raw = environment.get("SENTRY_SHUTDOWN_TIMEOUT", self.shutdown_default)
        try:
            return int(str(raw)) + self.cancellation
        except ValueError:
            return self.shutdown_default + self.cancellation

    def knows(self, name: str) -> bool:
        return f'"{name}"' in self.swift_text


# ---------------------------------------------------------------------------------------------------
# Kubernetes

def check_kubernetes(root: Path, app: AppFacts, report: Report, variant: str = "kubernetes") -> None:
    """deploy/kubernetes: one replica on SQLite; deploy/kubernetes-replicas: several on PostgreSQL."""
    folder = root / "deploy" / variant
    replicated = variant != "kubernetes"
    files = sorted(p for p in folder.glob("*.y*ml")) if folder.is_dir() else []
    if not files:
        report.fail(f"{variant}: manifests", f"no YAML files in {folder}")
        return

    documents = []  # (file name, document)
    problems = []
    for path in files:
        try:
            for document in load_yaml_all(path):
                if not isinstance(document, dict):
                    problems.append(f"{path.name}: a document is not a mapping")
                else:
                    documents.append((path.name, document))
        except Exception as error:  # noqa: BLE001 - any parse error is a finding
            problems.append(f"{path.name}: {error}")
    report.check(f"{variant}: every YAML file parses", problems, f"{len(files)} files")
    if problems:
        return

    def of_kind(kind):
        return [(name, doc) for name, doc in documents if doc.get("kind") == kind]

    # kustomization lists every manifest, and only files that exist.
    kustomizations = [doc for name, doc in documents if name.startswith("kustomization")]
    problems = []
    if len(kustomizations) != 1:
        problems.append("expected one kustomization.yaml")
    else:
        listed = kustomizations[0].get("resources") or []
        present = {p.name for p in files if not p.name.startswith("kustomization")}
        for item in listed:
            if item not in present:
                problems.append(f"lists {item}, which does not exist")
        for name in sorted(present - set(listed)):
            problems.append(f"does not list {name}")
    report.check(f"{variant}: kustomization lists every manifest", problems)

    deployments = of_kind("Deployment")
    if len(deployments) != 1:
        report.fail(f"{variant}: one Deployment", f"found {len(deployments)}")
        return
    deployment_file, deployment = deployments[0]
    spec = deployment.get("spec") or {}
    pod = ((spec.get("template") or {}).get("spec")) or {}
    containers = pod.get("containers") or []
    container = next((c for c in containers if c.get("name") == "sentry"), containers[0] if containers else None)
    if container is None:
        report.fail(f"{variant}: Deployment has a container", "no containers")
        return

    problems = []
    if not replicated:
        if spec.get("replicas") != 1:
            problems.append(f"replicas is {spec.get('replicas')!r}, must be 1 (SQLite has one writer)")
        if (spec.get("strategy") or {}).get("type") != "Recreate":
            problems.append("strategy.type must be Recreate so two pods never open the database at once")
        report.check(f"{variant}: single replica, Recreate", problems)
    else:
        check_replicas(variant, spec, of_kind, report)

    # Environment as the container sees it: envFrom sources first, then env (which wins).
    secrets = {doc["metadata"]["name"]: doc for _, doc in of_kind("Secret")}
    configmaps = {doc["metadata"]["name"]: doc for _, doc in of_kind("ConfigMap")}

    def secret_keys(doc):
        return set((doc.get("stringData") or {}).keys()) | set((doc.get("data") or {}).keys())

    environment: dict[str, object] = {}
    problems = []
    for source in container.get("envFrom") or []:
        if "secretRef" in source:
            ref = source["secretRef"].get("name")
            if ref not in secrets:
                problems.append(f"envFrom secretRef '{ref}' is not a Secret in deploy/{variant}")
            else:
                for key in secret_keys(secrets[ref]):
                    environment[key] = ("secret", ref)
        elif "configMapRef" in source:
            ref = source["configMapRef"].get("name")
            if ref not in configmaps:
                problems.append(f"envFrom configMapRef '{ref}' is not a ConfigMap in deploy/{variant}")
            else:
                for key, value in (configmaps[ref].get("data") or {}).items():
                    environment[key] = value
    for entry in container.get("env") or []:
        name = entry.get("name")
        if "value" in entry:
            environment[name] = entry["value"]
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            if ref.get("name") not in secrets:
                problems.append(f"env {name}: Secret '{ref.get('name')}' does not exist")
            elif ref.get("key") not in secret_keys(secrets[ref.get("name")]) and not ref.get("optional"):
                problems.append(f"env {name}: Secret '{ref.get('name')}' has no key '{ref.get('key')}'")
            environment[name] = ("secret", ref.get("name"))
        ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            if ref.get("name") not in configmaps:
                problems.append(f"env {name}: ConfigMap '{ref.get('name')}' does not exist")
            elif ref.get("key") not in (configmaps[ref.get("name")].get("data") or {}) and not ref.get("optional"):
                problems.append(f"env {name}: ConfigMap '{ref.get('name')}' has no key '{ref.get('key')}'")
            environment[name] = (configmaps.get(ref.get("name"), {}).get("data") or {}).get(ref.get("key"))
    report.check(f"{variant}: Secret and ConfigMap references resolve", problems,
                 f"{len(environment)} variables reach the container")

    missing = sorted(app.required - set(environment))
    report.check(f"{variant}: every required variable reaches the container",
                 [f"{name} is set by no Secret, ConfigMap or env entry" for name in missing],
                 ", ".join(sorted(app.required)))

    problems = []
    for name, value in environment.items():
        if name in app.secrets and not (isinstance(value, tuple) and value[0] == "secret"):
            problems.append(f"{name} is a secret but comes from a ConfigMap or a literal env value")
    report.check(f"{variant}: secrets come from the Secret only", problems)

    # Port: the container listens where SENTRY_HTTP_PORT (or the app's default) says.
    port_value = environment.get("SENTRY_HTTP_PORT", app.default_port)
    problems = []
    try:
        app_port = int(str(port_value))
    except ValueError:
        problems.append(f"SENTRY_HTTP_PORT is '{port_value}', not a number")
        app_port = None
    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports") or []}
    if app_port is not None and app_port not in ports.values():
        problems.append(f"no containerPort {app_port} (the port SENTRY_HTTP_PORT/the default gives); found {sorted(ports.values())}")
    source = "SENTRY_HTTP_PORT" if "SENTRY_HTTP_PORT" in environment else (
        "app default" if app.default_port_found else "DESIGN.md default (not found in the Swift source)")
    report.check(f"{variant}: containerPort matches the app's port", problems, f"{app_port} ({source})")

    def resolve(port):
        return ports.get(port) if isinstance(port, str) else port

    problems = []
    expected = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe_name, path in expected.items():
        probe = container.get(probe_name)
        if not probe:
            problems.append(f"no {probe_name}")
            continue
        get = probe.get("httpGet") or {}
        if get.get("path") != path:
            problems.append(f"{probe_name} checks {get.get('path')!r}, must be {path}")
        if resolve(get.get("port")) != app_port:
            problems.append(f"{probe_name} port {get.get('port')!r} is not the app's port {app_port}")
    startup = container.get("startupProbe")
    if startup:
        get = startup.get("httpGet") or {}
        if get.get("path") not in ("/healthz", "/readyz") or resolve(get.get("port")) != app_port:
            problems.append("startupProbe must GET /healthz or /readyz on the app's port")
    report.check(f"{variant}: probes GET /healthz and /readyz on the app's port", problems)

    # Storage: the database lives on the PVC.
    problems = []
    claims = {doc["metadata"]["name"]: doc for _, doc in of_kind("PersistentVolumeClaim")}
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    pvc_volumes = {}
    for name, volume in volumes.items():
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim is not None:
            if claim not in claims:
                problems.append(f"volume '{name}' uses PVC '{claim}', which is not in deploy/{variant}")
            elif "ReadWriteOnce" not in ((claims[claim].get("spec") or {}).get("accessModes") or []):
                problems.append(f"PVC '{claim}' is not ReadWriteOnce")
            pvc_volumes[name] = claim
    mounts = {m.get("mountPath"): m.get("name") for m in container.get("volumeMounts") or []}
    for mount_name in mounts.values():
        if mount_name not in volumes:
            problems.append(f"volumeMount '{mount_name}' has no volume")
    database = str(environment.get("SENTRY_DATABASE_URL", "sqlite:sentry.db"))
    if replicated:
        check_shared_database(variant, container, environment, secrets, volumes, mounts, pvc_volumes, problems, report)
    elif not database.startswith("sqlite:"):
        problems.append(f"SENTRY_DATABASE_URL is '{database}', expected sqlite:PATH")
    else:
        path = database[len("sqlite:"):].removeprefix("//")
        holder = [mp for mp, vol in mounts.items() if vol in pvc_volumes and path.startswith(mp.rstrip("/") + "/")]
        if not holder:
            problems.append(f"the database {path} is not on a mounted PersistentVolumeClaim")
        elif os.path.dirname(path) != holder[0].rstrip("/"):
            problems.append(f"the database {path} is not directly in the mount {holder[0]}")
    if not replicated:
        report.check(f"{variant}: the SQLite file is on the PVC", problems, database)

    problems = []
    pod_security = pod.get("securityContext") or {}
    security = container.get("securityContext") or {}

    def either(key):
        return security.get(key, pod_security.get(key))

    if either("runAsNonRoot") is not True:
        problems.append("runAsNonRoot must be true")
    if either("runAsUser") == 0:
        problems.append("runAsUser must not be 0")
    if security.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem must be true")
    if security.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation must be false")
    if "ALL" not in ((security.get("capabilities") or {}).get("drop") or []):
        problems.append("capabilities.drop must contain ALL")
    if (either("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append("seccompProfile.type must be RuntimeDefault")
    report.check(f"{variant}: container security context", problems)

    problems = []
    grace = pod.get("terminationGracePeriodSeconds", 30)
    bound = app.shutdown_bound(environment)
    if not isinstance(grace, int) or grace <= bound:
        problems.append(f"terminationGracePeriodSeconds is {grace!r}, must be more than the app's shutdown bound "
                        f"({bound} s: SENTRY_SHUTDOWN_TIMEOUT + cancellation)")
    args = container.get("args")
    command = container.get("command")
    if command is not None and not any(Path(str(c)).name == "sentry" for c in command):
        problems.append(f"command {command!r} does not run sentry")
    if args is not None and (not args or args[0] != "serve"):
        problems.append(f"args {args!r} must start with serve")
    resources = container.get("resources") or {}
    if not (resources.get("requests") and (resources.get("limits") or {}).get("memory")):
        problems.append("resources need requests and a memory limit")
    report.check(f"{variant}: runs `serve`, grace period, resources", problems, f"grace {grace} s > shutdown bound {bound} s")

    problems = []
    labels = (((spec.get("template") or {}).get("metadata")) or {}).get("labels") or {}
    services = of_kind("Service")
    if not services:
        problems.append("no Service")
    for name, service in services:
        service_spec = service.get("spec") or {}
        selector = service_spec.get("selector") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            problems.append(f"{name}: selector {selector} does not match the pod labels {labels}")
        for port in service_spec.get("ports") or []:
            if resolve(port.get("targetPort", port.get("port"))) != app_port:
                problems.append(f"{name}: targetPort {port.get('targetPort')!r} is not the app's port {app_port}")
    report.check(f"{variant}: Service selects the pod and targets the app's port", problems)

    problems = []
    for ref, doc in secrets.items():
        for key, value in (doc.get("stringData") or {}).items():
            if value not in (None, "") and not PLACEHOLDER.search(str(value)):
                problems.append(f"Secret {ref}: {key} holds something other than a REPLACE-ME placeholder")
        for key, value in (doc.get("data") or {}).items():
            try:
                decoded = base64.b64decode(str(value or "")).decode("utf-8", "replace")
            except ValueError:
                decoded = str(value)
            if decoded and not PLACEHOLDER.search(decoded):
                problems.append(f"Secret {ref}: data.{key} holds something other than a REPLACE-ME placeholder")
    report.check(f"{variant}: Secret values are placeholders", problems)


def check_replicas(variant: str, spec: dict, of_kind, report: Report) -> None:
    """Several replicas: rolled one at a time behind readiness, never all disrupted at once."""
    problems = []
    replicas = spec.get("replicas")
    if not isinstance(replicas, int) or replicas < 2:
        problems.append(f"replicas is {replicas!r}, must be at least 2")
    strategy = spec.get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    if strategy.get("type") != "RollingUpdate":
        problems.append("strategy.type must be RollingUpdate: a new pod takes traffic before an old one stops")
    elif str(rolling.get("maxUnavailable", "25%")) not in ("0", "0%"):
        problems.append(f"rollingUpdate.maxUnavailable is {rolling.get('maxUnavailable', '25%')!r}: 0 keeps every replica serving until its successor is ready")
    report.check(f"{variant}: several replicas, RollingUpdate with none unavailable", problems, f"{replicas!r} replicas")
    replicas = replicas if isinstance(replicas, int) and replicas >= 2 else 2

    problems = []
    labels = (((spec.get("template") or {}).get("metadata")) or {}).get("labels") or {}
    budgets = of_kind("PodDisruptionBudget")
    if not budgets:
        problems.append("no PodDisruptionBudget: a node drain may evict every replica at once")
    for name, budget in budgets:
        budget_spec = budget.get("spec") or {}
        selector = (budget_spec.get("selector") or {}).get("matchLabels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            problems.append(f"{name}: selector {selector} does not match the pod labels {labels}")
        least, most = budget_spec.get("minAvailable"), budget_spec.get("maxUnavailable")
        if (least is None) == (most is None):
            problems.append(f"{name}: set exactly one of minAvailable and maxUnavailable")
        elif least is not None and not (isinstance(least, int) and 1 <= least < replicas):
            problems.append(f"{name}: minAvailable {least!r} must be 1…{replicas - 1} (at least one serves, a drain can proceed)")
        elif most is not None and not (isinstance(most, int) and 1 <= most < replicas):
            problems.append(f"{name}: maxUnavailable {most!r} must be 1…{replicas - 1}")
    report.check(f"{variant}: a PodDisruptionBudget keeps a replica up", problems)


def check_shared_database(variant: str, container: dict, environment: dict, secrets: dict, volumes: dict, mounts: dict,
                          pvc_volumes: dict, problems: list[str], report: Report) -> None:
    """Several replicas share PostgreSQL: its URL comes from a Secret, and no pod keeps state on a volume."""
    source = next((e for e in container.get("env") or [] if e.get("name") == "SENTRY_DATABASE_URL"), None)
    ref = ((source or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
    if not ref:
        problems.append("SENTRY_DATABASE_URL must come from a Secret (env valueFrom.secretKeyRef): it may hold a password")
    else:
        doc = secrets.get(ref.get("name")) or {}
        url = str((doc.get("stringData") or {}).get(ref.get("key"), ""))
        if not url.startswith(("postgres://", "postgresql://")):
            problems.append(f"Secret {ref.get('name')}: {ref.get('key')} must be a postgres:// URL, found '{url[:40]}'")
        elif "sslmode=" not in url:
            problems.append(f"Secret {ref.get('name')}: {ref.get('key')} names no sslmode (prefer would accept any certificate)")
    if pvc_volumes:
        problems.append(f"volumes {sorted(pvc_volumes)} use a PersistentVolumeClaim: replicas keep no state of their own")
    password_file = environment.get("SENTRY_DATABASE_PASSWORD_FILE")
    if password_file is not None:
        holder = [mp for mp, vol in mounts.items() if str(password_file).startswith(mp.rstrip("/") + "/")]
        if not holder or "secret" not in (volumes.get(mounts[holder[0]]) or {}):
            problems.append(f"SENTRY_DATABASE_PASSWORD_FILE {password_file} is not in a mounted Secret volume")
    report.check(f"{variant}: PostgreSQL from a Secret, no volume state", problems,
                 f"{ref.get('name')}/{ref.get('key')}" if ref else "")


# ---------------------------------------------------------------------------------------------------
# systemd

UNIT_EXPECTED = {
    "DynamicUser": "yes", "StateDirectory": "sentry", "ProtectSystem": "strict", "ProtectHome": "yes",
    "PrivateTmp": "yes", "PrivateDevices": "yes", "NoNewPrivileges": "yes", "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes",
    "ProtectClock": "yes", "ProtectHostname": "yes", "RestrictNamespaces": "yes", "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native", "UMask": "0077",
    "Restart": "on-failure", "KillSignal": "SIGTERM",
}


def parse_unit(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if "=" in line and section:
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def unit_environment(unit: dict[str, list[str]]) -> dict[str, str]:
    environment = {}
    for value in unit.get("Environment") or []:
        for pair in shlex.split(value):
            if "=" in pair:
                key, val = pair.split("=", 1)
                environment[key] = val
    return environment


def env_file_assignments(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an EnvironmentFile; comments and blank lines skipped."""
    assigned = {}
    if path.exists():
        for raw in path.read_text(encoding="utf-8").splitlines():
            match = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", raw.strip())
            if match:
                assigned[match.group(1)] = match.group(2)
    return assigned


def seconds(value: str) -> float | None:
    match = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s|sec|min|m)?\s*", value)
    if not match:
        return None
    number = float(match.group(1))
    return {"ms": number / 1000, "min": number * 60, "m": number * 60}.get(match.group(2) or "s", number)


def check_systemd(root: Path, app: AppFacts, report: Report) -> None:
    unit_path = root / "deploy/systemd/sentry.service"
    if not unit_path.exists():
        report.fail("systemd: sentry.service", f"{unit_path} is missing")
        return
    text = unit_path.read_text(encoding="utf-8")
    unit = parse_unit(text)

    problems = []
    for key, value in UNIT_EXPECTED.items():
        if (unit.get(key) or [None])[-1] != value:
            problems.append(f"{key}={value} (found {(unit.get(key) or ['nothing'])[-1]})")
    families = set(" ".join(unit.get("RestrictAddressFamilies") or []).split())
    if families != {"AF_INET", "AF_INET6", "AF_UNIX"}:
        problems.append(f"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX (found {' '.join(sorted(families)) or 'nothing'})")
    if "@system-service" not in " ".join(unit.get("SystemCallFilter") or []).split():
        problems.append("SystemCallFilter=@system-service")
    capabilities = unit.get("CapabilityBoundingSet")
    if capabilities is None or capabilities[-1] != "":
        problems.append("CapabilityBoundingSet= (empty)")
    if unit.get("AmbientCapabilities") and capabilities and capabilities[-1] == "":
        problems.append("AmbientCapabilities is set but the bounding set is empty")
    if not any(v.lstrip("-") == "/etc/sentry/sentry.env" for v in unit.get("EnvironmentFile") or []):
        problems.append("EnvironmentFile=/etc/sentry/sentry.env")
    environment = unit_environment(unit)
    environment.update(env_file_assignments(root / "deploy/systemd/sentry.env.example"))
    bound = app.shutdown_bound(environment)
    stop = seconds((unit.get("TimeoutStopSec") or [""])[-1])
    if stop is None or stop <= bound:
        problems.append(f"TimeoutStopSec must be more than the app's shutdown bound ({bound} s: "
                        f"SENTRY_SHUTDOWN_TIMEOUT + cancellation)")
    report.check("systemd: hardening and lifecycle settings", problems,
                 f"{len(UNIT_EXPECTED) + 6} settings, stop timeout {stop:g} s > shutdown bound {bound} s")

    problems = []
    exec_start = (unit.get("ExecStart") or [""])[-1]
    argv = shlex.split(exec_start.lstrip("@-:+!"))
    if len(argv) < 2 or Path(argv[0]).name != "sentry" or argv[1] != "serve" or not argv[0].startswith("/"):
        problems.append(f"ExecStart must be /…/sentry serve, found '{exec_start}'")
    environment = unit_environment(unit)
    database = environment.get("SENTRY_DATABASE_URL", "")
    state = "/var/lib/" + (unit.get("StateDirectory") or ["sentry"])[-1].split()[0]
    if not database.startswith(f"sqlite:{state}/"):
        problems.append(f"Environment=SENTRY_DATABASE_URL must be sqlite:{state}/… (the StateDirectory), found '{database}'")
    for key in environment:
        if key in app.secrets:
            problems.append(f"{key} is a secret: it belongs in the EnvironmentFile, not in Environment=")
    report.check("systemd: ExecStart runs serve, database in StateDirectory", problems, exec_start)

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        report.ok("systemd: systemd-analyze verify", "skipped: systemd-analyze is not installed")
        return
    try:
        result = subprocess.run([analyze, "verify", str(unit_path)], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        report.ok("systemd: systemd-analyze verify", f"skipped: {error}")
        return
    lines = [l for l in (result.stdout + result.stderr).splitlines() if l.strip()]
    # The binary is not installed on the machine that checks the repository.
    relevant = [l for l in lines if "sentry" in l and "is not executable" not in l and "No such file" not in l]
    report.check("systemd: systemd-analyze verify", relevant, "no complaints about the unit")


def check_env_example(root: Path, app: AppFacts, report: Report) -> None:
    path = root / "deploy/systemd/sentry.env.example"
    if not path.exists():
        report.fail("systemd: sentry.env.example", f"{path} is missing")
        return
    problems = []
    assigned = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", line)
        if not match:
            problems.append(f"line {number} is not KEY=VALUE")
            continue
        assigned[match.group(1)] = match.group(2)
    for name in sorted(app.required - set(assigned)):
        problems.append(f"{name} (required) is not set")
    report.check("systemd: sentry.env.example sets every required variable", problems,
                 f"{len(assigned)} set, required: {', '.join(sorted(app.required))}")


# ---------------------------------------------------------------------------------------------------
# Dockerfile

def dockerfile_instructions(text: str):
    instructions, buffer = [], ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if not buffer and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if buffer and line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, rest = buffer.strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        buffer = ""
    return instructions


def check_dockerfile(root: Path, app: AppFacts, report: Report) -> None:
    path = root / "deploy/docker/Dockerfile"
    if not path.exists():
        report.fail("docker: Dockerfile", f"{path} is missing")
        return
    instructions = dockerfile_instructions(path.read_text(encoding="utf-8"))
    arguments = {}
    stages: list[list[tuple[str, str]]] = []
    images = []
    for keyword, rest in instructions:
        if keyword == "ARG" and not stages and "=" in rest:
            key, value = rest.split("=", 1)
            arguments[key.strip()] = value.strip()
        if keyword == "FROM":
            image = re.sub(r"^--platform=\S+\s+", "", rest).split()[0]
            image = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: arguments.get(m.group(1), m.group(0)), image)
            images.append(image)
            stages.append([])
        elif stages:
            stages[-1].append((keyword, rest))

    problems = []
    if len(stages) < 2:
        problems.append(f"{len(stages)} FROM stage(s); a build stage and a runtime stage are expected")
    report.check("docker: multi-stage build", problems, " → ".join(images))
    if not stages:
        return
    runtime = stages[-1]
    problems = []
    if not any(word in images[-1] for word in ("slim", "distroless")):
        problems.append(f"runtime image '{images[-1]}' is not a slim one")
    if images[-1].startswith("swift:") and "slim" not in images[-1]:
        problems.append("runtime stage is the full Swift toolchain image")
    if any(k == "RUN" and "swift build" in r for k, r in runtime):
        problems.append("runtime stage builds Swift")
    users = [r for k, r in runtime if k == "USER"]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        problems.append("runtime stage must end with a non-root USER")
    report.check("docker: slim, non-root runtime stage", problems, images[-1])

    environment = {}
    for keyword, rest in runtime:
        if keyword == "ENV":
            parts = shlex.split(rest)
            if parts and "=" not in parts[0]:
                environment[parts[0]] = " ".join(parts[1:])
            else:
                for pair in parts:
                    key, _, value = pair.partition("=")
                    environment[key] = value
    problems = []
    port = int(environment.get("SENTRY_HTTP_PORT", app.default_port))
    exposed = {int(p.split("/")[0]) for k, r in runtime if k == "EXPOSE" for p in r.split()}
    if port not in exposed:
        problems.append(f"EXPOSE {sorted(exposed)} does not include the app's port {port}")
    entrypoint = [json.loads(r) for k, r in runtime if k == "ENTRYPOINT"]
    command = [json.loads(r) for k, r in runtime if k == "CMD"]
    argv = (entrypoint[-1] if entrypoint else []) + (command[-1] if command else [])
    if len(argv) < 2 or Path(argv[0]).name != "sentry" or argv[1] != "serve":
        problems.append(f"ENTRYPOINT + CMD is {argv}, expected [.../sentry, serve]")
    signals = [r for k, r in runtime if k == "STOPSIGNAL"]
    if signals and signals[-1] not in ("SIGTERM", "15"):
        problems.append(f"STOPSIGNAL {signals[-1]}: the app shuts down gracefully on SIGTERM")
    database = environment.get("SENTRY_DATABASE_URL", "")
    volumes = [v for k, r in runtime if k == "VOLUME" for v in (json.loads(r) if r.startswith("[") else r.split())]
    if not database.startswith("sqlite:") or os.path.dirname(database[len("sqlite:"):]) not in volumes:
        problems.append(f"SENTRY_DATABASE_URL '{database}' is not directly in a VOLUME {volumes}")
    playbooks = environment.get("SENTRY_PLAYBOOKS")
    copies = [r.split()[-1].rstrip("/") for k, r in runtime if k == "COPY" and "Playbooks" in r]
    if not playbooks or playbooks.rstrip("/") not in copies:
        problems.append(f"SENTRY_PLAYBOOKS '{playbooks}' is not where Playbooks are copied {copies}")
    report.check("docker: runs serve, port, volume, playbooks", problems, f"{' '.join(argv)}, port {port}")

    problems = []
    text = path.read_text(encoding="utf-8")
    bound = app.shutdown_bound(environment)
    for line in (l for l in text.splitlines() if "docker run" in l):
        timeout = re.search(r"--stop-timeout[ =]([0-9]+)", line)
        if not timeout or int(timeout.group(1)) <= bound:
            problems.append(f"'{line.strip('# ').strip()}' needs --stop-timeout above the app's shutdown bound ({bound} s); "
                            "docker stop waits only 10 s")
    report.check("docker: documented docker run outwaits the graceful shutdown", problems)

    ignore = root / "deploy/docker/Dockerfile.dockerignore"
    problems = []
    if not ignore.exists():
        problems.append("deploy/docker/Dockerfile.dockerignore is missing")
    else:
        patterns = [l.strip() for l in ignore.read_text(encoding="utf-8").splitlines() if l.strip() and not l.startswith("#")]
        excludes_all = "*" in patterns
        for needed in (".git", ".build"):
            allowed_back = any(p.startswith("!") and needed in p for p in patterns)
            if not (excludes_all or any(needed in p and not p.startswith("!") for p in patterns)) or allowed_back:
                problems.append(f"{needed} is not kept out of the build context")
    report.check("docker: build context excludes .git and .build", problems)


# ---------------------------------------------------------------------------------------------------
# Across every file in deploy/

SECRET_PATTERNS = [
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"), "Slack token"),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), "Slack app token"),
    (re.compile(r"hooks\.slack\.com/services/[A-Za-z0-9/]+"), "Slack incoming-webhook URL"),
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])"), "long hex string (signing secret or API key)"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "private key"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "AWS access key"),
    (re.compile(r"(?<![A-Za-z0-9+=_-])(?=[A-Za-z0-9+=_-]*[0-9])(?=[A-Za-z0-9+=_-]*[A-Za-z])[A-Za-z0-9+=_-]{40,}"),
     "long random-looking string"),
]


def check_everywhere(root: Path, app: AppFacts, report: Report) -> None:
    folder = root / "deploy"
    files = sorted(p for p in folder.rglob("*") if p.is_file())

    names: dict[str, set[str]] = {}
    for path in files:
        for name in ENV_NAME.findall(path.read_text(encoding="utf-8", errors="replace")):
            names.setdefault(name, set()).add(str(path.relative_to(root)))
    unknown = sorted(n for n in names if not app.knows(n))
    problems = [f"{n} (in {', '.join(sorted(names[n]))}) is not read by the app" for n in unknown]
    if not app.config_found:
        problems.append("Sources/SentryServer/Configuration/ServerConfiguration.swift is missing")
    report.check("deploy: every variable named in deploy/ is one the app reads", problems,
                 f"{len(names)} names found quoted in Sources/")

    problems = []
    assignment = re.compile(r"\b(" + "|".join(sorted(app.secrets)) + r")\s*[=:]\s*[\"']?([^\s\"'#]*)")
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        relative = path.relative_to(root)
        for number, line in enumerate(text.splitlines(), start=1):
            for match in assignment.finditer(line):
                value = match.group(2)
                if value and not value.startswith(("$", "(")) and not PLACEHOLDER.search(value):
                    problems.append(f"{relative}:{number}: {match.group(1)} is not a REPLACE-ME placeholder")
            for pattern, what in SECRET_PATTERNS:
                for match in pattern.finditer(line):
                    if not PLACEHOLDER.search(match.group(0)):
                        problems.append(f"{relative}:{number}: {what} '{match.group(0)[:12]}…'")
    report.check("deploy: no real-looking secret, only placeholders", problems, f"{len(files)} files scanned")


def check_prometheus_rules(root: Path, app: AppFacts, report: Report) -> None:
    """Alerting rules parse and name only metrics the app exports (or Prometheus's own `up`)."""
    folder = root / "deploy/prometheus"
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        report.fail("prometheus: alerting rules", f"no YAML files in {folder}")
        return
    metrics_file = root / "Sources/SentryServer/Support/ServerMetrics.swift"
    exported = set(re.findall(r'"((?:sentry|process)_[a-z0-9_]+)"', metrics_file.read_text(encoding="utf-8"))) if metrics_file.exists() else set()
    problems = []
    rules = 0
    for path in files:
        try:
            documents = load_yaml_all(path)
        except Exception as error:  # noqa: BLE001 - a parse error is a finding
            problems.append(f"{path.name}: {error}")
            continue
        for document in documents:
            for group in (document or {}).get("groups", []):
                for rule in group.get("rules", []):
                    rules += 1
                    expr = str(rule.get("expr", ""))
                    if not rule.get("alert") or not expr:
                        problems.append(f"{path.name}: a rule without alert or expr")
                    for name in re.findall(r"\b((?:sentry|process)_[a-z0-9_]+)", expr):
                        if name not in exported:
                            problems.append(f"{path.name}: {rule.get('alert')} uses {name}, which ServerMetrics.swift does not export")
    if rules == 0:
        problems.append("no rules found")
    report.check("prometheus: alerting rules use exported metrics", problems, f"{rules} rules, {len(exported)} metric names")


def main(argv: list[str]) -> int:
    root = Path(argv[1]).resolve() if len(argv) > 1 else Path(__file__).resolve().parent.parent
    if not (root / "deploy").is_dir():
        print(f"FAIL  deploy: no deploy/ folder under {root}")
        return 1
    app = AppFacts(root)
    report = Report()
    check_kubernetes(root, app, report)
    check_kubernetes(root, app, report, "kubernetes-replicas")
    check_systemd(root, app, report)
    check_env_example(root, app, report)
    check_dockerfile(root, app, report)
    check_everywhere(root, app, report)
    check_prometheus_rules(root, app, report)
    total = report.passed + report.failed
    if report.failed:
        print(f"check_deploy: {report.failed} of {total} checks FAILED")
        return 1
    print(f"check_deploy: all {total} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
