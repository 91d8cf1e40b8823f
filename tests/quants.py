# quants.py: independent numpy quantisers and dequantisers of the GGUF block
# formats, written from ../shared/docs/engine-spec.md section 2.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# quantize(type_name, x) -> bytes      x: float32 (rows, n), n a multiple of the block size
# dequantize(type_name, data, n_elements) -> float32 array of n_elements
# BLOCK = {type_name: (block_size, block_bytes)}, TYPE_IDS = {type_name: GGUF id}
#
# The dequantisers evaluate each element in float32 with the same order of
# operations the spec's formulas suggest (scale products first: a = d*sc,
# then a*q, then minus dmin*m), so the C reference must match them exactly.
# The quantisers are simple (per-sub-block min/max), not llama.cpp's search.

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quants_iq  # noqa: E402

TYPE_IDS = {
    "F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q8_0": 8,
    "Q8_1": 9, "Q2_K": 10, "Q3_K": 11, "Q4_K": 12, "Q5_K": 13, "Q6_K": 14,
    "Q8_K": 15, "IQ2_XXS": 16, "IQ2_XS": 17, "IQ3_XXS": 18, "IQ1_S": 19,
    "IQ4_NL": 20, "IQ3_S": 21, "IQ2_S": 22, "IQ4_XS": 23, "I8": 24, "I16": 25,
    "I32": 26, "I64": 27, "F64": 28, "IQ1_M": 29, "BF16": 30, "TQ1_0": 34,
    "TQ2_0": 35, "MXFP4": 39,
}
TYPE_NAMES = {v: k for k, v in TYPE_IDS.items()}

BLOCK = {
    "F32": (1, 4), "F16": (1, 2), "BF16": (1, 2),
    "Q4_0": (32, 18), "Q4_1": (32, 20), "Q5_0": (32, 22), "Q5_1": (32, 24),
    "Q8_0": (32, 34),
    "Q2_K": (256, 84), "Q3_K": (256, 110), "Q4_K": (256, 144),
    "Q5_K": (256, 176), "Q6_K": (256, 210),
}
BLOCK.update(quants_iq.BLOCK)           # the IQ types live in quants_iq.py

# Types both quantize() and dequantize() handle.
SUPPORTED = tuple(BLOCK)

F32 = np.float32


def row_bytes(type_name, n):
    bs, bb = BLOCK[type_name]
    assert n % bs == 0, (type_name, n)
    return n // bs * bb


# ---- helpers ---------------------------------------------------------------

def _f16(v):
    """float32 array -> float16 array (round to nearest even)."""
    return np.asarray(v, dtype=F32).astype(np.float16)


def _f16_bytes(v):
    return _f16(v).reshape(-1, 1).view(np.uint8).reshape(-1, 2)


def _f16_load(b):
    """uint8 (nb, 2) -> float32 (nb, 1)"""
    return np.ascontiguousarray(b).view(np.float16).astype(F32).reshape(-1, 1)


def _safe_inv(d):
    d = np.asarray(d, dtype=F32)
    out = np.zeros_like(d)
    nz = d != 0
    out[nz] = F32(1) / d[nz]
    return out


def _round(v):
    return np.rint(v).astype(np.int32)


def _pack_nibbles(lo, hi):
    return (lo.astype(np.uint8) & 15) | ((hi.astype(np.uint8) & 15) << 4)


def _blocks(x, bs):
    x = np.asarray(x, dtype=F32)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    assert x.shape[1] % bs == 0, (x.shape, bs)
    return x.reshape(-1, bs)


def _pack_bits_le(bits):
    """bits (nb, 32) of 0/1 -> uint8 (nb, 4) little-endian u32"""
    w = (bits.astype(np.uint64) << np.arange(32, dtype=np.uint64)).sum(axis=1)
    return w.astype("<u4").reshape(-1, 1).view(np.uint8).reshape(-1, 4)


def _bf16_bits(x):
    u = np.asarray(x, dtype=F32).view(np.uint32).astype(np.uint64)
    nan = np.isnan(np.asarray(x, dtype=F32))
    r = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    r = np.where(nan, (u >> 16) | 0x40, r)
    return r.astype(np.uint16)


# ---- quantisers ------------------------------------------------------------

def _q_legacy_sym(xb, nmax):
    """Q4_0 (nmax 8) / Q5_0 (nmax 16): d = signed max / -nmax."""
    idx = np.argmax(np.abs(xb), axis=1)
    mx = xb[np.arange(len(xb)), idx]
    d = _f16(mx / F32(-nmax)).astype(F32).reshape(-1, 1)
    q = np.clip(_round(xb * _safe_inv(d)) + nmax, 0, 2 * nmax - 1)
    return d, q


def _q_legacy_asym(xb, nmax):
    mn = xb.min(axis=1, keepdims=True)
    mx = xb.max(axis=1, keepdims=True)
    d = _f16((mx - mn) / F32(nmax)).astype(F32)
    m = _f16(mn).astype(F32)
    q = np.clip(_round((xb - m) * _safe_inv(d)), 0, nmax)
    return d, m, q


def _quant_legacy(name, x):
    xb = _blocks(x, 32)
    nb = len(xb)
    if name == "Q8_0":
        amax = np.abs(xb).max(axis=1, keepdims=True)
        d = _f16(amax / F32(127)).astype(F32)
        q = np.clip(_round(xb * _safe_inv(d)), -127, 127).astype(np.int8)
        return np.concatenate([_f16_bytes(d), q.view(np.uint8)], axis=1)
    if name in ("Q4_0", "Q5_0"):
        d, q = _q_legacy_sym(xb, 8 if name == "Q4_0" else 16)
        head = [_f16_bytes(d)]
    else:
        d, m, q = _q_legacy_asym(xb, 15 if name == "Q4_1" else 31)
        head = [_f16_bytes(d), _f16_bytes(m)]
    qs = _pack_nibbles(q[:, :16], q[:, 16:])
    if name in ("Q5_0", "Q5_1"):
        head.append(_pack_bits_le((q >> 4) & 1))
    assert qs.shape == (nb, 16)
    return np.concatenate(head + [qs], axis=1)


def _subblock_min_max(xs, nmax):
    """xs (nb, nsub, len) -> (scale >= 0, negmin >= 0), x ~ scale*q - negmin"""
    mn = np.minimum(xs.min(axis=2), 0)
    mx = xs.max(axis=2)
    return (mx - mn) / F32(nmax), -mn


def _super_scales(vals, nbits_max):
    """vals (nb, nsub) >= 0 -> (d (nb,1) f16-rounded, ints (nb, nsub))"""
    d = _f16(vals.max(axis=1, keepdims=True) / F32(nbits_max)).astype(F32)
    ints = np.clip(_round(vals * _safe_inv(d)), 0, nbits_max)
    return d, ints


def _fit_q(xs, a, m, qmax):
    """q = round((x + m) / a) per sub-block; a, m (nb, nsub)"""
    return np.clip(_round((xs + m[:, :, None]) * _safe_inv(a)[:, :, None]), 0, qmax)


def _pack_k4_scales(sc, m):
    """sc, m (nb, 8) of 0..63 -> (nb, 12) get_scale_min_k4 packing"""
    sc = sc.astype(np.uint8)
    m = m.astype(np.uint8)
    out = np.zeros((len(sc), 12), dtype=np.uint8)
    out[:, 0:4] = (sc[:, 0:4] & 63) | ((sc[:, 4:8] >> 4) << 6)
    out[:, 4:8] = (m[:, 0:4] & 63) | ((m[:, 4:8] >> 4) << 6)
    out[:, 8:12] = (sc[:, 4:8] & 15) | ((m[:, 4:8] & 15) << 4)
    return out


def _quant_q2_k(x):
    xs = _blocks(x, 256).reshape(-1, 16, 16)
    scale, negmin = _subblock_min_max(xs, 3)
    d, sc = _super_scales(scale, 15)
    dmin, mm = _super_scales(negmin, 15)
    a = d * sc.astype(F32)
    q = _fit_q(xs, a, dmin * mm.astype(F32), 3).reshape(-1, 256)
    qs = np.zeros((len(q), 64), dtype=np.uint8)
    for i in range(256):
        h, j, l = i // 128, (i % 128) // 32, i % 32
        qs[:, 32 * h + l] |= (q[:, i] << (2 * j)).astype(np.uint8)
    scales = (sc.astype(np.uint8) & 15) | (mm.astype(np.uint8) << 4)
    return np.concatenate([scales, qs, _f16_bytes(d), _f16_bytes(dmin)], axis=1)


def _subblock_index(h, j, l):
    return 8 * h + 2 * j + (1 if l >= 16 else 0)


def _quant_q3_k(x):
    xb = _blocks(x, 256)
    xs = xb.reshape(-1, 16, 16)
    amax = np.abs(xs).max(axis=2)
    d, sc = _super_scales(amax / F32(4), 31)
    a = d * sc.astype(F32)
    q = np.clip(_round(xs * _safe_inv(a)[:, :, None]), -4, 3).reshape(-1, 256)
    qu = q + 4                                    # 0..7: low 2 bits + high bit
    nb = len(xb)
    hmask = np.zeros((nb, 32), dtype=np.uint8)
    qs = np.zeros((nb, 64), dtype=np.uint8)
    for i in range(256):
        h, j, l = i // 128, (i % 128) // 32, i % 32
        qs[:, 32 * h + l] |= ((qu[:, i] & 3) << (2 * j)).astype(np.uint8)
        hmask[:, l] |= (((qu[:, i] >> 2) & 1) << (4 * h + j)).astype(np.uint8)
    s6 = (sc + 32).astype(np.uint8)               # stored sc - 32 = signed scale
    scales = np.zeros((nb, 12), dtype=np.uint8)
    for s in range(16):
        lo = s6[:, s] & 15
        if s < 8:
            scales[:, s] |= lo
        else:
            scales[:, s - 8] |= lo << 4
        scales[:, 8 + (s & 3)] |= ((s6[:, s] >> 4) & 3) << (2 * (s >> 2))
    return np.concatenate([hmask, qs, scales, _f16_bytes(d)], axis=1)


def _quant_q45_k(x, five):
    xb = _blocks(x, 256)
    xs = xb.reshape(-1, 8, 32)
    qmax = 31 if five else 15
    scale, negmin = _subblock_min_max(xs, qmax)
    d, sc = _super_scales(scale, 63)
    dmin, mm = _super_scales(negmin, 63)
    a = d * sc.astype(F32)
    q = _fit_q(xs, a, dmin * mm.astype(F32), qmax)  # (nb, 8, 32)
    nb = len(xb)
    qs = np.zeros((nb, 128), dtype=np.uint8)
    for g in range(4):
        qs[:, 32 * g:32 * g + 32] = _pack_nibbles(q[:, 2 * g], q[:, 2 * g + 1])
    parts = [_f16_bytes(d), _f16_bytes(dmin), _pack_k4_scales(sc, mm)]
    if five:
        qh = np.zeros((nb, 32), dtype=np.uint8)
        for s in range(8):
            qh |= (((q[:, s] >> 4) & 1) << s).astype(np.uint8)
        parts.append(qh)
    parts.append(qs)
    return np.concatenate(parts, axis=1)


def _quant_q6_k(x):
    xb = _blocks(x, 256)
    xs = xb.reshape(-1, 16, 16)
    idx = np.argmax(np.abs(xs), axis=2)
    smax = np.take_along_axis(xs, idx[:, :, None], axis=2)[:, :, 0]
    s = smax / F32(-32)                            # signed sub-block scale
    d = _f16(np.abs(s).max(axis=1, keepdims=True) / F32(127)).astype(F32)
    sc = np.clip(_round(s * _safe_inv(d)), -128, 127)
    a = d * sc.astype(F32)
    q = np.clip(_round(xs * _safe_inv(a)[:, :, None]), -32, 31).reshape(-1, 256) + 32
    nb = len(xb)
    ql = np.zeros((nb, 128), dtype=np.uint8)
    qh = np.zeros((nb, 64), dtype=np.uint8)
    for i in range(256):
        h, k, l = i // 128, (i % 128) // 32, i % 32
        lo = (q[:, i] & 15).astype(np.uint8)
        ql[:, 64 * h + l + 32 * (k & 1)] |= lo if k < 2 else (lo << 4)
        qh[:, 32 * h + l] |= ((q[:, i] >> 4) << (2 * k)).astype(np.uint8)
    return np.concatenate([ql, qh, sc.astype(np.int8).view(np.uint8), _f16_bytes(d)], axis=1)


def quantize(type_name, x):
    """x: float32 (rows, n) or (n,) -> bytes of rows * row_bytes(type_name, n)"""
    x = np.asarray(x, dtype=F32)
    if type_name == "F32":
        return x.astype("<f4").tobytes()
    if type_name == "F16":
        return x.astype("<f2").tobytes()
    if type_name == "BF16":
        return _bf16_bits(x).astype("<u2").tobytes()
    if type_name in ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"):
        out = _quant_legacy(type_name, x)
    elif type_name == "Q2_K":
        out = _quant_q2_k(x)
    elif type_name == "Q3_K":
        out = _quant_q3_k(x)
    elif type_name == "Q4_K":
        out = _quant_q45_k(x, False)
    elif type_name == "Q5_K":
        out = _quant_q45_k(x, True)
    elif type_name == "Q6_K":
        out = _quant_q6_k(x)
    elif type_name in quants_iq.BLOCK:
        out = quants_iq.quantize_blocks(type_name, x)
    else:
        raise ValueError("quantize: unsupported type %s" % type_name)
    assert out.shape[1] == BLOCK[type_name][1], (type_name, out.shape)
    return np.ascontiguousarray(out, dtype=np.uint8).tobytes()


# ---- dequantisers ----------------------------------------------------------

def _deq_k4_scale_min(scales):
    """scales (nb, 12) -> sc, m (nb, 8) int32 (engine-spec get_scale_min_k4)"""
    s = scales.astype(np.int32)
    sc = np.zeros((len(s), 8), dtype=np.int32)
    m = np.zeros((len(s), 8), dtype=np.int32)
    for j in range(4):
        sc[:, j] = s[:, j] & 63
        m[:, j] = s[:, j + 4] & 63
    for j in range(4, 8):
        sc[:, j] = (s[:, j + 4] & 15) | ((s[:, j - 4] >> 6) << 4)
        m[:, j] = (s[:, j + 4] >> 4) | ((s[:, j] >> 6) << 4)
    return sc, m


def _deq_legacy(name, b):
    if name == "Q8_0":
        d = _f16_load(b[:, 0:2])
        return d * b[:, 2:34].view(np.int8).astype(F32)
    off = 2 if name in ("Q4_0", "Q5_0") else 4
    d = _f16_load(b[:, 0:2])
    m = _f16_load(b[:, 2:4]) if off == 4 else None
    if name in ("Q5_0", "Q5_1"):
        qh = b[:, off:off + 4].copy().view("<u4").astype(np.int64)  # (nb, 1)
        hbits = (qh >> np.arange(32)) & 1
        off += 4
    else:
        hbits = 0
    qs = b[:, off:off + 16].astype(np.int32)
    q = np.concatenate([qs & 15, qs >> 4], axis=1) + 16 * hbits
    if name == "Q4_0":
        return d * (q - 8).astype(F32)
    if name == "Q5_0":
        return d * (q - 16).astype(F32)
    return d * q.astype(F32) + m


def _deq_q2_k(b):
    scales = b[:, 0:16].astype(np.int32)
    qs = b[:, 16:80].astype(np.int32)
    d = _f16_load(b[:, 80:82])
    dmin = _f16_load(b[:, 82:84])
    y = np.empty((len(b), 256), dtype=F32)
    for i in range(256):
        h, j, l = i // 128, (i % 128) // 32, i % 32
        s = _subblock_index(h, j, l)
        q = (qs[:, 32 * h + l] >> (2 * j)) & 3
        a = d[:, 0] * (scales[:, s] & 15).astype(F32)
        mm = dmin[:, 0] * (scales[:, s] >> 4).astype(F32)
        y[:, i] = a * q.astype(F32) - mm
    return y


def _deq_q3_k(b):
    hmask = b[:, 0:32].astype(np.int32)
    qs = b[:, 32:96].astype(np.int32)
    scales = b[:, 96:108].astype(np.int32)
    d = _f16_load(b[:, 108:110])[:, 0]
    y = np.empty((len(b), 256), dtype=F32)
    for i in range(256):
        h, j, l = i // 128, (i % 128) // 32, i % 32
        s = _subblock_index(h, j, l)
        lo = scales[:, s] & 15 if s < 8 else scales[:, s - 8] >> 4
        hi = (scales[:, 8 + (s & 3)] >> (2 * (s >> 2))) & 3
        sc = lo | (hi << 4)
        q2 = (qs[:, 32 * h + l] >> (2 * j)) & 3
        hb = (hmask[:, l] >> (4 * h + j)) & 1
        q = q2 - np.where(hb != 0, 0, 4)
        a = d * (sc - 32).astype(F32)
        y[:, i] = a * q.astype(F32)
    return y


def _deq_q45_k(b, five):
    d = _f16_load(b[:, 0:2])
    dmin = _f16_load(b[:, 2:4])
    sc, m = _deq_k4_scale_min(b[:, 4:16])
    if five:
        qh = b[:, 16:48].astype(np.int32)
        qs = b[:, 48:176].astype(np.int32)
    else:
        qs = b[:, 16:144].astype(np.int32)
    y = np.empty((len(b), 256), dtype=F32)
    for s in range(8):
        byte = qs[:, 32 * (s // 2):32 * (s // 2) + 32]
        q = (byte >> 4) if s & 1 else (byte & 15)
        if five:
            q = q | (((qh >> s) & 1) << 4)
        a = d * sc[:, s:s + 1].astype(F32)
        mm = dmin * m[:, s:s + 1].astype(F32)
        y[:, 32 * s:32 * s + 32] = a * q.astype(F32) - mm
    return y


def _deq_q6_k(b):
    ql = b[:, 0:128].astype(np.int32)
    qh = b[:, 128:192].astype(np.int32)
    scales = b[:, 192:208].view(np.int8).astype(np.int32)
    d = _f16_load(b[:, 208:210])[:, 0]
    y = np.empty((len(b), 256), dtype=F32)
    for i in range(256):
        h, k, l = i // 128, (i % 128) // 32, i % 32
        lb = ql[:, 64 * h + l + 32 * (k & 1)]
        lo4 = lb & 15 if k < 2 else lb >> 4
        hi = (qh[:, 32 * h + l] >> (2 * k)) & 3
        q = (lo4 | (hi << 4)) - 32
        a = d * scales[:, 8 * h + l // 16 + 2 * k].astype(F32)
        y[:, i] = a * q.astype(F32)
    return y


def dequantize(type_name, data, n_elements):
    """bytes -> float32 array of n_elements (a multiple of the block size)"""
    bs, bb = BLOCK[type_name]
    assert n_elements % bs == 0, (type_name, n_elements)
    nbytes = n_elements // bs * bb
    raw = np.frombuffer(bytes(data[:nbytes]), dtype=np.uint8)
    assert len(raw) == nbytes, (type_name, len(raw), nbytes)
    if type_name == "F32":
        return raw.view("<f4").astype(F32)
    if type_name == "F16":
        return raw.view("<f2").astype(F32)
    if type_name == "BF16":
        return (raw.view("<u2").astype(np.uint32) << 16).view(F32)
    b = raw.reshape(-1, bb)
    if type_name in ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"):
        y = _deq_legacy(type_name, b)
    elif type_name == "Q2_K":
        y = _deq_q2_k(b)
    elif type_name == "Q3_K":
        y = _deq_q3_k(b)
    elif type_name == "Q4_K":
        y = _deq_q45_k(b, False)
    elif type_name == "Q5_K":
        y = _deq_q45_k(b, True)
    elif type_name == "Q6_K":
        y = _deq_q6_k(b)
    elif type_name in quants_iq.BLOCK:
        y = quants_iq.dequantize_blocks(type_name, b)
    else:
        raise ValueError("dequantize: unsupported type %s" % type_name)
    return np.ascontiguousarray(y, dtype=F32).reshape(-1)


if __name__ == "__main__":
    rng = np.random.default_rng(1)
    xx = rng.standard_normal((3, 512)).astype(F32)
    for t in SUPPORTED:
        yy = dequantize(t, quantize(t, xx), xx.size).reshape(xx.shape)
        err = np.sqrt(np.mean((yy - xx) ** 2)) / np.sqrt(np.mean(xx ** 2))
        print("%-5s rel rms err %.4f" % (t, err))
