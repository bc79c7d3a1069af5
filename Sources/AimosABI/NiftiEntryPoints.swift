import AimosCore
import AimosPipeline
import CAimosHeader

// C entry point for a whole scan file (NIfTI, or a DICOM series): read, segment, write the label map.

@_cdecl("aimos_segment_nifti")
public func aimos_segment_nifti(_ model: OpaquePointer?, _ inputPath: UnsafePointer<CChar>?,
                                _ outputLabelsPath: UnsafePointer<CChar>?,
                                _ options: UnsafePointer<aimos_options>?) -> aimos_status {
    let function = "aimos_segment_nifti"
    let (found, status) = HandleRegistry.shared.model(model, function: function)
    guard let handle = found else { return status }
    guard let inputPath = inputPath else { return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): input_path is NULL") }
    guard let outputLabelsPath = outputLabelsPath else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): output_labels_path is NULL")
    }
    var settings: SegmentationOptions
    switch ABIOptions.read(options, function: function, fileHasMatrix: true) {
    case let .success(s): settings = s
    case let .failure(status): return status
    }
    settings.keepProbabilities = false  // only the label map is written
    return LastError.guarded(function) {
        var job = SegmentationJob(inputPath: String(cString: inputPath), outputPath: String(cString: outputLabelsPath))
        job.options = settings
        job.series = ABIOptions.dicomSeries(options)
        do {
            _ = try job.run(model: handle.model)
        } catch let e as JobError {
            throw e.error
        }
    }
}
