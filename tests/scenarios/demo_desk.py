"""A client for the demo organisation over HTTP, and the demo people the scenarios use."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from deskguard.api.routes.webhooks import sign
from deskguard.bootstrap import Runtime

T = "/api/v1/tenants/tnt_acme"


class Desk:
    def __init__(self, runtime: Runtime, client: TestClient, creds: dict) -> None:
        self.runtime, self.client, self.creds = runtime, client, creds

    def _auth(self, who: str) -> dict[str, str]:
        entry = self.creds["operators"].get(who) or self.creds["persons"][who]
        return {"Authorization": f"Bearer {entry.get('token') or entry['portal_token']}"}

    def post(self, path: str, who: str, body: dict | None = None, status: int = 200) -> dict:
        r = self.client.post(path, json=body, headers=self._auth(who))
        assert r.status_code == status, r.text
        return r.json()

    def get(self, path: str, who: str) -> dict | list:
        r = self.client.get(path, headers=self._auth(who))
        assert r.status_code == 200, r.text
        return r.json()

    def webhook(self, path: str, body: dict) -> dict:
        raw = json.dumps(body).encode()
        r = self.client.post(
            path,
            content=raw,
            headers={
                "x-deskguard-signature": sign(self.runtime.settings.webhook_key(), raw),
                "content-type": "application/json",
            },
        )
        assert r.status_code == 200, r.text
        return r.json()


ALICE, BRUNO, OSCAR, OLGA = (
    "alice.agent@desk.example",
    "bruno.supervisor@desk.example",
    "oscar@farshore.example",
    "olga@farshore.example",
)
CLAIRE, JEAN = "claire.dubois0@acme.example", "jean.martin1@acme.example"
ANNA = "anna.analyst@desk.example"
