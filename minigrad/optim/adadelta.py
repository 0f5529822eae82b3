"""Adadelta (torch's single-tensor formula: eps inside both square roots)."""
from .. import kernels
from ..tensor import Tensor
from .optimizer import Optimizer, check_flags, decayed_grad, scalar, typed


class Adadelta(Optimizer):
    """v <- rho v + (1-rho) g^2; d = sqrt(u + eps) / sqrt(v + eps) * g; u <- rho u + (1-rho) d^2; p -= lr d."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        check_flags(foreach, None, capturable, differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr, rho, eps = scalar(group["lr"]), scalar(group["rho"]), scalar(group["eps"])
        weight_decay, maximize = scalar(group["weight_decay"]), group["maximize"]
        for p, state in self._with_grad(group):
            xp, w = p.xp, p.array
            if len(state) == 0:
                state["step"] = 0.0
                state["square_avg"] = Tensor._wrap(xp.zeros_like(w))
                state["acc_delta"] = Tensor._wrap(xp.zeros_like(w))
            state["step"] += 1.0
            g = decayed_grad(xp, w, p.grad.array, weight_decay, maximize)
            v, u = state["square_avg"].array, state["acc_delta"].array
            if self._fast and _fused_adadelta(w, g, v, u, rho, eps, lr):
                continue  # done by the twin of the formulas below (_fused_adadelta): the same bits
            rho_, one_minus_rho, eps_, lr_ = typed(w.dtype, rho, 1.0 - rho, eps, lr)
            v[...] = v * rho_ + one_minus_rho * g * g         # v <- rho v + (1 - rho) g^2
            delta = xp.sqrt(u + eps_) / xp.sqrt(v + eps_) * g  # delta = sqrt(u + eps) / sqrt(v + eps) g
            u[...] = u * rho_ + one_minus_rho * delta * delta  # u <- rho u + (1 - rho) delta^2
            w -= delta * lr_                                  # w <- w - lr delta


def _fused_adadelta(w, g, v, u, rho, eps, lr):
    """The twin of Adadelta's formulas in one pass (minigrad/kernels), the same bits; False where no kernel fits."""
    return kernels.run("adadelta", (w, g, v, u), rho, 1.0 - rho, eps, lr)
