#!/usr/bin/python3
"""Live GSOC monitoring end to end: a real `yagura serve` on loopback, fed through real sockets.

  ssh_bruteforce_syslog_tcp  OpenSSH_2k.log sent as syslog over TCP yields the SSH brute-force
                             correlation alerts for the attacking addresses, owned by the
                             organisation the sender address is mapped to.
  evtx_bulk_matches_scan     EVTX samples dumped to JSON (`yagura dump`) and posted to
                             /api/v1/ingest yield the same alerts as `yagura scan` on the files.
  campaign_three_orgs        the same malicious domain seen by three organisations yields one
                             campaign alert for the centre; each organisation sees only its own
                             part; a fourth joins the same campaign.
  rules_reload_through_the_api  a rule file added on disk is loaded by POST /api/v1/rules/reload
                             (a job followed through /api/v1/jobs) and fires; a broken rule set
                             fails the job and keeps the running rules.

usage: live_monitoring.py YAGURA_BINARY sqlite|postgres [TEST...]
"""

import collections
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from yagura_service import Failure, Service, check, run, wait_for  # noqa: E402

SHARED = os.environ.get("YAGURA_SHARED_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                     "shared"))
OPENSSH_LOG = os.path.join(SHARED, "data", "logs", "loghub", "OpenSSH_2k.log")
EVTX_DIR = os.path.join(SHARED, "data", "logs", "evtx", "Credential Access")
SIGMAHQ_RULES = os.path.join(SHARED, "data", "sigma", "sigmahq", "rules", "windows")


def require(path):
    if not os.path.exists(path):
        print(f"SKIP: {path} is absent (the shared data directory is needed)")
        sys.exit(0)


def write_config(service, text):
    with open(os.path.join(service.data, "yagura.yml"), "w") as config:
        config.write(text)


def wait_until_detected(service, events):
    wait_for(lambda: service.metric("yagura_detector_events_total") >= events,
             f"the detector to process {events} events", timeout=180)
    # Alerts are stored before the detector's position moves on; nothing more is pending.
    wait_for(lambda: service.metric("yagura_detector_lag_events") == 0, "the detector to catch up")


def ssh_bruteforce_syslog_tcp(yagura, database, work):
    require(OPENSSH_LOG)
    service = Service(yagura, work, database)
    try:
        service.start().login()
        ministry = service.create_org("Ministry of Examples")
        service.create_user("analyst", ministry, ["org_admin"], "analyst password 1")
        service.stop()
        write_config(service, """syslog_senders:
  - match: 127.0.0.1
    org: Ministry of Examples
    logsource: product=linux,service=sshd
    name: labsz
""")
        service.start("--syslog-tcp", "127.0.0.1:0").login()
        host, port = service.endpoint("tcp")
        lines = open(OPENSSH_LOG, encoding="utf-8", errors="replace").read().splitlines()
        with socket.create_connection((host, port)) as connection:
            # Newline framing (RFC 6587 non-transparent), PRI 38 = auth.info.
            connection.sendall("".join(f"<38>{line}\n" for line in lines).encode())
        wait_until_detected(service, len(lines))
        check(service.metric("yagura_syslog_messages_total", transport="tcp") == len(lines),
              "the syslog counter does not show every message")

        correlations = service.list_all("/api/v1/alerts", kind="correlation")
        attackers = collections.Counter()
        for alert in correlations:
            check(alert["org_id"] == ministry, f"correlation alert of the wrong organisation: {alert}")
            title = alert["rule"]["title"].lower()
            if "brute" in title and "ssh" in title:
                for value in alert["group"].values():
                    attackers[value] += 1
        for address in ("183.62.140.253", "187.141.143.180", "103.99.0.122"):
            check(attackers[address] >= 1,
                  f"no SSH brute-force correlation alert for {address}: {dict(attackers)}")
        rules = service.list_all("/api/v1/alerts", kind="rule")
        check(any(a["rule"]["id"] == "9dfc8c97-c892-4113-b1c9-4132bffa1956" for a in rules) or
              not rules, "the failed-password rule alert is missing")

        # The organisation's own staff see them; the centre's admin sees them too.
        analyst = service.as_user("analyst", "analyst password 1")
        own = analyst.list_all("/api/v1/alerts", kind="correlation")
        check(len(own) == len(correlations), "the organisation does not see its own alerts")
        service.stop()
    finally:
        service.kill()


def evtx_bulk_matches_scan(yagura, database, work):
    require(EVTX_DIR)
    require(SIGMAHQ_RULES)
    dumped = os.path.join(work, "events.ndjson")
    # Exit status 1: the directory also holds a file of no known format (an .etl), skipped by
    # `dump` and `scan` alike.
    subprocess.run([yagura, "dump", EVTX_DIR, "-o", dumped], capture_output=True)
    check(os.path.getsize(dumped) > 0, "yagura dump wrote nothing")
    scanned = os.path.join(work, "scan.jsonl")
    subprocess.run([yagura, "scan", EVTX_DIR, "--rules", SIGMAHQ_RULES, "--no-cache",
                    "-o", scanned], capture_output=True)
    expected = collections.Counter()
    for line in open(scanned, encoding="utf-8"):
        alert = json.loads(line)
        if "rule" in alert:
            expected[alert["rule"]["id"] or alert["rule"]["title"]] += 1
    check(sum(expected.values()) > 0, "the scan found nothing: the comparison would prove nothing")

    service = Service(yagura, work, database)
    try:
        service.start("--rules", SIGMAHQ_RULES).login()
        ministry = service.create_org("Ministry of Examples")
        token = service.sensor_token(ministry, "dc01", "product=windows")
        events = open(dumped, encoding="utf-8").read().splitlines()
        for start in range(0, len(events), 500):
            status, answer = service.ingest(token, events[start:start + 500])
            check(status == 202 and answer["rejected"] == 0, f"ingest: {status} {answer}")
        wait_until_detected(service, len(events))
        # Repeats of an alert (same rule and host within the fold window) are counted on it.
        rows = service.list_all("/api/v1/alerts", kind="rule")
        got = collections.Counter()
        for alert in rows:
            got[alert["rule"]["id"]] += alert["occurrences"]
        if got != expected:
            missing = expected - got
            extra = got - expected
            raise Failure(f"live alerts differ from scan: missing {dict(missing)}, extra {dict(extra)}")
        check(len(rows) < sum(got.values()), "no alert counted a repeat: folding was not exercised")
        repeats = service.metric("yagura_alert_repeats_total")
        check(repeats == sum(got.values()) - len(rows),
              f"yagura_alert_repeats_total is {repeats}, not {sum(got.values()) - len(rows)}")
        print(f"     {len(events)} events posted; {sum(got.values())} detections of {len(got)} rules "
              f"in {len(rows)} alerts, the same as yagura scan on the EVTX files")
        service.stop()
    finally:
        service.kill()


def campaign_three_orgs(yagura, database, work):
    feed = os.path.join(work, "campaign-domains.txt")
    with open(feed, "w") as f:
        f.write("# domains of the campaign\ncampaign-c2.example.net\n")
    service = Service(yagura, work, database)
    try:
        service.start("--intel", feed).login()
        orgs, tokens = [], []
        for index, name in enumerate(["Ministry A", "Ministry B", "Ministry C", "Ministry D"]):
            org = service.create_org(name)
            orgs.append(org)
            tokens.append(service.sensor_token(org, f"dns{index}", "product=windows,service=sysmon"))
        service.create_user("reporter_a", orgs[0], ["org_admin"], "reporter a password")

        def query(index, minute):
            return json.dumps({"EventID": 22, "Channel": "Microsoft-Windows-Sysmon/Operational",
                               "Computer": f"pc{index}.example", "QueryName": "campaign-c2.example.net",
                               "Image": "C:\\Windows\\System32\\svchost.exe",
                               "UtcTime": f"2026-11-26 01:{minute:02d}:00.000"})

        for index in range(3):
            status, answer = service.ingest(tokens[index], [query(index, index)])
            check(status == 202, f"ingest: {status} {answer}")
        wait_until_detected(service, 3)
        campaign_alerts = service.list_all("/api/v1/alerts", kind="campaign")
        check(len(campaign_alerts) == 1, f"expected one campaign alert, got {campaign_alerts}")
        campaigns = service.list_all("/api/v1/campaigns")
        check(len(campaigns) == 1, f"expected one campaign, got {campaigns}")
        campaign_id = campaigns[0]["id"]

        # A fourth organisation joins the same campaign; no second campaign alert.
        status, _ = service.ingest(tokens[3], [query(3, 3)])
        check(status == 202, "ingest of the fourth organisation")
        wait_until_detected(service, 4)
        check(len(service.list_all("/api/v1/alerts", kind="campaign")) == 1,
              "a second campaign alert was raised")
        campaign = service.get(f"/api/v1/campaigns/{campaign_id}")
        members = {m["org_id"] for m in campaign["members"]}
        check(members == set(orgs), f"campaign members {members} != {set(orgs)}")

        # Ministry A sees its own alert and that it belongs to a campaign, nothing more.
        reporter = service.as_user("reporter_a", "reporter a password")
        own = reporter.list_all("/api/v1/alerts")
        check(own and all(a["org_id"] == orgs[0] for a in own), f"Ministry A sees {own}")
        check(any(a.get("campaign_id") == campaign_id for a in own),
              "Ministry A's alert does not say it is part of a campaign")
        status, _ = reporter.request("GET", f"/api/v1/campaigns/{campaign_id}")
        check(status == 404, f"Ministry A may read the whole campaign ({status})")
        service.stop()
    finally:
        service.kill()


SUDO_RULE = """title: Sudo to a root shell
id: 7d1c6a52-0d0e-4b61-9a43-5f3b1f7c2a10
level: high
tags: [attack.privilege_escalation, attack.t1548.003]
logsource: {product: linux}
detection:
  selection: {message|contains: 'COMMAND=/bin/sh'}
  condition: selection
"""

SSH_RULE = """title: SSH password guessing
id: 0b6f3e8a-9c1d-4f7e-8a2b-3c4d5e6f7a81
level: medium
logsource: {product: linux}
detection:
  selection: {message|contains: 'Failed password'}
  condition: selection
"""


def finished_job(service, accepted):
    job_id = accepted["job"]["id"]
    state = {}

    def done():
        state.update(service.get(f"/api/v1/jobs/{job_id}"))
        return state["state"] != "running"

    wait_for(done, f"job {job_id} to finish", timeout=120)
    return state


def rules_reload_through_the_api(yagura, database, work):
    """A rule added on disk is loaded by POST /api/v1/rules/reload and then fires; a broken rule
    set leaves the running one; the console's rule and intelligence lists answer."""
    rules = os.path.join(work, "rules")
    os.makedirs(rules)
    with open(os.path.join(rules, "ssh.yml"), "w") as rule:
        rule.write(SSH_RULE)
    service = Service(yagura, work, database)
    try:
        service.start("--rules", rules).login()
        listed = service.get("/api/v1/rules")
        check(listed["detection"] and listed["rule_count"] == 1, f"rules at start: {listed}")
        generation = listed["generation"]

        with open(os.path.join(rules, "sudo.yml"), "w") as rule:
            rule.write(SUDO_RULE)
        job = finished_job(service, service.post("/api/v1/rules/reload", {}))
        check(job["state"] == "succeeded", f"reload job: {job}")
        check(job["progress"]["unit"] == "files" and job["progress"]["done"] == 2,
              f"reload progress: {job['progress']}")
        check(job["result"]["rule_count"] == 2 and job["result"]["generation"] > generation,
              f"reload result: {job['result']}")

        ministry = service.create_org("Ministry of Examples")
        token = service.sensor_token(ministry, "web1", "product=linux")
        status, answer = service.ingest(token, [json.dumps(
            {"message": "sudo: alice : TTY=pts/0 ; COMMAND=/bin/sh", "host": "web1"})])
        check(status == 202, f"ingest: {status} {answer}")
        wait_until_detected(service, 1)
        sudo = [r for r in service.get("/api/v1/rules", q="sudo")["items"]]
        check(len(sudo) == 1 and sudo[0]["hits"] == 1 and sudo[0]["last_hit_at"],
              f"the reloaded rule's hits: {sudo}")

        # Every rule broken: the job fails and the running rules stay.
        for name in ("ssh.yml", "sudo.yml"):
            with open(os.path.join(rules, name), "w") as rule:
                rule.write("title: [broken\n")
        job = finished_job(service, service.post("/api/v1/rules/reload", {}))
        check(job["state"] == "failed" and "no rule" in job["error"], f"broken reload: {job}")
        check(service.get("/api/v1/rules")["rule_count"] == 2, "the running rules were dropped")

        check(isinstance(service.get("/api/v1/intel/feeds")["items"], list), "intel feeds")
        check(service.get("/api/v1/intel/taxii-sources")["items"] == [], "TAXII sources")
        service.stop()
    finally:
        service.kill()


if __name__ == "__main__":
    run({"ssh_bruteforce_syslog_tcp": ssh_bruteforce_syslog_tcp,
         "evtx_bulk_matches_scan": evtx_bulk_matches_scan,
         "campaign_three_orgs": campaign_three_orgs,
         "rules_reload_through_the_api": rules_reload_through_the_api}, sys.argv)
