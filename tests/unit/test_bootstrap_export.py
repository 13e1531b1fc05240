"""Export wiring: a destination is on when its host or URL is set; secrets are references."""

from __future__ import annotations

import pytest

from deskguard.bootstrap_export import export_plan, export_sinks
from deskguard.domain.errors import ConfigurationError
from deskguard.domain.ports_export import ExportKind
from deskguard.settings import load_settings


def test_nothing_configured_means_no_destination_and_no_worker() -> None:
    settings = load_settings(demo=True)
    assert export_plan(settings).destinations == {} and export_sinks(settings) == []


def test_each_configured_destination_gets_its_sink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEC", "token")
    monkeypatch.setenv("HIVE", "key")
    settings = load_settings(
        demo=True,
        export_syslog_host="siem.example",
        export_splunk_url="https://splunk.example:8088",
        export_splunk_token="env://HEC",
        export_thehive_url="https://hive.example",
        export_thehive_key="env://HIVE",
        export_max_queue=50,
    )
    plan = export_plan(settings)
    assert plan.takes(ExportKind.ALERT) == ["splunk", "syslog", "thehive"]
    assert plan.takes(ExportKind.LEDGER_RECORD) == ["splunk", "syslog"]
    assert plan.max_queue == 50
    sinks = export_sinks(settings)
    assert [s.name for s in sinks] == ["syslog", "splunk", "thehive"]
    for sink in sinks:
        sink.close()


def test_a_missing_or_inline_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="EXPORT_SPLUNK_TOKEN"):
        export_sinks(load_settings(demo=True, export_splunk_url="https://s"))
    with pytest.raises(ConfigurationError, match="export_thehive_key"):
        export_sinks(
            load_settings(demo=True, export_thehive_url="https://h", export_thehive_key="env://UNSET_X")
        )
