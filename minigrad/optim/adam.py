"""Adam and AdamW (torch's single-tensor formulas: eps is added after bias correction)."""
from .. import kernels
from ..tensor import Tensor
from .optimizer import Optimizer, check_flags, decayed_grad, lerp, lerp_consts, scalar, typed


class Adam(Optimizer):
    """m <- lerp(m, g, 1-b1); v <- b2 v + (1-b2) g^2; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)) and not (
            isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor)
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        check_flags(foreach, fused, capturable, differentiable)
        betas = (scalar(betas[0]), scalar(betas[1]))
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr, eps, weight_decay = scalar(group["lr"]), scalar(group["eps"]), scalar(group["weight_decay"])
        beta1, beta2 = scalar(group["betas"][0]), scalar(group["betas"][1])
        amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], group["decoupled_weight_decay"]
        for p, state in self._with_grad(group):
            xp, w = p.xp, p.array
            if len(state) == 0:  # lazy init, as torch
                state["step"] = 0.0
                state["exp_avg"] = Tensor._wrap(xp.zeros_like(w))
                state["exp_avg_sq"] = Tensor._wrap(xp.zeros_like(w))
                if amsgrad:
                    state["max_exp_avg_sq"] = Tensor._wrap(xp.zeros_like(w))
            state["step"] += 1.0
            step = state["step"]
            if decoupled and weight_decay != 0:  # AdamW: decay the weights, not the gradient
                w *= w.dtype.type(1.0 - lr * weight_decay)
                g = decayed_grad(xp, w, p.grad.array, 0.0, maximize)
            else:
                g = decayed_grad(xp, w, p.grad.array, weight_decay, maximize)
            m, v = state["exp_avg"].array, state["exp_avg_sq"].array
            step_size = lr / (1.0 - beta1**step)
            bias_correction2_sqrt = (1.0 - beta2**step) ** 0.5
            if self._fast and not amsgrad and _fused_adam(w, g, m, v, beta1, beta2, bias_correction2_sqrt, eps,
                                                          step_size):
                continue  # done by the twin of the formulas below (_fused_adam): the same bits
            b2, one_minus_b2, bc2, eps_, neg_step = typed(w.dtype, beta2, 1.0 - beta2, bias_correction2_sqrt, eps,
                                                          -step_size)
            m[...] = lerp(m, g, 1.0 - beta1)                  # m <- beta1 m + (1 - beta1) g
            v[...] = v * b2 + one_minus_b2 * g * g            # v <- beta2 v + (1 - beta2) g^2
            if amsgrad:
                vmax = state["max_exp_avg_sq"].array
                vmax[...] = xp.maximum(vmax, v)               # v <- max of every v so far
                v = vmax
            denom = xp.sqrt(v) / bc2 + eps_                   # sqrt(v / (1 - beta2^t)) + eps
            w += neg_step * (m / denom)                       # w <- w - lr / (1 - beta1^t) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: p <- p * (1 - lr * weight_decay) before the Adam update."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """Optimizer.load_state_dict, keeping decoupled weight decay on as torch's AdamW does."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True  # as torch: AdamW always decouples


def _fused_adam(w, g, m, v, beta1, beta2, bias_correction2_sqrt, eps, step_size):
    """The twin of Adam's formulas: w, m, v updated in one pass (Numba on the CPU; on the GPU one CUDA launch for
    the whole step), the same bits; False where no kernel fits (the formulas run)."""
    return kernels.run("adam", (w, g, m, v), *lerp_consts(m.dtype, 1.0 - beta1), beta2, 1.0 - beta2,
                       bias_correction2_sqrt, eps, -step_size)
