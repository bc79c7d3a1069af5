import AimosCore
import AimosPipeline
import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// `aimos segment`: one command from a NIfTI scan to a label map and its companions.
struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Segment the organs of a NIfTI scan.",
        discussion: """
        Writes a uint8 label map on the scan's grid and prints the organ volumes. Exit codes: \
        0 success, 1 usage, 2 input error, 3 model error, 4 internal error, 130 cancelled (Ctrl-C).
        """)

    @Option(help: "Model file (.safetensors). Default: the bundled demo model.")
    var model: String?
    @Option(help: "Scan: .nii, .nii.gz or .hdr/.img (NIfTI-1/-2, Analyze).")
    var input: String
    @Option(help: "Label map to write (.nii or .nii.gz).")
    var output: String
    @Option(help: "Probabilities: one 4D float32 NIfTI, a volume per class.")
    var probabilities: String?
    @Option(help: "Annotator-disagreement heatmap (3D float32 NIfTI; needs a model with an uncertainty channel).")
    var uncertainty: String?
    @Option(help: "Organ table: class, voxels, mm3, mL, intensity mean/SD/median/sum (.csv or .json).")
    var volumes: String?
    @Option(help: "A co-registered signal on the scan's grid (PET, SPECT, fluorescence): adds its statistics per organ.")
    var signal: String?
    @Option(help: "Preview picture (.jpg): mean projection and the richest slice with organ overlays.")
    var preview: String?
    @Option(name: .customLong("itksnap-labels"), help: "ITK-SNAP label description file (itksnap -g scan -s labels -l FILE).")
    var itkSnapLabels: String?
    @Option(name: .customLong("slicer-colors"), help: "3D Slicer colour table (.ctbl).")
    var slicerColors: String?
    @Option(name: .customLong("slice-axis"), help: "Volume axis to cut into slices (0, 1, 2). Default: the model's (2, coronal).")
    var sliceAxis: Int?
    @Option(help: "Worker threads (0: all cores).")
    var threads: Int = 0
    @Flag(help: "Replace existing output files.")
    var overwrite = false
    @Flag(help: "No progress bar and no volume table on the terminal.")
    var quiet = false

    func validate() throws {
        if let axis = sliceAxis, !(0...2).contains(axis) { throw ValidationError("--slice-axis must be 0, 1 or 2") }
        if threads < 0 || threads > 1024 { throw ValidationError("--threads must be 0 (all cores) to 1024") }
    }

    func run() throws {
        let loaded = try DefaultModel.load(model).model
        var job = SegmentationJob(inputPath: input, outputPath: output)
        job.probabilitiesPath = probabilities
        job.uncertaintyPath = uncertainty
        job.volumesPath = volumes
        job.previewPath = preview
        job.itkSnapPath = itkSnapLabels
        job.slicerPath = slicerColors
        job.signalPath = signal
        job.overwrite = overwrite
        job.computeStatistics = !quiet
        let bar = ProgressBar(quiet: quiet)
        job.options = SegmentationOptions(sliceAxis: sliceAxis, threads: threads, progress: bar.update)
        let outcome = try job.run(model: loaded)
        if !quiet {
            print("aimos \(AimosInfo.version): \(input) -> \(output) (slice axis \(outcome.axis), \(loaded.metadata.values.architecture.name))")
            print(outcome.statistics?.text() ?? "", terminator: "")
        }
    }
}
