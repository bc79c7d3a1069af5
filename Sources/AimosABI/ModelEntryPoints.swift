import AimosCore
import CAimosHeader

// C entry points of aimos_model: loading and class names.

@_cdecl("aimos_load_model")
public func aimos_load_model(_ path: UnsafePointer<CChar>?, _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> aimos_status {
    outModel?.pointee = nil
    guard let outModel = outModel else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "aimos_load_model: out_model is NULL")
    }
    guard let path = path else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "aimos_load_model: path is NULL")
    }
    return LastError.guarded("aimos_load_model") {
        let model = try AimosModel(path: String(cString: path))
        outModel.pointee = HandleRegistry.shared.register(try ModelHandle(model: model))
    }
}

@_cdecl("aimos_model_class_count")
public func aimos_model_class_count(_ model: OpaquePointer?) -> Int32 {
    guard let handle = HandleRegistry.shared.lookup(model, as: ModelHandle.self) else { return 0 }
    return Int32(handle.classNames.count)
}

@_cdecl("aimos_model_class_name")
public func aimos_model_class_name(_ model: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    guard let handle = HandleRegistry.shared.lookup(model, as: ModelHandle.self),
          index >= 0, Int(index) < handle.classNames.count else { return nil }
    return UnsafePointer(handle.classNames[Int(index)])
}

@_cdecl("aimos_model_input_size")
public func aimos_model_input_size(_ model: OpaquePointer?) -> Int32 {
    HandleRegistry.shared.lookup(model, as: ModelHandle.self).map { Int32($0.model.metadata.values.inputSize) } ?? 0
}

@_cdecl("aimos_model_slice_axis")
public func aimos_model_slice_axis(_ model: OpaquePointer?) -> Int32 {
    HandleRegistry.shared.lookup(model, as: ModelHandle.self).map { Int32($0.model.metadata.values.sliceAxis) } ?? -1
}

@_cdecl("aimos_model_has_uncertainty")
public func aimos_model_has_uncertainty(_ model: OpaquePointer?) -> Int32 {
    HandleRegistry.shared.lookup(model, as: ModelHandle.self).map { $0.model.hasUncertainty ? 1 : 0 } ?? -1
}

@_cdecl("aimos_model_orientation")
public func aimos_model_orientation(_ model: OpaquePointer?, _ code: UnsafeMutablePointer<CChar>?) -> aimos_status {
    let (found, status) = HandleRegistry.shared.model(model, function: "aimos_model_orientation")
    guard let handle = found else { return status }
    guard let code = code else { return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "aimos_model_orientation: code is NULL") }
    let letters = Array(String(handle.model.metadata.values.orientation.code).utf8.prefix(3))
    for i in 0..<4 { code[i] = i < letters.count ? CChar(bitPattern: letters[i]) : 0 }
    return AIMOS_OK
}

/// Experimental (AIMOS_EXPERIMENTAL): the kernel path the model was prepared for.
@_cdecl("aimos_experimental_model_kernels")
public func aimos_experimental_model_kernels(_ model: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let handle = HandleRegistry.shared.lookup(model, as: ModelHandle.self) else { return nil }
    switch handle.model.kernelPath {
    case .generic: return staticCString("generic")
    case .avx2: return staticCString("avx2")
    case .avx512: return staticCString("avx512")
    case .reference: return staticCString("reference")
    }
}
