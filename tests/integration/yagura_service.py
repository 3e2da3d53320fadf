"""A real `yagura serve` on loopback for integration tests: start, log in, call the API, stop.

Standard library only (the tests run with Debian's /usr/bin/python3 and nothing else).
"""

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

ADMIN_USER = "chief"
ADMIN_PASSWORD = "correct horse battery staple"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def wait_for(predicate, what, timeout=60.0, interval=0.1):
    """Polls `predicate` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"timed out waiting for {what}")
        time.sleep(interval)


class Database:
    """The store a test runs on: SQLite in the data directory, or a fresh PostgreSQL schema."""

    def __init__(self, engine):
        self.engine = engine
        self.args = []
        self.schema = None
        if engine == "postgres":
            url = os.environ.get("YAGURA_TEST_POSTGRES_URL")
            if not url:
                print("SKIP: YAGURA_TEST_POSTGRES_URL is not set (run through scripts/with-postgres)")
                sys.exit(0)
            self.schema = f"live_{os.getpid()}_{int(time.time() * 1000) % 100000}"
            subprocess.run(["psql", url, "-qc", f"CREATE SCHEMA {self.schema}"], check=True)
            sep = "&" if "?" in url else "?"
            self.args = ["--database", f"{url}{sep}options=-csearch_path%3D{self.schema}"]

    def drop(self):
        if self.schema:
            subprocess.run(["psql", os.environ["YAGURA_TEST_POSTGRES_URL"], "-qc",
                            f"DROP SCHEMA {self.schema} CASCADE"], capture_output=True)


class Service:
    def __init__(self, yagura, work, database):
        self.yagura = yagura
        self.work = work
        self.data = os.path.join(work, "data")
        self.database = database
        self.process = None
        self.url = None
        self.live_lines = []
        self.jar = None
        self.csrf = None
        env = dict(os.environ, YAGURA_ADMIN_USER=ADMIN_USER, YAGURA_ADMIN_PASSWORD=ADMIN_PASSWORD)
        subprocess.run([yagura, "admin", "init", "--data", self.data, *database.args], env=env,
                       check=True, capture_output=True)

    def start(self, *args, listen="127.0.0.1:0"):
        self.out_path = os.path.join(self.work, f"serve-{time.monotonic_ns()}.out")
        self.err_path = self.out_path[:-4] + ".err"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                [self.yagura, "serve", "--data", self.data, *self.database.args,
                 "--listen", listen, *args], stdout=out, stderr=err)

        def started():
            if self.process.poll() is not None:
                raise Failure(f"serve exited with {self.process.returncode}: {self.log()}")
            text = open(self.out_path, encoding="utf-8", errors="replace").read()
            match = re.search(r"^Yagura is serving .* on (https?://\S+)$", text, re.M)
            if match and "Live monitoring" in text:
                self.url = match.group(1)
                self.live_lines = re.findall(r"^Live monitoring: (.*)$", text, re.M)
                return True
            return False

        wait_for(started, "the server to start", timeout=120)
        self.jar = None
        return self

    def log(self):
        parts = []
        for path in (getattr(self, "out_path", None), getattr(self, "err_path", None)):
            if path and os.path.exists(path):
                parts.append(open(path, encoding="utf-8", errors="replace").read())
        return "\n".join(parts)

    def endpoint(self, transport):
        """The address:port of the syslog listener of `transport` (udp, tcp, tls)."""
        for line in self.live_lines:
            match = re.match(rf"syslog {transport} (\S+):(\d+)$", line)
            if match:
                return match.group(1), int(match.group(2))
        raise Failure(f"no syslog {transport} listener in {self.live_lines}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                code = self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise Failure("serve did not stop within 60 s of SIGTERM")
            check(code == 0, f"serve exited with {code} after SIGTERM: {self.log()[-2000:]}")
        self.process = None

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    # --- HTTP ---------------------------------------------------------------------------------
    def request(self, method, path, body=None, bearer=None, content_type="application/json",
                session=True):
        data = None
        headers = {}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        elif session and self.csrf and method not in ("GET", "HEAD"):
            headers["X-CSRF-Token"] = self.csrf
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar)) \
            if (session and self.jar is not None and not bearer) else urllib.request.build_opener()
        try:
            with opener.open(request, timeout=60) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, raw.decode(errors="replace")

    def login(self, username=ADMIN_USER, password=ADMIN_PASSWORD):
        self.jar = http.cookiejar.CookieJar()
        status, body = self.request("POST", "/api/v1/auth/login",
                                    {"username": username, "password": password})
        check(status == 200, f"login {username}: {status} {body}")
        self.csrf = body["csrf_token"]
        return self

    def as_user(self, username, password):
        other = Service.__new__(Service)
        other.__dict__.update(self.__dict__)
        return other.login(username, password)

    def post(self, path, body):
        status, answer = self.request("POST", path, body)
        check(status in (200, 201, 202), f"POST {path}: {status} {answer}")
        return answer

    def get(self, path, **query):
        if query:
            path += "?" + urlencode(query)
        status, answer = self.request("GET", path)
        check(status == 200, f"GET {path}: {status} {answer}")
        return answer

    def list_all(self, path, **query):
        items, cursor = [], None
        while True:
            page_query = dict(query, limit=200)
            if cursor:
                page_query["cursor"] = cursor
            page = self.get(path, **page_query)
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    def create_org(self, name, type_="ministry", **extra):
        return self.post("/api/v1/organizations", dict(name=name, type=type_, **extra))["id"]

    def create_user(self, username, org_id, roles, password):
        return self.post("/api/v1/users", {"username": username, "display_name": username,
                                           "org_id": org_id, "roles": roles,
                                           "password": password})["id"]

    def sensor_token(self, org_id, name, logsource):
        answer = self.post("/api/v1/sensors", {"org_id": org_id, "name": name,
                                               "logsource": logsource})
        return answer["token"] if "token" in answer else answer["secret"]

    def ingest(self, token, lines):
        body = ("\n".join(lines) + "\n").encode()
        return self.request("POST", "/api/v1/ingest", body, bearer=token,
                            content_type="application/x-ndjson")

    def metric(self, name, **labels):
        """Sum of a metric's samples whose labels include `labels`."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=30) as response:
            text = response.read().decode()
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name):
                continue
            match = re.match(rf"{re.escape(name)}(\{{(.*)\}})? (\S+)$", line)
            if not match:
                continue
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(match.group(3))
        return total


def run(tests, argv):
    """Runs `tests` (name -> function(yagura, engine, work)) named in argv[3:] (all by default)."""
    yagura, engine = argv[1], argv[2]
    chosen = argv[3:] or list(tests)
    failures = 0
    for name in chosen:
        work = tempfile.mkdtemp(prefix=f"yagura-{name}-")
        database = Database(engine)
        started = time.monotonic()
        try:
            tests[name](yagura, database, work)
            print(f"ok   {name} ({time.monotonic() - started:.1f} s)")
        except Failure as failure:
            failures += 1
            print(f"FAIL {name}: {failure}")
        finally:
            database.drop()
            subprocess.run(["rm", "-rf", work])
    sys.exit(1 if failures else 0)
