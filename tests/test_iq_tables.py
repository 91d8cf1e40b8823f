#!/usr/bin/python3
# test_iq_tables.py: the generated IQ codebooks (engine/quant-iq-tables.c,
# engine/quant-iq1s-table.c) against facts of the formats (engine-spec 2.5)
# and values recorded by hand from llama.cpp's ggml/src/ggml-common.h.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: test_iq_tables.py [ENGINE_DIR]
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import quants_iq  # noqa: E402

FAILURES = []
N_CHECKS = 0


def check(cond, what):
    global N_CHECKS
    N_CHECKS += 1
    if not cond:
        FAILURES.append(what)
        print('FAIL:', what, flush=True)


def lanes(v, n):
    return [(v >> (8 * j)) & 255 for j in range(n)]


# name: (count, lanes per entry, allowed lane bytes)
SHAPES = {
    'iq2xxs_grid': (256, 8, {0x08, 0x19, 0x2b}),
    'iq2xs_grid': (512, 8, {0x08, 0x19, 0x2b}),
    'iq2s_grid': (1024, 8, {0x08, 0x19, 0x2b}),
    'iq3xxs_grid': (256, 4, {4, 12, 20, 28, 36, 44, 52, 62}),
    'iq3s_grid': (512, 4, set(range(1, 16, 2))),
    'iq1s_grid': (2048, 8, {0xff, 0x00, 0x01}),     # int8 -1, 0, +1
}

# Typed in from the header text (ggml-org/llama.cpp, ggml-common.h).
SPOT = {
    'iq2xxs_grid': {0: 0x0808080808080808, 1: 0x080808080808082b, 255: 0x2b2b2b1908081908},
    'iq2xs_grid': {0: 0x0808080808080808, 7: 0x080808080819192b},
    'iq2s_grid': {1022: 0x2b2b2b2b2b082b08, 1023: 0x2b2b2b2b2b2b2b2b},
    'iq3xxs_grid': {0: 0x04040404, 5: 0x04040c3e, 255: 0x3e341c04},
    'iq3s_grid': {0: 0x01010101, 3: 0x0101010b},
    'iq1s_grid': {0: 0xffffffffffffffff, 2: 0xffffffffffff0000,
                  2045: 0x010101010101ff01, 2047: 0x0101010101010101},
    'ksigns_iq2xs': {0: 0, 1: 129, 3: 3, 127: 255},
    'ksigns64': {1: 0xff000000000000ff, 127: 0xffffffffffffffff},
    'kvalues_iq4nl': {0: -127, 7: -10, 8: 1, 15: 113},
}


def main():
    engine = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', 'engine')
    t = quants_iq.load_tables(engine)
    for name, (count, nl, allowed) in SHAPES.items():
        vals = t[name]
        check(len(vals) == count, '%s: %d entries, want %d' % (name, len(vals), count))
        bad = [i for i, v in enumerate(vals) if not set(lanes(v, nl)) <= allowed
               or v >> (8 * nl)]
        check(not bad, '%s: entries with lanes outside %s: %s' % (name, sorted(allowed), bad[:5]))
        check(len(set(vals)) == len(vals), '%s: duplicate entries' % name)
    # ksigns (spec 2.5): k | parity(k) << 7, i.e. every mask has an even number of set bits.
    ks = t['ksigns_iq2xs']
    check(len(ks) == 128, 'ksigns_iq2xs: %d entries' % len(ks))
    for k, v in enumerate(ks):
        check(v == k | ((bin(k).count('1') & 1) << 7), 'ksigns_iq2xs[%d] = %d' % (k, v))
    # ksigns64: the same masks as 8 byte lanes, 0xff for a set bit
    k64 = t['ksigns64']
    check(len(k64) == 128, 'ksigns64: %d entries' % len(k64))
    for k, v in enumerate(k64):
        want = sum(0xff << (8 * j) for j in range(8) if (ks[k] >> j) & 1)
        check(v == want, 'ksigns64[%d] = %#x, want %#x' % (k, v, want))
    kv = t['kvalues_iq4nl']
    check(len(kv) == 16 and all(a < b for a, b in zip(kv, kv[1:])),
          'kvalues_iq4nl: 16 increasing values, got %s' % kv)
    check(all(-128 < v < 128 for v in kv), 'kvalues_iq4nl: int8 range')
    for name, spots in SPOT.items():
        for i, want in spots.items():
            got = t[name][i] if i < len(t[name]) else None
            check(got == want, '%s[%d] = %s, header has %s' % (name, i, got, want))
    print('1..1')
    if FAILURES:
        print('not ok 1 - %d of %d checks failed' % (len(FAILURES), N_CHECKS))
        return 1
    print('ok 1 - %d checks' % N_CHECKS)
    return 0


if __name__ == '__main__':
    sys.exit(main())
