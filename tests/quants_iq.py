# quants_iq.py: numpy model of the IQ weight formats (engine-spec 2.5), written
# from the format description: dequantisers, random valid blocks and simple
# quantisers. quants.py dispatches the IQ type names here.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The codebooks are data and come from the generated engine tables (checked
# on their own by test_iq_tables.py); everything else here is independent of
# the C code. Each element is evaluated in float32 as the spec writes it:
# the group scale first (d * (0.5 + s) * 0.25 and the like), then scale
# times the signed grid value, so engine/quant-iq.c must match bit for bit.
# The quantisers are greedy (nearest grid point per group after fixing the
# scales), not llama.cpp's importance-weighted search.
import os
import re

import numpy as np

F32 = np.float32
ENGINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'engine')

BLOCK = {
    'IQ2_XXS': (256, 66), 'IQ2_XS': (256, 74), 'IQ2_S': (256, 82),
    'IQ3_XXS': (256, 98), 'IQ3_S': (256, 110), 'IQ1_S': (256, 50),
    'IQ1_M': (256, 56), 'IQ4_NL': (32, 18), 'IQ4_XS': (256, 136),
}
TYPES = tuple(BLOCK)

_TABLE_RE = re.compile(r'const\s+(\w+)\s+ponder_(\w+)\[(\d+)\]\s*=\s*\{(.*?)\};', re.S)


def load_tables(engine_dir=ENGINE):
    """{name: [ints]} of every table in the generated engine files"""
    out = {}
    for fname in ('quant-iq-tables.c', 'quant-iq1s-table.c'):
        with open(os.path.join(engine_dir, fname), encoding='utf-8') as f:
            text = f.read()
        for m in _TABLE_RE.finditer(text):
            vals = [int(v.rstrip('uUlL'), 0) for v in re.findall(r'-?(?:0x[0-9a-fA-F]+|\d+)[uUlL]*',
                                                                   m.group(4))]
            out[m.group(2)] = vals
    return out


_T = {}


def _tables():
    """lane arrays: grids (G, lanes) int32, ksigns (128,), kvalues (16,)"""
    if not _T:
        t = load_tables()
        for name in ('iq2xxs_grid', 'iq2xs_grid', 'iq2s_grid', 'iq1s_grid'):
            a = np.array(t[name], dtype='<u8').view(np.uint8).reshape(-1, 8)
            _T[name] = (a.view(np.int8) if name == 'iq1s_grid' else a).astype(np.int32)
        for name in ('iq3xxs_grid', 'iq3s_grid'):
            _T[name] = np.array(t[name], dtype='<u4').view(np.uint8).reshape(-1, 4).astype(np.int32)
        _T['ksigns'] = np.array(t['ksigns_iq2xs'], dtype=np.int32)
        _T['kvalues'] = np.array(t['kvalues_iq4nl'], dtype=np.int32)
    return _T


def _f16_load(b):
    """uint8 (nb, 2) -> float32 (nb, 1)"""
    return np.ascontiguousarray(b).view(np.float16).astype(F32).reshape(-1, 1)


def _u16(b):
    """uint8 (nb, 2k) -> int64 (nb, k) little-endian"""
    return np.ascontiguousarray(b).view('<u2').astype(np.int64)


def _u32(b):
    return np.ascontiguousarray(b).view('<u4').astype(np.int64)


def _sign_lanes(masks):
    """sign masks (...,) -> (..., 8) of +1/-1, bit j negates lane j"""
    return 1 - 2 * ((masks[..., None] >> np.arange(8)) & 1)


# ---- dequantisers (all return float32 (nb, block_size)) -----------------------

def _deq_iq2_xxs(b):
    T = _tables()
    d = _f16_load(b[:, 0:2])                                  # (nb, 1)
    g = b[:, 2:66].reshape(-1, 8, 8).astype(np.int64)         # (nb, ib, 8 bytes)
    w = _u32(b[:, 2:66].reshape(-1, 8, 8)[:, :, 4:8].reshape(-1, 32)).reshape(-1, 8)
    db = d * (F32(0.5) + (w >> 28).astype(F32)) * F32(0.25)    # (nb, 8)
    grid = T['iq2xxs_grid'][g[:, :, 0:4]]                     # (nb, 8, 4, 8)
    signs = T['ksigns'][(w[:, :, None] >> (7 * np.arange(4))) & 127]
    q = grid * _sign_lanes(signs)
    return (db[:, :, None, None] * q.astype(F32)).reshape(-1, 256)


def _deq_iq2_xs(b):
    T = _tables()
    d = _f16_load(b[:, 0:2])
    qs = _u16(b[:, 2:66]).reshape(-1, 8, 4)
    sc = b[:, 66:74].astype(np.int64)
    nib = np.stack([sc & 15, sc >> 4], axis=2)                # (nb, 8, 2)
    db = d[:, :, None] * (F32(0.5) + nib.astype(F32)) * F32(0.25)
    db = np.repeat(db, 2, axis=2)                             # per l: db[l // 2]
    q = T['iq2xs_grid'][qs & 511] * _sign_lanes(T['ksigns'][qs >> 9])
    return (db[:, :, :, None] * q.astype(F32)).reshape(-1, 256)


def _deq_iq2_s(b):
    T = _tables()
    d = _f16_load(b[:, 0:2])
    qs = b[:, 2:34].astype(np.int64).reshape(-1, 8, 4)
    signs = b[:, 34:66].astype(np.int64).reshape(-1, 8, 4)
    qh = b[:, 66:74].astype(np.int64)
    sc = b[:, 74:82].astype(np.int64)
    idx = qs | (((qh[:, :, None] >> (2 * np.arange(4))) & 3) << 8)
    nib = np.stack([sc & 15, sc >> 4], axis=2)
    db = np.repeat(d[:, :, None] * (F32(0.5) + nib.astype(F32)) * F32(0.25), 2, axis=2)
    q = T['iq2s_grid'][idx] * _sign_lanes(signs)
    return (db[:, :, :, None] * q.astype(F32)).reshape(-1, 256)


def _deq_iq3_xxs(b):
    T = _tables()
    d = _f16_load(b[:, 0:2])
    qs = b[:, 2:66].astype(np.int64).reshape(-1, 8, 4, 2)     # (nb, ib, l, half)
    w = _u32(b[:, 66:98])                                     # (nb, 8)
    db = d * (F32(0.5) + (w >> 28).astype(F32)) * F32(0.5)
    grid = T['iq3xxs_grid'][qs].reshape(-1, 8, 4, 8)          # two 4-lane entries
    signs = T['ksigns'][(w[:, :, None] >> (7 * np.arange(4))) & 127]
    q = grid * _sign_lanes(signs)
    return (db[:, :, None, None] * q.astype(F32)).reshape(-1, 256)


def _deq_iq3_s(b):
    T = _tables()
    d = _f16_load(b[:, 0:2])
    qs = b[:, 2:66].astype(np.int64).reshape(-1, 8, 8)        # (nb, ib, k)
    qh = b[:, 66:74].astype(np.int64)
    signs = b[:, 74:106].astype(np.int64).reshape(-1, 8, 4)
    sc = b[:, 106:110].astype(np.int64)
    idx = qs | (((qh[:, :, None] >> np.arange(8)) & 1) << 8)
    nib = np.stack([sc & 15, sc >> 4], axis=2).reshape(-1, 8)  # group ib: nibble ib % 2
    db = d * (1 + 2 * nib).astype(F32)
    grid = T['iq3s_grid'][idx].reshape(-1, 8, 4, 8)
    q = grid * _sign_lanes(signs)
    return (db[:, :, None, None] * q.astype(F32)).reshape(-1, 256)


def _deq_iq1_s(b):
    T = _tables()
    d = _f16_load(b[:, 0:2])
    qs = b[:, 2:34].astype(np.int64).reshape(-1, 8, 4)
    qh = _u16(b[:, 34:50])                                    # (nb, 8)
    dl = d * (2 * ((qh >> 12) & 7) + 1).astype(F32)
    delta = np.where(qh & 0x8000, F32(-0.125), F32(0.125)).astype(F32)
    idx = qs | (((qh[:, :, None] >> (3 * np.arange(4))) & 7) << 8)
    v = T['iq1s_grid'][idx].astype(F32) + delta[:, :, None, None]
    return (dl[:, :, None, None] * v).reshape(-1, 256)


def _iq1m_d(b):
    sc = _u16(b[:, 48:56])                                    # (nb, 4)
    bits = ((sc[:, 0] >> 12) | ((sc[:, 1] >> 8) & 0x00F0) | ((sc[:, 2] >> 4) & 0x0F00)
            | (sc[:, 3] & 0xF000))
    return bits.astype(np.uint16).view(np.float16).astype(F32).reshape(-1, 1), sc


def _deq_iq1_m(b):
    T = _tables()
    d, sc = _iq1m_d(b)
    qs = b[:, 0:32].astype(np.int64).reshape(-1, 8, 4)
    qh = b[:, 32:48].astype(np.int64).reshape(-1, 8, 2)
    t = sc[:, np.arange(8) // 2] >> (6 * (np.arange(8) % 2))  # (nb, 8)
    dl = np.stack([d * (2 * (t & 7) + 1).astype(F32),
                   d * (2 * ((t >> 3) & 7) + 1).astype(F32)], axis=2)  # (nb, 8, 2)
    dl = np.repeat(dl, 2, axis=2)                             # sub-groups 0,1 | 2,3
    h = np.repeat(qh, 2, axis=2)                              # a, a, b, b
    shift = np.array([0, 4, 0, 4])
    idx = qs | (((h >> shift) & 7) << 8)
    delta = np.where((h >> shift) & 8, F32(-0.125), F32(0.125)).astype(F32)
    v = T['iq1s_grid'][idx].astype(F32) + delta[:, :, :, None]
    return (dl[:, :, :, None] * v).reshape(-1, 256)


def _deq_iq4_nl(b):
    kv = _tables()['kvalues']
    d = _f16_load(b[:, 0:2])
    qs = b[:, 2:18].astype(np.int64)
    q = kv[np.concatenate([qs & 15, qs >> 4], axis=1)]
    return d * q.astype(F32)


def _deq_iq4_xs(b):
    kv = _tables()['kvalues']
    d = _f16_load(b[:, 0:2])
    sh = _u16(b[:, 2:4])                                      # (nb, 1)
    sl = b[:, 4:8].astype(np.int64)
    ib = np.arange(8)
    ls = ((sl[:, ib // 2] >> (4 * (ib % 2))) & 15) | (((sh >> (2 * ib)) & 3) << 4)
    dl = d * (ls - 32).astype(F32)                            # (nb, 8)
    qs = b[:, 8:136].astype(np.int64).reshape(-1, 8, 16)
    q = kv[np.concatenate([qs & 15, qs >> 4], axis=2)]        # (nb, 8, 32)
    return (dl[:, :, None] * q.astype(F32)).reshape(-1, 256)


_DEQ = {'IQ2_XXS': _deq_iq2_xxs, 'IQ2_XS': _deq_iq2_xs, 'IQ2_S': _deq_iq2_s,
        'IQ3_XXS': _deq_iq3_xxs, 'IQ3_S': _deq_iq3_s, 'IQ1_S': _deq_iq1_s,
        'IQ1_M': _deq_iq1_m, 'IQ4_NL': _deq_iq4_nl, 'IQ4_XS': _deq_iq4_xs}


def dequantize_blocks(type_name, b):
    """uint8 (nb, block_bytes) -> float32 (nb, block_size)"""
    return np.ascontiguousarray(_DEQ[type_name](b), dtype=F32)


# ---- random valid blocks ---------------------------------------------------------

def _set_f16(blocks, off, value):
    blocks[:, off:off + 2] = np.frombuffer(np.float16(value).tobytes(), np.uint8)


def random_blocks(type_name, rng, n_blocks, d=None):
    """Random blocks of type_name: every index, sign, delta and scale field
    random (every bit pattern of these formats is a valid block), the f16
    super-block scale d (default: random in [2^-10, 2^-6]) finite."""
    bb = BLOCK[type_name][1]
    blocks = rng.integers(0, 256, size=(n_blocks, bb), dtype=np.uint8)
    if d is None:
        d = np.exp2(rng.uniform(-10, -6, n_blocks))
    dv = np.broadcast_to(np.asarray(d, dtype=np.float16), (n_blocks,)).copy()
    if type_name == 'IQ1_M':
        bits = dv.view(np.uint16).astype(np.int64)
        sc = _u16(blocks[:, 48:56]) & 0x0FFF
        for k in range(4):
            sc[:, k] |= ((bits >> (4 * k)) & 15) << 12
        blocks[:, 48:56] = sc.astype('<u2').view(np.uint8).reshape(-1, 8)
    else:
        blocks[:, 0:2] = dv.reshape(-1, 1).view(np.uint8)
    return blocks


# ---- quantisers ------------------------------------------------------------------

def _blocks(x, bs):
    x = np.asarray(x, dtype=F32)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    assert x.shape[1] % bs == 0, (x.shape, bs)
    return x.reshape(-1, bs)


def _f16(v):
    return np.asarray(v, dtype=F32).astype(np.float16)


def _f16_bytes(v):
    return _f16(v).reshape(-1, 1).view(np.uint8).reshape(-1, 2)


def _safe_div(a, b):
    b = np.asarray(b, dtype=F32)
    return np.where(b != 0, a / np.where(b != 0, b, 1), 0).astype(F32)


def _nearest(v, grid, chunk=4096):
    """v (N, L) float, grid (G, L) -> index (N,) of the nearest row (L2)"""
    g = grid.astype(F32)
    gg = (g * g).sum(axis=1)
    out = np.empty(len(v), dtype=np.int64)
    for s in range(0, len(v), chunk):
        vv = v[s:s + chunk].astype(F32)
        out[s:s + chunk] = np.argmin(gg[None, :] - 2 * vv @ g.T, axis=1)
    return out


def _sub_scales(amax, unit, nmax, mult):
    """Group scales of the form d * mult(s), s in 0..nmax: amax (nb, ng) ->
    (d (nb, 1) f16-rounded float32, s (nb, ng) int)"""
    want = amax / F32(unit)                                   # desired group scale
    d = _f16(want.max(axis=1, keepdims=True) / F32(mult(nmax))).astype(F32)
    m = np.array([mult(s) for s in range(nmax + 1)], dtype=F32)
    s = np.argmin(np.abs(_safe_div(want, d)[:, :, None] - m), axis=2)
    return d, s


def _signed_grid(xg, dg, grid, parity):
    """x groups (N, L), their scales (N,) -> (grid index, sign mask with bit j
    = lane j negative). parity: the eighth sign is implied (even count of
    negatives), so flip the smallest lane when the count is odd."""
    neg = xg < 0
    if parity:
        odd = neg.sum(axis=1) & 1
        small = np.argmin(np.abs(xg), axis=1)
        flip = odd.astype(bool)
        neg[np.nonzero(flip)[0], small[flip]] ^= True
    idx = _nearest(_safe_div(np.abs(xg), dg[:, None]), grid)
    mask = (neg.astype(np.int64) << np.arange(xg.shape[1])).sum(axis=1)
    return idx, mask


def _quant_iq2(name, x):
    T = _tables()
    xb = _blocks(x, 256)
    nb = len(xb)
    xs = xb.reshape(nb, 8, 32)
    if name == 'IQ2_XXS':
        amax = np.abs(xs).max(axis=2)
        d, s = _sub_scales(amax, 43, 15, lambda s: (0.5 + s) * 0.25)
        db = d * (F32(0.5) + s.astype(F32)) * F32(0.25)        # (nb, 8)
        dg = np.repeat(db, 4, axis=1).reshape(-1)
        idx, mask = _signed_grid(xs.reshape(-1, 8), dg, T['iq2xxs_grid'], True)
        idx = idx.reshape(nb, 8, 4)
        k = (mask & 127).reshape(nb, 8, 4)
        w = (k << (7 * np.arange(4))).sum(axis=2) | (s.astype(np.int64) << 28)
        grp = np.concatenate([idx.astype(np.uint8),
                              w.astype('<u4').reshape(nb, 8, 1).view(np.uint8)], axis=2)
        return np.concatenate([_f16_bytes(d), grp.reshape(nb, 64)], axis=1)
    # IQ2_XS / IQ2_S: a 4-bit scale per 16 elements
    amax = np.abs(xb.reshape(nb, 16, 16)).max(axis=2)
    d, s = _sub_scales(amax, 43, 15, lambda s: (0.5 + s) * 0.25)
    db = d * (F32(0.5) + s.astype(F32)) * F32(0.25)            # (nb, 16)
    dg = np.repeat(db, 2, axis=1).reshape(-1)
    scales = (s[:, 0::2] | (s[:, 1::2] << 4)).astype(np.uint8)
    if name == 'IQ2_XS':
        idx, mask = _signed_grid(xb.reshape(-1, 8), dg, T['iq2xs_grid'], True)
        qs = (idx | ((mask & 127) << 9)).reshape(nb, 32)
        return np.concatenate([_f16_bytes(d), qs.astype('<u2').view(np.uint8), scales], axis=1)
    idx, mask = _signed_grid(xb.reshape(-1, 8), dg, T['iq2s_grid'], False)
    idx = idx.reshape(nb, 8, 4)
    qh = ((idx >> 8) << (2 * np.arange(4))).sum(axis=2)
    return np.concatenate([_f16_bytes(d), (idx & 255).reshape(nb, 32).astype(np.uint8),
                           mask.reshape(nb, 32).astype(np.uint8), qh.astype(np.uint8),
                           scales], axis=1)


def _quant_iq3(name, x):
    T = _tables()
    xb = _blocks(x, 256)
    nb = len(xb)
    xs = xb.reshape(nb, 8, 32)
    amax = np.abs(xs).max(axis=2)
    if name == 'IQ3_XXS':
        d, s = _sub_scales(amax, 62, 15, lambda s: (0.5 + s) * 0.5)
        db = d * (F32(0.5) + s.astype(F32)) * F32(0.5)
        x8 = xs.reshape(-1, 8)
        dg = np.repeat(db, 4, axis=1).reshape(-1)
        neg = x8 < 0
        odd = (neg.sum(axis=1) & 1).astype(bool)
        small = np.argmin(np.abs(x8), axis=1)
        neg[np.nonzero(odd)[0], small[odd]] ^= True
        mask = (neg.astype(np.int64) << np.arange(8)).sum(axis=1)
        idx = _nearest(_safe_div(np.abs(x8), dg[:, None]).reshape(-1, 4), T['iq3xxs_grid'])
        w = ((mask & 127).reshape(nb, 8, 4) << (7 * np.arange(4))).sum(axis=2) | (
            s.astype(np.int64) << 28)
        return np.concatenate([_f16_bytes(d), idx.reshape(nb, 64).astype(np.uint8),
                               w.astype('<u4').view(np.uint8).reshape(nb, 32)], axis=1)
    d, s = _sub_scales(amax, 15, 15, lambda s: 1 + 2 * s)
    db = d * (1 + 2 * s).astype(F32)
    x8 = xs.reshape(-1, 8)
    dg = np.repeat(db, 4, axis=1).reshape(-1)
    mask = ((x8 < 0).astype(np.int64) << np.arange(8)).sum(axis=1)
    idx = _nearest(_safe_div(np.abs(x8), dg[:, None]).reshape(-1, 4), T['iq3s_grid'])
    idx = idx.reshape(nb, 8, 8)
    qh = ((idx >> 8) << np.arange(8)).sum(axis=2)
    scales = (s[:, 0::2] | (s[:, 1::2] << 4)).astype(np.uint8)
    return np.concatenate([_f16_bytes(d), (idx & 255).reshape(nb, 64).astype(np.uint8),
                           qh.astype(np.uint8), mask.reshape(nb, 32).astype(np.uint8),
                           scales], axis=1)


def _iq1_fit(x8, dl8):
    """groups of 8 (N, 8) and scales (N,) -> (index, delta negative?) of the
    best grid point + delta (both delta signs tried)"""
    g = _tables()['iq1s_grid']
    v = _safe_div(x8, dl8[:, None])
    best = None
    for neg in (False, True):
        delta = F32(-0.125 if neg else 0.125)
        idx = _nearest(v - delta, g)
        err = ((g[idx] + delta - v) ** 2).sum(axis=1)
        if best is None:
            best = (idx, np.zeros(len(v), bool), err)
        else:
            better = err < best[2]
            best = (np.where(better, idx, best[0]), better, np.where(better, err, best[2]))
    return best


def _quant_iq1_s(x):
    xb = _blocks(x, 256)
    nb = len(xb)
    xs = xb.reshape(nb, 8, 32)
    amax = np.abs(xs).max(axis=2)
    d, s = _sub_scales(amax, 1.125, 7, lambda s: 2 * s + 1)
    dl = d * (2 * s + 1).astype(F32)                           # (nb, 8)
    idx, neg, err = _iq1_fit(xs.reshape(-1, 8), np.repeat(dl, 4, axis=1).reshape(-1))
    # one delta sign per 32: the majority of the groups' preferences
    neg32 = neg.reshape(nb, 8, 4).sum(axis=2) >= 2
    delta = np.where(neg32, F32(-0.125), F32(0.125))
    g = _tables()['iq1s_grid']
    v = _safe_div(xs.reshape(nb, 8, 4, 8), dl[:, :, None, None]) - delta[:, :, None, None]
    idx = _nearest(v.reshape(-1, 8), g).reshape(nb, 8, 4)
    qh = ((idx >> 8) << (3 * np.arange(4))).sum(axis=2) | (s.astype(np.int64) << 12) | (
        neg32.astype(np.int64) << 15)
    return np.concatenate([_f16_bytes(d), (idx & 255).reshape(nb, 32).astype(np.uint8),
                           qh.astype('<u2').view(np.uint8).reshape(nb, 16)], axis=1)


def _quant_iq1_m(x):
    xb = _blocks(x, 256)
    nb = len(xb)
    amax = np.abs(xb.reshape(nb, 16, 16)).max(axis=2)
    d, s = _sub_scales(amax, 1.125, 7, lambda s: 2 * s + 1)
    dl = d * (2 * s + 1).astype(F32)                           # (nb, 16)
    idx, neg, err = _iq1_fit(xb.reshape(-1, 8), np.repeat(dl, 2, axis=1).reshape(-1))
    idx = idx.reshape(nb, 16, 2)
    neg = neg.reshape(nb, 16, 2).astype(np.int64)
    qh = ((idx[:, :, 0] >> 8) | (neg[:, :, 0] << 3) | ((idx[:, :, 1] >> 8) << 4)
          | (neg[:, :, 1] << 7))
    dbits = _f16(d).view(np.uint16).astype(np.int64).reshape(-1)
    s = s.astype(np.int64)
    sc = np.zeros((nb, 4), dtype=np.int64)
    for k in range(4):
        # scales of groups 2k (bits 0-5) and 2k + 1 (bits 6-11), 3 bits per 16
        sc[:, k] = (s[:, 4 * k] | (s[:, 4 * k + 1] << 3) | (s[:, 4 * k + 2] << 6)
                    | (s[:, 4 * k + 3] << 9) | (((dbits >> (4 * k)) & 15) << 12))
    return np.concatenate([(idx & 255).reshape(nb, 32).astype(np.uint8), qh.astype(np.uint8),
                           sc.astype('<u2').view(np.uint8).reshape(nb, 8)], axis=1)


def _nearest_kvalue(v):
    kv = _tables()['kvalues'].astype(F32)
    return np.argmin(np.abs(v[..., None] - kv), axis=-1)


def _quant_iq4(name, x):
    if name == 'IQ4_NL':
        xb = _blocks(x, 32)
        amax = np.abs(xb).max(axis=1, keepdims=True)
        d = _f16(amax / F32(127)).astype(F32)
        q = _nearest_kvalue(_safe_div(xb, d))
        qs = (q[:, :16] | (q[:, 16:] << 4)).astype(np.uint8)
        return np.concatenate([_f16_bytes(d), qs], axis=1)
    xb = _blocks(x, 256)
    nb = len(xb)
    xs = xb.reshape(nb, 8, 32)
    amax = np.abs(xs).max(axis=2)
    d = _f16((amax / F32(127)).max(axis=1, keepdims=True) / F32(31)).astype(F32)
    ls = np.clip(np.rint(_safe_div(amax / F32(127), d)), 0, 31).astype(np.int64) + 32
    dl = d * (ls - 32).astype(F32)
    q = _nearest_kvalue(_safe_div(xs, dl[:, :, None]))         # (nb, 8, 32)
    qs = (q[:, :, :16] | (q[:, :, 16:] << 4)).astype(np.uint8).reshape(nb, 128)
    sh = (((ls >> 4) & 3) << (2 * np.arange(8))).sum(axis=1)
    sl = ((ls[:, 0::2] & 15) | ((ls[:, 1::2] & 15) << 4)).astype(np.uint8)
    return np.concatenate([_f16_bytes(d), sh.astype('<u2').view(np.uint8).reshape(nb, 2), sl,
                           qs], axis=1)


def quantize_blocks(type_name, x):
    """float32 (rows, n) -> uint8 (n_blocks, block_bytes)"""
    if type_name.startswith('IQ1'):
        out = _quant_iq1_s(x) if type_name == 'IQ1_S' else _quant_iq1_m(x)
    elif type_name.startswith('IQ2'):
        out = _quant_iq2(type_name, x)
    elif type_name.startswith('IQ3'):
        out = _quant_iq3(type_name, x)
    else:
        out = _quant_iq4(type_name, x)
    assert out.shape[1] == BLOCK[type_name][1], (type_name, out.shape)
    return np.ascontiguousarray(out, dtype=np.uint8)
