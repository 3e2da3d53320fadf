#!/usr/bin/python3
"""Crash test of live ingest: `yagura serve` is killed with SIGKILL at random moments while
sensors post events, again and again. After the last restart every acknowledged event has been
processed exactly once.

Twice: first with every event an alert of its own (`--alert-fold-window 0`). Each event carries a
unique marker and matches exactly one rule, so "processed exactly once" is "exactly one alert per
marker". A request that was in flight when the server died may or may not have been spooled
(the sensor never got an answer, so it would send it again), but only whole; its events may
appear at most once too, and nothing else may appear. Then with repeats counted on their first alert (the
default): the events all come from one host, so they are a few alerts whose occurrences must add
up to the acknowledged events, plus at most those that were in flight, after every replay.

usage: live_crash.py YAGURA_BINARY sqlite|postgres
"""

import concurrent.futures
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from yagura_service import Failure, Service, check, run, wait_for  # noqa: E402

RULE = """title: Crash test marker
id: 5c0a7f44-6f3e-4c2f-9b59-8f7f4e1c0a01
status: test
level: low
author: Yagura tests
logsource: {product: windows}
detection:
  selection:
    Marker|startswith: 'crash-'
  condition: selection
"""

ROUNDS = 4  # kills in each of the two runs
RULE_ID = "5c0a7f44-6f3e-4c2f-9b59-8f7f4e1c0a01"


def crash_test(yagura, database, work):
    crash_run(yagura, database, work, folded=False)


def crash_test_repeats(yagura, database, work):
    crash_run(yagura, database, work, folded=True)


def crash_run(yagura, database, work, folded):
    rounds = ROUNDS
    fold = [] if folded else ["--alert-fold-window", "0"]
    rules = os.path.join(work, "rules")
    os.makedirs(rules)
    with open(os.path.join(rules, "marker.yml"), "w") as f:
        f.write(RULE)
    random.seed(os.getpid())
    service = Service(yagura, work, database)
    acknowledged, in_flight = set(), set()
    lock = threading.Lock()
    try:
        service.start("--rules", rules, *fold).login()
        org = service.create_org("Ministry of Examples")
        token = service.sensor_token(org, "dc01", "product=windows")

        for round_number in range(rounds):
            if round_number > 0:
                service.start("--rules", rules, *fold)
            stop = threading.Event()

            def sender(thread):
                batch_number = 0
                while not stop.is_set():
                    markers = [f"crash-{round_number}-{thread}-{batch_number}-{i}" for i in range(20)]
                    batch_number += 1
                    # A request's events share a host: with repeats counted, they are one alert.
                    host = f"h-{round_number}-{thread}-{batch_number}"
                    lines = [json.dumps({"EventID": 1, "Marker": m, "Channel": "Test", "Computer": host})
                             for m in markers]
                    with lock:
                        in_flight.update(markers)
                    try:
                        status, _ = service.ingest(token, lines)
                    except OSError:
                        return  # the server died under this request: its events stay "in flight"
                    with lock:
                        if status == 202:
                            acknowledged.update(markers)
                            in_flight.difference_update(markers)
                            time.sleep(0.01)  # a steady stream, not a flood: the kills land mid-stream
                        elif status == 503:
                            in_flight.difference_update(markers)
                            time.sleep(0.05)

            threads = [threading.Thread(target=sender, args=(t,)) for t in range(2)]
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.3, 1.5))
            service.kill()
            stop.set()
            for t in threads:
                t.join()
        check(len(acknowledged) > 0, "no event was acknowledged: the test proved nothing")

        service.start("--rules", rules, *fold).login()
        status, _ = service.request("GET", "/healthz")
        total = len(acknowledged)

        def counted():
            return sum(a["occurrences"] for a in service.list_all("/api/v1/alerts", rule_id=RULE_ID))

        def caught_up():
            return service.metric("yagura_detector_lag_events") == 0 and counted() >= total

        wait_for(caught_up, "the detector to catch up after the last restart", timeout=300, interval=0.5)
        alerts = service.list_all("/api/v1/alerts", rule_id=RULE_ID)
        ids = [a["id"] for a in alerts]
        check(len(ids) == len(set(ids)), "an alert id appears twice")
        if folded:
            # One alert per request (its host), counting exactly the request's events.
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                firsts = list(pool.map(
                    lambda a: service.get(f"/api/v1/alerts/{a['id']}")["details"]["event"]["Marker"], alerts))
            requests = {}
            for alert, first in zip(alerts, firsts):
                request = first.rsplit("-", 1)[0]
                check(request not in requests, f"two alerts for the events of request {request}")
                requests[request] = alert["occurrences"]
            sent = {m.rsplit("-", 1)[0] for m in acknowledged}
            # A request counts its 20 events exactly, acknowledged or not: the spool keeps a
            # batch whole or not at all, even when a kill stops its write part-way (the kernel
            # stops it at a page boundary: once, before batches were marked, 14 events of a
            # request, about its first 4 KiB, had been kept).
            wrong = {r: n for r, n in requests.items() if n != 20}
            check(not wrong, f"requests of 20 events counted otherwise (a replay counted twice, events "
                             f"lost, or a request kept in part): {dict(list(wrong.items())[:3])}")
            unacknowledged = sum(1 for r in requests if r not in sent)
            lost = sent - requests.keys()
            check(not lost, f"{len(lost)} acknowledged requests raised no alert, e.g. {sorted(lost)[:3]}")
            possible = sent | {m.rsplit("-", 1)[0] for m in in_flight}
            check(not requests.keys() - possible, "alerts for events never sent")
            occurrences = sum(requests.values())
            print(f"     repeats counted: {rounds} kills, {total} acknowledged events, "
                  f"{occurrences} occurrences in {len(alerts)} alerts, none lost or counted twice"
                  f" ({unacknowledged} requests cut off by a kill spooled whole)")
            service.stop()
            return
        # Lists leave the detection details out: read each alert for the event's marker.
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            markers = list(pool.map(
                lambda a: service.get(f"/api/v1/alerts/{a['id']}")["details"]["event"]["Marker"], alerts))
        seen = {}
        for marker in markers:
            seen[marker] = seen.get(marker, 0) + 1
        duplicated = [m for m, n in seen.items() if n > 1]
        check(not duplicated, f"{len(duplicated)} events raised more than one alert, e.g. {duplicated[:3]}")
        lost = acknowledged - seen.keys()
        check(not lost, f"{len(lost)} acknowledged events never raised their alert, e.g. {sorted(lost)[:3]}")
        unknown = seen.keys() - acknowledged - in_flight
        check(not unknown, f"alerts for events never sent: {sorted(unknown)[:3]}")
        # A request's 20 events are kept all together or not at all, acknowledged or not.
        per_request = {}
        for marker in seen:
            request = marker.rsplit("-", 1)[0]
            per_request[request] = per_request.get(request, 0) + 1
        partial = {r: n for r, n in per_request.items() if n != 20}
        check(not partial, f"requests kept in part: {dict(list(partial.items())[:3])}")
        print(f"     every event its own alert: {rounds} kills, {len(acknowledged)} acknowledged events, "
              f"{len(seen) - len(acknowledged)} more from requests cut off by a kill, "
              f"{len(alerts)} alerts, none lost or repeated")
        service.stop()
    finally:
        service.kill()


if __name__ == "__main__":
    argv = sys.argv[:3]
    run({"crash_test": crash_test, "crash_test_repeats": crash_test_repeats}, argv)
