#!/usr/bin/python3
# test_vulkan_features.py: whole models on the GPU choice of matmul kernels
# (subgroup reductions, integer dot products; PONDER_VK_GPU_KERNELS=1 forces
# it onto lavapipe) against the float64 numpy reference (tests/reference.py)
# with the inputs of the integer-dot products quantised as the device does.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: test_vulkan_features.py [--keep DIR]
# Env:   PONDER_BUILD_ROOT (the CLI is $PONDER_BUILD_ROOT/cli/ponder-cli)
#
# The device quantises the input of every Q8_0, Q4_0, Q5_0, Q4_K, Q5_K and
# Q6_K product to bytes (quantize_q8.comp): blocks of 32, d = max|x| / 127 in
# f32, q = round(x / d) to nearest, ties to even. The reference does the same
# to those products' inputs (round_q8 below, written from that definition)
# and leaves the others in float64. What remains is f32 arithmetic and, now
# and then, an activation that lands on the other side of a rounding tie
# because the device's x differs from the reference's in the last bits:
# |vulkan - ref_q8| <= 1e-4 * max|ref| (measured: ~2e-7), with the same argmax at every
# position. To show that the integer path ran at all, the device must also
# be at least 3x closer to ref_q8 than to the unquantised reference (on these
# models the quantisation moves the logits by ~1e-2 of max|ref|, the f32
# noise is ~1e-6). Prefill (batched products) and decode (one token per
# step) are both checked.

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gen_model  # noqa: E402
import reference  # noqa: E402
import test_vulkan_forward as tvf  # noqa: E402

N_TOKENS = 12
REL_TOL = 1e-4
Q8_TYPES = {'Q8_0', 'Q4_0', 'Q5_0', 'Q4_K', 'Q5_K', 'Q6_K'}

# (arch, preset, weight type): Q4_K_M's Q4_K/Q6_K (rows of 256), its
# Q5_0/Q8_0 fallbacks (rows of 64), Q5_K, Q4_0, Q3_K_M (Q3_K's subgroup
# kernel in float next to the integer-dot Q4_K, Q5_K and Q6_K), and F16
# (16-bit storage).
CASES = [
    ('qwen2', 'tiny256', 'Q4_K_M'),
    ('qwen2', 'tiny', 'Q4_K_M'),
    ('qwen2', 'tiny256', 'Q5_K'),
    ('llama', 'tiny', 'Q4_0'),
    ('llama', 'tiny256', 'Q3_K_M'),
    ('qwen2', 'tiny', 'F16'),
]


def round_q8(x):
    """x (T, n) as the device's integer-dot products see it."""
    T, n = x.shape
    blk = x.reshape(T, n // 32, 32)
    d = (np.abs(blk).max(axis=-1, keepdims=True).astype(np.float32) / np.float32(127.0))
    d = d.astype(np.float64)
    q = np.round(np.divide(blk, d, out=np.zeros_like(blk), where=d > 0))
    return (np.clip(q, -127, 127) * d).reshape(T, n)


def logits(model, tokens, step):
    env = dict(os.environ, PONDER_VK_GPU_KERNELS='1', PONDER_VK_INT8_DOT='1')
    # an F32 cache: the reference keeps its keys and values exact
    p = subprocess.run([tvf.cli_path(), 'logits', '-m', model, '--tokens',
                        ','.join(map(str, tokens)), '--threads', '2', '--backend', 'vulkan',
                        '--kv-type', 'f32']
                       + (['--step'] if step else []),
                       capture_output=True, timeout=300, env=env)
    err = p.stderr.decode(errors='replace').strip()
    if p.returncode != 0:
        raise RuntimeError('ponder-cli logits failed (%d): %s' % (p.returncode, err))
    if tvf.FALLBACK_NOTE in err:
        raise RuntimeError('the Vulkan backend was not used: %s' % err)
    rows = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    return np.array(rows, dtype=np.float64)


def check_case(tmp, arch, preset, wtype, seed):
    path = os.path.join(tmp, '%s-%s-%s.gguf' % (arch, preset, wtype))
    gen_model.generate(path, arch, preset, wtype, seed=seed)
    cfg, W, types = reference.load_model(path)
    rng = np.random.default_rng(seed + 300)
    tokens = [int(t) for t in rng.integers(0, W['token_embd.weight'].shape[0], N_TOKENS)]
    ref = reference.forward(cfg, W, tokens, types)
    saved = reference._round_activations
    reference._round_activations = lambda x, t: round_q8(x) if t in Q8_TYPES else x
    try:
        ref_q8 = reference.forward(cfg, W, tokens, types, simulate_activations=True)
    finally:
        reference._round_activations = saved
    scale = np.abs(ref).max()
    quantised = wtype != 'F16'
    fails = []
    worst = 0.0
    for mode in ('prefill', 'decode'):
        try:
            vk = logits(path, tokens, mode == 'decode')
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
            return [str(e)], 'error'
        if vk.shape != ref.shape or not np.all(np.isfinite(vk)):
            fails.append('%s: logits of shape %s, expected %s' % (mode, vk.shape, ref.shape))
            continue
        err = np.abs(vk - ref_q8).max()
        worst = max(worst, err)
        if err > REL_TOL * scale:
            fails.append('%s: max |vulkan - ref_q8| = %.3g > %.3g'
                         % (mode, err, REL_TOL * scale))
        same = (vk.argmax(axis=1) == ref_q8.argmax(axis=1)).mean()
        if same < 1.0:
            fails.append('%s: same argmax at %.0f%% of positions' % (mode, 100 * same))
        if quantised and not 3 * err < np.abs(vk - ref).max():
            fails.append('%s: no closer to ref_q8 (%.3g) than to ref (%.3g): were the '
                         'integer-dot kernels used?' % (mode, err, np.abs(vk - ref).max()))
    summary = 'max |vulkan - ref_q8| %.3g (%.1e of max|logit|), |ref_q8 - ref| %.3g' % (
        worst, worst / scale, np.abs(ref_q8 - ref).max())
    return fails, summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--keep')
    args = ap.parse_args()
    tmp = args.keep or tempfile.mkdtemp(prefix='ponder-vkf-')
    os.makedirs(tmp, exist_ok=True)
    n_fail = 0
    try:
        for i, (arch, preset, wtype) in enumerate(CASES):
            fails, summary = check_case(tmp, arch, preset, wtype, seed=70 + i)
            print('%s %-22s %s' % ('FAIL' if fails else 'ok  ',
                                   '%s/%s/%s' % (arch, preset, wtype), summary))
            for f in fails:
                print('     ' + f)
            n_fail += bool(fails)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print('%d failed' % n_fail)
    return 1 if n_fail else 0


if __name__ == '__main__':
    sys.exit(main())
