"""The Kubernetes manifests start flows that exist, with configuration that loads."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import yaml

from connectors.sources.config import parse_config
from flows.settings import FlowSettings

K8S = Path(__file__).resolve().parents[2] / "k8s"


def _documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def _config_map() -> dict[str, str]:
    (data,) = [d["data"] for d in _documents() if d["kind"] == "ConfigMap"]
    return dict(data)


def test_every_flow_entry_point_exists() -> None:
    entries = re.findall(
        r'bytewax\.run "([\w.]+):(\w+)\(\)"',
        "".join(p.read_text() for p in sorted(K8S.glob("*.yaml"))),
    )
    assert sorted(module for module, _ in entries) == [
        "flows.execution_flow",
        "flows.ingest_flow",
        "flows.kafka_flow",
    ]
    for module, function in entries:
        assert callable(getattr(importlib.import_module(module), function))


def test_the_config_files_the_pods_mount_load(tmp_path: Path) -> None:
    data = _config_map()
    mounted = {
        env["value"].removeprefix("/config/")
        for doc in _documents()
        if doc["kind"] == "StatefulSet"
        for container in doc["spec"]["template"]["spec"]["containers"]
        for env in container.get("env", [])
        if str(env.get("value", "")).startswith("/config/")
    }
    assert mounted == {"tradewire.toml", "sources.toml"}
    assert mounted <= set(data)
    sources = parse_config(data["sources.toml"])
    assert [feed.name for feed in sources.rss] == ["coindesk", "cointelegraph"]
    (tmp_path / "tradewire.toml").write_text(data["tradewire.toml"])
    FlowSettings.load(tmp_path / "tradewire.toml")


def test_the_signal_flow_trades_on_the_execution_flows_account_and_venue(tmp_path: Path) -> None:
    (tmp_path / "tradewire.toml").write_text(_config_map()["tradewire.toml"])
    defaults = FlowSettings.load(tmp_path / "tradewire.toml").signal.trading.playbooks.defaults
    [execution] = [
        c
        for d in _documents()
        if d["kind"] == "StatefulSet"
        for c in d["spec"]["template"]["spec"]["containers"]
        if any(e["name"] == "TRADEWIRE_EXECUTION_VENUE" for e in c.get("env", []))
    ]
    env = {e["name"]: e.get("value") for e in execution["env"]}
    assert (env["TRADEWIRE_ACCOUNT"], env["TRADEWIRE_EXECUTION_VENUE"]) == (
        defaults.account,
        defaults.venue.value,
    )
