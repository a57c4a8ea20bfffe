"""What a session keeps of the device it was started from: a short label such as
"Chrome 126 on Linux", shown on the account page and by `gatepass session list`.

The whole User-Agent header stays in the audit log, where it serves investigations; a
session keeps only the label (data minimisation), and the label is also what keeps a
user's session index in Redis in Redis's compact encoding (a hash whose values are at
most 64 bytes): about 100 bytes of Redis per session for the index entry instead of 260
with the raw header (docs/redis.md, "Memory per session").

ua-parser (uap-core's regexes, as Keycloak's device activity page uses) names the
browser and the system. A header it cannot place (an app, a script) is kept as sent, cut
to MAX_LABEL_CHARS.
"""

import functools

from ua_parser import parse

from gatepass.sessions.policy import MAX_USER_AGENT_LENGTH

MAX_LABEL_CHARS = 40
UNKNOWN = "Other"  # ua-parser's family for what it cannot place


@functools.lru_cache(maxsize=1024)
def device_label(user_agent: str) -> str:
    """ "Chrome 126 on Linux" for a browser ua-parser knows, else the header, cut."""
    # Parsed at most MAX_USER_AGENT_LENGTH characters: a hostile header costs no more.
    header = user_agent[:MAX_USER_AGENT_LENGTH]
    if not header:
        return ""
    parsed = parse(header)
    browser = parsed.user_agent
    if browser is None or browser.family == UNKNOWN:
        return header[:MAX_LABEL_CHARS]
    label = f"{browser.family} {browser.major}" if browser.major else browser.family
    system = parsed.os
    if system is not None and system.family != UNKNOWN:
        label += f" on {system.family}"
    return label[:MAX_LABEL_CHARS]
