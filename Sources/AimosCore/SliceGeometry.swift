/// How a volume (or a box of it) is cut into 2D slices, and where a slice pixel lives in the
/// volume. Each of slice index, row and column runs along one volume axis, forwards or
/// backwards (a flip), so a scan in any layout is read in the model's layout without
/// interpolation, and results are written back onto exactly the input's voxels.
///
/// The published mapping (`init(dims:axis:)`, the whole volume, no flips): axis 2 (coronal in
/// AIMOS): rows = y, columns = x. Axis 1: rows = z, columns = x. Axis 0: rows = z, columns = y.
package struct SliceGeometry {
    package let axis: Int
    package let sliceCount: Int
    package let rows: Int
    package let cols: Int
    /// The volume axes that run along a slice's rows and columns.
    package let rowAxis: Int
    package let colAxis: Int
    /// Whether slice index, rows and columns run against their volume axis.
    package let sliceFlipped: Bool, rowFlipped: Bool, colFlipped: Bool
    /// The part of the volume cut (the whole volume unless cropped).
    package let box: VoxelBox
    let origin: Int
    let sliceStride: Int
    let rowStride: Int
    let colStride: Int

    /// The published mapping over the whole volume.
    package init(dims: [Int], axis: Int) {
        let (rowAxis, colAxis) = axis == 0 ? (2, 1) : axis == 1 ? (2, 0) : (1, 0)
        self.init(dims: dims, sliceAxis: axis, rowAxis: rowAxis, colAxis: colAxis, box: VoxelBox(dims: dims))
    }

    /// Slices along `sliceAxis` of `box`, rows along `rowAxis`, columns along `colAxis`, each
    /// reversed where asked.
    package init(dims: [Int], sliceAxis: Int, sliceFlipped: Bool = false, rowAxis: Int, rowFlipped: Bool = false,
                colAxis: Int, colFlipped: Bool = false, box: VoxelBox) {
        precondition(Set([sliceAxis, rowAxis, colAxis]) == [0, 1, 2], "three distinct axes")
        let strides = [1, dims[0], dims[0] * dims[1]]
        self.axis = sliceAxis
        self.rowAxis = rowAxis
        self.colAxis = colAxis
        self.sliceFlipped = sliceFlipped
        self.rowFlipped = rowFlipped
        self.colFlipped = colFlipped
        self.box = box
        sliceCount = box.size(sliceAxis)
        rows = box.size(rowAxis)
        cols = box.size(colAxis)
        var origin = 0
        for (axis, flipped) in [(sliceAxis, sliceFlipped), (rowAxis, rowFlipped), (colAxis, colFlipped)] {
            origin += (flipped ? box.upper[axis] - 1 : box.lower[axis]) * strides[axis]
        }
        self.origin = origin
        sliceStride = sliceFlipped ? -strides[sliceAxis] : strides[sliceAxis]
        rowStride = rowFlipped ? -strides[rowAxis] : strides[rowAxis]
        colStride = colFlipped ? -strides[colAxis] : strides[colAxis]
    }

    package var pixelsPerSlice: Int { rows * cols }

    @inline(__always)
    package func voxelIndex(slice: Int, row: Int, col: Int) -> Int {
        origin + slice * sliceStride + row * rowStride + col * colStride
    }

    /// Copies one slice of `volume` as Float32, row-major rows x cols.
    func extract(_ volume: VoxelVolume, slice: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let base = origin + slice * sliceStride + r * rowStride
            for c in 0..<cols { out[r * cols + c] = volume.value(at: base + c * colStride) }
        }
    }
}

/// A box of voxels: lower (inclusive) to upper (exclusive) index per axis.
package struct VoxelBox: Equatable, CustomStringConvertible {
    package var lower: [Int]
    package var upper: [Int]

    package init(lower: [Int], upper: [Int]) {
        self.lower = lower
        self.upper = upper
    }

    /// The whole volume.
    package init(dims: [Int]) { self.init(lower: [0, 0, 0], upper: dims) }

    package func size(_ axis: Int) -> Int { upper[axis] - lower[axis] }

    package func contains(x: Int, y: Int, z: Int) -> Bool {
        x >= lower[0] && x < upper[0] && y >= lower[1] && y < upper[1] && z >= lower[2] && z < upper[2]
    }

    package var description: String {
        (0..<3).map { "\(lower[$0])..<\(upper[$0])" }.joined(separator: ", ")
    }
}
