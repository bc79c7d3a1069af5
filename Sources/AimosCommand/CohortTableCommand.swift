import AimosCore
import AimosPipeline
import ArgumentParser

/// `aimos cohort-table`: the cohort table from scans segmented one by one (a workflow engine's
/// jobs, `aimos segment --output-dir DIR --cohort-table none`), read through their sidecars.
struct CohortTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort-table",
        abstract: "Merge the organ tables of segmented scans into one cohort table (CSV).",
        discussion: """
        Reads each scan's provenance sidecar (NAME_provenance.json, as aimos segment --output-dir \
        writes it) and the organ table it names. Columns: scan, mouse, timepoint, annotator, \
        animal, class_index, organ, then the organ table's (voxels, volume_mm3, volume_ml, \
        intensity statistics, signal statistics). A scan of several animals gives one mouse per \
        animal (MOUSE/animalK); a scan with no mouse given is its own mouse. The table is ready \
        for aimos variability.
        """)

    @Argument(help: "Provenance sidecars (NAME_provenance.json).")
    var sidecars: [String] = []
    @Option(name: .customLong("output-dir"), help: ArgumentHelp("Take every *_provenance.json in DIR.", valueName: "DIR"))
    var outputDir: String?
    @Option(help: "The cohort table to write (.csv); printed when absent.")
    var output: String?
    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    func validate() throws {
        guard sidecars.isEmpty != (outputDir == nil) else { throw ValidationError("give the sidecars, or a folder with --output-dir (one of them)") }
        if let o = output, !o.hasSuffix(".csv") { throw ValidationError("--output: the cohort table is written as .csv") }
    }

    func run() throws {
        let text = try JobError.at(.input) { try CohortTable.csv(sidecars: try outputDir.map(CohortTable.sidecars(in:)) ?? sidecars) }
        guard let path = output else { return print(text, terminator: "") }
        try JobError.at(.output) { try AtomicOutputs.writeText(text, to: path, overwrite: overwrite) }
    }
}
