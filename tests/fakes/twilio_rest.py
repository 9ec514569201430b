"""Twilio's REST `Calls.json` endpoint on loopback: checks basic auth and the form, answers like Twilio.

Keeps every request it received (the form as lists, since `StatusCallbackEvent` repeats); `refuse`
makes it answer Twilio's 400 for an invalid `To`.
"""

from __future__ import annotations

import base64

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fakes.loopback import ServerThread

CALL_SID = "CA" + "f" * 32


class FakeTwilioRest:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        """One per request: basic auth as "user:password", the account SID from the path, the form
        (the last value of each field)."""
        self.multi: list[dict[str, list[str]]] = []
        """The same forms with every value of each field."""
        self.refuse = False
        self.server = ServerThread(Starlette(routes=[
            Route("/2010-04-01/Accounts/{sid}/Calls.json", self.calls, methods=["POST"])]))

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

    def __enter__(self) -> FakeTwilioRest:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
