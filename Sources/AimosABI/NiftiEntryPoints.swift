import AimosCore
import AimosPipeline
import CAimosHeader

// C entry point for a whole NIfTI file: read, segment, write the label map.

@_cdecl("aimos_segment_nifti")
public func aimos_segment_nifti(_ model: OpaquePointer?, _ inputPath: UnsafePointer<CChar>?,
                                _ outputLabelsPath: UnsafePointer<CChar>?,
                                _ options: UnsafePointer<aimos_options>?) -> aimos_status {
    let function = "aimos_segment_nifti"
    guard model != nil else { return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): model is NULL") }
    guard let handle = HandleRegistry.shared.lookup(model, as: ModelHandle.self) else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): model is not a live aimos model handle (freed, or not made by aimos_load_model)")
    }
    guard let inputPath = inputPath else { return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): input_path is NULL") }
    guard let outputLabelsPath = outputLabelsPath else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): output_labels_path is NULL")
    }
    let settings: SegmentationOptions
    switch ABIOptions.read(options, function: function) {
    case let .success(s): settings = s
    case let .failure(status): return status
    }
    return LastError.guarded(function) {
        var job = SegmentationJob(inputPath: String(cString: inputPath), outputPath: String(cString: outputLabelsPath))
        job.options = settings
        do {
            _ = try job.run(model: handle.model)
        } catch let e as JobError {
            throw e.error
        }
    }
}
