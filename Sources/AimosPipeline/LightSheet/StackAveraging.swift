import AimosCore
import CTiffBridge

/// Streams a stack of planes onto its working grid: planes taken one at a time (from a TIFF
/// stack, or from a host's callback through the C ABI) and added block by block into one
/// working plane of sums, so memory holds one stack plane, one working plane and the working
/// volume, whatever the stack's size.
package enum StackAveraging {
    /// The samples a plane may hold (the C kernel's kinds).
    package enum Sample: Int32 {
        case uint8 = 0, uint16 = 1, int16 = 2, uint32 = 3, int32 = 4, float32 = 5, float64 = 6

        package var bytes: Int {
            switch self {
            case .uint8: return 1
            case .uint16, .int16: return 2
            case .uint32, .int32, .float32: return 4
            case .float64: return 8
            }
        }
    }

    /// Fills `out` (the grid's voxel count, x fastest) with block means of the planes.
    /// `plane(z)` gives plane z (nativeDims[0] x nativeDims[1] samples, x fastest), asked for in
    /// order, each once, and valid until the next call. `progress(planesRead, planes)` returns
    /// false to cancel.
    package static func average(grid: WorkingGrid, sample: Sample, into out: UnsafeMutablePointer<Float>,
                                progress: ((Int, Int) -> Bool)? = nil,
                                plane: (Int) throws -> UnsafeRawPointer) throws {
        let dims = grid.dims, k = grid.factors
        let width = grid.nativeDims[0], height = grid.nativeDims[1], planes = grid.nativeDims[2]
        let arena = BufferArena()
        let sums = try arena.allocate(Double.self, count: dims[0] * dims[1], zeroed: true, what: "one plane of the working grid")
        let rowBytes = width * sample.bytes
        for wz in 0..<dims[2] {
            sums.update(repeating: 0, count: dims[0] * dims[1])
            let bz = grid.blockLength(wz, axis: 2)
            for z in (wz * k[2])..<(wz * k[2] + bz) {
                let samples = try plane(z)
                for y in 0..<height {
                    pb_add_row_blocks(samples + y * rowBytes, sample.rawValue, Int64(width), Int64(k[0]), sums + (y / k[1]) * dims[0])
                }
                if let report = progress, !report(z + 1, planes) {
                    throw AimosError(.cancelled, "reading the stack's planes cancelled")
                }
            }
            let target = out + wz * dims[0] * dims[1]
            for wy in 0..<dims[1] {
                let by = grid.blockLength(wy, axis: 1)
                for wx in 0..<dims[0] {
                    let count = Double(grid.blockLength(wx, axis: 0) * by * bz)
                    target[wy * dims[0] + wx] = Float(sums[wy * dims[0] + wx] / count)
                }
            }
        }
    }

    /// The same for a TIFF stack, read plane by plane into one buffer.
    package static func average(_ stack: TiffStack, grid: WorkingGrid, into out: UnsafeMutablePointer<Float>,
                                progress: ((Int, Int) -> Bool)? = nil) throws {
        let arena = BufferArena()
        let buffer = try arena.allocate(UInt8.self, count: stack.planeBytes, zeroed: false, what: "one plane of the stack")
        try average(grid: grid, sample: stack.sample, into: out, progress: progress) { z in
            try stack.readPlane(z, into: buffer)
            return UnsafeRawPointer(buffer)
        }
    }
}
