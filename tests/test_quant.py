#!/usr/bin/python3
# test_quant.py: engine/quant*.c against the independent numpy model in
# quants.py (written from engine-spec.md section 2).
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: test_quant.py path/to/quant-tool
#
# Checks:
#  * the type table (ids, names, block sizes, removed ids) against spec 2.1;
#  * ponder_fp32_to_fp16 against numpy's float16 rounding, bit for bit;
#  * ponder_dequantize_row against quants.dequantize, bit for bit, on blocks
#    quantised by quants.quantize and on random bytes (all bit patterns);
#  * ponder_matmul_rows, every kernel variant, against numpy:
#      (a) "model" check: numpy re-creates the activation quantisation of the
#          kernel's contract (Q8 blocks of 32 for legacy weights, of 256 for
#          K-quants: d = amax / 127 in f32, q = round-half-even(x * (1/d)))
#          and computes sum_i W[r][i] * d * q[i] in float64; the kernel may
#          differ only by float32 rounding: |err| <= 1e-5 * sum|terms| + 1e-30.
#      (b) "bound" check: against the exact W @ x in float64, the error from
#          quantising activations is at most half a step per element:
#          |err| <= sum_blocks (amax_b / 127) / 2 * sum_{i in b} |W[r][i]|
#          (plus the float slack of (a)). F32/F16/BF16 weights use float
#          activations: |err| <= 1e-5 * sum|W x| only.
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quants  # noqa: E402
import quants_iq  # noqa: E402

TOOL = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="test-quant-")
FAILURES = []
N_CHECKS = 0

# engine-spec.md 2.1, typed in from the table.
SPEC_TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
    26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
}
IQ_TYPES = {"IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M", "IQ4_NL",
            "IQ4_XS"}
COMPUTABLE = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
              "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"} | IQ_TYPES
# Weights in 32-element blocks, multiplied with activations in Q8 blocks of 32.
LEGACY = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL"}
FLOATS = {"F32", "F16", "BF16"}
# types with an interleaved (8-row) layout and kernel (quant-interleave.c)
INTERLEAVED = {"Q5_0", "Q8_0", "Q4_K"}


def check(cond, what):
    global N_CHECKS
    N_CHECKS += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def tool(*args):
    r = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def path(name):
    return os.path.join(TMP, name)


def test_types():
    rc, out, err = tool("types")
    check(rc == 0, "types: rc %d %s" % (rc, err))
    seen = {}
    for line in out.splitlines():
        f = line.split()
        seen[int(f[0])] = f[1:]
    for tid in range(64):
        got = seen.get(tid)
        if tid in SPEC_TYPES:
            name, bs, bb = SPEC_TYPES[tid]
            want = [name, str(bs), str(bb), "1" if name in COMPUTABLE else "0",
                    str(1024 // bs * bb)]
            check(got == want, "types: id %d got %s want %s" % (tid, got, want))
            check(quants.TYPE_IDS[name] == tid, "quants.TYPE_IDS[%s]" % name)
        else:
            check(got is not None and got[0] == "-" and str(tid) in " ".join(got),
                  "types: id %d should be unknown and named by number, got %s" % (tid, got))


def test_fp16():
    rng = np.random.default_rng(7)
    vals = [0.0, -0.0, 1.0, -2.5, 65504.0, 65519.99, 65520.0, 1e6, -1e6, np.inf, -np.inf,
            5.96e-8, 2.98e-8, 2.99e-8, 1e-9, 6.1e-5, 6.097e-5, 0.1, 1.0009765625,
            1.00048828125, 1.00146484375, 2049.0, 2051.0]
    x = np.concatenate([np.array(vals, dtype=np.float32),
                        rng.standard_normal(20000).astype(np.float32) * 10.0 ** rng.integers(
                            -9, 6, 20000),
                        rng.integers(0, 2 ** 32, 20000, dtype=np.uint64).astype(np.uint32).view(
                            np.float32)])
    x = x[~np.isnan(x)]
    x.astype("<f4").tofile(path("fp16.in"))
    rc, _, err = tool("fp16", path("fp16.in"), path("fp16.out"))
    check(rc == 0, "fp16: rc %d %s" % (rc, err))
    got = np.fromfile(path("fp16.out"), dtype="<u2")
    want = x.astype(np.float16).view(np.uint16)
    bad = np.nonzero(got != want)[0]
    check(len(bad) == 0, "fp16: %d mismatches, first %s" % (
        len(bad), [(float(x[i]), hex(got[i]), hex(want[i])) for i in bad[:5]]))
    nan = np.array([np.nan], dtype=np.float32)
    nan.tofile(path("fp16nan.in"))
    tool("fp16", path("fp16nan.in"), path("fp16nan.out"))
    h = np.fromfile(path("fp16nan.out"), dtype="<u2")[0]
    check((h & 0x7C00) == 0x7C00 and (h & 0x3FF) != 0, "fp16: NaN -> %#x" % h)


def test_kv_f16():
    """The KV cache's F32 -> F16 store, both paths, against numpy's float16
    (round to nearest even) bit for bit: ties, subnormal halves and their
    ties, overflow to infinity, and random bit patterns. NaNs follow x86's
    vcvtps2ph (Intel SDM): sign, all-ones exponent, the quiet bit set and
    the top 10 payload bits, written out below (numpy instead keeps a
    signalling NaN signalling)."""
    rng = np.random.default_rng(11)
    e = 2.0 ** -11
    ties = [1 + e, 1 + 3 * e, -(1 + 5 * e), 2048 + 1, 2048 + 3, 65504 + 8, 65504 + 16,
            2.0 ** -25, 3 * 2.0 ** -25, 5 * 2.0 ** -25, 2.0 ** -14 - 2.0 ** -25,
            2.0 ** -26, 2.0 ** -24, 1023.5 * 2.0 ** -24]
    vals = [0.0, -0.0, 1.0, 65504.0, 65519.99, 65520.0, 1e6, -1e6, np.inf, -np.inf, 5.96e-8,
            2.98e-8, 1e-9, 6.1e-5, 6.097e-5, 0.1, 1e-45, -1e-40, 3.4e38]
    nan_bits = [0x7fc00000, 0xffc00000, 0x7fc12345, 0x7fffffff, 0x7f800001, 0xff812345,
                0x7f802000, 0x7fa00000]
    x = np.concatenate([np.array(ties + vals, dtype=np.float32),
                        np.array(nan_bits, dtype=np.uint32).view(np.float32),
                        (rng.standard_normal(20000) * 10.0 ** rng.integers(
                            -9, 6, 20000)).astype(np.float32),
                        rng.integers(0, 2 ** 32, 20001, dtype=np.uint64).astype(np.uint32).view(
                            np.float32)])
    # float32 pieces only: a float64 round trip would quiet the signalling NaNs
    check(x.dtype == np.float32 and x[len(ties) + len(vals)].view(np.uint32) == nan_bits[0],
          "kv-f16: inputs are not the float32 bits meant")
    check(all(np.float32(t) == t for t in ties), "kv-f16: a tie is not exact in float32")
    want = x.astype(np.float16).view(np.uint16)
    bits = x.view(np.uint32)
    nan = (((bits >> 16) & 0x8000) | 0x7e00 | ((bits & 0x7fffff) >> 13)).astype(np.uint16)
    want = np.where(np.isnan(x), nan, want)
    x.astype("<f4").tofile(path("kvf16.in"))
    for variant in ("c", "f16c"):
        rc, _, err = tool("kv-f16", variant, path("kvf16.in"), path("kvf16.out"))
        if rc == 77:
            print("# skip kv-f16 %s: not available on this CPU" % variant)
            continue
        check(rc == 0, "kv-f16 %s: rc %d %s" % (variant, rc, err))
        got = np.fromfile(path("kvf16.out"), dtype="<u2")
        bad = np.nonzero(got != want)[0] if got.shape == want.shape else np.arange(len(x))
        check(len(bad) == 0, "kv-f16 %s: %d mismatches, first %s" % (
            variant, len(bad), [(hex(x[i:i + 1].view(np.uint32)[0]), hex(got[i]), hex(want[i]))
                                for i in bad[:5]]))


def same_bits(a, b):
    """float32 arrays equal bit for bit (any NaN matches any NaN)"""
    an, bn = np.isnan(a), np.isnan(b)
    return np.array_equal(an, bn) and np.array_equal(a[~an].view(np.uint32),
                                                     b[~bn].view(np.uint32))


def c_dequant(t, data, n):
    open(path("deq.in"), "wb").write(data)
    rc, _, err = tool("dequant", t, path("deq.in"), n, path("deq.out"))
    check(rc == 0, "dequant %s: rc %d %s" % (t, rc, err))
    return np.fromfile(path("deq.out"), dtype="<f4")


# Rough quality of quants.quantize (relative rms error on Gaussian data);
# guards the generator the tiny-model tests depend on.
MAX_REL_RMS = {"F32": 0, "F16": 1e-3, "BF16": 5e-3, "Q8_0": 0.01, "Q6_K": 0.03,
               "Q5_0": 0.06, "Q5_1": 0.06, "Q5_K": 0.06, "Q4_0": 0.12, "Q4_1": 0.12,
               "Q4_K": 0.12, "Q3_K": 0.25, "Q2_K": 0.40,
               # greedy grid fits (quants_iq.py), not llama.cpp's search
               "IQ4_NL": 0.12, "IQ4_XS": 0.12, "IQ3_S": 0.2, "IQ3_XXS": 0.25,
               "IQ2_S": 0.35, "IQ2_XS": 0.4, "IQ2_XXS": 0.45, "IQ1_M": 0.6, "IQ1_S": 0.7}


def test_dequant():
    rng = np.random.default_rng(11)
    for t in quants.SUPPORTED:
        bs, bb = quants.BLOCK[t]
        n = 1024
        x = (rng.standard_normal((4, n)) * np.array([[1e-3], [0.1], [1.0], [30.0]])
             ).astype(np.float32)
        x[1, :300] = 0.0                          # all-zero blocks
        x[2, 256:512] += 3.0                      # offset block (mins)
        data = quants.quantize(t, x)
        check(len(data) == 4 * quants.row_bytes(t, n), "quantize %s: size" % t)
        want = quants.dequantize(t, data, x.size)
        got = c_dequant(t, data, x.size)
        check(same_bits(got, want), "dequant %s: quantised data differs from numpy, max %g" % (
            t, np.max(np.abs(got - want)) if got.shape == want.shape else -1))
        err = np.sqrt(np.mean((want.reshape(x.shape) - x) ** 2, axis=1)) / (
            np.sqrt(np.mean(x ** 2, axis=1)) + 1e-30)
        check(np.all(err <= MAX_REL_RMS[t] + 1e-7), "quants.py %s: rel rms err %s" % (t, err))
        # Random bytes: every bit pattern of quants, scales and mins.
        nb = 64 if bs > 1 else 4096
        # (NaN/inf scales included: same_bits matches NaN with NaN.)
        raw = rng.integers(0, 256, nb * bb, dtype=np.uint8).tobytes()
        if t in IQ_TYPES:
            # plus every index, sign and delta field under finite scales
            raw += quants_iq.random_blocks(t, rng, 4 * nb).tobytes()
            nb *= 5
        want = quants.dequantize(t, raw, nb * bs)
        got = c_dequant(t, raw, nb * bs)
        check(same_bits(got, want), "dequant %s: random bytes differ from numpy" % t)


def act_model(t, x):
    """numpy model of the kernel's activation quantisation: x (tok, n) ->
    (xq float64 (tok, n) = d * q, step float64 (tok, n) = d per element)"""
    if t in FLOATS:
        return x.astype(np.float64), np.zeros(x.shape)
    bs = 32 if t in LEGACY else 256
    xb = x.reshape(x.shape[0], -1, bs)
    d = (np.abs(xb).max(axis=2, keepdims=True) / np.float32(127)).astype(np.float32)
    inv = np.where(d != 0, np.float32(1) / np.where(d != 0, d, 1), 0).astype(np.float32)
    q = np.rint(xb * inv)
    xq = (d.astype(np.float64) * q).reshape(x.shape)
    step = np.broadcast_to(d.astype(np.float64), xb.shape).reshape(x.shape)
    return xq, step


def run_matmul(t, variant, wdata, n, rows, x, chunk):
    x.astype("<f4").tofile(path("mm.x"))
    open(path("mm.w"), "wb").write(wdata)
    args = ["matmul", t, variant, path("mm.w"), n, rows, path("mm.x"), x.shape[0],
            path("mm.y")]
    if chunk:
        args.append(chunk)
    rc, out, err = tool(*args)
    if rc == 77:
        return None, out
    check(rc == 0, "matmul %s %s: rc %d %s" % (t, variant, rc, err))
    return np.fromfile(path("mm.y"), dtype="<f4").reshape(x.shape[0], rows), out.strip()


def test_matmul():
    rng = np.random.default_rng(5)
    for t in quants.SUPPORTED:
        bs = quants.BLOCK[t][0]
        # one token with an odd block count: the decode sweeps take blocks in pairs
        shapes = [(37, 512, 1, 0), (19, 768, 5, 7), (8, 256, 4, 3), (5, 1024, 9, 0),
                  (9, 768, 1, 4)]
        if t in LEGACY:
            shapes += [(13, 96, 3, 4), (7, 96, 1, 0)]
        if t in INTERLEAVED:
            # whole 8-row groups; chunks that split groups; 1 and 2 tiles of tokens
            shapes += [(24, 512, 1, 0), (16, 96, 3, 5), (32, 768, 6, 0), (8, 96, 1, 3),
                       (40, 896, 1, 16), (16, 512, 6, 5)]
        if t in FLOATS:
            shapes.append((11, 100, 2, 5))
        for rows, n, ntok, chunk in shapes:
            if n % bs:
                continue
            w = rng.standard_normal((rows, n)).astype(np.float32)
            w[:, : n // 3] *= 0.05                # uneven block scales
            x = (rng.standard_normal((ntok, n)) * 2.0).astype(np.float32)
            x[:, 40:50] += 5.0
            wdata = quants.quantize(t, w)
            wd = quants.dequantize(t, wdata, w.size).reshape(rows, n).astype(np.float64)
            xq, step = act_model(t, x)
            model = xq @ wd.T                              # (ntok, rows)
            slack = 1e-5 * (np.abs(xq) @ np.abs(wd).T) + 1e-30
            exact = x.astype(np.float64) @ wd.T
            bound = 0.5 * 1.0001 * (step @ np.abs(wd).T) + slack + 1e-5 * (
                np.abs(x.astype(np.float64)) @ np.abs(wd).T)
            variants = ["generic", "avx2", "avx512"]
            if t in INTERLEAVED and rows % 8 == 0:
                variants += ["avx512-x8", "avxvnni-x8"]
            for variant in variants:
                y, name = run_matmul(t, variant, wdata, n, rows, x, chunk)
                what = "matmul %s %s rows %d n %d tokens %d chunk %d" % (
                    t, variant, rows, n, ntok, chunk)
                if y is None:
                    print("# skip %s: variant not available on this CPU" % what)
                    continue
                check(name == variant, "%s: kernel reports variant %s" % (what, name))
                e_model = np.abs(y - model)
                check(np.all(e_model <= slack), "%s: vs activation model, worst %g > %g" % (
                    what, e_model.max(), slack.flat[np.argmax(e_model - slack)]))
                e_exact = np.abs(y - exact)
                check(np.all(e_exact <= bound), "%s: vs exact, worst excess %g" % (
                    what, (e_exact - bound).max()))


def main():
    np.seterr(all="ignore")                       # NaN scales in random blocks are intended
    test_types()
    test_fp16()
    test_kv_f16()
    test_dequant()
    test_matmul()
    print("1..1")
    if FAILURES:
        print("not ok 1 - %d of %d checks failed" % (len(FAILURES), N_CHECKS))
        return 1
    print("ok 1 - %d checks" % N_CHECKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
