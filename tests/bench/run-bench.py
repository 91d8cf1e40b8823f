#!/usr/bin/python3
# run-bench.py: the CPU benchmark of shared/docs/benchmarks.md on this machine.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Generates (once, cached) the benchmark models with random weights and the
# real shapes (tests/gen_model.py, fast mode: random quantised blocks with
# sane scales), measures the read bandwidth with 2 threads over 1 GiB in
# huge pages, as the engine holds a CPU model's weights
# (tests/bench/bandwidth.c), runs `ponder-cli bench -p 64 -n 32 --threads 2
# --json` on each model and prints the table of benchmarks.md next to
# llama.cpp's figures. The decode bound is bandwidth / weights read per token.
#
# Usage: run-bench.py [--models NAME,...] [--cache DIR] [--threads N] [--json OUT]
# Env:   PONDER_BUILD_ROOT (ponder-cli and bandwidth are found under it)

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import gen_model  # noqa: E402

# name -> (preset, weight type, llama.cpp CPU figures from benchmarks.md:
#          weights MB/token, bound t/s, pp64 t/s, tg32 t/s)
MODELS = {
    'qwen2-0.5b Q8_0': ('qwen2-0.5b', 'Q8_0', (525, 67, 188, 42.0)),
    'qwen2-0.5b Q4_K_M': ('qwen2-0.5b', 'Q4_K_M', (392, 89, 221, 46.1)),
    'qwen2-1.5b Q4_K_M': ('qwen2-1.5b', 'Q4_K_M', (980, 36, 84, 24.8)),
    # MoE: bytes per token = always-on weights + 6 of the 64 experts' slices
    'deepseek2-small Q4_K_M': ('deepseek2-small', 'Q4_K_M', (58.5, 598, 1216, 214.7)),
}


def arch_of(preset):
    return 'deepseek2' if preset in gen_model.DS2_PRESETS else 'qwen2'
PEER_BANDWIDTH_GBPS = 35.0
GENERATOR_VERSION = 1  # bump when gen_model's output for these presets changes


def build_root():
    return os.environ.get('PONDER_BUILD_ROOT',
                          os.path.join(os.path.dirname(os.path.dirname(HERE)), 'build'))


def cached_model(cache, preset, wtype):
    """Path of the model, generated unless a complete one is cached."""
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, '%s-%s.gguf' % (preset, wtype))
    stamp = path + '.stamp'
    want = 'gen_model v%d %s %s fast\n' % (GENERATOR_VERSION, preset, wtype)
    if os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == want:
        return path
    sys.stderr.write('generating %s %s ... ' % (preset, wtype))
    sys.stderr.flush()
    t0 = time.monotonic()
    tmp = path + '.part'
    gen_model.generate(tmp, arch_of(preset), preset, wtype, seed=1, fast=True)
    os.replace(tmp, path)
    with open(stamp, 'w') as f:
        f.write(want)
    sys.stderr.write('%.0f s\n' % (time.monotonic() - t0))
    return path


def measure_bandwidth(threads):
    exe = os.path.join(build_root(), 'tests', 'bench', 'bandwidth')
    p = subprocess.run([exe, str(threads), '1024', '7'], capture_output=True, text=True,
                       check=True)
    return json.loads(p.stdout)


def run_bench(model, threads, n_prompt, n_gen):
    exe = os.path.join(build_root(), 'cli', 'ponder-cli')
    p = subprocess.run([exe, 'bench', '-m', model, '-p', str(n_prompt), '-n', str(n_gen),
                        '--threads', str(threads), '--json'],
                       capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise RuntimeError('ponder-cli bench failed (%d): %s' % (p.returncode, p.stderr.strip()))
    for line in reversed(p.stdout.splitlines()):
        line = line.strip()
        if line.startswith('{'):
            return json.loads(line)
    raise RuntimeError('ponder-cli bench printed no JSON: %r' % p.stdout)


def main():
    ap = argparse.ArgumentParser(description='benchmarks.md on this machine')
    ap.add_argument('--models', default=','.join(MODELS),
                    help='comma-separated, from: ' + ', '.join(MODELS))
    ap.add_argument('--cache', default=os.path.join(build_root(), 'bench-models'))
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('-p', type=int, default=64, help='prompt tokens')
    ap.add_argument('-n', type=int, default=32, help='generated tokens')
    ap.add_argument('--json', help='also write the results to this file')
    ap.add_argument('--generate-only', action='store_true')
    args = ap.parse_args()

    names = [m.strip() for m in args.models.split(',') if m.strip()]
    for name in names:
        if name not in MODELS:
            ap.error('unknown model %r' % name)
    paths = {name: cached_model(args.cache, *MODELS[name][:2]) for name in names}
    if args.generate_only:
        return 0

    # Shared machines are noisy: measure the bandwidth before and after the
    # runs as well and take the higher median, so that a busy moment does not
    # make the bound look low.
    bws = [measure_bandwidth(args.threads)]
    head = ('| model | weights read / token | bound t/s | prefill pp%d t/s | decode tg%d t/s '
            '| decode / bound | llama.cpp pp / tg / %% of bound |' % (args.p, args.n))
    runs = {}
    failed = False
    for name in names:
        try:
            runs[name] = run_bench(paths[name], args.threads, args.p, args.n)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            runs[name] = str(e)
            failed = True
    bws.append(measure_bandwidth(args.threads))
    gbps = max(b['median_gbps'] for b in bws)
    print('read bandwidth, %d threads over 1 GiB in %s pages: %.1f GB/s (medians before/after '
          'the runs: %s; in 4 KiB pages: %s); llama.cpp figures were taken at about %.0f GB/s'
          % (args.threads, '2 MiB' if all(b.get('huge_pages') for b in bws) else 'mostly 4 KiB',
             gbps, ' / '.join('%.1f' % b['median_gbps'] for b in bws),
             ' / '.join('%.1f' % b.get('median_gbps_4k', 0) for b in bws),
             PEER_BANDWIDTH_GBPS))
    print()
    print(head)
    print('| --- | --: | --: | --: | --: | --: | --: |')
    results = {'bandwidth': bws, 'bandwidth_gbps': gbps, 'models': {}}
    for name in names:
        preset, wtype, peer = MODELS[name]
        cfg = gen_model.make_config(arch_of(preset), preset)
        if arch_of(preset) == 'qwen2':
            cfg['n_vocab'] = 151936
        read = gen_model.weights_read_bytes(cfg, wtype)
        bound = gbps * 1e9 / read
        r = runs[name]
        if isinstance(r, str):
            print('| %s | %.1f MB | %.0f | error: %s |' % (name, read / 1e6, bound, r))
            continue
        pp, tg = float(r['prefill_tps']), float(r['decode_tps'])
        print('| %s | %.1f MB | %.0f | %.1f | %.1f | %.0f%% | %.0f / %.1f / %.0f%% |'
              % (name, read / 1e6, bound, pp, tg, 100 * tg / bound, peer[2], peer[3],
                 100 * peer[3] / peer[1]))
        results['models'][name] = dict(weights_read_bytes=read, bound_tps=bound,
                                       prefill_tps=pp, decode_tps=tg, raw=r)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
