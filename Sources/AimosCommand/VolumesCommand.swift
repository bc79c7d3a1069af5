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
    @Option(help: "The scan on the same grid, for intensity statistics (NIfTI, or a DICOM series folder).")
    var scan: String?
    @Option(help: ArgumentHelp("The DICOM series of --scan when it holds several.", valueName: "UID"))
    var series: String?
    @Option(help: "Class names, comma-separated, index 0 first. Default: from the file's aimos header extension, else label_<k>.")
    var classes: String?
    @Option(help: "Write the table here (.csv or .json) instead of printing CSV.")
    var output: String?
    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    func run() throws {
        let map = try JobError.at(.input) { try ScanImage(niftiPath: labels) }
        let intensity = try JobError.at(.input) { () -> ScanImage? in
            guard let path = scan else { return nil }
            let s = try ScanImage.open(path: path, series: series)
            guard s.dims == map.dims else { throw AimosError(.invalidArgument, "'\(path)' has dims \(s.dims), the label map \(map.dims)") }
            return s
        }
        let values = try JobError.at(.input) { try LabelMapFile.labels(of: map, path: labels) }
        let highest = Int(values.max() ?? 0)
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
            try AtomicOutputs.writeText(table.text(forFile: path, scan: scan ?? "", model: ""), to: path, overwrite: overwrite)
        }
    }
}
