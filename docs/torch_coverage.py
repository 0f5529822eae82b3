"""Write docs/torch-coverage.md: which of torch's "Math operations" (and the torch.linalg functions a learner meets)
minigrad has, from torch's own category lists (docs/source/torch.rst), checked against both namespaces.

    python docs/torch_coverage.py           # rewrite docs/torch-coverage.md
    python docs/torch_coverage.py --check   # exit 1 if the file is out of date (tests/test_coverage.py does this)

A function is *present* when minigrad has it with torch's gradient behaviour (including none, where torch has
none), *forward-only* when minigrad computes it but lacks a gradient torch has, *missing* when minigrad lacks it.
Complex, quantized, sparse and named-tensor functions are out of scope and listed apart, not counted.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "torch-coverage.md")

# torch.rst's sections, in its order (torch 2.x)
CATEGORIES = {
    "Indexing, Slicing, Joining, Mutating Ops": """adjoint argwhere cat concat concatenate conj chunk dsplit
        column_stack dstack gather hsplit hstack index_add index_copy index_reduce index_select masked_select movedim
        moveaxis narrow narrow_copy nonzero permute reshape row_stack select scatter diagonal_scatter select_scatter
        slice_scatter scatter_add scatter_reduce split squeeze stack swapaxes swapdims t take take_along_dim
        tensor_split tile transpose unbind unravel_index unsqueeze vsplit vstack where""",
    "Random sampling": """seed manual_seed initial_seed get_rng_state set_rng_state bernoulli multinomial normal
        poisson rand rand_like randint randint_like randn randn_like randperm""",
    "Pointwise Ops": """abs absolute acos arccos acosh arccosh add addcdiv addcmul angle asin arcsin asinh arcsinh
        atan arctan atanh arctanh atan2 arctan2 bitwise_not bitwise_and bitwise_or bitwise_xor bitwise_left_shift
        bitwise_right_shift ceil clamp clip conj_physical copysign cos cosh deg2rad div divide digamma erf erfc erfinv
        exp exp2 expm1 fake_quantize_per_channel_affine fake_quantize_per_tensor_affine fix float_power floor
        floor_divide fmod frac frexp gradient imag ldexp lerp lgamma log log10 log1p log2 logaddexp logaddexp2
        logical_and logical_not logical_or logical_xor logit hypot i0 igamma igammac mul multiply mvlgamma nan_to_num
        neg negative nextafter polygamma positive pow quantized_batch_norm quantized_max_pool1d quantized_max_pool2d
        rad2deg real reciprocal remainder round rsqrt sigmoid sign sgn signbit sin sinc sinh softmax sqrt square sub
        subtract tan tanh true_divide trunc xlogy""",
    "Reduction Ops": """argmax argmin amax amin aminmax all any max min dist logsumexp mean nanmean median nanmedian
        mode norm nansum prod quantile nanquantile std std_mean sum unique unique_consecutive var var_mean
        count_nonzero""",
    "Comparison Ops": """allclose argsort eq equal ge greater_equal gt greater isclose isfinite isin isinf isposinf
        isneginf isnan isreal kthvalue le less_equal lt less maximum minimum fmax fmin ne not_equal sort topk msort""",
    "Other Operations": """atleast_1d atleast_2d atleast_3d bincount block_diag broadcast_tensors broadcast_to
        broadcast_shapes bucketize cartesian_prod cdist clone combinations corrcoef cov cross cummax cummin cumprod
        cumsum diag diag_embed diagflat diagonal diff einsum flatten flip fliplr flipud kron rot90 gcd histc histogram
        histogramdd meshgrid lcm logcumsumexp ravel renorm repeat_interleave roll searchsorted tensordot trace tril
        tril_indices triu triu_indices unflatten vander view_as_real view_as_complex resolve_conj resolve_neg""",
    "BLAS and LAPACK Operations (the products a learner meets)": """addbmm addmm addmv addr baddbmm bmm chain_matmul
        dot inner matmul matrix_power mm mv outer vdot det""",
    "torch.linalg (the functions a learner meets)": """linalg.vector_norm linalg.matrix_norm linalg.norm linalg.cross
        linalg.inv linalg.det linalg.solve linalg.matmul linalg.vecdot linalg.matrix_power""",
}

OUT_OF_SCOPE = {  # complex, quantized: outside a real-dense-tensor engine
    "conj_physical": "complex conjugation (conj, resolve_conj, resolve_neg are here: identities on real tensors)",
    "imag": "complex tensors only (torch raises on real ones)",
    "view_as_real": "complex tensors only", "view_as_complex": "complex tensors only",
    "fake_quantize_per_channel_affine": "quantization", "fake_quantize_per_tensor_affine": "quantization",
    "quantized_batch_norm": "quantized tensors", "quantized_max_pool1d": "quantized tensors",
    "quantized_max_pool2d": "quantized tensors",
}

FORWARD_ONLY = {  # minigrad computes these but lacks a gradient torch has
    "heaviside": "torch has no derivative either (its backward raises); minigrad's result does not require grad",
    "nextafter": "torch has no derivative either (its backward raises); minigrad's result does not require grad",
}

MISSING = {  # why each is not here (yet)
}

NOTES = {  # present, with a behaviour worth knowing
    "topk": "ties: picks equal values in stable order (torch's quickselect may pick other indices of equal values)",
    "kthvalue": "ties: index by stable sort (torch's quickselect may pick another index of an equal value)",
    "sort": "always stable (torch's CPU sort is); stable=True names the node SortBackward1 as torch",
    "erf": "CPU: Python's math.erf element by element (NumPy has no erf); GPU: cupyx.scipy.special",
    "lgamma": "CPU: math.lgamma element by element; GPU: cupyx.scipy.special",
    "einsum": "one node (torch composes bmm/permute); repeated subscripts and '...' supported",
    "linalg.det": "gradient det(A) inv(A)^T: a singular A gives inf/NaN where torch's SVD-based one is finite",
    "linalg.matrix_norm": "ord 'fro', 1, -1, inf, -inf; 2, -2 and 'nuc' (need an SVD) raise NotImplementedError",
    "gradient": "spacing as numbers (one, or one per dim); coordinate tensors as spacing raise NotImplementedError",
    "scatter_reduce": "prod's gradient where a factor is 0: one pass per src element (exact, slow for big src)",
    "igamma": "series / continued fraction in float64 (closer to the exact value than torch's asymptotic series for "
              "large a, by about 1e-10 relative); gradient for other only, as torch",
    "poisson": "torch's CPU sampler on torch's stream, bit for bit",
    "normal": "every overload (tensor/number mean and std, size=, generator=)",
    "median": "median(x) shares the gradient among ties, as torch; median(x, dim) picks the lower median's index",
    "std": "gradient at zero spread is NaN (sqrt of 0), where torch's is 0",
    "std_mean": "composed of std and mean: the gradient at zero spread is NaN, where torch's is 0",
    "vander": "forward; torch's own backward fails, so the gradient is not compared",
}

# the op parity files (not every test file, so an edit elsewhere never stales the table)
TEST_FILES = ("test_ops.py", "test_ops_reduce.py", "test_ops_shape.py", "test_ops_index.py", "test_out.py",
              "test_random.py", "test_torch_semantics.py", "test_tensor.py", "test_grad_fn.py", "test_ops_pointwise.py",
              "test_ops_sort.py", "test_ops_joining.py", "test_ops_counting.py", "test_coverage.py")


def _resolve(root, dotted):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _tests():
    text = {}
    for name in TEST_FILES:
        path = os.path.join(ROOT, "tests", name)
        if os.path.exists(path):
            with open(path) as f:
                text[name] = f.read()
    return text


def _tested_in(name, texts):
    short = name.split(".")[-1]
    pat = re.compile(r"[\"'.]" + re.escape(short) + r"\b|\b" + re.escape(short) + r"\(")
    return [n for n, t in texts.items() if pat.search(t)]


def rows():
    """(category, name, status, method, inplace, note, tests) for every function of every category."""
    import torch

    import minigrad

    texts = _tests()
    out = []
    for cat, names in CATEGORIES.items():
        for name in names.split():
            if _resolve(torch, name) is None:
                raise RuntimeError(f"torch has no {name}: fix the category list")
            short = name.split(".")[-1]
            if name in OUT_OF_SCOPE:
                status, note = "out of scope", OUT_OF_SCOPE[name]
            elif _resolve(minigrad, name) is None:
                status, note = "missing", MISSING.get(name, "not written yet")
            elif name in FORWARD_ONLY:
                status, note = "forward-only", FORWARD_ONLY[name]
            else:
                status, note = "present", NOTES.get(name, "")
            linalg = name.startswith("linalg.")
            method = "—" if linalg or not hasattr(torch.Tensor, short) else (
                "yes" if hasattr(minigrad.Tensor, short) else "no")
            inplace = "—" if linalg or not hasattr(torch.Tensor, short + "_") else (
                "yes" if hasattr(minigrad.Tensor, short + "_") else "no")
            tests = ", ".join(_tested_in(name, texts)) if status in ("present", "forward-only") else ""
            out.append((cat, name, status, method, inplace, note, tests))
    return out


def render():
    rs = rows()
    in_scope = [r for r in rs if r[2] != "out of scope"]
    count = {s: sum(r[2] == s for r in in_scope) for s in ("present", "forward-only", "missing")}
    tested = sum(1 for r in in_scope if r[2] == "present" and r[6])
    lines = [
        "# torch's math operations in minigrad",
        "",
        "Generated by `python docs/torch_coverage.py` from torch's category lists (torch.rst) and both namespaces;",
        "`tests/test_coverage.py` fails when this file is out of date. *present*: minigrad has it with torch's",
        "gradient behaviour (none where torch has none); *forward-only*: computed, but a gradient torch has is",
        "missing; *missing*: not here, with why. Method / in-place: whether `Tensor.f` / `Tensor.f_` exist where torch",
        "has them (— where torch has none). Tests: the test files that name the function (parity with torch).",
        "",
        f"In scope: {len(in_scope)} functions. Present: {count['present']} "
        f"({100 * count['present'] / len(in_scope):.1f}%), of which named in a parity test file: {tested}; "
        f"forward-only: {count['forward-only']}; missing: {count['missing']}. "
        f"Out of scope (complex, quantized): {len(rs) - len(in_scope)}.",
        "",
    ]
    for cat in CATEGORIES:
        lines += [f"## {cat}", "", "| function | status | method | in-place | note | tests |",
                  "|---|---|---|---|---|---|"]
        for c, name, status, method, inplace, note, tests in rs:
            if c == cat:
                lines.append(f"| `{name}` | {status} | {method} | {inplace} | {note} | {tests} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/torch-coverage.md is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        with open(OUT) as f:
            same = f.read() == text
        print("up to date" if same else "docs/torch-coverage.md is out of date: run python docs/torch_coverage.py")
        return 0 if same else 1
    with open(OUT, "w") as f:
        f.write(text)
    print(text.splitlines()[8])
    return 0


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    sys.exit(main())
