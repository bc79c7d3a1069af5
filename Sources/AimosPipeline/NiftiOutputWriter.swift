import AimosCore
import CNiftiBridge

/// Writes aimos's NIfTI outputs on exactly the input's grid (dims, pixdim, qform/sform codes and
/// matrices, units copied from the scan's header):
/// - the label map: uint8, intent NIFTI_INTENT_LABEL (1002), scl_slope 1 / scl_inter 0,
///   cal_max the model's highest class index, descrip naming aimos and its version, the organ
///   names as JSON in a comment header extension;
/// - probabilities: one 4D float32 file, one volume per class in model class order;
/// - the uncertainty heatmap: a 3D float32 file.
package enum NiftiOutputWriter {
    static let uint8Code = NiftiDatatype.uint8.rawValue, float32Code = NiftiDatatype.float32.rawValue
    static let labelIntent: Int32 = 1002

    /// The header extension text: class index -> name, as JSON.
    package static func labelExtension(classes: [String], architecture: String, layout: LayoutDescription? = nil) -> String {
        var members: [(String, JSONValue)] = [
            ("generator", .string("aimos \(AimosInfo.version)")), ("model", .string(architecture)),
            ("labels", .object(classes.enumerated().map { (String($0.offset), .string($0.element)) })),
        ]
        if let layout = layout { members.append(("animals", layout.json)) }
        return JSONValue.object(members).serialized()
    }

    /// The label map; `layout` (the orientation and crop used) goes into the extension and,
    /// shortened to 80 characters, `descrip`.
    package static func writeLabels(_ labels: UnsafePointer<UInt8>, like scan: ScanImage, to path: String,
                                   classes: [String], architecture: String, layout: LayoutDescription? = nil) throws {
        var descrip = "aimos \(AimosInfo.version) organ labels (\(architecture)"
        if let layout = layout { descrip += ", orientation \(layout.short)" }
        descrip += ")"
        try write(scan: scan, path: path, datatype: uint8Code, dims: scan.dims, data: UnsafeRawPointer(labels),
                  intent: labelIntent, calMin: 0, calMax: Double(classes.count - 1),
                  descrip: String(descrip.utf8.prefix(79)) ?? descrip,
                  extensionText: labelExtension(classes: classes, architecture: architecture, layout: layout))
    }

    /// Probability maps (one per class, each voxelCount floats) as one 4D file.
    package static func writeProbabilities(_ maps: [UnsafeMutablePointer<Float>], like scan: ScanImage, to path: String,
                                          classes: [String]) throws {
        let n = scan.voxelCount
        let arena = BufferArena()
        let all = try arena.floats(n * maps.count, "the probability maps' file")
        for (c, map) in maps.enumerated() { (all + c * n).update(from: map, count: n) }
        try write(scan: scan, path: path, datatype: float32Code, dims: scan.dims + [maps.count], data: all,
                  intent: 0, calMin: 0, calMax: 1, descrip: "aimos \(AimosInfo.version) class probabilities",
                  extensionText: labelExtension(classes: classes, architecture: ""))
    }

    package static func writeUncertainty(_ map: UnsafePointer<Float>, like scan: ScanImage, to path: String) throws {
        try write(scan: scan, path: path, datatype: float32Code, dims: scan.dims, data: UnsafeRawPointer(map),
                  intent: 0, calMin: 0, calMax: 1, descrip: "aimos \(AimosInfo.version) annotator disagreement",
                  extensionText: nil)
    }

    /// aimos writes NIfTI as .nii or .nii.gz (the job checks before any work, the writer again).
    static func checkPath(_ path: String) throws {
        guard path.hasSuffix(".nii") || path.hasSuffix(".nii.gz") else {
            throw AimosError(.unsupported, "'\(path)': aimos writes NIfTI as .nii or .nii.gz")
        }
    }

    static func write(scan: ScanImage, path: String, datatype: Int32, dims: [Int], data: UnsafeRawPointer,
                      intent: Int32, calMin: Double, calMax: Double, descrip: String, extensionText: String?) throws {
        try checkPath(path)
        var message = [CChar](repeating: 0, count: 512)
        let dims64 = dims.map(Int64.init)
        let status = nb_write_like(scan.image, path, datatype, Int32(dims.count), dims64, data, intent, calMin, calMax,
                                   descrip, extensionText, &message, message.count)
        guard status == 0 else { throw AimosError(.io, String(cString: message)) }
    }
}
