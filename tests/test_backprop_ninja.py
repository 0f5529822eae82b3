"""Learner code written for torch, run on minigrad after swapping the import: the manual-backprop exercise of
Karpathy's "makemore part 4: becoming a backprop ninja" (its structure, our own words and sizes). It leans on what
issue 18 fixed: retain_grad on every intermediate, `.grad` of non-leaf tensors, in-place gradient writes
(`dlogits[range(n), Yb] -= 1`, `dlogits /= n`, `dC[ix] += demb[k, j]`), `.data`, `p.data += -lr * p.grad`.
The cmp() lines the exercise prints (exact / approximate) must read the same as under torch.
"""
import numpy as np
import pytest
import torch

import minigrad


def ninja(T):
    F = T.nn.functional
    rng = np.random.default_rng(0)
    vocab, n_emb, block, n_hidden, n = 27, 10, 3, 64, 32
    Xb = T.tensor(rng.integers(0, vocab, (n, block)))
    Yb = T.tensor(rng.integers(0, vocab, n))

    def param(*shape, scale=1.0):
        return T.tensor((rng.standard_normal(shape) * scale).astype(np.float32))

    C = param(vocab, n_emb)
    W1 = param(n_emb * block, n_hidden, scale=(5 / 3) / (n_emb * block) ** 0.5)
    b1 = param(n_hidden, scale=0.1)
    W2 = param(n_hidden, vocab, scale=0.1)
    b2 = param(vocab, scale=0.1)
    bngain = param(1, n_hidden, scale=0.1) + 1.0
    bnbias = param(1, n_hidden, scale=0.1)
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True

    # forward, chunked into small steps that are possible to backward one at a time
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff ** 2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = T.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum ** -1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    for t in [logprobs, probs, counts, counts_sum, counts_sum_inv, norm_logits, logit_maxes, logits, h, hpreact,
              bnraw, bnvar_inv, bnvar, bndiff2, bndiff, hprebn, bnmeani, embcat, emb]:
        t.retain_grad()
    loss.backward()

    report = []

    def cmp(name, dt, t):
        ex = T.all(dt == t.grad).item()
        app = T.allclose(dt, t.grad, rtol=1e-5, atol=1e-6)
        report.append((name, bool(ex), bool(app)))

    # the backward pass by hand
    dlogprobs = T.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = (1.0 / probs) * dlogprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = counts_sum_inv * dprobs
    dcounts_sum = (-counts_sum ** -2) * dcounts_sum_inv
    dcounts += T.ones_like(counts) * dcounts_sum
    dnorm_logits = counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - h ** 2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * T.ones_like(bndiff2) * dbnvar
    dbndiff += (2 * bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0)
    dhprebn += 1.0 / n * (T.ones_like(hprebn) * dbnmeani)
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = T.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    for name, d, t in [("logprobs", dlogprobs, logprobs), ("probs", dprobs, probs),
                       ("counts_sum_inv", dcounts_sum_inv, counts_sum_inv), ("counts_sum", dcounts_sum, counts_sum),
                       ("counts", dcounts, counts), ("norm_logits", dnorm_logits, norm_logits),
                       ("logit_maxes", dlogit_maxes, logit_maxes), ("logits", dlogits, logits), ("h", dh, h),
                       ("W2", dW2, W2), ("b2", db2, b2), ("hpreact", dhpreact, hpreact), ("bngain", dbngain, bngain),
                       ("bnbias", dbnbias, bnbias), ("bnraw", dbnraw, bnraw), ("bnvar_inv", dbnvar_inv, bnvar_inv),
                       ("bnvar", dbnvar, bnvar), ("bndiff2", dbndiff2, bndiff2), ("bndiff", dbndiff, bndiff),
                       ("bnmeani", dbnmeani, bnmeani), ("hprebn", dhprebn, hprebn), ("embcat", dembcat, embcat),
                       ("W1", dW1, W1), ("b1", db1, b1), ("emb", demb, emb), ("C", dC, C)]:
        cmp(name, d, t)

    # the fused cross-entropy backward, then a hand-written update through .data
    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    report.append(("logits_fused", bool(T.allclose(dlogits, logits.grad, rtol=1e-5, atol=1e-6)), None))
    before = W2.detach().clone()
    for p in parameters:
        p.data += -0.1 * p.grad
    report.append(("update", bool(T.allclose(W2.data, before - 0.1 * W2.grad)), W2.is_leaf and W2.requires_grad))
    return report, loss.item()


def test_backprop_ninja_reads_as_under_torch():
    ours, theirs = ninja(minigrad), ninja(torch)
    assert ours[1] == pytest.approx(theirs[1], rel=1e-6)
    assert [r[0] for r in ours[0]] == [r[0] for r in theirs[0]]
    for (name, ex, app), (_, tex, tapp) in zip(ours[0], theirs[0]):
        assert app == tapp, f"{name}: approximate {app} (torch {tapp})"
        assert app is None or app, f"{name}: the hand gradient does not match .grad"
    assert all(r[1] for r in ours[0] if r[0] in ("logits_fused", "update"))
