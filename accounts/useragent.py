"""Browser, operating system and device type from a raw User-Agent (ua-parser): shown on
the sessions page and recorded with consent as technical data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

MAX_USER_AGENT = 1000
MOBILE_OS = {"Android", "iOS", "iPadOS", "Windows Phone", "KaiOS"}


@dataclass(frozen=True)
class Client:
    browser: str
    os: str
    device: str


def _version(major: str | None, minor: str | None) -> str:
    return ".".join(part for part in (major, minor) if part)


@lru_cache(maxsize=512)
def describe(user_agent: str) -> Client:
    # A real User-Agent is a few hundred characters; a forged one of kilobytes should not
    # run the parser's hundreds of regular expressions over all of it.
    result = parse((user_agent or "")[:MAX_USER_AGENT])
    browser = "Unknown browser"
    if result.user_agent and result.user_agent.family != "Other":
        browser = f"{result.user_agent.family} {result.user_agent.major or ''}".strip()
    os_name = "Unknown system"
    if result.os and result.os.family != "Other":
        os_name = f"{result.os.family} {_version(result.os.major, result.os.minor)}".strip()
    if result.device and result.device.family in {"iPad"} or "Tablet" in (user_agent or ""):
        device = "Tablet"
    elif result.os and result.os.family in MOBILE_OS or "Mobile" in (user_agent or ""):
        device = "Phone"
    elif result.device and result.device.family == "Spider":
        device = "Robot"
    else:
        device = "Computer"
    return Client(browser=browser, os=os_name, device=device)
