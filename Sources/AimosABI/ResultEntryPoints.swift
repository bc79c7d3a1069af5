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
