"""In-memory far ends for the ticketing contract, served through respx: each answers the requests
and the bodies of its vendor's published REST reference (ServiceNow Table API, JSM servicedeskapi,
Zendesk Support API, GLPI apirest.php), records the comments it accepted, refuses the next write
when asked, and lets writes to a ``slow.*`` host time out."""

from __future__ import annotations

import json
from typing import Any

import httpx

WRITES = ("POST", "PUT", "PATCH")


class Sim:
    refusal_status = 403
    refusal_body: Any = {}

    def __init__(self) -> None:
        self.comments: list[tuple[str, str]] = []
        self.opened: list[tuple[str, str]] = []
        self.requests: list[httpx.Request] = []
        self.refusing = False

    def refuse_next(self) -> None:
        self.refusing = True

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        write = request.method in WRITES
        if write and request.url.host.startswith("slow."):
            raise httpx.ReadTimeout("no answer", request=request)
        if write and self.refusing:
            self.refusing = False
            return httpx.Response(self.refusal_status, json=self.refusal_body)
        body = json.loads(request.content) if request.content else None
        return self.handle(request.method, request.url.path, request.url.params, body, request.headers)

    def handle(
        self, method: str, path: str, params: httpx.QueryParams, body: Any, headers: httpx.Headers
    ) -> httpx.Response:  # pragma: no cover - each vendor overrides
        raise NotImplementedError


def _not_found(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


class ServiceNowSim(Sim):
    """``/api/now/table/incident``: records by sys_id, found by number."""

    refusal_body = {
        "error": {"message": "Operation Failed", "detail": "ACL Exception Update Failed due to security"},
        "status": "failure",
    }
    NOT_FOUND = {
        "error": {"message": "No Record found", "detail": "Record doesn't exist or ACL restricts it"},
        "status": "failure",
    }

    def __init__(self) -> None:
        super().__init__()
        self.incidents = {"9d385017c611228701d22104cc95c371": "INC0010001"}

    def handle(self, method, path, params, body, headers):  # type: ignore[no-untyped-def]
        table = "/api/now/table/incident"
        sys_id = path[len(table) + 1 :] if path.startswith(table + "/") else ""
        if method == "GET" and not sys_id:
            number = params.get("sysparm_query", "").removeprefix("number=")
            found = [{"sys_id": s, "number": n} for s, n in self.incidents.items() if n == number]
            return httpx.Response(200, json={"result": found[:1]})
        if method == "POST" and not sys_id:
            new = f"{len(self.incidents):032x}"
            self.incidents[new] = f"INC00100{len(self.incidents) + 1:02d}"
            self.opened.append((body["short_description"], body["description"]))
            return httpx.Response(201, json={"result": {"sys_id": new, "number": self.incidents[new]}})
        if sys_id not in self.incidents:
            return _not_found(404, self.NOT_FOUND)
        number = self.incidents[sys_id]
        if method == "PATCH":
            if "work_notes" in body or "comments" in body:
                self.comments.append((number, body.get("work_notes") or body["comments"]))
            stamp = f"2026-12-03 21:00:{len(self.comments):02d}"
            return httpx.Response(
                200, json={"result": {"sys_id": sys_id, "number": number, "sys_updated_on": stamp}}
            )
        return httpx.Response(200, json={"result": {"sys_id": sys_id, "number": number}})


class JsmSim(Sim):
    """``/rest/servicedeskapi/request``: requests by issue key, comments with ``public``."""

    refusal_body = {
        "errorMessage": "You do not have permission to comment on this request.",
        "i18nErrorMessage": {"i18nKey": "sd.request.comment.permission", "parameters": []},
    }

    def __init__(self) -> None:
        super().__init__()
        self.keys = {"HD-1"}

    def handle(self, method, path, params, body, headers):  # type: ignore[no-untyped-def]
        parts = path.removeprefix("/rest/servicedeskapi/request").strip("/").split("/")
        if method == "POST" and parts == [""]:
            key = f"HD-{len(self.keys) + 1}"
            self.keys.add(key)
            fields = body["requestFieldValues"]
            self.opened.append((fields["summary"], fields["description"]))
            return httpx.Response(201, json={"issueId": str(10000 + len(self.keys)), "issueKey": key})
        if parts[0] not in self.keys:
            return _not_found(
                404, {"errorMessage": "The request could not be found.", "i18nErrorMessage": {}}
            )
        if method == "GET" and len(parts) == 1:
            return httpx.Response(200, json={"issueId": "10001", "issueKey": parts[0]})
        if method == "POST" and parts[1:] == ["comment"]:
            assert body["public"] is False
            self.comments.append((parts[0], body["body"]))
            comment = {"id": str(1000 + len(self.comments)), "body": body["body"], "public": False}
            return httpx.Response(201, json=comment)
        return httpx.Response(404, json={"errorMessage": "no such resource"})  # pragma: no cover


class ZendeskSim(Sim):
    """``/api/v2/tickets``: tickets by id; a comment is a PUT that makes an audit."""

    refusal_status = 422
    refusal_body = {"error": "RecordInvalid", "description": "Record validation errors"}

    def __init__(self) -> None:
        super().__init__()
        self.tickets = {35436: "open"}

    def handle(self, method, path, params, body, headers):  # type: ignore[no-untyped-def]
        rest = path.removeprefix("/api/v2/tickets").strip("/")
        if method == "POST" and not rest:
            new = max(self.tickets) + 1
            self.tickets[new] = "new"
            ticket = body["ticket"]
            self.opened.append((ticket["subject"], ticket["comment"]["body"]))
            return httpx.Response(201, json={"ticket": {"id": new, "status": "new"}, "audit": {"id": 1}})
        if not rest.isdigit() or int(rest) not in self.tickets:
            return _not_found(404, {"error": "RecordNotFound", "description": "Not found"})
        ticket_id = int(rest)
        if method == "PUT":
            update = body["ticket"]
            if "comment" in update:
                assert update["comment"]["public"] is False
                self.comments.append((rest, update["comment"]["body"]))
            self.tickets[ticket_id] = update.get("status", self.tickets[ticket_id])
            audit = {"id": 9000 + len(self.comments), "ticket_id": ticket_id, "events": []}
            return httpx.Response(
                200, json={"ticket": {"id": ticket_id, "status": self.tickets[ticket_id]}, "audit": audit}
            )
        return httpx.Response(200, json={"ticket": {"id": ticket_id, "status": self.tickets[ticket_id]}})


class GlpiSim(Sim):
    """``/apirest.php``: sessions by user_token, tickets, ITILFollowup."""

    refusal_status = 400
    refusal_body = ["ERROR_GLPI_ADD", "You don't have permission to perform this action."]
    SESSION = "83af7e620c83a50a18d3eac2f6ed05a3ca0bea62"

    def __init__(self, *, app_token: str, user_token: str) -> None:
        super().__init__()
        self.tickets = {7}
        self.app_token, self.user_token = app_token, user_token
        self.open_sessions = 0

    def handle(self, method, path, params, body, headers):  # type: ignore[no-untyped-def]
        rest = path.split("/apirest.php", 1)[1]
        if headers.get("app-token") != self.app_token:
            return httpx.Response(400, json=["ERROR_WRONG_APP_TOKEN_PARAMETER", "missing or wrong App-Token"])
        if rest == "/initSession":
            if headers.get("authorization") != f"user_token {self.user_token}":
                return httpx.Response(
                    401, json=["ERROR_GLPI_LOGIN_USER_TOKEN", "parameter user_token seems invalid"]
                )
            self.open_sessions += 1
            return httpx.Response(200, json={"session_token": self.SESSION})
        if headers.get("session-token") != self.SESSION:
            return httpx.Response(401, json=["ERROR_SESSION_TOKEN_INVALID", "session_token seems invalid"])
        if rest == "/killSession":
            self.open_sessions -= 1
            return httpx.Response(200, json=True)
        if method == "POST" and rest == "/Ticket":
            new = max(self.tickets) + 1
            self.tickets.add(new)
            self.opened.append((body["input"]["name"], body["input"]["content"]))
            return httpx.Response(201, json={"id": new, "message": ""})
        if method == "POST" and rest == "/ITILFollowup":
            item = body["input"]
            assert item["itemtype"] == "Ticket" and item["is_private"] == 1
            self.comments.append((str(item["items_id"]), item["content"]))
            return httpx.Response(201, json={"id": 500 + len(self.comments), "message": ""})
        ticket = rest.removeprefix("/Ticket/")
        if not ticket.isdigit() or int(ticket) not in self.tickets:
            return httpx.Response(404, json=["ERROR_ITEM_NOT_FOUND", "Item not found"])
        return httpx.Response(200, json={"id": int(ticket), "name": "Reset request", "status": 2})
