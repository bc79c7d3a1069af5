import AimosCore
import AimosPipeline
import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// `aimos segment`: one command from a scan (NIfTI or a DICOM series) to a label map and its
/// companions.
struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Segment the organs of a scan (NIfTI, or a DICOM series).",
        discussion: """
        Writes a uint8 label map on the scan's grid (NIfTI; for a DICOM series with its geometry \
        in NIfTI's RAS frame) and prints the organ volumes. Exit codes: \
        0 success, 1 usage, 2 input error, 3 model error, 4 internal error, 130 cancelled (Ctrl-C).
        """)

    @Option(help: "Model file (.safetensors), or a bundled model: ct (the default) or lightsheet.")
    var model: String?
    @Option(help: ArgumentHelp("Scan: .nii, .nii.gz or .hdr/.img (NIfTI-1/-2, Analyze), or a folder holding a DICOM series (or one multi-frame DICOM file). With --output-dir: repeatable, and a folder of NIfTI files stands for each of them.", valueName: "SCAN"))
    var input: [String] = []
    @Option(help: ArgumentHelp("The DICOM series to read when --input holds several (its Series Instance UID; the error message lists them).", valueName: "UID"))
    var series: String?
    @Option(help: "Label map to write (.nii or .nii.gz).")
    var output: String?
    @Option(name: .customLong("output-dir"), help: ArgumentHelp("Cohort mode: write each scan's outputs into DIR as NAME_labels.nii.gz, NAME_volumes.csv, NAME_preview.jpg, NAME_report.json and the provenance sidecar NAME_provenance.json; skip scans whose outputs are complete (resume); write the cohort table.", valueName: "DIR"))
    var outputDir: String?
    @Option(name: .customLong("input-list"), help: ArgumentHelp("Cohort mode: a CSV list of scans with a path column and optionally mouse, timepoint, annotator (paths relative to the list's folder).", valueName: "CSV"))
    var inputList: String?
    @Option(help: ArgumentHelp("Cohort mode: each scan's output name, from the fields {stem} (the input's name without extension), {mouse}, {timepoint}, {annotator}, {index} (default {stem}).", valueName: "PATTERN"))
    var name: String = "{stem}"
    @Option(help: "Cohort mode, one --input: the scan's mouse (recorded in the sidecar and the cohort table).")
    var mouse: String?
    @Option(help: "Cohort mode, one --input: the scan's time point.")
    var timepoint: String?
    @Option(help: "Cohort mode, one --input: the scan's annotator.")
    var annotator: String?
    @Option(name: .customLong("cohort-table"), help: ArgumentHelp("Cohort mode: where to write the cohort table (CSV), or none (default DIR/cohort.csv).", valueName: "FILE|none"))
    var cohortTable: String?
    @Option(name: .customLong("cohort-outputs"), help: ArgumentHelp("Cohort mode: the outputs per scan, from labels, volumes, preview, report, probabilities, uncertainty (default labels,volumes,preview,report).", valueName: "LIST"))
    var cohortOutputs: String?
    @Flag(help: "Cohort mode: segment scans again even when their outputs are complete.")
    var force = false
    @Option(help: ArgumentHelp("Write a provenance sidecar (JSON: aimos version, model and input SHA-256, options, layout, time, each output's SHA-256) for this scan's outputs; cohort mode always writes one.", valueName: "FILE"))
    var provenance: String?
    @Option(help: "Probabilities: one 4D float32 NIfTI, a volume per class.")
    var probabilities: String?
    @Option(help: "Annotator-disagreement heatmap (3D float32 NIfTI; needs a model with an uncertainty channel).")
    var uncertainty: String?
    @Option(help: "Organ table: class, voxels, mm3, mL, intensity mean/SD/median/sum (.csv or .json).")
    var volumes: String?
    @Option(help: "A co-registered signal (PET, SPECT, fluorescence; NIfTI or a DICOM series) on the scan's grid or on its own grid in the same world frame (resampled trilinearly): adds its statistics per organ.")
    var signal: String?
    @Option(name: .customLong("signal-series"), help: ArgumentHelp("The DICOM series of --signal when it holds several.", valueName: "UID"))
    var signalSeries: String?
    @Option(help: "Preview picture (.jpg): mean projection and the richest slice with organ overlays.")
    var preview: String?
    @Option(help: ArgumentHelp("Plausibility report with no reference labels (.json or .txt): each organ found as one main piece, within adult-mouse volume ranges, in head-to-tail order; flagged organs are also printed.", valueName: "FILE"))
    var report: String?
    @Option(name: .customLong("itksnap-labels"), help: "ITK-SNAP label description file (itksnap -g scan -s labels -l FILE).")
    var itkSnapLabels: String?
    @Option(name: .customLong("slicer-colors"), help: "3D Slicer colour table (.ctbl).")
    var slicerColors: String?
    @Option(help: ArgumentHelp("The scan's layout: auto (detected from the image), header (the qform/sform read as RAS = the animal's right, head, back), none (the voxel axes already are the model's: the published behaviour), or a code naming where voxel axes i, j, k run (H/T head/tail, L/R the animal's left/right, D/V dorsal/ventral; e.g. LHD).", valueName: "auto|header|none|CODE"))
    var orientation: String?
    @Option(help: ArgumentHelp("Cut slices from each animal's extent (body) or the whole field of view (none). Default: what the model declares.", valueName: "body|none"))
    var crop: String?
    @Flag(name: .customLong("split-animals"), help: "Also write one label map per animal (OUTPUT_animal1.nii.gz, ...).")
    var splitAnimals = false
    @Option(name: .customLong("voxel-size"), help: ArgumentHelp("Voxel size in mm, one value or x,y,z: replaces the header's for the organ table and confirms an implausible one.", valueName: "X[,Y,Z]"))
    var voxelSize: String?
    @Option(name: .customLong("working-voxel-size"), help: ArgumentHelp("TIFF stacks: the voxel size (mm, one value or x,y,z) of the grid the stack is averaged down to and segmented on, in whole blocks of its voxels. Default: the model's training voxel size (0.1 mm if it records none).", valueName: "X[,Y,Z]"))
    var workingVoxelSize: String?
    @Option(name: .customLong("full-resolution-labels"), help: ArgumentHelp("TIFF stacks: also write the label map at the stack's resolution, as uint8 TIFF planes labels_00000.tif, ... in this new folder (nearest upsampling, plane by plane).", valueName: "DIR"))
    var fullResolutionLabels: String?
    @Option(name: .customLong("slice-axis"), help: "Volume axis to cut into slices (0, 1, 2), with --orientation none (implied). Default: the model's (2, coronal).")
    var sliceAxis: Int?
    @Option(help: "Worker threads (0: all cores).")
    var threads: Int = 0
    @Flag(help: "Replace existing output files.")
    var overwrite = false
    @Flag(help: "No progress bar and no volume table on the terminal.")
    var quiet = false

    func validate() throws {
        try validateMode()
        if let o = orientation, (try? OrientationChoice.parse(o)) == nil {
            throw ValidationError("--orientation must be auto, header, none or a code of three letters (one each of H/T, L/R, D/V), such as LHD; got '\(o)'")
        }
        if let c = crop, !["body", "none"].contains(c.lowercased()) { throw ValidationError("--crop must be body or none") }
        if let v = voxelSize, parsedVoxelSize(v) == nil {
            throw ValidationError("--voxel-size must be one size or three (x,y,z) in mm, each > 0; got '\(v)'")
        }
        if let v = workingVoxelSize, parsedVoxelSize(v) == nil {
            throw ValidationError("--working-voxel-size must be one size or three (x,y,z) in mm, each > 0; got '\(v)'")
        }
        // The engine's own check of the slice axis, orientation and threads, with the flags' names.
        do { try SegmentationOptions(sliceAxis: sliceAxis, threads: threads, orientation: orientationChoice()).validate() } catch let e as AimosError {
            throw ValidationError("--slice-axis/--orientation/--threads: \(e.message)")
        }
    }

    /// The layout mode the flags ask for: --orientation, else none with --slice-axis, else auto.
    func orientationChoice() throws -> OrientationChoice {
        try orientation.map(OrientationChoice.parse) ?? (sliceAxis != nil ? .none : .auto)
    }

    func run() throws {
        if outputDir != nil { return try runCohort() }
        let (modelPath, loaded) = try DefaultModel.load(model)
        let input = self.input[0], output = self.output!
        var job = try sharedJob(input: input, output: output)
        if let path = provenance {
            job.provenancePath = path
            job.provenance = try provenanceRequest(scan: CohortScan(path: input, mouse: mouse, timepoint: timepoint, annotator: annotator, index: 1),
                                                   name: CohortScan(path: input, index: 1).stem, modelPath: modelPath)
        }
        let bar = ProgressBar(quiet: quiet)
        job.options.progress = bar.update
        let planes = ProgressBar(quiet: quiet, unit: "planes")
        job.planeProgress = { planes.update(done: Int64($0), total: Int64($1)) }
        let outcome = try job.run(model: loaded)
        for warning in outcome.warnings { fputs("aimos: warning: \(warning)\n", stderr) }
        if !quiet {
            print("aimos \(AimosInfo.version): \(input) -> \(output) (\(loaded.metadata.values.architecture.name), slice axis \(outcome.axis))")
            printLayouts(outcome)
            print(outcome.statistics?.text() ?? "", terminator: "")
            if let report = outcome.report { print(report.summary()) }
        }
    }

    /// The job with every setting but the scan's own outputs (shared by single and cohort mode).
    func sharedJob(input: String, output: String) throws -> SegmentationJob {
        var job = SegmentationJob(inputPath: input, outputPath: output)
        job.probabilitiesPath = probabilities
        job.uncertaintyPath = uncertainty
        job.volumesPath = volumes
        job.previewPath = preview
        job.itkSnapPath = itkSnapLabels
        job.slicerPath = slicerColors
        job.signalPath = signal
        job.series = series
        job.signalSeries = signalSeries
        job.reportPath = report
        job.splitAnimals = splitAnimals
        job.voxelSize = voxelSize.flatMap(parsedVoxelSize)
        job.workingVoxelSize = workingVoxelSize.flatMap(parsedVoxelSize)
        job.fullResolutionLabelsPath = fullResolutionLabels.map(SegmentationJob.folderPath)
        job.overwrite = overwrite
        job.computeStatistics = !quiet
        job.options = SegmentationOptions(sliceAxis: sliceAxis, threads: threads, orientation: try orientationChoice(),
                                          crop: try crop.map(CropChoice.parse) ?? .model)
        return job
    }

    func printLayouts(_ outcome: SegmentationJob.Outcome, indent: String = "") {
        for (k, layout) in outcome.layouts.enumerated() {
            let who = outcome.layouts.count > 1 ? "animal \(k + 1): " : ""
            let code = layout.orientation.map { "orientation \($0)" } ?? "orientation none"
            let confidence = layout.confidence.map { " (detected, confidence \(Int(($0 * 100).rounded())) %)" } ?? ""
            print("\(indent)\(who)\(code)\(confidence), crop \(layout.box)")
        }
    }
}

/// "0.1" or "0.1,0.1,0.2" as three sizes in mm; nil when malformed.
func parsedVoxelSize(_ text: String) -> [Double]? {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Double(String($0.filter { $0 != " " })) }
    guard parts.count == 1 || parts.count == 3, parts.allSatisfy({ $0 != nil && $0!.isFinite && $0! > 0 }) else { return nil }
    let sizes = parts.map { $0! }
    return sizes.count == 1 ? [sizes[0], sizes[0], sizes[0]] : sizes
}
