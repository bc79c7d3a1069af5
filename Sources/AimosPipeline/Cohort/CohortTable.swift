import AimosCore

/// The cohort table: every scan's organ table in one CSV, each row led by the scan's name,
/// mouse, time point, annotator and animal, ready for `aimos variability`. Built from the
/// scans' provenance sidecars, which name each scan's organ table. A scan holding several
/// animals gets one mouse per animal (MOUSE/animalK); a scan with no mouse given is its own
/// mouse (its name).
package enum CohortTable {
    static let leading = ["scan", "mouse", "timepoint", "annotator", "animal", "class_index", "organ"]

    package static func csv(sidecars: [String]) throws -> String {
        var columns: [String] = []          // the organ tables' columns after class_index and class
        var rows: [(lead: [String], cells: [String: String])] = []
        for sidecar in sidecars {
            let json: JSONValue
            do { json = try JSONValue.parse(try FileBytes.read(path: sidecar)) } catch let e as AimosError {
                throw AimosError(.format, "'\(sidecar)' is not a provenance sidecar: \(e.message)")
            }
            guard let name = json["scan"]?["name"]?.stringValue else {
                throw AimosError(.format, "'\(sidecar)' is not an aimos provenance sidecar (no scan name)")
            }
            guard let file = json["outputs"]?["volumes"]?["file"]?.stringValue else {
                throw AimosError(.format, "'\(sidecar)': scan '\(name)' has no organ table (it was segmented without the volumes output)")
            }
            let table = try CSVTable(path: Provenance.resolve(file, besides: AtomicOutputs.directory(of: sidecar)))
            guard let classColumn = table.column("class"), let indexColumn = table.column("class_index") else {
                throw AimosError(.format, "'\(file)' is not an aimos organ table (no class and class_index columns)")
            }
            let animalColumn = table.column("animal")
            let several = animalColumn.map { c in Set(table.rows.map { $0[c] }).count > 1 } ?? false
            let given = json["scan"]?["mouse"]?.stringValue
            for (c, header) in table.header.enumerated() where ![classColumn, indexColumn, animalColumn].contains(c) && !columns.contains(header) {
                columns.append(header)
            }
            for row in table.rows {
                let animal = animalColumn.map { row[$0] } ?? "1"
                let mouse = (given ?? name) + (several ? "/animal\(animal)" : "")
                let lead = [name, mouse, json["scan"]?["timepoint"]?.stringValue ?? "",
                            json["scan"]?["annotator"]?.stringValue ?? "", animal, row[indexColumn], row[classColumn]]
                var cells: [String: String] = [:]
                for (c, header) in table.header.enumerated() { cells[header] = row[c] }
                rows.append((lead, cells))
            }
        }
        var lines = [(leading + columns).joined(separator: ",")]
        for row in rows {
            lines.append((row.lead.map(csvQuoted) + columns.map { csvQuoted(row.cells[$0] ?? "") }).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The sidecars in a folder (NAME_provenance.json), in natural order of their names.
    package static func sidecars(in folder: String) throws -> [String] {
        let names = try FolderListing.regularFiles(in: folder).filter { $0.hasSuffix("_provenance.json") }
        guard !names.isEmpty else { throw AimosError(.io, "'\(folder)' holds no provenance sidecars (*_provenance.json)") }
        return FolderListing.naturallyOrdered(names).map { folder + "/" + $0 }
    }
}
