"""Composition of the SIEM/SOAR export (``app.export``): the plan and the destination adapters.

A destination is configured when its host or URL is set; ``deskguard serve`` starts the exporter
worker only when at least one is. Secrets are references, resolved here when the sinks are built.
"""

from __future__ import annotations

from deskguard.adapters.connectors.secrets import check_reference
from deskguard.adapters.export.splunk import SplunkHecSink
from deskguard.adapters.export.syslog import SyslogSink
from deskguard.adapters.export.thehive import TheHiveSink
from deskguard.domain.errors import ConfigurationError
from deskguard.domain.ports_export import ExportKind, ExportPlan, ExportSink
from deskguard.settings import Settings

ALL = frozenset({ExportKind.ALERT, ExportKind.LEDGER_RECORD})


def export_plan(settings: Settings) -> ExportPlan:
    destinations: dict[str, frozenset[ExportKind]] = {}
    if settings.export_syslog_host:
        destinations["syslog"] = ALL
    if settings.export_splunk_url:
        destinations["splunk"] = ALL
    if settings.export_thehive_url:
        destinations["thehive"] = frozenset({ExportKind.ALERT})
    return ExportPlan(
        destinations=destinations,
        max_queue=settings.export_max_queue,
        max_attempts=settings.export_max_attempts,
    )


def export_sinks(settings: Settings) -> list[ExportSink]:
    for field in ("export_splunk_token", "export_thehive_key"):
        value = getattr(settings, field)
        if value:
            try:
                check_reference(value)
            except ValueError as exc:
                raise ConfigurationError(f"DESKGUARD_{field.upper()}: {exc}", field=field) from None
    sinks: list[ExportSink] = []
    if settings.export_syslog_host:
        sinks.append(
            SyslogSink(
                host=settings.export_syslog_host,
                port=settings.export_syslog_port,
                tls_ca=settings.export_syslog_tls_ca,
            )
        )
    if settings.export_splunk_url:
        if not settings.export_splunk_token:
            raise ConfigurationError("DESKGUARD_EXPORT_SPLUNK_TOKEN is required with the Splunk URL")
        sinks.append(
            SplunkHecSink(
                url=settings.export_splunk_url,
                token_ref=settings.export_splunk_token,
                index=settings.export_splunk_index or None,
            )
        )
    if settings.export_thehive_url:
        if not settings.export_thehive_key:
            raise ConfigurationError("DESKGUARD_EXPORT_THEHIVE_KEY is required with the TheHive URL")
        sinks.append(
            TheHiveSink(
                url=settings.export_thehive_url,
                key_ref=settings.export_thehive_key,
                organisation=settings.export_thehive_organisation or None,
            )
        )
    return sinks
