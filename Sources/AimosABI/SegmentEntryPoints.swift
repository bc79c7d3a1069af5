import AimosCore
import CAimosHeader

// C entry points of a segmentation run: options and aimos_segment_volume.

@_cdecl("aimos_options_init")
public func aimos_options_init(_ options: UnsafeMutablePointer<aimos_options>?) {
    guard let options = options else { return }
    options.pointee = aimos_options(struct_size: UInt32(MemoryLayout<aimos_options>.size), slice_axis: -1,
                                    threads: 0, keep_probabilities: 0, progress: nil, user_data: nil)
}

@_cdecl("aimos_segment_volume")
public func aimos_segment_volume(_ model: OpaquePointer?, _ volume: UnsafePointer<aimos_volume>?,
                                 _ options: UnsafePointer<aimos_options>?,
                                 _ outResult: UnsafeMutablePointer<OpaquePointer?>?) -> aimos_status {
    outResult?.pointee = nil
    let function = "aimos_segment_volume"
    guard let outResult = outResult else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): out_result is NULL")
    }
    let (found, status) = HandleRegistry.shared.model(model, function: function)
    guard let handle = found else { return status }
    guard let volume = volume?.pointee else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): volume is NULL")
    }
    let settings: SegmentationOptions
    switch ABIOptions.read(options, function: function) {
    case let .success(s): settings = s
    case let .failure(status): return status
    }
    return LastError.guarded(function) {
        let view = try VoxelVolume(data: volume.data, dtypeRaw: Int32(bitPattern: volume.dtype.rawValue),
                                   dims: [volume.dims.0, volume.dims.1, volume.dims.2],
                                   spacing: [volume.spacing_mm.0, volume.spacing_mm.1, volume.spacing_mm.2])
        let result = try handle.model.segment(view, options: settings)
        outResult.pointee = HandleRegistry.shared.register(ResultHandle(result: result))
    }
}

/// Reads a caller's aimos_options (NULL: defaults) into the engine's options.
enum ABIOptions {
    enum Outcome { case success(SegmentationOptions), failure(aimos_status) }

    static func read(_ options: UnsafePointer<aimos_options>?, function: String) -> Outcome {
        var settings = SegmentationOptions()
        guard let options = options else { return .success(settings) }
        let needed = UInt32(MemoryLayout<aimos_options>.size)
        guard options.pointee.struct_size >= needed else {
            return .failure(LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): options->struct_size is \(options.pointee.struct_size), expected at least \(needed); call aimos_options_init first"))
        }
        let o = options.pointee
        guard o.slice_axis >= -1, o.slice_axis <= 2 else {
            return .failure(LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): options->slice_axis is \(o.slice_axis); use -1 (the model's) or 0, 1, 2"))
        }
        settings.sliceAxis = o.slice_axis == -1 ? nil : Int(o.slice_axis)
        settings.threads = Int(o.threads)
        settings.keepProbabilities = o.keep_probabilities != 0
        if let callback = o.progress {
            let userData = o.user_data
            settings.progress = { done, total in callback(userData, done, total) == 0 }
        }
        return .success(settings)
    }
}
