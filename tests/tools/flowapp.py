#!/usr/bin/env python3
"""flowapp.py - a small web app for the flow check's tests (Python's
standard library only): a JSON login that returns a bearer token, a
profile and a list that need it, a form login with a CSRF token and a
session cookie, and a Secure cookie. Test-only; never exposed beyond the
address it is given.

    flowapp.py HOST PORT TOKEN_FILE

Users: smoke / smoke-pass. TOKEN_FILE receives each token issued, one a
line, so a test can grep every output for it.
"""
import http.server
import json
import secrets
import sys
import time
import urllib.parse

USERS = {"smoke": "smoke-pass"}
TOKENS = {}  # token -> (user, expires at)
SESSIONS = {}  # session id -> user
CSRF = set()
HOST, PORT, TOKEN_FILE = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def cookies_of(handler):
    out = {}
    for part in (handler.headers.get("Cookie") or "").split(";"):
        if "=" in part:
            k, v = part.strip().split("=", 1)
            out[k] = v
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj=None, headers=(), body=None, ctype=None):
        data = body if body is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def bearer_user(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            return None, "authentication required"
        tok = auth[7:]
        if tok not in TOKENS:
            return None, "invalid token"
        user, exp = TOKENS[tok]
        if exp < time.time():
            return None, "token expired"
        return user, None

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        raw = self.body()
        if path == "/api/auth/login/":
            try:
                req = json.loads(raw or b"{}")
            except ValueError:
                return self.reply(400, {"detail": "bad JSON"})
            user = req.get("username")
            if USERS.get(user) != req.get("password"):
                return self.reply(401, {"detail": "invalid credentials"})
            tok = "canary-" + secrets.token_hex(16)
            TOKENS[tok] = (user, time.time() + float(req.get("ttl", 3600)))
            with open(TOKEN_FILE, "a") as f:
                f.write(tok + "\n")
            return self.reply(200, {"token": tok, "user": {"name": user}})
        if path == "/session/login/":
            form = urllib.parse.parse_qs(raw.decode())
            csrf = cookies_of(self).get("csrftoken")
            if not csrf or csrf not in CSRF or \
                    self.headers.get("X-CSRFToken") != csrf:
                return self.reply(403, {"detail": "CSRF check failed"})
            user = form.get("username", [""])[0]
            if USERS.get(user) != form.get("password", [""])[0]:
                return self.reply(401, {"detail": "invalid credentials"})
            sid = secrets.token_hex(16)
            SESSIONS[sid] = user
            with open(TOKEN_FILE, "a") as f:
                f.write(sid + "\n")
            return self.reply(302, {}, headers=[
                ("Location", "/session/me/"),
                ("Set-Cookie", "sessionid=%s; HttpOnly; Path=/session/" % sid)])
        return self.reply(404, {"detail": "not found"})

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/api/auth/profile/":
            user, why = self.bearer_user()
            if user is None:
                return self.reply(401, {"detail": why})
            return self.reply(200, {"username": user,
                                    "roles": ["viewer", "tester"]})
        if path == "/api/items/":
            user, why = self.bearer_user()
            if user is None:
                return self.reply(401, {"detail": why})
            items = [{"id": 1, "name": "tea", "price": 3.5},
                     {"id": 2, "name": "cake", "price": 4},
                     {"id": 3, "name": "gift", "price": 0}]
            return self.reply(200, {"count": len(items), "items": items})
        if path == "/session/login/":
            csrf = secrets.token_hex(12)
            CSRF.add(csrf)
            page = ('<form method="post"><input type="hidden" '
                    'name="csrfmiddlewaretoken" value="%s"></form>' % csrf)
            return self.reply(200, body=page.encode(), ctype="text/html",
                              headers=[("X-CSRF-Token", csrf),
                                       ("Set-Cookie",
                                        "csrftoken=%s; Path=/" % csrf)])
        if path == "/session/me/":
            sid = cookies_of(self).get("sessionid")
            if sid not in SESSIONS:
                return self.reply(403, {"detail": "no session"})
            return self.reply(200, {"user": SESSIONS[sid]})
        if path == "/secure/set":
            return self.reply(200, {"set": True}, headers=[
                ("Set-Cookie", "sec=s3cure-cookie-value; Secure; Path=/")])
        if path == "/secure/check":
            return self.reply(200, {"got_secure": "sec" in cookies_of(self)})
        if path == "/cookies":
            return self.reply(200, {"names": sorted(cookies_of(self))})
        if path == "/health":
            return self.reply(200, {"status": "ok"})
        return self.reply(404, {"detail": "not found"})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server((HOST, PORT), Handler)
print("ready", flush=True)
srv.serve_forever()
