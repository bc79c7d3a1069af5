import AimosCore

/// A second volume (PET, SPECT, a fluorescence channel) read on the scan's voxels. On the same
/// grid (same dims and voxel-to-world matrices within 1e-4 voxel, or the same dims and a matrix
/// missing on either side) voxel i is voxel i. On another grid in the same world frame it is resampled through
/// the two matrices (sform, else qform; in mm): the scan's voxel centre is mapped into the
/// signal's voxel indices, and the signal's value there is interpolated trilinearly from the
/// eight surrounding voxel centres. Within the outer half voxel of the signal's field of view
/// the nearest edge value is taken (the voxels' extent covers it); beyond it the voxel has no
/// signal value (NaN), and the organ table counts only the voxels that have one.
package struct SignalOnScanGrid {
    package let resampled: Bool
    /// The signal's grid, for the organ table's header.
    package let sourceDims: [Int]
    package let sourceSpacing: [Double]
    /// The DICOM series the signal came from (units, decay correction), nil for NIfTI.
    package var dicom: DicomSeriesInfo? { signal.dicom }
    private let signal: ScanImage
    /// Scan voxel (x, y, z, 1) -> signal voxel indices: rows of a 3 x 4 matrix.
    private let toSignal: [Double]
    private let scanDims: [Int]

    package init(signal: ScanImage, scan: ScanImage, signalPath: String) throws {
        self.signal = signal
        sourceDims = signal.dims
        sourceSpacing = signal.spacing
        scanDims = scan.dims
        let a = scan.worldAffineMM(), b = signal.worldAffineMM()
        // Same dims and a matrix missing on either side (an Analyze file, say): voxel for voxel,
        // as before grids could differ.
        if signal.dims == scan.dims && (a == nil || b == nil || SignalOnScanGrid.sameGrid(a!, b!, dims: scan.dims, spacing: scan.spacing)) {
            resampled = false
            toSignal = []
            return
        }
        guard let scanMatrix = a, let signalMatrix = b else {   // dims differ here
            throw AimosError(.invalidArgument, "'\(signalPath)' has dims \(signal.dims) and the scan \(scan.dims), and \(a == nil ? "the scan" : "the signal") has no qform/sform: without both world matrices the signal cannot be put on the scan's grid")
        }
        guard let inverse = SignalOnScanGrid.inverse(signalMatrix) else {
            throw AimosError(.invalidArgument, "'\(signalPath)': its voxel-to-world matrix is singular")
        }
        toSignal = (0..<3).flatMap { r in (0..<4).map { c in
            (0..<4).reduce(0.0) { $0 + inverse[4 * r + $1] * scanMatrix[4 * $1 + c] }
        } }
        resampled = true
        guard overlaps() else {
            throw AimosError(.invalidArgument, "'\(signalPath)' does not overlap the scan: in the world frame of their qform/sform the signal's field of view (\(signal.dims.map(String.init).joined(separator: " x ")) voxels) and the scan's share no voxel. Are they from one study (one frame of reference)?")
        }
    }

    /// The signal at scan voxel i (x fastest), NaN where it has no value.
    package func value(at i: Int) -> Double {
        guard resampled else { return signal.intensity(at: i) }
        let x = Double(i % scanDims[0]), y = Double((i / scanDims[0]) % scanDims[1]), z = Double(i / (scanDims[0] * scanDims[1]))
        let m = toSignal
        let p = [m[0] * x + m[1] * y + m[2] * z + m[3], m[4] * x + m[5] * y + m[6] * z + m[7], m[8] * x + m[9] * y + m[10] * z + m[11]]
        var base = [0, 0, 0], weight = [0.0, 0.0, 0.0]
        for axis in 0..<3 {
            let n = signal.dims[axis]
            guard p[axis] >= -0.5, p[axis] <= Double(n) - 0.5 else { return .nan }
            let clamped = min(max(p[axis], 0), Double(n - 1))
            base[axis] = min(Int(clamped), max(n - 2, 0))
            weight[axis] = n == 1 ? 0 : clamped - Double(base[axis])
        }
        let nx = signal.dims[0], nxy = signal.dims[0] * signal.dims[1]
        var sum = 0.0
        for corner in 0..<8 {
            let dx = corner & 1, dy = (corner >> 1) & 1, dz = corner >> 2
            let w = (dx == 1 ? weight[0] : 1 - weight[0]) * (dy == 1 ? weight[1] : 1 - weight[1]) * (dz == 1 ? weight[2] : 1 - weight[2])
            guard w != 0 else { continue }
            sum += w * signal.intensity(at: (base[0] + dx) + (base[1] + dy) * nx + (base[2] + dz) * nxy)
        }
        return sum
    }

    /// Whether the scan's box, mapped into signal indices, meets the signal's field of view along
    /// each of the signal's axes. For grids oblique to each other this can pass when only the
    /// bounding boxes meet; the organ table then finds no voxel with a value, and the job
    /// refuses the signal there.
    private func overlaps() -> Bool {
        let corners = (0..<8).map { c -> [Double] in
            let v = [(c & 1) == 1 ? Double(scanDims[0] - 1) : 0, (c & 2) != 0 ? Double(scanDims[1] - 1) : 0, (c & 4) != 0 ? Double(scanDims[2] - 1) : 0]
            return (0..<3).map { r in toSignal[4 * r] * v[0] + toSignal[4 * r + 1] * v[1] + toSignal[4 * r + 2] * v[2] + toSignal[4 * r + 3] }
        }
        for axis in 0..<3 {
            let low = corners.map { $0[axis] }.min()!, high = corners.map { $0[axis] }.max()!
            if high < -0.5 || low > Double(signal.dims[axis]) - 0.5 { return false }
        }
        return true
    }

    static func sameGrid(_ a: [Double], _ b: [Double], dims: [Int], spacing: [Double]) -> Bool {
        // The two matrices place every corner voxel within 1e-4 voxel of each other (NIfTI-1
        // stores them as float32: about 1e-5 mm at 100 mm from the origin).
        let tolerance = 1e-4 * (spacing.min() ?? 1)
        for c in 0..<8 {
            let v = [(c & 1) == 1 ? Double(dims[0] - 1) : 0, (c & 2) != 0 ? Double(dims[1] - 1) : 0, (c & 4) != 0 ? Double(dims[2] - 1) : 0, 1]
            for r in 0..<3 {
                let pa = (0..<4).reduce(0.0) { $0 + a[4 * r + $1] * v[$1] }, pb = (0..<4).reduce(0.0) { $0 + b[4 * r + $1] * v[$1] }
                if abs(pa - pb) > tolerance { return false }
            }
        }
        return true
    }

    /// The inverse of an affine 4 x 4 row-major matrix (last row 0 0 0 1), nil when singular.
    static func inverse(_ m: [Double]) -> [Double]? {
        let a = (0..<3).map { r in (0..<3).map { c in m[4 * r + c] } }
        let det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        guard det.isFinite, abs(det) > 1e-12 else { return nil }
        var inv = [Double](repeating: 0, count: 16)
        for r in 0..<3 {
            for c in 0..<3 {
                let r1 = (c + 1) % 3, r2 = (c + 2) % 3, c1 = (r + 1) % 3, c2 = (r + 2) % 3
                inv[4 * r + c] = (a[r1][c1] * a[r2][c2] - a[r1][c2] * a[r2][c1]) / det
            }
        }
        for r in 0..<3 { inv[4 * r + 3] = -(0..<3).reduce(0.0) { $0 + inv[4 * r + $1] * m[4 * $1 + 3] } }
        inv[15] = 1
        return inv
    }
}
