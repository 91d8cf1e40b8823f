# test_sampler.py: the sampler against a numpy implementation of its rules.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: test_sampler.py SAMPLER_TOOL
#
# reference() below is written from the formulas (engine/sampler.c's header
# comment and sampler.h): CTRL repetition penalty over the last repeat_last_n
# accepted tokens, masked ids and -inf/NaN dropped, top-k, softmax at the temperature, min-p,
# top-p (shortest prefix reaching top_p), renormalised; temperature 0 is the
# argmax. It computes in float64 with full sorts, the engine in float32 with
# partial selection. Also checked: the same seed gives the same draws, greedy
# is the argmax, and the draw frequencies fit the candidate distribution
# (chi-square; seeded, so deterministic). Prints TAP and the time per sample
# on a 151936-entry vocabulary.

import math
import os
import subprocess
import sys
import tempfile

import numpy as np

TOOL = sys.argv[1]


def reference(logits, temperature, top_k, top_p, min_p, penalty, last_n, recent, masked=()):
    """Returns {id: probability} of the candidates left before the draw."""
    x = logits.astype(np.float64)
    x[list(masked)] = -np.inf
    if last_n > 0 and penalty != 1.0 and penalty > 0:
        for t in set(recent[-last_n:]):
            x[t] = x[t] / penalty if x[t] > 0 else x[t] * penalty
    if temperature <= 0:
        return {int(np.nanargmax(np.where(np.isnan(x), -np.inf, x))): 1.0}
    ids = np.nonzero(~np.isnan(x) & (x != -np.inf))[0]
    if len(ids) == 0:
        return None
    vals = np.minimum(x[ids], np.finfo(np.float32).max)
    order = np.lexsort((ids, -vals))       # largest first, then lower id
    ids, vals = ids[order], vals[order]
    if 0 < top_k < len(ids):
        ids, vals = ids[:top_k], vals[:top_k]
    p = np.exp((vals - vals.max()) / temperature)
    p /= p.sum()
    if min_p > 0:
        keep = p >= min_p * p.max()
        ids, p = ids[keep], p[keep]
        p /= p.sum()
    if top_p < 1:
        cum = np.cumsum(p)                 # p is already sorted descending
        reached = np.nonzero(cum >= top_p)[0]
        n = reached[0] + 1 if len(reached) else len(p)
        ids, p = ids[:n], p[:n]
        p /= p.sum()
    return {int(i): float(q) for i, q in zip(ids, p)}


class Tool:
    """Sends a batch of commands to sampler-tool and parses its answers."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.commands = []
        self.parsers = []
        self.n_files = 0

    def new(self, t, top_k, top_p, min_p, penalty, last_n, seed, n_vocab):
        self.commands.append('new %r %d %r %r %r %d %d %d' % (
            float(t), top_k, float(top_p), float(min_p), float(penalty), last_n, seed, n_vocab))

    def accept(self, ids):
        if ids:
            self.commands.append('accept ' + ' '.join(str(i) for i in ids))

    def mask(self, ids):
        self.commands.append('mask ' + ' '.join(str(i) for i in ids))

    def load(self, logits):
        path = os.path.join(self.tmp, 'logits%d.bin' % self.n_files)
        self.n_files += 1
        logits.astype('<f4').tofile(path)
        self.commands.append('load ' + path)

    def cand(self):
        self.commands.append('cand')
        self.parsers.append('cand')

    def draw(self, count):
        self.commands.append('draw %d' % count)
        self.parsers.append('draw')

    def top(self, top):
        self.commands.append('top ' + self._write_top(top))
        self.parsers.append('cand')

    def drawtop(self, top, count):
        self.commands.append('drawtop %s %d' % (self._write_top(top), count))
        self.parsers.append('draw')

    def _write_top(self, top):
        n_finite, max_, sum_exp, values, ids = top
        path = os.path.join(self.tmp, 'top%d.bin' % self.n_files)
        self.n_files += 1
        with open(path, 'wb') as f:
            f.write(np.array([n_finite, len(values)], '<u4').tobytes())
            f.write(np.array([max_, sum_exp], '<f4').tobytes())
            f.write(np.asarray(values, '<f4').tobytes())
            f.write(np.asarray(ids, '<i4').tobytes())
        return path

    def bench(self, count):
        self.commands.append('bench %d' % count)
        self.parsers.append('bench')

    def run(self):
        res = subprocess.run([TOOL], input=('\n'.join(self.commands) + '\n').encode(),
                             capture_output=True)
        if res.returncode != 0:
            raise RuntimeError('sampler-tool failed: ' + res.stderr.decode(errors='replace'))
        lines = res.stdout.decode().split('\n')
        pos, out = 0, []
        for kind in self.parsers:
            if kind == 'cand':
                n = int(lines[pos])
                rows = [line.split() for line in lines[pos + 1:pos + 1 + n]]
                out.append([(int(a), float(b)) for a, b in rows])
                pos += 1 + n
            elif kind == 'draw':
                out.append([int(v) for v in lines[pos].split()])
                pos += 1
            else:
                out.append(float(lines[pos]))
                pos += 1
        self.commands, self.parsers = [], []
        return out


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, name, detail=''):
        self.n += 1
        if not ok:
            self.failed += 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', self.n, name))
        if not ok and detail:
            for line in str(detail).splitlines():
                print('# ' + line)


def make_logits(rng, n, style):
    if style == 'normal':
        x = rng.normal(0, rng.choice([1.0, 3.0, 10.0]), n)
    elif style == 'ties':
        x = np.round(rng.normal(0, 2.0, n))
    elif style == 'masked':
        x = rng.normal(0, 3.0, n)
        x[rng.random(n) < 0.3] = -np.inf
    elif style == 'nan':
        x = rng.normal(0, 3.0, n)
        x[rng.integers(0, n, 3)] = np.nan
    else:  # 'peaked': a few large logits, like a confident model
        x = rng.normal(0, 1.0, n)
        x[rng.integers(0, n, 5)] += 15.0
    return x.astype(np.float32)


def compare(got, want):
    """Returns '' if the distributions agree, else why not."""
    if want is None:
        return '' if len(got) == 1 else 'expected a single fallback candidate'
    got_d = dict(got)
    if len(got_d) != len(got):
        return 'duplicate ids'
    if set(got_d) != set(want):
        return 'ids differ: only ours %s, only reference %s' % (
            sorted(set(got_d) - set(want))[:10], sorted(set(want) - set(got_d))[:10])
    probs = [p for _, p in got]
    if any(probs[i] < probs[i + 1] for i in range(len(probs) - 1)):
        return 'not sorted by probability'
    for i, p in want.items():
        if not math.isclose(got_d[i], p, rel_tol=2e-5, abs_tol=1e-8):
            return 'id %d: probability %r, reference %r' % (i, got_d[i], p)
    if abs(sum(probs) - 1.0) > 1e-5:
        return 'probabilities sum to %r' % sum(probs)
    return ''


def check_distributions(tap, tool, rng):
    temps = [0.0, 0.3, 0.6, 1.0, 1.7]
    top_ks = [0, 0, 1, 5, 40, 100000]
    top_ps = [1.0, 1.0, 0.95, 0.5, 0.1, 0.0]
    min_ps = [0.0, 0.0, 0.05, 0.3, 1.0]
    penalties = [(1.0, 64), (1.1, 64), (1.5, 8), (0.8, 16), (1.3, 0), (2.0, 1),
                 (1.4, 2**31 - 1)]
    vocabs = [1, 2, 10, 100, 1000, 5000]
    styles = ['normal', 'ties', 'masked', 'nan', 'peaked']
    cases = []
    for c in range(400):
        n = vocabs[c % len(vocabs)] if c % 50 else 151936
        params = (temps[rng.integers(len(temps))], top_ks[rng.integers(len(top_ks))],
                  top_ps[rng.integers(len(top_ps))], min_ps[rng.integers(len(min_ps))])
        penalty, last_n = penalties[rng.integers(len(penalties))]
        recent = [int(v) for v in rng.integers(0, n, rng.integers(0, 100))]
        logits = make_logits(rng, n, styles[c % len(styles)])
        # Mask some ids, the most likely ones included, in a third of the cases.
        masked = []
        if c % 3 == 1:
            masked = [int(v) for v in rng.integers(0, n, 1 + n // 10)][:2000]
            masked += [int(v) for v in np.argsort(-logits)[:2]]
        cases.append((params, penalty, last_n, recent, logits, masked))
        tool.new(*params, penalty, last_n, 7, n)
        tool.mask(masked)
        tool.accept(recent)
        tool.load(logits)
        tool.cand()
    results = tool.run()
    failures = []
    for (params, penalty, last_n, recent, logits, masked), got in zip(cases, results):
        want = reference(logits, *params, penalty, last_n, recent, masked)
        why = compare(got, want)
        if why:
            failures.append('T=%r top_k=%d top_p=%r min_p=%r penalty=%r last_n=%d n=%d: %s'
                            % (*params, penalty, last_n, len(logits), why))
    tap.check(not failures, '%d parameter/logit combinations match the numpy reference'
              % len(cases), '\n'.join(failures[:10]))

    # All logits masked: a single candidate rather than a crash.
    tool.new(1.0, 0, 0.9, 0.0, 1.0, 0, 1, 50)
    tool.load(np.full(50, -np.inf, np.float32))
    tool.cand()
    got = tool.run()[0]
    tap.check(len(got) == 1 and got[0][1] == 1.0, 'all logits -inf give one candidate', got)


def check_seeds(tap, tool, rng):
    logits = rng.normal(0, 1.0, 1000).astype(np.float32)  # flat enough for varied draws
    for seed in (0, 1, 42, 2**63 + 5):
        tool.new(1.0, 0, 0.95, 0.0, 1.0, 64, seed, 1000)
        tool.load(logits)
        tool.draw(300)
    tool.new(1.0, 0, 0.95, 0.0, 1.0, 64, 42, 1000)
    tool.load(logits)
    tool.draw(300)
    draws = tool.run()
    tap.check(draws[2] == draws[4], 'the same seed gives the same 300 draws')
    tap.check(len({tuple(d) for d in draws[:4]}) == 4, 'different seeds give different draws')
    tap.check(len(set(draws[2])) > 20, 'a draw sequence is not constant (%d distinct ids)'
              % len(set(draws[2])))


def check_greedy(tap, tool, rng):
    failures = []
    cases = []
    for c in range(30):
        n = [10, 1000, 151936][c % 3]
        logits = make_logits(rng, n, ['normal', 'peaked', 'masked'][c % 3])
        recent = [int(v) for v in rng.integers(0, n, 20)] if c % 2 else []
        penalty = 1.0 if c % 4 < 2 else 1.5
        masked = [int(np.argmax(logits))] if c % 5 == 0 else []
        cases.append((logits, recent, penalty, masked))
        tool.new(0.0, 40, 0.5, 0.1, penalty, 64, c, n)
        tool.mask(masked)
        tool.accept(recent)
        tool.load(logits)
        tool.draw(5)
    results = tool.run()
    for (logits, recent, penalty, masked), got in zip(cases, results):
        x = logits.astype(np.float64)
        x[masked] = -np.inf
        for t in set(recent):
            x[t] = x[t] / penalty if x[t] > 0 else x[t] * penalty
        want = int(np.argmax(x))
        if got != [want] * 5:
            failures.append('argmax %d, got %s' % (want, got))
    tap.check(not failures, 'temperature 0 always picks the argmax (after mask and penalty)',
              '\n'.join(failures[:5]))


def device_top(logits, temperature, capacity, masked=()):
    """What a device hands the sampler: the best `capacity` qualifying logits
    (masked, NaN and -inf left out, +inf as FLT_MAX), best first and lower id
    first among equals, with the count and the softmax normaliser over all
    that qualify (float64 here)."""
    x = logits.astype(np.float64)
    x[list(masked)] = -np.inf
    ids = np.nonzero(~np.isnan(x) & (x != -np.inf))[0]
    vals = np.minimum(x[ids], np.finfo(np.float32).max)
    order = np.lexsort((ids, -vals))
    ids, vals = ids[order], vals[order]
    sum_exp = float(np.exp((vals - vals[0]) / temperature).sum()) if len(ids) else 0.0
    top_max = float(vals[0]) if len(ids) else 0.0
    return len(ids), top_max, sum_exp, vals[:capacity], ids[:capacity]


def top_suffices(logits, temperature, top_k, top_p, min_p, capacity, masked):
    """Whether the first step that cuts the candidates cuts inside the list
    (the rule in sampler.h), worked out over the whole vocabulary."""
    n_finite, top_max, sum_exp, vals, _ = device_top(logits, temperature, len(logits), masked)
    if n_finite == 0:
        return False
    if n_finite <= capacity:
        return True
    if 0 < top_k < n_finite:
        return top_k <= capacity
    p = np.exp((vals - top_max) / temperature) / sum_exp
    if min_p > 0:
        return int((p >= min_p * p[0]).sum()) < capacity
    if top_p < 1:
        return int(np.searchsorted(np.cumsum(p), top_p)) + 1 <= capacity
    return False


def check_top(tap, tool, rng):
    """Sampling from a device's best logits: the same candidates as from all
    of them whenever the list suffices, and a refusal (no draw) otherwise."""
    temps = [0.3, 0.6, 1.0, 1.7]
    top_ks = [0, 0, 1, 5, 40, 64, 65]
    top_ps = [1.0, 0.95, 0.95, 0.5, 0.1, 0.0]
    min_ps = [0.0, 0.0, 0.05, 0.3]
    capacities = [1, 8, 64, 64]
    vocabs = [1, 10, 100, 1000, 5000]
    styles = ['normal', 'ties', 'masked', 'nan', 'peaked']
    cases = []
    for c in range(300):
        n = vocabs[c % len(vocabs)] if c % 50 else 151936
        params = (temps[rng.integers(len(temps))], top_ks[rng.integers(len(top_ks))],
                  top_ps[rng.integers(len(top_ps))], min_ps[rng.integers(len(min_ps))])
        capacity = capacities[rng.integers(len(capacities))]
        logits = make_logits(rng, n, styles[c % len(styles)])
        masked = [int(v) for v in rng.integers(0, n, 1 + n // 10)][:2000] if c % 3 == 1 else []
        cases.append((params, capacity, logits, masked))
        tool.new(*params, 1.0, 64, 7, n)
        tool.mask(masked)
        tool.top(device_top(logits, params[0], capacity, masked))
    results = tool.run()
    failures, used = [], 0
    for (params, capacity, logits, masked), got in zip(cases, results):
        label = 'T=%r top_k=%d top_p=%r min_p=%r capacity %d n=%d' % (
            *params, capacity, len(logits))
        if not top_suffices(logits, *params, capacity, masked):
            if got:
                failures.append('%s: sampled from a list too short to know' % label)
            continue
        used += 1
        why = compare(got, reference(logits, *params, 1.0, 0, [], masked))
        if why:
            failures.append('%s: %s' % (label, why))
    tap.check(not failures and used > 100,
              '%d of %d device lists give the numpy candidates, the rest are refused'
              % (used, len(cases)), '\n'.join(failures[:10]))

    # A refused list draws nothing (the seeded sequence is not advanced), a
    # repetition penalty is never applied from a list, and draws fit.
    logits = rng.normal(0, 1.0, 30).astype(np.float32)  # a nucleus of many ids
    flat = device_top(logits, 1.0, 4)
    tool.new(1.0, 0, 1.0, 0.0, 1.0, 64, 5, 30)
    tool.drawtop(flat, 3)
    tool.new(1.0, 0, 1.0, 0.0, 1.3, 64, 5, 30)
    tool.drawtop(device_top(logits, 1.0, 30), 1)
    tool.new(0.8, 0, 0.9, 0.0, 1.0, 64, 11, 30)
    tool.drawtop(device_top(logits, 0.8, 30), 100000)
    refused, penalised, draws = tool.run()
    tap.check(refused == [-1] * 3 and penalised == [-1],
              'no cut inside the list, or a repetition penalty: refused', (refused, penalised))
    want = reference(logits, 0.8, 0, 0.9, 0.0, 1.0, 0, [])
    counts = np.bincount(np.array(draws), minlength=30)
    expected = np.array([want[i] * len(draws) for i in sorted(want)])
    observed = np.array([counts[i] for i in sorted(want)])
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    outside = [i for i in range(30) if counts[i] and i not in want]
    tap.check(not outside and chi2 < chi_square_limit(max(len(want) - 1, 1)),
              'draws from a device list fit the top-p distribution (chi2 %.1f, %d ids)'
              % (chi2, len(want)),
              'outside the nucleus: %s' % outside)


def chi_square_limit(dof, z=4.75):
    """Wilson-Hilferty upper quantile of chi-square (z = 4.75: p ~ 1e-6)."""
    h = 2.0 / (9.0 * dof)
    return dof * (1.0 - h + z * math.sqrt(h)) ** 3


def check_frequencies(tap, tool, rng):
    settings = [
        (1.0, 0, 1.0, 0.0, 1.0, 0, 'plain softmax'),
        (0.7, 0, 0.9, 0.0, 1.0, 0, 'top-p 0.9'),
        (1.3, 8, 1.0, 0.05, 1.2, 16, 'top-k 8, min-p 0.05, penalty'),
    ]
    n_draws = 100000
    for s, (t, k, p, m, pen, last_n, label) in enumerate(settings):
        logits = make_logits(rng, 30, 'normal')
        recent = [int(v) for v in rng.integers(0, 30, 10)]
        tool.new(t, k, p, m, pen, last_n, 1000 + s, 30)
        tool.accept(recent)
        tool.load(logits)
        tool.cand()
        tool.draw(n_draws)
        cand, draws = tool.run()
        want = reference(logits, t, k, p, m, pen, last_n, recent)
        counts = np.bincount(np.array(draws), minlength=30)
        outside = [i for i in range(30) if counts[i] and i not in want]
        expected = np.array([want[i] * n_draws for i in sorted(want)])
        observed = np.array([counts[i] for i in sorted(want)])
        chi2 = float(((observed - expected) ** 2 / expected).sum())
        dof = max(len(want) - 1, 1)
        tap.check(not outside and not compare(cand, want) and chi2 < chi_square_limit(dof),
                  '%s: %d draws fit the distribution (chi2 %.1f, %d dof, limit %.1f)'
                  % (label, n_draws, chi2, dof, chi_square_limit(dof)),
                  'outside the candidates: %s' % outside)


def check_speed(tap, tool, rng):
    n = 151936
    logits = (rng.normal(0, 2.5, n) + np.where(rng.random(n) < 0.001, 12.0, 0.0)).astype(
        np.float32)
    settings = [(0.6, 0, 0.95, 0.0, 1.0, 64, 'defaults (T 0.6, top-p 0.95)'),
                (0.6, 40, 0.95, 0.05, 1.1, 64, 'top-k 40, min-p, penalty'),
                (1.0, 0, 1.0, 0.0, 1.0, 64, 'no cut'),
                (0.0, 0, 1.0, 0.0, 1.0, 64, 'greedy')]
    for t, k, p, m, pen, last_n, _ in settings:
        tool.new(t, k, p, m, pen, last_n, 3, n)
        tool.accept([int(v) for v in rng.integers(0, n, 64)])
        tool.load(logits)
        tool.bench(50)
    times = tool.run()
    for (_, _, _, _, _, _, label), seconds in zip(settings, times):
        print('# sample, %d-entry vocabulary, %s: %.3f ms' % (n, label, seconds * 1e3))
        tap.check(seconds < 0.05, 'sampling %s takes %.3f ms (< 50 ms)'
                  % (label, seconds * 1e3))


def main():
    tap = Tap()
    rng = np.random.default_rng(20250123)
    with tempfile.TemporaryDirectory() as tmp:
        tool = Tool(tmp)
        check_distributions(tap, tool, rng)
        check_seeds(tap, tool, rng)
        check_greedy(tap, tool, rng)
        check_frequencies(tap, tool, rng)
        check_top(tap, tool, rng)
        check_speed(tap, tool, rng)
    print('1..%d' % tap.n)
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
