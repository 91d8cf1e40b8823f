#!/usr/bin/python3
# test_vulkan_deepseek2.py: tiny generated deepseek2 models (MLA with a
# latent cache, group-limited MoE routing, shared expert; with and without
# q_lora, both weight layouts) run whole on the Vulkan backend (lavapipe in
# CI) against the float64 numpy reference written from the formulas
# (tests/reference.py) and against the CPU backend, in one batched pass
# (prefill) and one token per step from the latent cache (decode); greedy
# chat on Vulkan writes what the CPU writes; with the routed experts of the
# last MoE layers in system memory (run by the CPU backend, the rest on the
# device) the logits stay the same; a model whose latent rows the device
# cannot bind falls back to the CPU, saying why.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: test_vulkan_deepseek2.py [--only SUBSTRING] [--keep DIR]
# Env:   PONDER_BUILD_ROOT (the CLI is $PONDER_BUILD_ROOT/cli/ponder-cli)
#
# Tolerances. The shaders multiply the dequantised weights with f32
# activations (the CPU's integer kernels round activations to 8 bits), so
# against the reference what remains for every weight type is f32 order of
# summation: |vulkan - ref| <= 1e-4 max|ref| (measured ~4e-7). That holds
# only when the routing makes the same choices, so token sequences whose
# reference routing has a decision closer than 1e-4 (f32 errors are ~1e-6)
# are redrawn. Against the CPU: F32/F16 the same 1e-4; quantised types
# |vulkan - cpu| <= |cpu - ref| + 1e-4 max|ref| (the CPU is held to the
# reference by test_forward.py).

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

N_TOKENS = 10
REL_TOL = 1e-4
ROUTE_MARGIN = 1e-4

# (preset, weight type): MLA layout with q_lora ('tiny'), legacy attn_kv_b
# converted at load, no q_lora in both layouts, V2-style softmax routing
# without bias or groups, 256-wide rows (Q6_K with Q8_0 where rows are
# shorter; llama.cpp's Q4_K_M mix with Q5_0 where they are), F16 and Q8_0;
# Q2_K and Q3_K experts (and attn_v_b; Q4_0 where rows are 32 wide), the
# K-quants of the published R1 dynamic quants.
CASES = [
    ('tiny', 'F32'),
    ('tiny-legacy', 'F32'),
    ('tiny-noqlora', 'F32'),
    ('tiny-noqlora-mla', 'F32'),
    ('tiny-softmax', 'F32'),
    ('tiny256', 'F32'),
    ('tiny', 'F16'),
    ('tiny', 'Q8_0'),
    ('tiny-legacy', 'Q8_0'),
    ('tiny256', 'Q6_K'),
    ('tiny256', 'Q4_K_M'),
    ('tiny256', 'Q2_K'),
    ('tiny256', 'Q3_K'),
]
# Expert placement: (preset, weight type, MoE layers whose routed experts stay
# on the host). The tiny presets have two MoE layers.
HOST_CASES = [
    ('tiny', 'F32', 1),
    ('tiny', 'F32', 2),
    ('tiny-noqlora', 'Q8_0', 2),
]
# The latent cache in F16 (the default), against the reference that rounds
# [c_kv | k_pe] where the cache keeps them: with and without q_lora, a
# quantised mix, and host experts sharing the cache with the CPU.
F16_CASES = [
    ('tiny', 'F32', 0),
    ('tiny-noqlora', 'F32', 0),
    ('tiny256', 'Q4_K_M', 0),
    ('tiny', 'F32', 1),
]
# see test_vulkan_forward.py: halves of values that differ by float error
REL_TOL_F16 = 2e-4
FALLBACK_NOTE = 'using the CPU backend'


def cli_path():
    root = os.environ.get('PONDER_BUILD_ROOT')
    if root is None:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'build')
    return os.path.join(root, 'cli', 'ponder-cli')


def run_cli(args, timeout=300):
    return subprocess.run([cli_path()] + args, capture_output=True, timeout=timeout)


def logits(model, tokens, backend, step=False, host_layers=0, kv_type='f32'):
    env = dict(os.environ, PONDER_HOST_EXPERT_LAYERS=str(host_layers))
    p = subprocess.run([cli_path(), 'logits', '-m', model, '--tokens',
                        ','.join(map(str, tokens)), '--threads', '2', '--backend', backend,
                        '--kv-type', kv_type]
                       + (['--step'] if step else []), capture_output=True, timeout=300,
                       env=env)
    err = p.stderr.decode(errors='replace').strip()
    if p.returncode != 0:
        raise RuntimeError('ponder-cli logits --backend %s failed (%d): %s'
                           % (backend, p.returncode, err))
    if backend == 'vulkan' and FALLBACK_NOTE in err:
        raise RuntimeError('the Vulkan backend was not used: %s' % err)
    rows = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    return np.array(rows, dtype=np.float64)


def check_case(tmp, preset, wtype, seed, host_layers=0, kv_type='f32'):
    path = os.path.join(tmp, 'deepseek2-%s-%s.gguf' % (preset, wtype))
    gen_model.generate(path, 'deepseek2', preset, wtype, seed=seed)
    cfg, W, types = reference.load_model(path)
    if gen_model.DS2_PRESETS[preset]['layout'] == 'legacy' and wtype != 'F32':
        # the engine converts attn_kv_b to F16 k_b / v_b at load (spec 4.6)
        for name in W:
            if name.endswith('attn_kv_b.weight'):
                W[name] = W[name].astype(np.float16).astype(np.float64)
    rng = np.random.default_rng(seed + 300)
    for _ in range(40):
        tokens = [int(t) for t in rng.integers(0, W['token_embd.weight'].shape[0], N_TOKENS)]
        stats = {}
        ref = reference.forward(cfg, W, tokens, types, stats=stats, kv_type=kv_type)
        if stats['route_margin'] >= ROUTE_MARGIN:
            break
    else:
        return ['no token sequence of 40 without a near tie in the routing'], 'routing'
    scale = np.abs(ref).max()
    try:
        cpu = logits(path, tokens, 'cpu', kv_type=kv_type)
        got = {'prefill': logits(path, tokens, 'vulkan', host_layers=host_layers,
                                 kv_type=kv_type),
               'decode': logits(path, tokens, 'vulkan', step=True, host_layers=host_layers,
                                kv_type=kv_type)}
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
        return [str(e)], 'error'
    fails = []
    tol = (REL_TOL if kv_type == 'f32' else REL_TOL_F16) * scale
    cpu_tol = tol if wtype in ('F32', 'F16') else np.abs(cpu - ref).max() + tol
    if host_layers > 0:
        # the CPU's integer kernels run the host experts (8-bit activations)
        tol = cpu_tol
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
        if not np.array_equal(vk.argmax(axis=1), ref.argmax(axis=1)):
            fails.append('%s: argmax differs from the reference' % mode)
        err_cpu = np.abs(vk - cpu).max()
        if err_cpu > cpu_tol:
            fails.append('%s: max |vulkan - cpu| = %.3g > %.3g' % (mode, err_cpu, cpu_tol))
    if host_layers > 0 and wtype not in ('F32', 'F16'):
        # the split really ran on the CPU: its 8-bit activations show,
        # where the whole-device logits are within 1e-6 of the reference
        whole = logits(path, tokens, 'vulkan', kv_type=kv_type)
        if np.abs(whole - got['prefill']).max() <= REL_TOL * scale:
            fails.append('host experts: the logits equal the whole-device ones, as if the '
                         'CPU had not run the experts')
    summary = 'max |vulkan - ref| %.3g (%.1e of max|logit|), |cpu - ref| %.3g, margin %.2g' % (
        worst, worst / scale, np.abs(cpu - ref).max(), stats['route_margin'])
    return fails, summary


def check_chat(tmp):
    """Greedy chat on Vulkan writes what the CPU writes (F32 weights: the
    two backends' logits differ by ~1e-6, far below the gaps greedy picks
    between)."""
    path = os.path.join(tmp, 'deepseek2-chat.gguf')
    gen_model.generate(path, 'deepseek2', 'tiny', 'F32', seed=11)
    out = {}
    for backend in ('cpu', 'vulkan'):
        p = run_cli(['chat', '-m', path, '-p', 'Hello there', '--seed', '1', '--temperature',
                     '0', '--max-tokens', '24', '--threads', '2', '--backend', backend,
                     '--kv-type', 'f32'])
        err = p.stderr.decode('utf-8', errors='replace')
        if p.returncode != 0:
            return ['chat --backend %s: exit %d: %s' % (backend, p.returncode, err.strip())]
        if FALLBACK_NOTE in err:
            return ['chat: the Vulkan backend was not used: %s' % err.strip()]
        # the random model never closes its reasoning: it all goes to stderr
        out[backend] = p.stdout + p.stderr
    if len(out['cpu'].strip()) < 10 or out['cpu'] != out['vulkan']:
        return ['chat: vulkan wrote %r, cpu %r' % (out['vulkan'][:200], out['cpu'][:200])]
    return []


def check_expert_devices(tmp):
    """--device 0,0 and 0,0,0: the routed experts of every layer shared by
    the same device opened two and three times (expert parallelism). The
    logits must match one device's to rounding (the partial sums are added
    in another order: 1e-5 of max |logit|), in prefill and decode, and
    greedy chat must write the same text."""
    fails = []
    path = os.path.join(tmp, 'deepseek2-experts-Q4_K_M.gguf')
    gen_model.generate(path, 'deepseek2', 'tiny', 'Q4_K_M', seed=12)
    tokens = [(i * 53 + 7) % 384 for i in range(N_TOKENS)]
    for step in (False, True):
        one = logits(path, tokens, 'vulkan', step=step, kv_type='f16')
        for devices in ('0,0', '0,0,0'):
            p = run_cli(['logits', '-m', path, '--tokens', ','.join(map(str, tokens)),
                         '--threads', '2', '--backend', 'vulkan', '--device', devices]
                        + (['--step'] if step else []))
            err = p.stderr.decode(errors='replace')
            note = 'shared by %d devices' % (devices.count(',') + 1)
            if p.returncode != 0 or note not in err:
                fails.append('--device %s: exit %d, %r' % (devices, p.returncode, err.strip()))
                continue
            got = np.array([json.loads(line) for line in p.stdout.decode().splitlines()
                            if line.strip()])
            e = np.abs(got - one).max() if got.shape == one.shape else float('inf')
            if e > 1e-5 * np.abs(one).max():
                fails.append('--device %s%s: max |split - one device| = %.3g'
                             % (devices, ' --step' if step else '', e))
    # Each device is checked for its own share: 4 MiB holds the always-on
    # weights and half the experts of tiny256 (~3 MB), not all of it (~5 MB).
    big = os.path.join(tmp, 'deepseek2-experts-256.gguf')
    gen_model.generate(big, 'deepseek2', 'tiny256', 'Q4_K_M', seed=15)
    env = dict(os.environ, PONDER_HOST_EXPERT_LAYERS='0')
    for devices, fits in (('0', False), ('0,0', True)):
        p = subprocess.run([cli_path(), 'logits', '-m', big, '--tokens', '1,2', '--backend',
                            'vulkan', '--device', devices, '--device-memory', '4'],
                           capture_output=True, timeout=300, env=env)
        err = p.stderr.decode(errors='replace')
        if p.returncode != 0 or (FALLBACK_NOTE not in err) == (not fits):
            fails.append('--device %s --device-memory 4: exit %d, %r (expected %s)'
                         % (devices, p.returncode, err.strip(),
                            'Vulkan' if fits else 'the CPU fallback'))
    texts = []
    for extra in ([], ['--device', '0,0']):
        p = run_cli(['chat', '-m', path, '-p', 'Hello there', '--seed', '1', '--temperature',
                     '0', '--max-tokens', '24', '--threads', '2', '--backend', 'vulkan'] + extra)
        texts.append(p.stdout + b''.join(line for line in p.stderr.splitlines(True)
                                          if b'ponder-cli:' not in line))
    if len(texts[0].strip()) < 10 or texts[0] != texts[1]:
        fails.append('chat --device 0,0 wrote %r, one device %r' % (texts[1][:200],
                                                                    texts[0][:200]))
    return fails


def check_placement(tmp):
    """--device-memory: a device too small for the whole model keeps the
    routed experts of the last MoE layers in system memory, as many as the
    memory plan (held to the tensor sizes by test_plan.py) says for that
    budget, and the logits are exactly those of that placement asked for by
    hand (PONDER_HOST_EXPERT_LAYERS). With an F32 cache, for which the
    budgets below give three placements (test_plan.py checks F16 plans)."""
    fails = []
    path = os.path.join(tmp, 'deepseek2-place-Q4_K_M.gguf')
    gen_model.generate(path, 'deepseek2', 'tiny256', 'Q4_K_M', seed=14)
    tokens = [(i * 31 + 5) % 384 for i in range(N_TOKENS)]
    placed = set()
    for mib in (19, 21, 22, 23, 64):
        p = run_cli(['info', '-m', path, '--plan-only', '--backend', 'vulkan', '--available',
                     str(mib << 20), '--kv-type', 'f32'])
        m = re.search(r'the last (\d+) MoE layers', p.stdout.decode(errors='replace'))
        want = int(m.group(1)) if m else 0
        placed.add(want)
        p = run_cli(['logits', '-m', path, '--tokens', ','.join(map(str, tokens)),
                     '--threads', '2', '--backend', 'vulkan', '--device-memory', str(mib),
                     '--kv-type', 'f32'])
        err = p.stderr.decode(errors='replace')
        m = re.search(r'the routed experts of the last (\d+) MoE layers run on the CPU', err)
        got = int(m.group(1)) if m else 0
        if p.returncode != 0 or FALLBACK_NOTE in err or got != want:
            fails.append('--device-memory %d: exit %d, %d host layers (plan: %d): %r'
                         % (mib, p.returncode, got, want, err.strip()))
            continue
        rows = np.array([json.loads(line) for line in p.stdout.decode().splitlines()
                         if line.strip()])
        by_hand = logits(path, tokens, 'vulkan', host_layers=want)
        if not np.array_equal(rows, by_hand):
            fails.append('--device-memory %d: logits differ from %d host layers by hand'
                         % (mib, want))
    if len(placed) < 3:
        fails.append('the budgets tried gave only the placements %s' % sorted(placed))
    return fails


def check_odd(tmp):
    """Latent rows of 26 floats (tiny-odd) do not start at the storage
    offset alignment of most devices (16 bytes on lavapipe): the load falls
    back to the CPU naming the alignment; a device that can bind them
    computes the CPU's logits."""
    path = os.path.join(tmp, 'deepseek2-odd.gguf')
    gen_model.generate(path, 'deepseek2', 'tiny-odd', 'F32', seed=8)
    tokens = [3, 1, 4, 1, 5]
    p = run_cli(['logits', '-m', path, '--tokens', ','.join(map(str, tokens)), '--threads', '2',
                 '--backend', 'vulkan', '--kv-type', 'f32'])
    err = p.stderr.decode(errors='replace')
    if p.returncode != 0:
        return ['tiny-odd: exit %d: %s' % (p.returncode, err.strip())]
    rows = np.array([json.loads(line) for line in p.stdout.decode().splitlines()
                     if line.strip()])
    cpu = logits(path, tokens, 'cpu')
    if FALLBACK_NOTE in err:
        if 'alignment' not in err or not np.array_equal(rows, cpu):
            return ['tiny-odd: fallback %r, logits equal to the cpu: %s'
                    % (err.strip(), np.array_equal(rows, cpu))]
    elif rows.shape != cpu.shape or np.abs(rows - cpu).max() > REL_TOL * np.abs(cpu).max():
        return ['tiny-odd: the Vulkan logits differ from the CPU']
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
    tmp = args.keep or tempfile.mkdtemp(prefix='ponder-vulkan-deepseek2-')
    os.makedirs(tmp, exist_ok=True)
    n_fail = 0
    try:
        for i, (preset, wtype) in enumerate(CASES):
            name = 'deepseek2/%s/%s' % (preset, wtype)
            if args.only and args.only not in name:
                continue
            fails, summary = check_case(tmp, preset, wtype, seed=70 + i)
            print('%s %-28s %s' % ('FAIL' if fails else 'ok  ', name, summary))
            for f in fails:
                print('     ' + f)
            n_fail += bool(fails)
        for i, (preset, wtype, host_layers) in enumerate(HOST_CASES):
            name = 'deepseek2/%s/%s/host-experts-%d' % (preset, wtype, host_layers)
            if args.only and args.only not in name:
                continue
            fails, summary = check_case(tmp, preset, wtype, seed=90 + i,
                                        host_layers=host_layers)
            print('%s %-28s %s' % ('FAIL' if fails else 'ok  ', name, summary))
            for f in fails:
                print('     ' + f)
            n_fail += bool(fails)
        for i, (preset, wtype, host_layers) in enumerate(F16_CASES):
            name = 'deepseek2/%s/%s/f16-cache%s' % (preset, wtype, '/host-experts-%d'
                                                    % host_layers if host_layers else '')
            if args.only and args.only not in name:
                continue
            fails, summary = check_case(tmp, preset, wtype, seed=110 + i,
                                        host_layers=host_layers, kv_type='f16')
            print('%s %-28s %s' % ('FAIL' if fails else 'ok  ', name, summary))
            for f in fails:
                print('     ' + f)
            n_fail += bool(fails)
        if not args.only:
            for name, check in (('chat', check_chat), ('odd sizes', check_odd),
                                ('expert devices', check_expert_devices),
                                ('expert placement', check_placement)):
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
