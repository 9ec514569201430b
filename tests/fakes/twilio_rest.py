"""Twilio's REST API on loopback: `Calls.json` (outbound calls) and `Messages.json` (SMS), answering
like Twilio, errors included.

Calls: keeps every request it received (the form as lists, since `StatusCallbackEvent` repeats);
`refuse` makes it answer Twilio's 400 for an invalid `To`.

Messages: `POST` checks what Twilio checks (HTTP basic auth AccountSid:AuthToken when the fake was
made with them, the account in the path, `To`, `From` or `MessagingServiceSid`, `Body`, E.164
numbers, 1600 characters) and answers 201 with a message resource (`sid` SM..., `status` queued, or
accepted through a Messaging Service), or Twilio's error JSON (`code`, `message`, `more_info`,
`status`). `GET` lists the messages it took, newest first, filtered by `To` and `From`, in pages.
`unsubscribed` numbers get 21610, `outage` (429, 500, 503) answers every send with that error,
and `delay` holds each answer back that many seconds after the message was taken.
"""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fakes.loopback import ServerThread

CALL_SID = "CA" + "f" * 32
API = "/2010-04-01/Accounts/{sid}"
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
ERRORS = {
    20003: (401, "Authenticate"),
    20429: (429, "Too Many Requests"),
    20500: (500, "An internal server error has occurred"),
    20503: (503, "Service is unavailable. Please try again"),
    21211: (400, "The 'To' number {To} is not a valid phone number."),
    21212: (400, "The 'From' number {From} is not a valid phone number, shortcode, or alphanumeric "
                 "sender ID."),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (400, "The 'From' phone number provided is not a valid message-capable Twilio phone number "
                 "for this destination/account."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}
OUTAGES = {429: 20429, 500: 20500, 503: 20503}


def twilio_error(code: int, form: dict[str, str] | None = None) -> JSONResponse:
    status, message = ERRORS[code]
    return JSONResponse({"code": code, "message": message.format(**(form or {})),
                         "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
                        status_code=status)


class FakeTwilioRest:
    def __init__(self, account_sid: str = "", auth_token: str = "") -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        """When set, `Messages.json` requires them as basic auth (Twilio's 20003 otherwise)."""
        self.requests: list[dict[str, str]] = []
        """One per request: basic auth as "user:password", the account SID from the path, the form
        (the last value of each field)."""
        self.multi: list[dict[str, list[str]]] = []
        """The same forms with every value of each field."""
        self.refuse = False
        self.message_requests: list[dict[str, str]] = []
        """Every `POST Messages.json`, taken or not: auth, the account SID from the path, the form."""
        self.messages: list[dict[str, Any]] = []
        """The message resources taken, oldest first."""
        self.senders: set[str] = set()
        """When not empty, the only `From` numbers the account owns (21606 for another)."""
        self.unsubscribed: set[str] = set()
        self.outage = 0
        self.delay = 0.0
        self.server = ServerThread(Starlette(routes=[
            Route(API + "/Calls.json", self.calls, methods=["POST"]),
            Route(API + "/Messages.json", self.create_message, methods=["POST"]),
            Route(API + "/Messages.json", self.list_messages, methods=["GET"]),
        ]))

    @property
    def base_url(self) -> str:
        return self.server.base_url

    async def calls(self, request: Request) -> Response:
        auth = base64.b64decode(request.headers["authorization"].split()[1]).decode()
        form = await request.form()
        fields = {k: str(v) for k, v in form.items()}
        multi: dict[str, list[str]] = {}
        for k, v in form.multi_items():
            multi.setdefault(k, []).append(str(v))
        self.requests.append({"auth": auth, "sid": request.path_params["sid"], **fields})
        self.multi.append(multi)
        if self.refuse:
            return JSONResponse({"code": 21211, "message": "The 'To' number is not a valid phone number.",
                                 "status": 400}, status_code=400)
        return JSONResponse({"sid": CALL_SID, "status": "queued", "to": fields["To"]}, status_code=201)

    def _authorized(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        if not self.account_sid:
            return scheme.lower() == "basic" and bool(user)
        return (scheme.lower() == "basic" and (user, password) == (self.account_sid, self.auth_token)
                and request.path_params["sid"] == self.account_sid)

    async def create_message(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        header = request.headers.get("authorization", "").partition(" ")[2]
        auth = base64.b64decode(header).decode(errors="replace") if header else ""
        self.message_requests.append({"auth": auth, "sid": request.path_params["sid"], **form})
        if not self._authorized(request):
            return twilio_error(20003)
        if self.outage:
            return twilio_error(OUTAGES[self.outage])
        refused = self._refusal(form)
        if refused:
            return twilio_error(refused, form)
        resource = self._resource(request.path_params["sid"], form)
        self.messages.append(resource)
        if self.delay:
            await asyncio.sleep(self.delay)
        return JSONResponse(resource, status_code=201)

    def _refusal(self, form: dict[str, str]) -> int:
        """Twilio's error code for this form, 0 when Twilio would take it."""
        to, sender, service = form.get("To", ""), form.get("From", ""), form.get("MessagingServiceSid", "")
        checks = [
            (not to, 21604), (not (sender or service), 21603), (not form.get("Body"), 21602),
            (not E164.fullmatch(to), 21211), (bool(sender) and not E164.fullmatch(sender), 21212),
            (bool(sender and self.senders) and sender not in self.senders, 21606),
            (len(form.get("Body", "")) > 1600, 21617), (to in self.unsubscribed, 21610),
        ]
        return next((code for failed, code in checks if failed), 0)

    def _resource(self, account: str, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(UTC), usegmt=True)
        service = form.get("MessagingServiceSid") or None
        return {
            "account_sid": account, "api_version": "2010-04-01", "body": form["Body"], "date_created": now,
            "date_sent": None, "date_updated": now, "direction": "outbound-api", "error_code": None,
            "error_message": None, "from": None if service else form["From"],
            "messaging_service_sid": service,
            "num_media": "0", "num_segments": str(len(form["Body"]) // 161 + 1), "price": None,
            "price_unit": "USD", "sid": sid, "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
            "to": form["To"], "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }

    async def list_messages(self, request: Request) -> Response:
        if not self._authorized(request):
            return twilio_error(20003)
        query = request.query_params
        size, page = int(query.get("PageSize", "50")), int(query.get("Page", "0"))
        found = [m for m in reversed(self.messages)
                 if query.get("To", m["to"]) == m["to"] and query.get("From", m["from"]) == m["from"]]
        base = f"/2010-04-01/Accounts/{request.path_params['sid']}/Messages.json"
        filters = "".join(urlencode({k: v}) + "&" for k, v in query.items() if k in ("To", "From"))
        more = (page + 1) * size < len(found)
        return JSONResponse({
            "messages": found[page * size:(page + 1) * size], "page": page, "page_size": size,
            "start": page * size, "end": min((page + 1) * size, len(found)) - 1,
            "uri": f"{base}?{filters}PageSize={size}&Page={page}",
            "first_page_uri": f"{base}?{filters}PageSize={size}&Page=0",
            "next_page_uri": f"{base}?{filters}PageSize={size}&Page={page + 1}" if more else None,
            "previous_page_uri": f"{base}?{filters}PageSize={size}&Page={page - 1}" if page else None,
        })

    def __enter__(self) -> FakeTwilioRest:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
