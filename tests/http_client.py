"""An API client for tests: a TestClient with one bearer token per operator and person."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from world import World

WEBHOOK_KEY = b"test-webhook-key"


class Api:
    """A TestClient with one bearer token per operator and person of the test world."""

    def __init__(self, app: FastAPI, client: TestClient, world: World, tokens: dict[str, str]) -> None:
        self.app, self.client, self.world, self.tokens = app, client, world, tokens

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def post(self, path: str, who: str, json: object = None, **kw: object):
        return self.client.post(path, json=json, headers=self.as_(who), **kw)

    def get(self, path: str, who: str, **kw: object):
        return self.client.get(path, headers=self.as_(who), **kw)


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every API route, through the included routers FastAPI nests."""
    found: set[tuple[str, str]] = set()
    stack = list(app.routes)
    while stack:
        route = stack.pop()
        nested = getattr(route, "original_router", None)
        if nested is not None:
            stack.extend(nested.routes)
        elif getattr(route, "path", "").startswith("/api/"):
            found |= {(m, route.path) for m in route.methods}
    return found
