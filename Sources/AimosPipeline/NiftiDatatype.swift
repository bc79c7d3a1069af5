import AimosCore

/// The NIfTI datatypes aimos reads (and the two it writes), in one table: the code, the name,
/// the engine's own voxel type when it takes such voxels as they are, and how one voxel is read.
enum NiftiDatatype: Int32, CaseIterable {
    case uint8 = 2, int16 = 4, int32 = 8, float32 = 16, float64 = 64
    case int8 = 256, uint16 = 512, uint32 = 768, int64 = 1024, uint64 = 1280

    var name: String { String(describing: self) }

    /// The engine reads these directly (unscaled); the others are converted to float32.
    var engineType: VoxelVolume.DType? {
        switch self {
        case .uint8: return .uint8
        case .int16: return .int16
        case .uint16: return .uint16
        case .int32: return .int32
        case .float32: return .float32
        case .float64: return .float64
        case .int8, .uint32, .int64, .uint64: return nil
        }
    }

    /// Voxel `i` of `voxels` as a Double.
    func value(_ voxels: UnsafeRawPointer, at i: Int) -> Double {
        switch self {
        case .uint8: return Double(voxels.load(fromByteOffset: i, as: UInt8.self))
        case .int8: return Double(voxels.load(fromByteOffset: i, as: Int8.self))
        case .int16: return Double(voxels.load(fromByteOffset: 2 * i, as: Int16.self))
        case .uint16: return Double(voxels.load(fromByteOffset: 2 * i, as: UInt16.self))
        case .int32: return Double(voxels.load(fromByteOffset: 4 * i, as: Int32.self))
        case .uint32: return Double(voxels.load(fromByteOffset: 4 * i, as: UInt32.self))
        case .int64: return Double(voxels.load(fromByteOffset: 8 * i, as: Int64.self))
        case .uint64: return Double(voxels.load(fromByteOffset: 8 * i, as: UInt64.self))
        case .float32: return Double(voxels.load(fromByteOffset: 4 * i, as: Float.self))
        case .float64: return voxels.load(fromByteOffset: 8 * i, as: Double.self)
        }
    }

    /// "uint8, int8, ..." for messages.
    static var supportedNames: String { allCases.map(\.name).joined(separator: ", ") }
}
