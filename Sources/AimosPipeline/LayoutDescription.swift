import AimosCore

/// What a label map records of the layout it was made in: per animal the scan layout used, the
/// detection confidence and the crop, as JSON for the header extension, and a short form for
/// the 80 characters of `descrip`.
package struct LayoutDescription {
    struct Entry {
        let orientation: String      // a code, or "none"
        let confidence: Double?
        let box: VoxelBox
    }
    let entries: [Entry]

    package init(result: SegmentationResult) {
        entries = result.layouts.map { Entry(orientation: $0.orientation?.description ?? "none", confidence: $0.confidence, box: $0.box) }
    }

    private init(entries: [Entry]) { self.entries = entries }

    /// The description of animal k alone (its own label map).
    package func animal(_ k: Int) -> LayoutDescription { LayoutDescription(entries: [entries[k]]) }

    /// `[{"orientation": "LHD", "confidence": 0.91, "crop": [[x0, x1], [y0, y1], [z0, z1]]}, ...]`
    /// (crop bounds as voxel index ranges, upper exclusive).
    var json: JSONValue {
        .array(entries.map { e in
            var members: [(String, JSONValue)] = [("orientation", .string(e.orientation))]
            if let c = e.confidence { members.append(("confidence", .real(c))) }
            members.append(("crop", .array((0..<3).map { .array([.int(e.box.lower[$0]), .int(e.box.upper[$0])]) })))
            return .object(members)
        })
    }

    /// "LHD" or "LHD+LHV" (one code per animal), for descrip.
    var short: String { entries.map(\.orientation).joined(separator: "+") }
}
