import AimosCore

/// A small CSV reader for the analysis commands' inputs: a header row, then rows of cells;
/// double-quoted cells may hold commas and doubled quotes; blank lines are skipped, and so are
/// comment lines (#) before the header, as the organ table's signal line.
package struct CSVTable {
    package let header: [String]
    package let rows: [[String]]

    package init(text whole: String, origin: String) throws {
        var text = Substring(whole)
        while text.hasPrefix("#") {
            text = text[(text.firstIndex(where: \.isNewline).map { text.index(after: $0) } ?? text.endIndex)...]
        }
        var records: [[String]] = []
        var cells: [String] = [], cell = "", quoted = false, afterQuote = false
        func endRecord() {
            cells.append(cell)
            if !(cells.count == 1 && cells[0].trimmingSpaces.isEmpty) { records.append(cells.map { $0.trimmingSpaces }) }
            cells = []; cell = ""
        }
        for c in text {
            if quoted {
                if c == "\"" { quoted = false; afterQuote = true } else { cell.append(c) }
                continue
            }
            switch c {
            case "\"":
                if afterQuote { cell.append("\"") }
                quoted = true
            case ",": cells.append(cell); cell = ""
            case "\n", "\r\n": endRecord()
            case "\r": break
            default: cell.append(c)
            }
            afterQuote = false
        }
        if quoted { throw AimosError(.format, "\(origin): a quoted cell is not closed") }
        if !cell.isEmpty || !cells.isEmpty { endRecord() }
        guard let first = records.first else { throw AimosError(.format, "\(origin) is empty: no header row") }
        header = first.map { $0.lowercased() }
        rows = Array(records.dropFirst())
        for (n, row) in rows.enumerated() where row.count != header.count {
            throw AimosError(.format, "\(origin) row \(n + 2) has \(row.count) cells, the header \(header.count)")
        }
    }

    /// The table in the file at `path` (UTF-8).
    package init(path: String) throws {
        try self.init(text: String(decoding: try FileBytes.read(path: path), as: UTF8.self), origin: "'\(path)'")
    }

    package func column(_ name: String) -> Int? { header.firstIndex(of: name) }
}
