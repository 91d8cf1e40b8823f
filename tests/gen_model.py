#!/usr/bin/python3
# gen_model.py: GGUF test models with random weights and the exact tensor
# names, shapes, types and metadata of the real dense architectures
# (engine-spec.md section 3: qwen2, llama, qwen3; tied or untied output;
# deepseek2 MoE with MLA in both weight layouts, DS2_PRESETS).
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Library:
#   info = generate(path, arch='qwen2', preset='tiny', wtype='F32',
#                   vocab='synthetic', tied=False, seed=0, fast=False)
#   script = generate_scripted(path)          # also writes path + '.json'
# Command line:
#   gen_model.py model --arch qwen2 --preset tiny --type Q4_K_M --out m.gguf
#   gen_model.py scripted --out scripted.gguf  (stable: the app tests use it)
#   gen_model.py presets                       (lists presets and types)
#
# Weight types: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K
# IQ1_S IQ1_M IQ2_XXS IQ2_XS IQ2_S IQ3_XXS IQ3_S IQ4_NL IQ4_XS ("pure": every
# matrix that type, with llama.cpp's shape fallbacks), Q4_K_M and Q3_K_M
# (llama.cpp's per-tensor mixes, engine-spec 2.6 and below) and UD-IQ1_S
# (unsloth's R1 mix, below).
#
# Quantised tensors normally hold the real quantisation (tests/quants.py) of
# known float weights. With fast=True (the benchmark presets) they are blocks
# of random bytes whose f16 scale fields are overwritten with values chosen so
# that the weights have the intended spread: the file then has the right
# shapes and types for timing, but no float weights behind it.

import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gguf_writer  # noqa: E402
import quants  # noqa: E402
import quants_iq  # noqa: E402
from gguf_writer import GGUFValueType  # noqa: E402

TESTDATA = os.environ.get(
    'PONDER_SHARED_TESTDATA',
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'testdata'))
TOKDIR = os.path.join(TESTDATA, 'tokenizer')

PURE_TYPES = ('F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1',
              'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K',
              'IQ1_S', 'IQ1_M', 'IQ2_XXS', 'IQ2_XS', 'IQ2_S', 'IQ3_XXS', 'IQ3_S', 'IQ4_NL',
              'IQ4_XS')
# UD-IQ1_S: the mix of unsloth's R1 UD-IQ1_S files (engine-spec 2.6): FFN /
# expert matrices IQ1_S, their down projections IQ2_XXS in "more bits"
# layers, everything else 4-6 bit K-quants.
MIX_TYPES = ('Q4_K_M', 'Q3_K_M', 'UD-IQ1_S')
ALL_TYPES = PURE_TYPES + MIX_TYPES

# llama_ftype values written to general.file_type (pure K types use the _S id).
FILE_TYPE = {
    'F32': 0, 'F16': 1, 'Q4_0': 2, 'Q4_1': 3, 'Q8_0': 7, 'Q5_0': 8, 'Q5_1': 9,
    'Q2_K': 10, 'Q3_K': 11, 'Q3_K_M': 12, 'Q4_K': 14, 'Q4_K_M': 15, 'Q5_K': 16, 'Q6_K': 18,
    'BF16': 32, 'IQ2_XXS': 19, 'IQ2_XS': 20, 'IQ3_XXS': 23, 'IQ1_S': 24, 'IQ4_NL': 25,
    'IQ3_S': 26, 'IQ2_S': 28, 'IQ4_XS': 30, 'IQ1_M': 31, 'UD-IQ1_S': 24,
}

# What llama.cpp's quantizer uses when a row length is not a multiple of the
# target's block size (engine-spec 2.6).
FALLBACK = {'Q4_K': 'Q5_0', 'Q5_K': 'Q5_1', 'Q6_K': 'Q8_0', 'Q2_K': 'Q4_0', 'Q3_K': 'Q4_0',
            'IQ1_S': 'IQ4_NL', 'IQ1_M': 'IQ4_NL', 'IQ2_XXS': 'IQ4_NL', 'IQ2_XS': 'IQ4_NL',
            'IQ2_S': 'IQ4_NL', 'IQ3_XXS': 'IQ4_NL', 'IQ3_S': 'IQ4_NL', 'IQ4_XS': 'IQ4_NL'}

# Shapes. 'tiny' keeps rows at 64 (K-quants then fall back to 32-blocks);
# 'tiny256' makes every row a multiple of 256 so K-quants are really used.
# qwen3 presets have head_dim * n_head != n_embd on purpose (spec 3.5).
PRESETS = {
    'tiny': dict(n_embd=64, n_layer=2, n_head=4, n_head_kv=2, head_dim=16, n_ff=160),
    'tiny256': dict(n_embd=256, n_layer=2, n_head=4, n_head_kv=2, head_dim=64, n_ff=512),
    'qwen2-0.5b': dict(arch='qwen2', n_embd=896, n_layer=24, n_head=14, n_head_kv=2,
                       head_dim=64, n_ff=4864, rope_base=1e6, eps=1e-6, tied=True,
                       ctx=32768, vocab='real'),
    'qwen2-1.5b': dict(arch='qwen2', n_embd=1536, n_layer=28, n_head=12, n_head_kv=2,
                       head_dim=128, n_ff=8960, rope_base=1e4, eps=1e-6, tied=False,
                       ctx=131072, vocab='real'),
}
TINY_QWEN3 = {'tiny': dict(head_dim=32), 'tiny256': dict(head_dim=128)}

# deepseek2 (engine-spec 3.6, 4). The tiny presets keep every MoE feature in
# play: a leading dense layer, several expert groups of which some are kept,
# sigmoid scores with a selection bias, normalised and scaled weights, YaRN
# with a small original context so that the blend matters at test positions.
# 'layout' is 'mla' (attn_k_b / attn_v_b) or 'legacy' (attn_kv_b).
_DS2_TINY = dict(arch='deepseek2', n_embd=64, n_layer=3, n_head=4, n_ff=96, q_lora=32,
                 kv_lora=32, qk_nope=16, qk_rope=8, v_head=16, n_expert=8, n_expert_used=3,
                 n_expert_shared=1, n_ff_exp=32, n_group=4, n_group_used=2, gating=2,
                 exp_bias=True, w_scale=2.5, w_norm=True, n_dense=1, layout='mla')
DS2_PRESETS = {
    'tiny': dict(_DS2_TINY),
    'tiny-legacy': dict(_DS2_TINY, layout='legacy'),
    'tiny-noqlora': dict(_DS2_TINY, q_lora=0, layout='legacy', n_group=2, n_group_used=1),
    'tiny-noqlora-mla': dict(_DS2_TINY, q_lora=0),
    # V2-style: softmax scores, no bias, no groups, no weight normalisation
    'tiny-softmax': dict(_DS2_TINY, gating=1, exp_bias=False, n_group=0, n_group_used=0,
                         w_norm=False, w_scale=1.0, layout='legacy'),
    # latent and rope sizes that are not multiples of 8: the CPU's generic
    # (non-SIMD) attention loop
    'tiny-odd': dict(_DS2_TINY, kv_lora=20, qk_nope=10, qk_rope=6, v_head=12),
    # rows of 256 where the real model has them, so K-quants are really used
    'tiny256': dict(_DS2_TINY, n_embd=256, n_ff=512, q_lora=256, kv_lora=256, qk_nope=32,
                    qk_rope=16, v_head=32, n_ff_exp=256, n_expert=16, n_expert_used=4,
                    n_group=4, n_group_used=2),
    'deepseek2-small': dict(arch='deepseek2', n_embd=1024, n_layer=6, n_head=16, n_ff=2816,
                            q_lora=384, kv_lora=128, qk_nope=64, qk_rope=32, v_head=64,
                            n_expert=64, n_expert_used=6, n_expert_shared=1, n_ff_exp=256,
                            n_group=8, n_group_used=4, gating=2, exp_bias=True, w_scale=2.5,
                            w_norm=True, n_dense=1, layout='mla', n_vocab=32000,
                            ctx=163840, yarn=dict(factor=40.0, orig=4096, log_mul=0.1)),
}

ARCH_DEFAULTS = {
    'qwen2': dict(rope_base=1e4, eps=1e-6, ctx=4096),
    'llama': dict(rope_base=5e5, eps=1e-5, ctx=4096),
    'qwen3': dict(rope_base=1e6, eps=1e-6, ctx=131072,
                  yarn=dict(factor=4.0, orig=32768)),
    'deepseek2': dict(rope_base=1e4, eps=1e-6, ctx=4096,
                      yarn=dict(factor=40.0, orig=64, log_mul=0.1)),
}

VOCAB_FILE = {'qwen2': 'vocab-deepseek-r1-qwen.gguf', 'qwen3': 'vocab-deepseek-r1-qwen.gguf',
              'llama': 'vocab-llama3.gguf', 'deepseek2': 'vocab-deepseek-v3.gguf'}
TEMPLATE_FILE = {'qwen2': 'deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja',
                 'qwen3': 'deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja',
                 'llama': 'deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja',
                 'deepseek2': 'llama-cpp-deepseek-r1.jinja'}

BOS = '<｜begin▁of▁sentence｜>'
EOS = '<｜end▁of▁sentence｜>'
USER = '<｜User｜>'
ASSISTANT = '<｜Assistant｜>'
THINK = '<think>'
END_THINK = '</think>'
EOT = '<|EOT|>'


def make_config(arch='qwen2', preset='tiny', tied=None):
    """The hyper-parameters of a preset as a dict."""
    p = dict(DS2_PRESETS[preset] if arch == 'deepseek2' else PRESETS[preset])
    if p.get('arch', arch) != arch:
        raise ValueError('preset %s is %s, not %s' % (preset, p['arch'], arch))
    cfg = dict(ARCH_DEFAULTS[arch])
    cfg.update(arch=arch, tied=False, vocab='synthetic', n_vocab=384)
    if arch == 'qwen3' and preset in TINY_QWEN3:
        p.update(TINY_QWEN3[preset])
    cfg.update(p)
    if tied is not None:
        cfg['tied'] = tied
    return cfg


# ---- type selection ----------------------------------------------------------

def _use_more_bits(i, n):
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def _fit_type(t, row_len):
    """llama.cpp's shape fallback for a row length the block does not divide."""
    if t in ('F32', 'F16', 'BF16'):
        return t
    bs = quants.BLOCK[t][0]
    if row_len % bs == 0:
        return t
    t = FALLBACK.get(t, t)
    if row_len % quants.BLOCK[t][0] == 0:
        return t
    return 'F16'


def tensor_type(name, wtype, row_len, n_dims, layer, n_layer, tied):
    """The ggml type a llama.cpp-made file of type wtype gives tensor name."""
    if n_dims == 1 or name.endswith('ffn_gate_inp.weight'):
        return 'F32'
    if wtype in PURE_TYPES:
        return _fit_type(wtype, row_len)
    if wtype == 'UD-IQ1_S':
        return _fit_type(_ud_iq1_s_type(name, layer, n_layer, tied), row_len)
    if wtype == 'Q3_K_M':
        return _fit_type(_q3_k_m_type(name, layer, n_layer, tied), row_len)
    if wtype != 'Q4_K_M':
        raise ValueError('unknown weight type %s' % wtype)
    t = 'Q4_K'
    if name.endswith('ffn_gate_inp.weight'):
        return 'F32'  # routers stay F32 in llama.cpp's files (spec 3.6)
    if name == 'output.weight' or (tied and name == 'token_embd.weight'):
        t = 'Q6_K'
    elif '.ffn_down_' in name:
        if _use_more_bits(layer, n_layer):
            t = 'Q6_K'
    elif name.endswith('attn_v.weight') or name.endswith('ffn_down.weight'):
        if _use_more_bits(layer, n_layer):
            t = 'Q6_K'
    return _fit_type(t, row_len)


def _q3_k_m_type(name, layer, n_layer, tied):
    """llama.cpp's Q3_K_M (ftype 12) as llama_tensor_get_type gives it for
    dense models: Q3_K, with attn_v Q5_K in the first two layers and Q4_K
    after, ffn_down Q5_K in the first n/16 layers and Q4_K after,
    attn_output Q4_K and the output matrix Q6_K."""
    if name == 'output.weight' or (tied and name == 'token_embd.weight'):
        return 'Q6_K'
    if name.endswith('attn_v.weight'):
        return 'Q5_K' if layer < 2 else 'Q4_K'
    if 'ffn_down' in name:
        return 'Q5_K' if layer < n_layer // 16 else 'Q4_K'
    if name.endswith('attn_output.weight'):
        return 'Q4_K'
    return 'Q3_K'


def _ud_iq1_s_type(name, layer, n_layer, tied):
    if name == 'output.weight' or (tied and name == 'token_embd.weight'):
        return 'Q6_K'
    ffn = ('ffn_gate.', 'ffn_up.', 'ffn_down.', 'ffn_gate_exps.', 'ffn_up_exps.',
           'ffn_down_exps.')
    if any(k in name for k in ffn):
        if 'ffn_down' in name and _use_more_bits(layer, n_layer):
            return 'IQ2_XXS'
        return 'IQ1_S'
    if name.endswith('attn_v.weight') or 'shexp' in name:
        return 'Q6_K'
    if name.endswith('attn_output.weight'):
        return 'Q5_K'
    return 'Q4_K'


# ---- tensors -----------------------------------------------------------------

def deepseek2_specs(cfg):
    """deepseek2 tensors (spec 3.6); 3-D expert tensors are numpy shape
    (n_expert, rows, row_len), i.e. GGUF [row_len, rows, n_expert]."""
    E, V, H = cfg['n_embd'], cfg['n_vocab'], cfg['n_head']
    ql, kl, nope, rope, dv = (cfg['q_lora'], cfg['kv_lora'], cfg['qk_nope'], cfg['qk_rope'],
                              cfg['v_head'])
    dk = nope + rope
    X, FX = cfg['n_expert'], cfg['n_ff_exp']
    FS = FX * cfg['n_expert_shared']
    specs = [('token_embd.weight', (V, E), 1.0, -1)]
    for il in range(cfg['n_layer']):
        p = 'blk.%d.' % il
        specs.append((p + 'attn_norm.weight', (E,), 'norm', il))
        if ql:
            specs.append((p + 'attn_q_a.weight', (ql, E), 1 / math.sqrt(E), il))
            specs.append((p + 'attn_q_a_norm.weight', (ql,), 'norm', il))
            specs.append((p + 'attn_q_b.weight', (H * dk, ql), 1 / math.sqrt(ql), il))
        else:
            specs.append((p + 'attn_q.weight', (H * dk, E), 1 / math.sqrt(E), il))
        specs.append((p + 'attn_kv_a_mqa.weight', (kl + rope, E), 1 / math.sqrt(E), il))
        specs.append((p + 'attn_kv_a_norm.weight', (kl,), 'norm', il))
        if cfg['layout'] == 'mla':
            specs.append((p + 'attn_k_b.weight', (H, kl, nope), 1 / math.sqrt(kl), il))
            specs.append((p + 'attn_v_b.weight', (H, dv, kl), 1 / math.sqrt(kl), il))
        else:
            specs.append((p + 'attn_kv_b.weight', (H * (nope + dv), kl), 1 / math.sqrt(kl), il))
        specs.append((p + 'attn_output.weight', (E, H * dv), 0.5 / math.sqrt(H * dv), il))
        specs.append((p + 'ffn_norm.weight', (E,), 'norm', il))
        if il < cfg['n_dense']:
            F = cfg['n_ff']
            specs.append((p + 'ffn_gate.weight', (F, E), 1 / math.sqrt(E), il))
            specs.append((p + 'ffn_up.weight', (F, E), 1 / math.sqrt(E), il))
            specs.append((p + 'ffn_down.weight', (E, F), 0.5 / math.sqrt(F), il))
            continue
        # a wide router spread so that the routing decisions are clear-cut
        specs.append((p + 'ffn_gate_inp.weight', (X, E), 2.0 / math.sqrt(E), il))
        if cfg['exp_bias']:
            specs.append((p + 'exp_probs_b.bias', (X,), 0.3, il))
        specs.append((p + 'ffn_gate_exps.weight', (X, FX, E), 1 / math.sqrt(E), il))
        specs.append((p + 'ffn_up_exps.weight', (X, FX, E), 1 / math.sqrt(E), il))
        specs.append((p + 'ffn_down_exps.weight', (X, E, FX), 0.3 / math.sqrt(FX), il))
        if cfg['n_expert_shared']:
            specs.append((p + 'ffn_gate_shexp.weight', (FS, E), 1 / math.sqrt(E), il))
            specs.append((p + 'ffn_up_shexp.weight', (FS, E), 1 / math.sqrt(E), il))
            specs.append((p + 'ffn_down_shexp.weight', (E, FS), 0.5 / math.sqrt(FS), il))
    specs.append(('output_norm.weight', (E,), 'norm', -1))
    specs.append(('output.weight', (V, E), 1.5 / math.sqrt(E), -1))
    return specs


def tensor_specs(cfg):
    """[(name, numpy shape (rows, row_len) or (n,), std, layer)] in file order."""
    if cfg['arch'] == 'deepseek2':
        return deepseek2_specs(cfg)
    E, F, V = cfg['n_embd'], cfg['n_ff'], cfg['n_vocab']
    hd, nh, nkv = cfg['head_dim'], cfg['n_head'], cfg['n_head_kv']
    arch = cfg['arch']
    # Output projections of the residual blocks get a smaller spread so the
    # residual stream stays O(1) through the layers.
    # A tied table is also the output matrix: give it the output's spread.
    specs = [('token_embd.weight', (V, E), 1.5 / math.sqrt(E) if cfg['tied'] else 1.0, -1)]
    if arch == 'llama':
        specs.append(('rope_freqs.weight', (hd // 2,), None, -1))
    for il in range(cfg['n_layer']):
        p = 'blk.%d.' % il
        specs.append((p + 'attn_norm.weight', (E,), 'norm', il))
        specs.append((p + 'attn_q.weight', (nh * hd, E), 1 / math.sqrt(E), il))
        if arch == 'qwen2':
            specs.append((p + 'attn_q.bias', (nh * hd,), 0.2, il))
        specs.append((p + 'attn_k.weight', (nkv * hd, E), 1 / math.sqrt(E), il))
        if arch == 'qwen2':
            specs.append((p + 'attn_k.bias', (nkv * hd,), 0.2, il))
        specs.append((p + 'attn_v.weight', (nkv * hd, E), 1 / math.sqrt(E), il))
        if arch == 'qwen2':
            specs.append((p + 'attn_v.bias', (nkv * hd,), 0.2, il))
        specs.append((p + 'attn_output.weight', (E, nh * hd), 0.5 / math.sqrt(nh * hd), il))
        if arch == 'qwen3':
            specs.append((p + 'attn_q_norm.weight', (hd,), 'norm', il))
            specs.append((p + 'attn_k_norm.weight', (hd,), 'norm', il))
        specs.append((p + 'ffn_norm.weight', (E,), 'norm', il))
        specs.append((p + 'ffn_gate.weight', (F, E), 1 / math.sqrt(E), il))
        specs.append((p + 'ffn_up.weight', (F, E), 1 / math.sqrt(E), il))
        specs.append((p + 'ffn_down.weight', (E, F), 0.5 / math.sqrt(F), il))
    specs.append(('output_norm.weight', (E,), 'norm', -1))
    if not cfg['tied']:
        specs.append(('output.weight', (V, E), 1.5 / math.sqrt(E), -1))
    return specs


def llama3_rope_freqs(cfg):
    """Per-pair divisors by the Llama-3.1 rule of engine-spec 3.4. The tiny
    presets scale the original context down so that the divisors matter at
    the short positions tests use."""
    hd = cfg['head_dim']
    orig = 8192 if cfg['n_embd'] >= 1024 else 32
    factor, low_ff, high_ff = 8.0, 1.0, 4.0
    out = np.empty(hd // 2, np.float32)
    for i in range(hd // 2):
        f = cfg['rope_base'] ** (-2.0 * i / hd)
        lam = 2 * math.pi / f
        if lam < orig / high_ff:
            out[i] = 1.0
        elif lam > orig / low_ff:
            out[i] = factor
        else:
            smooth = (orig / lam - low_ff) / (high_ff - low_ff)
            out[i] = 1.0 / ((1 - smooth) / factor + smooth)
    return out


def _random_float(rng, shape, std):
    if std == 'norm':
        return (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
    return (std * rng.standard_normal(shape)).astype(np.float32)


_FAST_CACHE = {}


def _fast_fields(t):
    """Scale fields of a block type: (offset of d, offset of dmin or None)."""
    return {
        'Q4_0': (0, None), 'Q5_0': (0, None), 'Q8_0': (0, None),
        'Q4_1': (0, 2), 'Q5_1': (0, 2),
        'Q2_K': (80, 82), 'Q3_K': (108, None), 'Q4_K': (0, 2), 'Q5_K': (0, 2),
        'Q6_K': (208, None),
    }[t]


def _set_f16(blocks, off, value):
    blocks[:, off:off + 2] = np.frombuffer(np.float16(value).tobytes(), np.uint8)


def _fast_calibration(t):
    """(d, dmin/d) that give random blocks of type t mean 0 and std 1."""
    if t in _FAST_CACHE:
        return _FAST_CACHE[t]
    rng = np.random.default_rng(1234)
    bs, bb = quants.BLOCK[t]
    d_off, m_off = _fast_fields(t)
    blocks = rng.integers(0, 256, size=(256, bb), dtype=np.uint8)
    _set_f16(blocks, d_off, 1.0)
    ratio = 0.0
    if m_off is not None:
        _set_f16(blocks, m_off, 0.0)
        a = quants.dequantize(t, blocks.tobytes(), 256 * bs).astype(np.float64)
        _set_f16(blocks, d_off, 0.0)
        _set_f16(blocks, m_off, 1.0)
        b = quants.dequantize(t, blocks.tobytes(), 256 * bs).astype(np.float64)
        # legacy Q4_1/Q5_1 add m (x = d*q + m); K types subtract dmin*m
        ratio = -a.mean() / b.mean()
        x = a + ratio * b
    else:
        x = quants.dequantize(t, blocks.tobytes(), 256 * bs).astype(np.float64)
    res = (1.0 / x.std(), ratio)
    _FAST_CACHE[t] = res
    return res


def _fast_blocks(rng, t, rows, row_len, std):
    """Random quantised bytes of type t with weights of about this std."""
    bs, bb = quants.BLOCK[t]
    n_blocks = rows * row_len // bs
    if t in quants_iq.BLOCK:
        # every field but the super-block scale is random; scale for std 1
        if t not in _FAST_CACHE:
            b1 = quants_iq.random_blocks(t, np.random.default_rng(1234), 256, d=1.0)
            _FAST_CACHE[t] = 1.0 / quants_iq.dequantize_blocks(t, b1).astype(np.float64).std()
        return quants_iq.random_blocks(t, rng, n_blocks, d=_FAST_CACHE[t] * std).tobytes()
    blocks = rng.integers(0, 256, size=(n_blocks, bb), dtype=np.uint8)
    d, ratio = _fast_calibration(t)
    d_off, m_off = _fast_fields(t)
    _set_f16(blocks, d_off, d * std)
    if m_off is not None:
        _set_f16(blocks, m_off, ratio * d * std)
    return blocks.tobytes()


def _encode(rng, name, t, shape, values, std, fast):
    """(bytes, float weights actually stored or None)."""
    if fast and t not in ('F32', 'F16', 'BF16'):
        rows, row_len = int(np.prod(shape[:-1])), shape[-1]
        return _fast_blocks(rng, t, rows, row_len, std), None
    x = values if values is not None else _random_float(rng, shape, std)
    x2 = x.reshape(-1, shape[-1])
    return quants.quantize(t, x2), x


# ---- vocabularies --------------------------------------------------------------

def _byte_chars():
    """GPT-2's bytes_to_unicode table (engine-spec 5.2 step 3), index = byte."""
    direct = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out = {}
    extra = 0
    for b in range(256):
        if b in direct:
            out[b] = chr(b)
        else:
            out[b] = chr(0x100 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def synthetic_vocab(n_vocab):
    """A small byte-level BPE vocabulary: 256 byte tokens, merges of common
    letters, then the R1 special tokens (looked up by string by the engine)."""
    tokens = _byte_chars()
    types = [1] * 256
    merges = []
    have = set(tokens)
    specials = [(EOS, 3), (USER, 3), (ASSISTANT, 3), (BOS, 3), (EOT, 3),
                (THINK, 4), (END_THINK, 4)]
    letters = 'etaoinshrdlucmfwypgb'
    firsts = ['Ġ'] + list(letters)
    n_merge = n_vocab - 256 - len(specials)
    for a in firsts:
        for b in letters:
            if len(merges) >= n_merge:
                break
            if a + b not in have:
                merges.append('%s %s' % (a, b))
                tokens.append(a + b)
                types.append(1)
                have.add(a + b)
    for s, ty in specials:
        tokens.append(s)
        types.append(ty)
    ids = {s: tokens.index(s) for s, _ in specials}
    return dict(tokens=tokens, types=types, merges=merges, bos=ids[BOS], eos=ids[EOS],
                pre='deepseek-r1-qwen')


_VOCAB_CACHE = {}


def read_vocab(arch):
    """The typed kv of the real vocabulary GGUF for arch (read once: reading
    150k strings takes a second or two)."""
    path = os.path.join(TOKDIR, VOCAB_FILE[arch])
    if path not in _VOCAB_CACHE:
        _VOCAB_CACHE[path] = gguf_writer.read_gguf(path, typed=True)[0]
    return dict(_VOCAB_CACHE[path])


def _read_template(arch):
    with open(os.path.join(TOKDIR, 'templates', TEMPLATE_FILE[arch]), encoding='utf-8') as f:
        return f.read()


def _add_vocab(w, cfg):
    """Writes the tokenizer.* keys; returns the token strings."""
    arch = cfg['arch']
    if cfg['vocab'] == 'synthetic':
        v = synthetic_vocab(cfg['n_vocab'])
        w.add_string('tokenizer.ggml.model', 'gpt2')
        w.add_string('tokenizer.ggml.pre', 'llama-bpe' if arch == 'llama' else v['pre'])
        w.add_array('tokenizer.ggml.tokens', v['tokens'], GGUFValueType.STRING)
        w.add_array('tokenizer.ggml.token_type', v['types'], GGUFValueType.INT32)
        w.add_array('tokenizer.ggml.merges', v['merges'], GGUFValueType.STRING)
        w.add_uint32('tokenizer.ggml.bos_token_id', v['bos'])
        w.add_uint32('tokenizer.ggml.eos_token_id', v['eos'])
        w.add_uint32('tokenizer.ggml.padding_token_id', v['eos'])
        w.add_bool('tokenizer.ggml.add_bos_token', True)
        w.add_bool('tokenizer.ggml.add_eos_token', False)
        w.add_string('tokenizer.chat_template', _read_template(arch))
        return v['tokens']
    kv = read_vocab(arch)
    tokens = list(kv['tokenizer.ggml.tokens'][1])
    if arch == 'llama':
        # vocab-llama3.gguf is Llama-3's added-token set; R1-Distill-Llama puts
        # DeepSeek's markers in these slots (engine-spec 5.4, ids unverified),
        # which the engine needs to find by string.
        types = list(kv['tokenizer.ggml.token_type'][1])
        for i, s in ((128000, BOS), (128001, EOS), (128011, USER), (128012, ASSISTANT),
                     (128013, THINK), (128014, END_THINK)):
            tokens[i] = s
            types[i] = 4 if s in (THINK, END_THINK) else 3
        kv['tokenizer.ggml.tokens'] = (GGUFValueType.ARRAY, tokens, GGUFValueType.STRING)
        kv['tokenizer.ggml.token_type'] = (GGUFValueType.ARRAY, types, GGUFValueType.INT32)
        kv['tokenizer.ggml.eos_token_id'] = (GGUFValueType.UINT32, 128001, None)
    for key in list(kv):
        if key == 'tokenizer.chat_template' or not key.startswith('tokenizer.'):
            del kv[key]
    gguf_writer.copy_kv(w, kv)
    w.add_string('tokenizer.chat_template', _read_template(arch))
    return tokens


# ---- the model file --------------------------------------------------------------

def _add_deepseek2_hparams(w, cfg):
    a = 'deepseek2'
    H, kl, rope = cfg['n_head'], cfg['kv_lora'], cfg['qk_rope']
    dk, dv = cfg['qk_nope'] + rope, cfg['v_head']
    # spec 3.6: the MLA layout describes the latent cache as one KV head
    if cfg['layout'] == 'mla':
        w.add_uint32(a + '.attention.head_count_kv', 1)
        w.add_uint32(a + '.attention.key_length', kl + rope)
        w.add_uint32(a + '.attention.value_length', kl)
        w.add_uint32(a + '.attention.key_length_mla', dk)
        w.add_uint32(a + '.attention.value_length_mla', dv)
    else:
        w.add_uint32(a + '.attention.head_count_kv', H)
        w.add_uint32(a + '.attention.key_length', dk)
        w.add_uint32(a + '.attention.value_length', dv)
    w.add_uint32(a + '.rope.dimension_count', rope)
    w.add_uint32(a + '.vocab_size', cfg['n_vocab'])
    w.add_uint32(a + '.leading_dense_block_count', cfg['n_dense'])
    w.add_uint32(a + '.expert_count', cfg['n_expert'])
    w.add_uint32(a + '.expert_used_count', cfg['n_expert_used'])
    w.add_uint32(a + '.expert_shared_count', cfg['n_expert_shared'])
    w.add_uint32(a + '.expert_feed_forward_length', cfg['n_ff_exp'])
    if cfg['n_group']:
        w.add_uint32(a + '.expert_group_count', cfg['n_group'])
        w.add_uint32(a + '.expert_group_used_count', cfg['n_group_used'])
    w.add_float32(a + '.expert_weights_scale', cfg['w_scale'])
    w.add_bool(a + '.expert_weights_norm', cfg['w_norm'])
    w.add_uint32(a + '.expert_gating_func', cfg['gating'])
    if cfg['q_lora']:
        w.add_uint32(a + '.attention.q_lora_rank', cfg['q_lora'])
    w.add_uint32(a + '.attention.kv_lora_rank', kl)
    if cfg.get('yarn'):
        w.add_float32(a + '.rope.scaling.yarn_log_multiplier', cfg['yarn']['log_mul'])


def _add_hparams(w, cfg, wtype, name):
    a = cfg['arch']
    w.add_string('general.architecture', a)
    w.add_string('general.type', 'model')
    w.add_string('general.name', name)
    w.add_uint32('general.file_type', FILE_TYPE[wtype])
    w.add_uint32('general.quantization_version', 2)
    w.add_uint32(a + '.context_length', cfg['ctx'])
    w.add_uint32(a + '.embedding_length', cfg['n_embd'])
    w.add_uint32(a + '.block_count', cfg['n_layer'])
    w.add_uint32(a + '.feed_forward_length', cfg['n_ff'])
    w.add_uint32(a + '.attention.head_count', cfg['n_head'])
    if a == 'deepseek2':
        _add_deepseek2_hparams(w, cfg)
    else:
        w.add_uint32(a + '.attention.head_count_kv', cfg['n_head_kv'])
    w.add_float32(a + '.rope.freq_base', cfg['rope_base'])
    w.add_float32(a + '.attention.layer_norm_rms_epsilon', cfg['eps'])
    if a == 'deepseek2':
        pass
    elif a in ('llama', 'qwen3') or cfg['head_dim'] * cfg['n_head'] != cfg['n_embd']:
        w.add_uint32(a + '.attention.key_length', cfg['head_dim'])
        w.add_uint32(a + '.attention.value_length', cfg['head_dim'])
    if a == 'llama':
        w.add_uint32(a + '.rope.dimension_count', cfg['head_dim'])
        w.add_uint32(a + '.vocab_size', cfg['n_vocab'])
    if cfg.get('yarn'):
        w.add_string(a + '.rope.scaling.type', 'yarn')
        w.add_float32(a + '.rope.scaling.factor', cfg['yarn']['factor'])
        w.add_uint32(a + '.rope.scaling.original_context_length', cfg['yarn']['orig'])


def generate(path, arch='qwen2', preset='tiny', wtype='F32', vocab=None, tied=None,
             seed=0, fast=False, overrides=None, cfg=None):
    """Writes a model; returns {'config', 'types': {name: type}, 'floats':
    {name: float32 array} (absent for fast random bytes), 'bytes_read_per_token'}.
    overrides: {tensor name: float32 array} to use instead of random values."""
    if cfg is None:
        cfg = make_config(arch, preset, tied)
    if vocab is not None:
        cfg['vocab'] = vocab
    if wtype not in ALL_TYPES:
        raise ValueError('unknown weight type %s (one of %s)' % (wtype, ' '.join(ALL_TYPES)))
    rng = np.random.default_rng(seed)
    w = gguf_writer.GGUFWriter(path)
    if cfg['vocab'] == 'real':
        cfg['n_vocab'] = len(read_vocab(cfg['arch'])['tokenizer.ggml.tokens'][1])
    _add_hparams(w, cfg, wtype, '%s-%s-%s' % (cfg['arch'], preset, wtype))
    _add_vocab(w, cfg)
    types, floats = {}, {}
    read_bytes = 0
    overrides = overrides or {}
    for name, shape, std, layer in tensor_specs(cfg):
        t = tensor_type(name, wtype, shape[-1], len(shape), layer, cfg['n_layer'], cfg['tied'])
        if name == 'rope_freqs.weight':
            values = llama3_rope_freqs(cfg)
        else:
            values = overrides.get(name)
        data, x = _encode(rng, name, t, shape, values, std, fast)
        w.add_tensor(name, data, t, list(reversed(shape)))
        types[name] = t
        if x is not None:
            floats[name] = x
        if name != 'token_embd.weight' or cfg['tied']:
            read_bytes += _read_share(cfg, name, len(data))
    w.write()
    return dict(config=cfg, types=types, floats=floats, bytes_read_per_token=read_bytes)


def _read_share(cfg, name, n_bytes):
    """A decoded token reads only its experts' slices of a routed tensor."""
    if '_exps.' in name:
        return n_bytes // cfg['n_expert'] * cfg['n_expert_used']
    return n_bytes


def weights_read_bytes(cfg, wtype):
    """Bytes of weights a decoded token reads: every tensor except the
    embedding table, unless the table is also the output (benchmarks.md)."""
    total = 0
    for name, shape, std, layer in tensor_specs(cfg):
        if name == 'token_embd.weight' and not cfg['tied']:
            continue
        t = tensor_type(name, wtype, shape[-1], len(shape), layer, cfg['n_layer'], cfg['tied'])
        rows = int(np.prod(shape[:-1])) if len(shape) >= 2 else 1
        total += _read_share(cfg, name, rows * quants.row_bytes(t, shape[-1]))
    return total


# ---- the scripted model ----------------------------------------------------------

# Each piece must be one whole token of the deepseek-r1-qwen vocabulary and no
# token may occur twice: the model maps "previous token -> next token".
SCRIPT_REASONING = ['Okay', ',', 'Ġthis', 'Ġis', 'Ġa', 'Ġscripted', 'Ġtest', 'Ġmodel',
                    '.', 'ĠI', 'Ġalways', 'Ġthink', 'Ġthe', 'Ġsame', 'Ġway']
SCRIPT_ANSWER = ['Hello', 'Ġfrom', 'Ġour', 'Ġfixed', 'Ġscript', '!']


def _token_text(tok):
    """Decodes a byte-level token string to its text."""
    inv = {c: b for b, c in enumerate(_byte_chars())}
    return bytes(inv[c] for c in tok).decode('utf-8')


def generate_scripted(path, sidecar=None, seed=7, pad_bait=False):
    """A tiny qwen2 model with the real R1-Distill-Qwen vocabulary whose greedy
    continuation of any R1 prompt (ending "<｜Assistant｜><think>\\n") is a
    fixed script. How: attn_output and ffn_down are zero, so the final hidden
    state is the last token's embedding; the script's tokens get orthogonal
    (one-hot) embeddings, and the output row of each script token's successor
    points along its predecessor's axis, so it wins by a wide margin (the
    script's tokens are all distinct). With pad_bait, every padding token
    (typed UNUSED) outscores the script at every step, so only an engine that
    never samples padding follows the script. Returns the script dict, also
    written to sidecar (default path + '.json')."""
    vocab = read_vocab('qwen2')
    tokens = vocab['tokenizer.ggml.tokens'][1]
    index = {s: i for i, s in enumerate(tokens)}
    newline = index['Ċ']
    reasoning = [index[s] for s in SCRIPT_REASONING]
    answer = [index[s] for s in SCRIPT_ANSWER]
    chain = [newline] + reasoning + [index[END_THINK], index['ĊĊ']] + answer + [index[EOS]]
    if len(set(chain)) != len(chain):
        raise ValueError('scripted model: script tokens must be distinct')
    cfg = make_config('qwen2', 'tiny')
    cfg.update(vocab='real', n_vocab=len(tokens))
    E, V = cfg['n_embd'], cfg['n_vocab']
    if len(chain) > E:
        raise ValueError('scripted model: script longer than n_embd')
    rng = np.random.default_rng(seed)
    embd = (0.5 * rng.standard_normal((V, E))).astype(np.float32)
    out = (0.02 * rng.standard_normal((V, E))).astype(np.float32)
    for k, tok in enumerate(chain):
        embd[tok] = 0.0
        embd[tok, k] = 1.0
    for k in range(len(chain) - 1):
        # normed hidden state of chain[k] is sqrt(E) * e_k: the logit of
        # chain[k+1] is 2 * sqrt(E) = 16, everything else about N(0, 0.16)
        out[chain[k + 1]] = 0.0
        out[chain[k + 1], k] = 2.0
    if pad_bait:
        unused = [i for i, t in enumerate(vocab['tokenizer.ggml.token_type'][1]) if t == 5]
        out[unused] = 4.0  # logit 4 * sqrt(E) against the script's 2 * sqrt(E)
    overrides = {'token_embd.weight': embd, 'output.weight': out,
                 'output_norm.weight': np.ones(E, np.float32)}
    for il in range(cfg['n_layer']):
        overrides['blk.%d.attn_output.weight' % il] = np.zeros((E, cfg['n_head'] * cfg['head_dim']),
                                                               np.float32)
        overrides['blk.%d.ffn_down.weight' % il] = np.zeros((E, cfg['n_ff']), np.float32)
    generate(path, wtype='F16', seed=seed, overrides=overrides, cfg=cfg, preset='scripted')
    script = {
        'model': os.path.basename(path),
        'reasoning_ids': reasoning,
        'answer_ids': [index['ĊĊ']] + answer,
        'reasoning': ''.join(_token_text(t) for t in SCRIPT_REASONING),
        'answer': ''.join(_token_text(t) for t in SCRIPT_ANSWER),
        'raw_answer': '\n\n' + ''.join(_token_text(t) for t in SCRIPT_ANSWER),
        'generated_ids': reasoning + [index[END_THINK], index['ĊĊ']] + answer + [index[EOS]],
        'end_think_id': index[END_THINK],
        'eos_id': index[EOS],
        'note': 'greedy continuation of any R1 chat prompt ending "<｜Assistant｜><think>\\n"',
    }
    with open(sidecar or path + '.json', 'w', encoding='utf-8') as f:
        json.dump(script, f, ensure_ascii=False, indent=1)
    return script


# ---- command line --------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description='Generates GGUF test models.')
    sub = ap.add_subparsers(dest='cmd', required=True)
    m = sub.add_parser('model', help='a random model of a preset and weight type')
    m.add_argument('--arch', default='qwen2', choices=sorted(ARCH_DEFAULTS))
    m.add_argument('--preset', default='tiny', choices=sorted(set(PRESETS) | set(DS2_PRESETS)))
    m.add_argument('--type', default='F32', choices=ALL_TYPES)
    m.add_argument('--vocab', choices=('synthetic', 'real'))
    m.add_argument('--tied', action='store_true', default=None,
                   help='no output.weight: token_embd is the output matrix')
    m.add_argument('--untied', dest='tied', action='store_false',
                   help='an output.weight even where the preset is tied')
    m.add_argument('--seed', type=int, default=0)
    m.add_argument('--fast', action='store_true',
                   help='random quantised bytes instead of quantised float weights')
    m.add_argument('--out', required=True)
    s = sub.add_parser('scripted', help='the scripted chat model (+ OUT.json sidecar)')
    s.add_argument('--out', required=True)
    s.add_argument('--sidecar')
    sub.add_parser('presets', help='list presets and weight types')
    args = ap.parse_args(argv)
    if args.cmd == 'model':
        info = generate(args.out, args.arch, args.preset, args.type, args.vocab, args.tied,
                        args.seed, args.fast)
        print(json.dumps({'out': args.out, 'bytes_read_per_token': info['bytes_read_per_token'],
                          'types': info['types']}, indent=1))
    elif args.cmd == 'scripted':
        script = generate_scripted(args.out, args.sidecar)
        print(json.dumps(script, ensure_ascii=False, indent=1))
    else:
        for name, p in PRESETS.items():
            print(name, json.dumps(p))
        for name, p in DS2_PRESETS.items():
            print('deepseek2', name, json.dumps(p))
        print('types:', ' '.join(ALL_TYPES))
    return 0


if __name__ == '__main__':
    sys.exit(main())
