"""What the tests share: the torch comparison helpers, hypothesis strategies and the CuPy double."""
