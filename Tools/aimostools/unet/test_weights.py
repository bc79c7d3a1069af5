"""Deterministic test weights from a counter-based hash, reproduced bit for bit by the Swift
tests (Tests/AimosCoreTests/TestWeights.swift), so large fixture models need not be committed.

value(name, i): x = fmix32(i * 0x9E3779B1 + fnv1a32(name)) (uint32 arithmetic), u = x / 2**32.
Conv/classifier weights: (2u - 1) * sqrt(6 / fan_in); BatchNorm weight and running_var:
0.5 + u; BatchNorm bias, running_mean and classifier bias: (u - 0.5) * 0.2. All in float64,
rounded once to float32.
"""
import numpy as np

MASK = 0xFFFFFFFF


def fnv1a32(text):
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & MASK
    return h


def uniform(name, count):
    i = np.arange(count, dtype=np.uint64)
    x = (i * np.uint64(0x9E3779B1) + np.uint64(fnv1a32(name))) & np.uint64(MASK)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x85EBCA6B)) & np.uint64(MASK)
    x ^= x >> np.uint64(13)
    x = (x * np.uint64(0xC2B2AE35)) & np.uint64(MASK)
    x ^= x >> np.uint64(16)
    return x.astype(np.float64) / 4294967296.0


def tensor(name, shape):
    """The test value of one state_dict tensor (by the key without any member prefix kept)."""
    count = int(np.prod(shape))
    u = uniform(name, count)
    leaf = name.rsplit(".", 1)[-1]
    if name.endswith("conv.weight") or name.endswith("classify.weight"):
        fan_in = int(np.prod(shape[1:]))
        values = (2.0 * u - 1.0) * np.sqrt(6.0 / fan_in)
    elif leaf in ("running_var",) or name.endswith("bn.weight"):
        values = 0.5 + u
    else:
        values = (u - 0.5) * 0.2
    return values.astype(np.float32).reshape(shape)
