#!/usr/bin/env python3
"""Randomized differential test: random command sequences, family by family,
sent to the reference redis-server 7.0 and to the server under test.

Every reply is compared byte for byte (replies whose order Redis leaves
unspecified are compared as multisets; replies that are random by design
only by shape), and the whole keyspace is compared after each family
(every key's type, encoding and value). The generators mix valid and invalid
arguments, wrong types, empty and binary values, and run the families twice:
in RESP2 with the default encodings' limits, and in RESP3 with tiny limits,
so that values convert between their compact and their big encodings all the
time.

    python3 fuzz.py --ours build/app/shrike-server [--seed N] [--commands N] [FAMILY...]

A run is reproducible from its seed (printed first). Exit code 0 iff no
mismatch. Standard library only; the servers and the RESP reader are
difftest.py's.
"""

import argparse
import os
import random
import shutil
import signal
import sys
import time

import difftest as dt

# Small encodings' limits for the second pass (restored afterwards).
TINY_LIMITS = [
    ('list-max-listpack-size', '4', '-2'),
    ('hash-max-listpack-entries', '4', '128'),
    ('hash-max-listpack-value', '8', '64'),
    ('set-max-intset-entries', '4', '512'),
    ('zset-max-listpack-entries', '4', '128'),
    ('zset-max-listpack-value', '8', '64'),
    ('stream-node-max-entries', '4', '100'),
    ('hll-sparse-max-bytes', '60', '3000'),
]

EXACT, UNORDERED, SHAPE = 'exact', 'unordered', 'shape'


class Gen:
    """Random arguments from small pools, so that commands meet each
    other's keys and members."""

    INTS = ['0', '1', '-1', '2', '3', '7', '10', '-5', '100', '255', '1000', '65536',
            '9223372036854775807', '-9223372036854775808']
    BAD_INTS = ['abc', '1.5', '', ' 1', '+1', '01', '9223372036854775808', '1e3', '0x10']
    FLOATS = ['0', '1.5', '-0.25', '3', '1e3', '0.1', '-7', '2.5e-3', '1e10', '123456789.125']
    BAD_FLOATS = ['abc', 'nan', '', ' 1', '1e400', '1.5x']
    VALUES = ['a', 'b', 'c', 'hello', '', 'x' * 20, 'y' * 70, '12', '-3', '3.5', '100000',
              'bin\r\n\x00\xff', 'foo bar', 'ab', 'abc', 'b\x00']

    def __init__(self, rng, prefix, nkeys=5):
        self.r = rng
        self.keys = ['%s:%d' % (prefix, i) for i in range(nkeys)]
        self.stream_ms = 1   # stream ids are explicit: '*' ids differ between servers

    def chance(self, p):
        return self.r.random() < p

    def pick(self, seq):
        return self.r.choice(seq)

    def key(self):
        # Now and then a key of another type, or one that never exists.
        x = self.r.random()
        if x < 0.04:
            return 'wrongtype'
        if x < 0.07:
            return 'nokey'
        return self.pick(self.keys)

    def keys_n(self, lo=1, hi=4):
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def int_(self, lo=-10, hi=10):
        x = self.r.random()
        if x < 0.05:
            return self.pick(self.BAD_INTS)
        if x < 0.12:
            return self.pick(self.INTS)
        return str(self.r.randint(lo, hi))

    def float_(self):
        x = self.r.random()
        if x < 0.05:
            return self.pick(self.BAD_FLOATS)
        if x < 0.5:
            return self.pick(self.FLOATS)
        return str(self.r.randint(-20, 20))

    def value(self):
        x = self.r.random()
        if x < 0.3:
            return str(self.r.randint(-20, 300))
        return self.pick(self.VALUES)

    def member(self, n=12):
        x = self.r.random()
        if x < 0.3:
            return str(self.r.randint(0, n))    # integers: intsets, listpack ints
        if x < 0.35:
            return self.pick(self.VALUES)
        return 'm%d' % self.r.randint(0, n)


# ---------------------------------------------------------------------------
# Generators: each returns (argv, comparison mode).
# ---------------------------------------------------------------------------

def gen_strings(g):
    k = g.key()
    c = g.r.randint(0, 21)
    if c == 0:
        argv = ['SET', k, g.value()]
        if g.chance(0.3):
            argv += g.pick([['EX', g.pick(['1000', '0', '-1', 'x'])], ['PX', '100000'], ['KEEPTTL'],
                            ['EXAT', '99999999999'], ['EX', '10', 'KEEPTTL']])
        if g.chance(0.3):
            argv.append(g.pick(['NX', 'XX']))
        if g.chance(0.2):
            argv.append('GET')
        return argv, EXACT
    if c == 1:
        return ['GET', k], EXACT
    if c == 2:
        return ['GETSET', k, g.value()], EXACT
    if c == 3:
        return ['GETDEL', k], EXACT
    if c == 4:
        return ['APPEND', k, g.value()], EXACT
    if c == 5:
        return ['STRLEN', k], EXACT
    if c == 6:
        return [g.pick(['INCR', 'DECR']), k], EXACT
    if c == 7:
        return [g.pick(['INCRBY', 'DECRBY']), k, g.int_(-1000, 1000)], EXACT
    if c == 8:
        return ['INCRBYFLOAT', k, g.float_()], EXACT
    if c == 9:
        return ['GETRANGE', k, g.int_(), g.int_()], EXACT
    if c == 10:
        return ['SETRANGE', k, g.int_(0, 30), g.value()], EXACT
    if c == 11:
        argv = ['MSET']
        for _ in range(g.r.randint(1, 3)):
            argv += [g.key(), g.value()]
        return argv, EXACT
    if c == 12:
        argv = ['MSETNX']
        for _ in range(g.r.randint(1, 3)):
            argv += [g.key(), g.value()]
        return argv, EXACT
    if c == 13:
        return ['MGET'] + g.keys_n(), EXACT
    if c == 14:
        return ['SETNX', k, g.value()], EXACT
    if c == 15:
        argv = ['LCS', k, g.key()]
        if g.chance(0.5):
            argv.append(g.pick(['LEN', 'IDX']))
        if g.chance(0.3):
            argv += ['MINMATCHLEN', g.int_(0, 3)]
        if g.chance(0.3):
            argv.append('WITHMATCHLEN')
        return argv, EXACT
    if c == 16:
        return ['GETEX', k] + g.pick([[], ['PERSIST'], ['EX', '1000'], ['PX', 'x'], ['EX', '0']]), EXACT
    if c == 17:
        return ['SETEX', k, g.pick(['100', '0', 'x']), g.value()], EXACT
    if c == 18:
        return ['SUBSTR', k, g.int_(), g.int_()], EXACT
    if c == 19:
        return ['PERSIST', k], EXACT
    if c == 20:
        return ['TYPE', k], EXACT
    return ['DEL'] + g.keys_n(1, 2), EXACT


def gen_bits(g):
    k = g.key()
    c = g.r.randint(0, 9)
    if c == 0:
        return ['SETBIT', k, g.pick([str(g.r.randint(0, 100)), '-1', '4294967296', 'x']),
                g.pick(['0', '1', '1', '2'])], EXACT
    if c == 1:
        return ['GETBIT', k, g.int_(0, 120)], EXACT
    if c == 2:
        argv = ['BITCOUNT', k]
        if g.chance(0.6):
            argv += [g.int_(), g.int_()]
            if g.chance(0.4):
                argv.append(g.pick(['BYTE', 'BIT', 'bit', 'WORD']))
        return argv, EXACT
    if c == 3:
        argv = ['BITPOS', k, g.pick(['0', '1', '2'])]
        for _ in range(g.r.randint(0, 2)):
            argv.append(g.int_())
        if len(argv) == 5 and g.chance(0.4):
            argv.append(g.pick(['BYTE', 'BIT']))
        return argv, EXACT
    if c == 4:
        op = g.pick(['AND', 'OR', 'XOR', 'NOT', 'nope'])
        return ['BITOP', op, g.key()] + g.keys_n(1, 1 if op == 'NOT' else 3), EXACT
    if c in (5, 6):
        argv = [g.pick(['BITFIELD', 'BITFIELD', 'BITFIELD_RO']), k]
        for _ in range(g.r.randint(1, 3)):
            t = g.pick(['u8', 'i8', 'u1', 'i5', 'u63', 'i64', 'u64', 'i16', 'x8'])
            off = g.pick([str(g.r.randint(0, 40)), '#%d' % g.r.randint(0, 4), '-1'])
            sub = g.r.randint(0, 3)
            if sub == 0:
                argv += ['GET', t, off]
            elif sub == 1:
                argv += ['SET', t, off, g.int_(-300, 300)]
            elif sub == 2:
                argv += ['INCRBY', t, off, g.int_(-300, 300)]
            else:
                argv += ['OVERFLOW', g.pick(['WRAP', 'SAT', 'FAIL', 'BAD'])]
        return argv, EXACT
    if c == 7:
        return ['SET', k, g.pick(['\xff\x00\x0f', 'foobar', '', '\x80' * 5])], EXACT
    if c == 8:
        return ['GET', k], EXACT
    return ['STRLEN', k], EXACT


def make_any_type(g, k):
    t = g.r.randint(0, 4)
    if t == 0:
        return ['SET', k, g.value()]
    if t == 1:
        return ['RPUSH', k, g.value(), g.value()]
    if t == 2:
        return ['SADD', k, g.member(), g.member()]
    if t == 3:
        return ['HSET', k, g.member(), g.value()]
    return ['ZADD', k, g.float_(), g.member()]


def gen_keys(g):
    k = g.key()
    c = g.r.randint(0, 17)
    if c <= 3:
        return make_any_type(g, k), EXACT
    if c == 4:
        return [g.pick(['DEL', 'UNLINK'])] + g.keys_n(1, 3), EXACT
    if c == 5:
        return ['EXISTS'] + g.keys_n(1, 3), EXACT
    if c == 6:
        return ['TYPE', k], EXACT
    if c == 7:
        return [g.pick(['RENAME', 'RENAMENX']), k, g.key()], EXACT
    if c == 8:
        return ['COPY', k, g.key()] + g.pick([[], ['REPLACE'], ['DB', '0'], ['DB', '1'], ['bad']]), EXACT
    if c == 9:
        argv = [g.pick(['EXPIRE', 'PEXPIRE']), k,
                g.pick(['100000', '200000', '0', '-5', 'x', '9223372036854775807'])]
        if g.chance(0.4):
            argv.append(g.pick(['NX', 'XX', 'GT', 'LT', 'ZZ']))
        return argv, EXACT
    if c == 10:
        return ['PERSIST', k], EXACT
    if c == 11:
        return [g.pick(['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME']), k], ('approx', 3000)
    if c == 12:
        return ['OBJECT', 'ENCODING', k], EXACT
    if c == 13:
        return ['DBSIZE'], EXACT
    if c == 14:
        return ['KEYS', g.pick(['*', 'keys:*', 'keys:[0-2]', '*1', 'w*', '?okey'])], UNORDERED
    if c == 15:
        return ['TOUCH'] + g.keys_n(), EXACT
    if c == 16:
        return ['MOVE', k, g.pick(['1', '0', '99', 'x'])], EXACT
    return ['EXPIREAT', k, g.pick(['99999999999', '1', 'x'])], EXACT


def gen_lists(g):
    k = g.key()
    c = g.r.randint(0, 21)
    if c <= 2:
        return [g.pick(['LPUSH', 'RPUSH'])] + [k] + [g.value() for _ in range(g.r.randint(1, 4))], EXACT
    if c == 3:
        return [g.pick(['LPUSHX', 'RPUSHX']), k, g.value()], EXACT
    if c == 4:
        argv = [g.pick(['LPOP', 'RPOP']), k]
        if g.chance(0.5):
            argv.append(g.int_(-1, 5))
        return argv, EXACT
    if c == 5:
        return ['LLEN', k], EXACT
    if c in (6, 7):
        return ['LRANGE', k, g.int_(), g.int_()], EXACT
    if c == 8:
        return ['LINDEX', k, g.int_()], EXACT
    if c == 9:
        return ['LSET', k, g.int_(), g.value()], EXACT
    if c == 10:
        return ['LINSERT', k, g.pick(['BEFORE', 'AFTER', 'middle']), g.value(), g.value()], EXACT
    if c == 11:
        return ['LREM', k, g.int_(-3, 3), g.value()], EXACT
    if c == 12:
        return ['LTRIM', k, g.int_(), g.int_()], EXACT
    if c == 13:
        argv = ['LPOS', k, g.value()]
        if g.chance(0.4):
            argv += ['RANK', g.int_(-3, 3)]
        if g.chance(0.4):
            argv += ['COUNT', g.int_(-1, 3)]
        if g.chance(0.3):
            argv += ['MAXLEN', g.int_(-1, 5)]
        return argv, EXACT
    if c == 14:
        return ['LMOVE', k, g.key(), g.pick(['LEFT', 'RIGHT']), g.pick(['LEFT', 'RIGHT', 'UP'])], EXACT
    if c == 15:
        return ['RPOPLPUSH', k, g.key()], EXACT
    if c == 16:
        ks = g.keys_n(1, 3)
        argv = ['LMPOP', str(len(ks))] + ks + [g.pick(['LEFT', 'RIGHT'])]
        if g.chance(0.5):
            argv += ['COUNT', g.int_(0, 4)]
        return argv, EXACT
    if c == 17:
        return [g.pick(['BLPOP', 'BRPOP'])] + g.keys_n(1, 2) + ['0.01'], EXACT
    if c == 18:
        return ['BLMOVE', k, g.key(), 'RIGHT', 'LEFT', '0.01'], EXACT
    if c == 19:
        return ['OBJECT', 'ENCODING', k], EXACT
    if c == 20:
        return ['LRANGE', k, '0', '-1'], EXACT
    return ['DEL', k], EXACT


def gen_hashes(g):
    k = g.key()
    c = g.r.randint(0, 17)
    if c <= 2:
        argv = [g.pick(['HSET', 'HSET', 'HMSET']), k]
        for _ in range(g.r.randint(1, 3)):
            argv += [g.member(), g.value()]
        return argv, EXACT
    if c == 3:
        return ['HSETNX', k, g.member(), g.value()], EXACT
    if c == 4:
        return ['HGET', k, g.member()], EXACT
    if c == 5:
        return ['HMGET', k] + [g.member() for _ in range(g.r.randint(1, 4))], EXACT
    if c == 6:
        return ['HDEL', k] + [g.member() for _ in range(g.r.randint(1, 3))], EXACT
    if c == 7:
        return ['HLEN', k], EXACT
    if c == 8:
        return ['HEXISTS', k, g.member()], EXACT
    if c in (9, 10):
        return [g.pick(['HGETALL', 'HKEYS', 'HVALS']), k], UNORDERED
    if c == 11:
        return ['HINCRBY', k, g.member(), g.int_(-100, 100)], EXACT
    if c == 12:
        return ['HINCRBYFLOAT', k, g.member(), g.float_()], EXACT
    if c == 13:
        return ['HSTRLEN', k, g.member()], EXACT
    if c == 14:
        argv = ['HRANDFIELD', k]
        if g.chance(0.7):
            argv.append(g.int_(-5, 5))
            if g.chance(0.5):
                argv.append('WITHVALUES')
        return argv, SHAPE
    if c == 15:
        return ['OBJECT', 'ENCODING', k], EXACT
    if c == 16:
        return ['HSET', k, 'long%d' % g.r.randint(0, 3), 'v' * g.r.randint(1, 100)], EXACT
    return ['DEL', k], EXACT


def gen_sets(g):
    k = g.key()
    c = g.r.randint(0, 16)
    if c <= 2:
        return ['SADD', k] + [g.member() for _ in range(g.r.randint(1, 4))], EXACT
    if c == 3:
        return ['SREM', k] + [g.member() for _ in range(g.r.randint(1, 3))], EXACT
    if c == 4:
        return ['SMEMBERS', k], UNORDERED
    if c == 5:
        return ['SISMEMBER', k, g.member()], EXACT
    if c == 6:
        return ['SMISMEMBER', k] + [g.member() for _ in range(g.r.randint(1, 3))], EXACT
    if c == 7:
        return ['SCARD', k], EXACT
    if c == 8:
        return ['SMOVE', k, g.key(), g.member()], EXACT
    if c in (9, 10):
        return [g.pick(['SINTER', 'SUNION', 'SDIFF'])] + g.keys_n(), UNORDERED
    if c == 11:
        return [g.pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), g.key()] + g.keys_n(), EXACT
    if c == 12:
        ks = g.keys_n(1, 3)
        argv = ['SINTERCARD', g.pick([str(len(ks)), str(len(ks)), '0', 'x'])] + ks
        if g.chance(0.4):
            argv += ['LIMIT', g.int_(-1, 3)]
        return argv, EXACT
    if c == 13:
        argv = ['SRANDMEMBER', k]
        if g.chance(0.7):
            argv.append(g.int_(-5, 5))
        return argv, SHAPE
    if c == 14:
        return ['OBJECT', 'ENCODING', k], EXACT
    if c == 15:
        # SPOP of everything (or of nothing) is deterministic.
        return ['SPOP', k, g.pick(['100', '0'])], UNORDERED
    return ['DEL', k], EXACT


def score_bound(g):
    x = g.r.random()
    if x < 0.15:
        return g.pick(['-inf', '+inf', 'inf'])
    if x < 0.2:
        return g.pick(['x', '(', '((1', 'nan'])
    s = g.float_() if g.chance(0.5) else str(g.r.randint(-10, 10))
    return ('(' + s) if g.chance(0.3) else s


def lex_bound(g):
    x = g.r.random()
    if x < 0.2:
        return g.pick(['-', '+'])
    if x < 0.25:
        return g.pick(['x', '', '*a'])
    return g.pick(['[', '(']) + g.member()


def gen_zsets(g):
    k = g.key()
    # Lex ranges are defined only over equal scores: Redis's own replies
    # depend on skiplist levels otherwise, so they get keys of their own.
    lk = g.pick(['zlex:0', 'zlex:1'])
    c = g.r.randint(0, 29)
    if c == 28:
        return ['ZADD', lk, '0', g.member()], EXACT
    if c == 29:
        return ['ZREM', lk, g.member()], EXACT
    if c <= 3:
        argv = ['ZADD', k]
        for opt in ('NX', 'XX', 'GT', 'LT', 'CH', 'INCR'):
            if g.chance(0.08):
                argv.append(opt)
        for _ in range(g.r.randint(1, 3)):
            argv += [g.float_() if g.chance(0.5) else str(g.r.randint(-5, 5)), g.member()]
        return argv, EXACT
    if c == 4:
        return ['ZREM', k] + [g.member() for _ in range(g.r.randint(1, 3))], EXACT
    if c == 5:
        return ['ZSCORE', k, g.member()], EXACT
    if c == 6:
        return ['ZMSCORE', k] + [g.member() for _ in range(g.r.randint(1, 3))], EXACT
    if c == 7:
        return ['ZINCRBY', k, g.float_(), g.member()], EXACT
    if c == 8:
        return ['ZCARD', k], EXACT
    if c == 9:
        return ['ZCOUNT', k, score_bound(g), score_bound(g)], EXACT
    if c == 10:
        return ['ZLEXCOUNT', lk, lex_bound(g), lex_bound(g)], EXACT
    if c in (11, 12, 13):
        by = g.r.randint(0, 2)
        if by == 0:
            argv = ['ZRANGE', k, g.int_(), g.int_()]
        elif by == 1:
            argv = ['ZRANGE', k, score_bound(g), score_bound(g), 'BYSCORE']
        else:
            argv = ['ZRANGE', lk, lex_bound(g), lex_bound(g), 'BYLEX']
        if g.chance(0.3):
            argv.append('REV')
        if g.chance(0.3):
            argv += ['LIMIT', g.int_(-1, 3), g.int_(-1, 3)]
        if g.chance(0.4):
            argv.append('WITHSCORES')
        return argv, EXACT
    if c == 14:
        cmd = g.pick(['ZRANGEBYSCORE', 'ZREVRANGEBYSCORE'])
        argv = [cmd, k, score_bound(g), score_bound(g)]
        if g.chance(0.4):
            argv.append('WITHSCORES')
        if g.chance(0.3):
            argv += ['LIMIT', g.int_(-1, 3), g.int_(-1, 3)]
        return argv, EXACT
    if c == 15:
        return [g.pick(['ZRANGEBYLEX', 'ZREVRANGEBYLEX']), lk, lex_bound(g), lex_bound(g)], EXACT
    if c == 16:
        return ['ZRANGESTORE', g.key(), k, g.int_(), g.int_()], EXACT
    if c == 17:
        return [g.pick(['ZRANK', 'ZREVRANK']), k, g.member()], EXACT
    if c == 18:
        argv = [g.pick(['ZPOPMIN', 'ZPOPMAX']), k]
        if g.chance(0.5):
            argv.append(g.int_(-1, 4))
        return argv, EXACT
    if c == 19:
        which = g.r.randint(0, 2)
        if which == 0:
            return ['ZREMRANGEBYRANK', k, g.int_(), g.int_()], EXACT
        if which == 1:
            return ['ZREMRANGEBYSCORE', k, score_bound(g), score_bound(g)], EXACT
        return ['ZREMRANGEBYLEX', lk, lex_bound(g), lex_bound(g)], EXACT
    if c in (20, 21, 22):
        op = g.pick(['ZUNION', 'ZINTER', 'ZDIFF', 'ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE'])
        ks = g.keys_n(1, 3)
        argv = [op] + ([g.key()] if op.endswith('STORE') else []) + [str(len(ks))] + ks
        if op != 'ZDIFF' and op != 'ZDIFFSTORE':
            if g.chance(0.3):
                argv += ['WEIGHTS'] + [g.float_() for _ in ks]
            if g.chance(0.3):
                argv += ['AGGREGATE', g.pick(['SUM', 'MIN', 'MAX', 'AVG'])]
        if not op.endswith('STORE') and g.chance(0.5):
            argv.append('WITHSCORES')
        return argv, EXACT
    if c == 23:
        ks = g.keys_n(1, 3)
        argv = ['ZINTERCARD', str(len(ks))] + ks
        if g.chance(0.4):
            argv += ['LIMIT', g.int_(-1, 3)]
        return argv, EXACT
    if c == 24:
        ks = g.keys_n(1, 3)
        argv = ['ZMPOP', str(len(ks))] + ks + [g.pick(['MIN', 'MAX'])]
        if g.chance(0.5):
            argv += ['COUNT', g.int_(0, 4)]
        return argv, EXACT
    if c == 25:
        return ['OBJECT', 'ENCODING', k], EXACT
    if c == 26:
        return ['SADD', k, g.member()], EXACT   # sets feed ZUNION & co. too
    return ['DEL', k], EXACT


GEO_CENTRES = [(13.36, 38.11), (0.0, 0.0), (179.5, -10.0), (-73.98, 40.75), (100.0, 80.0), (-120.0, -84.0)]


def geo_point(g):
    if g.chance(0.05):
        return g.pick(['200', 'x', '-180']), g.pick(['0', '86', '85.05112878'])
    lon0, lat0 = g.pick(GEO_CENTRES)
    spread = g.pick([0.01, 0.5, 5.0, 40.0])
    lon = max(-180.0, min(180.0, lon0 + g.r.uniform(-spread, spread)))
    lat = max(-85.0, min(85.0, lat0 + g.r.uniform(-spread, spread)))
    return '%.6f' % lon, '%.6f' % lat


def geo_options(g, store_allowed):
    argv = []
    for opt in ('WITHDIST', 'WITHCOORD', 'WITHHASH'):
        if g.chance(0.25):
            argv.append(opt)
    if g.chance(0.4):
        argv.append(g.pick(['ASC', 'DESC']))
    if g.chance(0.35):
        argv += ['COUNT', g.pick(['1', '2', '5', '0', '-1', 'x'])]
        if g.chance(0.3):
            argv.append('ANY')
    if store_allowed and g.chance(0.15):
        argv += [g.pick(['STORE', 'STOREDIST']), g.key()]
    return argv


def geo_size(g):
    return [g.pick(['1', '10', '100', '500', '2000', '8000', '0', '-1', 'x']),
            g.pick(['m', 'km', 'km', 'mi', 'ft', 'yd'])]


def gen_geo(g):
    k = g.key()
    c = g.r.randint(0, 13)
    if c <= 3:
        argv = ['GEOADD', k]
        if g.chance(0.15):
            argv.append(g.pick(['NX', 'XX', 'CH']))
        for _ in range(g.r.randint(1, 4)):
            lon, lat = geo_point(g)
            argv += [lon, lat, g.member(30)]
        return argv, EXACT
    if c == 4:
        return ['GEOPOS', k] + [g.member(30) for _ in range(g.r.randint(1, 3))], EXACT
    if c == 5:
        argv = ['GEODIST', k, g.member(30), g.member(30)]
        if g.chance(0.5):
            argv.append(g.pick(['m', 'km', 'mi', 'ft', 'xx']))
        return argv, EXACT
    if c == 6:
        return ['GEOHASH', k] + [g.member(30) for _ in range(g.r.randint(1, 3))], EXACT
    if c in (7, 8):
        lon, lat = geo_point(g)
        return [g.pick(['GEORADIUS', 'GEORADIUS_RO']), k, lon, lat] + geo_size(g) + geo_options(g, True), EXACT
    if c == 9:
        return ([g.pick(['GEORADIUSBYMEMBER', 'GEORADIUSBYMEMBER_RO']), k, g.member(30)] + geo_size(g) +
                geo_options(g, True)), EXACT
    if c in (10, 11, 12):
        store = g.chance(0.3)
        argv = ['GEOSEARCHSTORE', g.key(), k] if store else ['GEOSEARCH', k]
        if g.chance(0.5):
            argv += ['FROMMEMBER', g.member(30)]
        else:
            argv += ['FROMLONLAT'] + list(geo_point(g))
        if g.chance(0.5):
            argv += ['BYRADIUS'] + geo_size(g)
        else:
            argv += ['BYBOX', g.pick(['10', '400', '3000', '-1'])] + geo_size(g)
        argv += geo_options(g, False)
        if store and g.chance(0.3):
            argv.append('STOREDIST')
        return argv, EXACT
    return ['ZRANGE', k, '0', '-1', 'WITHSCORES'], EXACT


def gen_streams(g):
    k = g.key()
    c = g.r.randint(0, 15)
    if c <= 4:
        g.stream_ms += g.r.randint(0, 2)
        idv = g.pick(['%d-%d' % (g.stream_ms, g.r.randint(0, 3)), '%d-*' % g.stream_ms, '%d' % g.stream_ms,
                      '0-0', 'bad', '1-1'])
        argv = ['XADD', k]
        if g.chance(0.1):
            argv.append('NOMKSTREAM')
        if g.chance(0.2):
            argv += [g.pick(['MAXLEN', 'MINID']), g.pick(['=', '~', '=']), g.pick(['3', '5', '0', '%d' % g.stream_ms])]
        argv.append(idv)
        for _ in range(g.r.randint(1, 2)):
            argv += [g.pick(['f', 'g', 'name']), g.value()]
        return argv, EXACT
    if c == 5:
        return ['XLEN', k], EXACT
    if c in (6, 7):
        argv = [g.pick(['XRANGE', 'XREVRANGE']), k]
        bounds = [g.pick(['-', '(1-1', '2', '3-0', '(5']), g.pick(['+', '10', '(8-0', '4-1'])]
        if argv[0] == 'XREVRANGE':
            bounds.reverse()
        argv += bounds
        if g.chance(0.4):
            argv += ['COUNT', g.int_(-1, 4)]
        return argv, EXACT
    if c == 8:
        return ['XDEL', k] + ['%d-%d' % (g.r.randint(1, g.stream_ms), g.r.randint(0, 3))
                              for _ in range(g.r.randint(1, 3))], EXACT
    if c == 9:
        return ['XTRIM', k, g.pick(['MAXLEN', 'MINID']), g.pick(['=', '']) or '=',
                g.pick(['2', '4', '0', '%d' % g.r.randint(1, 20)])], EXACT
    if c == 10:
        return ['XREAD', 'COUNT', g.pick(['1', '2', '10']), 'STREAMS', k, g.pick(['0', '0-0', '3-0', '$'])], EXACT
    if c == 11:
        return ['XGROUP', 'CREATE', k, g.pick(['g1', 'g2']), g.pick(['0', '$', '2-0']), 'MKSTREAM'], EXACT
    if c == 12:
        return ['XREADGROUP', 'GROUP', g.pick(['g1', 'g2']), g.pick(['c1', 'c2']), 'COUNT', g.pick(['1', '3']),
                'STREAMS', k, g.pick(['>', '>', '0'])], EXACT
    if c == 13:
        return ['XACK', k, g.pick(['g1', 'g2']), '%d-%d' % (g.r.randint(1, 6), g.r.randint(0, 3))], EXACT
    if c == 14:
        return ['XPENDING', k, g.pick(['g1', 'g2'])], EXACT
    return ['DEL', k], EXACT


def gen_hll(g):
    k = g.key()
    c = g.r.randint(0, 9)
    if c <= 3:
        n = g.pick([1, 2, 5, 30, 200])
        return ['PFADD', k] + ['e%d' % g.r.randint(0, 5000) if g.chance(0.9) else g.value()
                               for _ in range(n)], EXACT
    if c <= 5:
        return ['PFCOUNT'] + g.keys_n(1, 3), EXACT
    if c == 6:
        return ['PFMERGE', g.key()] + g.keys_n(0, 3), EXACT
    if c == 7:
        return ['GET', k], EXACT   # the HLL's bytes: encoding, cache, registers
    if c == 8:
        # Corrupt the header only: a sparse value cut inside an opcode makes
        # Redis read the byte past its end, whatever its buffer holds there.
        return ['SETRANGE', k, g.pick(['0', '3', '4', '14', '15']), g.pick(['\x01', 'X', '\xff'])], EXACT
    return ['DEL', k], EXACT


FAMILIES = {
    'strings': gen_strings,
    'bits': gen_bits,
    'keys': gen_keys,
    'lists': gen_lists,
    'hashes': gen_hashes,
    'sets': gen_sets,
    'zsets': gen_zsets,
    'geo': gen_geo,
    'streams': gen_streams,
    'hyperloglog': gen_hll,
}


# ---------------------------------------------------------------------------
# Running and comparing
# ---------------------------------------------------------------------------

def enc(argv):
    return dt.encode_command([a.encode('latin-1') for a in argv])


def call(server, argv):
    c = server.conn('main')
    c.send(enc(argv))
    return c.read_reply()


def same(a, b, mode):
    if mode == EXACT:
        return a.raw == b.raw
    if mode == UNORDERED:
        return a.type == b.type and dt.canon_unordered(a) == dt.canon_unordered(b)
    if mode == SHAPE:
        if a.type != b.type or a.is_aggregate() != b.is_aggregate():
            return False
        return not a.is_aggregate() or len(a.children) == len(b.children)
    _, tol = mode
    return dt.approx_equal(a, b, tol)


def keyspace_dump(server):
    """Every key with its type, encoding and whole value, as comparable bytes."""
    keys = sorted(ch.value for ch in call(server, ['KEYS', '*']).children)
    out = []
    for kb in keys:
        k = kb.decode('latin-1')
        t = call(server, ['TYPE', k]).raw
        e = call(server, ['OBJECT', 'ENCODING', k]).raw
        if t == b'+string\r\n':
            v = call(server, ['GET', k]).raw
        elif t == b'+list\r\n':
            v = call(server, ['LRANGE', k, '0', '-1']).raw
        elif t == b'+hash\r\n':
            v = dt.canon_unordered(call(server, ['HGETALL', k]))
        elif t == b'+set\r\n':
            v = dt.canon_unordered(call(server, ['SMEMBERS', k]))
        elif t == b'+zset\r\n':
            v = call(server, ['ZRANGE', k, '0', '-1', 'WITHSCORES']).raw
        elif t == b'+stream\r\n':
            v = call(server, ['XRANGE', k, '-', '+']).raw + call(server, ['XINFO', 'GROUPS', k]).raw
        else:
            v = b''
        out.append((kb, t, e, v))
    return out


def run_family(name, gen, ref, ours, rng, count, label, verbose):
    g = Gen(rng, name)
    mismatches = 0
    history = []
    for s in (ref, ours):
        for cmd in (['FLUSHALL'], ['SET', 'wrongtype', 'x'] if name in ('strings', 'bits', 'keys')
                    else ['RPUSH', 'wrongtype', 'x']):
            call(s, cmd)
    for i in range(count):
        argv, mode = gen(g)
        history.append(argv)
        a = call(ref, argv)
        b = call(ours, argv)
        if verbose:
            print('%s %r -> %s' % (label, argv, dt.short(a.raw)))
        if not same(a, b, mode):
            mismatches += 1
            print('MISMATCH %s #%d: %r' % (label, i, argv))
            print('    ref : %s' % dt.short(a.raw))
            print('    ours: %s' % dt.short(b.raw))
            if mismatches == 1:
                print('    after: %r' % history[-8:-1])
            # Continue from equal states: later commands then test something.
            sync_state(ref, ours)
    da, db = keyspace_dump(ref), keyspace_dump(ours)
    if da != db:
        mismatches += 1
        print('MISMATCH %s: keyspaces differ at the end' % label)
        for x, y in zip(da, db):
            if x != y:
                print('    ref : %r\n    ours: %r' % (x, y))
                break
        if len(da) != len(db):
            print('    %d keys on ref, %d on ours' % (len(da), len(db)))
    return mismatches


def sync_state(ref, ours):
    """After a mismatch: copy the reference's keyspace over ours (DUMP/RESTORE)."""
    call(ours, ['FLUSHALL'])
    for ch in call(ref, ['KEYS', '*']).children:
        k = ch.value.decode('latin-1')
        payload = call(ref, ['DUMP', k])
        if payload.value is not None:
            ours.conn('main').send(dt.encode_command([b'RESTORE', ch.value, b'0', payload.value]))
            ours.conn('main').read_reply()


def main():
    ap = argparse.ArgumentParser(description='Randomized differential test against redis-server 7.0.')
    ap.add_argument('--ours', required=True, help='path to the server under test')
    ap.add_argument('--ref', default='redis-server', help='reference redis-server 7.0 binary')
    ap.add_argument('--seed', type=int, default=None, help='random seed (default: from the clock)')
    ap.add_argument('--commands', type=int, default=1000, help='commands per family and pass (default 1000)')
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('families', nargs='*', metavar='FAMILY', help='default: all of %s' % ', '.join(FAMILIES))
    opts = ap.parse_args()
    for attr in ('ref', 'ours'):
        v = getattr(opts, attr)
        setattr(opts, attr, shutil.which(v) or v if os.sep not in v else os.path.abspath(v))
    families = opts.families or list(FAMILIES)
    for f in families:
        if f not in FAMILIES:
            ap.error('unknown family %r' % f)
    seed = opts.seed if opts.seed is not None else int(time.time() * 1000) % 1000000007
    print('seed %d, %d commands per family and pass' % (seed, opts.commands))

    def on_term(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)

    ref = dt.Server('ref', opts.ref, [])
    ours = dt.Server('ours', opts.ours, [])
    total = 0
    t0 = time.monotonic()
    try:
        ref.start()
        ours.start()
        for f in families:
            for tiny in (False, True):
                rng = random.Random('%d/%s/%d' % (seed, f, tiny))
                label = '%s%s' % (f, '/tiny+resp3' if tiny else '')
                for s in (ref, ours):
                    for name, small, default in TINY_LIMITS:
                        call(s, ['CONFIG', 'SET', name, small if tiny else default])
                    # The second pass also speaks RESP3 (maps, sets, doubles, nulls).
                    call(s, ['HELLO', '3' if tiny else '2'])
                n = run_family(f, FAMILIES[f], ref, ours, rng, opts.commands, label, opts.verbose)
                print('%-14s %s' % (label, 'ok' if n == 0 else '%d mismatches' % n))
                total += n
                if not ours.alive():
                    print('our server died:\n' + ours.log_tail())
                    return 1
    except (OSError, dt.Closed, dt.ReplyTimeout, dt.ProtoError) as e:
        print('aborted: %r' % e)
        print(ours.log_tail())
        return 1
    except KeyboardInterrupt:
        print('interrupted')
        return 130
    finally:
        ref.stop()
        ours.stop()
    print('%d mismatches (seed %d, %.1fs)' % (total, seed, time.monotonic() - t0))
    return 0 if total == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
