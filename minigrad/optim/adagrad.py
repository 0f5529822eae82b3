"""Adagrad (torch's single-tensor formula; state is created eagerly, as torch does)."""
from .. import kernels
from ..tensor import Tensor
from .optimizer import Optimizer, check_flags, decayed_grad, scalar, typed


class Adagrad(Optimizer):
    """s += g^2; p -= clr * g / (sqrt(s) + eps), clr = lr / (1 + (t - 1) * lr_decay)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_flags(foreach, fused, False, differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = 0.0
        state["sum"] = Tensor._wrap(p.xp.full_like(p.array, scalar(group["initial_accumulator_value"])))

    def _step_group(self, group):
        lr, lr_decay, eps = scalar(group["lr"]), scalar(group["lr_decay"]), scalar(group["eps"])
        weight_decay, maximize = scalar(group["weight_decay"]), group["maximize"]
        for p, state in self._with_grad(group):
            if len(state) == 0:  # a group added later with add_param_group
                self._init_state(p, group)
            xp, w = p.xp, p.array
            state["step"] += 1.0
            g = decayed_grad(xp, w, p.grad.array, weight_decay, maximize)
            clr = lr / (1.0 + (state["step"] - 1.0) * lr_decay)
            s = state["sum"].array
            if self._fast and _fused_adagrad(w, g, s, eps, clr):
                continue  # done by the twin of the formulas below (_fused_adagrad): the same bits
            eps_, neg_clr = typed(w.dtype, eps, -clr)
            s[...] = s + g * g                                # s <- s + g^2
            w += (neg_clr * g) / (xp.sqrt(s) + eps_)          # w <- w - clr g / (sqrt(s) + eps)


def _fused_adagrad(w, g, s, eps, clr):
    """The twin of Adagrad's formulas in one pass (minigrad/kernels), the same bits; False where no kernel fits."""
    return kernels.run("adagrad", (w, g, s), 1.0, eps, -clr)
