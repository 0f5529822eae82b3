"""RMSprop, plain or centered, with optional momentum (torch's single-tensor formulas)."""
from .. import kernels
from ..tensor import Tensor
from .optimizer import Optimizer, check_flags, decayed_grad, lerp, lerp_consts, scalar, typed


class RMSprop(Optimizer):
    """v <- alpha v + (1-alpha) g^2; p -= lr g / (sqrt(v - gbar^2 if centered else v) + eps)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        check_flags(foreach, None, capturable, differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr, alpha, eps = scalar(group["lr"]), scalar(group["alpha"]), scalar(group["eps"])
        weight_decay, momentum = scalar(group["weight_decay"]), scalar(group["momentum"])
        centered, maximize = group["centered"], group["maximize"]
        for p, state in self._with_grad(group):
            xp, w = p.xp, p.array
            if len(state) == 0:
                state["step"] = 0.0
                state["square_avg"] = Tensor._wrap(xp.zeros_like(w))
                if momentum > 0:
                    state["momentum_buffer"] = Tensor._wrap(xp.zeros_like(w))
                if centered:
                    state["grad_avg"] = Tensor._wrap(xp.zeros_like(w))
            state["step"] += 1.0
            g = decayed_grad(xp, w, p.grad.array, weight_decay, maximize)
            v = state["square_avg"].array
            gbar = state["grad_avg"].array if centered else v  # v, w: placeholders the kernel never touches
            buf = state["momentum_buffer"].array if momentum > 0 else w
            if self._fast and _fused_rmsprop(w, g, v, gbar, buf, alpha, eps, centered, momentum, lr):
                continue  # done by the twin of the formulas below (_fused_rmsprop): the same bits
            alpha_, one_minus_alpha, eps_, momentum_, lr_, minus_one = typed(w.dtype, alpha, 1.0 - alpha, eps,
                                                                             momentum, lr, -1.0)
            v[...] = v * alpha_ + one_minus_alpha * g * g     # v <- alpha v + (1 - alpha) g^2
            if centered:                                      # variance: minus the squared mean gradient
                gbar[...] = lerp(gbar, g, 1.0 - alpha)        # gbar <- alpha gbar + (1 - alpha) g
                avg = xp.sqrt(v + minus_one * gbar * gbar) + eps_
            else:
                avg = xp.sqrt(v) + eps_
            if momentum > 0:
                buf[...] = buf * momentum_ + g / avg          # b <- momentum b + g / avg
                w -= buf * lr_                                # w <- w - lr b
            else:
                w += (-lr_ * g) / avg                         # w <- w - lr g / avg


def _fused_rmsprop(w, g, v, gbar, buf, alpha, eps, centered, momentum, lr):
    """The twin of RMSprop's formulas in one pass (minigrad/kernels), the same bits; False where no kernel fits."""
    return kernels.run("rmsprop", (w, g, v, gbar, buf), alpha, 1.0 - alpha, *lerp_consts(v.dtype, 1.0 - alpha),
                       -1.0, eps, centered, momentum > 0, momentum, lr)
