/// How a volume is cut into 2D slices along one axis, and where a slice pixel lives in the
/// volume. Axis 2 (coronal in AIMOS): rows = y, columns = x. Axis 1: rows = z, columns = x.
/// Axis 0: rows = z, columns = y.
public struct SliceGeometry {
    public let axis: Int
    public let sliceCount: Int
    public let rows: Int
    public let cols: Int
    /// The volume axes that run along a slice's rows and columns.
    public let rowAxis: Int
    public let colAxis: Int
    let sliceStride: Int
    let rowStride: Int
    let colStride: Int

    public init(dims: [Int], axis: Int) {
        let (nx, ny, nz) = (dims[0], dims[1], dims[2])
        self.axis = axis
        switch axis {
        case 0:
            (sliceCount, rows, cols) = (nx, nz, ny)
            (rowAxis, colAxis) = (2, 1)
            (sliceStride, rowStride, colStride) = (1, nx * ny, nx)
        case 1:
            (sliceCount, rows, cols) = (ny, nz, nx)
            (rowAxis, colAxis) = (2, 0)
            (sliceStride, rowStride, colStride) = (nx, nx * ny, 1)
        default:
            (sliceCount, rows, cols) = (nz, ny, nx)
            (rowAxis, colAxis) = (1, 0)
            (sliceStride, rowStride, colStride) = (nx * ny, nx, 1)
        }
    }

    public var pixelsPerSlice: Int { rows * cols }

    @inline(__always)
    public func voxelIndex(slice: Int, row: Int, col: Int) -> Int {
        slice * sliceStride + row * rowStride + col * colStride
    }

    /// Copies one slice of `volume` as Float32, row-major rows x cols.
    func extract(_ volume: VoxelVolume, slice: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let base = slice * sliceStride + r * rowStride
            for c in 0..<cols { out[r * cols + c] = volume.value(at: base + c * colStride) }
        }
    }
}
