#!/usr/bin/python3
# test_plan.py: the memory plan (ponder_model_plan through `ponder-cli info
# --plan-only`) against sizes worked out here from the generator's shapes
# and hyperparameters, for dense and deepseek2 models of several weight
# types, and the fit decision against a given amount of memory.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The expected numbers follow the formulas, not the engine's output:
#   weights  = sum of every tensor's bytes (rows * row_bytes of its type),
#              plus, for deepseek2's legacy attn_kv_b, the two re-laid-out
#              copies (n_head * kv_lora * (qk_nope + v_head) elements, F32
#              stays 4 bytes, anything else becomes F16)
#   KV/token = n_layer * n_head_kv * (head_dim_k + head_dim_v) * e
#              deepseek2: n_layer * (kv_lora + qk_rope) * e (the latent)
#              e = 2 for the default F16 cache, 4 with --kv-type f32 (on
#              the CPU and on Vulkan alike); R1's shapes give
#              61 * (512 + 64) * 2 = 70,272 bytes (issue 5)
#   KV cache = n_ctx * (KV/token + 4)   (each position keeps its token id)
#   scratch  = one batch of 128 tokens of activations, 3 prepared matmul
#              inputs of the widest row (4 bytes + 256 each), the RoPE
#              table, and the logits
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gen_model  # noqa: E402
import quants  # noqa: E402

BATCH = 128
MAX_MULTI = 3

CASES = [
    ('qwen2', 'tiny', 'F32'),
    ('qwen2', 'tiny', 'Q4_K_M'),
    ('qwen2', 'tiny256', 'Q8_0'),
    ('qwen3', 'tiny', 'F16'),
    ('llama', 'tiny', 'Q6_K'),
    ('deepseek2', 'tiny', 'F32'),
    ('deepseek2', 'tiny-legacy', 'F32'),
    ('deepseek2', 'tiny-legacy', 'Q8_0'),
    ('deepseek2', 'tiny-odd', 'Q4_K_M'),
]


def cli_path():
    root = os.environ.get('PONDER_BUILD_ROOT',
                          os.path.join(os.path.dirname(__file__), '..', 'build'))
    return os.path.join(root, 'cli', 'ponder-cli')


def expected(info, path, n_ctx, kv_elem=2):
    cfg, types = info['config'], info['types']
    weights, n_params = 0, 0
    for name, shape, _, _ in gen_model.tensor_specs(cfg):
        rows = int(np.prod(shape[:-1])) if len(shape) >= 2 else 1
        weights += rows * quants.row_bytes(types[name], shape[-1])
        n_params += int(np.prod(shape))
    L, E, H, V = cfg['n_layer'], cfg['n_embd'], cfg['n_head'], cfg['n_vocab']
    if cfg['arch'] == 'deepseek2':
        c, r, nope, dv = cfg['kv_lora'], cfg['qk_rope'], cfg['qk_nope'], cfg['v_head']
        if cfg['layout'] == 'legacy':
            for il in range(L):
                esz = 4 if types['blk.%d.attn_kv_b.weight' % il] == 'F32' else 2
                weights += H * c * (nope + dv) * esz
        kv_token = L * (c + r) * kv_elem
        hkv, dk = 1, nope + r
    else:
        hkv, dk, dv = cfg['n_head_kv'], cfg['head_dim'], cfg['head_dim']
        kv_token = L * hkv * (dk + dv) * kv_elem
    n_ff = cfg['n_ff']
    n_q, n_k, n_v, n_o = H * dk, hkv * dk, hkv * dv, H * dv
    floats = BATCH * (2 * E + max(n_o, E) + n_q + n_k + n_v + 2 * n_ff)
    widest = max(E, n_ff, H * dv)
    if cfg['arch'] == 'deepseek2':
        used, ne = cfg['n_expert_used'], cfg['n_expert']
        floats += BATCH * ((cfg['q_lora'] or 1) + (c + r) + H * nope + H * c + H * (c + r)
                           + H * c + ne + used)
        floats += BATCH * used + 3 * ne + cfg['n_group'] + 1
        widest = max(widest, H * max(c, nope), cfg['n_ff_exp'] * max(cfg['n_expert_shared'], 1),
                     cfg['q_lora'])
    scratch = (floats * 4 + MAX_MULTI * BATCH * (widest * 4 + 256)
               + (BATCH * widest + 2) * 4 + V * 4)
    return dict(weights=weights, n_params=n_params, kv_token=kv_token,
                kv=n_ctx * (kv_token + 4), scratch=scratch,
                file_size=os.path.getsize(path), ctx_train=cfg['ctx'])


def run_plan(path, n_ctx, available, kv_type=None):
    p = subprocess.run([cli_path(), 'info', '-m', path, '--plan-only', '--ctx', str(n_ctx),
                        '--available', str(available)]
                       + (['--kv-type', kv_type] if kv_type else []),
                       capture_output=True, timeout=60)
    out = p.stdout.decode(errors='replace')
    if p.returncode != 0:
        raise RuntimeError('ponder-cli info failed (%d): %s'
                           % (p.returncode, p.stderr.decode(errors='replace')))

    def num(label):
        m = re.search(r'^\s*%s\s+.*?\((\d+) bytes\)' % re.escape(label), out, re.M)
        if m is None:
            m = re.search(r'^\s*%s\s+(\d+)' % re.escape(label), out, re.M)
        if m is None:
            raise RuntimeError('no %r in %r' % (label, out))
        return int(m.group(1))

    fits = re.search(r'^\s*fits\s+(yes|no)', out, re.M).group(1) == 'yes'
    kv_type = re.search(r'^\s*plan KV cache type\s+(\w+)', out, re.M)
    return dict(kv_type=kv_type and kv_type.group(1), weights=num('plan weights'), kv_token=num('plan KV per token'),
                kv=num('plan KV cache'), scratch=num('plan scratch'),
                total=num('plan total'), n_params=num('parameters'),
                file_size=num('file size'), ctx_train=num('training context'),
                max_fit=num('longest context'), fits=fits), out


def check_case(tmp, arch, preset, wtype, kv_type=None):
    """kv_type None: the default (f16)."""
    path = os.path.join(tmp, '%s-%s-%s.gguf' % (arch, preset, wtype))
    info = gen_model.generate(path, arch, preset, wtype, seed=3)
    n_ctx = 1000
    want = expected(info, path, n_ctx, kv_elem=4 if kv_type == 'f32' else 2)
    per_pos = want['kv_token'] + 4
    fixed = want['weights'] + want['scratch']
    fails = []
    # Room for exactly 1000 positions: fits at 1000, the longest that fits
    # is 768 (multiples of 256); one byte less and 1000 does not fit.
    for available, fits, max_fit in ((fixed + 1000 * per_pos, True, 768),
                                     (fixed + 1000 * per_pos - 1, False, 768),
                                     (fixed + 256 * per_pos - 1, False, 0),
                                     (fixed + 10 ** 12, True, want['ctx_train'])):
        got, out = run_plan(path, n_ctx, available, kv_type)
        label = '%s/%s/%s%s available %d' % (arch, preset, wtype,
                                             ' --kv-type %s' % kv_type if kv_type else '',
                                             available)
        if got['kv_type'] != (kv_type or 'f16'):
            fails.append('%s: cache type %s' % (label, got['kv_type']))
        for key in ('weights', 'kv_token', 'kv', 'scratch', 'n_params', 'file_size',
                    'ctx_train'):
            if got[key] != want[key]:
                fails.append('%s: %s = %d, expected %d' % (label, key, got[key], want[key]))
        if got['total'] != want['weights'] + want['kv'] + want['scratch']:
            fails.append('%s: total %d is not the sum of the parts' % (label, got['total']))
        if got['fits'] != fits or got['max_fit'] != max_fit:
            fails.append('%s: fits %s, longest %d; expected %s, %d'
                         % (label, got['fits'], got['max_fit'], fits, max_fit))
    return fails


def check_expert_placement(tmp):
    """deepseek2 on Vulkan: when the device cannot hold everything, the
    routed experts of the last MoE layers go to system memory, as few layers
    as make the rest fit: device bytes = total - their bytes <= available.
    Against budgets worked out here from the tensor sizes. Skipped without
    a Vulkan device."""
    p = subprocess.run([cli_path(), 'devices'], capture_output=True, timeout=60)
    if p.returncode != 0:
        print('no Vulkan device: expert placement not checked')
        return []
    path = os.path.join(tmp, 'ds2-place.gguf')
    info = gen_model.generate(path, 'deepseek2', 'tiny256', 'Q4_K_M', seed=5)
    cfg, types = info['config'], info['types']
    n_ctx = 256
    want = expected(info, path, n_ctx, kv_elem=2)  # the default F16 cache
    total = want['weights'] + want['kv'] + want['scratch']
    experts = []  # routed expert bytes of each MoE layer, last layer first
    for il in reversed(range(cfg['n_dense'], cfg['n_layer'])):
        b = 0
        for name, shape, _, _ in gen_model.tensor_specs(cfg):
            if name.startswith('blk.%d.ffn_' % il) and '_exps.' in name:
                b += int(np.prod(shape[:-1])) * quants.row_bytes(types[name], shape[-1])
        experts.append(b)
    fails = []
    cases = [(total, 0), (total - 1, 1), (total - experts[0], 1),
             (total - experts[0] - 1, 2), (total - sum(experts), len(experts)),
             (1000, len(experts))]
    for available, n_host in cases:
        p = subprocess.run([cli_path(), 'info', '-m', path, '--plan-only', '--ctx', str(n_ctx),
                            '--backend', 'vulkan', '--available', str(available)],
                           capture_output=True, timeout=60)
        out = p.stdout.decode(errors='replace')
        host = re.search(r'plan host experts\s+the routed experts of the last (\d+) MoE '
                         r'layers, .*\((\d+) bytes\)', out)
        device = re.search(r'plan on the device\s+.*\((\d+) bytes\)', out)
        fits = re.search(r'^\s*fits\s+(yes|no)', out, re.M)
        got_host = int(host.group(1)) if host else 0
        host_bytes = sum(experts[:n_host])
        want_fits = total - host_bytes <= available
        label = 'placement with %d bytes' % available
        if p.returncode != 0 or device is None or fits is None:
            fails.append('%s: exit %d, %r' % (label, p.returncode, out))
        elif (got_host != n_host or (host and int(host.group(2)) != host_bytes)
              or int(device.group(1)) != total - host_bytes
              or (fits.group(1) == 'yes') != want_fits):
            fails.append('%s: %d host layers (%s), device %s, fits %s; expected %d layers '
                         '(%d bytes), device %d, fits %s'
                         % (label, got_host, host and host.group(2), device.group(1),
                            fits.group(1), n_host, host_bytes, total - host_bytes, want_fits))
    return fails


def check_cpu_layers(tmp):
    """A dense model on Vulkan whose device cannot hold it all: its first
    layers (weights and their part of the cache) run on the CPU, as few as
    make the rest fit, and never the last one. Against budgets worked out
    here from the tensor sizes. Skipped without a Vulkan device."""
    p = subprocess.run([cli_path(), 'devices'], capture_output=True, timeout=60)
    if p.returncode != 0:
        print('no Vulkan device: CPU layers not checked')
        return []
    cfg = gen_model.make_config('llama', 'tiny')
    cfg['n_layer'] = 4
    path = os.path.join(tmp, 'dense-offload.gguf')
    info = gen_model.generate(path, 'llama', 'tiny', 'Q8_0', seed=6, cfg=cfg)
    n_ctx = 512
    want = expected(info, path, n_ctx, kv_elem=2)  # the default F16 cache
    total = want['weights'] + want['kv'] + want['scratch']
    layer = []
    for il in range(cfg['n_layer']):
        b = want['kv_token'] // cfg['n_layer'] * n_ctx
        for name, shape, _, _ in gen_model.tensor_specs(cfg):
            if name.startswith('blk.%d.' % il):
                b += (int(np.prod(shape[:-1])) if len(shape) >= 2 else 1) * \
                    quants.row_bytes(info['types'][name], shape[-1])
        layer.append(b)
    fails = []
    for available, n_cpu in ((total, 0), (total - 1, 1), (total - layer[0], 1),
                             (total - layer[0] - 1, 2), (total - sum(layer[:3]), 3),
                             (1000, 3)):
        p = subprocess.run([cli_path(), 'info', '-m', path, '--plan-only', '--ctx', str(n_ctx),
                            '--backend', 'vulkan', '--available', str(available)],
                           capture_output=True, timeout=60)
        out = p.stdout.decode(errors='replace')
        cpu = re.search(r'plan CPU layers\s+the first (\d+) layers, .*\((\d+) bytes\)', out)
        device = re.search(r'plan on the device\s+.*\((\d+) bytes\)', out)
        got = int(cpu.group(1)) if cpu else 0
        cpu_bytes = sum(layer[:n_cpu])
        if (p.returncode != 0 or device is None or got != n_cpu
                or (cpu and int(cpu.group(2)) != cpu_bytes)
                or int(device.group(1)) != total - cpu_bytes):
            fails.append('CPU layers with %d bytes: %d (%s), device %s; expected %d (%d bytes), '
                         'device %d: %r' % (available, got, cpu and cpu.group(2),
                                            device and device.group(1), n_cpu, cpu_bytes,
                                            total - cpu_bytes, out[-400:]))
    return fails


def check_split_plan(tmp):
    """--device 0,0[,0]: the plan gives each device its layers (the split
    rule, as test_vulkan_forward checks the loads against) and its share:
    scratch + each layer's tensors and cache + the head on the last device,
    and fits only when every share fits its device's memory. Skipped without
    a Vulkan device."""
    import reference
    from test_vulkan_forward import expected_split
    p = subprocess.run([cli_path(), 'devices'], capture_output=True, timeout=60)
    if p.returncode != 0:
        print('no Vulkan device: split plan not checked')
        return []
    cfg = gen_model.make_config('qwen2', 'tiny')
    cfg['n_layer'] = 5
    path = os.path.join(tmp, 'split-plan.gguf')
    info = gen_model.generate(path, 'qwen2', 'tiny', 'F32', seed=8, cfg=cfg)
    _, W, _ = reference.load_model(path)
    n_ctx = 300
    want = expected(info, path, n_ctx, kv_elem=2)  # the default F16 cache
    kv_layer = want['kv_token'] // 5 * n_ctx
    layer = [4 * sum(a.size for name, a in W.items() if name.startswith('blk.%d.' % il))
             for il in range(5)]
    head = 4 * W.get('output.weight', W['token_embd.weight']).size
    fails = []
    for devices in ('0,0', '0,0,0'):
        n = devices.count(',') + 1
        ends = expected_split(W, 5, 0, n)
        starts = [0] + ends[:-1]
        shares = [want['scratch'] + sum(layer[a:b]) + kv_layer * (b - a) + (head if b == 5 else 0)
                  for a, b in zip(starts, ends)]
        for available in (max(shares), max(shares) - 1):
            p = subprocess.run([cli_path(), 'info', '-m', path, '--plan-only', '--ctx',
                                str(n_ctx), '--backend', 'vulkan', '--device', devices,
                                '--available', str(available)], capture_output=True, timeout=60)
            out = p.stdout.decode(errors='replace')
            got = [(int(a), int(b) + 1, int(c)) for a, b, c in re.findall(
                r'plan device \d+\s+layers (\d+)-(\d+): .*?\((\d+) bytes\)', out)]
            fits = re.search(r'^\s*fits\s+(yes|no)', out, re.M)
            label = '--device %s with %d bytes' % (devices, available)
            if p.returncode != 0 or fits is None:
                fails.append('%s: exit %d, %r' % (label, p.returncode, out))
            elif got != list(zip(starts, ends, shares)):
                fails.append('%s: devices %s, expected %s' % (label, got,
                                                             list(zip(starts, ends, shares))))
            elif (fits.group(1) == 'yes') != (available == max(shares)):
                fails.append('%s: fits %s' % (label, fits.group(1)))
    return fails


def check_r1_kv(tmp):
    """R1's KV bytes per token: a deepseek2 file with R1's layer count and
    latent sizes (61 layers, kv_lora 512, qk_rope 64; small elsewhere) plans
    61 * (512 + 64) * 2 = 70,272 bytes with the F16 cache (issue 5) and
    twice that with --kv-type f32."""
    cfg = gen_model.make_config('deepseek2', 'tiny')
    cfg.update(n_layer=61, kv_lora=512, qk_rope=64)
    path = os.path.join(tmp, 'r1-kv.gguf')
    gen_model.generate(path, 'deepseek2', 'tiny', 'Q8_0', seed=9, cfg=cfg)
    fails = []
    for kv_type, want in ((None, 70272), ('f32', 140544)):
        got, out = run_plan(path, 256, 10 ** 12, kv_type)
        if got['kv_token'] != want:
            fails.append('R1 shapes%s: %d KV bytes per token, expected %d'
                         % (' --kv-type ' + kv_type if kv_type else '', got['kv_token'], want))
    return fails


def check_errors(tmp):
    """A file that is not a GGUF, and one that is missing, give a reason."""
    fails = []
    junk = os.path.join(tmp, 'junk.gguf')
    with open(junk, 'wb') as f:
        f.write(b'not a model at all' * 10)
    for path in (junk, os.path.join(tmp, 'missing.gguf')):
        p = subprocess.run([cli_path(), 'info', '-m', path, '--plan-only'],
                           capture_output=True, timeout=60)
        err = p.stderr.decode(errors='replace')
        if p.returncode == 0 or 'cannot plan' not in err or os.path.basename(path) not in err:
            fails.append('%s: exit %d, stderr %r' % (path, p.returncode, err))
    return fails


def check_vulkan(tmp):
    """With --backend vulkan the plan is made against the default device's
    memory, as `ponder-cli devices` lists it. Skipped without a device."""
    p = subprocess.run([cli_path(), 'devices'], capture_output=True, timeout=60)
    out = out_devices = p.stdout.decode(errors='replace')
    m = re.search(r'^\d+\* (.+)\n\s+type: \w+, memory: ([\d.]+) GiB', out, re.M)
    if p.returncode != 0 or m is None:
        print('no Vulkan device: vulkan plan not checked')
        return []
    name, gib = m.group(1), float(m.group(2))
    path = os.path.join(tmp, 'vk.gguf')
    gen_model.generate(path, 'qwen2', 'tiny', 'F32', seed=4)
    p = subprocess.run([cli_path(), 'info', '-m', path, '--plan-only', '--backend', 'vulkan'],
                       capture_output=True, timeout=60)
    out = p.stdout.decode(errors='replace')
    head = re.search(r'^memory plan at context \d+ on (.+):$', out, re.M)
    avail = re.search(r'^\s*available\s+.*\((\d+) bytes\)', out, re.M)
    if p.returncode != 0 or head is None or avail is None:
        return ['vulkan plan: exit %d, output %r' % (p.returncode, out)]
    fails = []
    if head.group(1) != name:
        fails.append('vulkan plan: device %r, expected %r' % (head.group(1), name))
    kv_type = re.search(r'^\s*plan KV cache type\s+(\w+)', out, re.M)
    if kv_type is None or kv_type.group(1) != 'f16':
        fails.append('vulkan plan: cache type %s, expected the default f16'
                     % (kv_type and kv_type.group(1)))
    if abs(int(avail.group(1)) / 2 ** 30 - gib) > 0.05:
        fails.append('vulkan plan: %s bytes available, devices says %.1f GiB'
                     % (avail.group(1), gib))
    # A device by index: the listed one, and a clear error past the list.
    n_devices = len(re.findall(r'^\d+\*? ', out_devices, re.M))
    p = subprocess.run([cli_path(), 'info', '-m', path, '--plan-only', '--backend', 'vulkan',
                        '--device', '0'], capture_output=True, timeout=60)
    first = re.search(r'^0\*? (.+)$', out_devices, re.M).group(1)
    if p.returncode != 0 or ('on %s:' % first) not in p.stdout.decode(errors='replace'):
        fails.append('vulkan plan --device 0: exit %d, %r' % (p.returncode, p.stdout[:300]))
    p = subprocess.run([cli_path(), 'info', '-m', path, '--plan-only', '--backend', 'vulkan',
                        '--device', str(n_devices)], capture_output=True, timeout=60)
    if p.returncode == 0 or b'there is no device' not in p.stderr:
        fails.append('vulkan plan --device %d: exit %d, %r' % (n_devices, p.returncode,
                                                             p.stderr))
    return fails


def main():
    fails = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch, preset, wtype in CASES:
            fails += check_case(tmp, arch, preset, wtype)
        for arch, preset, wtype in CASES[:2] + CASES[5:7]:
            fails += check_case(tmp, arch, preset, wtype, 'f32')
        fails += check_r1_kv(tmp)
        fails += check_errors(tmp)
        fails += check_vulkan(tmp)
        fails += check_expert_placement(tmp)
        fails += check_cpu_layers(tmp)
        fails += check_split_plan(tmp)
    for f in fails:
        print('FAIL', f)
    print('%d cases, %d failures' % (len(CASES), len(fails)))
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
