import AimosCore
import AimosPipeline
import ArgumentParser

/// `aimos variability`: the paper's inter-subject, inter-annotator and intra-annotator
/// volumetry variability per organ.
struct VariabilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "variability",
        abstract: "Inter-subject, inter-annotator and intra-annotator volume variability per organ.",
        discussion: """
        Input: CSV files with the columns mouse,timepoint,annotator,organ,volume_mm3, or organ \
        tables as aimos segment and aimos volumes write them (class,volume_mm3; background rows \
        skipped), whose mouse, timepoint and annotator come from those columns when present, \
        else from the file name MOUSE_TIMEPOINT_ANNOTATOR.csv. Standard deviations are sample \
        ones (n - 1); relative values are percent of the organ's mean volume. Quantities without \
        any group of two, and organs missing from some scan, are reported in the notes column.
        """)

    @Argument(help: "Volume tables (CSV).")
    var tables: [String]
    @Option(help: "Write the result here (.csv) instead of printing it.")
    var output: String?
    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    func run() throws {
        var records: [VolumeVariability.Record] = []
        try JobError.at(.input) {
            for path in tables {
                let table = try CSVTable(path: path)
                records += try Self.records(table, path: path)
            }
        }
        guard !records.isEmpty else { throw JobError(stage: .input, error: AimosError(.format, "no volumes in \(tables)")) }
        let text = VolumeVariability(records: records).csv()
        guard let path = output else { return print(text, terminator: "") }
        try JobError.at(.output) { try AtomicOutputs.writeText(text, to: path, overwrite: overwrite) }
    }

    static func records(_ table: CSVTable, path: String) throws -> [VolumeVariability.Record] {
        guard let volume = table.column("volume_mm3") else {
            throw AimosError(.format, "'\(path)' has no volume_mm3 column (columns: \(table.header))")
        }
        let organColumn = table.column("organ") ?? table.column("class")
        guard let organ = organColumn else { throw AimosError(.format, "'\(path)' has neither an organ nor a class column") }
        // Mouse, time point, annotator: from columns, else from the file name.
        let base = String(path.split(separator: "/").last ?? "").split(separator: ".").first.map(String.init) ?? ""
        let parts = base.split(separator: "_").map(String.init)
        let fromName = parts.count == 3 ? parts : nil
        func field(_ name: String, _ index: Int, _ row: [String]) throws -> String {
            if let c = table.column(name) { return row[c] }
            guard let f = fromName else {
                throw AimosError(.format, "'\(path)' has no \(name) column and its name is not MOUSE_TIMEPOINT_ANNOTATOR.csv")
            }
            return f[index]
        }
        let classIndex = table.column("class_index")
        var out: [VolumeVariability.Record] = []
        for (n, row) in table.rows.enumerated() {
            if let c = classIndex, row[c] == "0" { continue }
            if row[organ].lowercased() == "background" { continue }
            guard !row[volume].isEmpty else {
                throw AimosError(.format, "'\(path)' row \(n + 2): the volume of \(row[organ]) is missing")
            }
            guard let v = Double(row[volume]), v.isFinite, v >= 0 else {
                throw AimosError(.format, "'\(path)' row \(n + 2): '\(row[volume])' is not a volume in mm3")
            }
            out.append(.init(mouse: try field("mouse", 0, row), timepoint: try field("timepoint", 1, row),
                             annotator: try field("annotator", 2, row), organ: row[organ], volumeMM3: v))
        }
        return out
    }
}
