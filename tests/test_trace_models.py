"""Realistic numpy functions, traced, compiled for the CPU and checked against numpy itself.

Each model is plain numpy code (nothing xla_magic-specific except the loop functions in the
control-flow models). `MODELS` is shared with tests/test_trace_xla.py, which runs the same
modules through XLA when jax is installed."""
from __future__ import annotations

import numpy as np
import pytest

import xla_magic as xm

F32 = np.float32
rng = np.random.default_rng(0)


def randn(*shape, dtype=F32, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def relu(x):
    return np.maximum(x, 0)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def layernorm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


# --- the models -------------------------------------------------------------------------------------

def mlp2(x, w1, b1, w2, b2):
    return relu(x @ w1 + b1) @ w2 + b2


def mlp3_gelu(x, w1, w2, w3):
    def gelu(h):
        return 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h ** 3)))
    return gelu(gelu(x @ w1) @ w2) @ w3


def mlp_params(x, params):
    h = x
    for i in range(3):  # a static Python loop: unrolled
        h = np.tanh(h @ params[f"w{i}"] + params[f"b{i}"])
    return h


def softmax_rows(x):
    return softmax(x, axis=-1)


def softmax_cols(x):
    return softmax(x, axis=0)


def log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))


def layernorm_fn(x, g, b):
    return layernorm(x, g, b)


def rmsnorm(x, g):
    return x / np.sqrt(np.mean(np.square(x), axis=-1, keepdims=True) + 1e-6) * g


def batchnorm_inference(x, mean, var, gamma, beta):
    return gamma * (x - mean) / np.sqrt(var + 1e-5) + beta


def batchnorm_training(x, gamma, beta):
    mu = np.mean(x, axis=0)
    sd = np.std(x, axis=0)
    return gamma * (x - mu) / (sd + 1e-5) + beta


def attention(q, k, v):
    d = q.shape[-1]
    s = q @ k.T / np.sqrt(d)
    return softmax(s) @ v


def causal_attention(q, k, v):
    t, d = q.shape
    s = (q @ k.T) * (1.0 / np.sqrt(d))
    mask = np.triu(np.ones((t, t), dtype=bool), k=1)
    s = np.where(mask, -1e9, s)
    return softmax(s) @ v


def multihead_attention(x, wq, wk, wv, wo):
    t, dm = x.shape
    h = 4
    dh = dm // h

    def heads(y):
        return y.reshape(t, h, dh).transpose(1, 0, 2)
    q, k, v = heads(x @ wq), heads(x @ wk), heads(x @ wv)
    s = np.einsum("hqd,hkd->hqk", q, k) / np.sqrt(dh)
    o = np.einsum("hqk,hkd->hqd", softmax(s), v)
    return o.transpose(1, 0, 2).reshape(t, dm) @ wo


def transformer_block(x, g1, b1, wq, wk, wv, wo, g2, b2, w1, w2):
    a = multihead_attention(layernorm(x, g1, b1), wq, wk, wv, wo)
    x = x + a
    return x + relu(layernorm(x, g2, b2) @ w1) @ w2


def lstm_cell(x, h, c, w, u, b):
    z = x @ w + h @ u + b
    i, f, g, o = np.split(z, 4, axis=-1)
    c2 = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    h2 = sigmoid(o) * np.tanh(c2)
    return h2, c2


def gru_cell(x, h, wz, uz, wr, ur, wh, uh):
    z = sigmoid(x @ wz + h @ uz)
    r = sigmoid(x @ wr + h @ ur)
    hh = np.tanh(x @ wh + (r * h) @ uh)
    return (1 - z) * h + z * hh


def rnn_unrolled(xs, h0, w, u):
    h = h0
    outs = []
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ w + h @ u)
        outs.append(h)
    return np.stack(outs), h


def conv1d_explicit(x, w):
    # x: (length, c_in), w: (k, c_in, c_out); 'valid' convolution as shifted slices
    k = w.shape[0]
    n = x.shape[0] - k + 1
    return sum(x[i:i + n] @ w[i] for i in range(k))


def conv2d_im2col(x, w):
    # x: (h, w, c), w: (kh, kw, c, f): patches by slicing, then one contraction
    kh, kw = w.shape[:2]
    oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    patches = np.stack([x[i:i + oh, j:j + ow] for i in range(kh) for j in range(kw)], axis=2)
    return np.tensordot(patches, w.reshape(kh * kw, *w.shape[2:]), axes=([2, 3], [0, 1]))


def conv2d_same_padded(x, w):
    kh, kw = w.shape[:2]
    xp = np.pad(x, ((kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    out = 0
    for i in range(kh):
        for j in range(kw):
            out = out + np.einsum("hwc,cf->hwf", xp[i:i + x.shape[0], j:j + x.shape[1]], w[i, j])
    return relu(out)


def maxpool2x2(x):
    h, w, c = x.shape
    return x.reshape(h // 2, 2, w // 2, 2, c).max(axis=(1, 3))


def avgpool_global(x):
    return x.mean(axis=(0, 1))


def cross_entropy(logits, labels):
    lp = log_softmax(logits)
    return -np.mean(lp[np.arange(logits.shape[0]), labels])


def cross_entropy_take(logits, labels):
    lp = log_softmax(logits)
    picked = np.take_along_axis(lp, labels[:, None], axis=1)
    return -picked.sum() / logits.shape[0]


def mse(pred, target):
    return np.mean((pred - target) ** 2)


def bce_with_logits(logits, y):
    return np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits))))


def huber(pred, target):
    d = np.abs(pred - target)
    return np.where(d < 1.0, 0.5 * d ** 2, d - 0.5).mean()


def hinge(scores, y):
    return np.sum(np.maximum(0, 1 - y * scores)) / scores.size


def l2_regularized(x, w, y):
    return mse(x @ w, y) + 0.01 * np.linalg.norm(w) ** 2


def cosine_similarity(a, b):
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return a @ b.T


def embedding_bag(table, idx):
    return table[idx].mean(axis=1)


def accuracy(logits, labels):
    return np.mean(np.argmax(logits, axis=-1) == labels)


def sgd_step(params, x, y, lr):
    # one step of linear regression by hand-written gradients, on a parameter dict
    pred = x @ params["w"] + params["b"]
    err = pred - y
    gw = x.T @ err * (2 / x.shape[0])
    gb = err.mean(axis=0) * 2
    return {"w": params["w"] - lr * gw, "b": params["b"] - lr * gb}


def mlp_train_step(w1, w2, x, y):
    h = np.tanh(x @ w1)
    p = h @ w2
    d = 2 * (p - y) / y.size
    gw2 = h.T @ d
    dh = (d @ w2.T) * (1 - h ** 2)
    gw1 = x.T @ dh
    return w1 - 0.1 * gw1, w2 - 0.1 * gw2, np.mean((p - y) ** 2)


def silu_softplus(x):
    return x * sigmoid(x) + np.logaddexp(0, x)


def positional_encoding(x):
    t, d = x.shape
    pos = np.arange(t)[:, None]
    i = np.arange(d // 2)[None, :]
    angle = pos / 10000 ** (2 * i / d)
    pe = np.concatenate([np.sin(angle), np.cos(angle)], axis=-1).astype(np.float32)
    return x + pe


def standardize(x):
    return (x - x.mean(axis=0)) / (x.std(axis=0, ddof=1) + 1e-6)


def clip_by_global_norm(g1, g2):
    norm = np.sqrt(np.sum(g1 ** 2) + np.sum(g2 ** 2))
    scale = np.minimum(1.0, 1.0 / (norm + 1e-6))
    return g1 * scale, g2 * scale


def one_hot_argmax(x):
    return (x == x.max(axis=-1, keepdims=True)).astype(np.float32)


def pairwise_sq_dist(a, b):
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)


def kmeans_assign(x, centers):
    d = np.sum(x ** 2, 1)[:, np.newaxis] - 2 * x @ centers.T + np.sum(centers ** 2, 1)
    return np.argmin(d, axis=1), d.min(axis=1)


def stats(x):
    return (x.var(axis=1, ddof=1), np.prod(x[:, :4], axis=1), np.min(x, axis=0), x.sum(),
            np.cumsum(x, axis=1), np.argmax(x, axis=0))


def shapes_mix(x):
    y = np.swapaxes(x.reshape(2, 3, 4), 0, 2)
    z = np.expand_dims(y, 1).squeeze(1)
    return np.concatenate([z.transpose(1, 0, 2).reshape(3, -1), x.T[:3, :8]], axis=1)


def slicing_mix(x):
    return x[::-1, ::2] + x[-1, 1::2] * x[..., -3:].sum() + x[1:-1:3, np.newaxis, 2].sum()


def elementwise_zoo(x, y):
    return (np.sign(x) * np.sqrt(np.abs(x)) + np.power(np.abs(y), 1.5) - np.minimum(x, y)
            + np.clip(x, -0.5, 0.5) + np.exp2(y) * np.log2(np.abs(x) + 1) + np.arctan2(x, y)
            + np.floor(x) - np.ceil(y) + np.hypot(x, y) + np.cosh(y / 4) - np.sinh(x / 4) + np.arctan(x))


def residual_block(x, g, b, w1, w2):
    return x + relu(layernorm(x, g, b) @ w1) @ w2


def logistic_regression(x, w, b, y):
    p = sigmoid(x @ w + b)
    loss = -np.mean(y * np.log(p + 1e-7) + (1 - y) * np.log(1 - p + 1e-7))
    return p, loss


def bilinear(x, w, y):
    return (np.einsum("bi,ij,bj->b", x, w, y) + np.dot(x, w).sum(1) + np.outer(x[0], y[0]).sum()
            + np.tensordot(x, w, axes=1).mean())


def depthwise_conv1d(x, w):
    k = w.shape[0]
    xp = np.pad(x, ((k - 1, 0), (0, 0)))
    return sum(xp[i:i + x.shape[0]] * w[i] for i in range(k))


def int_features(x, bins):
    # integer arithmetic: floor division, remainder, comparisons, counting
    q = x // 3
    r = x % 3
    return q * 10 + r, np.count_nonzero(x > bins, axis=1), np.maximum(x, bins).sum(axis=0)


def fori_power_iteration(a, v):
    def body(i, v):
        w = a @ v
        return w / np.linalg.norm(w)
    v = xm.fori_loop(0, 20, body, v)
    return v, v @ a @ v


def scan_rnn(xs, h0, w, u):
    def step(h, x):
        h = np.tanh(x @ w + h @ u)
        return h, h.sum()
    return xm.scan(step, h0, xs)


def while_newton_sqrt(x):
    def cond(state):
        k, y = state
        return (k < 50) & (np.max(np.abs(y * y - x)) > 1e-5)

    def body(state):
        k, y = state
        return k + 1, 0.5 * (y + x / y)
    return xm.while_loop(cond, body, (0, x))[1]


def cond_branch(x):
    return xm.cond(x.sum() > 0, lambda v: np.tanh(v) * 2, lambda v: v @ v.T @ v * 0.1, x)


MODELS = {
    "mlp2": (mlp2, lambda: (randn(8, 16), randn(16, 32), randn(32), randn(32, 4), randn(4))),
    "mlp3_gelu": (mlp3_gelu, lambda: (randn(4, 8), randn(8, 16, scale=0.3), randn(16, 16, scale=0.3),
                                      randn(16, 2))),
    "mlp_params": (mlp_params, lambda: (randn(4, 8), {f"{k}{i}": randn(8, 8) if k == "w" else randn(8)
                                                      for i in range(3) for k in "wb"})),
    "softmax_rows": (softmax_rows, lambda: (randn(16, 64),)),
    "softmax_cols": (softmax_cols, lambda: (randn(16, 64),)),
    "log_softmax": (log_softmax, lambda: (randn(8, 10, scale=3),)),
    "layernorm": (layernorm_fn, lambda: (randn(8, 32), randn(32), randn(32))),
    "rmsnorm": (rmsnorm, lambda: (randn(8, 32), randn(32))),
    "batchnorm_inference": (batchnorm_inference, lambda: (randn(16, 8), randn(8), np.abs(randn(8)), randn(8),
                                                          randn(8))),
    "batchnorm_training": (batchnorm_training, lambda: (randn(16, 8), randn(8), randn(8))),
    "attention": (attention, lambda: (randn(8, 16), randn(12, 16), randn(12, 16))),
    "causal_attention": (causal_attention, lambda: (randn(8, 16), randn(8, 16), randn(8, 16))),
    "multihead_attention": (multihead_attention, lambda: (randn(6, 16), *(randn(16, 16, scale=0.3)
                                                                          for _ in range(4)))),
    "transformer_block": (transformer_block, lambda: (randn(6, 16), randn(16), randn(16),
                                                      *(randn(16, 16, scale=0.3) for _ in range(4)),
                                                      randn(16), randn(16), randn(16, 32, scale=0.3),
                                                      randn(32, 16, scale=0.3))),
    "lstm_cell": (lstm_cell, lambda: (randn(4, 8), randn(4, 16), randn(4, 16), randn(8, 64), randn(16, 64),
                                      randn(64))),
    "gru_cell": (gru_cell, lambda: (randn(4, 8), randn(4, 16), *(randn(8 if i % 2 == 0 else 16, 16)
                                                                 for i in range(6)))),
    "rnn_unrolled": (rnn_unrolled, lambda: (randn(5, 3, 8), randn(3, 16), randn(8, 16, scale=0.3),
                                            randn(16, 16, scale=0.3))),
    "conv1d_explicit": (conv1d_explicit, lambda: (randn(20, 4), randn(3, 4, 6))),
    "conv2d_im2col": (conv2d_im2col, lambda: (randn(10, 9, 3), randn(3, 3, 3, 5))),
    "conv2d_same_padded": (conv2d_same_padded, lambda: (randn(8, 8, 3), randn(3, 3, 3, 4))),
    "maxpool2x2": (maxpool2x2, lambda: (randn(8, 6, 3),)),
    "avgpool_global": (avgpool_global, lambda: (randn(7, 5, 3),)),
    "cross_entropy": (cross_entropy, lambda: (randn(8, 10), rng.integers(0, 10, 8))),
    "cross_entropy_take": (cross_entropy_take, lambda: (randn(8, 10), rng.integers(0, 10, 8).astype(np.int32))),
    "mse": (mse, lambda: (randn(16, 3), randn(16, 3))),
    "bce_with_logits": (bce_with_logits, lambda: (randn(32, scale=4), (rng.random(32) > 0.5).astype(F32))),
    "huber": (huber, lambda: (randn(32, scale=2), randn(32))),
    "hinge": (hinge, lambda: (randn(16), np.sign(randn(16)))),
    "l2_regularized": (l2_regularized, lambda: (randn(16, 4), randn(4, 2), randn(16, 2))),
    "cosine_similarity": (cosine_similarity, lambda: (randn(5, 8), randn(7, 8))),
    "embedding_bag": (embedding_bag, lambda: (randn(50, 8), rng.integers(-50, 50, (4, 3)))),
    "accuracy": (accuracy, lambda: (randn(32, 5), rng.integers(0, 5, 32))),
    "sgd_step": (sgd_step, lambda: ({"w": randn(4, 2), "b": randn(2)}, randn(16, 4), randn(16, 2), 0.05)),
    "mlp_train_step": (mlp_train_step, lambda: (randn(4, 8, scale=0.5), randn(8, 2, scale=0.5), randn(16, 4),
                                                randn(16, 2))),
    "silu_softplus": (silu_softplus, lambda: (randn(64, scale=5),)),
    "positional_encoding": (positional_encoding, lambda: (randn(10, 8),)),
    "standardize": (standardize, lambda: (randn(20, 6),)),
    "clip_by_global_norm": (clip_by_global_norm, lambda: (randn(4, 4), randn(8))),
    "one_hot_argmax": (one_hot_argmax, lambda: (randn(6, 5),)),
    "pairwise_sq_dist": (pairwise_sq_dist, lambda: (randn(6, 3), randn(5, 3))),
    "kmeans_assign": (kmeans_assign, lambda: (randn(20, 2), randn(3, 2))),
    "stats": (stats, lambda: (randn(6, 8),)),
    "shapes_mix": (shapes_mix, lambda: (randn(4, 6),)),
    "slicing_mix": (slicing_mix, lambda: (randn(9, 6),)),
    "elementwise_zoo": (elementwise_zoo, lambda: (randn(50), randn(50))),
    "residual_block": (residual_block, lambda: (randn(4, 16), randn(16), randn(16), randn(16, 32, scale=0.3),
                                                randn(32, 16, scale=0.3))),
    "logistic_regression": (logistic_regression, lambda: (randn(20, 3), randn(3), randn(),
                                                          (rng.random(20) > 0.5).astype(F32))),
    "bilinear": (bilinear, lambda: (randn(3, 4), randn(4, 4), randn(3, 4))),
    "depthwise_conv1d": (depthwise_conv1d, lambda: (randn(12, 3), randn(4, 3))),
    "int_features": (int_features, lambda: (rng.integers(-20, 20, (5, 6)).astype(np.int32),
                                            rng.integers(-5, 5, 6).astype(np.int32))),
    "fori_power_iteration": (fori_power_iteration, lambda: (randn(6, 6), randn(6))),
    "scan_rnn": (scan_rnn, lambda: (randn(7, 4), randn(8), randn(4, 8, scale=0.5), randn(8, 8, scale=0.5))),
    "while_newton_sqrt": (while_newton_sqrt, lambda: (np.abs(randn(10)) + 0.5,)),
    "cond_branch_pos": (cond_branch, lambda: (np.abs(randn(4, 4)),)),
    "cond_branch_neg": (cond_branch, lambda: (-np.abs(randn(4, 4)),)),
}


def leaves(x):
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in leaves(x[k])]
    if isinstance(x, (tuple, list)):
        return [v for e in x for v in leaves(e)]
    return [x]


def check_close(got, want, name, rtol=2e-4, atol=2e-5):
    got, want = leaves(got), leaves(want)
    assert len(got) == len(want), name
    for k, (g, w) in enumerate(zip(got, want)):
        w = np.asarray(w)
        g = np.asarray(g)
        assert g.shape == w.shape, f"{name} output {k}: shape {g.shape} != numpy's {w.shape}"
        assert g.dtype == w.dtype, f"{name} output {k}: dtype {g.dtype} != numpy's {w.dtype}"
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"{name} output {k}")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_compiles_on_cpu_and_matches_numpy(name):
    fn, make_args = MODELS[name]
    args = make_args()
    want = fn(*args)
    f = xm.jit(fn)
    got = f(*args)
    check_close(got, want, name)
    assert f.report is not None and f.report.hlo_after


def test_enough_models():
    assert len(MODELS) >= 40
