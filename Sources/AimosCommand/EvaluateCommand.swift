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
        from --map, --reference2-map and --prediction-map, else each map's aimos header \
        extension, else label_<k>. \
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
    @Option(help: "Names of the prediction's labels: name=id,...")
    var predictionMap: String?
    @Option(help: "Write the table here (.csv or .json) instead of printing CSV.")
    var output: String?
    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    func run() throws {
        let (ref, refNames) = try load(reference, names: map)
        let ref2 = try reference2.map { try load($0, names: reference2Map) }
        let (pred, predNames) = try load(prediction, names: predictionMap)
        for (other, path) in [(pred, prediction)] + (ref2.map { [($0.0, reference2!)] } ?? []) {
            try checkSameGrid(ref, reference, other, path)
        }
        let comparison = LabelMapComparison(
            prediction: .init(labels: try labels(pred, prediction), names: predNames),
            reference: .init(labels: try labels(ref, reference), names: refNames),
            reference2: try ref2.map { .init(labels: try labels($0.0, reference2!), names: $0.1) },
            dims: ref.dims, spacing: ref.spacing)
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
        try JobError.at(.output) {
            let outputs = AtomicOutputs(overwrite: overwrite)
            try outputs.writeText(text, to: path)
            try outputs.commit()
        }
    }

    private func load(_ path: String, names: String?) throws -> (NiftiScan, [Int: String]) {
        let scan = try JobError.at(.input) { try NiftiScan(path: path) }
        if let names = names {
            var table: [Int: String] = [0: "background"]
            for entry in names.split(separator: ",") {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let id = Int(parts[1].trimmingSpaces), (1...255).contains(id), !parts[0].trimmingSpaces.isEmpty else {
                    throw JobError(stage: .input, error: AimosError(.invalidArgument, "label names '\(entry)' are not name=id with id 1...255"))
                }
                table[id] = parts[0].trimmingSpaces
            }
            return (scan, table)
        }
        if let list = scan.labelNames() {
            return (scan, Dictionary(uniqueKeysWithValues: list.enumerated().map { ($0.offset, $0.element) }))
        }
        return (scan, Dictionary(uniqueKeysWithValues: (0...255).map { ($0, $0 == 0 ? "background" : "label_\($0)") }))
    }

    private func labels(_ scan: NiftiScan, _ path: String) throws -> [UInt8] {
        var values = [UInt8](repeating: 0, count: scan.voxelCount)
        for i in 0..<scan.voxelCount {
            let v = scan.intensity(at: i)
            guard v >= 0, v <= 255, v == v.rounded() else {
                throw JobError(stage: .input, error: AimosError(.format, "'\(path)' voxel \(i) holds \(v): a label map holds integers 0...255"))
            }
            values[i] = UInt8(v)
        }
        return values
    }

    private func checkSameGrid(_ a: NiftiScan, _ pathA: String, _ b: NiftiScan, _ pathB: String) throws {
        func refuse(_ what: String) -> JobError {
            JobError(stage: .input, error: AimosError(.invalidArgument, "'\(pathB)' is not on the grid of '\(pathA)': \(what)"))
        }
        guard a.dims == b.dims else { throw refuse("dims \(b.dims) against \(a.dims)") }
        for axis in 0..<3 where abs(a.spacing[axis] - b.spacing[axis]) > 1e-5 * max(a.spacing[axis], b.spacing[axis]) {
            throw refuse("voxel size \(b.spacing) mm against \(a.spacing) mm")
        }
        if let ma = a.worldMatrix(), let mb = b.worldMatrix() {
            for r in 0..<3 {
                for c in 0..<3 where abs(ma[r][c] - mb[r][c]) > 1e-4 * max(1, abs(ma[r][c])) {
                    throw refuse("orientation matrix \(mb) against \(ma)")
                }
            }
        }
    }
}

private extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
