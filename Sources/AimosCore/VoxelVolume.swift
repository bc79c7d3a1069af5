/// A borrowed, validated view of a caller's volume: voxels x fastest, then y, then z.
package struct VoxelVolume {
    package enum DType: Int32, CaseIterable {
        case uint8 = 1, int16 = 2, uint16 = 3, int32 = 4, float32 = 5, float64 = 6

        var byteSize: Int {
            switch self {
            case .uint8: return 1
            case .int16, .uint16: return 2
            case .int32, .float32: return 4
            case .float64: return 8
            }
        }
    }

    /// The largest size of one axis aimos accepts (no micro-CT or light-sheet scan comes close;
    /// the bound keeps every per-slice table small).
    package static let maxDimension = 65_536

    package let data: UnsafeRawPointer
    package let dtype: DType
    package let dims: [Int]          // nx, ny, nz
    package let spacing: [Double]    // mm
    package let voxelCount: Int

    /// Validates sizes, spacing and (for float types) that every voxel is finite.
    package init(data: UnsafeRawPointer?, dtypeRaw: Int32, dims: [Int64], spacing: [Double]) throws {
        guard let data = data else { throw AimosError.invalid("volume data is NULL") }
        guard let dtype = DType(rawValue: dtypeRaw) else {
            throw AimosError.invalid("unknown volume dtype \(dtypeRaw) (expected 1..6, AIMOS_DTYPE_UINT8..AIMOS_DTYPE_FLOAT64)")
        }
        guard dims.count == 3, spacing.count == 3 else { throw AimosError.invalid("a volume has three dims and three spacings") }
        var count = 1
        for (axis, d) in dims.enumerated() {
            guard d > 0 else { throw AimosError.invalid("volume dims[\(axis)] is \(d); every dimension must be > 0") }
            guard d <= Int64(VoxelVolume.maxDimension) else {
                throw AimosError.invalid("volume dims[\(axis)] is \(d), more than \(VoxelVolume.maxDimension)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, product.multipliedReportingOverflow(by: 8).overflow == false else {
                throw AimosError.invalid("volume dims \(dims) overflow: the voxel count does not fit in memory")
            }
            count = product
        }
        for (axis, s) in spacing.enumerated() where !(s.isFinite && s > 0) {
            throw AimosError.invalid("volume spacing_mm[\(axis)] is \(s); every spacing must be finite and > 0")
        }
        self.data = data
        self.dtype = dtype
        self.dims = dims.map { Int($0) }
        self.spacing = spacing
        self.voxelCount = count
        try checkFinite()
    }

    private func checkFinite() throws {
        // Float32 is what the network computes in: a float64 beyond its range would become inf.
        func firstBad<T: BinaryFloatingPoint>(_ type: T.Type) -> Int? {
            let limit = T(Float.greatestFiniteMagnitude)
            for i in 0..<voxelCount {
                let v = data.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
                if !(v.isFinite && abs(v) <= limit) { return i }
            }
            return nil
        }
        let bad: Int?
        switch dtype {
        case .float32: bad = firstBad(Float.self)
        case .float64: bad = firstBad(Double.self)
        default: bad = nil
        }
        if let i = bad {
            let x = i % dims[0], y = (i / dims[0]) % dims[1], z = i / (dims[0] * dims[1])
            throw AimosError.invalid("volume voxel (x=\(x), y=\(y), z=\(z)) is NaN, infinite or beyond the float32 range")
        }
    }

    /// Reads voxel `index` converted to Float32 (as numpy's astype(float32)).
    @inline(__always)
    package func value(at index: Int) -> Float {
        switch dtype {
        case .uint8: return Float(data.loadUnaligned(fromByteOffset: index, as: UInt8.self))
        case .int16: return Float(data.loadUnaligned(fromByteOffset: 2 * index, as: Int16.self))
        case .uint16: return Float(data.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))
        case .int32: return Float(data.loadUnaligned(fromByteOffset: 4 * index, as: Int32.self))
        case .float32: return data.loadUnaligned(fromByteOffset: 4 * index, as: Float.self)
        case .float64: return Float(data.loadUnaligned(fromByteOffset: 8 * index, as: Double.self))
        }
    }
}
