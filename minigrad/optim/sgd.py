"""SGD with momentum, dampening, Nesterov and weight decay (torch's single-tensor formulas)."""
from .. import kernels
from ..tensor import Tensor
from .optimizer import Optimizer, check_flags, decayed_grad, scalar, typed


class SGD(Optimizer):
    """p -= lr * g, where g may carry weight decay and a momentum buffer b <- momentum * b + (1 - dampening) * g."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        check_flags(foreach, fused, False, differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr, momentum, dampening = scalar(group["lr"]), scalar(group["momentum"]), scalar(group["dampening"])
        weight_decay, nesterov, maximize = scalar(group["weight_decay"]), group["nesterov"], group["maximize"]
        for p, state in self._with_grad(group):
            xp, w = p.xp, p.array
            g = decayed_grad(xp, w, p.grad.array, weight_decay, maximize)
            buf = state.get("momentum_buffer")
            if self._fast and _fused_sgd(w, g, buf, momentum, dampening, nesterov, lr):
                continue  # done by the twin of the formulas below (_fused_sgd): the same bits
            momentum_, damp_, lr_ = typed(w.dtype, momentum, 1.0 - dampening, lr)
            if momentum != 0:
                if buf is None:  # first step: the buffer starts as the gradient itself
                    buf = state["momentum_buffer"] = Tensor._wrap(g.copy() if g is p.grad.array else g)
                else:            # b <- momentum b + (1 - dampening) g   (g * 1.0 == g exactly: skipped)
                    buf.array[...] = buf.array * momentum_ + (g if dampening == 0 else g * damp_)
                g = g + buf.array * momentum_ if nesterov else buf.array
            w -= g * lr_                                      # w <- w - lr g


def _fused_sgd(w, g, buf, momentum, dampening, nesterov, lr):
    """The twin of SGD's formulas in one pass (minigrad/kernels), the same bits; False where no kernel fits (also
    on the first momentum step, where the buffer is made)."""
    if momentum == 0:
        return kernels.run("sgd", (w, g), lr)
    return buf is not None and kernels.run("sgd_momentum", (w, g, buf.array), momentum, 1.0 - dampening,
                                           dampening != 0, nesterov, lr)
