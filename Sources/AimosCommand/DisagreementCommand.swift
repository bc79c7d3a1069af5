import AimosCore
import AimosPipeline
import ArgumentParser

/// `aimos disagreement`: the voxels where two annotations of one scan differ (the target of the
/// uncertainty channel), as a label map; with --heatmap, a predicted heatmap's Dice against them.
struct DisagreementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disagreement",
        abstract: "Where two annotations differ, as a label map; optionally a predicted heatmap's Dice against it.",
        discussion: """
        Organs are matched by name (--map, --reference2-map, else each map's aimos header \
        extension, else label_<k>). The output labels each differing voxel with the organ in \
        question (the first annotator's, or the second's where the first says background), or \
        1 everywhere they differ with --any. --heatmap scores a heatmap (e.g. aimos segment \
        --uncertainty) as the paper does: Dice of (heatmap >= 0.5) against the differing voxels.
        """)

    @Option(help: "The first annotation.")
    var reference: String
    @Option(help: "The second annotation of the same scan.")
    var reference2: String
    @Option(help: "Names of the first annotation's labels: name=id,...")
    var map: String?
    @Option(help: "Names of the second annotation's labels: name=id,...")
    var reference2Map: String?
    @Option(help: "Write the disagreement label map here (.nii or .nii.gz).")
    var output: String?
    @Flag(help: "Label every differing voxel 1 instead of by organ.")
    var any = false
    @Option(help: "A predicted heatmap (float NIfTI on the same grid) to score against the disagreement.")
    var heatmap: String?
    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    func validate() throws {
        if output == nil && heatmap == nil { throw ValidationError("give --output, --heatmap or both") }
    }

    func run() throws {
        let a = try JobError.at(.input) { try LabelMapFile(path: reference, names: map) }
        let b = try JobError.at(.input) { try LabelMapFile(path: reference2, names: reference2Map) }
        let heat = try JobError.at(.input) { () -> ScanImage? in
            try a.checkSameGrid(b)
            guard let path = heatmap else { return nil }
            let scan = try ScanImage(niftiPath: path)
            try a.checkSameGrid(scan, path)
            return scan
        }
        let d = AnnotatorDisagreement(first: a.map, second: b.map)
        print("differing voxels: \(d.differing) of \(d.labels.count)")
        for (k, organ) in d.organs.enumerated() { print("  \(organ): \(d.perOrgan[k])") }
        if let heat = heat { print("heatmap Dice (>= 0.5): \(d.heatmapDice { heat.intensity(at: $0) })") }
        guard let path = output else { return }
        try JobError.at(.output) {
            let outputs = AtomicOutputs(overwrite: overwrite)
            let temporary = try outputs.temporaryPath(for: path)
            let labels = any ? d.labels.map { $0 == 0 ? 0 : 1 } : d.labels
            let classes = any ? ["agree", "differ"] : ["agree"] + d.organs
            try labels.withUnsafeBufferPointer {
                try NiftiOutputWriter.writeLabels($0.baseAddress!, like: a.scan, to: temporary, classes: classes,
                                                  architecture: "annotator disagreement")
            }
            try outputs.commit()
        }
    }
}
