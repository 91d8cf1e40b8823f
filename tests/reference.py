#!/usr/bin/python3
# reference.py: an independent float64 numpy forward pass for the
# architectures of engine-spec.md sections 3.2-3.6 and 4 (qwen2, llama,
# qwen3; deepseek2 in the naive, non-absorbed MLA form).
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Written from the formulas of the spec only, so that it shares nothing with
# the C engine but the file format. The weights come from the bytes of the
# GGUF file itself (dequantised with tests/quants.py), so a quantised model is
# compared against exactly the weights the engine reads; what remains between
# the two is the engine's own arithmetic (f32 accumulation, 8-bit activations).
#
# Library:   cfg, weights = load_model(path); logits = forward(cfg, weights, tokens)
#            forward(..., kv_type='f16'): what the attention reads rounded to
#            float16 where the engine's F16 KV cache stores it
# Command:   reference.py MODEL.gguf 1,2,3   (prints one JSON array per position)

import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Types whose matrix products the engine is expected to run against 8-bit
# quantised activations (spec 2.4, Q8_0/Q8_K); used by simulate_activations.
QUANTISED_TYPES = {'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0',
                                      'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K',
                   'IQ1_S', 'IQ1_M', 'IQ2_XXS', 'IQ2_XS', 'IQ2_S', 'IQ3_XXS', 'IQ3_S',
                   'IQ4_NL', 'IQ4_XS'}


class Config:
    """Hyper-parameters of a dense model, read from GGUF metadata (spec 3.1)."""

    def __init__(self, kv):
        a = kv['general.architecture']
        if a not in ('qwen2', 'llama', 'qwen3', 'deepseek2'):
            raise ValueError('reference: unsupported architecture %r' % a)

        def get(key, default=None):
            v = kv.get('%s.%s' % (a, key), default)
            if v is None:
                raise KeyError('reference: missing %s.%s' % (a, key))
            return v

        def scalar(v):
            # head counts may be per-layer arrays; ours are uniform
            if isinstance(v, (list, tuple, np.ndarray)):
                return int(v[0])
            return v

        self.arch = a
        self.n_embd = int(get('embedding_length'))
        self.n_layer = int(get('block_count'))
        self.n_head = int(scalar(get('attention.head_count')))
        self.n_head_kv = int(scalar(get('attention.head_count_kv', self.n_head)))
        self.n_ff = int(scalar(get('feed_forward_length')))
        self.head_dim = int(get('attention.key_length', self.n_embd // self.n_head))
        self.v_head_dim = int(get('attention.value_length', self.n_embd // self.n_head))
        self.eps = float(get('attention.layer_norm_rms_epsilon'))
        self.rope_base = float(get('rope.freq_base', 10000.0))
        self.n_rot = int(get('rope.dimension_count', self.head_dim))
        self.n_ctx_train = int(get('context_length'))
        factor = float(get('rope.scaling.factor', get('rope.scale_linear', 0.0)))
        self.rope_scaling = str(get('rope.scaling.type', 'linear'))
        self.rope_factor = factor if factor > 0 else 1.0
        self.rope_ctx_orig = int(get('rope.scaling.original_context_length', self.n_ctx_train))
        # NORM pairs adjacent elements (llama), NEOX the two halves (qwen2/3).
        self.rope_neox = a in ('qwen2', 'qwen3')
        self.yarn_beta_fast = 32.0
        self.yarn_beta_slow = 1.0
        if a == 'deepseek2':
            self._deepseek2(get, kv)

    def _deepseek2(self, get, kv):
        """MLA and MoE hyper-parameters (spec 3.1, 3.6, 4.1)."""
        a = self.arch
        self.mla_layout = ('%s.attention.key_length_mla' % a) in kv
        if self.mla_layout:
            self.head_dim = int(get('attention.key_length_mla'))
            self.v_head_dim = int(get('attention.value_length_mla'))
        self.n_rot = int(get('rope.dimension_count'))
        self.qk_rope = self.n_rot
        self.qk_nope = self.head_dim - self.n_rot
        self.q_lora = int(get('attention.q_lora_rank', 0))
        self.kv_lora = int(get('attention.kv_lora_rank'))
        self.n_expert = int(get('expert_count', 0))
        self.n_expert_used = int(get('expert_used_count', 0))
        self.n_dense = int(get('leading_dense_block_count', 0))
        self.n_group = int(get('expert_group_count', 0))
        self.n_group_used = int(get('expert_group_used_count', 0))
        self.w_scale = float(get('expert_weights_scale', 0.0)) or 1.0
        self.w_norm = bool(get('expert_weights_norm', False))
        self.gating = int(get('expert_gating_func', 1))
        if self.n_group == 0 and self.n_expert == 256 and self.gating == 2:
            self.n_group, self.n_group_used = 8, 4  # spec 4.3 (a)
        self.yarn_log_mul = float(get('rope.scaling.yarn_log_multiplier', 0.0))


def _dequant(name, info):
    """float64 (rows, row_len) array of a tensor given by read_gguf."""
    import quants
    shape = [int(s) for s in info['shape']]
    n = int(np.prod(shape))
    x = quants.dequantize(info['type_name'], info['data'], n)
    x = np.asarray(x, dtype=np.float64)
    if len(shape) == 1:
        return x.reshape(shape[0])
    # ggml shape [ne0, ne1, ne2]: ne2 matrices of ne1 rows of ne0 elements (spec 0)
    return x.reshape(list(reversed(shape)))


def load_model(path):
    """Reads a GGUF file; returns (Config, {name: float64 array}, {name: type})."""
    import gguf_writer
    kv, tensors = gguf_writer.read_gguf(path)
    cfg = Config(kv)
    weights = {}
    types = {}
    for name, info in _tensor_items(tensors):
        weights[name] = _dequant(name, info)
        types[name] = info['type_name']
    return cfg, weights, types


def _tensor_items(tensors):
    """read_gguf's table (name -> (type id, shape, bytes)) as (name, info dict)."""
    import gguf_writer
    for name, (typ, shape, data) in tensors.items():
        yield name, {'shape': shape, 'type_name': gguf_writer.GGML_TYPE_NAME[typ],
                     'data': data}


def rms_norm(x, w, eps):
    # y_i = w_i * x_i / sqrt(mean(x^2) + eps), over the last axis (spec 3.2)
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def silu(z):
    return z / (1.0 + np.exp(-z))


def rope_angles(cfg, positions, rope_freqs=None):
    """cos and sin (T, n_rot/2) and the magnitude M, for every position (spec 3.2)."""
    half = cfg.n_rot // 2
    i = np.arange(half, dtype=np.float64)
    inv = cfg.rope_base ** (-2.0 * i / cfg.n_rot)
    if rope_freqs is not None:
        inv = inv / rope_freqs[:half]
    theta_extrap = np.outer(np.asarray(positions, dtype=np.float64), inv)  # (T, half)
    s = cfg.rope_factor
    mag = 1.0
    if cfg.rope_scaling == 'yarn' and s != 1.0:
        base = cfg.rope_base
        L = cfg.rope_ctx_orig

        def corr(r):
            return cfg.n_rot * math.log(L / (2.0 * math.pi * r)) / (2.0 * math.log(base))

        low = max(0.0, math.floor(corr(cfg.yarn_beta_fast)))
        high = min(cfg.n_rot - 1.0, math.ceil(corr(cfg.yarn_beta_slow)))
        ramp = 1.0 - np.clip((i - low) / max(0.001, high - low), 0.0, 1.0)
        ext = 1.0
        theta_interp = theta_extrap / s
        theta = theta_interp * (1.0 - ext * ramp) + theta_extrap * ext * ramp
        # llama.cpp's magnitude for qwen2/qwen3/llama: attn_factor_eff = 1 (spec 3.5)
        mag = 1.0 + 0.1 * math.log(s)
    elif cfg.rope_scaling == 'linear' and s != 1.0:
        theta = theta_extrap / s
    else:
        theta = theta_extrap
    return np.cos(theta) * mag, np.sin(theta) * mag


def apply_rope(cfg, x, cos, sin):
    """x: (T, n_heads, head_dim); rotates the first n_rot dims of every head."""
    x = x.copy()
    half = cfg.n_rot // 2
    c = cos[:, None, :]
    s = sin[:, None, :]
    if cfg.rope_neox:
        x0 = x[:, :, 0:half].copy()
        x1 = x[:, :, half:cfg.n_rot].copy()
        x[:, :, 0:half] = x0 * c - x1 * s
        x[:, :, half:cfg.n_rot] = x0 * s + x1 * c
    else:
        x0 = x[:, :, 0:cfg.n_rot:2].copy()
        x1 = x[:, :, 1:cfg.n_rot:2].copy()
        x[:, :, 0:cfg.n_rot:2] = x0 * c - x1 * s
        x[:, :, 1:cfg.n_rot:2] = x0 * s + x1 * c
    return x


# 256-element weight blocks (K-quants and the IQ types but IQ4_NL): Q8_K activations
K_TYPES = {'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ1_S', 'IQ1_M', 'IQ2_XXS', 'IQ2_XS',
           'IQ2_S', 'IQ3_XXS', 'IQ3_S', 'IQ4_XS'}


def _round_activations(x, wtype):
    """What the engine is expected to do to a matmul input before integer dot
    products (spec 2.3/2.4): 8-bit blocks of 32 with an f16 scale (Q8_0/Q8_1)
    for legacy weights, blocks of 256 with an f32 scale (Q8_K) for K-quants;
    scale = max|x|/127, q = round(x/scale). f16/bf16 rounding for half
    weights is an upper estimate (an engine may keep f32 activations)."""
    if wtype in QUANTISED_TYPES:
        T, n = x.shape
        bs = 256 if wtype in K_TYPES else 32
        blk = x.reshape(T, n // bs, bs)
        d = np.abs(blk).max(axis=-1, keepdims=True) / 127.0
        if bs == 32:
            d = d.astype(np.float16).astype(np.float64)
        else:
            d = d.astype(np.float32).astype(np.float64)
        q = np.round(np.divide(blk, d, out=np.zeros_like(blk), where=d > 0))
        q = np.clip(q, -127, 127)
        return (q * d).reshape(T, n)
    if wtype == 'F16':
        return x.astype(np.float16).astype(np.float64)
    if wtype == 'BF16':
        b = x.astype(np.float32).view(np.uint32)
        b = ((b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
        return b.view(np.float32).astype(np.float64)
    return x


def round_kv(x, kv_type):
    """What a KV cache of kv_type ('f32' or 'f16') gives back for x: f16
    rounds to nearest even (values past 65504 become inf, as in the cache).
    f32 is left in float64: the engine's own f32 rounding is part of the
    arithmetic the F32 tolerances cover."""
    if kv_type == 'f16':
        with np.errstate(over='ignore'):
            return x.astype(np.float16).astype(np.float64)
    if kv_type != 'f32':
        raise ValueError('reference: kv_type %r' % kv_type)
    return x


def forward(cfg, W, tokens, types=None, simulate_activations=False, stats=None, kv_type='f32'):
    """Logits (T, n_vocab) float64 for every position of tokens (no cache).
    simulate_activations: True, or a predicate on tensor names, to round the
    inputs of those matmuls as the engine's integer kernels do. stats (a
    dict, deepseek2): receives 'route_margin', the smallest gap of a routing
    decision, and 'routes', the experts chosen per (layer, token). kv_type
    'f16': the keys (after RoPE) and values, or deepseek2's latent rows
    [c_kv | k_pe], rounded to float16 as the engine's F16 cache stores them."""
    tokens = np.asarray(tokens, dtype=np.int64)
    T = len(tokens)
    hd, hv = cfg.head_dim, cfg.v_head_dim
    nh, nkv = cfg.n_head, cfg.n_head_kv
    group = nh // nkv

    def linear(name, x):
        w = W[name]
        if simulate_activations and types is not None:
            if simulate_activations is True or simulate_activations(name):
                x = _round_activations(x, types[name])
        y = x @ w.T  # w: (out, in)
        b = name.replace('.weight', '.bias')
        if b in W:
            y = y + W[b]
        return y

    if cfg.arch == 'deepseek2':
        return deepseek2_forward(cfg, W, tokens, linear, stats, kv_type)
    x = W['token_embd.weight'][tokens]  # (T, n_embd)
    cos, sin = rope_angles(cfg, np.arange(T), W.get('rope_freqs.weight'))
    mask = np.triu(np.full((T, T), -np.inf), k=1)  # causal: key s > query t masked
    for il in range(cfg.n_layer):
        p = 'blk.%d.' % il
        h = rms_norm(x, W[p + 'attn_norm.weight'], cfg.eps)
        q = linear(p + 'attn_q.weight', h).reshape(T, nh, hd)
        k = linear(p + 'attn_k.weight', h).reshape(T, nkv, hd)
        v = linear(p + 'attn_v.weight', h).reshape(T, nkv, hv)
        if p + 'attn_q_norm.weight' in W:
            q = rms_norm(q, W[p + 'attn_q_norm.weight'], cfg.eps)
            k = rms_norm(k, W[p + 'attn_k_norm.weight'], cfg.eps)
        q = apply_rope(cfg, q, cos, sin)
        k = round_kv(apply_rope(cfg, k, cos, sin), kv_type)
        v = round_kv(v, kv_type)
        out = np.empty((T, nh, hv))
        scale = 1.0 / math.sqrt(hd)
        for hh in range(nh):
            kvh = hh // group
            sc = (q[:, hh, :] @ k[:, kvh, :].T) * scale + mask  # (T query, T key)
            sc = sc - sc.max(axis=1, keepdims=True)
            pr = np.exp(sc)
            pr /= pr.sum(axis=1, keepdims=True)
            out[:, hh, :] = pr @ v[:, kvh, :]
        x = x + linear(p + 'attn_output.weight', out.reshape(T, nh * hv))
        h = rms_norm(x, W[p + 'ffn_norm.weight'], cfg.eps)
        g = linear(p + 'ffn_gate.weight', h)
        u = linear(p + 'ffn_up.weight', h)
        x = x + linear(p + 'ffn_down.weight', silu(g) * u)
    x = rms_norm(x, W['output_norm.weight'], cfg.eps)
    out_name = 'output.weight' if 'output.weight' in W else 'token_embd.weight'
    return linear(out_name, x)


# ---- deepseek2 (spec 3.6, 4): the NAIVE multi-head form ---------------------

def deepseek2_kv_b(cfg, W, p):
    """W_UK (H, nope, kv_lora) and W_UV (H, dv, kv_lora) of a layer, from
    either layout (spec 4.6)."""
    H, nope, dv = cfg.n_head, cfg.qk_nope, cfg.v_head_dim
    if p + 'attn_kv_b.weight' in W:
        kvb = W[p + 'attn_kv_b.weight'].reshape(H, nope + dv, cfg.kv_lora)
        return kvb[:, :nope, :], kvb[:, nope:, :]
    # attn_k_b: per head kv_lora rows of nope (W_UK_h transposed)
    return (np.transpose(W[p + 'attn_k_b.weight'], (0, 2, 1)), W[p + 'attn_v_b.weight'])


def deepseek2_route(cfg, logits, bias):
    """(ids, weights, margin) for one token's router logits (spec 4.3).
    margin: how far the closest selection decision was from flipping."""
    n = len(logits)
    if cfg.gating == 1:
        e = np.exp(logits - logits.max())
        s = e / e.sum()
    elif cfg.gating == 2:
        s = 1.0 / (1.0 + np.exp(-logits))
    else:
        s = np.sqrt(np.log1p(np.exp(logits)))
    sel = s + (bias if bias is not None else 0.0)
    margin = np.inf
    if cfg.n_group > 1 and cfg.n_group_used < cfg.n_group:
        per = n // cfg.n_group
        grp = sel.reshape(cfg.n_group, per)
        top2 = np.sort(grp, axis=1)[:, ::-1][:, :min(2, per)].sum(axis=1)
        order = np.argsort(-top2, kind='stable')
        keep = order[:cfg.n_group_used]
        margin = top2[keep].min() - top2[order[cfg.n_group_used:]].max()
        mask = np.full(cfg.n_group, -np.inf)
        mask[keep] = 0.0
        sel = sel + np.repeat(mask, per)
    order = np.argsort(-sel, kind='stable')
    ids = order[:cfg.n_expert_used]
    if cfg.n_expert_used < n and np.isfinite(sel[order[cfg.n_expert_used]]):
        margin = min(margin, sel[ids[-1]] - sel[order[cfg.n_expert_used]])
    w = s[ids]
    if cfg.w_norm:
        w = w / max(w.sum(), 6.103515625e-5)
    return ids, w * cfg.w_scale, margin


def deepseek2_forward(cfg, W, tokens, linear, stats=None, kv_type='f32'):
    """Logits (T, n_vocab): MLA written in the naive (decompressed) form of
    spec 4.4 so that it checks the engine's absorbed form independently."""
    T = len(tokens)
    H, nope, rope, dv = cfg.n_head, cfg.qk_nope, cfg.qk_rope, cfg.v_head_dim
    dk = nope + rope
    kl = cfg.kv_lora
    x = W['token_embd.weight'][tokens]
    cos, sin = rope_angles(cfg, np.arange(T))
    # spec 4.5: rotation magnitude 1, the whole mscale squared in the scale
    mag = 1.0
    if cfg.rope_scaling == 'yarn' and cfg.rope_factor != 1.0:
        mag = 1.0 + 0.1 * math.log(cfg.rope_factor)
    cos, sin = cos / mag, sin / mag
    mscale = 1.0
    if cfg.rope_scaling == 'yarn' and cfg.rope_factor > 1.0:
        mscale = 1.0 + cfg.yarn_log_mul * math.log(cfg.rope_factor)
    scale = mscale * mscale / math.sqrt(dk)
    mask = np.triu(np.full((T, T), -np.inf), k=1)
    margin = np.inf
    routes = []
    for il in range(cfg.n_layer):
        p = 'blk.%d.' % il
        h = rms_norm(x, W[p + 'attn_norm.weight'], cfg.eps)
        if cfg.q_lora:
            cq = rms_norm(linear(p + 'attn_q_a.weight', h), W[p + 'attn_q_a_norm.weight'],
                          cfg.eps)
            q = linear(p + 'attn_q_b.weight', cq)
        else:
            q = linear(p + 'attn_q.weight', h)
        q = q.reshape(T, H, dk)
        kva = linear(p + 'attn_kv_a_mqa.weight', h)
        # the cached latent row [c_kv | k_pe] (spec 4.4): keys and values come from it
        ckv = round_kv(rms_norm(kva[:, :kl], W[p + 'attn_kv_a_norm.weight'], cfg.eps), kv_type)
        k_pe = round_kv(apply_rope(cfg, kva[:, None, kl:], cos, sin), kv_type)  # (T, 1, rope)
        q_pe = apply_rope(cfg, q[:, :, nope:], cos, sin)
        w_uk, w_uv = deepseek2_kv_b(cfg, W, p)
        k_nope = np.einsum('tc,hdc->thd', ckv, w_uk)  # (T, H, nope)
        v = np.einsum('tc,hec->the', ckv, w_uv)        # (T, H, dv)
        k = np.concatenate([k_nope, np.repeat(k_pe, H, axis=1)], axis=2)
        qf = np.concatenate([q[:, :, :nope], q_pe], axis=2)
        out = np.empty((T, H, dv))
        for hh in range(H):
            sc = (qf[:, hh, :] @ k[:, hh, :].T) * scale + mask
            sc = sc - sc.max(axis=1, keepdims=True)
            pr = np.exp(sc)
            pr /= pr.sum(axis=1, keepdims=True)
            out[:, hh, :] = pr @ v[:, hh, :]
        x = x + linear(p + 'attn_output.weight', out.reshape(T, H * dv))
        h = rms_norm(x, W[p + 'ffn_norm.weight'], cfg.eps)
        if il < cfg.n_dense:
            g = linear(p + 'ffn_gate.weight', h)
            u = linear(p + 'ffn_up.weight', h)
            x = x + linear(p + 'ffn_down.weight', silu(g) * u)
            continue
        logits = h @ W[p + 'ffn_gate_inp.weight'].T
        bias = W.get(p + 'exp_probs_b.bias')
        y = np.zeros_like(h)
        for t in range(T):
            ids, wts, m = deepseek2_route(cfg, logits[t], bias)
            margin = min(margin, m)
            routes.append(tuple(int(i) for i in ids))
            for e, we in zip(ids, wts):
                g = W[p + 'ffn_gate_exps.weight'][e] @ h[t]
                u = W[p + 'ffn_up_exps.weight'][e] @ h[t]
                y[t] += we * (W[p + 'ffn_down_exps.weight'][e] @ (silu(g) * u))
        if p + 'ffn_gate_shexp.weight' in W:
            g = linear(p + 'ffn_gate_shexp.weight', h)
            u = linear(p + 'ffn_up_shexp.weight', h)
            y = y + linear(p + 'ffn_down_shexp.weight', silu(g) * u)
        x = x + y
    if stats is not None:
        stats['route_margin'] = margin
        stats['routes'] = routes
    x = rms_norm(x, W['output_norm.weight'], cfg.eps)
    return linear('output.weight', x)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write('usage: reference.py MODEL.gguf 1,2,3\n')
        return 2
    cfg, W, types = load_model(argv[1])
    tokens = [int(t) for t in argv[2].split(',')]
    for row in forward(cfg, W, tokens, types):
        print(json.dumps([float(v) for v in row]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
