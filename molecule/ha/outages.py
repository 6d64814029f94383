"""Each container's outage in each event of the ha scenario, from its `ping -D` log.

Reads JSON on stdin: {"interval": s, "events": [{"name", "start", "end"}], "logs": {container: log text}};
prints JSON: {"outages": {event: {container: seconds}}, "recovered": {container: bool}}.
A container's outage in an event is the longest gap between two consecutive replies that overlaps the
event's window, less the ping interval; it has recovered when it has a reply after the last window.
"""

import json
import re
import sys

REPLY = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from")


def replies(log):
    return sorted(float(m.group(1)) for m in map(REPLY.match, log.splitlines()) if m)


def outage(times, start, end, interval):
    gaps = [b - a for a, b in zip(times, times[1:]) if b > start and a < end]
    return round(max(gaps) - interval, 3) if gaps else None


def outages(data):
    interval = data["interval"]
    times = {name: replies(log) for name, log in data["logs"].items()}
    last = max(event["end"] for event in data["events"])
    return {
        "outages": {event["name"]: {name: outage(t, event["start"], event["end"], interval) for name, t in times.items()}
                    for event in data["events"]},
        "recovered": {name: bool(t) and t[-1] > last for name, t in times.items()},
    }


if __name__ == "__main__":
    json.dump(outages(json.load(sys.stdin)), sys.stdout, sort_keys=True)
