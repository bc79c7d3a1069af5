import AimosCore
import CNiftiBridge

#if canImport(Glibc)
import Glibc
#endif

/// A scan as aimos holds it: voxels in libnifti's in-memory image, with its geometry (dims,
/// voxel size in mm, qform/sform) and the intensities' scaling; read from a NIfTI/Analyze file
/// (ScanImage+Nifti.swift) or built from a DICOM series (ScanImage+Dicom.swift). Outputs are
/// written on its grid (NiftiOutputWriter).
package final class ScanImage {
    package let path: String
    let image: OpaquePointer
    package let dims: [Int]
    /// Voxel size in mm (pixdim converted from the file's spatial unit).
    package let spacing: [Double]
    /// Millimetres per unit of the file's space (xyz_units): the sform/qform are in that unit.
    package let millimetresPerUnit: Double
    package let datatypeName: String
    /// The DICOM series it was read from, nil for a NIfTI file.
    package let dicom: DicomSeriesInfo?
    /// The TIFF stack it was averaged from, nil for NIfTI and DICOM.
    package let stack: StackOrigin?
    package var voxelCount: Int { dims[0] * dims[1] * dims[2] }
    private let scaled: Bool
    private let slope: Double, intercept: Double
    /// Voxels in a type the engine takes directly, or nil when withVolume converts them.
    private let nativeType: VoxelVolume.DType?
    /// The NIfTI datatype and the voxels, read once: intensity(at:) runs for every voxel.
    private let datatype: NiftiDatatype
    private let voxels: UnsafeRawPointer

    /// Opens a scan: a TIFF file or a folder of TIFF planes as a light-sheet stack averaged
    /// onto its working grid (`stack`), another folder or a DICOM file as a DICOM series
    /// (`series` picks one of several by its Series Instance UID), anything else as NIfTI/Analyze.
    package static func open(path: String, series: String? = nil, stack: StackReading? = nil) throws -> ScanImage {
        if TiffStack.looksLikeTiff(path) {
            guard let reading = stack else {
                throw AimosError(.unsupported, "'\(path)' is a TIFF stack; this entry point reads NIfTI and DICOM (aimos segment reads TIFF stacks)")
            }
            return try ScanImage(tiffPath: path, reading: reading)
        }
        if DicomSeriesReader.looksLikeDicom(path) { return try ScanImage(dicomPath: path, series: series) }
        if let uid = series {
            throw AimosError(.invalidArgument, "--series \(uid) picks a DICOM series, but '\(path)' is not a DICOM folder or file")
        }
        return try ScanImage(niftiPath: path)
    }

    /// Takes ownership of `image` (freed here if the checks fail).
    init(image: OpaquePointer, path: String, dicom: DicomSeriesInfo?, stack: StackOrigin? = nil) throws {
        self.path = path
        self.image = image
        self.dicom = dicom
        self.stack = stack
        do {
            let ndim = Int(nb_ndim(image))
            guard ndim >= 1, ndim <= 7 else { throw AimosError(.format, "'\(path)' has \(ndim) dimensions") }
            // Every dim positive and their product, in bytes, what libnifti read: libnifti's own
            // product can wrap around on hostile headers.
            var product = 1
            for axis in 1...ndim {
                let d = nb_dim(image, Int32(axis))
                guard d > 0, d <= Int64(VoxelVolume.maxDimension) else {
                    throw AimosError(.format, "'\(path)' has dim[\(axis)] = \(d); each dimension must be 1...\(VoxelVolume.maxDimension)")
                }
                let (p, overflow) = product.multipliedReportingOverflow(by: Int(d))
                guard !overflow else { throw AimosError(.format, "'\(path)' has dimensions whose product overflows") }
                product = p
            }
            let bytes = product.multipliedReportingOverflow(by: Int(nb_bytes_per_voxel(image)))
            guard !bytes.overflow, Int64(product) == nb_voxel_count(image) else {
                throw AimosError(.format, "'\(path)': the header's dimensions do not match the voxel data libnifti read")
            }
            let extra = ndim <= 3 ? 1 : (4...ndim).reduce(1) { $0 * Int(nb_dim(image, Int32($1))) }
            guard ndim <= 3 || extra == 1 else {
                throw AimosError(.unsupported, "'\(path)' holds \(extra) volumes (a 4D series); aimos segments one 3D volume: extract one first")
            }
            dims = (1...3).map { $0 <= ndim ? Int(nb_dim(image, Int32($0))) : 1 }
            guard dims.allSatisfy({ $0 > 0 }) else { throw AimosError(.format, "'\(path)' has dimensions \(dims)") }
            // NIFTI_UNITS_METER = 1, MM = 2, MICRON = 3; unknown (0) is taken as mm.
            let unit: Double = [1: 1000, 3: 0.001][Int(nb_xyz_units(image) & 0x07)] ?? 1
            millimetresPerUnit = unit
            spacing = try (1...3).map { axis in
                let p = abs(nb_pixdim(image, Int32(axis)))
                guard p.isFinite, p > 0 else {
                    throw AimosError(.format, "'\(path)' has voxel size pixdim[\(axis)] = \(nb_pixdim(image, Int32(axis))); a voxel size must be > 0")
                }
                return p * unit
            }
            let code = nb_datatype(image)
            voxels = nb_data(image)
            guard let type = NiftiDatatype(rawValue: code) else {
                throw AimosError(.unsupported, "'\(path)' has NIfTI datatype \(code); aimos reads \(NiftiDatatype.supportedNames)")
            }
            datatype = type
            datatypeName = type.name
            let s = nb_scl_slope(image), i = nb_scl_inter(image)
            scaled = s != 0 && s.isFinite && (s != 1 || (i != 0 && i.isFinite))
            slope = scaled ? s : 1
            intercept = scaled ? i : 0
            nativeType = scaled ? nil : type.engineType
        } catch {
            nb_free(image)
            throw error
        }
    }

    deinit { nb_free(image) }

    /// The scaled intensity of voxel i (x fastest).
    package func intensity(at i: Int) -> Double {
        datatype.value(voxels, at: i) * slope + intercept
    }

    /// The scan as the engine's volume (valid inside the closure only), with the header's voxel
    /// size or `spacing` in its place (--voxel-size).
    package func withVolume<R>(spacing override: [Double]? = nil, _ body: (VoxelVolume) throws -> R) throws -> R {
        let dims64 = dims.map(Int64.init)
        let spacing = override ?? self.spacing
        do {
            if let type = nativeType {
                return try body(VoxelVolume(data: voxels, dtypeRaw: type.rawValue, dims: dims64, spacing: spacing))
            }
            // As float32, what the engine computes in (4 bytes a voxel instead of 8). Made here,
            // not on opening: a --signal scan or a label map is opened but never segmented.
            let converted = (0..<voxelCount).map { Float(intensity(at: $0)) }
            return try converted.withUnsafeBytes {
                try body(VoxelVolume(data: $0.baseAddress, dtypeRaw: VoxelVolume.DType.float32.rawValue, dims: dims64, spacing: spacing))
            }
        } catch let e as AimosError where e.kind == .invalidArgument {
            throw AimosError(.invalidArgument, "'\(path)': \(e.message)")
        }
    }
}

extension ScanImage {
    /// The voxel-to-world matrix, 4 x 4 row-major: the sform if set, else the qform; nil when
    /// neither is set.
    package func worldAffine() -> [Double]? {
        var qform = [Double](repeating: 0, count: 16), sform = [Double](repeating: 0, count: 16)
        var qcode: Int32 = 0, scode: Int32 = 0
        var pixdim = [Double](repeating: 0, count: 8)
        nb_geometry(image, &qform, &sform, &qcode, &scode, &pixdim)
        return scode > 0 ? sform : qcode > 0 ? qform : nil
    }

    /// The voxel-to-world matrix with world in mm whatever the file's unit; nil without one.
    package func worldAffineMM() -> [Double]? {
        guard var m = worldAffine() else { return nil }
        for i in 0..<12 { m[i] *= millimetresPerUnit }
        return m
    }

    /// The voxel-to-world matrix's 3x3 part (sform if set, else qform), nil when neither is set.
    package func worldMatrix() -> [[Double]]? {
        guard let m = worldAffine() else { return nil }
        return (0..<3).map { r in (0..<3).map { c in m[4 * r + c] } }
    }

    /// World mm -> voxel indices through the inverse of the sform (else qform); without
    /// either, indices are world / voxel size.
    package func worldToVoxel() -> ([Double]) -> [Double] {
        guard let m = worldAffine() else {
            let spacing = self.spacing
            return { p in (0..<3).map { p[$0] / spacing[$0] } }
        }
        // Inverse of the 3x3 part (adjugate over determinant), then the translation.
        let a = (0..<3).map { r in (0..<3).map { c in m[4 * r + c] } }
        let det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        let inv: [[Double]] = (0..<3).map { r in (0..<3).map { c in
            let r1 = (c + 1) % 3, r2 = (c + 2) % 3, c1 = (r + 1) % 3, c2 = (r + 2) % 3
            return (a[r1][c1] * a[r2][c2] - a[r1][c2] * a[r2][c1]) / det
        } }
        let t = [m[3], m[7], m[11]]
        return { p in (0..<3).map { r in (0..<3).reduce(0) { $0 + inv[r][$1] * (p[$1] - t[$1]) } } }
    }

    /// The world direction of a voxel axis from the sform (or qform, or pixdim alone): the index
    /// of its dominant world component (0 = x, 1 = y, 2 = z) and that component's sign.
    package func worldDirection(axis: Int) -> (dominant: Int, sign: Double) {
        guard let m = worldAffine() else { return (axis, 1) }
        let column = (0..<3).map { m[4 * $0 + axis] }
        let dominant = (0..<3).max { abs(column[$0]) < abs(column[$1]) } ?? axis
        return (dominant, column[dominant] < 0 ? -1 : 1)
    }
}

extension ScanImage {
    /// Class names from an aimos label map's header extension ({"labels": {"0": "background", ...}}).
    package func labelNames() -> [String]? {
        guard let text = nb_extension_text(image),
              let json = try? JSONValue.parse(Array(String(cString: text).utf8)),
              let labels = json["labels"]?.objectValue else { return nil }
        var names: [Int: String] = [:]
        for (key, value) in labels {
            guard let index = Int(key), (0...255).contains(index), let name = value.stringValue else { return nil }
            names[index] = name
        }
        guard let highest = names.keys.max(), names.count == highest + 1 else { return nil }
        return (0...highest).compactMap { names[$0] }
    }
}
