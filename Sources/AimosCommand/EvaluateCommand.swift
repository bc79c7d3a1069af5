import AimosCore
import AimosPipeline
import ArgumentParser

/// `aimos evaluate`: the paper's metrics of a prediction against one or two reference label
/// maps, per organ (LabelMapComparison, OrganMetrics).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Dice, HD50/HD95 (mm), centre-of-mass displacement (mm) and volumes of a prediction against reference label maps.",
        discussion: """
        The maps must share one grid (dims, voxel size, orientation). Organs are matched by name: \
        from --map, --reference2-map and --prediction-map (or --labels-ref, an ITK-SNAP label \
        file), else each map's aimos header extension, else label_<k>. \
        Surfaces are the voxels with a face neighbour outside the organ (outside the grid counts \
        as outside); HD_p is the larger of the two directed p-th percentiles (numpy's linear \
        interpolation) of surface-to-surface distances, computed by an exact Euclidean distance \
        transform with the voxel size (not a chamfer approximation). Dice uses eps = 1e-5.
        """)

    @Option(help: "The reference (annotator) label map.")
    var reference: String
    @Option(help: "A second annotator's label map of the same scan.")
    var reference2: String?
    @Option(help: "The predicted label map.")
    var prediction: String
    @Option(help: "Names of the reference's labels: name=id,... (e.g. Heart=2,Liver=4).")
    var map: String?
    @Option(help: "Names of the second reference's labels: name=id,...")
    var reference2Map: String?
    @Option(help: "Names of the reference's (and, without --reference2-map, the second reference's) labels from an ITK-SNAP label description file.")
    var labelsRef: String?
    @Option(help: "Names of the prediction's labels: name=id,...")
    var predictionMap: String?
    @Option(help: "Write the table here (.csv or .json) instead of printing CSV.")
    var output: String?
    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    func run() throws {
        let itkNames = try JobError.at(.input) { try labelsRef.map { try LabelMapFile.namesFromITKSnap(path: $0) } }
        let ref = try JobError.at(.input) { try LabelMapFile(path: reference, names: map ?? itkNames) }
        let ref2 = try JobError.at(.input) { try reference2.map { try LabelMapFile(path: $0, names: reference2Map ?? itkNames) } }
        let pred = try JobError.at(.input) { try LabelMapFile(path: prediction, names: predictionMap) }
        try JobError.at(.input) {
            try ref.checkSameGrid(pred)
            if let ref2 = ref2 { try ref.checkSameGrid(ref2) }
        }
        let comparison = LabelMapComparison(prediction: pred.map, reference: ref.map, reference2: ref2?.map,
                                            dims: ref.scan.dims, spacing: ref.scan.spacing)
        guard let path = output else {
            print(comparison.csv(), terminator: "")
            return
        }
        let text: String
        if path.lowercased().hasSuffix(".json") { text = comparison.json() } else if path.lowercased().hasSuffix(".csv") {
            text = comparison.csv()
        } else {
            throw JobError(stage: .output, error: AimosError(.invalidArgument, "--output '\(path)' is neither .csv nor .json"))
        }
        try JobError.at(.output) { try AtomicOutputs.writeText(text, to: path, overwrite: overwrite) }
    }
}
