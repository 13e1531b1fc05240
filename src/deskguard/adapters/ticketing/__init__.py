"""Ticketing adapters: the ``Ticketing`` port over ServiceNow, Jira Service Management, Zendesk and
GLPI (one vendor per module; ``_base`` holds their settings, HTTP call and idempotency)."""
