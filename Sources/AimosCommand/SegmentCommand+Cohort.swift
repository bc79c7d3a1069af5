import AimosCore
import AimosPipeline
import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// `aimos segment`'s cohort mode (--output-dir): many scans, one model load, resume, the cohort
/// table; and the provenance sidecars both modes write.
extension SegmentCommand {
    /// The flags of one mode and not the other are refused before any work.
    func validateMode() throws {
        let perScanOutputs: [(String, String?)] = [("--output", output), ("--volumes", volumes), ("--preview", preview),
                                                   ("--report", report), ("--probabilities", probabilities),
                                                   ("--uncertainty", uncertainty), ("--itksnap-labels", itkSnapLabels),
                                                   ("--slicer-colors", slicerColors), ("--signal", signal), ("--provenance", provenance),
                                                   ("--full-resolution-labels", fullResolutionLabels)]
        guard outputDir != nil else {
            guard inputList == nil else { throw ValidationError("--input-list needs --output-dir (cohort mode)") }
            guard input.count == 1 else {
                throw ValidationError(input.isEmpty ? "give the scan with --input" : "several --input scans need --output-dir (cohort mode)")
            }
            guard output != nil else { throw ValidationError("give the label map to write with --output (or a folder with --output-dir)") }
            for (flag, value) in [("--cohort-table", cohortTable), ("--cohort-outputs", cohortOutputs)] where value != nil {
                throw ValidationError("\(flag) needs --output-dir (cohort mode)")
            }
            if force { throw ValidationError("--force needs --output-dir (cohort mode); a single scan replaces its outputs with --overwrite") }
            if name != "{stem}" { throw ValidationError("--name needs --output-dir (cohort mode)") }
            return
        }
        if let (flag, _) = perScanOutputs.first(where: { $0.1 != nil }) {
            throw ValidationError("\(flag) names one scan's output; in cohort mode (--output-dir) the outputs are named by --name and chosen by --cohort-outputs")
        }
        guard input.isEmpty != (inputList == nil) else {
            throw ValidationError("cohort mode takes its scans from --input (one or more) or from --input-list, not both")
        }
        if (mouse ?? timepoint ?? annotator) != nil, input.count != 1 {
            throw ValidationError("--mouse, --timepoint and --annotator describe one scan; for several, give them as columns of --input-list")
        }
        if splitAnimals { throw ValidationError("--split-animals is not available in cohort mode") }
        _ = try cohortOutputList()
    }

    func cohortOutputList() throws -> [CohortRun.Output] {
        guard let list = cohortOutputs else { return CohortRun.Output.standard }
        var outputs: [CohortRun.Output] = [.labels]
        for item in list.split(separator: ",").map({ String($0.filter { $0 != " " }) }) {
            guard let output = CohortRun.Output(rawValue: item) else {
                throw ValidationError("--cohort-outputs: '\(item)' is not one of \(CohortRun.Output.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !outputs.contains(output) { outputs.append(output) }
        }
        return outputs
    }

    /// Every option that shapes the outputs, as the sidecars record it (resume compares them).
    func recordedOptions(outputs: [CohortRun.Output]) -> JSONValue {
        let text: (String?) -> JSONValue = { $0.map { .string($0) } ?? .null }
        return .object([
            ("model", text(model ?? "ct")),
            ("orientation", text(orientation)), ("crop", text(crop)),
            ("slice_axis", sliceAxis.map { .int($0) } ?? .null),
            ("voxel_size", voxelSize.flatMap(parsedVoxelSize).map { .array($0.map { .real($0) }) } ?? .null),
            ("series", text(series)), ("signal", text(signal)), ("signal_series", text(signalSeries)),
            ("split_animals", .bool(splitAnimals)),
            ("working_voxel_size", workingVoxelSize.flatMap(parsedVoxelSize).map { .array($0.map { .real($0) }) } ?? .null),
            ("full_resolution_labels", text(fullResolutionLabels)),
            ("outputs", .array(outputs.map { .string($0.rawValue) })),
        ])
    }

    func provenanceRequest(scan: CohortScan, name: String, modelPath: String, outputs: [CohortRun.Output] = []) throws -> Provenance.Request {
        let modelHash = try JobError.at(.model) { try SHA256.of(path: modelPath).hex }
        var request = Provenance.Request(name: name, scan: scan, modelPath: modelPath, modelSHA256: modelHash,
                                         options: recordedOptions(outputs: outputs))
        request.threads = threads
        return request
    }

    func runCohort() throws {
        let directory = outputDir!
        var scans = try JobError.at(.input) {
            try inputList.map { try CohortInputs.scans(listPath: $0) } ?? CohortInputs.scans(inputs: input)
        }
        if (mouse ?? timepoint ?? annotator) != nil {
            guard scans.count == 1 else {
                throw JobError(stage: .input, error: AimosError(.invalidArgument, "'\(input[0])' holds \(scans.count) scans; --mouse, --timepoint and --annotator describe one: give them as columns of --input-list"))
            }
            scans[0].mouse = mouse ?? scans[0].mouse
            scans[0].timepoint = timepoint ?? scans[0].timepoint
            scans[0].annotator = annotator ?? scans[0].annotator
        }
        let names = try JobError.at(.input) { try CohortInputs.names(scans, pattern: name) }
        let outputs = try cohortOutputList()
        // The default table needs the organ tables; one asked for by name without them is an error.
        let tablePath = cohortTable == "none" || (cohortTable == nil && !outputs.contains(.volumes)) ? nil
            : cohortTable ?? "\(directory)/cohort.csv"
        try CohortRun.makeDirectory(directory)
        if let path = tablePath {
            try JobError.at(.output) {
                guard path.hasSuffix(".csv") else { throw AimosError(.invalidArgument, "--cohort-table '\(path)': the cohort table is written as .csv") }
                guard outputs.contains(.volumes) else {
                    throw AimosError(.invalidArgument, "the cohort table is made of the scans' organ tables: add volumes to --cohort-outputs, or give --cohort-table none")
                }
                let given = ([inputList].compactMap { $0 } + scans.map(\.path)).filter { AtomicOutputs.sameFile($0, path) }
                if let clash = given.first {
                    throw AimosError(.invalidArgument, "--cohort-table '\(path)' is '\(clash)', an input; give the table another name")
                }
                try AtomicOutputs(overwrite: true).check(path)
            }
        }
        let (modelPath, loaded) = try DefaultModel.load(model)
        let request = try provenanceRequest(scan: scans[0], name: names[0], modelPath: modelPath, outputs: outputs)
        var job = try sharedJob(input: scans[0].path, output: "")
        job.computeStatistics = false
        let planes = ProgressBar(quiet: quiet, unit: "planes")
        job.planeProgress = { planes.update(done: Int64($0), total: Int64($1)) }
        var run = CohortRun(scans: scans, names: names, directory: directory, template: job, modelPath: modelPath,
                            modelSHA256: request.modelSHA256, options: request.options)
        run.outputs = outputs
        run.force = force
        if !quiet { print("aimos \(AimosInfo.version): \(scans.count) scan\(scans.count == 1 ? "" : "s") -> \(directory) (\(loaded.metadata.values.architecture.name))") }
        var bar: ProgressBar?
        let outcomes = try run.run(model: loaded, starting: { k, name in
            if !quiet { print("[\(k + 1)/\(scans.count)] \(name): \(scans[k].path)") }
            bar = ProgressBar(quiet: quiet)
            return bar!.update
        }, report: { outcome in
            switch outcome.status {
            case .segmented(let result):
                for warning in result.warnings { fputs("aimos: warning: \(outcome.name): \(warning)\n", stderr) }
                if !quiet { printLayouts(result, indent: "  ") }
            case .skipped:
                if !quiet { print("[skip] \(outcome.name): outputs complete (use --force to segment again)") }
            case .failed(let error):
                fputs("aimos: \(outcome.name) (\(outcome.scan.path)) failed: \(error.error.message)\n", stderr)
            }
        })
        let failed = outcomes.compactMap { o -> JobError? in if case .failed(let e) = o.status { return e } else { return nil } }
        let skipped = outcomes.filter { if case .skipped = $0.status { return true } else { return false } }.count
        if let path = tablePath, outputs.contains(.volumes), failed.count < outcomes.count {
            try JobError.at(.output) { try AtomicOutputs.writeText(try run.cohortTable(outcomes), to: path, overwrite: true) }
            if !quiet { print("cohort table: \(path)") }
        }
        let summary = "\(outcomes.count) scan\(outcomes.count == 1 ? "" : "s"): \(outcomes.count - skipped - failed.count) segmented, \(skipped) skipped (complete), \(failed.count) failed"
        guard let first = failed.first else {
            if !quiet { print(summary) }
            return
        }
        AimosCLI.fail(summary, code: ExitCodes.code(for: first))
    }
}
