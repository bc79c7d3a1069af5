#!/usr/bin/env python3
"""Makes the small torch.save checkpoints that test_convert_checkpoint.py reads without PyTorch
(run once with PyTorch; the output is committed under Tools/tests/checkpoint/fixtures/checkpoints/).

- unet64_zip.pt: AIMOS's dict {'epoch', 'model_state_dict', 'trainLoss', 'valLoss'} of a Unet64
  with 3 outputs, zip format (PyTorch >= 1.6);
- unet64_legacy.pt: the same, legacy format (_use_new_zipfile_serialization=False);
- unet64_dataparallel.pt: a bare state_dict of torch.nn.DataParallel (names 'module.*'), legacy;
- unet64_fp16.pt: AIMOS's dict of the same model in float16, zip format;
- views.pt / views_legacy.pt: odd tensors (strided, offset, shared, 0-d, empty, stride 0, every
  dtype, bfloat16), an Adam optimizer state, a numpy scalar and a torch.Size; their expected
  values are in views_expected.npz;
- trainingCIDs.pickledump: a class id dict pickled as AIMOS's psave does (protocol 4);
- manifest.json: the state_dict names, dtypes and shapes PyTorch gives for every architecture.

The Unet64 weights are the deterministic test weights of aimostools/unet/test_weights.py (value of
a tensor = formula of its name), so the tests recompute the expected values from the names.

    python3 Tools/tests/checkpoint/make_checkpoint_fixtures.py [--out Tools/tests/checkpoint/fixtures/checkpoints]
"""
import argparse
import copy
import json
import os
import pickle
import sys

import numpy as np
import torch

from aimostools.unet import reference
from aimostools.unet import test_weights

ARCHITECTURE = "Unet64"
OUTPUT_CHANNELS = 3  # background + the two classes of trainingCIDs
NUM_BATCHES_TRACKED = 7
CLASS_IDS = {"Heart": 2, "Brain": 1}  # not in id order on purpose


def formula_net():
    """Unet64 whose float tensors hold test_weights.tensor(name, shape)."""
    net = reference.AimosUNet(ARCHITECTURE, OUTPUT_CHANNELS)
    state = {}
    for name, value in net.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(NUM_BATCHES_TRACKED, dtype=torch.long)
        else:
            state[name] = torch.from_numpy(test_weights.tensor(name, tuple(value.shape)))
    net.load_state_dict(state)
    return net.eval()


def aimos_checkpoint(net):
    """The dict AIMOS's datafunctions.save_model writes."""
    return {"epoch": 30, "model_state_dict": net.state_dict(), "trainLoss": 0.1234, "valLoss": 0.2345}


def odd_tensors():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3.0
    return {
        "base": base,
        "transposed": base.t(),
        "offset_slice": base[1:, 2:5],
        "shared_row": base[2],
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "expanded": torch.tensor([1.0, 2.0, 3.0]).expand(2, 3),
        "half_strided": (base * 0.001).half()[::2],
        "bfloat16": (base * 1.001).bfloat16(),
        "double_strided": base.double()[:, ::3],
        "int64": torch.arange(-2, 3),
        "int32": torch.arange(4, dtype=torch.int32) * 1000,
        "int16": torch.arange(3, dtype=torch.int16) - 1,
        "int8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "uint8": torch.tensor([0, 200, 255], dtype=torch.uint8),
        "bool": base[0] > -2,
    }


def adam_state():
    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(layer.parameters(), lr=1e-3)
    layer(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    return optimizer.state_dict()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "fixtures", "checkpoints"))
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)

    net = formula_net()
    torch.save(aimos_checkpoint(net), os.path.join(out, "unet64_zip.pt"))
    torch.save(aimos_checkpoint(net), os.path.join(out, "unet64_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(torch.nn.DataParallel(net).state_dict(), os.path.join(out, "unet64_dataparallel.pt"),
               _use_new_zipfile_serialization=False)
    torch.save(aimos_checkpoint(copy.deepcopy(net).half()), os.path.join(out, "unet64_fp16.pt"))

    tensors = odd_tensors()
    optimizer = adam_state()
    views = {"tensors": tensors, "optimizer_state_dict": optimizer, "dice": np.float64(0.875),
             "size": torch.Size([2, 3]), "nested": [1, (2.5, None), {"flag": True, "text": "x"}]}
    torch.save(views, os.path.join(out, "views.pt"))
    torch.save(views, os.path.join(out, "views_legacy.pt"), _use_new_zipfile_serialization=False)
    expected = {name: (t.float() if t.dtype == torch.bfloat16 else t).numpy() for name, t in tensors.items()}
    for key in ("exp_avg", "exp_avg_sq", "step"):
        expected[f"optimizer.state.0.{key}"] = optimizer["state"][0][key].numpy()
    np.savez(os.path.join(out, "views_expected.npz"), **expected)

    with open(os.path.join(out, "trainingCIDs.pickledump"), "wb") as f:
        pickle.dump(CLASS_IDS, f, protocol=4)

    manifest = {
        "torch_version": torch.__version__,
        "architecture": ARCHITECTURE, "output_channels": OUTPUT_CHANNELS,
        "num_batches_tracked": NUM_BATCHES_TRACKED, "class_ids": CLASS_IDS,
        "state_dict": [[name, str(t.dtype).replace("torch.", ""), list(t.shape)]
                       for name, t in net.state_dict().items()],
        "architectures": {
            name: {k: list(v.shape) for k, v in reference.AimosUNet(name, OUTPUT_CHANNELS).state_dict().items()}
            for name in reference.WIDTHS},
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", ", ".join(sorted(os.listdir(out))))


if __name__ == "__main__":
    main()
