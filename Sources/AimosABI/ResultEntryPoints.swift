import AimosCore
import CAimosHeader

// C entry points that read an aimos_result.

@_cdecl("aimos_result_labels")
public func aimos_result_labels(_ result: OpaquePointer?) -> UnsafePointer<UInt8>? {
    HandleRegistry.shared.lookup(result, as: ResultHandle.self).map { UnsafePointer($0.result.labels) }
}

@_cdecl("aimos_result_probabilities")
public func aimos_result_probabilities(_ result: OpaquePointer?, _ classIndex: Int32) -> UnsafePointer<Float>? {
    guard let handle = HandleRegistry.shared.lookup(result, as: ResultHandle.self),
          classIndex >= 0, Int(classIndex) < handle.result.probabilities.count else { return nil }
    return UnsafePointer(handle.result.probabilities[Int(classIndex)])
}

@_cdecl("aimos_result_uncertainty")
public func aimos_result_uncertainty(_ result: OpaquePointer?) -> UnsafePointer<Float>? {
    HandleRegistry.shared.lookup(result, as: ResultHandle.self)?.result.uncertainty.map { UnsafePointer($0) }
}

@_cdecl("aimos_result_volume_mm3")
public func aimos_result_volume_mm3(_ result: OpaquePointer?, _ classIndex: Int32) -> Double {
    guard let handle = HandleRegistry.shared.lookup(result, as: ResultHandle.self),
          classIndex >= 0, Int(classIndex) < handle.result.classCount else { return .nan }
    return handle.result.volumeMM3(classIndex: Int(classIndex))
}

@_cdecl("aimos_result_animal_count")
public func aimos_result_animal_count(_ result: OpaquePointer?) -> Int32 {
    HandleRegistry.shared.lookup(result, as: ResultHandle.self).map { Int32($0.result.animalCount) } ?? 0
}

@_cdecl("aimos_result_layout")
public func aimos_result_layout(_ result: OpaquePointer?, _ animal: Int32, _ layout: UnsafeMutablePointer<aimos_layout>?) -> aimos_status {
    let function = "aimos_result_layout"
    let (found, status) = HandleRegistry.shared.result(result, function: function)
    guard let handle = found else { return status }
    guard let layout = layout else { return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): layout is NULL") }
    let size = Int(layout.pointee.struct_size)
    guard size >= layoutSize0_2 else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): layout->struct_size is \(size), expected at least \(layoutSize0_2)")
    }
    let layouts = handle.result.layouts
    guard animal >= 0, Int(animal) < layouts.count else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): animal \(animal) is not in 0..<\(layouts.count)")
    }
    let a = layouts[Int(animal)]
    var out = aimos_layout()
    out.struct_size = UInt32(min(size, MemoryLayout<aimos_layout>.size))
    let code = Array((a.orientation?.description ?? "").utf8)
    withUnsafeMutableBytes(of: &out.orientation) { bytes in
        for (i, b) in code.prefix(3).enumerated() { bytes[i] = b }
    }
    out.confidence = a.confidence ?? -1
    out.crop_lower = (Int64(a.box.lower[0]), Int64(a.box.lower[1]), Int64(a.box.lower[2]))
    out.crop_upper = (Int64(a.box.upper[0]), Int64(a.box.upper[1]), Int64(a.box.upper[2]))
    out.slice_axis = Int32(a.geometry.axis)
    out.slice_direction_known = a.sliceDirectionKnown ? 1 : 0
    CallerStruct.write(out, to: layout, size: size)
    return AIMOS_OK
}

/// sizeof(aimos_layout) in 0.2, which introduced it: the smallest struct_size accepted.
let layoutSize0_2 = CallerStruct.size(upTo: \aimos_layout.slice_direction_known)

@_cdecl("aimos_result_voxel_size_factor")
public func aimos_result_voxel_size_factor(_ result: OpaquePointer?) -> Double {
    guard let handle = HandleRegistry.shared.lookup(result, as: ResultHandle.self) else { return .nan }
    return handle.result.suggestedVoxelSizeFactor ?? 1
}

@_cdecl("aimos_result_dims")
public func aimos_result_dims(_ result: OpaquePointer?, _ dims: UnsafeMutablePointer<Int64>?) -> aimos_status {
    let (found, status) = HandleRegistry.shared.result(result, function: "aimos_result_dims")
    guard let handle = found else { return status }
    guard let dims = dims else { return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "aimos_result_dims: dims is NULL") }
    for axis in 0..<3 { dims[axis] = Int64(handle.result.dims[axis]) }
    return AIMOS_OK
}

@_cdecl("aimos_result_class_count")
public func aimos_result_class_count(_ result: OpaquePointer?) -> Int32 {
    HandleRegistry.shared.lookup(result, as: ResultHandle.self).map { Int32($0.result.classCount) } ?? 0
}
