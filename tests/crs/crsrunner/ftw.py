"""Loads the CRS regression YAML (FTW format) and turns each stage into request bytes.

The bytes are those the FTW tool (the CRS project's runner for 3.3.x) sends, because the
expectations were written against them: the same defaults (GET / HTTP/1.1), the same
"magic" for bodies (a default form Content-Type, form data re-encoded, a Content-Length),
which `stop_magic: true` turns off, and the same handling of `raw_request` and
`encoded_request`. Reproducing the bytes is what makes a pass rate comparable with the
CRS project's own.
"""

import base64
import codecs
import dataclasses
import os
import re
import urllib.parse



FORM_TYPE = "application/x-www-form-urlencoded"


@dataclasses.dataclass
class Expectation:
    log_contains: re.Pattern | None = None
    no_log_contains: re.Pattern | None = None
    status: tuple[int, ...] | None = None
    expect_error: bool = False

    def describe(self):
        parts = []
        if self.log_contains is not None:
            parts.append(f"log_contains {self.log_contains.pattern}")
        if self.no_log_contains is not None:
            parts.append(f"no_log_contains {self.no_log_contains.pattern}")
        if self.status is not None:
            parts.append(f"status {list(self.status)}")
        if self.expect_error:
            parts.append("expect_error")
        return ", ".join(parts)


@dataclasses.dataclass
class Stage:
    request: bytes
    expect: Expectation


@dataclasses.dataclass
class Test:
    title: str
    file: str  # relative to the tests folder, e.g. REQUEST-942-.../942100.yaml
    stages: list[Stage]


class FormatError(Exception):
    pass


def load_tests(tests_dir, only=None):
    """Every enabled test under tests_dir, sorted by file then order in the file.

    `only`: a regular expression matched against the test title, or None for all.
    """
    import yaml  # Debian's python3-yaml; imported here so that its absence can be a skip

    pattern = re.compile(only) if only else None
    tests = []
    for root, _dirs, files in os.walk(tests_dir):
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, tests_dir)
            with open(path, "rb") as f:
                document = yaml.safe_load(f)
            if not document or not document.get("meta", {}).get("enabled", True):
                continue
            for entry in document.get("tests") or []:
                if entry.get("enabled", True) is False:
                    continue
                title = str(entry.get("test_title", "?"))
                if pattern and not pattern.search(title):
                    continue
                try:
                    stages = [parse_stage(s["stage"]) for s in entry.get("stages") or []]
                except (KeyError, TypeError, ValueError) as e:
                    raise FormatError(f"{rel}: test {title}: {e}") from e
                tests.append(Test(title, rel, stages))
    tests.sort(key=lambda t: t.file)
    return tests


def parse_stage(stage):
    return Stage(build_request(stage.get("input") or {}), parse_output(stage.get("output") or {}))


def parse_output(output):
    def regex(key):
        return re.compile(str(output[key])) if key in output else None

    status = output.get("status")
    if status is not None:
        status = tuple(int(s) for s in status) if isinstance(status, list) else (int(status),)
    return Expectation(regex("log_contains"), regex("no_log_contains"), status,
                       bool(output.get("expect_error")))


def build_request(inp):
    if inp.get("encoded_request") is not None:
        return base64.b64decode(inp["encoded_request"])
    if inp.get("raw_request") is not None:
        # FTW encodes the YAML text as UTF-8, undoes backslash escapes the YAML left,
        # then encodes the result as UTF-8 again, so non-ASCII characters arrive as
        # double-encoded UTF-8 (944200-0 expects exactly that mangling to defeat its rule).
        text = codecs.decode(str(inp["raw_request"]).encode("utf-8"), "unicode_escape")
        return text.encode("utf-8")

    method = str(inp.get("method", "GET"))
    uri = str(inp.get("uri", "/"))
    version = str(inp.get("version", "HTTP/1.1"))
    headers = {str(k): str(v) for k, v in (inp.get("headers") or {}).items()}
    stop_magic = bool(inp.get("stop_magic", False))
    data = inp.get("data", "")
    if isinstance(data, list):
        data = "\r\n".join(str(d) for d in data)
    data = "" if data is None else str(data)

    if data and not stop_magic:
        # FTW looks the headers up with their exact spelling, so a test that writes
        # "content-type" gets a second, default Content-Type; kept for fidelity.
        headers.setdefault("Content-Type", FORM_TYPE)
        if headers["Content-Type"] == FORM_TYPE and urllib.parse.unquote(data) == data:
            pairs = urllib.parse.parse_qsl(data)
            if pairs:
                data = urllib.parse.urlencode(pairs)
        headers.setdefault("Content-Length", str(len(data)))

    body = encode_body(data, headers, stop_magic)
    head = f"{method} {uri} {version}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return head.encode("utf-8") + b"\r\n" + body


def encode_body(data, headers, stop_magic):
    encoding = "utf-8"
    content_type = headers.get("Content-Type")
    if content_type and not stop_magic:
        m = re.search(r";\s?charset=(.*?)(?:$|;|\s)", content_type)
        if m:
            candidate = m.group(1).replace("-", "_").lower()
            try:
                codecs.lookup(candidate)
                encoding = candidate
            except LookupError:
                pass
    try:
        return data.encode(encoding)
    except UnicodeError:
        return data.encode("utf-8")
