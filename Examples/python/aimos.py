"""aimos.py - a ctypes binding of libaimos (AIMOS whole-body mouse organ segmentation).

Pure Python (ctypes + numpy); no compiled extension.

    import aimos
    with aimos.Model("model.safetensors") as model:
        seg = model.segment(volume, spacing=(0.14, 0.14, 0.14))
    seg.labels          # uint8, same shape as volume
    seg.volumes_ml      # {"background": ..., "Brain": ..., ...}

Axis convention (the one rule to remember): a volume is a 3D numpy array indexed
``volume[x, y, z]``, which is what nibabel's ``img.get_fdata()`` returns. ``spacing`` is the
voxel size in mm along x, y, z (``img.header.get_zooms()[:3]``). ``slice_axis`` names an axis of
that indexing (0 = x, 1 = y, 2 = z). Results come back indexed ``[x, y, z]`` too. The memory
order of the array does not matter: a Fortran-ordered array (x fastest, the C library's layout)
is passed as it is, any other array is copied into Fortran order first. Nothing is ever
transposed behind your back.

Library lookup, first match wins: the ``AIMOS_LIBRARY`` environment variable (the full path of
libaimos.so), ``ctypes.util.find_library("aimos")`` (an installed library), then
``<repository>/.build/release/libaimos.so`` (a ``swift build -c release`` next to this file).
"""
import ctypes
import ctypes.util
import os
import pathlib
import threading

import numpy as np

__all__ = ["AimosError", "Model", "Segmentation", "library_version", "STATUS_NAMES",
           "OK", "INVALID_ARGUMENT", "IO", "FORMAT", "UNSUPPORTED", "OUT_OF_MEMORY", "CANCELLED",
           "INTERNAL", "MISUSE"]

# Status codes of aimos.h (stable values).
OK, INVALID_ARGUMENT, IO, FORMAT, UNSUPPORTED, OUT_OF_MEMORY, CANCELLED, INTERNAL, MISUSE = range(9)
STATUS_NAMES = {OK: "OK", INVALID_ARGUMENT: "INVALID_ARGUMENT", IO: "IO", FORMAT: "FORMAT",
                UNSUPPORTED: "UNSUPPORTED", OUT_OF_MEMORY: "OUT_OF_MEMORY",
                CANCELLED: "CANCELLED", INTERNAL: "INTERNAL", MISUSE: "MISUSE"}

# numpy dtype -> aimos_dtype of aimos.h; these pass to the library without conversion.
_AIMOS_DTYPES = {np.dtype(np.uint8): 1, np.dtype(np.int16): 2, np.dtype(np.uint16): 3,
                 np.dtype(np.int32): 4, np.dtype(np.float32): 5, np.dtype(np.float64): 6}

# Largest integer magnitude that float64 holds exactly.
_FLOAT64_EXACT_INTEGER = 2 ** 53


class AimosError(Exception):
    """A failed libaimos call: ``status`` (an int, see STATUS_NAMES) and the library's message."""

    def __init__(self, status, message):
        self.status = int(status)
        self.status_name = STATUS_NAMES.get(self.status, "UNKNOWN")
        self.message = message
        super().__init__(f"{self.status_name}: {message}")


# --- the C interface ------------------------------------------------------------------------

_PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64)


class _Volume(ctypes.Structure):
    """aimos_volume (1.0): struct_size first, set by aimos_volume_init_sized."""
    _fields_ = [("struct_size", ctypes.c_uint32), ("dtype", ctypes.c_int32), ("data", ctypes.c_void_p),
                ("dims", ctypes.c_int64 * 3), ("spacing_mm", ctypes.c_double * 3)]


class _Options(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("slice_axis", ctypes.c_int32),
                ("threads", ctypes.c_int32), ("keep_probabilities", ctypes.c_int32),
                ("progress", _PROGRESS_FN), ("user_data", ctypes.c_void_p),
                # since 0.2
                ("orientation", ctypes.c_int32), ("orientation_code", ctypes.c_char * 4),
                ("crop", ctypes.c_int32), ("separate_animals", ctypes.c_int32),
                ("world_matrix", ctypes.POINTER(ctypes.c_double))]


_PLANE_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)


class _PlaneSource(ctypes.Structure):
    """aimos_plane_source (1.2): a stack handed over one plane at a time."""
    _fields_ = [("struct_size", ctypes.c_uint32), ("dtype", ctypes.c_int32), ("dims", ctypes.c_int64 * 3),
                ("spacing_mm", ctypes.c_double * 3), ("plane", _PLANE_FN), ("user_data", ctypes.c_void_p),
                ("working_voxel_size_mm", ctypes.c_double * 3)]


class _Layout(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("orientation", ctypes.c_char * 4),
                ("confidence", ctypes.c_double), ("crop_lower", ctypes.c_int64 * 3),
                ("crop_upper", ctypes.c_int64 * 3), ("slice_axis", ctypes.c_int32),
                ("slice_direction_known", ctypes.c_int32)]


_ORIENTATION_MODES = {"none": 0, "auto": 1, "header": 2}
_CROP_MODES = {None: -1, "model": -1, "none": 0, "body": 1}


def _library_candidates():
    """Paths to try, in order: AIMOS_LIBRARY, the system's, the repository's release build."""
    explicit = os.environ.get("AIMOS_LIBRARY")
    if explicit:
        return [explicit]  # an explicit choice must not silently fall back to another library
    candidates = []
    installed = ctypes.util.find_library("aimos")
    if installed:
        candidates.append(installed)
    repository = pathlib.Path(__file__).resolve().parent.parent.parent
    candidates.append(str(repository / ".build" / "release" / "libaimos.so"))
    return candidates


def _declare(lib):
    """Gives every aimos_* function its C signature."""
    P, c = ctypes.c_void_p, ctypes
    signatures = {
        "aimos_options_init_sized": (None, [c.POINTER(_Options), c.c_uint32]),
        "aimos_result_animal_count": (c.c_int32, [P]),
        "aimos_result_layout": (c.c_int, [P, c.c_int32, c.POINTER(_Layout)]),
        "aimos_result_voxel_size_factor": (c.c_double, [P]),
        "aimos_load_model": (c.c_int, [c.c_char_p, c.POINTER(P)]),
        "aimos_volume_init_sized": (None, [c.POINTER(_Volume), c.c_uint32]),
        "aimos_segment": (c.c_int, [P, c.POINTER(_Volume), c.POINTER(_Options), c.POINTER(P)]),
        "aimos_model_free": (None, [P]),
        "aimos_result_free": (None, [P]),
        "aimos_model_class_count": (c.c_int32, [P]),
        "aimos_model_class_name": (c.c_char_p, [P, c.c_int32]),
        "aimos_result_labels": (c.POINTER(c.c_uint8), [P]),
        "aimos_result_probabilities": (c.POINTER(c.c_float), [P, c.c_int32]),
        "aimos_result_uncertainty": (c.POINTER(c.c_float), [P]),
        "aimos_result_volume_mm3": (c.c_double, [P, c.c_int32]),
        "aimos_last_error": (c.c_char_p, []),
        "aimos_status_string": (c.c_char_p, [c.c_int]),
        "aimos_version": (c.c_char_p, []),
        # since 1.2
        "aimos_plane_source_init_sized": (None, [c.POINTER(_PlaneSource), c.c_uint32]),
        "aimos_segment_planes": (c.c_int, [P, c.POINTER(_PlaneSource), c.POINTER(_Options), c.POINTER(P)]),
        "aimos_result_spacing": (c.c_int, [P, c.POINTER(c.c_double)]),
        "aimos_result_grid_factors": (c.c_int, [P, c.POINTER(c.c_int64)]),
        "aimos_result_dims": (c.c_int, [P, c.POINTER(c.c_int64)]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


_lib = None
_lib_lock = threading.Lock()


def _library():
    """Loads libaimos once, on first use (so importing this module never fails)."""
    global _lib
    with _lib_lock:
        if _lib is None:
            tried = []
            for candidate in _library_candidates():
                try:
                    _lib = _declare(ctypes.CDLL(candidate))
                    break
                except OSError as error:
                    tried.append(f"{candidate}: {error}")
            else:
                raise OSError("libaimos not found; set AIMOS_LIBRARY to the full path of libaimos.so."
                              " Tried:\n  " + "\n  ".join(tried))
        return _lib


def _check(status):
    """Raises AimosError with the library's message for a failed status."""
    if status != OK:
        # aimos_last_error is per thread: ctypes calls it on this thread, right after the failure.
        raise AimosError(status, _library().aimos_last_error().decode("utf-8", "replace"))


def library_version():
    """The loaded library's version, "MAJOR.MINOR.PATCH"."""
    return _library().aimos_version().decode()


# --- input conversion -------------------------------------------------------------------------

def _as_supported_dtype(volume):
    """Returns volume in one of the six dtypes the library reads, converting without loss.

    bool -> uint8, int8 -> int16, float16 -> float32; wider integers (uint32, int64, uint64)
    -> float64 when every value is exactly representable (|v| < 2**53), else ValueError.
    Other kinds (complex, strings, objects) raise TypeError.
    """
    dtype = volume.dtype
    native = dtype.newbyteorder("=")
    if native in _AIMOS_DTYPES:
        return volume.astype(native, copy=False)  # only byte-swaps big-endian input
    if dtype.kind == "b":
        return volume.astype(np.uint8)
    if dtype.kind == "i" and dtype.itemsize == 1:
        return volume.astype(np.int16)
    if dtype.kind == "f" and dtype.itemsize == 2:
        return volume.astype(np.float32)
    if dtype.kind in "iu":
        if volume.size and max(abs(int(volume.min())), abs(int(volume.max()))) >= _FLOAT64_EXACT_INTEGER:
            raise ValueError(f"volume dtype {dtype} has values beyond +-2**53 that float64 cannot hold"
                             " exactly; rescale it first")
        return volume.astype(np.float64)
    raise TypeError(f"volume dtype {dtype} is not supported; use uint8, int16, uint16, int32,"
                    " float32 or float64")


def _spacing_triple(spacing):
    """Three voxel sizes in mm (x, y, z) as floats; a single number means isotropic."""
    values = np.atleast_1d(np.asarray(spacing, dtype=np.float64))
    if values.shape == (1,):
        values = np.repeat(values, 3)
    if values.shape != (3,):
        raise ValueError(f"spacing must be one number or three (x, y, z in mm), got {spacing!r}")
    return tuple(float(v) for v in values)


# --- results --------------------------------------------------------------------------------

def _copy_out(pointer, dtype, shape):
    """Copies nx*ny*nz values (x fastest) from library memory into a new array indexed [x, y, z]."""
    array = np.empty(shape, dtype=dtype, order="F")
    ctypes.memmove(array.ctypes.data, pointer, array.nbytes)
    return array


class Segmentation:
    """The outcome of Model.segment; every array is indexed [x, y, z] like the input.

    labels: uint8 class indices. probabilities: float32 of shape (classes, *volume.shape), or
    None unless asked for. uncertainty: float32 annotator-disagreement map or None.
    classes: class names. spacing: (x, y, z) mm. volumes_mm3 / volumes_ml: class name -> volume.
    layouts: per animal {"orientation": code or None, "confidence": 0..1 or None (not detected),
    "crop": ((x0, x1), (y0, y1), (z0, z1)), "slice_axis": int}. voxel_size_factor: 1, or the
    factor the voxel size would need for a mouse-sized body (e.g. 0.001: micrometres as mm).
    """

    def __init__(self, labels, probabilities, uncertainty, classes, spacing, volumes_mm3):
        self.labels = labels
        self.probabilities = probabilities
        self.uncertainty = uncertainty
        self.classes = classes
        self.spacing = spacing
        self.volumes_mm3 = volumes_mm3
        self.volumes_ml = {name: mm3 / 1000.0 for name, mm3 in volumes_mm3.items()}

    def table(self):
        """One row per class: {"class", "voxels", "mm3", "mL"}."""
        counts = np.bincount(self.labels.ravel(order="K"), minlength=len(self.classes))
        return [{"class": name, "voxels": int(counts[index]), "mm3": self.volumes_mm3[name],
                 "mL": self.volumes_ml[name]} for index, name in enumerate(self.classes)]


# --- the model ------------------------------------------------------------------------------

class Model:
    """A loaded AIMOS model file (safetensors). Use as a context manager or call close()."""

    def __init__(self, path):
        lib = _library()
        handle = ctypes.c_void_p()
        _check(lib.aimos_load_model(os.fsencode(path), ctypes.byref(handle)))
        self._lib = lib
        self._handle = handle
        count = lib.aimos_model_class_count(handle)
        self.classes = tuple(lib.aimos_model_class_name(handle, i).decode("utf-8") for i in range(count))
        self.path = os.fspath(path)

    def close(self):
        """Frees the model; calling it twice is harmless."""
        if getattr(self, "_handle", None) is not None:
            self._lib.aimos_model_free(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        self.close()

    def __repr__(self):
        state = "closed" if self._handle is None else f"classes={list(self.classes)}"
        return f"aimos.Model({self.path!r}, {state})"

    def segment(self, volume, spacing, slice_axis=None, probabilities=False, threads=0, progress=None,
                orientation=None, crop=None, separate_animals=True, world_matrix=None):
        """Segments a 3D volume indexed [x, y, z]; returns a Segmentation.

        spacing: voxel size in mm along x, y, z (or one number). orientation: the volume's
        anatomical layout: "auto" (detected; the default), "header" (from world_matrix, a 4x4
        voxel-to-world RAS matrix as NIfTI's sform), "none" (the voxel axes are the model's) or a
        code such as "LHD" (see aimos.h). slice_axis: with orientation "none" (implied when
        slice_axis is given), 0, 1 or 2 to cut that axis, None for the model's own (usually 2).
        crop: "body", "none" or None (what the model declares). separate_animals: with
        cropping, segment every animal found in its own crop. probabilities: also return one sigmoid
        map per class. threads: 0 = one per core. progress: called as progress(done, total) after
        each slice; returning a true value cancels (AimosError with status CANCELLED); an
        exception it raises cancels the run and is re-raised here.
        """
        if self._handle is None:
            raise ValueError("segment on a closed aimos.Model")
        volume = np.asarray(volume)
        if volume.ndim != 3:
            raise ValueError(f"volume must be 3D, indexed [x, y, z]; got shape {volume.shape}")
        volume = np.asfortranarray(_as_supported_dtype(volume))  # x fastest, as the C API reads
        spacing = _spacing_triple(spacing)

        c_volume = _Volume()
        self._lib.aimos_volume_init_sized(ctypes.byref(c_volume), ctypes.sizeof(_Volume))
        c_volume.data = volume.ctypes.data
        c_volume.dtype = _AIMOS_DTYPES[volume.dtype]
        c_volume.dims = (ctypes.c_int64 * 3)(*volume.shape)
        c_volume.spacing_mm = (ctypes.c_double * 3)(*spacing)
        options = _Options()
        self._lib.aimos_options_init_sized(ctypes.byref(options), ctypes.sizeof(_Options))
        options.slice_axis = -1 if slice_axis is None else int(slice_axis)
        if orientation is None:
            orientation = "none" if slice_axis is not None else "auto"
        if orientation.lower() in _ORIENTATION_MODES:
            options.orientation = _ORIENTATION_MODES[orientation.lower()]
        else:
            options.orientation = 3
            options.orientation_code = orientation.encode()[:3]
        if crop not in _CROP_MODES:
            raise ValueError(f"crop must be 'body', 'none' or None (the model's), not {crop!r}")
        options.crop = _CROP_MODES[crop]
        options.separate_animals = 1 if separate_animals else 0
        matrix = None
        if world_matrix is not None:
            matrix = (ctypes.c_double * 16)(*np.asarray(world_matrix, dtype=np.float64).reshape(16))
            options.world_matrix = ctypes.cast(matrix, ctypes.POINTER(ctypes.c_double))
        options.threads = int(threads)
        options.keep_probabilities = 1 if probabilities else 0
        raised = []
        # The local name keeps the ctypes callback object alive for the whole C call.
        callback = _PROGRESS_FN(self._progress_trampoline(progress, raised)) if progress else None
        if callback is not None:
            options.progress = callback

        result = ctypes.c_void_p()
        status = self._lib.aimos_segment(self._handle, ctypes.byref(c_volume), ctypes.byref(options),
                                         ctypes.byref(result))
        if raised:
            raise raised[0]
        _check(status)
        try:
            return self._collect(result, volume.shape, spacing)
        finally:
            self._lib.aimos_result_free(result)

    def segment_planes(self, plane, shape, spacing, dtype, working_voxel_size=None, threads=0):
        """Segments a stack too large to hold (a napari or dask array, TIFF planes on disk):
        plane(z) returns plane z as a 2D array of shape (ny, nx) (rows are y, as image readers
        give them), asked for in order, each once. shape: (nx, ny, nz); spacing: the stack's
        voxel size in mm; dtype: the planes' numpy dtype. The stack is averaged onto a working
        grid of working_voxel_size mm (None: the model's training voxel size) as the planes come,
        and segmented there. Returns a Segmentation on the working grid (labels indexed [x, y, z],
        spacing the working voxel size), with grid_factors: stack voxels per working voxel.
        An exception plane raises stops the run and is re-raised here.
        """
        if self._handle is None:
            raise ValueError("segment_planes on a closed aimos.Model")
        dtype = np.dtype(dtype)
        if dtype not in _AIMOS_DTYPES:
            raise ValueError(f"planes of dtype {dtype} are not supported; use one of {sorted(map(str, _AIMOS_DTYPES))}")
        nx, ny, nz = (int(n) for n in shape)
        held, raised = [], []

        def next_plane(_user_data, z):
            try:
                array = np.ascontiguousarray(plane(int(z)), dtype=dtype)
                if array.shape != (ny, nx):
                    raise ValueError(f"plane {z} has shape {array.shape}; expected (ny, nx) = {(ny, nx)}")
                held[:] = [array]   # valid until the next call, as the C API asks
                return array.ctypes.data
            except BaseException as error:  # cannot cross C frames: keep it, abort the run
                raised.append(error)
                return None

        source = _PlaneSource()
        self._lib.aimos_plane_source_init_sized(ctypes.byref(source), ctypes.sizeof(_PlaneSource))
        source.dtype = _AIMOS_DTYPES[dtype]
        source.dims = (ctypes.c_int64 * 3)(nx, ny, nz)
        source.spacing_mm = (ctypes.c_double * 3)(*_spacing_triple(spacing))
        callback = _PLANE_FN(next_plane)  # the local name keeps it alive for the whole C call
        source.plane = callback
        if working_voxel_size is not None:
            source.working_voxel_size_mm = (ctypes.c_double * 3)(*_spacing_triple(working_voxel_size))
        options = _Options()
        self._lib.aimos_options_init_sized(ctypes.byref(options), ctypes.sizeof(_Options))
        options.threads = int(threads)
        result = ctypes.c_void_p()
        status = self._lib.aimos_segment_planes(self._handle, ctypes.byref(source), ctypes.byref(options), ctypes.byref(result))
        if raised:
            raise raised[0]
        _check(status)
        try:
            dims, working, factors = (ctypes.c_int64 * 3)(), (ctypes.c_double * 3)(), (ctypes.c_int64 * 3)()
            _check(self._lib.aimos_result_dims(result, dims))
            _check(self._lib.aimos_result_spacing(result, working))
            _check(self._lib.aimos_result_grid_factors(result, factors))
            segmentation = self._collect(result, tuple(dims), tuple(working))
            segmentation.grid_factors = tuple(factors)
            return segmentation
        finally:
            self._lib.aimos_result_free(result)

    @staticmethod
    def _progress_trampoline(progress, raised):
        """Wraps a Python progress(done, total) as the C callback (nonzero return = cancel)."""
        def trampoline(_user_data, done, total):
            try:
                return 1 if progress(int(done), int(total)) else 0
            except BaseException as error:  # an exception cannot cross C frames: keep it, cancel
                raised.append(error)
                return 1
        return trampoline

    def _collect(self, result, shape, spacing):
        """Copies everything out of a result handle (freed by the caller afterwards)."""
        lib = self._lib
        labels = _copy_out(lib.aimos_result_labels(result), np.uint8, shape)
        probabilities = None
        if lib.aimos_result_probabilities(result, 0):
            # (classes, nz, ny, nx) in C order is each class map with x fastest; viewed as [c, x, y, z].
            probabilities = np.empty((len(self.classes),) + shape[::-1], dtype=np.float32).transpose(0, 3, 2, 1)
            for index in range(len(self.classes)):
                maps = lib.aimos_result_probabilities(result, index)
                ctypes.memmove(probabilities[index].ctypes.data, maps, probabilities[index].nbytes)
        uncertainty = None
        heatmap = lib.aimos_result_uncertainty(result)
        if heatmap:
            uncertainty = _copy_out(heatmap, np.float32, shape)
        volumes = {name: lib.aimos_result_volume_mm3(result, index) for index, name in enumerate(self.classes)}
        layouts = []
        for animal in range(lib.aimos_result_animal_count(result)):
            layout = _Layout()
            layout.struct_size = ctypes.sizeof(_Layout)
            _check(lib.aimos_result_layout(result, animal, ctypes.byref(layout)))
            layouts.append({"orientation": layout.orientation.decode() or None,
                            "confidence": None if layout.confidence < 0 else layout.confidence,
                            "crop": tuple((layout.crop_lower[k], layout.crop_upper[k]) for k in range(3)),
                            "slice_axis": layout.slice_axis})
        segmentation = Segmentation(labels, probabilities, uncertainty, self.classes, spacing, volumes)
        segmentation.layouts = layouts
        segmentation.voxel_size_factor = lib.aimos_result_voxel_size_factor(result)
        return segmentation
