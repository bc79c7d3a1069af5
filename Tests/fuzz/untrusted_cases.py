"""Hostile model, metadata and NIfTI files, built from one valid model fixture: the cases issue 13
lists (truncated anywhere, header length beyond the file or absurd, malformed or deeply nested
JSON, missing or extra tensors, wrong shapes or dtypes, overlapping or out-of-range offsets,
unknown architecture, no or too many classes, metadata that is not UTF-8; NIfTI with bad magic,
truncated data, zero/negative/overflowing dims, unsupported datatypes, NaN scale, fake .gz, huge
extensions). Each case names the aimos status it must get and a word of its message.

Used twice: make_seeds.py writes the cases as the fuzzers' seed corpora (Tests/fuzz/corpus), and
test_untrusted_inputs.py loads each through the C ABI and checks its status and message.
"""
import gzip
import json
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL_FIXTURE = ROOT / "Tests/AimosCoreTests/Fixtures/unet64_c4_s32_f16.safetensors"
FINDINGS = ROOT / "Tests/fuzz/findings"   # inputs the fuzzers found, kept as regression cases

OK, INVALID_ARGUMENT, IO, FORMAT, UNSUPPORTED, OUT_OF_MEMORY = 0, 1, 2, 3, 4, 5


def _split(model: bytes):
    length = struct.unpack("<Q", model[:8])[0]
    return json.loads(model[8:8 + length]), model[8 + length:]


def _join(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def _with_metadata(header: dict, data: bytes, **changes) -> bytes:
    header = json.loads(json.dumps(header))
    meta = json.loads(header["__metadata__"]["aimos"])
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    header["__metadata__"]["aimos"] = json.dumps(meta)
    return _join(header, data)


def model_cases():
    """(name, bytes, status, word in the message) for aimos_load_model."""
    model = MODEL_FIXTURE.read_bytes()
    header, data = _split(model)
    first = next(k for k in header if k != "__metadata__")
    length = struct.unpack("<Q", model[:8])[0]
    cases = [
        ("valid", model, OK, ""),
        ("empty", b"", FORMAT, "not a safetensors file"),
        ("length_only", model[:8], FORMAT, "header"),
        ("header_cut", model[:8 + length // 2], FORMAT, "header"),
        ("data_cut", model[:8 + length + len(data) // 3], FORMAT, "data_offsets"),
        ("last_byte_cut", model[:-1], FORMAT, "data_offsets"),
        ("length_beyond_file", struct.pack("<Q", len(model)) + model[8:], FORMAT, "header"),
        ("length_absurd", struct.pack("<Q", 2 ** 64 - 1) + model[8:], FORMAT, "header"),
        ("json_malformed", struct.pack("<Q", 5) + b"{\"a\":" + data, FORMAT, "JSON"),
        ("json_nested", _join_raw(b"[" * 100000 + b"]" * 100000), FORMAT, "nesting"),
        ("json_not_object", _join_raw(b"[1, 2, 3]"), FORMAT, "JSON object"),
        ("no_metadata", _join({k: v for k, v in header.items() if k != "__metadata__"}, data), FORMAT, "no 'aimos' entry"),
        ("metadata_not_json", _join({**header, "__metadata__": {"aimos": "{architecture"}}, data), FORMAT, "metadata"),
        ("metadata_not_utf8", _join_raw(json.dumps({**header, "__metadata__": {"aimos": "@@"}}).encode()
                                        .replace(b'"@@"', b'"\xff\xfe"')), FORMAT, "UTF-8"),
        ("unknown_architecture", _with_metadata(header, data, architecture="Unet99"), UNSUPPORTED, "Unet99"),
        ("no_classes", _with_metadata(header, data, classes=[]), UNSUPPORTED, "classes"),
        ("one_class", _with_metadata(header, data, classes=["background"]), UNSUPPORTED, "classes"),
        ("too_many_classes", _with_metadata(header, data, classes=[f"organ{i}" for i in range(300)]), UNSUPPORTED, "classes"),
        ("classes_not_strings", _with_metadata(header, data, classes=[1, 2, 3, 4]), FORMAT, "classes"),
        ("input_size_absurd", _with_metadata(header, data, input_size=2 ** 40), FORMAT, "input_size"),
        ("input_size_negative", _with_metadata(header, data, input_size=-32), FORMAT, "input_size"),
        ("ensemble_absurd", _with_metadata(header, data, ensemble_members=10 ** 9), FORMAT, "ensemble"),
        ("missing_tensor", _join({k: v for k, v in header.items() if k != first}, data), FORMAT, "missing tensor"),
        ("extra_tensor", _join({**header, "surplus.weight": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}}, data),
         FORMAT, "surplus.weight"),
        ("wrong_shape", _join({**header, first: {**header[first], "shape": [32, 1, 3, 2]}}, data), FORMAT, "shape"),
        ("integer_dtype", _join({**header, first: {**header[first], "dtype": "I8", "data_offsets": [0, 288]}}, data),
         UNSUPPORTED, "I8"),
        ("unknown_dtype", _join({**header, first: {**header[first], "dtype": "Q7"}}, data), UNSUPPORTED, "Q7"),
        ("dtype_size_mismatch", _join({**header, first: {**header[first], "dtype": "F32"}}, data), FORMAT, first),
        ("offsets_overlap", _join({**header, first: {**header[first], "data_offsets": [0, 576]},
                                   _second(header, first): {**header[_second(header, first)], "data_offsets": [0, 64]}}, data),
         FORMAT, "data_offsets"),
        ("offsets_out_of_range", _join({**header, first: {**header[first], "data_offsets": [len(data), len(data) + 576]}}, data),
         FORMAT, "data_offsets"),
        ("offsets_reversed", _join({**header, first: {**header[first], "data_offsets": [576, 0]}}, data), FORMAT, "data_offsets"),
        ("offsets_huge", _join({**header, first: {**header[first], "data_offsets": [2 ** 62, 2 ** 62 + 576]}}, data),
         FORMAT, "data_offsets"),
        ("shape_overflow", _join({**header, first: {**header[first], "shape": [2 ** 32, 2 ** 32, 2 ** 32, 1]}}, data),
         FORMAT, "shape"),
    ]
    return cases


def _join_raw(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


def _second(header: dict, first: str) -> str:
    return next(k for k in header if k not in ("__metadata__", first))


def _nifti1(dims, datatype=4, bitpix=16, slope=1.0, inter=0.0, magic=b"n+1\0", vox_offset=352.0, extension=None):
    """A NIfTI-1 header (348 bytes), the 4-byte extension flag and an optional extension."""
    h = bytearray(348)
    struct.pack_into("<i", h, 0, 348)
    struct.pack_into("<8h", h, 40, *(list(dims) + [1] * (8 - len(dims))))
    struct.pack_into("<hh", h, 70, datatype, bitpix)
    struct.pack_into("<8f", h, 76, 1, 1, 1, 1, 1, 1, 1, 1)
    struct.pack_into("<f", h, 108, vox_offset)
    struct.pack_into("<ff", h, 112, slope, inter)
    h[344:348] = magic
    if extension is None:
        return bytes(h) + b"\0\0\0\0"
    return bytes(h) + b"\1\0\0\0" + extension


def _nifti2(dims, vox_offset, extension=None):
    """A little-endian NIfTI-2 header (540 bytes, int16 voxels), the extension flag and extension."""
    h = bytearray(540)
    struct.pack_into("<i", h, 0, 540)
    h[4:12] = b"n+2\0\r\n\032\n"
    struct.pack_into("<hh", h, 12, 4, 16)
    struct.pack_into("<8q", h, 16, *(list(dims) + [1] * (8 - len(dims))))
    struct.pack_into("<8d", h, 104, 1, 1, 1, 1, 1, 1, 1, 1)
    struct.pack_into("<q", h, 168, vox_offset)
    struct.pack_into("<dd", h, 176, 1.0, 0.0)
    if extension is None:
        return bytes(h) + b"\0\0\0\0"
    return bytes(h) + b"\1\0\0\0" + extension


def _extension(text: bytes, esize=None):
    """One header extension (ecode 6, a comment), padded to a multiple of 16 as the standard asks."""
    padded = text + b"\0" * (-(len(text) + 8) % 16)
    return struct.pack("<ii", esize if esize is not None else len(padded) + 8, 6) + padded


def nifti_cases():
    """(name, bytes, suffix, status, word) for aimos_segment_nifti's reader."""
    good = _nifti1([3, 4, 3, 2]) + struct.pack("<24h", *range(24))
    huge_ext = struct.pack("<ii", 2 ** 31 - 16, 4)  # an extension claiming 2 GiB
    # Found by the fuzzer: a 724-byte NIfTI-2 file whose vox_offset leaves room for an extension
    # claiming 1.4 GB, which libnifti allocated before finding the file short.
    claims_1gb = (_nifti2([3, 4, 3, 2], 2 ** 31, _extension(b"", esize=0x53000000)) + b"\0" * 724)[:724]
    return [
        ("valid", good, ".nii", OK, ""),
        ("valid_gz", gzip.compress(good), ".nii.gz", OK, ""),
        ("bad_magic", good[:344] + b"xyz\0" + good[348:], ".nii", FORMAT, "magic"),
        ("header_cut", good[:200], ".nii", FORMAT, ""),
        ("data_cut", good[:-10], ".nii", FORMAT, ""),
        ("zero_dim", _nifti1([3, 4, 0, 2]) + b"\0" * 48, ".nii", FORMAT, "dim"),
        ("negative_dim", _nifti1([3, 4, -3, 2]) + b"\0" * 48, ".nii", FORMAT, "dim"),
        ("overflowing_dims", _nifti1([7, 32767, 32767, 32767, 32767, 32767, 32767, 32767]) + b"\0" * 48, ".nii", FORMAT, ""),
        ("dims_beyond_memory", _nifti1([3, 30000, 30000, 30000]) + b"\0" * 48, ".nii", FORMAT, ""),
        ("unsupported_datatype", _nifti1([3, 4, 3, 2], datatype=1536, bitpix=128) + b"\0" * 384, ".nii", UNSUPPORTED, "datatype"),
        ("complex_datatype", _nifti1([3, 4, 3, 2], datatype=32, bitpix=64) + b"\0" * 192, ".nii", UNSUPPORTED, "datatype"),
        # NaN scl_slope reads as unscaled (as nibabel reads it); infinite scaling is refused.
        ("nan_slope", _nifti1([3, 4, 3, 2], slope=float("nan")) + struct.pack("<24h", *range(24)), ".nii", OK, ""),
        ("inf_slope", _nifti1([3, 4, 3, 2], slope=float("inf")) + struct.pack("<24h", *range(24)), ".nii", FORMAT, "scl_slope"),
        ("inf_intercept_scaled", _nifti1([3, 4, 3, 2], slope=2.0, inter=float("-inf")) + struct.pack("<24h", *range(24)), ".nii",
         FORMAT, "scl_inter"),
        ("inf_intercept", _nifti1([3, 4, 3, 2], inter=float("inf")) + struct.pack("<24h", *range(24)), ".nii", FORMAT, "scl_inter"),
        ("fake_gzip", good, ".nii.gz", FORMAT, "gzip"),
        ("gzip_cut", gzip.compress(good)[:40], ".nii.gz", FORMAT, ""),
        # Several gzip members (as bgzip writes): the last member's size is not the file's.
        ("gzip_members", gzip.compress(good[:200]) + gzip.compress(good[200:300]) + gzip.compress(good[300:]), ".nii.gz", OK, ""),
        # Found by the fuzzer: a 270-byte multi-member .gz whose dims claim 14 GB.
        ("gzip_members_claim_14gb", gzip.compress(_nifti1([3, 3000, 3000, 400], datatype=8, bitpix=32)[:200])
         + gzip.compress(_nifti1([3, 3000, 3000, 400], datatype=8, bitpix=32)[200:]), ".nii.gz", FORMAT, "claim"),
        # An extension claiming more bytes than the file holds: libnifti skips it; the data read.
        ("huge_extension", _nifti1([3, 4, 3, 2], extension=huge_ext, vox_offset=360.0) + struct.pack("<24h", *range(24)),
         ".nii", OK, ""),
        # Extensions that fit are read (aimos writes one into its own label maps).
        ("valid_extension", _nifti1([3, 4, 3, 2], extension=_extension(b"x" * 20), vox_offset=384.0)
         + struct.pack("<24h", *range(24)), ".nii", OK, ""),
        ("valid_nifti2_extension", _nifti2([3, 4, 3, 2], 576, _extension(b'{"a": 1}' * 3)) + struct.pack("<24h", *range(24)),
         ".nii", OK, ""),
        ("nifti2_extension_claims_1gb", claims_1gb, ".nii", FORMAT, "extension"),
        ("nifti2_extension_claims_1gb_gz", gzip.compress(claims_1gb), ".nii.gz", FORMAT, "extension"),
        # The file ending inside the extension's ecode: libnifti still allocates its esize.
        ("nifti2_extension_ecode_cut", claims_1gb[:551], ".nii", FORMAT, "extension"),
        # Found by the fuzzer: the same as 62 bytes of gzip under a .nii name (zlib reads it through).
        ("finding_nifti2_extension_ecode_cut_gz", (FINDINGS / "nifti2_extension_ecode_cut_gz").read_bytes(), ".nii", FORMAT,
         "extension"),
        ("second_extension_beyond_file", _nifti1([3, 4, 3, 2], vox_offset=1e9, extension=_extension(b"ok")
                                                 + _extension(b"", esize=1 << 20)) + struct.pack("<24h", *range(24)),
         ".nii", FORMAT, "extension"),
        ("vox_offset_beyond_file", _nifti1([3, 4, 3, 2], vox_offset=1e9) + struct.pack("<24h", *range(24)), ".nii", FORMAT, ""),
        ("not_nifti_at_all", b"\x89PNG\r\n\x1a\n" + b"\0" * 400, ".nii", FORMAT, ""),
    ]


def metadata_cases():
    """Metadata JSON texts (the fuzzer's metadata seeds): valid ones and near misses."""
    header, _ = _split(MODEL_FIXTURE.read_bytes())
    valid = header["__metadata__"]["aimos"].encode()
    meta = json.loads(valid)
    return [
        ("valid", valid),
        ("uncertainty_ensemble", json.dumps({**meta, "uncertainty": True, "ensemble_members": 3}).encode()),
        ("orientation_crop", json.dumps({**meta, "orientation": "TLD", "crop": "body"}).encode()),
        ("unknown_keys", json.dumps({**meta, "future_field": {"nested": [1, 2.5e300, None, True]}}).encode()),
        ("escapes", json.dumps({**meta, "classes": ["back\"ground", "Br\\u00e4in", "\u2603", "x"]}).encode()),
        ("nested", b"[" * 600 + b"]" * 600),
        ("numbers", b'{"input_size": -0.0e-0, "a": 1e999, "b": 123456789012345678901234567890}'),
        ("not_utf8", valid.replace(b"Brain", b"Br\xc3\x28in")),
    ]


def _dicom_file(tmp, **kwargs):
    """One small DICOM file written by the project's series writer (pydicom), as bytes."""
    import sys
    import tempfile

    import numpy as np
    sys.path.insert(0, str(ROOT / "Tools"))
    from aimostools.dicom.series_writer import write_series
    volume = (np.arange(16 * 12 * kwargs.pop("planes", 1)).reshape(16, 12, -1) % 97 - 40).astype(float)
    with tempfile.TemporaryDirectory() as folder:
        write_series(volume, np.diag([0.5, 0.5, 0.5, 1.0]), folder, **kwargs)
        name = sorted(Path(folder).iterdir())[0]
        return name.read_bytes()


def _edited(data: bytes, edit) -> bytes:
    """`data` read by pydicom, changed by edit(dataset), written back (no re-encoding)."""
    import io

    import pydicom
    ds = pydicom.dcmread(io.BytesIO(data))
    edit(ds)
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue()


def _without_preamble(data: bytes) -> bytes:
    """The data set alone, implicit VR little endian, as old ACR-NEMA style files are stored."""
    import io

    import pydicom
    ds = pydicom.dcmread(io.BytesIO(data))
    del ds.file_meta
    ds.preamble = None
    out = io.BytesIO()
    ds.save_as(out, implicit_vr=True, little_endian=True, enforce_file_format=False)
    return out.getvalue()


def _claim_length(data: bytes, element: bytes, length):
    """`data` with the length field after the first `element` header set to `length` (4 bytes;
    None: the 2-byte length of a short-VR element set to 0xffff)."""
    at = data.index(element) + len(element)
    if length is None:
        at += 2  # past the VR
        return data[:at] + b"\xff\xff" + data[at + 2:]
    return data[:at] + struct.pack("<I", length) + data[at + 4:]


def dicom_cases():
    """(name, bytes, status, word) for a DICOM file given to aimos_segment_nifti (as .dcm)."""
    def set_attr(**values):
        def edit(ds):
            for key, value in values.items():
                if value is None:
                    delattr(ds, key)
                else:
                    setattr(ds, key, value)
        return edit

    plane = _dicom_file(None)
    enhanced = _dicom_file(None, planes=3, enhanced=True, compression="rle")

    def many_frames(ds):
        ds.NumberOfFrames = 65535

    return [
        ("valid_plane", plane, OK, ""),
        ("valid_jpegls", _dicom_file(None, compression="jpegls"), OK, ""),
        ("valid_enhanced_rle", enhanced, OK, ""),
        ("valid_without_preamble", _without_preamble(plane), OK, ""),
        ("empty", b"", FORMAT, "no DICOM image"),
        ("preamble_then_garbage", b"\0" * 128 + b"DICM" + bytes(range(256)) * 4, FORMAT, "not a well-formed DICOM file"),
        ("truncated_pixels", plane[:-100], FORMAT, "remain in the file"),
        # The fuzzer's finding: GDCM allocates an element's claimed length (here 1 GiB) as it reads.
        ("pixel_length_claims_1gib", _claim_length(plane, b"\xe0\x7f\x10\x00OW\x00\x00", 1 << 30), FORMAT, "claims 1073741824 bytes"),
        ("sop_class_length_beyond_file", _claim_length(plane, b"\x08\x00\x16\x00", None), FORMAT, "claims 65535 bytes"),
        ("claims_60000_square", _edited(plane, set_attr(Rows=60000, Columns=60000)), FORMAT, "claim"),
        ("claims_65535_frames", _edited(enhanced, many_frames), FORMAT, "Image Position"),
        ("no_position", _edited(plane, set_attr(ImagePositionPatient=None)), FORMAT, "Image Position"),
        ("zero_pixel_spacing", _edited(plane, set_attr(PixelSpacing=["0", "0.5"])), FORMAT, "Pixel Spacing"),
        ("skewed_orientation", _edited(plane, set_attr(ImageOrientationPatient=["1", "0", "0", "0.7", "0.7", "0"])), FORMAT, "perpendicular"),
        ("zero_rescale_slope", _edited(plane, set_attr(RescaleSlope="0")), FORMAT, "Rescale Slope"),
        # Files the fuzzer found (Tests/fuzz/findings): GDCM aborting on assertions (read in a
        # child process first), allocating claimed lengths, leaking.
        *[(f"finding_{path.name}", path.read_bytes(), FORMAT, word) for path, word in [
            (FINDINGS / "gdcm_vr16_assert", "GDCM crashed"),
            (FINDINGS / "gdcm_meta_assert", "no valid VR"),
            (FINDINGS / "gdcm_big_endian_claim", "no valid VR"),
            (FINDINGS / "gdcm_lenient_claim_4gb", "pixel data"),
            (FINDINGS / "gdcm_jpegls_leak", "not a well-formed DICOM file"),
            (FINDINGS / "gdcm_jpegls_header_leak", "cannot decode the pixel data")]],
        ("colour", _edited(plane, set_attr(SamplesPerPixel=3, PhotometricInterpretation="RGB", PlanarConfiguration=0, Columns=4)),
         UNSUPPORTED, "colour"),
    ]


def _tiff_stack(size_um=100, **options) -> bytes:
    """A small OME-TIFF stack (16 x 12 x 3 uint16 at 0.1 mm), written by tifffile."""
    import io

    import numpy as np
    import tifffile
    out = io.BytesIO()
    data = (np.arange(3 * 12 * 16).reshape(3, 12, 16) * 7).astype(options.pop("dtype", np.uint16))
    tifffile.imwrite(out, data, ome=True, metadata={"axes": "ZYX", "PhysicalSizeX": size_um, "PhysicalSizeY": 100, "PhysicalSizeZ": 100},
                     **options)
    return out.getvalue()


def _tiff_tag(data: bytes, tag: int, value: int) -> bytes:
    """The first page's `tag` (a classic little-endian TIFF) set to `value` in place."""
    ifd = struct.unpack("<I", data[4:8])[0]
    count = struct.unpack("<H", data[ifd:ifd + 2])[0]
    out = bytearray(data)
    for k in range(count):
        entry = ifd + 2 + 12 * k
        if struct.unpack("<H", data[entry:entry + 2])[0] == tag:
            kind = struct.unpack("<H", data[entry + 2:entry + 4])[0]
            out[entry + 8:entry + 12] = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
            return bytes(out)
    raise ValueError(f"tag {tag} not in the first page")


def tiff_cases():
    """(name, bytes, status, word) for a TIFF stack given to aimos_segment_nifti (as .tif, with
    its voxel size in OME-XML)."""
    valid = _tiff_stack()
    width, height, bits, compression, strip_offsets, strip_counts = 256, 257, 258, 259, 273, 279
    ifd = struct.unpack("<I", valid[4:8])[0]
    entries = struct.unpack("<H", valid[ifd:ifd + 2])[0]
    loop = bytearray(valid)
    loop[ifd + 2 + 12 * entries:ifd + 6 + 12 * entries] = struct.pack("<I", ifd)   # the first page's next page: itself
    return [
        ("valid", valid, OK, ""),
        ("valid_tiled_zlib", _tiff_stack(tile=(16, 16), compression="zlib"), OK, ""),
        ("valid_bigtiff_zlib", _tiff_stack(bigtiff=True, compression="zlib"), OK, ""),
        ("valid_float32", _tiff_stack(dtype="float32"), OK, ""),
        ("empty", b"", FORMAT, "not a readable TIFF"),
        ("garbage_after_signature", b"II*\0" + bytes(range(256)) * 4, FORMAT, ""),
        ("truncated", valid[: len(valid) // 2], FORMAT, ""),
        ("width_claims_60000", _tiff_tag(valid, width, 60000), FORMAT, ""),
        ("height_zero", _tiff_tag(valid, height, 0), FORMAT, ""),
        ("bits_12", _tiff_tag(valid, bits, 12), UNSUPPORTED, "12-bit"),
        ("unknown_compression", _tiff_tag(valid, compression, 60000), FORMAT, ""),
        ("strip_beyond_file", _tiff_tag(valid, strip_offsets, 1 << 30), FORMAT, ""),
        # An uncompressed strip's byte count beyond the file: libtiff reads the plane's own size
        # from the offset, which the file holds, so the stack is read as it is.
        ("strip_count_beyond_file", _tiff_tag(valid, strip_counts, 1 << 30), OK, ""),
        ("page_chain_loop", bytes(loop), FORMAT, ""),
        # A voxel size of 1e-300 um: the block factor must not overflow (the reviewer's finding).
        ("voxel_size_1e-300", _tiff_stack(size_um=1e-300), OK, ""),
        # The fuzzer's finding: a tiled page whose tiles claim 132 GiB (allocated before the fix).
        ("tile_claims_132gib", (FINDINGS / "tiff_tile_claims_132gib").read_bytes(), FORMAT, "tile larger than 64 MiB"),
    ]
