import AimosCore

#if canImport(Glibc)
import Glibc
#endif

/// A cohort run: many scans through one loaded model into one output folder. Per scan NAME the
/// outputs are NAME_labels.nii.gz, NAME_volumes.csv, NAME_preview.jpg, NAME_report.json (and
/// NAME_probabilities.nii.gz, NAME_uncertainty.nii.gz when asked), written atomically with the
/// provenance sidecar NAME_provenance.json last. A scan whose sidecar says its outputs are
/// complete for this input, model and options is skipped (resume) unless forced; a scan that
/// fails is reported and the others go on; Ctrl-C or a model error stops the run.
package struct CohortRun {
    /// The per-scan outputs a cohort run can write (labels always).
    package enum Output: String, CaseIterable {
        case labels, volumes, preview, report, probabilities, uncertainty

        var suffix: String {
            switch self {
            case .labels: return "_labels.nii.gz"
            case .volumes: return "_volumes.csv"
            case .preview: return "_preview.jpg"
            case .report: return "_report.json"
            case .probabilities: return "_probabilities.nii.gz"
            case .uncertainty: return "_uncertainty.nii.gz"
            }
        }

        package static let standard: [Output] = [.labels, .volumes, .preview, .report]
    }

    package enum Status {
        case segmented(SegmentationJob.Outcome)
        /// Skipped: its outputs were complete already.
        case skipped
        case failed(JobError)
    }

    package struct ScanOutcome {
        package let scan: CohortScan
        package let name: String
        package let status: Status
    }

    package var scans: [CohortScan]
    package var names: [String]
    package var directory: String
    package var outputs: [Output] = Output.standard
    package var force = false
    /// The settings every scan's job shares (options, voxel size, series, split animals).
    package var template: SegmentationJob
    package var modelPath: String
    package var modelSHA256: String
    /// Every option of the run, as the sidecars record it (resume compares them).
    package var options: JSONValue

    package init(scans: [CohortScan], names: [String], directory: String, template: SegmentationJob,
                 modelPath: String, modelSHA256: String, options: JSONValue) {
        self.scans = scans
        self.names = names
        self.directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.template = template
        self.modelPath = modelPath
        self.modelSHA256 = modelSHA256
        self.options = options
    }

    /// The output folder, made when missing (its parent must exist), as workflow engines do.
    package static func makeDirectory(_ directory: String) throws {
        if access(directory, F_OK) != 0 { mkdir(directory, 0o755) }
        guard FolderListing.isDirectory(directory) else {
            throw JobError(stage: .output, error: AimosError(.io, "--output-dir '\(directory)' is not a folder and cannot be made (does its parent exist?)"))
        }
    }

    /// The output folder's path of scan `name`'s output.
    package func path(_ output: Output, name: String) -> String { "\(directory)/\(name)\(output.suffix)" }

    /// Runs every scan in order: `starting` gives the progress callback of scan k (0-based)
    /// before its work, `report` hears of each scan as it ends.
    package func run(model: AimosModel, starting: (Int, String) -> ((Int64, Int64) -> Bool)? = { _, _ in nil },
                     report: (ScanOutcome) -> Void) throws -> [ScanOutcome] {
        try CohortRun.makeDirectory(directory)
        if outputs.contains(.uncertainty) && !model.hasUncertainty {
            throw JobError(stage: .model, error: AimosError(.unsupported, "the model has no uncertainty channel; the uncertainty output needs a model trained with one"))
        }
        // No scan's output may be any scan's input (a cohort folder that holds both).
        let inputs = Set(scans.map { Provenance.absolutePath($0.path) })
        for name in names {
            for path in outputs.map({ self.path($0, name: name) }) + [Provenance.sidecarPath(directory: directory, name: name)]
            where inputs.contains(Provenance.absolutePath(path)) {
                throw JobError(stage: .input, error: AimosError(.invalidArgument, "'\(path)' is both a scan of the cohort and an output aimos would write; give another --output-dir or --name"))
            }
        }
        var outcomes: [ScanOutcome] = []
        for (k, (scan, name)) in zip(scans, names).enumerated() {
            var request = Provenance.Request(name: name, scan: scan, modelPath: modelPath, modelSHA256: modelSHA256, options: options)
            request.threads = template.options.threads
            let sidecar = Provenance.sidecarPath(directory: directory, name: name)
            if !force, Provenance.incompleteness(sidecar: sidecar, request: request, inputPath: scan.path,
                                                 kinds: outputs.map(\.rawValue)) == nil {
                outcomes.append(ScanOutcome(scan: scan, name: name, status: .skipped))
                report(outcomes.last!)
                continue
            }
            // An outdated run's outputs, which its sidecar names, are aimos's own: removed before
            // the scan is redone, so that a failed redo leaves nothing stale behind. Files no
            // sidecar names are not replaced without --force.
            for old in Provenance.recordedOutputs(sidecar: sidecar) + [sidecar]
            where AtomicOutputs.directory(of: old) == directory || AtomicOutputs.directory(of: Provenance.absolutePath(old)) == Provenance.absolutePath(directory) {
                unlink(old)
            }
            if !force, let existing = (outputs.map { path($0, name: name) }).first(where: { access($0, F_OK) == 0 }) {
                let error = AimosError(.io, "'\(existing)' exists and no provenance sidecar says aimos wrote it; use --force to replace it")
                outcomes.append(ScanOutcome(scan: scan, name: name, status: .failed(JobError(stage: .output, error: error))))
                report(outcomes.last!)
                continue
            }
            var job = template
            job.options.progress = starting(k, name) ?? template.options.progress
            job.inputPath = scan.path
            job.outputPath = path(.labels, name: name)
            job.volumesPath = outputs.contains(.volumes) ? path(.volumes, name: name) : nil
            job.previewPath = outputs.contains(.preview) ? path(.preview, name: name) : nil
            job.reportPath = outputs.contains(.report) ? path(.report, name: name) : nil
            job.probabilitiesPath = outputs.contains(.probabilities) ? path(.probabilities, name: name) : nil
            job.uncertaintyPath = outputs.contains(.uncertainty) ? path(.uncertainty, name: name) : nil
            job.provenancePath = sidecar
            job.provenance = request
            job.overwrite = force
            let status: Status
            do {
                status = .segmented(try job.run(model: model))
            } catch let e as JobError {
                if e.error.kind == .cancelled || e.stage == .model { throw e }
                status = .failed(e)
            } catch let e as AimosError {
                if e.kind == .cancelled { throw e }
                status = .failed(JobError(stage: .engine, error: e))
            }
            outcomes.append(ScanOutcome(scan: scan, name: name, status: status))
            report(outcomes.last!)
        }
        return outcomes
    }

    /// The cohort table of the scans that have complete outputs (segmented now or before).
    package func cohortTable(_ outcomes: [ScanOutcome]) throws -> String {
        let done = outcomes.filter { if case .failed = $0.status { return false } else { return true } }
        return try CohortTable.csv(sidecars: done.map { Provenance.sidecarPath(directory: directory, name: $0.name) })
    }
}
