"""A Python HTTP client library under client-check: ``python python_client.py LIBRARY``.

LIBRARY is http.client, urllib3, requests, httpx or aiohttp. Exit 0 with the status and
body on stdout once a response was read; 1 with the error on stderr otherwise.
"""

import os
import sys
from urllib.parse import urlsplit


def request(library: str, url: str, method: str, body: bytes, headers: dict, timeout: float) -> tuple[int, bytes]:
    if library == "http.client":
        import http.client

        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        connection.request(method, parts.path + ("?" + parts.query if parts.query else ""), body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    if library == "urllib3":
        import urllib3

        response = urllib3.PoolManager(retries=False, timeout=timeout).request(method, url, body=body or None, headers=headers)
        return response.status, response.data
    if library == "requests":
        import requests

        response = requests.request(method, url, data=body or None, headers=headers, timeout=timeout)
        return response.status_code, response.content
    if library == "httpx":
        import httpx

        response = httpx.request(method, url, content=body or None, headers=headers, timeout=timeout)
        return response.status_code, response.content
    if library == "aiohttp":
        import asyncio

        import aiohttp

        async def go():
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
                async with session.request(method, url, data=body or None, headers=headers, expect100=bool(headers)) as response:
                    return response.status, await response.read()

        return asyncio.run(go())
    raise SystemExit(f"unknown library {library}")


def main() -> int:
    library = sys.argv[1] if len(sys.argv) > 1 else "http.client"
    env = os.environ
    body = open(env["MO_BODY_FILE"], "rb").read() if env.get("MO_BODY_FILE") else b""
    headers = {"Expect": env["MO_EXPECT"]} if env.get("MO_EXPECT") else {}
    try:
        status, data = request(library, env["MO_URL"], env.get("MO_METHOD", "GET"), body, headers, float(env.get("MO_TIMEOUT", "5")))
    except Exception as error:  # the point is to report what the library raised
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(f"{status}\n")
    sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
