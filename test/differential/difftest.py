#!/usr/bin/env python3
"""Differential tester: run the same command scripts against the reference
redis-server and against shrike-server, compare the raw RESP replies.

See README.md in this directory for the script format.
Standard library only.
"""

import argparse
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPLY_TIMEOUT = 5.0      # seconds to wait for one reply
CLOSE_TIMEOUT = 5.0      # seconds to wait for the server to close (@expect_close)
START_TIMEOUT = 10.0     # seconds to wait for a server to answer PING
TRUNC = 300              # bytes of a raw reply shown in a mismatch report

# ---------------------------------------------------------------------------
# RESP reading
# ---------------------------------------------------------------------------


class Closed(Exception):
    """The peer closed the connection (EOF or reset)."""


class ReplyTimeout(Exception):
    """No complete reply within the timeout."""


class ProtoError(Exception):
    """The bytes received are not valid RESP."""


class Node:
    """One parsed reply.  `raw` is the exact wire bytes of the reply.
    For aggregates `children` holds the elements (maps: k1, v1, k2, v2 ...),
    `header` holds the first line (e.g. b'*3\\r\\n').  For scalars `value`
    holds the payload (None for nulls)."""
    __slots__ = ('type', 'raw', 'header', 'value', 'children', 'attribute')

    def __init__(self, type_, raw, header, value=None, children=None):
        self.type = type_
        self.raw = raw
        self.header = header
        self.value = value
        self.children = children
        self.attribute = None

    def is_aggregate(self):
        return self.children is not None

    def __repr__(self):
        return 'Node(%r)' % (self.raw,)


class Conn:
    """A client connection with a RESP reader that keeps the raw bytes."""

    def __init__(self, port, timeout=REPLY_TIMEOUT):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.timeout = timeout

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            raise Closed()
        except socket.timeout:
            raise ReplyTimeout()

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReplyTimeout()
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise ReplyTimeout()
        except (ConnectionResetError, ConnectionAbortedError):
            raise Closed()
        if not chunk:
            raise Closed()
        self.buf += chunk

    def _line_end(self, pos, deadline):
        while True:
            idx = self.buf.find(b'\r\n', pos)
            if idx >= 0:
                return idx
            self._fill(deadline)

    def _need(self, end, deadline):
        while len(self.buf) < end:
            self._fill(deadline)

    def _parse(self, pos, deadline):
        """Parse one reply starting at buf[pos]; return (Node, end_pos)."""
        self._need(pos + 1, deadline)
        t = bytes(self.buf[pos:pos + 1])
        eol = self._line_end(pos, deadline)
        line = bytes(self.buf[pos + 1:eol])
        hend = eol + 2
        header = bytes(self.buf[pos:hend])
        if t in (b'+', b'-', b'_', b'#', b',', b'(', b':'):
            node = Node(t, header, header, value=line)
            if t == b'_':
                node.value = None
            return node, hend
        if t in (b'$', b'=', b'!'):
            try:
                n = int(line)
            except ValueError:
                raise ProtoError('bad bulk length %r' % line)
            if n < 0:
                return Node(t, header, header, value=None), hend
            end = hend + n + 2
            self._need(end, deadline)
            if self.buf[end - 2:end] != b'\r\n':
                raise ProtoError('bulk not terminated by CRLF')
            return Node(t, bytes(self.buf[pos:end]), header,
                        value=bytes(self.buf[hend:end - 2])), end
        if t in (b'*', b'~', b'>', b'%', b'|'):
            try:
                n = int(line)
            except ValueError:
                raise ProtoError('bad aggregate length %r' % line)
            if n < 0:
                return Node(t, header, header, value=None), hend
            if t in (b'%', b'|'):
                n *= 2
            children = []
            cur = hend
            for _ in range(n):
                child, cur = self._parse(cur, deadline)
                children.append(child)
            node = Node(t, bytes(self.buf[pos:cur]), header, children=children)
            if t == b'|':
                # An attribute precedes the real reply: read it too.
                real, cur = self._parse(cur, deadline)
                real.attribute = node
                real.raw = bytes(self.buf[pos:cur])
                return real, cur
            return node, cur
        raise ProtoError('unknown RESP type byte %r' % t)

    def read_reply(self, timeout=None):
        """Read one complete reply; return its Node (Node.raw = exact bytes)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        node, end = self._parse(0, deadline)
        del self.buf[:end]
        return node

    def wait_close(self, timeout=CLOSE_TIMEOUT):
        """Wait until the peer closes.  Returns (closed, extra_bytes)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._fill(deadline)
            except Closed:
                extra = bytes(self.buf)
                self.buf.clear()
                return True, extra
            except ReplyTimeout:
                extra = bytes(self.buf)
                self.buf.clear()
                return False, extra


def encode_command(args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        out.append(b'$%d\r\n' % len(a))
        out.append(a)
        out.append(b'\r\n')
    return b''.join(out)


# ---------------------------------------------------------------------------
# Script parsing
# ---------------------------------------------------------------------------


class ScriptError(Exception):
    pass


def tokenize(line):
    """Split a line like redis-cli does.  Returns a list of (bytes, quoted)."""
    tokens = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in ' \t':
            i += 1
        if i >= n:
            return tokens
        c = line[i]
        if c == '"':
            i += 1
            out = bytearray()
            while True:
                if i >= n:
                    raise ScriptError('unterminated double quote')
                c = line[i]
                if c == '\\' and i + 1 < n:
                    e = line[i + 1]
                    if e == 'x' and i + 3 < n and all(
                            h in '0123456789abcdefABCDEF' for h in line[i + 2:i + 4]):
                        out.append(int(line[i + 2:i + 4], 16))
                        i += 4
                        continue
                    out += {'n': b'\n', 'r': b'\r', 't': b'\t', 'b': b'\b',
                            'a': b'\a', '0': b'\0'}.get(e, e.encode())
                    i += 2
                    continue
                if c == '"':
                    i += 1
                    if i < n and line[i] not in ' \t':
                        raise ScriptError('closing quote must be followed by a space')
                    break
                out += c.encode()
                i += 1
            tokens.append((bytes(out), True))
        elif c == "'":
            i += 1
            out = bytearray()
            while True:
                if i >= n:
                    raise ScriptError('unterminated single quote')
                c = line[i]
                if c == '\\' and i + 1 < n and line[i + 1] == "'":
                    out += b"'"
                    i += 2
                    continue
                if c == "'":
                    i += 1
                    if i < n and line[i] not in ' \t':
                        raise ScriptError('closing quote must be followed by a space')
                    break
                out += c.encode()
                i += 1
            tokens.append((bytes(out), True))
        else:
            j = i
            while j < n and line[j] not in ' \t':
                j += 1
            tokens.append((line[i:j].encode(), False))
            i = j


class Step:
    __slots__ = ('file', 'lineno', 'text', 'kind', 'args', 'payload', 'conn',
                 'unordered', 'approx', 'typeonly', 'ignore', 'expect_close',
                 'read', 'sleep')

    def __init__(self, file, lineno, text):
        self.file = file
        self.lineno = lineno
        self.text = text
        self.kind = 'cmd'          # 'cmd' | 'raw' | 'recv' | 'sleep' | 'restart'
        self.args = None
        self.payload = None
        self.conn = 'main'
        self.unordered = False
        self.approx = None
        self.typeonly = False
        self.ignore = False
        self.expect_close = False
        self.read = True
        self.sleep = 0.0


def parse_line(file, lineno, text):
    toks = tokenize(text)
    st = Step(file, lineno, text)
    i = 0

    def arg():
        nonlocal i
        if i >= len(toks):
            raise ScriptError('directive %s needs an argument' % d)
        v = toks[i][0].decode('latin-1')
        i += 1
        return v

    while i < len(toks):
        tok, quoted = toks[i]
        if quoted or not tok.startswith(b'@'):
            break
        d = tok.decode('latin-1')
        i += 1
        if d == '@unordered':
            st.unordered = True
        elif d == '@type':
            st.typeonly = True
        elif d == '@ignore':
            st.ignore = True
        elif d == '@expect_close':
            st.expect_close = True
        elif d == '@send':
            st.read = False
        elif d == '@approx':
            try:
                st.approx = float(arg())
            except ValueError:
                raise ScriptError('@approx needs a number')
        elif d == '@conn':
            st.conn = arg()
        elif d == '@sleep':
            if i != 1:
                raise ScriptError('@sleep must be a whole line')
            try:
                st.sleep = float(arg())
            except ValueError:
                raise ScriptError('@sleep needs a number')
            if i != len(toks):
                raise ScriptError('@sleep takes exactly one argument')
            st.kind = 'sleep'
            return st
        elif d == '@restart':
            if i != 1:
                raise ScriptError('@restart must be a whole line')
            st.kind = 'restart'
            st.args = [t.decode('latin-1') for t, _q in toks[i:]]
            return st
        elif d == '@recv':
            st.kind = 'recv'
        elif d in ('@raw', '@raw_noreply'):
            if i != len(toks) - 1:
                raise ScriptError('%s needs exactly one (quoted) argument, last on the line' % d)
            st.kind = 'raw'
            st.payload = toks[i][0]
            i += 1
            if d == '@raw_noreply':
                st.read = False
        else:
            raise ScriptError('unknown directive %s' % d)
    rest = [t for t, _ in toks[i:]]
    if st.kind == 'recv':
        if rest:
            raise ScriptError('@recv takes no command')
        if not st.read:
            raise ScriptError('@recv with @send makes no sense')
    elif st.kind == 'cmd':
        if not rest:
            raise ScriptError('no command on line')
        st.args = rest
    elif rest:
        raise ScriptError('text after @raw payload')
    return st


def load_script(path):
    steps = []
    with open(path, 'r', encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            text = line.rstrip('\r\n')
            s = text.strip()
            if not s or s.startswith('#'):
                continue
            try:
                steps.append(parse_line(path, lineno, s))
            except ScriptError as e:
                raise ScriptError('%s:%d: %s' % (path, lineno, e))
    return steps


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, label, binary, extra_args):
        self.label = label
        self.binary = binary
        self.extra_args = extra_args
        self.proc = None
        self.dir = None
        self.port = None
        self.logf = None
        self.conns = {}

    def start(self):
        last_err = None
        for _attempt in range(3):
            self.dir = tempfile.mkdtemp(prefix='difftest-%s-' % self.label)
            self.port = free_port()
            argv = [self.binary, '--port', str(self.port), '--bind', '127.0.0.1',
                    '--save', '', '--appendonly', 'no'] + self.extra_args
            self.logf = open(os.path.join(self.dir, 'server.log'), 'wb')
            try:
                self.proc = subprocess.Popen(argv, cwd=self.dir, stdin=subprocess.DEVNULL,
                                             stdout=self.logf, stderr=subprocess.STDOUT,
                                             start_new_session=True)
            except OSError as e:
                self.stop()
                raise RuntimeError('cannot start %s server %s: %s' % (self.label, self.binary, e))
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    last_err = 'exited with code %s' % self.proc.returncode
                    break
                try:
                    c = Conn(self.port, timeout=1.0)
                    try:
                        c.send(encode_command([b'PING']))
                        r = c.read_reply()
                    finally:
                        c.close()
                    if r.raw == b'+PONG\r\n':
                        return
                    last_err = 'PING answered %r' % r.raw
                except (OSError, Closed, ReplyTimeout, ProtoError) as e:
                    last_err = repr(e)
                time.sleep(0.05)
            else:
                last_err = 'no PONG within %ss (%s)' % (START_TIMEOUT, last_err)
            log = self.log_tail()
            self.stop()
            sys.stderr.write('[%s] start failed: %s\n%s\n' % (self.label, last_err, log))
        raise RuntimeError('cannot start %s server %s: %s' % (self.label, self.binary, last_err))

    def restart(self, script_args):
        """Stop, then start again with the base arguments plus
        `script_args` (a script's @restart line; until the next @restart)."""
        base = getattr(self, 'base_args', None)
        if base is None:
            base = self.base_args = list(self.extra_args)
        self.stop()
        self.extra_args = base + list(script_args)
        self.start()

    def restarted(self):
        base = getattr(self, 'base_args', None)
        return base is not None and self.extra_args != base

    def log_tail(self, n=2000):
        try:
            with open(os.path.join(self.dir, 'server.log'), 'rb') as f:
                return f.read()[-n:].decode('utf-8', 'replace')
        except (OSError, TypeError):
            return ''

    def _signal_group(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        self.close_all()
        if self.proc is not None:
            # The server runs in its own session/process group (created by
            # us), so signal the whole group: this also ends any children.
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
            self._signal_group(signal.SIGKILL)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self.logf is not None:
            self.logf.close()
            self.logf = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def conn(self, name):
        c = self.conns.get(name)
        if c is None:
            c = Conn(self.port)
            self.conns[name] = c
        return c

    def drop(self, name):
        c = self.conns.pop(name, None)
        if c is not None:
            c.close()

    def close_all(self):
        for name in list(self.conns):
            self.drop(name)


# ---------------------------------------------------------------------------
# Execution and comparison
# ---------------------------------------------------------------------------


class Outcome:
    """What happened on one server for one step."""
    __slots__ = ('node', 'error', 'closed', 'extra')

    def __init__(self):
        self.node = None      # Node if a reply was read
        self.error = None     # 'timeout' | 'closed' | 'connect: ...' | 'protocol: ...'
        self.closed = None    # for @expect_close: did the server close?
        self.extra = b''      # for @expect_close: bytes received before the close

    def describe(self):
        parts = []
        if self.node is not None:
            parts.append(short(self.node.raw))
        if self.error:
            parts.append('<%s>' % self.error)
        if self.closed is not None:
            parts.append('<closed>' if self.closed else '<NOT closed>')
            if self.extra:
                parts.append('extra=' + short(self.extra))
        return ' '.join(parts) if parts else '<nothing>'


def short(b):
    if len(b) > TRUNC:
        return repr(b[:TRUNC]) + '...(%d bytes)' % len(b)
    return repr(b)


def client_ids(server, args):
    """The arguments with each "@id:NAME" replaced by connection NAME's client
    id on this server, as its last CLIENT ID reply gave it (ids differ between
    the servers once earlier scripts have opened connections)."""
    out = []
    for a in args:
        if a.startswith(b'@id:'):
            name = a[4:].decode('latin-1')
            cid = getattr(server.conns.get(name), 'client_id', None)
            if cid is None:
                raise ScriptError('@id:%s before a CLIENT ID on connection %s' % (name, name))
            a = cid
        out.append(a)
    return out


def run_step(server, st):
    out = Outcome()
    try:
        c = server.conn(st.conn)
    except OSError as e:
        out.error = 'connect: %s' % e
        return out
    try:
        if st.kind == 'cmd':
            c.send(encode_command(client_ids(server, st.args)))
        elif st.kind == 'raw':
            c.send(st.payload)
        if st.read:
            out.node = c.read_reply()
            if (st.kind == 'cmd' and [a.upper() for a in st.args] == [b'CLIENT', b'ID']
                    and out.node.raw.startswith(b':')):
                c.client_id = out.node.raw[1:-2]
        if st.expect_close:
            out.closed, out.extra = c.wait_close()
            server.drop(st.conn)
    except ReplyTimeout:
        out.error = 'timeout'
        server.drop(st.conn)
    except Closed:
        out.error = 'closed'
        if st.expect_close:
            out.closed = True
        server.drop(st.conn)
    except ProtoError as e:
        out.error = 'protocol: %s' % e
        server.drop(st.conn)
    return out


def canon_unordered(node):
    """Canonical bytes for @unordered.

    Rule: if the array contains no nested aggregates, its elements are sorted
    (by raw bytes).  If it contains nested aggregates (e.g. SCAN's
    [cursor, [keys...]]), the top-level order is kept and the elements of each
    nested aggregate are sorted instead.  Maps (RESP3 %) are sorted by pair."""
    if not node.is_aggregate():
        return node.raw

    def sort_elems(n):
        if n.type == b'%':
            pairs = [n.children[i].raw + n.children[i + 1].raw
                     for i in range(0, len(n.children), 2)]
            return n.header + b''.join(sorted(pairs))
        return n.header + b''.join(sorted(ch.raw for ch in n.children))

    if any(ch.is_aggregate() for ch in node.children):
        parts = [sort_elems(ch) if ch.is_aggregate() else ch.raw for ch in node.children]
        return node.header + b''.join(parts)
    return sort_elems(node)


def as_number(node):
    if node.is_aggregate() or node.value is None:
        return None
    try:
        v = float(node.value)
    except ValueError:
        return None
    return v


def approx_equal(a, b, tol):
    if a.type != b.type:
        return False
    if a.is_aggregate() or b.is_aggregate():
        if not (a.is_aggregate() and b.is_aggregate()):
            return False
        if len(a.children) != len(b.children):
            return False
        return all(approx_equal(x, y, tol) for x, y in zip(a.children, b.children))
    x, y = as_number(a), as_number(b)
    if x is None or y is None:
        return a.raw == b.raw
    if x != x or y != y:        # nan
        return (x != x) and (y != y)
    return abs(x - y) <= tol


def compare(st, a, b):
    """Return None if equal, else a reason string."""
    if a.error == 'timeout' or b.error == 'timeout':
        return 'timeout'
    if a.error != b.error:
        return 'different errors'
    if a.error == 'closed' and not st.expect_close:
        return 'connection closed unexpectedly (on both servers)'
    if a.error and a.error.startswith(('connect', 'protocol')):
        return a.error
    if st.expect_close:
        if not (a.closed and b.closed):
            return 'connection not closed'
        if a.extra != b.extra:
            return 'different bytes before close'
    if st.ignore or not st.read or a.node is None or b.node is None:
        if (a.node is None) != (b.node is None):
            return 'reply on one side only'
        return None
    x, y = a.node, b.node
    if st.typeonly:
        if x.type != y.type:
            return 'different types'
        if x.is_aggregate() != y.is_aggregate():
            return 'different shapes'
        if x.is_aggregate() and len(x.children) != len(y.children):
            return 'different element counts'
        return None
    if st.unordered:
        ca, cb = canon_unordered(x), canon_unordered(y)
        if st.approx is None:
            return None if ca == cb else 'different (unordered)'
    if st.approx is not None:
        return None if approx_equal(x, y, st.approx) else 'different (approx %g)' % st.approx
    return None if x.raw == y.raw else 'different'


def counts_as_compared(st):
    return (st.read and not st.ignore) or st.expect_close


def setup_script(servers):
    """Fresh connections, FLUSHALL, SELECT 0 on both servers."""
    problems = []
    for s in servers:
        s.close_all()
        try:
            c = s.conn('main')
            for cmd in ([b'FLUSHALL'], [b'SELECT', b'0']):
                c.send(encode_command(cmd))
                r = c.read_reply()
                if r.raw != b'+OK\r\n':
                    problems.append('[%s] %s -> %r' % (s.label, cmd[0].decode(), r.raw))
        except (OSError, Closed, ReplyTimeout, ProtoError) as e:
            problems.append('[%s] setup failed: %r' % (s.label, e))
            s.drop('main')
    return problems


def main():
    ap = argparse.ArgumentParser(description='Differential RESP tester (reference redis-server vs ours).')
    ap.add_argument('--ours', help='path to the server under test')
    ap.add_argument('--ref', default='redis-server',
                    help='reference redis-server 7.0 binary (default: redis-server from PATH)')
    ap.add_argument('--ours-args', default='', help='extra arguments for our server (shell-split)')
    ap.add_argument('--ref-args', default='', help='extra arguments for the reference server')
    ap.add_argument('--ref-only', action='store_true',
                    help='run against two reference servers (validates the scripts)')
    ap.add_argument('-v', '--verbose', action='store_true', help='print every command and reply')
    ap.add_argument('scripts', nargs='+', metavar='SCRIPT')
    opts = ap.parse_args()

    for attr in ('ref', 'ours'):
        v = getattr(opts, attr)
        if v and os.sep not in v:
            setattr(opts, attr, shutil.which(v) or v)
        elif v:
            # Servers run in temp dirs: a relative path must not depend on the cwd.
            setattr(opts, attr, os.path.abspath(v))
    if opts.ref_only:
        opts.ours = opts.ref
        opts.ours_args = opts.ref_args
    if not opts.ours:
        ap.error('--ours is required (or use --ref-only)')

    try:
        scripts = [(p, load_script(p)) for p in opts.scripts]
    except (ScriptError, OSError) as e:
        sys.stderr.write('script error: %s\n' % e)
        return 2

    def on_term(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)

    ref = Server('ref', opts.ref, shlex.split(opts.ref_args))
    ours = Server('ours', opts.ours, shlex.split(opts.ours_args))
    passed = failed = 0
    t0 = time.monotonic()
    try:
        ref.start()
        ours.start()
        for path, steps in scripts:
            for srv in (ref, ours):  # a previous script's @restart ends with it
                if srv.restarted():
                    srv.restart([])
            problems = setup_script((ref, ours))
            if problems:
                for p in problems:
                    print('%s: setup: %s' % (path, p))
                failed += 1
            for st in steps:
                if st.kind == 'sleep':
                    time.sleep(st.sleep)
                    continue
                if st.kind == 'restart':
                    for srv in (ref, ours):
                        srv.restart(st.args)
                    continue
                a = run_step(ref, st)
                b = run_step(ours, st)
                reason = compare(st, a, b)
                if opts.verbose:
                    print('%s:%d: %s' % (path, st.lineno, st.text))
                    print('    ref : %s' % a.describe())
                    print('    ours: %s' % b.describe())
                if reason is None:
                    if counts_as_compared(st):
                        passed += 1
                    continue
                failed += 1
                if a.error or b.error:
                    # keep both sides in the same connection state
                    ref.drop(st.conn)
                    ours.drop(st.conn)
                print('MISMATCH %s:%d (%s): %s' % (path, st.lineno, reason, st.text))
                print('    ref : %s' % a.describe())
                print('    ours: %s' % b.describe())
                if not ours.alive():
                    print('our server died (exit code %s); log tail:\n%s'
                          % (ours.proc.returncode, ours.log_tail()))
                    raise RuntimeError('server under test died')
                if not ref.alive():
                    raise RuntimeError('reference server died')
    except KeyboardInterrupt:
        print('interrupted')
        failed += 1
    except RuntimeError as e:
        print('aborted: %s' % e)
        failed += 1
    finally:
        ref.stop()
        ours.stop()
    if opts.verbose:
        sys.stderr.write('elapsed %.2fs\n' % (time.monotonic() - t0))
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
