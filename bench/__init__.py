"""Benchmarks: a generated practice at scale and the figures issue 8 asks for (`make bench`)."""
