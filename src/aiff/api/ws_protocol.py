"""uvicorn's websocket protocol, answering a handshake the `websockets` parser refused.

`websockets` refuses a request line over 8 KiB (414) or oversized headers (431) by queueing the answer and
setting `handshake_exc`, but uvicorn's sans-I/O protocol only looks at `parser_exc`: the answer was never
written and the client waited forever (e.g. `/ws?token=…` with a long query string). This subclass writes
the queued answer and closes the connection.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """See the module docstring; used as uvicorn's `ws` protocol by `aiff api` (`serve.SERVER_OPTIONS`)."""

    def data_received(self, data: bytes) -> None:
        if self.handshake_initiated or self.conn.handshake_exc is None:
            super().data_received(data)
        if not self.handshake_initiated and self.conn.handshake_exc is not None and not self.close_sent:
            self.logger.info("websocket handshake refused: %s", self.conn.handshake_exc)
            self.close_sent = self.handshake_complete = True
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()
