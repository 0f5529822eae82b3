"""Grad mode, as torch's: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each is a context manager and a decorator (with or without parentheses where torch takes both). The mode is
per thread; a manager keeps the mode it replaced on a per-thread stack, never on itself, so one instance can be
entered twice, recursively or from two threads. A decorated function gets a fresh manager per call; a decorated
generator runs each step under the mode and gives the caller back its own mode between steps.
"""
import functools
import inspect
import threading


class _GradState(threading.local):
    enabled = True  # class defaults: every new thread starts with grad on, as torch's
    inference = False

    def __init__(self):
        self.saved = []  # (enabled, inference) replaced by each manager entered in this thread


_state = _GradState()


def is_grad_enabled():
    """True where ops record a graph (this thread's grad mode)."""
    return _state.enabled


def is_inference_mode_enabled():
    """True inside inference_mode() (this thread)."""
    return _state.inference


class _Mode:
    """Base of the managers: `mode()` says (enabled, inference) to set while inside."""

    def mode(self):
        """(grad enabled, inference) to set while inside the manager."""
        raise NotImplementedError

    def __enter__(self):
        _state.saved.append((_state.enabled, _state.inference))
        _state.enabled, _state.inference = self.mode()
        return None

    def __exit__(self, *exc):
        _state.enabled, _state.inference = _state.saved.pop()
        return False

    def clone(self):
        """A fresh manager with the same settings (a decorator enters one per call)."""
        return type(self)()

    def __call__(self, func):
        """Used as a decorator: each call (each step of a generator) runs under a fresh copy of this manager."""
        if inspect.isclass(func):
            raise TypeError(f"{type(self).__name__} decorates functions, not classes")
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(self, func)

        @functools.wraps(func)
        def run(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return run


def _wrap_generator(manager, func):
    @functools.wraps(func)
    def run(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with manager.clone():  # the first step runs the code before the first yield
                value = gen.send(None)
            while True:
                try:
                    sent = yield value  # the caller's own mode while the generator is paused
                except GeneratorExit:
                    with manager.clone():
                        gen.close()
                    raise
                except BaseException as e:
                    with manager.clone():
                        value = gen.throw(e)
                else:
                    with manager.clone():
                        value = gen.send(sent)
        except StopIteration as stop:
            return stop.value

    return run


class _NoParams(_Mode):
    """A manager that takes no arguments: `@no_grad` works as `@no_grad()` (torch 2's decorators)."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParams):
    """`with minigrad.no_grad():` runs ops without recording a graph (results have requires_grad=False)."""

    def mode(self):
        """Grad off; inference mode as it was."""
        return False, _state.inference


class enable_grad(_NoParams):
    """Turns graph recording back on inside a no_grad block or function."""

    def mode(self):
        """Grad on; inference mode as it was."""
        return True, _state.inference


class set_grad_enabled(_Mode):
    """set_grad_enabled(flag): a plain call switches the mode now; `with` restores it on exit; as a decorator it
    changes nothing until the function runs."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled takes a bool, but got {type(mode).__name__}; "
                            "pass True or False (to decorate, write @set_grad_enabled(False))")
        self.flag = mode
        self.prev = _state.enabled
        _state.enabled = mode  # in effect at once, as torch: set_grad_enabled(False) alone is a switch

    def mode(self):
        """Grad as the flag says; inference mode as it was."""
        return self.flag, _state.inference

    def __enter__(self):
        # the switch already happened in __init__; keep what it replaced so __exit__ restores that
        _state.saved.append((self.prev, _state.inference))
        _state.enabled = self.flag

    def __call__(self, func):
        _state.enabled = self.prev  # decorating: undo the switch the constructor made
        return super().__call__(func)

    def clone(self):
        """What each call of a decorated function runs under."""
        return _SetGrad(self.flag)


class _SetGrad(_Mode):
    """What a function decorated with set_grad_enabled(flag) runs under on each call."""

    def __init__(self, flag):
        self.flag = flag

    def mode(self):
        """Grad as the flag says; inference mode as it was."""
        return self.flag, _state.inference

    def clone(self):
        """Another manager with the same flag."""
        return _SetGrad(self.flag)


class inference_mode(_Mode):
    """no_grad, and tensors made inside are inference tensors (they cannot be saved for a backward later, nor
    changed in place outside inference mode), as torch's. inference_mode(False) turns both off (grad on)."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # @inference_mode without parentheses

    def __init__(self, mode=True):
        self.on = mode

    def mode(self):
        """inference_mode(True): grad off, inference on; inference_mode(False): grad on, inference off."""
        return not self.on, self.on

    def clone(self):
        """Another manager with the same setting."""
        return inference_mode(self.on)
