"""Batch normalisation as one op: batch statistics in training, given (running) statistics in eval."""
from ..autograd import Function


def _axes(x):
    """Reduction axes: every axis but the channel axis 1 ((N, C) or (N, C, L)); shape to broadcast (C,)."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return axes, shape


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * W + b per channel.  x: (N, C) or (N, C, L); W, b: (C,).

    training=True: mean and biased var of this batch (kept as self.mean, self.var for the running stats);
    training=False: the given mean and var (constants, no gradient through them).
    """

    def __init__(self, training, eps, mean=None, var=None):
        self.training, self.eps, self.mean, self.var = training, eps, mean, var

    def forward(self, x, W=None, b=None):
        xp = self.xp
        axes, shape = _axes(x)
        # statistics in float64 for float32 input, as torch's CPU kernel (acc_type<float> is double): a float32
        # mean is off by ulp(|mean|), which x - mean turns into a relative error |mean| / std times larger
        acc = xp.float64 if x.dtype.itemsize < 8 else x.dtype
        if self.training:
            self.mean = x.mean(axis=axes, dtype=acc)
            self.var = xp.mean(xp.square(x.astype(acc) - self.mean.reshape(shape)), axis=axes)  # biased: / M
        mean, var = self.mean.astype(acc), self.var.astype(acc)
        istd = 1.0 / xp.sqrt(var + self.eps)
        self.xhat = ((x - mean.reshape(shape)) * istd.reshape(shape)).astype(x.dtype)
        self.istd = istd.astype(x.dtype)
        if self.training:  # the batch statistics leave in x's dtype (they feed the running statistics)
            self.mean, self.var = self.mean.astype(x.dtype), self.var.astype(x.dtype)
        self.W = W
        y = self.xhat * W.reshape(shape) if W is not None else self.xhat.copy()
        if b is not None:
            y += b.reshape(shape)
        return y

    def backward(self, gy):
        # xhat = (x - mu) * istd, y = W xhat + b, M values per channel (mu, var depend on x in training):
        #   dL/dxhat = gy W;  dL/dx = istd / M * (M dL/dxhat - sum(dL/dxhat) - xhat * sum(dL/dxhat * xhat))
        #   (eval: mu, var are constants, so dL/dx = dL/dxhat * istd);  dL/dW = sum(gy xhat), dL/db = sum(gy)
        axes, shape = _axes(gy)
        xhat, istd = self.xhat, self.istd.reshape(shape)
        g = gy * self.W.reshape(shape) if self.W is not None else gy
        if self.training:
            M = gy.size // gy.shape[1]
            sg = g.sum(axis=axes).reshape(shape)
            sgx = (g * xhat).sum(axis=axes).reshape(shape)
            gx = (istd / M) * (M * g - sg - xhat * sgx)
        else:
            gx = g * istd
        gW = (gy * xhat).sum(axis=axes)
        gb = gy.sum(axis=axes)
        return (gx, gW, gb)[:len(self.needs_input_grad)]


def batch_norm(x, W, b, training, eps, mean=None, var=None):
    """(y, op): the op carries the batch mean and biased var (training) for the running statistics."""
    op = BatchNorm(training, eps, mean, var)
    args = (x,) if W is None else ((x, W) if b is None else (x, W, b))
    return op(*args), op
