#!/usr/bin/python3
"""A partner CERT pulls the centre's TAXII 2.1 collections: two real `yagura serve` instances on
loopback, the centre and a partner.

The centre publishes a GREEN indicator in a community collection the partner may read, and an
AMBER indicator in a sharing group the partner is not part of. The partner adds both collections
as TAXII sources of its own service (`yagura intel taxii add`); its service pulls them on its
schedule. It receives the GREEN indicator only: an event with the GREEN domain sent to the
partner's service raises an indicator alert there, one with the AMBER domain does not, and
`yagura scan --intel` on the partner's store detects the planted event the same way.

A second test starts a pull while the centre's server is down: the client retries with backoff,
gets everything once the server is back, and a second pull gets nothing new.

A third pulls over https with HTTP Basic and a CA file, and a wrong password changes nothing.

usage: taxii_partner.py YAGURA_BINARY sqlite|postgres [TEST...]
"""

import datetime
import re
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from yagura_service import Database, Service, check, run, wait_for  # noqa: E402

GREEN_DOMAIN = "green-c2.partner-share.example"
AMBER_DOMAIN = "amber-c2.partner-share.example"


def dns_event(domain):
    # Now: indicators are valid from when they were published, and matched on event time.
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000")
    return json.dumps({"EventID": 22, "Channel": "Microsoft-Windows-Sysmon/Operational",
                       "Computer": "pc1.partner.example", "QueryName": domain,
                       "Image": "C:\\Windows\\System32\\svchost.exe", "UtcTime": now})


def partner_pulls_only_what_it_may(yagura, database, work):
    for name in ("centre", "partner"):
        os.makedirs(os.path.join(work, name))
    centre = Service(yagura, os.path.join(work, "centre"), database)
    partner_db = Database("sqlite")  # the partner runs its own embedded store
    partner = Service(yagura, os.path.join(work, "partner"), partner_db)
    try:
        centre.start().login()
        cert = centre.create_org("Partner CERT", "partner_cert")
        centre.create_user("partner", cert, ["partner"], "partner password 12")
        community = centre.post("/api/v1/taxii/collections",
                                {"title": "Community", "max_tlp": "green"})
        group = centre.post("/api/v1/taxii/collections",
                            {"title": "Sharing group", "max_tlp": "amber"})
        centre.post(f"/api/v1/taxii/collections/{community['id']}/access",
                    {"org_id": cert, "can_read": True})
        centre.post(f"/api/v1/taxii/collections/{community['id']}/publish",
                    {"kind": "indicator", "tlp": "green", "type": "domain",
                     "value": GREEN_DOMAIN, "name": "Shared C2 domain"})
        centre.post(f"/api/v1/taxii/collections/{group['id']}/publish",
                    {"kind": "indicator", "tlp": "amber", "type": "domain",
                     "value": AMBER_DOMAIN, "name": "Group-only C2 domain"})
        partner_user = centre.as_user("partner", "partner password 12")
        token = partner_user.post("/api/v1/tokens", {"name": "taxii", "scopes": ["read"]})["token"]

        # The partner's own service, with the centre's collections as TAXII sources.
        store = os.path.join(partner.data, "intel")
        env = dict(os.environ, CENTRE_TOKEN=token)
        for name, collection in (("community", community), ("group", group)):
            url = f"{centre.url}/taxii2/centre/collections/{collection['id']}/"
            subprocess.run([yagura, "intel", "--store", store, "taxii", "add", name, "--url", url,
                            "--token-env", "CENTRE_TOKEN"], env=env, check=True,
                           capture_output=True)
        with open(os.path.join(partner.data, "yagura.yml"), "w") as config:
            config.write("taxii_poll_interval: 1s\n")
        os.environ["CENTRE_TOKEN"] = token  # the partner's service reads the token from it
        partner.start().login()
        check(any("TAXII" in line for line in partner.live_lines),
              f"the partner's service does not poll: {partner.live_lines}")

        wait_for(lambda: json.loads(subprocess.run(
            [yagura, "intel", "--store", store, "taxii", "list", "--json"],
            capture_output=True, check=True).stdout)[0]["objects_pulled"] > 0,
            "the community collection to be pulled", timeout=60)
        listed = {s["name"]: s for s in json.loads(subprocess.run(
            [yagura, "intel", "--store", store, "taxii", "list", "--json"],
            capture_output=True, check=True).stdout)}
        check(listed["group"]["objects_pulled"] == 0 and listed["group"]["last_error"],
              f"the partner read the sharing group it is not part of: {listed['group']}")

        # Live detection at the partner: the GREEN domain alerts, the AMBER one does not.
        org = partner.create_org("Partner constituency")
        sensor = partner.sensor_token(org, "dns", "product=windows,service=sysmon")

        def green_alert():
            status, _ = partner.ingest(sensor, [dns_event(GREEN_DOMAIN)])
            check(status == 202, "ingest at the partner")
            return partner.list_all("/api/v1/alerts", kind="indicator")

        # The detector reloads the pulled feed within seconds; send until it matches.
        wait_for(green_alert, "an indicator alert at the partner", timeout=60, interval=1)
        # GREEN events sent while waiting may still be in the detector: count once it has
        # processed every event accepted so far, so that their alerts are not taken for the
        # AMBER event's. (The lag gauge is only updated when the detector commits a batch, so
        # right after an ingest it may still say 0.)
        def caught_up():
            return (partner.metric("yagura_detector_events_total") >=
                    partner.metric("yagura_ingest_events_total"))
        wait_for(caught_up, "the partner's detector")
        alerts = partner.list_all("/api/v1/alerts", kind="indicator")
        check(all(GREEN_DOMAIN in json.dumps(partner.get(f"/api/v1/alerts/{a['id']}")["details"])
                  for a in alerts), "an alert for something other than the GREEN domain")
        status, _ = partner.ingest(sensor, [dns_event(AMBER_DOMAIN)])
        check(status == 202, "ingest of the AMBER event at the partner")
        wait_for(caught_up, "the partner's detector")
        after = partner.list_all("/api/v1/alerts", kind="indicator")
        check(len(after) == len(alerts), "the AMBER domain raised an alert at the partner")

        # And the partner's offline scan over its store detects the planted event.
        planted = os.path.join(work, "planted.jsonl")
        with open(planted, "w") as f:
            f.write(dns_event(GREEN_DOMAIN) + "\n" + dns_event(AMBER_DOMAIN) + "\n")
        out = os.path.join(work, "scan.jsonl")
        subprocess.run([yagura, "scan", planted, "--intel", store, "--no-cache", "-o", out],
                       capture_output=True)
        found = [json.loads(line) for line in open(out)]
        indicators = [a for a in found if "indicator" in a]
        check(len(indicators) == 1 and GREEN_DOMAIN in json.dumps(indicators[0]["event"]),
              f"the partner's scan found {indicators}")
        partner.stop()
        centre.stop()
    finally:
        partner.kill()
        centre.kill()


def client_retries_until_the_server_is_back(yagura, database, work):
    """A pull that starts while the partner's server is down retries with backoff and, once the
    server is back, gets everything; a second pull gets nothing new (the bookmark held)."""
    centre = Service(yagura, work, database)
    try:
        centre.start().login()
        cert = centre.create_org("Partner CERT", "partner_cert")
        centre.create_user("partner", cert, ["partner"], "partner password 12")
        community = centre.post("/api/v1/taxii/collections", {"title": "Community", "max_tlp": "green"})
        centre.post(f"/api/v1/taxii/collections/{community['id']}/access", {"org_id": cert, "can_read": True})
        for index in range(3):
            centre.post(f"/api/v1/taxii/collections/{community['id']}/publish",
                        {"kind": "indicator", "tlp": "green", "type": "domain",
                         "value": f"retry-{index}.partner-share.example"})
        token = centre.as_user("partner", "partner password 12").post(
            "/api/v1/tokens", {"name": "taxii", "scopes": ["read"]})["token"]
        url = centre.url
        centre.stop()

        store = os.path.join(work, "partner-intel")
        env = dict(os.environ, CENTRE_TOKEN=token)
        subprocess.run([yagura, "intel", "--store", store, "taxii", "add", "centre", "--url",
                        f"{url}/taxii2/centre/collections/{community['id']}/",
                        "--token-env", "CENTRE_TOKEN"], env=env, check=True, capture_output=True)
        # Two objects a page: the pull must follow `next` through every page.
        pull = subprocess.Popen([yagura, "intel", "--store", store, "taxii", "pull", "--page-limit", "2"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)  # the first attempts find nobody listening
        check(pull.poll() is None, "the pull gave up at once instead of retrying")
        centre.start(listen=url.rsplit("/", 1)[-1])
        out, err = pull.communicate(timeout=120)
        check(pull.returncode == 0, f"the pull failed after the server came back: {out} {err}")
        pages = re.search(r"(\d+) objects in (\d+) pages", out)
        check(pages and int(pages.group(2)) >= 3 and int(pages.group(1)) >= 3,
              f"the pull did not page through the collection: {out}")
        listed = json.loads(subprocess.run([yagura, "intel", "--store", store, "taxii", "list", "--json"],
                                           capture_output=True, check=True).stdout)[0]
        check(listed["objects_pulled"] >= 3 and listed["bookmark"], f"after the pull: {listed}")
        again = subprocess.run([yagura, "intel", "--store", store, "taxii", "pull"], env=env,
                               capture_output=True, text=True, check=True).stdout
        check(" 0 objects" in again, f"a second pull fetched objects again: {again}")
        centre.stop()
    finally:
        centre.kill()


def client_over_https_with_basic(yagura, database, work):
    """The client authenticates with HTTP Basic over TLS, checking the server against a CA file;
    a wrong password fails the pull with the server's reason and leaves the bookmark alone."""
    centre = Service(yagura, work, database)
    try:
        centre.start().login()
        cert = centre.create_org("Partner CERT", "partner_cert")
        centre.create_user("partner", cert, ["partner"], "partner password 12")
        community = centre.post("/api/v1/taxii/collections", {"title": "Community", "max_tlp": "green"})
        centre.post(f"/api/v1/taxii/collections/{community['id']}/access", {"org_id": cert, "can_read": True})
        centre.post(f"/api/v1/taxii/collections/{community['id']}/publish",
                    {"kind": "indicator", "tlp": "green", "type": "domain",
                     "value": "tls.partner-share.example"})
        centre.stop()
        key, pem = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", pem, "-days", "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        centre.start("--tls-cert", pem, "--tls-key", key)
        check(centre.url.startswith("https://"), f"not serving https: {centre.url}")
        store = os.path.join(work, "partner-intel")
        url = f"{centre.url}/taxii2/centre/collections/{community['id']}/"

        def add_and_pull(password):
            env = dict(os.environ, PARTNER_PASSWORD=password)
            subprocess.run([yagura, "intel", "--store", store, "taxii", "add", "centre", "--url", url,
                            "--user", "partner", "--password-env", "PARTNER_PASSWORD",
                            "--ca-file", pem], env=env, check=True, capture_output=True)
            return subprocess.run([yagura, "intel", "--store", store, "taxii", "pull"], env=env,
                                  capture_output=True, text=True)

        wrong = add_and_pull("not the password")
        check(wrong.returncode != 0 and "401" in wrong.stderr, f"a wrong password: {wrong.stdout} {wrong.stderr}")
        listed = json.loads(subprocess.run([yagura, "intel", "--store", store, "taxii", "list", "--json"],
                                           capture_output=True, check=True).stdout)[0]
        check(not listed["bookmark"] and listed["last_error"], f"after a failed pull: {listed}")
        right = add_and_pull("partner password 12")
        check(right.returncode == 0, f"Basic over TLS: {right.stdout} {right.stderr}")
        listed = json.loads(subprocess.run([yagura, "intel", "--store", store, "taxii", "list", "--json"],
                                           capture_output=True, check=True).stdout)[0]
        check(listed["objects_pulled"] > 0 and listed["bookmark"] and not listed["last_error"],
              f"after the pull over TLS: {listed}")
        centre.stop()
    finally:
        centre.kill()


if __name__ == "__main__":
    run({"partner_pulls_only_what_it_may": partner_pulls_only_what_it_may,
         "client_retries_until_the_server_is_back": client_retries_until_the_server_is_back,
         "client_over_https_with_basic": client_over_https_with_basic},
        sys.argv)
