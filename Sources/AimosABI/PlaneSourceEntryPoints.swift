import AimosCore
import AimosPipeline
import CAimosHeader

// C entry points for stacks handed over plane by plane (aimos_plane_source): a host's virtual
// stack averaged onto a working grid as its planes arrive, then segmented.

let planeSourceSize1_2 = CallerStruct.size(upTo: \aimos_plane_source.working_voxel_size_mm)

@_cdecl("aimos_plane_source_init_sized")
public func aimos_plane_source_init_sized(_ source: UnsafeMutablePointer<aimos_plane_source>?, _ size: UInt32) {
    guard let source = source, Int(size) >= planeSourceSize1_2 else { return }
    var defaults = aimos_plane_source()
    defaults.struct_size = UInt32(min(Int(size), MemoryLayout<aimos_plane_source>.size))
    CallerStruct.write(defaults, to: source, size: Int(defaults.struct_size))
}

@_cdecl("aimos_segment_planes")
public func aimos_segment_planes(_ model: OpaquePointer?, _ source: UnsafePointer<aimos_plane_source>?,
                                 _ options: UnsafePointer<aimos_options>?,
                                 _ outResult: UnsafeMutablePointer<OpaquePointer?>?) -> aimos_status {
    let function = "aimos_segment_planes"
    outResult?.pointee = nil
    guard let outResult = outResult else { return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): out_result is NULL") }
    guard let source = source else { return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): source is NULL") }
    let size = Int(source.pointee.struct_size)
    guard size >= planeSourceSize1_2 else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): source->struct_size is \(size), expected at least \(planeSourceSize1_2); call aimos_plane_source_init first")
    }
    let s = CallerStruct.read(source, size: size, over: aimos_plane_source())
    guard let callback = s.plane else { return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): source->plane is NULL") }
    let (found, status) = HandleRegistry.shared.model(model, function: function)
    guard let handle = found else { return status }
    let settings: SegmentationOptions
    switch ABIOptions.read(options, function: function) {
    case let .success(o): settings = o
    case let .failure(status): return status
    }
    let dims = [s.dims.0, s.dims.1, s.dims.2], spacing = [s.spacing_mm.0, s.spacing_mm.1, s.spacing_mm.2]
    let wanted = [s.working_voxel_size_mm.0, s.working_voxel_size_mm.1, s.working_voxel_size_mm.2]
    return LastError.guarded(function) {
        guard let sample = VoxelVolume.DType(rawValue: s.dtype).flatMap(StackAveraging.Sample.init) else {
            throw AimosError(.invalidArgument, "source->dtype is \(s.dtype) (expected 1..6, AIMOS_DTYPE_UINT8..AIMOS_DTYPE_FLOAT64)")
        }
        for axis in 0..<3 {
            guard dims[axis] > 0, dims[axis] <= Int64(VoxelVolume.maxDimension) else {
                throw AimosError(.invalidArgument, "source->dims[\(axis)] is \(dims[axis]); each must be 1...\(VoxelVolume.maxDimension)")
            }
            guard spacing[axis].isFinite, spacing[axis] > 0 else {
                throw AimosError(.invalidArgument, "source->spacing_mm[\(axis)] is \(spacing[axis]); a voxel size must be finite and > 0")
            }
            guard wanted[axis].isFinite, wanted[axis] >= 0 else {
                throw AimosError(.invalidArgument, "source->working_voxel_size_mm[\(axis)] is \(wanted[axis]); give a size > 0, or 0 for the model's")
            }
        }
        let fallback = handle.model.metadata.values.voxelSizeMM ?? WorkingGrid.fallbackVoxelSizeMM
        let grid = WorkingGrid(nativeDims: dims.map { Int($0) }, nativeSpacing: spacing,
                               target: wanted.map { $0 > 0 ? $0 : fallback })
        let arena = BufferArena()
        let working = try arena.floats(grid.dims.reduce(1, *), "the working grid")
        let userData = s.user_data
        try StackAveraging.average(grid: grid, sample: sample, into: working) { z in
            guard let plane = callback(userData, Int64(z)) else {
                throw AimosError(.io, "the plane callback returned NULL for plane \(z)")
            }
            return plane
        }
        let view = try VoxelVolume(data: working, dtypeRaw: VoxelVolume.DType.float32.rawValue,
                                   dims: grid.dims.map(Int64.init), spacing: grid.spacing)
        let result = try handle.model.segment(view, options: settings)
        outResult.pointee = HandleRegistry.shared.register(ResultHandle(result: result, gridFactors: grid.factors))
    }
}

@_cdecl("aimos_result_spacing")
public func aimos_result_spacing(_ result: OpaquePointer?, _ spacing: UnsafeMutablePointer<Double>?) -> aimos_status {
    let (found, status) = HandleRegistry.shared.result(result, function: "aimos_result_spacing")
    guard let handle = found else { return status }
    guard let spacing = spacing else { return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "aimos_result_spacing: spacing_mm is NULL") }
    for axis in 0..<3 { spacing[axis] = handle.result.spacing[axis] }
    return AIMOS_OK
}

@_cdecl("aimos_result_grid_factors")
public func aimos_result_grid_factors(_ result: OpaquePointer?, _ factors: UnsafeMutablePointer<Int64>?) -> aimos_status {
    let (found, status) = HandleRegistry.shared.result(result, function: "aimos_result_grid_factors")
    guard let handle = found else { return status }
    guard let factors = factors else { return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "aimos_result_grid_factors: factors is NULL") }
    for axis in 0..<3 { factors[axis] = Int64(handle.gridFactors[axis]) }
    return AIMOS_OK
}

extension StackAveraging.Sample {
    /// The plane kind of an ABI voxel type.
    init?(_ dtype: VoxelVolume.DType) {
        switch dtype {
        case .uint8: self = .uint8
        case .int16: self = .int16
        case .uint16: self = .uint16
        case .int32: self = .int32
        case .float32: self = .float32
        case .float64: self = .float64
        }
    }
}
