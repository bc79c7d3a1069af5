"""Writes the metric fixtures of the engine's tests (Tests/AimosCoreTests/Fixtures/metric_cases.json):
small label-map pairs with known shapes (shifted cubes, spheres on an anisotropic grid, an empty
organ, one-voxel organs, an organ against the grid's edge) and, per organ, the paper's metrics
as aimostools.evaluation.metrics computes them with numpy and scipy, so the Swift metrics are
checked against an independent computation.

    aimos-make-metric-fixtures Tests/AimosCoreTests/Fixtures/metric_cases.json
"""
import argparse
import base64
import json
import math

import numpy as np

from aimostools.evaluation import metrics


def ball(dims, center, radius, spacing):
    grid = np.indices(dims).astype(float)
    squared = sum(((grid[a] - center[a]) * spacing[a]) ** 2 for a in range(3))
    return squared <= radius ** 2


def cases():
    out = []
    # 1: cubes shifted by (2, 1, 0) voxels, a second organ that matches exactly.
    dims, spacing = (20, 18, 16), (0.5, 0.5, 0.5)
    ref, pred = np.zeros(dims, np.uint8), np.zeros(dims, np.uint8)
    ref[4:11, 4:11, 4:11] = 1
    pred[6:13, 5:12, 4:11] = 1
    ref[14:18, 2:6, 10:14] = 2
    pred[14:18, 2:6, 10:14] = 2
    out.append(("shifted_cubes", dims, spacing, ref, pred))
    # 2: spheres of 2.0 and 1.7 mm, centres apart, on an anisotropic grid.
    dims, spacing = (30, 24, 14), (0.2, 0.3, 0.7)
    ref = ball(dims, (14, 11, 6), 2.0, spacing).astype(np.uint8)
    pred = ball(dims, (16, 12, 7), 1.7, spacing).astype(np.uint8)
    out.append(("anisotropic_spheres", dims, spacing, ref, pred))
    # 3: organ 1 missing from the prediction, organ 2 only in the prediction, organ 3 one voxel each.
    dims, spacing = (12, 12, 12), (0.14, 0.14, 0.14)
    ref, pred = np.zeros(dims, np.uint8), np.zeros(dims, np.uint8)
    ref[2:6, 2:6, 2:6] = 1
    pred[7:10, 7:10, 7:10] = 2
    ref[10, 1, 1] = 3
    pred[10, 3, 2] = 3
    out.append(("empty_and_single_voxel", dims, spacing, ref, pred))
    # 4: an organ against the grid's faces (its surface includes them).
    dims, spacing = (10, 9, 8), (1.0, 0.5, 0.25)
    ref, pred = np.zeros(dims, np.uint8), np.zeros(dims, np.uint8)
    ref[0:5, 0:9, 0:4] = 1
    pred[0:6, 0:8, 0:5] = 1
    out.append(("against_the_grid_edge", dims, spacing, ref, pred))
    return out


def number(x):
    return None if math.isnan(x) else x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    args = parser.parse_args()
    written = []
    for name, dims, spacing, ref, pred in cases():
        expected = {}
        for organ in range(1, int(max(ref.max(), pred.max())) + 1):
            m = metrics.organ_metrics(pred == organ, ref == organ, spacing)
            expected[str(organ)] = {k: number(float(v)) for k, v in m.items()}
        written.append({"name": name, "dims": list(dims), "spacing": list(spacing),
                        # voxels x fastest, as NIfTI and the engine store them
                        "reference": base64.b64encode(ref.tobytes(order="F")).decode(),
                        "prediction": base64.b64encode(pred.tobytes(order="F")).decode(),
                        "expected": expected})
    with open(args.output, "w") as f:
        json.dump({"generator": "aimos-make-metric-fixtures", "cases": written}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
