#!/usr/bin/env python3
"""Reads the Cocoon pool ledger's events from NATS JetStream, standard library only.

Speaks the NATS client protocol over a plain TCP socket (INFO/CONNECT, PING/PONG, SUB/UNSUB,
PUB, MSG/HMSG: https://docs.nats.io/reference/reference-protocols/nats-protocol) and the JetStream
API on top of it: one ephemeral pull consumer on stream POOL ($JS.API.CONSUMER.CREATE.POOL),
batches pulled with $JS.API.CONSUMER.MSG.NEXT.POOL.<consumer>, the stream sequence of each
message read from its $JS.ACK reply subject. The consumer is deleted on exit (and the server drops
it by itself INACTIVE_SECONDS after the last pull).

Prints one JSON line per event on stdout:
    {"seq": <stream sequence>, "subject": "pool.<context>.<id>", "type", "version", "id", "data"}
(type, version, id, data: the stored envelope, schemas/json/<Type>.v<version>.schema.json). A
stored message that is not an event envelope is reported on stderr and skipped. Without --follow it
stops at the end of the stream (or after --limit events); to resume, pass the last printed seq + 1
as --from-seq.

Exit status: 0 done, 1 a server or protocol error (the message says which), 2 bad arguments.
The document of every subject and header: schemas/json/asyncapi.json.
"""
import argparse
import json
import os
import secrets
import signal
import socket
import sys
import urllib.parse

STREAM = "POOL"
# seconds without a pull after which the server deletes the ephemeral consumer by itself
INACTIVE_SECONDS = 60
# seconds a pull request waits for messages before the server answers 408
PULL_EXPIRES_SECONDS = 5
NANOS = 1_000_000_000
# the description of the consumers this script creates, so an operator can tell them apart
CONSUMER_DESCRIPTION = "pool-consumer-example"


class ConsumerError(Exception):
    """A failure a user can act on; its message says what to do."""


class Message:
    """One MSG or HMSG: subscription id, subject, reply subject, headers (name -> last value), status code, body bytes."""

    def __init__(self, sid, subject, reply, headers, status, description, body):
        self.sid = sid
        self.subject = subject
        self.reply = reply
        self.headers = headers
        self.status = status
        self.description = description
        self.body = body


def parse_headers(block):
    """Parses an HMSG header block (`NATS/1.0[ <status>[ <description>]]\\r\\nName: value\\r\\n...`)."""
    lines = block.decode("utf-8", "replace").split("\r\n")
    first = lines[0].split(" ", 2)
    if not first[0].startswith("NATS/"):
        raise ConsumerError(f"malformed header block from the server: {lines[0]!r}")
    status = int(first[1]) if len(first) > 1 and first[1].isdigit() else None
    description = first[2] if len(first) > 2 else ""
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip()] = value.strip()
    return headers, status, description


class Connection:
    """A NATS connection: connect and authenticate, subscribe, publish, read messages."""

    def __init__(self, url, user, password, timeout):
        parsed = urllib.parse.urlsplit(url if "://" in url else f"nats://{url}")
        if parsed.scheme not in ("nats", ""):
            raise ConsumerError(f"--url {url}: only nats:// is supported by this example (no TLS, no websocket)")
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 4222
        user = user or (urllib.parse.unquote(parsed.username) if parsed.username else None)
        password = password or (urllib.parse.unquote(parsed.password) if parsed.password else None)
        self.url = f"nats://{host}:{port}"
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as err:
            raise ConsumerError(f"cannot connect to {self.url}: {err} (is the pool running? its URL is the `nats` field of the \"pool started\" log line)")
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rb")
        self.next_sid = 1
        line = self.read_line()
        if not line.startswith("INFO "):
            raise ConsumerError(f"{self.url} is not a NATS server (it said {line[:80]!r})")
        info = json.loads(line[5:])
        if info.get("tls_required"):
            raise ConsumerError(f"{self.url} requires TLS, which this example does not speak")
        if not info.get("headers"):
            raise ConsumerError(f"{self.url} does not support message headers (nats-server 2.2 or newer needed)")
        connect = {
            "verbose": False,
            "pedantic": False,
            "tls_required": False,
            "lang": "python-stdlib",
            "version": "1.0.0",
            "name": "pool-consumer-example",
            "protocol": 1,
            "headers": True,
            "no_responders": True,
        }
        if user is not None:
            connect["user"] = user
            connect["pass"] = password or ""
        self.write(f"CONNECT {json.dumps(connect)}\r\nPING\r\n".encode())
        # the server answers PONG once it has accepted CONNECT, or -ERR 'Authorization Violation'
        while True:
            line = self.read_line()
            if line == "PONG":
                return
            if line.startswith("-ERR"):
                reason = line[4:].strip().strip("'")
                if "authorization" in reason.lower() or "authentication" in reason.lower():
                    raise ConsumerError(
                        f"{self.url} refused user {user!r} ({reason}): check --user/--password; the pool's own server's reader password "
                        "is users.reader in <dataDir>/nats/credentials.json"
                    )
                raise ConsumerError(f"{self.url} refused the connection: {reason}")
            if line == "PING":
                self.write(b"PONG\r\n")

    def write(self, data):
        try:
            self.sock.sendall(data)
        except OSError as err:
            raise ConsumerError(f"connection to {self.url} lost: {err}")

    def read_line(self):
        try:
            raw = self.file.readline(1024 * 1024)
        except socket.timeout:
            raise ConsumerError(f"{self.url} sent nothing for {self.sock.gettimeout()} s")
        except OSError as err:
            raise ConsumerError(f"connection to {self.url} lost: {err}")
        if not raw:
            raise ConsumerError(f"{self.url} closed the connection")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    def read_exact(self, n):
        data = self.file.read(n + 2)  # payload and its \r\n
        if data is None or len(data) < n + 2:
            raise ConsumerError(f"{self.url} closed the connection in the middle of a message")
        return data[:n]

    def subscribe(self, subject):
        sid = self.next_sid
        self.next_sid += 1
        self.write(f"SUB {subject} {sid}\r\n".encode())
        return sid

    def unsubscribe(self, sid):
        self.write(f"UNSUB {sid}\r\n".encode())

    def publish(self, subject, body=b"", reply=None):
        head = f"PUB {subject} {reply} {len(body)}\r\n" if reply else f"PUB {subject} {len(body)}\r\n"
        self.write(head.encode() + body + b"\r\n")

    def next_message(self):
        """The next MSG/HMSG; answers PINGs on the way. @raises ConsumerError on -ERR (e.g. a permissions violation)."""
        while True:
            line = self.read_line()
            if line.startswith("MSG ") or line.startswith("HMSG "):
                parts = line.split(" ")
                if parts[0] == "MSG":
                    # MSG <subject> <sid> [reply] <#bytes>
                    subject, sid, reply, size = parts[1], int(parts[2]), (parts[3] if len(parts) == 5 else None), int(parts[-1])
                    return Message(sid, subject, reply, {}, None, "", self.read_exact(size))
                # HMSG <subject> <sid> [reply] <#header bytes> <#total bytes>
                subject, sid, reply = parts[1], int(parts[2]), (parts[3] if len(parts) == 6 else None)
                header_size, total = int(parts[-2]), int(parts[-1])
                data = self.read_exact(total)
                headers, status, description = parse_headers(data[:header_size].rstrip(b"\r\n"))
                return Message(sid, subject, reply, headers, status, description, data[header_size:])
            if line == "PING":
                self.write(b"PONG\r\n")
            elif line.startswith("-ERR"):
                reason = line[4:].strip().strip("'")
                hint = " (the reader may create consumers on POOL and POOL_DLQ only)" if "permissions" in reason.lower() else ""
                raise ConsumerError(f"{self.url}: {reason}{hint}")
            elif line.startswith("INFO ") or line in ("PONG", "+OK"):
                continue
            else:
                raise ConsumerError(f"unexpected line from {self.url}: {line[:200]!r}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class JetStream:
    """JetStream API requests over one inbox subscription (`_INBOX.<random>.*`), pulled messages on another
    (`_INBOX.<random>`): the reader may subscribe to `_INBOX.>` only."""

    def __init__(self, conn):
        self.conn = conn
        self.inbox = f"_INBOX.{secrets.token_hex(11)}"
        self.sid = conn.subscribe(f"{self.inbox}.*")
        # deliveries keep their stream subject; they are told apart by this subscription's id
        self.deliveries = f"_INBOX.{secrets.token_hex(11)}"
        self.deliveries_sid = conn.subscribe(self.deliveries)
        self.counter = 0

    def request(self, subject, payload):
        """Publishes `payload` (a dict) to `subject` and returns the JSON answer. @raises ConsumerError."""
        self.counter += 1
        reply = f"{self.inbox}.r{self.counter}"
        self.conn.publish(subject, json.dumps(payload).encode(), reply)
        while True:
            m = self.conn.next_message()
            if m.sid != self.sid or m.subject != reply:
                continue  # a late message of an earlier pull
            if m.status == 503:
                raise ConsumerError(f"JetStream is not enabled on {self.conn.url} (no responders for {subject})")
            answer = json.loads(m.body or b"{}")
            error = answer.get("error")
            if error:
                code = error.get("err_code")
                if code == 10059:
                    raise ConsumerError(f"stream {STREAM} not found on {self.conn.url}: is this the pool's server, and has the pool started once?")
                if code == 10039:
                    raise ConsumerError(f"JetStream is not enabled for this account on {self.conn.url}")
                raise ConsumerError(f"{subject}: {error.get('description', error)} (code {error.get('code')}, err_code {code})")
            return answer


def ack_sequence(reply):
    """The stream sequence, and the messages still pending, from a $JS.ACK reply subject.

    `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ms>.<pending>` or, with a
    domain and account hash, `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<stream seq>.
    <consumer seq>.<ms>.<pending>[.<token>]`.
    """
    tokens = (reply or "").split(".")
    if len(tokens) == 9 and tokens[:2] == ["$JS", "ACK"]:
        return int(tokens[5]), int(tokens[8])
    if len(tokens) >= 11 and tokens[:2] == ["$JS", "ACK"]:
        return int(tokens[7]), int(tokens[10])
    raise ConsumerError(f"not a JetStream delivery (reply subject {reply!r})")


def consume(args, out):
    """Creates the consumer, prints events until the end (or --limit, or forever with --follow), deletes the consumer."""
    conn = Connection(args.url, args.user, args.password, timeout=PULL_EXPIRES_SECONDS + 10)
    js = JetStream(conn)
    name = None
    try:
        config = {
            "description": CONSUMER_DESCRIPTION,
            "ack_policy": args.ack,
            "deliver_policy": "by_start_sequence" if args.from_seq else "all",
            "inactive_threshold": INACTIVE_SECONDS * NANOS,
        }
        if args.from_seq:
            config["opt_start_seq"] = args.from_seq
        if args.filter:
            config["filter_subject"] = args.filter
        created = js.request(f"$JS.API.CONSUMER.CREATE.{STREAM}", {"stream_name": STREAM, "config": config})
        name = created["name"]
        if created.get("num_pending", 0) == 0 and not args.follow:
            return 0
        printed = 0
        while args.limit is None or printed < args.limit:
            batch = 256 if args.limit is None else min(256, args.limit - printed)
            conn.publish(f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.{name}", json.dumps({"batch": batch, "expires": PULL_EXPIRES_SECONDS * NANOS}).encode(), js.deliveries)
            received = 0
            while received < batch:
                m = conn.next_message()
                if m.sid != js.deliveries_sid:
                    continue
                if m.status is not None:
                    if m.status in (404, 408):  # no messages / the pull expired: pull again
                        break
                    if m.status == 409:
                        raise ConsumerError(f"consumer {name}: {m.description}")
                    if m.status == 100:
                        continue
                    raise ConsumerError(f"consumer {name}: status {m.status} {m.description}")
                received += 1
                seq, pending = ack_sequence(m.reply)
                if args.ack == "explicit":
                    conn.publish(m.reply)
                try:
                    body = json.loads(m.body)
                    line = {"seq": seq, "subject": m.subject, "type": body["type"], "version": body["version"], "id": body["id"], "data": body["data"]}
                except (ValueError, KeyError, TypeError) as err:
                    print(f"warning: seq {seq} on {m.subject} is not an event envelope ({err}); skipped", file=sys.stderr)
                    line = None
                if line is not None:
                    out.write(json.dumps(line, separators=(",", ":")) + "\n")
                    out.flush()
                    printed += 1
                if pending == 0 and not args.follow:
                    return 0
        return 0
    finally:
        if name:
            try:
                js.request(f"$JS.API.CONSUMER.DELETE.{STREAM}.{name}", {})
            except ConsumerError:
                pass  # the server drops it after INACTIVE_SECONDS anyway
        conn.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Print the pool's events (stream POOL) as JSON lines.")
    parser.add_argument("--url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"), help="NATS server URL (env NATS_URL); the pool's own is in its \"pool started\" log line")
    parser.add_argument("--user", default=os.environ.get("NATS_USER", "reader"), help="user (env NATS_USER, default reader)")
    parser.add_argument("--password", default=os.environ.get("NATS_PASSWORD"), help="password (env NATS_PASSWORD): users.reader in <dataDir>/nats/credentials.json")
    parser.add_argument("--filter", help="only subjects matching this filter, e.g. pool.chain.>")
    parser.add_argument("--from-seq", type=int, help="first stream sequence to print (default: the first in the stream)")
    parser.add_argument("--limit", type=int, help="stop after N events")
    parser.add_argument("--follow", action="store_true", help="keep waiting for new events at the end of the stream")
    parser.add_argument("--ack", choices=["none", "explicit"], default="none", help="consumer ack policy (default none)")
    args = parser.parse_args(argv)
    if args.from_seq is not None and args.from_seq < 1:
        parser.error("--from-seq must be 1 or more")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be 1 or more")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # runs the finally: the consumer is deleted
    try:
        return consume(args, sys.stdout)
    except ConsumerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
