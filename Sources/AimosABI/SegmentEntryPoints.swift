import AimosCore
import CAimosHeader

// C entry points of a segmentation run: options and aimos_segment_volume.

/// The 0.1 entry point: fills the 0.1 fields only (a 0.1 caller's struct is that small).
@_cdecl("aimos_options_init")
public func aimos_options_init(_ options: UnsafeMutablePointer<aimos_options>?) {
    aimos_options_init_sized(options, UInt32(ABIOptions.size0_1))
}

@_cdecl("aimos_options_init_sized")
public func aimos_options_init_sized(_ options: UnsafeMutablePointer<aimos_options>?, _ size: UInt32) {
    guard let options = options, Int(size) >= ABIOptions.size0_1 else { return }
    var defaults = aimos_options()
    defaults.struct_size = UInt32(min(Int(size), MemoryLayout<aimos_options>.size))
    defaults.slice_axis = -1
    defaults.orientation = Int32(AIMOS_ORIENTATION_AUTO.rawValue)
    defaults.crop = Int32(AIMOS_CROP_MODEL.rawValue)
    defaults.separate_animals = 1
    // Only the caller's part is written: a smaller (older) struct ends where its size says.
    let count = Int(defaults.struct_size)
    withUnsafeBytes(of: &defaults) { bytes in
        UnsafeMutableRawPointer(options).copyMemory(from: bytes.baseAddress!, byteCount: count)
    }
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

    /// sizeof(aimos_options) in 0.1: the smallest struct_size accepted.
    static let size0_1 = MemoryLayout<aimos_options>.offset(of: \aimos_options.orientation)!

    /// Whether a caller's struct of `size` bytes holds the field at `path`.
    static func covers<T>(_ size: Int, _ path: KeyPath<aimos_options, T>) -> Bool {
        MemoryLayout<aimos_options>.offset(of: path)! + MemoryLayout<T>.size <= size
    }

    /// `fileHasMatrix`: the caller segments a file, whose own qform/sform serves header mode.
    static func read(_ options: UnsafePointer<aimos_options>?, function: String, fileHasMatrix: Bool = false) -> Outcome {
        var settings = SegmentationOptions()
        guard let options = options else {
            var defaults = aimos_options()
            aimos_options_init_sized(&defaults, UInt32(MemoryLayout<aimos_options>.size))
            return withUnsafePointer(to: &defaults) { read($0, function: function, fileHasMatrix: fileHasMatrix) }
        }
        let size = Int(options.pointee.struct_size)
        guard size >= size0_1 else {
            return .failure(LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): options->struct_size is \(size), expected at least \(size0_1); call aimos_options_init first"))
        }
        // Copy only what the caller's struct holds; the rest keeps the 0.1 behaviour.
        var o = aimos_options()
        o.orientation = Int32(AIMOS_ORIENTATION_NONE.rawValue)
        o.crop = Int32(AIMOS_CROP_NONE.rawValue)
        o.separate_animals = 1
        withUnsafeMutableBytes(of: &o) { $0.baseAddress!.copyMemory(from: options, byteCount: min(size, MemoryLayout<aimos_options>.size)) }
        if !covers(size, \.orientation) { o.orientation = Int32(AIMOS_ORIENTATION_NONE.rawValue) }
        if !covers(size, \.crop) { o.crop = Int32(AIMOS_CROP_NONE.rawValue) }
        if !covers(size, \.separate_animals) { o.separate_animals = 1 }
        if !covers(size, \.world_matrix) { o.world_matrix = nil }
        switch o.orientation {
        case Int32(AIMOS_ORIENTATION_NONE.rawValue): settings.orientation = .none
        case Int32(AIMOS_ORIENTATION_AUTO.rawValue): settings.orientation = .auto
        case Int32(AIMOS_ORIENTATION_HEADER.rawValue):
            settings.orientation = .header
            if let m = o.world_matrix {
                settings.worldMatrix = (0..<3).map { r in (0..<3).map { c in m[4 * r + c] } }
            } else if !fileHasMatrix {
                return .failure(LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): options->orientation is AIMOS_ORIENTATION_HEADER but options->world_matrix is NULL"))
            }
        case Int32(AIMOS_ORIENTATION_CODE.rawValue):
            let text = withUnsafeBytes(of: o.orientation_code) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let code = AnatomicalOrientation(text) else {
                return .failure(LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): options->orientation_code '\(text)' is not a layout code (three letters, one each of H/T, L/R, D/V, such as \"LHD\")"))
            }
            settings.orientation = .code(code)
        default:
            return .failure(LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): options->orientation is \(o.orientation); use AIMOS_ORIENTATION_NONE, _AUTO, _HEADER or _CODE"))
        }
        switch o.crop {
        case Int32(AIMOS_CROP_MODEL.rawValue): settings.crop = .model
        case Int32(AIMOS_CROP_NONE.rawValue): settings.crop = .none
        case Int32(AIMOS_CROP_BODY.rawValue): settings.crop = .body
        default:
            return .failure(LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): options->crop is \(o.crop); use AIMOS_CROP_MODEL (-1), AIMOS_CROP_NONE (0) or AIMOS_CROP_BODY (1)"))
        }
        settings.separateAnimals = o.separate_animals != 0
        guard o.slice_axis >= -1, o.slice_axis <= 2 else {
            return .failure(LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): options->slice_axis is \(o.slice_axis); use -1 (the model's) or 0, 1, 2"))
        }
        settings.sliceAxis = o.slice_axis == -1 ? nil : Int(o.slice_axis)
        if settings.sliceAxis != nil && settings.orientation != .none {
            return .failure(LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): options->slice_axis is \(o.slice_axis) but a slice axis goes with AIMOS_ORIENTATION_NONE only; set slice_axis to -1 or orientation to AIMOS_ORIENTATION_NONE"))
        }
        settings.threads = Int(o.threads)
        settings.keepProbabilities = o.keep_probabilities != 0
        if let callback = o.progress {
            let userData = o.user_data
            settings.progress = { done, total in callback(userData, done, total) == 0 }
        }
        return .success(settings)
    }
}
