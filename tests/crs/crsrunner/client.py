"""Sends one test request over its own connection and reads the answer.

One connection per request, as FTW does: many requests are HTTP/1.0 or malformed on
purpose, so a shared keep-alive connection would carry one test's damage into the next.
On loopback a connection costs tens of microseconds, against milliseconds of CRS
inspection, so keep-alive would not shorten a run noticeably.

Each request leaves from its own loopback source address (127.a.b.c), which is how the
nginx target finds the lines ModSecurity logged for it: nginx writes `client: ADDR` on
every line, so no header has to be added to a request the test defined byte for byte.
"""

import dataclasses
import socket
import time


@dataclasses.dataclass
class Response:
    status: int | None = None           # None: no parsable status line arrived
    headers: dict[str, str] = dataclasses.field(default_factory=dict)  # lower-case names
    error: str | None = None            # connection refused/reset, timeout, garbage


def source_address(index):
    """A distinct loopback address per request index, avoiding .0 and .255 octets."""
    a, rest = divmod(index, 250 * 250)
    b, c = divmod(rest, 250)
    if a > 200:
        raise ValueError("too many requests for distinct loopback source addresses")
    return f"127.{a + 10}.{b + 1}.{c + 1}"


def send(address, port, request, source, timeout):
    """Sends `request` (bytes) from `source` and reads until the response is whole, the
    server closes, or `timeout` seconds pass without progress."""
    response = Response()
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError as e:
        response.error = f"socket: {e}"
        return response
    with sock:
        sock.settimeout(timeout)
        try:
            sock.bind((source, 0))
            sock.connect((address, port))
        except OSError as e:
            response.error = f"connect: {e}"
            return response
        try:
            sock.sendall(request)
        except OSError:
            pass  # the server may answer (400, 413) and close before taking it all
        data = read_response(sock, request, timeout)
    parse_into(response, data)
    return response


def read_response(sock, request, timeout):
    method = request.split(b" ", 1)[0].upper()
    data = b""
    deadline = time.monotonic() + timeout * 3
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        if response_complete(data, method):
            break
    return data


def split_head(data):
    """(status, headers dict, body bytes) of the first final (non-1xx) response in data,
    or None while the head is incomplete."""
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = data[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            return (None, {}, b"")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            headers[key] = (headers[key] + ", " if key in headers else "") + value.strip()
        rest = data[end + 4:]
        if 100 <= status < 200:
            data = rest
            continue
        return (status, headers, rest)


def response_complete(data, method):
    head = split_head(data)
    if head is None:
        return False
    status, headers, body = head
    if status is None or method == b"HEAD" or status in (204, 304):
        return True
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return body.endswith(b"0\r\n\r\n")
    if "content-length" in headers:
        try:
            return len(body) >= int(headers["content-length"])
        except ValueError:
            return True
    return False  # delimited by close


def parse_into(response, data):
    if not data:
        response.error = response.error or "no response (connection closed or timed out)"
        return
    head = split_head(data)
    if head is None or head[0] is None:
        response.error = f"unparsable response: {data[:80]!r}"
        return
    response.status, response.headers, _ = head
