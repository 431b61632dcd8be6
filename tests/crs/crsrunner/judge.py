"""What a test's expectations say about one target's answer: pass, fail or not applicable.

The CRS tests look for `id "N"` in the web server's error log; the runner rebuilds that
text from the ids the target reported (one `[id "N"]` line each) and applies the test's
own regular expressions to it, so odd spellings behave as they did for the CRS project
(`no_log_contains: "id:N"` can never match such a log, and passes there too).

Not applicable: the request never reached ModSecurity, because the proxy or web server in
front refused it (HAProxy's or nginx's own 400, a connection closed without an answer).
Such a test says nothing about the WAF and is listed, not counted.
"""

import dataclasses

PASS, FAIL, NA = "pass", "fail", "na"


@dataclasses.dataclass
class Verdict:
    outcome: str
    reason: str = ""


def synthesized_log(ids):
    return "\n".join(f'[id "{rule}"]' for rule in ids)


def judge_stage(expect, response, observation, front):
    if observation.waf_error:
        return Verdict(FAIL, f"the WAF answered error={observation.waf_error}")
    if not observation.inspected:
        if expect.expect_error and response.error:
            return Verdict(PASS)
        what = f"status {response.status}" if response.status else response.error
        return Verdict(NA, f"refused by {front} before ModSecurity ({what})")
    log = synthesized_log(observation.ids)
    problems = []
    if expect.log_contains is not None and not expect.log_contains.search(log):
        problems.append(f"expected {expect.log_contains.pattern}")
    if expect.no_log_contains is not None and expect.no_log_contains.search(log):
        problems.append(f"unexpected {expect.no_log_contains.pattern}")
    if expect.status is not None and response.status not in expect.status:
        problems.append(f"status {response.status} not in {list(expect.status)}")
    if expect.expect_error and not response.error:
        problems.append("expected a connection error, got a response")
    if not expect.expect_error and response.error:
        problems.append(f"no valid response: {response.error}")
    if problems:
        return Verdict(FAIL, "; ".join(problems))
    return Verdict(PASS)


def combine(verdicts):
    """A test passes when all its stages pass; one failing stage fails it."""
    for v in verdicts:
        if v.outcome == FAIL:
            return v
    for v in verdicts:
        if v.outcome == NA:
            return v
    return Verdict(PASS)
