import AimosCore
import AimosPipeline
import ArgumentParser

/// `aimos allocate`: the organ of each point (the paper's metastasis allocation) and a count
/// per organ.
struct AllocateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocate",
        abstract: "The organ of each point of a CSV file (voxel indices or world mm), and a count per organ.",
        discussion: """
        The points file has a header: x,y,z for voxel indices (0-based, rounded to the nearest \
        voxel) or x_mm,y_mm,z_mm for world coordinates (through the label map's sform, else \
        qform); an id column is kept. Points outside the grid are listed with inside_grid = no \
        and counted as outside_grid, never dropped. --radius R lists every organ with a voxel \
        centre within R mm of the point.
        """)

    @Option(help: "The label map.")
    var labels: String
    @Option(help: "The points (CSV).")
    var points: String
    @Option(help: "Names of the labels: name=id,... (default: the aimos header extension, else label_<k>).")
    var map: String?
    @Option(help: "Also list the organs within this many mm of each point.")
    var radius: Double?
    @Option(help: "Write the per-point table here (.csv) instead of printing it; the counts are printed.")
    var output: String?
    @Flag(help: "Replace an existing output file.")
    var overwrite = false

    func validate() throws {
        if let r = radius, !(r >= 0 && r.isFinite) { throw ValidationError("--radius must be a number of mm >= 0") }
    }

    func run() throws {
        let map = try JobError.at(.input) { try LabelMapFile(path: labels, names: self.map) }
        let (input, units) = try JobError.at(.input) { () -> ([(id: String, position: [Double])], PointAllocation.Units) in
            let table = try CSVTable(path: points)
            let voxelColumns = ["x", "y", "z"].compactMap(table.column)
            let mmColumns = ["x_mm", "y_mm", "z_mm"].compactMap(table.column)
            let columns: [Int], units: PointAllocation.Units
            if mmColumns.count == 3 { (columns, units) = (mmColumns, .millimetres) } else if voxelColumns.count == 3 {
                (columns, units) = (voxelColumns, .voxels)
            } else {
                throw AimosError(.format, "'\(points)' needs the columns x,y,z (voxel indices) or x_mm,y_mm,z_mm (world mm); it has \(table.header)")
            }
            let idColumn = table.column("id")
            let parsed = try table.rows.enumerated().map { n, row -> (id: String, position: [Double]) in
                let position = try columns.map { c -> Double in
                    guard let v = Double(row[c]), v.isFinite else {
                        throw AimosError(.format, "'\(points)' row \(n + 2): '\(row[c])' is not a number")
                    }
                    return v
                }
                return (idColumn.map { row[$0] } ?? String(n + 1), position)
            }
            return (parsed, units)
        }
        let allocation = PointAllocation(map: map.map, dims: map.scan.dims, spacing: map.scan.spacing,
                                         worldToVoxel: map.scan.worldToVoxel(), points: input, units: units, radiusMM: radius)
        if let path = output {
            try JobError.at(.output) { try AtomicOutputs.writeText(allocation.pointsCSV(), to: path, overwrite: overwrite) }
        } else {
            print(allocation.pointsCSV())
        }
        print(allocation.countsCSV(), terminator: "")
    }
}
