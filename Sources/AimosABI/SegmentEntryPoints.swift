import AimosCore
import CAimosHeader

// C entry points of a segmentation run: options, volumes, aimos_segment (and 0.1's
// aimos_segment_volume).

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
    CallerStruct.write(defaults, to: options, size: Int(defaults.struct_size))
}

/// sizeof(aimos_volume) in 1.0, the first version with struct_size: the smallest accepted.
let volumeSize1_0 = CallerStruct.size(upTo: \aimos_volume.spacing_mm)

@_cdecl("aimos_volume_init_sized")
public func aimos_volume_init_sized(_ volume: UnsafeMutablePointer<aimos_volume>?, _ size: UInt32) {
    guard let volume = volume, Int(size) >= volumeSize1_0 else { return }
    var defaults = aimos_volume()
    defaults.struct_size = UInt32(min(Int(size), MemoryLayout<aimos_volume>.size))
    defaults.spacing_mm = (1, 1, 1)
    CallerStruct.write(defaults, to: volume, size: Int(defaults.struct_size))
}

@_cdecl("aimos_segment")
public func aimos_segment(_ model: OpaquePointer?, _ volume: UnsafePointer<aimos_volume>?,
                          _ options: UnsafePointer<aimos_options>?,
                          _ outResult: UnsafeMutablePointer<OpaquePointer?>?) -> aimos_status {
    let function = "aimos_segment"
    guard let volume = volume else {
        outResult?.pointee = nil
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): volume is NULL")
    }
    let size = Int(volume.pointee.struct_size)
    guard size >= volumeSize1_0 else {
        outResult?.pointee = nil
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): volume->struct_size is \(size), expected at least \(volumeSize1_0); call aimos_volume_init first")
    }
    let v = CallerStruct.read(volume, size: size, over: aimos_volume())
    return segment(function, model, v.data, v.dtype, v.dims, v.spacing_mm, options, outResult)
}

@_cdecl("aimos_segment_volume")
public func aimos_segment_volume(_ model: OpaquePointer?, _ volume: UnsafePointer<aimos_volume_0_1>?,
                                 _ options: UnsafePointer<aimos_options>?,
                                 _ outResult: UnsafeMutablePointer<OpaquePointer?>?) -> aimos_status {
    guard let v = volume?.pointee else {
        outResult?.pointee = nil
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "aimos_segment_volume: volume is NULL")
    }
    return segment("aimos_segment_volume", model, v.data, v.dtype, v.dims, v.spacing_mm, options, outResult)
}

/// The segmentation behind both entry points, once the volume's fields are read.
private func segment(_ function: String, _ model: OpaquePointer?, _ data: UnsafeRawPointer?, _ dtype: Int32,
                     _ dims: (Int64, Int64, Int64), _ spacing: (Double, Double, Double),
                     _ options: UnsafePointer<aimos_options>?,
                     _ outResult: UnsafeMutablePointer<OpaquePointer?>?) -> aimos_status {
    outResult?.pointee = nil
    guard let outResult = outResult else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): out_result is NULL")
    }
    let (found, status) = HandleRegistry.shared.model(model, function: function)
    guard let handle = found else { return status }
    let settings: SegmentationOptions
    switch ABIOptions.read(options, function: function) {
    case let .success(s): settings = s
    case let .failure(status): return status
    }
    return LastError.guarded(function) {
        let view = try VoxelVolume(data: data, dtypeRaw: dtype, dims: [dims.0, dims.1, dims.2],
                                   spacing: [spacing.0, spacing.1, spacing.2])
        let result = try handle.model.segment(view, options: settings)
        outResult.pointee = HandleRegistry.shared.register(ResultHandle(result: result))
    }
}

/// Reads a caller's aimos_options (NULL: defaults) into the engine's options.
enum ABIOptions {
    enum Outcome { case success(SegmentationOptions), failure(aimos_status) }

    /// sizeof(aimos_options) in 0.1: the smallest struct_size accepted.
    static let size0_1 = CallerStruct.size(upTo: \aimos_options.user_data)

    /// options->dicom_series (1.1) when the caller's struct holds it and it is set.
    static func dicomSeries(_ options: UnsafePointer<aimos_options>?) -> String? {
        guard let options = options else { return nil }
        let size = Int(options.pointee.struct_size)
        guard size >= size0_1, CallerStruct.covers(size, \aimos_options.dicom_series) else { return nil }
        return CallerStruct.read(options, size: size, over: aimos_options()).dicom_series.map { String(cString: $0) }
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
        var behaviour0_1 = aimos_options()
        behaviour0_1.orientation = Int32(AIMOS_ORIENTATION_NONE.rawValue)
        behaviour0_1.crop = Int32(AIMOS_CROP_NONE.rawValue)
        behaviour0_1.separate_animals = 1
        var o = CallerStruct.read(options, size: size, over: behaviour0_1)
        // A size that ends inside a field leaves that field at its 0.1 behaviour too.
        if !CallerStruct.covers(size, \aimos_options.orientation) { o.orientation = behaviour0_1.orientation }
        if !CallerStruct.covers(size, \aimos_options.orientation_code) { o.orientation_code = behaviour0_1.orientation_code }
        if !CallerStruct.covers(size, \aimos_options.crop) { o.crop = behaviour0_1.crop }
        if !CallerStruct.covers(size, \aimos_options.separate_animals) { o.separate_animals = 1 }
        if !CallerStruct.covers(size, \aimos_options.world_matrix) { o.world_matrix = nil }
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
        settings.sliceAxis = o.slice_axis == -1 ? nil : Int(o.slice_axis)
        settings.threads = Int(o.threads)
        settings.keepProbabilities = o.keep_probabilities != 0
        if let callback = o.progress {
            let userData = o.user_data
            settings.progress = { done, total in callback(userData, done, total) == 0 }
        }
        do { try settings.validate() } catch let e as AimosError {
            return .failure(LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): options: \(e.message) (slice_axis -1 is the model's own)"))
        } catch { return .failure(LastError.fail(AIMOS_ERROR_INTERNAL, "\(function): \(error)")) }
        return .success(settings)
    }
}
