#!/usr/bin/python3
# test_vulkan_forward.py: whole-model runs on the Vulkan backend (lavapipe in
# CI) against the float64 numpy reference (tests/reference.py) and against
# the CPU backend, on tiny generated qwen2, llama and qwen3 models; the
# scripted chat model's greedy script on Vulkan; the CPU fallback for a
# model the shaders cannot run; partial offload (--gpu-layers).
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: test_vulkan_forward.py [--only SUBSTRING] [--keep DIR]
# Env:   PONDER_BUILD_ROOT (the CLI is $PONDER_BUILD_ROOT/cli/ponder-cli)
#
# Tolerances. The shaders dequantise the same bytes the reference does and
# multiply them with f32 activations (no rounding of the activations to
# 8-bit blocks, unlike the CPU's integer kernels), so for every weight type
# what remains is f32 arithmetic in another order: |vulkan - ref| <= 1e-4 *
# max|ref| (measured on these models: ~3e-7 for F32/F16, ~1e-6 for the
# quantised types), and the same argmax at every position. Against the CPU
# backend: F32/F16 the same 1e-4; quantised types differ by the CPU's
# activation rounding, so |vulkan - cpu| <= |cpu - ref| + 1e-4 * max|ref|
# (the CPU itself is held to the reference by test_forward.py). Both the
# batched pass (prefill) and one token per step from the KV cache (decode)
# are checked.

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gen_model  # noqa: E402
import reference  # noqa: E402

N_TOKENS = 12
REL_TOL = 1e-4
# An F16 cache: the device and the reference round keys and values that
# differ by float error, so now and then one lands a half's step (2^-11
# relative) away from the other's (seen: up to 5e-6 of max|logit|).
REL_TOL_F16 = 2e-4
F16_CACHE_WEIGHTS = ('F32', 'Q4_K_M')

# (arch, preset, weight type, tied): every architecture in F32 and in the
# quantised types the shaders have (F16, Q8_0, Q4_K, Q6_K).
CASES = [
    ('qwen2', 'tiny', 'F32', False),
    ('llama', 'tiny', 'F32', False),
    ('qwen3', 'tiny', 'F32', False),
    ('qwen2', 'tiny', 'F16', False),
    ('qwen2', 'tiny', 'Q8_0', True),
    ('qwen2', 'tiny256', 'Q4_K_M', False),
    ('llama', 'tiny256', 'Q6_K', False),
    ('qwen3', 'tiny', 'Q8_0', False),
    ('qwen3', 'tiny256', 'Q4_K_M', False),
    ('llama', 'tiny', 'Q4_0', False),
    ('qwen3', 'tiny', 'BF16', False),
    ('qwen2', 'tiny256', 'Q5_K', False),
    ('qwen2', 'tiny', 'Q4_K_M', False),  # rows of 64: the Q5_0/Q8_0 fallbacks
    ('llama', 'tiny', 'Q4_1', False),
    ('qwen2', 'tiny', 'Q5_1', False),
    ('qwen3', 'tiny', 'Q5_K', False),  # rows of 64: all Q5_1, Q5_K_M's fallback
    ('llama', 'tiny256', 'Q3_K_M', False),  # Q3_K (embedding table too), Q4_K, Q5_K, Q6_K
    ('qwen2', 'tiny256', 'Q2_K', False),
]
FALLBACK_NOTE = 'using the CPU backend'


def cli_path():
    root = os.environ.get('PONDER_BUILD_ROOT')
    if root is None:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'build')
    return os.path.join(root, 'cli', 'ponder-cli')


def run_cli(args, timeout=300, env=None):
    return subprocess.run([cli_path()] + args, capture_output=True, timeout=timeout,
                          env=None if env is None else dict(os.environ, **env))


def logits(model, tokens, backend, step=False, kv_type='f32'):
    p = run_cli(['logits', '-m', model, '--tokens', ','.join(map(str, tokens)),
                 '--threads', '2', '--backend', backend, '--kv-type', kv_type]
                + (['--step'] if step else []))
    err = p.stderr.decode(errors='replace').strip()
    if p.returncode != 0:
        raise RuntimeError('ponder-cli logits --backend %s failed (%d): %s'
                           % (backend, p.returncode, err))
    if backend == 'vulkan' and FALLBACK_NOTE in err:
        raise RuntimeError('the Vulkan backend was not used: %s' % err)
    rows = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    return np.array(rows, dtype=np.float64)


def check_case(tmp, arch, preset, wtype, tied, seed):
    path = os.path.join(tmp, '%s-%s-%s%s.gguf' % (arch, preset, wtype, '-tied' if tied else ''))
    gen_model.generate(path, arch, preset, wtype, tied=tied, seed=seed)
    cfg, W, types = reference.load_model(path)
    rng = np.random.default_rng(seed + 200)
    tokens = [int(t) for t in rng.integers(0, W['token_embd.weight'].shape[0], N_TOKENS)]
    # Both cache types where the weights are exact or the common mix, F32
    # elsewhere; the F16 runs are held to the reference that rounds what the
    # cache keeps (reference.round_kv) and to the CPU with an F16 cache.
    kv_types = ('f32', 'f16') if wtype in F16_CACHE_WEIGHTS else ('f32',)
    fails, summaries = [], []
    for kv_type in kv_types:
        f, summary = check_cache_type(path, cfg, W, types, tokens, wtype, kv_type)
        fails += ['%s cache: %s' % (kv_type, why) for why in f]
        summaries.append('%s %s' % (kv_type, summary))
    return fails, '; '.join(summaries)


def check_cache_type(path, cfg, W, types, tokens, wtype, kv_type):
    ref = reference.forward(cfg, W, tokens, types, kv_type=kv_type)
    scale = np.abs(ref).max()
    try:
        cpu = logits(path, tokens, 'cpu', kv_type=kv_type)
        got = {'prefill': logits(path, tokens, 'vulkan', kv_type=kv_type),
               'decode': logits(path, tokens, 'vulkan', step=True, kv_type=kv_type)}
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
        return [str(e)], 'error'
    fails = []
    tol = (REL_TOL if kv_type == 'f32' else REL_TOL_F16) * scale
    cpu_tol = tol if wtype in ('F32', 'F16') else np.abs(cpu - ref).max() + tol
    worst = 0.0
    for mode, vk in got.items():
        if vk.shape != ref.shape or not np.all(np.isfinite(vk)):
            fails.append('%s: logits of shape %s (finite: %s), expected %s'
                         % (mode, vk.shape, np.all(np.isfinite(vk)), ref.shape))
            continue
        err = np.abs(vk - ref).max()
        worst = max(worst, err)
        if err > tol:
            fails.append('%s: max |vulkan - ref| = %.3g > %.3g (max |logit| %.3g)'
                         % (mode, err, tol, scale))
        same = (vk.argmax(axis=1) == ref.argmax(axis=1)).mean()
        if same < 1.0:
            fails.append('%s: same argmax as the reference at %.0f%% of positions'
                         % (mode, 100 * same))
        err_cpu = np.abs(vk - cpu).max()
        if err_cpu > cpu_tol:
            fails.append('%s: max |vulkan - cpu| = %.3g > %.3g' % (mode, err_cpu, cpu_tol))
    summary = '|vulkan - ref| %.3g (%.1e of max|logit|), |cpu - ref| %.3g' % (
        worst, worst / scale, np.abs(cpu - ref).max())
    return fails, summary


def check_scripted(tmp):
    """Greedy chat on Vulkan follows the scripted model's script, with the
    tokens after the first picked on the device (argmax with the padding
    mask); also for the model whose padding rows are the argmax everywhere,
    which only the mask keeps on script."""
    fails = []
    for name, bait in (('scripted', False), ('scripted pad bait', True)):
        path = os.path.join(tmp, '%s.gguf' % name.replace(' ', '-'))
        script = gen_model.generate_scripted(path, pad_bait=bait)
        p = run_cli(['chat', '-m', path, '-p', 'What is 1+1?', '--seed', '1',
                     '--temperature', '0', '--max-tokens', '64', '--threads', '2',
                     '--backend', 'vulkan', '--stats'])
        out = p.stdout.decode('utf-8', errors='replace').strip()
        err = p.stderr.decode('utf-8', errors='replace')
        picks = re.search(r'(\d+) picked on the device', err)
        if p.returncode != 0:
            fails.append('%s: chat exit %d: %s' % (name, p.returncode, err.strip()))
        elif FALLBACK_NOTE in err:
            fails.append('%s: the Vulkan backend was not used: %s' % (name, err.strip()))
        elif out != script['answer'] or script['reasoning'] not in err:
            fails.append('%s: answer %r (expected %r), reasoning in stderr: %s'
                         % (name, out, script['answer'], script['reasoning'] in err))
        elif picks is None or int(picks.group(1)) != len(script['generated_ids']) - 1:
            # every pick but the first (from the prompt's logits), EOS included
            fails.append('%s: %s tokens picked on the device, expected %d: %s'
                         % (name, picks and picks.group(1), len(script['generated_ids']) - 1,
                            err.strip()))
        elif '[vulkan backend; KV cache f16,' not in err:
            # the default F16 cache asked for, and kept on the device
            fails.append('%s: --stats does not say the cache is f16: %s' % (name, err.strip()))
    return fails


def check_device_sampling(tmp):
    """Sampling at temperature 0.6 from the device's best 64 logits, forced
    on lavapipe: with top-p 0.95 every pick after the first comes from the
    device's list and the chat follows the script (its token has logit 16
    against about 0 for the rest, so the nucleus is that token alone), also
    with the padding rows as bait; with top-p 1 nothing cuts inside the list,
    so every pick reads the logits back and the chat still follows it."""
    fails = []
    for name, bait, top_p, device_picks in (('top-p 0.95', False, '0.95', True),
                                             ('top-p 0.95, pad bait', True, '0.95', True),
                                             ('top-p 1', False, '1', False)):
        path = os.path.join(tmp, 'sampled%s.gguf' % ('-bait' if bait else ''))
        script = gen_model.generate_scripted(path, pad_bait=bait)
        p = run_cli(['chat', '-m', path, '-p', 'What is 1+1?', '--seed', '3',
                     '--temperature', '0.6', '--top-p', top_p, '--max-tokens', '64',
                     '--threads', '2', '--backend', 'vulkan', '--stats'],
                    env={'PONDER_VK_DEVICE_SAMPLING': '1'})
        out = p.stdout.decode('utf-8', errors='replace').strip()
        err = p.stderr.decode('utf-8', errors='replace')
        picks = re.search(r'(\d+) picked on the device', err)
        want = len(script['generated_ids']) - 1 if device_picks else 0
        if p.returncode != 0:
            fails.append('%s: chat exit %d: %s' % (name, p.returncode, err.strip()))
        elif out != script['answer']:
            fails.append('%s: answer %r, expected %r' % (name, out, script['answer']))
        elif picks is None or int(picks.group(1)) != want:
            fails.append('%s: %s tokens picked on the device, expected %d'
                         % (name, picks and picks.group(1), want))
    return fails


def expected_split(W, n_layers, first, n_devices):
    """The layer ranges ponder_plan_split_layers should choose for devices of
    equal memory, from the rule: each device's share of the weight bytes
    (every tensor of its layers; the output head counted on the last) as
    near as it can be to an equal share, at least one layer each. F32
    weights: bytes = 4 x elements."""
    layer = [4 * sum(a.size for name, a in W.items() if name.startswith('blk.%d.' % il))
             for il in range(n_layers)]
    head = W.get('output.weight', W['token_embd.weight'])
    total = sum(layer[first:]) + 4 * head.size
    ends, end, done = [], first, 0
    for d in range(n_devices - 1):
        target = total * (d + 1) / n_devices
        done += layer[end]
        end += 1
        while end < n_layers - (n_devices - 1 - d) and \
                abs(done + layer[end] - target) < abs(done - target):
            done += layer[end]
            end += 1
        ends.append(end)
    return ends + [n_layers]


def check_split(tmp):
    """--device 0,0[,0]: the layers split over one device opened as two or
    three logical devices (a pipeline, the residual stream handed over
    through host memory) must give the same logits as one device, bit for
    bit, in prefill and decode, also after CPU layers (--gpu-layers); the
    ranges ponder-cli reports must follow the split rule; and impossible
    splits fail with the reason."""
    fails = []
    for arch, wtype in (('qwen2', 'F32'), ('llama', 'Q4_K_M')):
        cfg = gen_model.make_config(arch, 'tiny')
        cfg['n_layer'] = 5
        path = os.path.join(tmp, 'split-%s-%s.gguf' % (arch, wtype))
        gen_model.generate(path, arch, 'tiny', wtype, seed=13, cfg=cfg)
        _, W, _ = reference.load_model(path)
        tokens = [int(t) for t in np.random.default_rng(13).integers(
            0, W['token_embd.weight'].shape[0], N_TOKENS)]
        for gpu_layers, devices in ((None, '0,0'), (None, '0,0,0'), (3, '0,0')):
            extra = ['--gpu-layers', str(gpu_layers)] if gpu_layers else []
            name = '%s %s --device %s %s' % (arch, wtype, devices, ' '.join(extra))
            first = 5 - gpu_layers if gpu_layers else 0
            n_dev = devices.count(',') + 1
            for step in (False, True):
                base = ['logits', '-m', path, '--tokens', ','.join(map(str, tokens)),
                        '--threads', '2', '--backend', 'vulkan'] + extra + \
                    (['--step'] if step else [])
                one = run_cli(base)
                split = run_cli(base + ['--device', devices])
                err = split.stderr.decode(errors='replace').strip()
                if one.returncode != 0 or split.returncode != 0 or FALLBACK_NOTE in err:
                    fails.append('%s: exit %d / %d: %s' % (name, one.returncode,
                                                           split.returncode, err))
                    continue
                if one.stdout != split.stdout:
                    fails.append('%s%s: logits differ from one device'
                                 % (name, ' --step' if step else ''))
                m = re.search(r'layers (.*)', err)
                ranges = re.findall(r'(\d+)-(\d+) on device', err)
                want_ends = expected_split(W, 5, first, n_dev) if wtype == 'F32' else None
                got_ends = [int(b) + 1 for _, b in ranges]
                got_starts = [int(a) for a, _ in ranges]
                if (len(ranges) != n_dev or got_starts[0] != first or got_ends[-1] != 5
                        or got_starts[1:] != got_ends[:-1]
                        or (want_ends is not None and got_ends != want_ends)):
                    fails.append('%s: split reported as %r, expected ends %s from layer %d'
                                 % (name, m and m.group(1), want_ends, first))
    path = os.path.join(tmp, 'split-qwen2-F32.gguf')
    p = run_cli(['logits', '-m', path, '--tokens', '1,2', '--backend', 'vulkan',
                 '--gpu-layers', '2', '--device', '0,0,0'])
    err = p.stderr.decode(errors='replace')
    if p.returncode == 0 or 'cannot be split over 3 devices' not in err:
        fails.append('2 layers over 3 devices: exit %d, %r' % (p.returncode, err.strip()))
    p = run_cli(['logits', '-m', path, '--tokens', '1,2', '--backend', 'vulkan',
                 '--device', '0,99'])
    err = p.stderr.decode(errors='replace')
    if p.returncode == 0 or 'there is no device 99' not in err:
        fails.append('--device 0,99: exit %d, %r' % (p.returncode, err.strip()))
    return fails


def check_planned_offload(tmp):
    """--device-memory: a device too small for the model runs its last layers
    and the CPU the first ones, as many as the memory plan (held to the
    tensor sizes by test_plan.py) says; the logits are exactly those of
    that split asked for by hand (--gpu-layers)."""
    fails = []
    cfg = gen_model.make_config('qwen2', 'tiny')
    cfg['n_layer'] = 5
    path = os.path.join(tmp, 'offload-qwen2-Q8_0.gguf')
    gen_model.generate(path, 'qwen2', 'tiny', 'Q8_0', seed=17, cfg=cfg)
    tokens = [(i * 37 + 11) % 384 for i in range(N_TOKENS)]
    seen = set()
    for mib in (2, 3, 4, 5, 64):
        p = run_cli(['info', '-m', path, '--plan-only', '--backend', 'vulkan', '--available',
                     str(mib << 20)])
        m = re.search(r'plan CPU layers\s+the first (\d+) layers', p.stdout.decode())
        want = int(m.group(1)) if m else 0
        seen.add(want)
        base = ['logits', '-m', path, '--tokens', ','.join(map(str, tokens)), '--threads', '2',
                '--backend', 'vulkan']
        p = run_cli(base + ['--device-memory', str(mib)])
        err = p.stderr.decode(errors='replace')
        m = re.search(r'layers 0-(\d+) on the CPU', err)
        got = int(m.group(1)) + 1 if m else 0
        if p.returncode != 0 or FALLBACK_NOTE in err or got != want:
            fails.append('--device-memory %d: exit %d, %d CPU layers (plan: %d): %r'
                         % (mib, p.returncode, got, want, err.strip()))
            continue
        by_hand = run_cli(base + ['--gpu-layers', str(5 - want)])
        if by_hand.returncode != 0 or by_hand.stdout != p.stdout:
            fails.append('--device-memory %d: logits differ from --gpu-layers %d'
                         % (mib, 5 - want))
    if len(seen) < 3:
        fails.append('the budgets tried gave only %s CPU layers' % sorted(seen))
    return fails


def check_partial(tmp):
    """--gpu-layers 1 on 2-layer models: layer 0 on the CPU, layer 1 and the
    output on the device, prefill and decode. Against the reference with the
    CPU's tolerance (the CPU layer rounds its activations for quantised
    weights); and it must really be a split: bitwise different from both
    the all-CPU and the all-Vulkan logits (each deterministic). With the
    default F16 cache, which the CPU's layer and the device's share."""
    fails = []
    for arch, preset, wtype in (('qwen2', 'tiny', 'F32'), ('llama', 'tiny256', 'Q4_K_M')):
        path = os.path.join(tmp, 'partial-%s-%s.gguf' % (arch, wtype))
        gen_model.generate(path, arch, preset, wtype, seed=9)
        cfg, W, types = reference.load_model(path)
        tokens = [int(t) for t in np.random.default_rng(9).integers(
            0, W['token_embd.weight'].shape[0], N_TOKENS)]
        ref = reference.forward(cfg, W, tokens, types, kv_type='f16')
        tol = REL_TOL_F16 * np.abs(ref).max()
        try:
            cpu = logits(path, tokens, 'cpu', kv_type='f16')
            full = logits(path, tokens, 'vulkan', kv_type='f16')
            for step in (False, True):
                p = run_cli(['logits', '-m', path, '--tokens', ','.join(map(str, tokens)),
                             '--threads', '2', '--backend', 'vulkan', '--gpu-layers', '1']
                            + (['--step'] if step else []))
                err = p.stderr.decode(errors='replace').strip()
                if p.returncode != 0 or FALLBACK_NOTE in err:
                    raise RuntimeError('exit %d: %s' % (p.returncode, err))
                got = np.array([json.loads(line) for line in p.stdout.decode().splitlines()
                                if line.strip()])
                e = np.abs(got - ref).max()
                name = '%s %s%s' % (arch, wtype, ' --step' if step else '')
                if e > np.abs(cpu - ref).max() + tol:
                    fails.append('partial %s: max |split - ref| = %.3g' % (name, e))
                if np.array_equal(got, cpu) or np.array_equal(got, full):
                    fails.append('partial %s: same logits as one backend alone' % name)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
            fails.append('partial %s %s: %s' % (arch, wtype, e))
    return fails


def check_long_decode(tmp):
    """300 tokens one at a time: past 256 cached positions the decode
    attention is split over the keys (chunks of 256 merged), against the
    reference with the F32 tolerance."""
    path = os.path.join(tmp, 'long-qwen2.gguf')
    gen_model.generate(path, 'qwen2', 'tiny', 'F32', seed=11)
    cfg, W, types = reference.load_model(path)
    tokens = [int(t) for t in np.random.default_rng(11).integers(
        0, W['token_embd.weight'].shape[0], 300)]
    ref = reference.forward(cfg, W, tokens, types)
    try:
        got = logits(path, tokens, 'vulkan', step=True)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
        return ['long decode: %s' % e]
    e = np.abs(got - ref).max() if got.shape == ref.shape else np.inf
    if not e <= REL_TOL * np.abs(ref).max():
        return ['long decode: max |vulkan - ref| = %.3g' % e]
    return []


def check_fallback(tmp):
    """A model the shaders cannot run (heads of 288 dimensions: attention
    holds at most 256 in shared memory): --backend vulkan says why and the
    CPU computes the same logits as --backend cpu. (Every weight type the
    CPU runs has shaders; test-vulkan-forward refuses one whose kernels it
    hides.)"""
    path = os.path.join(tmp, 'fallback-wide-heads.gguf')
    cfg = gen_model.make_config('llama', 'tiny')
    cfg['head_dim'] = 288
    gen_model.generate(path, 'llama', 'tiny', 'F32', seed=5, cfg=cfg)
    tokens = [1, 2, 3, 4]
    p = run_cli(['logits', '-m', path, '--tokens', '1,2,3,4', '--threads', '2',
                 '--backend', 'vulkan', '--kv-type', 'f32'])
    err = p.stderr.decode(errors='replace')
    if p.returncode != 0 or 'head dimensions' not in err or FALLBACK_NOTE not in err:
        return ['fallback: exit %d, stderr %r (expected the reason and the CPU fallback)'
                % (p.returncode, err.strip())]
    rows = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    if not np.array_equal(np.array(rows), logits(path, tokens, 'cpu')):
        return ['fallback: logits differ from --backend cpu']
    return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', help='cases whose name contains this')
    ap.add_argument('--keep', help='generate the models in this directory and keep them')
    args = ap.parse_args()
    # On a GPU the integer-dot kernels would round the activations to bytes;
    # these tolerances hold the device to float products (the integer path:
    # test_vulkan_features.py).
    os.environ.setdefault('PONDER_VK_INT8_DOT', '0')
    if not os.path.exists(cli_path()):
        print('FAIL: %s not found (build the ponder_cli target)' % cli_path())
        return 1
    tmp = args.keep or tempfile.mkdtemp(prefix='ponder-vulkan-forward-')
    os.makedirs(tmp, exist_ok=True)
    n_fail = 0
    try:
        for i, (arch, preset, wtype, tied) in enumerate(CASES):
            name = '%s/%s/%s%s' % (arch, preset, wtype, '/tied' if tied else '')
            if args.only and args.only not in name:
                continue
            fails, summary = check_case(tmp, arch, preset, wtype, tied, seed=40 + i)
            print('%s %-26s %s' % ('FAIL' if fails else 'ok  ', name, summary))
            for f in fails:
                print('     ' + f)
            n_fail += bool(fails)
        if not args.only:
            for name, check in (('scripted chat', check_scripted),
                                ('device sampling', check_device_sampling),
                                ('fallback', check_fallback),
                                ('partial offload', check_partial),
                                ('split over devices', check_split),
                                ('planned offload', check_planned_offload),
                                ('long decode', check_long_decode)):
                fails = check(tmp)
                print('%s %s' % ('FAIL' if fails else 'ok  ', name))
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
