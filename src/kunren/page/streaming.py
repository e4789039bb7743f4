"""The open pages' event streams, as lean as an open connection can be.

A thousand people on the page hold a thousand streams for as long as the drill runs, and
everything a held stream keeps alive is walked by every full pass of Python's garbage
collector, which stops the one loop that serves every page (issue 17 measured passes of
25-320 ms with 1,000 pages open). Starlette's ``StreamingResponse`` under the router keeps
about 22 coroutines per open stream (each middleware and routing layer stays suspended for
the stream's whole life) and an anyio task group with two tasks and their cancel scopes to
hear the client leave. Here:

- ``kunren.page.direct.PageApp`` sends a stream's ``GET`` (like every exact path's request)
  straight to its endpoint (the same guarded endpoint the router has: token, session and
  refusals are checked exactly as for any request), so Starlette's middleware's, the
  router's and the endpoint's own frames are gone once the response is chosen;
- ``EventStream`` writes the stream's messages itself and hears the client leave with one
  task waiting on ``receive``, which ends the stream at once (``Subscriber.hang_up``).

Imported only when an app is built (starlette).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from kunren.page.push import EVENT_STREAM, Subscriber


class EventStream(Response):
    """A ``text/event-stream`` response: ``messages`` written as they come, until they end or
    the client goes away (then ``sub`` is hung up, which ends ``messages`` without writing)."""

    media_type = EVENT_STREAM

    def __init__(
        self, messages: AsyncIterator[str], sub: Subscriber, headers: Mapping[str, str]
    ) -> None:
        super().__init__(content=None, headers=headers, media_type=EVENT_STREAM)
        del self.headers["content-length"]  # no length: the body goes on until the end
        self.messages = messages
        self.sub = sub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        listener = asyncio.ensure_future(_hear_leave(receive, self.sub))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for text in self.messages:
                if self.sub.gone:
                    break
                await send({"type": "http.response.body", "body": text.encode(), "more_body": True})
            if not self.sub.gone:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            listener.cancel()
            aclose = getattr(self.messages, "aclose", None)
            if aclose is not None:
                await aclose()  # the subscription ends with the stream, even on an error


async def _hear_leave(receive: Receive, sub: Subscriber) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            sub.hang_up()
            return
