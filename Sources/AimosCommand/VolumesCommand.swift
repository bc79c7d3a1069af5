import AimosCore
import AimosPipeline
import ArgumentParser

/// `aimos volumes LABELS`: the organ table of an existing label map (for example one corrected
/// by hand in ITK-SNAP), with intensity statistics when the scan is given.
struct VolumesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volumes",
        abstract: "Organ table (voxels, mm3, mL, intensity statistics) of an existing label map.")

    @Argument(help: "Label map (.nii, .nii.gz, .hdr/.img).")
    var labels: String
    @Option(help: "The scan on the same grid, for intensity statistics.")
    var scan: String?
    @Option(help: "Class names, comma-separated, index 0 first. Default: from the file's aimos header extension, else label_<k>.")
    var classes: String?
    @Option(help: "Write the table here (.csv or .json) instead of printing CSV.")
    var output: String?
    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    func run() throws {
        let map = try JobError.at(.input) { try NiftiScan(path: labels) }
        let intensity = try JobError.at(.input) { () -> NiftiScan? in
            guard let path = scan else { return nil }
            let s = try NiftiScan(path: path)
            guard s.dims == map.dims else { throw AimosError(.invalidArgument, "'\(path)' has dims \(s.dims), the label map \(map.dims)") }
            return s
        }
        var values = [UInt8](repeating: 0, count: map.voxelCount)
        var highest = 0
        for i in 0..<map.voxelCount {
            let v = map.intensity(at: i)
            guard v >= 0, v <= 255, v == v.rounded() else {
                throw JobError(stage: .input, error: AimosError(.format, "'\(labels)' voxel \(i) holds \(v): a label map holds integers 0...255"))
            }
            values[i] = UInt8(v)
            highest = max(highest, Int(v))
        }
        let names = classes.map { $0.split(separator: ",").map(String.init) } ?? map.labelNames()
            ?? (0...highest).map { $0 == 0 ? "background" : "label_\($0)" }
        guard names.count > highest else {
            throw JobError(stage: .input, error: AimosError(.invalidArgument, "the label map holds label \(highest) but only \(names.count) class names are given"))
        }
        let table = values.withUnsafeBufferPointer {
            OrganStatistics(labels: $0.baseAddress!, voxelCount: map.voxelCount, classes: names, spacing: map.spacing,
                            intensity: intensity.map { s in { s.intensity(at: $0) } })
        }
        guard let path = output else {
            print(table.csv(), terminator: "")
            return
        }
        try JobError.at(.output) {
            let outputs = AtomicOutputs(overwrite: overwrite)
            try outputs.writeText(table.text(forFile: path, scan: scan ?? "", model: ""), to: path)
            try outputs.commit()
        }
    }
}
