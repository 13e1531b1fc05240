"""Raw records shared by tests of the detection flow."""

from __future__ import annotations

# An Okta password reset done by a helpdesk agent's own admin account: no deskguard execution.
ADMIN_RESET = {
    "uuid": "7c1e3a52-0f4b-4c3e-9f57-2d6f2b1e9a01",
    "published": "2026-11-30T09:06:00.000Z",
    "eventType": "user.account.reset_password",
    "actor": {"id": "00u1", "type": "User", "alternateId": "k.dupont.adm@acme.example"},
    "target": [{"id": "00u2", "type": "User", "alternateId": "jeanne.martin@acme.example"}],
    "client": {"ipAddress": "81.250.12.200"},
    "outcome": {"result": "SUCCESS"},
}
