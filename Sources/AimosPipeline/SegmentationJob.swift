import AimosCore

/// Where a job failed: the model, the input files, the outputs, or the engine itself. The
/// `aimos` command turns the stage into its exit code.
package struct JobError: Error, CustomStringConvertible {
    package enum Stage { case model, input, output, engine }
    package let stage: Stage
    package let error: AimosError
    package var description: String { error.message }

    package init(stage: Stage, error: AimosError) {
        self.stage = stage
        self.error = error
    }

    /// Runs `body`, labelling an engine error with the stage it happened in.
    package static func at<T>(_ stage: Stage, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as AimosError { throw JobError(stage: stage, error: e) }
    }
}

/// One run from a scan (NIfTI, or a DICOM series) to every requested output: label map, probabilities,
/// uncertainty, organ table (CSV or JSON), preview JPEG, ITK-SNAP and Slicer label files.
/// All outputs are checked before the work starts and written atomically together.
package struct SegmentationJob {
    package var inputPath: String
    package var outputPath: String
    package var probabilitiesPath: String?
    package var uncertaintyPath: String?
    package var volumesPath: String?
    package var previewPath: String?
    package var itkSnapPath: String?
    package var slicerPath: String?
    package var signalPath: String?
    /// The Series Instance UID to read when the input (or the signal) is a folder of several
    /// DICOM series.
    package var series: String?
    package var signalSeries: String?
    /// The plausibility report (PlausibilityReport), .json or .txt.
    package var reportPath: String?
    /// Also write one label map per animal (`labels_animal1.nii.gz`, ...).
    package var splitAnimals = false
    /// The voxel size in mm to use instead of the header's (x, y, z); also confirms an
    /// implausible one.
    package var voxelSize: [Double]?
    package var overwrite = false
    /// A TIFF stack's working voxel size (mm, x, y, z); default the model's training voxel size.
    package var workingVoxelSize: [Double]?
    /// A TIFF stack's label map also at full resolution: a folder of uint8 TIFF planes.
    package var fullResolutionLabelsPath: String?
    /// Progress of reading (and writing) a TIFF stack's planes: (planes done, planes).
    package var planeProgress: ((Int, Int) -> Bool)?
    /// The provenance sidecar to write last, in the same commit (Provenance), and what it records.
    package var provenancePath: String?
    package var provenance: Provenance.Request?
    /// Compute the organ table even without --volumes (the command prints it).
    package var computeStatistics = false
    package var options = SegmentationOptions()

    package struct Outcome {
        /// The organ table, when asked for (volumesPath or computeStatistics).
        package let statistics: OrganStatistics?
        package let axis: Int
        /// How each animal was laid out, and what the user should know (low confidence, units).
        package let layouts: [AnimalLayout]
        package let warnings: [String]
        /// The plausibility report, when asked for (reportPath).
        package let report: PlausibilityReport?
    }

    /// The label map of animal k (1-based) when splitting: `labels.nii.gz` -> `labels_animal1.nii.gz`.
    package static func animalPath(_ path: String, animal: Int) -> String {
        for suffix in [".nii.gz", ".nii"] where path.hasSuffix(suffix) {
            return String(path.dropLast(suffix.count)) + "_animal\(animal)" + suffix
        }
        return path + "_animal\(animal)"
    }

    package init(inputPath: String, outputPath: String) {
        self.inputPath = inputPath
        self.outputPath = outputPath
    }

    /// A folder output's path without trailing slashes (labels_full/ is labels_full).
    package static func folderPath(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }

    var outputPaths: [String] {
        [outputPath, probabilitiesPath, uncertaintyPath, volumesPath, previewPath, itkSnapPath, slicerPath, reportPath,
         fullResolutionLabelsPath, provenancePath].compactMap { $0 }
    }

    /// The outputs by kind, as the provenance sidecar names them (the per-animal label maps are
    /// labels_animal1, ...).
    var outputKinds: [(kind: String, path: String)] {
        let all: [(String, String?)] = [("labels", outputPath), ("probabilities", probabilitiesPath), ("uncertainty", uncertaintyPath),
                                        ("volumes", volumesPath), ("preview", previewPath), ("report", reportPath),
                                        ("itksnap_labels", itkSnapPath), ("slicer_colors", slicerPath),
                                        ("full_resolution_labels", fullResolutionLabelsPath)]
        return all.compactMap { kind, path in path.map { (kind, $0) } }
    }

    /// The organ table's description of the signal: its path, DICOM attributes, source grid.
    func signalSource(_ signal: SignalOnScanGrid) -> OrganStatistics.SignalSource {
        var source = OrganStatistics.SignalSource(name: signalPath ?? "signal")
        if let dicom = signal.dicom {
            source.modality = dicom.modality
            source.units = dicom.units
            source.decayCorrection = dicom.decayCorrection
        }
        if signal.resampled {
            source.resampledFrom = signal.sourceDims.map(String.init).joined(separator: " x ") + " voxels of "
                + signal.sourceSpacing.map { fixed($0, 4) }.joined(separator: " x ") + " mm"
        }
        return source
    }

    package func run(model: AimosModel) throws -> Outcome {
        let started = MonotonicClock.seconds
        // The input as it was when reading began: the sidecar must describe what was segmented.
        let stamp = provenance == nil ? nil : try JobError.at(.input) { try Provenance.InputStamp(path: inputPath) }
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
            if let r = reportPath, !(r.hasSuffix(".json") || r.hasSuffix(".txt")) {
                throw AimosError(.invalidArgument, "'\(r)': the plausibility report is written as .json or .txt")
            }
            if let p = previewPath, !(p.hasSuffix(".jpg") || p.hasSuffix(".jpeg")) {
                throw AimosError(.invalidArgument, "'\(p)': the preview is written as .jpg")
            }
            try [outputPath, probabilitiesPath, uncertaintyPath].compactMap({ $0 }).forEach(NiftiOutputWriter.checkPath)
            if let folder = fullResolutionLabelsPath { try FullResolutionLabels.checkReplaceable(folder, overwrite: overwrite, inputs: inputs) }
            try paths.forEach(outputs.check)
        }
        if uncertaintyPath != nil && !model.hasUncertainty {
            throw JobError(stage: .model, error: AimosError(.unsupported, "the model has no uncertainty channel; --uncertainty needs a model trained with one"))
        }
        var reading = StackReading(voxelSize: voxelSize,
                                   workingVoxelSize: workingVoxelSize ?? [Double](repeating: model.metadata.values.voxelSizeMM ?? WorkingGrid.fallbackVoxelSizeMM, count: 3))
        reading.progress = planeProgress
        let scan = try JobError.at(.input) { try ScanImage.open(path: inputPath, series: series, stack: reading) }
        if fullResolutionLabelsPath != nil && scan.stack == nil {
            throw JobError(stage: .input, error: AimosError(.invalidArgument, "--full-resolution-labels is for TIFF stacks, which aimos segments on a coarser working grid; '\(inputPath)' is segmented at its own resolution"))
        }
        // A stack's --voxel-size is its own voxels' size, already scaled onto the working grid.
        let voxelSize = scan.stack == nil ? self.voxelSize : nil
        let spacing = voxelSize ?? scan.spacing
        var warnings: [String] = []
        if let v = voxelSize {
            guard v.count == 3, v.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw JobError(stage: .input, error: AimosError(.invalidArgument, "--voxel-size needs one or three sizes in mm, each > 0"))
            }
        }
        let signal = try JobError.at(.input) { () -> SignalOnScanGrid? in
            guard let path = signalPath else { return nil }
            var signalReading = reading
            signalReading.progress = nil
            return try SignalOnScanGrid(signal: ScanImage.open(path: path, series: signalSeries, stack: signalReading), scan: scan, signalPath: path)
        }
        var settings = options
        settings.keepProbabilities = options.keepProbabilities || probabilitiesPath != nil
        settings.worldMatrix = options.worldMatrix ?? scan.worldMatrix()
        let wantsTable = volumesPath != nil || computeStatistics
        // The organ table is only as right as the voxel size: check it before any work.
        var unitsDoubtful = false
        if (wantsTable || reportPath != nil) && self.voxelSize == nil {
            let body = try JobError.at(.input) { try scan.withVolume { try BodyFinder.find($0) } }
            settings.body = body   // the same volume and voxel size: the engine need not search again
            if let factor = body.suggestedVoxelSizeFactor {
                let message = "'\(inputPath)': the animal is \(fixed(body.bodyLengthMM, 1)) mm long in the header's voxel size \(spacing.map { String($0) }.joined(separator: ",")) mm, implausible for a mouse (15-150 mm); the voxel size looks \(factor) times too \(factor < 1 ? "large" : "small") (micrometres stored as millimetres?). Confirm the voxel size with --voxel-size X[,Y,Z] (mm)"
                if volumesPath != nil { throw JobError(stage: .input, error: AimosError(.invalidArgument, message)) }
                warnings.append(message + (wantsTable ? "; no organ table printed" : "; volumes not checked"))
                unitsDoubtful = true
            }
        }
        let result: SegmentationResult = try JobError.at(.engine) {
            do {
                return try scan.withVolume(spacing: voxelSize) { try model.segment($0, options: settings) }
            } catch let e as AimosError where e.kind == .invalidArgument {
                throw JobError(stage: .input, error: e)
            }
        }
        for (k, layout) in result.layouts.enumerated() {
            guard let confidence = layout.confidence else { continue }
            let who = result.layouts.count > 1 ? "animal \(k + 1): " : ""
            if confidence < AnimalLayout.lowConfidence {
                warnings.append("\(who)orientation \(layout.orientation!) detected with low confidence \(fixed(confidence, 2)); if the organs look wrong, give the scan's layout with --orientation CODE (or header)")
            }
        }
        let classes = model.classes
        let architecture = model.metadata.values.architecture.name
        let statistics = !wantsTable || unitsDoubtful ? nil
            : OrganStatistics(labels: result.labels, voxelCount: result.voxelCount, classes: classes,
                              spacing: spacing, intensity: scan.intensity(at:),
                              signal: signal.map { s in { s.value(at: $0) } }, signalSource: signal.map { signalSource($0) },
                              animals: result.animalCount, animalOf: result.animal(ofVoxel:))
        if let s = signal, let table = statistics, table.signalVoxelTotal == 0 {
            throw JobError(stage: .input, error: AimosError(.invalidArgument, "'\(signalPath ?? "")' does not overlap the scan: no scan voxel lies within the signal's field of view (\(s.sourceDims.map(String.init).joined(separator: " x ")) voxels). Are they from one study (one frame of reference)?"))
        }
        let report = reportPath == nil ? nil : PlausibilityReport(
            labels: result.labels, dims: result.dims, spacing: spacing, classes: classes, animals: result.animalCount,
            animalOf: result.animalCount > 1 ? result.animal(ofVoxel:) : nil,
            headward: result.layouts.map { $0.orientation?.axis(onLine: 0) }, checkVolumes: !unitsDoubtful)
        let layoutNote = LayoutDescription(result: result)
        try JobError.at(.output) {
            try NiftiOutputWriter.writeLabels(result.labels, like: scan, to: outputs.temporaryPath(for: outputPath),
                                              classes: classes, architecture: architecture, layout: layoutNote)
            if splitAnimals {
                for k in 0..<result.animalCount {
                    let arena = BufferArena()
                    let own = try arena.allocate(UInt8.self, count: result.voxelCount, zeroed: true, what: "animal \(k + 1)'s label map")
                    for i in 0..<result.voxelCount where result.labels[i] != 0 && result.animal(ofVoxel: i) == k { own[i] = result.labels[i] }
                    let path = SegmentationJob.animalPath(outputPath, animal: k + 1)
                    try outputs.check(path)
                    try NiftiOutputWriter.writeLabels(own, like: scan, to: outputs.temporaryPath(for: path),
                                                      classes: classes, architecture: architecture, layout: layoutNote.animal(k))
                }
            }
            if let path = fullResolutionLabelsPath, let stack = scan.stack {
                try FullResolutionLabels.write(result.labels, grid: stack.grid, classes: classes,
                                               to: outputs.temporaryDirectory(for: path), progress: planeProgress)
            }
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
                // Oriented by the first animal's layout (animals on one bed lie alike).
                let picture = PreviewRenderer.render(scan: scan, labels: result.labels, classes: classes, axis: result.sliceAxis,
                                                     layout: result.layouts.first?.orientation,
                                                     volumesML: (0..<classes.count).map { result.volumeMM3(classIndex: $0) / 1000 })
                try picture.writeJPEG(to: outputs.temporaryPath(for: path))
            }
            if let path = reportPath, let report = report {
                try outputs.writeText(path.hasSuffix(".json") ? report.json() : report.summary() + "\n", to: path)
            }
            if let path = itkSnapPath { try outputs.writeText(LabelDescriptionFiles.itkSnap(classes: classes), to: path) }
            if let path = slicerPath {
                let name = String(path.split(separator: "/").last ?? "")
                try outputs.writeText(LabelDescriptionFiles.slicerColorTable(classes: classes, fileName: name), to: path)
            }
            if let path = provenancePath, let request = provenance, let stamp = stamp {
                try writeProvenance(request, to: path, outputs: outputs, layout: layoutNote.json,
                                    animals: splitAnimals ? result.animalCount : 0, started: started, stamp: stamp)
            }
            try outputs.commit()
        }
        return Outcome(statistics: statistics, axis: result.sliceAxis, layouts: result.layouts, warnings: warnings,
                       report: report)
    }
}

extension SegmentationJob {
    /// The sidecar, written after every other output (it checksums their temporary files) and
    /// so committed last.
    func writeProvenance(_ request: Provenance.Request, to path: String, outputs: AtomicOutputs, layout: JSONValue,
                         animals: Int, started: Double, stamp: Provenance.InputStamp) throws {
        let temporary = Dictionary(outputs.pendingFiles.map { ($0.final, $0.temporary) }, uniquingKeysWith: { a, _ in a })
        var kinds = outputKinds
        for k in 0..<animals { kinds.append(("labels_animal\(k + 1)", SegmentationJob.animalPath(outputPath, animal: k + 1))) }
        let files = kinds.compactMap { kind, final in temporary[final].map { (kind: kind, final: final, temporary: $0) } }
        let input = try SHA256.of(path: inputPath)
        guard try Provenance.InputStamp(path: inputPath) == stamp else {
            throw AimosError(.io, "'\(inputPath)' changed while it was segmented; no output written")
        }
        let text = try Provenance.json(request: request, sidecarPath: path, inputPath: inputPath, input: input,
                                       stamp: stamp, layout: layout,
                                       seconds: MonotonicClock.seconds - started, outputs: files)
        try outputs.writeText(text, to: path)
    }
}
