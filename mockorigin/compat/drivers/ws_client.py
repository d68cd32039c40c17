"""A WebSocket client under client-check --ws: ``python ws_client.py`` (the ``websockets`` library).

Sends one text message, then reads until the server closes (or the timeout); exit 0 when
the connection closed cleanly, 1 otherwise.
"""

import asyncio
import os
import sys


async def main() -> int:
    import websockets

    timeout = float(os.environ.get("MO_TIMEOUT", "5"))
    try:
        async with asyncio.timeout(timeout):
            async with websockets.connect(os.environ["MO_URL"], open_timeout=timeout, close_timeout=1) as socket:
                await socket.send("hello from ws_client")
                try:
                    async for message in socket:
                        print(message if isinstance(message, str) else message.hex())
                        if os.environ.get("MO_CASE") == "ws-echo":
                            break
                except websockets.ConnectionClosed:
                    pass
            print(f"closed {socket.close_code}")
    except Exception as error:  # the point is to report what the library raised
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
