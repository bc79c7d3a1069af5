import AimosCore
import AimosPipeline
import CAimosHeader

// Library-wide C entry points: versions, status names, errors, freeing handles.

@_cdecl("aimos_version")
public func aimos_version() -> UnsafePointer<CChar> {
    staticCString(AimosInfo.version)
}

@_cdecl("aimos_version_number")
public func aimos_version_number() -> UInt32 {
    let parts = "\(AimosInfo.version)".split(separator: ".").map { UInt32($0) ?? 0 }
    return parts.count == 3 ? parts[0] * 10000 + parts[1] * 100 + parts[2] : 0
}

@_cdecl("aimos_status_string")
public func aimos_status_string(_ status: aimos_status) -> UnsafePointer<CChar> {
    switch status {
    case AIMOS_OK: return staticCString("AIMOS_OK")
    case AIMOS_ERROR_INVALID_ARGUMENT: return staticCString("AIMOS_ERROR_INVALID_ARGUMENT")
    case AIMOS_ERROR_IO: return staticCString("AIMOS_ERROR_IO")
    case AIMOS_ERROR_FORMAT: return staticCString("AIMOS_ERROR_FORMAT")
    case AIMOS_ERROR_UNSUPPORTED: return staticCString("AIMOS_ERROR_UNSUPPORTED")
    case AIMOS_ERROR_OUT_OF_MEMORY: return staticCString("AIMOS_ERROR_OUT_OF_MEMORY")
    case AIMOS_ERROR_CANCELLED: return staticCString("AIMOS_ERROR_CANCELLED")
    case AIMOS_ERROR_INTERNAL: return staticCString("AIMOS_ERROR_INTERNAL")
    case AIMOS_ERROR_MISUSE: return staticCString("AIMOS_ERROR_MISUSE")
    default: return staticCString("AIMOS_ERROR_UNKNOWN")
    }
}

@_cdecl("aimos_last_error")
public func aimos_last_error() -> UnsafePointer<CChar> {
    LastError.current ?? staticCString("")
}

@_cdecl("aimos_free")
public func aimos_free(_ handle: UnsafeMutableRawPointer?) {
    HandleRegistry.shared.remove(handle)
}

@_cdecl("aimos_model_free")
public func aimos_model_free(_ model: OpaquePointer?) {
    HandleRegistry.shared.remove(UnsafeMutableRawPointer(model), ifA: ModelHandle.self)
}

@_cdecl("aimos_result_free")
public func aimos_result_free(_ result: OpaquePointer?) {
    HandleRegistry.shared.remove(UnsafeMutableRawPointer(result), ifA: ResultHandle.self)
}

/// A NUL-terminated string literal lives in the binary for the whole process.
func staticCString(_ literal: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(literal.utf8Start).assumingMemoryBound(to: CChar.self)
}
