"""Azure Monitor records seen through the Sentinel column names SigmaHQ's Azure rules use."""

from __future__ import annotations

from deskguard.detection.normalize import normalize


def test_sigmahq_azure_audit_rules_read_sentinel_columns_on_an_azure_monitor_record() -> None:
    """``Category`` is the audit's own category and ``properties.message`` its activity (the view)."""
    record = {
        "time": "2026-11-30T09:35:00.000Z",
        "operationName": "Add member to role",
        "category": "AuditLogs",
        "resultType": "",
        "properties": {
            "id": "Directory_1",
            "category": "RoleManagement",
            "activityDateTime": "2026-11-30T09:35:00.000Z",
            "activityDisplayName": "Add member to role",
            "loggedByService": "Core Directory",
            "result": "success",
            "initiatedBy": {"user": {"userPrincipalName": "admin@acme.example"}},
            "targetResources": [{"type": "User", "userPrincipalName": "jeanne@acme.example"}],
        },
    }
    (event,) = normalize(record)
    assert event.raw_field("Category") == "RoleManagement"
    assert event.raw_field("properties.message") == "Add member to role"
    assert event.raw_field("category") == "RoleManagement"  # the view first, then the record
