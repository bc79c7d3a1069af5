import AimosCore

/// Where a job failed: the model, the input files, the outputs, or the engine itself. The
/// `aimos` command turns the stage into its exit code.
public struct JobError: Error, CustomStringConvertible {
    public enum Stage { case model, input, output, engine }
    public let stage: Stage
    public let error: AimosError
    public var description: String { error.message }

    public init(stage: Stage, error: AimosError) {
        self.stage = stage
        self.error = error
    }

    /// Runs `body`, labelling an engine error with the stage it happened in.
    public static func at<T>(_ stage: Stage, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as AimosError { throw JobError(stage: stage, error: e) }
    }
}

/// One run from a NIfTI scan to every requested output: label map, probabilities,
/// uncertainty, organ table (CSV or JSON), preview JPEG, ITK-SNAP and Slicer label files.
/// All outputs are checked before the work starts and written atomically together.
public struct SegmentationJob {
    public var inputPath: String
    public var outputPath: String
    public var probabilitiesPath: String?
    public var uncertaintyPath: String?
    public var volumesPath: String?
    public var previewPath: String?
    public var itkSnapPath: String?
    public var slicerPath: String?
    public var signalPath: String?
    public var overwrite = false
    /// Compute the organ table even without --volumes (the command prints it).
    public var computeStatistics = false
    public var options = SegmentationOptions()

    public struct Outcome {
        /// The organ table, when asked for (volumesPath or computeStatistics).
        public let statistics: OrganStatistics?
        public let axis: Int
    }

    public init(inputPath: String, outputPath: String) {
        self.inputPath = inputPath
        self.outputPath = outputPath
    }

    var outputPaths: [String] {
        [outputPath, probabilitiesPath, uncertaintyPath, volumesPath, previewPath, itkSnapPath, slicerPath].compactMap { $0 }
    }

    public func run(model: AimosModel) throws -> Outcome {
        let outputs = AtomicOutputs(overwrite: overwrite)
        defer { outputs.discard() }
        let paths = outputPaths
        try JobError.at(.output) {
            guard Set(paths).count == paths.count else { throw AimosError(.invalidArgument, "two outputs name the same file") }
            let inputs = [inputPath, signalPath].compactMap { $0 }
            if paths.contains(where: { p in inputs.contains { $0 == p || AtomicOutputs.sameFile($0, p) } }) {
                throw AimosError(.invalidArgument, "an output names an input file; refusing to overwrite the scan")
            }
            if let v = volumesPath, !(v.hasSuffix(".csv") || v.hasSuffix(".json")) {
                throw AimosError(.invalidArgument, "'\(v)': the organ table is written as .csv or .json")
            }
            if let p = previewPath, !(p.hasSuffix(".jpg") || p.hasSuffix(".jpeg")) {
                throw AimosError(.invalidArgument, "'\(p)': the preview is written as .jpg")
            }
            try [outputPath, probabilitiesPath, uncertaintyPath].compactMap({ $0 }).forEach(NiftiOutputWriter.checkPath)
            try paths.forEach(outputs.check)
        }
        if uncertaintyPath != nil && !model.hasUncertainty {
            throw JobError(stage: .model, error: AimosError(.unsupported, "the model has no uncertainty channel; --uncertainty needs a model trained with one"))
        }
        let scan = try JobError.at(.input) { try NiftiScan(path: inputPath) }
        let signal = try JobError.at(.input) { () -> NiftiScan? in
            guard let path = signalPath else { return nil }
            let s = try NiftiScan(path: path)
            guard s.dims == scan.dims else {
                throw AimosError(.invalidArgument, "'\(path)' has dims \(s.dims) but the scan has \(scan.dims); the signal must be on the scan's grid")
            }
            return s
        }
        var settings = options
        settings.keepProbabilities = options.keepProbabilities || probabilitiesPath != nil
        let result: SegmentationResult = try JobError.at(.engine) {
            do {
                return try scan.withVolume { try model.segment($0, options: settings) }
            } catch let e as AimosError where e.kind == .invalidArgument {
                throw JobError(stage: .input, error: e)
            }
        }
        let classes = model.classes
        let architecture = model.metadata.values.architecture.name
        let statistics = volumesPath == nil && !computeStatistics ? nil
            : OrganStatistics(labels: result.labels, voxelCount: result.voxelCount, classes: classes,
                              spacing: scan.spacing, intensity: scan.intensity(at:),
                              signal: signal.map { s in { s.intensity(at: $0) } }, signalName: signalPath)
        try JobError.at(.output) {
            try NiftiOutputWriter.writeLabels(result.labels, like: scan, to: outputs.temporaryPath(for: outputPath),
                                              classes: classes, architecture: architecture)
            if let path = probabilitiesPath {
                try NiftiOutputWriter.writeProbabilities(result.probabilities, like: scan, to: outputs.temporaryPath(for: path), classes: classes)
            }
            if let path = uncertaintyPath, let map = result.uncertainty {
                try NiftiOutputWriter.writeUncertainty(map, like: scan, to: outputs.temporaryPath(for: path))
            }
            if let path = volumesPath, let statistics = statistics {
                try outputs.writeText(statistics.text(forFile: path, scan: inputPath, model: architecture), to: path)
            }
            if let path = previewPath {
                let picture = PreviewRenderer.render(scan: scan, labels: result.labels, classes: classes, axis: result.sliceAxis,
                                                     volumesML: (0..<classes.count).map { result.volumeMM3(classIndex: $0) / 1000 })
                try picture.writeJPEG(to: outputs.temporaryPath(for: path))
            }
            if let path = itkSnapPath { try outputs.writeText(LabelDescriptionFiles.itkSnap(classes: classes), to: path) }
            if let path = slicerPath {
                let name = String(path.split(separator: "/").last ?? "")
                try outputs.writeText(LabelDescriptionFiles.slicerColorTable(classes: classes, fileName: name), to: path)
            }
            try outputs.commit()
        }
        return Outcome(statistics: statistics, axis: result.sliceAxis)
    }
}
