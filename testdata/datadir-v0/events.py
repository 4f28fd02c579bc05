#!/usr/bin/env python3
"""Writes the deterministic events of the data directory fixture testdata/datadir-v0/
(see testdata/README.md): `events.py acme > acme.ndjson`, `... beta > beta.ndjson`.

acme gets 17,000 events (more than the 5,000 a compression dictionary is trained on and the
16,384 an index segment holds), beta 40. Every value is a function of the event's number, so
running it again gives the same bytes."""
import datetime
import json
import sys

ACTIONS = ["user.login", "document.viewed", "document.signed", "file.uploaded", "file.downloaded", "user.logout"]
WORDS = ["invoice", "contract", "roadmap", "payroll", "minutes", "budget", "handbook"]


def stamp(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event(tenant, i):
    action = ACTIONS[i % len(ACTIONS)]
    word = WORDS[(i // 3) % len(WORDS)]
    user = i % 37
    e = {
        "id": f"{tenant[0]}{i}",
        "action": action,
        # 2026-01-01T00:00:00Z plus 37 s per event; every 11th event arrives 5 minutes late, so
        # the log is not in time order.
        "occurred_at": stamp(1767225600 + i * 37 - (300 if i % 11 == 0 else 0)),
        "actor": {"id": f"u{user}"},
        "description": f"{word} {i % 101}",
    }
    # Some events carry personal data and an address (salted in the stored record).
    if i % 10 == 0:
        e["actor"]["email"] = f"user{user}@{tenant}.example"
        e["context"] = {"ip": f"198.51.100.{i % 200}"}
    return e


def main():
    tenant = sys.argv[1]
    n = {"acme": 17000, "beta": 40}[tenant]
    for i in range(1, n + 1):
        print(json.dumps(event(tenant, i), separators=(",", ":")))


main()
