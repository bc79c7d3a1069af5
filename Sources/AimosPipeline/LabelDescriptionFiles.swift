/// Label descriptions for viewers, in the palette's colours:
/// - ITK-SNAP: `IDX R G B A VIS MSH "LABEL"` per line after `#` comments
///   (`itksnap -g scan.nii.gz -s labels.nii.gz -l labels.txt`);
/// - 3D Slicer colour table (.ctbl): `index name R G B A`, 0-255, no spaces in names.
/// Both files are read by the programs' own parsers in Tests/viewers.
package enum LabelDescriptionFiles {
    package static func itkSnap(classes: [String]) -> String {
        var lines = ["################################################",
                     "# ITK-SNAP Label Description File",
                     "# written by aimos \(AimosInfo.version)",
                     "# File format:",
                     "# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL",
                     "# Fields:",
                     "#    IDX:   Zero-based index",
                     "#    -R-:   Red color component (0..255)",
                     "#    -G-:   Green color component (0..255)",
                     "#    -B-:   Blue color component (0..255)",
                     "#    -A-:   Label transparency (0.00 .. 1.00)",
                     "#    VIS:   Label visibility (0 or 1)",
                     "#    MSH:   Label mesh visibility (0 or 1)",
                     "#  LABEL:   Label description",
                     "################################################"]
        for (index, (name, color)) in zip(classes, OrganPalette.colors(for: classes)).enumerated() {
            let visible = index == 0 ? "0" : "1"
            let alpha = index == 0 ? "0" : "1"
            let quoted = name.itkSnapLabel()
            lines.append("\(pad(String(index), 5)) \(pad(String(color.r), 5)) \(pad(String(color.g), 4)) \(pad(String(color.b), 4))        \(alpha)  \(visible)  \(visible)    \"\(quoted)\"")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    package static func slicerColorTable(classes: [String], fileName: String) -> String {
        var lines = ["# Color table file \(fileName)", "# \(classes.count) values", "# written by aimos \(AimosInfo.version)"]
        for (index, (name, color)) in zip(classes, OrganPalette.colors(for: classes)).enumerated() {
            let alpha = index == 0 ? 0 : 255
            lines.append("\(index) \(name.slicerName()) \(color.r) \(color.g) \(color.b) \(alpha)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// One line of text: control characters (line breaks among them) become spaces.
    package var singleLine: String { String(map { $0.isControlOrNewline ? " " : $0 }) }

    /// ITK-SNAP reads a file line by line and a label up to the next double quote.
    func itkSnapLabel() -> String { String(singleLine.map { $0 == "\"" ? "'" : $0 }) }

    /// Slicer reads a colour name as one token: white space and control characters become
    /// underscores.
    func slicerName() -> String { String(map { $0.isWhitespace || $0.isControlOrNewline ? "_" : $0 }) }
}

extension Character {
    var isControlOrNewline: Bool {
        isNewline || unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
