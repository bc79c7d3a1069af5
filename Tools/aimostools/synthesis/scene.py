"""What a real scanner holds besides one mouse, drawn into a synthetic scan.

Real micro-CT scans show the animal on a bed, with anaesthesia and catheter tubes, sensor wires
and a nose cone, inside the reconstruction circle; none of it is an organ, and a model that never
saw it finds organs in it. The objects are drawn on the output grid (synthesis layout: axis 0
left-right, axis 1 head-tail with the head at high index, axis 2 dorsal-ventral with the back at
high index), in the scan's units before the scanner effects, so they get the same blur, cupping,
artefacts and noise as tissue. Labels stay background there. Every range is listed in MODELS.md.

- bed: a flat plate or a half-pipe cradle under the animal's belly (60 %), its back (35 %) or
  its side; PMMA or polycarbonate (90-160 HU) or carbon fibre (250-600 HU), 0.8-3 mm thick, gap
  0-0.6 mm, with rows of round holes in a third of the flat plates;
- tubes (anaesthesia, catheters): 0-3 hollow cylinders roughly along the body axis beside the
  body, outer radius 0.4-1.5 mm, walls 0.15-0.4 mm of 60-250 HU, filled with air or fluid;
- wires (ECG, temperature probe): 0-2 thin metal lines, 1500-3000 HU at their core, with the
  partial-volume loss of a line thinner than a voxel;
- a nose cone: a conical plastic shell around the head end (when the head is in view), 40 %;
- the reconstruction circle: outside a transverse circle (centred near the body, radius 1.0-1.4x
  the body's half-diagonal) the scanner writes one constant value (-1024, -1000, -3024 or 0 HU)
  after the noise, 45 % of CT scans.
Light-sheet scans get none of these (a cleared sample in a chamber has no bed); they share only
the extra animals and the partial fields of view handled in synthesis.py.
"""
import numpy as np

PLASTIC_HU = (90.0, 160.0)
CARBON_HU = (250.0, 600.0)
TUBE_WALL_HU = (60.0, 250.0)
METAL_HU = (1500.0, 3000.0)
CIRCLE_VALUES_HU = (-1024.0, -1000.0, -3024.0, 0.0)


def _body_extent(body):
    """(lower, upper) voxel index of the body along each axis (upper inclusive)."""
    where = [np.nonzero(body.any(axis=tuple(a for a in range(3) if a != axis)))[0] for axis in range(3)]
    return [(int(w[0]), int(w[-1])) if len(w) else (0, body.shape[axis] - 1) for axis, w in enumerate(where)]


def room_for_scene(rng, spacing, ct):
    """Air to add around the animal's window so the objects fit: per axis (before, after), in
    voxels. Beds and tubes need a few mm beside and under the body."""
    if not ct:
        return [(0, 0)] * 3
    mm = [rng.uniform(1.0, 8.0, 2), rng.uniform(0.0, 3.0, 2), rng.uniform(3.0, 9.0, 2)]
    return [tuple(int(round(m / spacing)) for m in pair) for pair in mm]


def _transverse(shape, spacing):
    """mm coordinates of axis 0 and axis 2, broadcastable to (n0, 1, n2)."""
    x = (np.arange(shape[0]) * spacing)[:, None, None]
    z = (np.arange(shape[2]) * spacing)[None, None, :]
    return x, z


def _bed(rng, image, body, spacing):
    shape = image.shape
    extent = _body_extent(body)
    side = rng.choice(["ventral", "dorsal", "left", "right"], p=[0.6, 0.35, 0.025, 0.025])
    value = rng.uniform(*(CARBON_HU if rng.random() < 0.3 else PLASTIC_HU))
    thickness = rng.uniform(0.8, 3.0)
    gap = rng.uniform(0.0, 0.6)
    x, z = _transverse(shape, spacing)
    # Work in the coordinates of a bed below the body: depth = distance below the body's lowest point.
    if side in ("ventral", "dorsal"):
        low_mm = extent[2][0] * spacing if side == "ventral" else extent[2][1] * spacing
        depth = (low_mm - z) if side == "ventral" else (z - low_mm)
        across, across_center = x, (extent[0][0] + extent[0][1]) / 2 * spacing
        half_width = (extent[0][1] - extent[0][0]) / 2 * spacing
    else:
        low_mm = extent[0][0] * spacing if side == "left" else extent[0][1] * spacing
        depth = (low_mm - x) if side == "left" else (x - low_mm)
        across, across_center = z, (extent[2][0] + extent[2][1]) / 2 * spacing
        half_width = (extent[2][1] - extent[2][0]) / 2 * spacing
    if rng.random() < 0.4:      # half-pipe cradle: a cylinder shell hugging the body from below
        radius = half_width + rng.uniform(0.5, 3.0)
        axis_depth = gap - radius   # the cylinder's axis: its inner bottom is `gap` below the body
        distance = np.sqrt((across - across_center) ** 2 + (depth - axis_depth) ** 2)
        mask = (distance >= radius) & (distance <= radius + thickness) & (depth >= axis_depth)
    else:
        mask = (depth >= gap) & (depth <= gap + thickness)
        if rng.random() < 0.33:
            pitch = rng.uniform(3.0, 8.0)
            hole = rng.uniform(0.5, 1.5)
            y = (np.arange(shape[1]) * spacing)[None, :, None]
            a = np.mod(across - across_center, pitch) - pitch / 2
            b = np.mod(y, pitch) - pitch / 2
            mask = mask & (a ** 2 + b ** 2 > hole ** 2)
    mask = np.broadcast_to(mask, shape) & ~body
    image[mask] = value
    return str(side)


def _line_distance(shape, spacing, point, direction):
    """Distance (mm) of every voxel from a line through `point` (mm) along unit `direction`."""
    offsets = [(np.arange(n, dtype=np.float32) * spacing - np.float32(p)).reshape([-1 if a == k else 1 for a in range(3)])
               for k, (n, p) in enumerate(zip(shape, point))]
    along = sum(o * np.float32(d) for o, d in zip(offsets, direction))
    squared = sum(o * o for o in offsets) - along * along
    return np.sqrt(np.maximum(squared, 0))


def _beside_body(rng, body, spacing, clearance_mm):
    """A point (mm) beside the body in a random transverse slice, `clearance_mm` from its box."""
    extent = _body_extent(body)
    center = np.array([(lo + hi) / 2 * spacing for lo, hi in extent])
    half = np.array([(hi - lo) / 2 * spacing for lo, hi in extent])
    angle = rng.uniform(0, 2 * np.pi)
    point = center.copy()
    point[0] += np.cos(angle) * (half[0] + clearance_mm)
    point[2] += np.sin(angle) * (half[2] + clearance_mm)
    return point


def _direction(rng):
    tilt = np.deg2rad(rng.uniform(0, 8))
    turn = rng.uniform(0, 2 * np.pi)
    return np.array([np.sin(tilt) * np.cos(turn), np.cos(tilt), np.sin(tilt) * np.sin(turn)])


def _tubes_and_wires(rng, image, body, spacing, air):
    for _ in range(int(rng.integers(0, 4))):
        outer = rng.uniform(0.4, 1.5)
        wall = min(rng.uniform(0.15, 0.4), outer / 2)
        distance = _line_distance(image.shape, spacing, _beside_body(rng, body, spacing, outer + rng.uniform(0.2, 4.0)),
                                  _direction(rng))
        inside = rng.uniform(-20, 40) if rng.random() < 0.4 else air
        image[(distance <= outer - wall) & ~body] = inside
        image[(distance > outer - wall) & (distance <= outer) & ~body] = rng.uniform(*TUBE_WALL_HU)
    for _ in range(int(rng.integers(0, 3))):
        radius = rng.uniform(0.05, 0.2)
        distance = _line_distance(image.shape, spacing, _beside_body(rng, body, spacing, rng.uniform(0.3, 3.0)),
                                  _direction(rng))
        # A line thinner than a voxel: one voxel wide, at the fraction of the voxel it fills.
        core = (distance <= max(radius, spacing / 2)) & ~body
        coverage = min(1.0, np.pi * radius ** 2 / spacing ** 2)
        image[core] = air + coverage * (rng.uniform(*METAL_HU) - air)


def _nose_cone(rng, image, body, spacing):
    extent = _body_extent(body)
    head_end = extent[1][1]
    if head_end >= image.shape[1] - 1:        # the head is cut off: no cone in view
        return
    x, z = _transverse(image.shape, spacing)
    y = (np.arange(image.shape[1]) * spacing)[None, :, None]
    center_x = (extent[0][0] + extent[0][1]) / 2 * spacing
    center_z = (extent[2][0] + extent[2][1]) / 2 * spacing
    tip = head_end * spacing + rng.uniform(0.5, 2.0)
    length = rng.uniform(8.0, 18.0)
    tip_radius, open_radius = rng.uniform(1.5, 3.0), rng.uniform(5.0, 9.0)
    wall = rng.uniform(0.5, 1.5)
    t = np.clip((tip - y) / length, 0, 1)
    radius = tip_radius + (open_radius - tip_radius) * t
    distance = np.sqrt((x - center_x) ** 2 + (z - center_z) ** 2)
    along = (y <= tip + wall) & (y >= tip - length)
    shell = along & (((distance >= radius) & (distance <= radius + wall)) | ((y > tip) & (distance <= radius + wall)))
    image[np.broadcast_to(shell, image.shape) & ~body] = rng.uniform(*PLASTIC_HU)


def air_value(image, body, default=-1000.0):
    """The scan's air: the median outside the body mask (`default` when there is none)."""
    return float(np.median(image[~body])) if (~body).any() else default


def draw_scene(rng, image, body, spacing):
    """Draws bed, tubes, wires and maybe a nose cone into `image` (float32 HU before scanner
    effects, modified in place) around the body mask; returns a short description."""
    air = air_value(image, body)
    drawn = [f"bed {_bed(rng, image, body, spacing)}"]
    _tubes_and_wires(rng, image, body, spacing, air)
    if rng.random() < 0.4:
        _nose_cone(rng, image, body, spacing)
        drawn.append("nose cone")
    return drawn


def reconstruction_circle(rng, scan, body, spacing):
    """After the noise: with probability 0.45, every voxel outside a transverse circle (axes 0
    and 2) around the body gets one constant, as reconstructed CT volumes have. Returns whether
    it was applied."""
    if rng.random() >= 0.45 or not body.any():
        return False
    extent = _body_extent(body)
    center = [(extent[a][0] + extent[a][1]) / 2 * spacing + rng.uniform(-2, 2) for a in (0, 2)]
    half_diagonal = np.hypot((extent[0][1] - extent[0][0]) / 2, (extent[2][1] - extent[2][0]) / 2) * spacing
    radius = half_diagonal * rng.uniform(1.0, 1.4)
    x, z = _transverse(scan.shape, spacing)
    outside = np.broadcast_to((x - center[0]) ** 2 + (z - center[1]) ** 2 > radius ** 2, scan.shape) & ~body
    scan[outside] = CIRCLE_VALUES_HU[int(rng.integers(0, len(CIRCLE_VALUES_HU)))]
    return True
