import AimosCore

/// A prediction compared with one or two reference label maps, organ by organ (the paper's
/// evaluation, OrganMetrics). Organs are matched by name, case-insensitively, so maps with
/// different numbering compare organ by organ; an organ present in only one map is reported
/// (Dice about 0, distances undefined). With two references: Dice between the annotators, of the
/// prediction against the second, and the paper's "correct if it matches at least one
/// annotator": voxel-wise, a voxel's predicted label is right when it equals either
/// annotator's; TP = predicted organ and right, FP = predicted organ and wrong, FN = an
/// annotator's organ, predicted as something else and wrong.
package struct LabelMapComparison {
    package struct Row {
        package let organ: String
        package let metrics: OrganMetrics
        package let diceAnnotators: Double?
        package let diceReference2: Double?
        package let diceEither: Double?
    }

    package let rows: [Row]
    package let twoReferences: Bool

    /// One map: its labels and the name of each label value.
    package struct Map {
        package let labels: [UInt8]
        package let names: [Int: String]
        package init(labels: [UInt8], names: [Int: String]) { self.labels = labels; self.names = names }
    }

    package init(prediction: Map, reference: Map, reference2: Map?, dims: [Int], spacing: [Double]) {
        let numbering = Self.commonNumbering([reference] + (reference2.map { [$0] } ?? []) + [prediction])
        let organs = numbering.organs
        let r = numbering.labels[0], p = numbering.labels.last!, r2 = reference2 == nil ? nil : numbering.labels[1]
        func dice(_ a: [UInt8], _ b: [UInt8], _ k: UInt8) -> Double {
            var tp = 0, fp = 0, fn = 0
            for i in 0..<a.count {
                let x = a[i] == k, y = b[i] == k
                if x && y { tp += 1 } else if x { fp += 1 } else if y { fn += 1 }
            }
            return OrganMetrics.dice(truePositives: tp, falsePositives: fp, falseNegatives: fn)
        }
        rows = organs.enumerated().map { index, name in
            let k = UInt8(index + 1)
            let metrics = OrganMetrics.compare(dims: dims, spacing: spacing, prediction: { p[$0] == k }, reference: { r[$0] == k })
            guard let r2 = r2 else { return Row(organ: name, metrics: metrics, diceAnnotators: nil, diceReference2: nil, diceEither: nil) }
            var tp = 0, fp = 0, fn = 0
            for i in 0..<p.count {
                let right = p[i] == r[i] || p[i] == r2[i]
                if p[i] == k { if right { tp += 1 } else { fp += 1 } } else if (r[i] == k || r2[i] == k) && !right { fn += 1 }
            }
            return Row(organ: name, metrics: metrics, diceAnnotators: dice(r, r2, k), diceReference2: dice(p, r2, k),
                       diceEither: OrganMetrics.dice(truePositives: tp, falsePositives: fp, falseNegatives: fn))
        }
        twoReferences = reference2 != nil
    }

    /// One numbering for several maps: the organs named in them (in the first map's order, then
    /// the others'; only those present somewhere; matched case-insensitively) and each map's
    /// labels as 1-based indices into that list (0: background or an unnamed label).
    package static func commonNumbering(_ maps: [Map]) -> (organs: [String], labels: [[UInt8]]) {
        var organs: [String] = []
        func key(_ s: String) -> String { s.lowercased() }
        for map in maps {
            var present = [Bool](repeating: false, count: 256)
            for v in map.labels { present[Int(v)] = true }
            for id in map.names.keys.sorted() where id != 0 && id < 256 && present[id] {
                let name = map.names[id]!
                if !organs.contains(where: { key($0) == key(name) }) { organs.append(name) }
            }
        }
        let labels = maps.map { map -> [UInt8] in
            var lookup = [UInt8](repeating: 0, count: 256)
            for (id, name) in map.names where id != 0 && id < 256 {
                if let k = organs.firstIndex(where: { key($0) == key(name) }) { lookup[id] = UInt8(k + 1) }
            }
            return map.labels.map { lookup[Int($0)] }
        }
        return (organs, labels)
    }

    package static let columns = ["organ", "dice", "hd50_mm", "hd95_mm", "com_mm", "volume_reference_mm3",
                                 "volume_prediction_mm3", "volume_error_percent"]
    package static let twoReferenceColumns = ["dice_annotators", "dice_prediction_reference2", "dice_either_annotator"]

    private func values(_ row: Row) -> [Double] {
        let m = row.metrics
        return [m.dice, m.hd50MM, m.hd95MM, m.centerOfMassMM, m.referenceMM3, m.predictionMM3, m.volumeErrorPercent]
            + (twoReferences ? [row.diceAnnotators!, row.diceReference2!, row.diceEither!] : [])
    }

    /// CSV, one row per organ; undefined values are empty cells; numbers at full precision.
    package func csv() -> String {
        let header = (Self.columns + (twoReferences ? Self.twoReferenceColumns : [])).joined(separator: ",")
        let lines = rows.map { row in
            ([csvQuoted(row.organ)] + values(row).map(number)).joined(separator: ",")
        }
        return ([header] + lines).joined(separator: "\n") + "\n"
    }

    /// JSON: {"organs": [{"organ": ..., "dice": ..., ...}]}; undefined values are null.
    package func json() -> String {
        let names = Self.columns.dropFirst() + (twoReferences ? Self.twoReferenceColumns : [])
        let objects = rows.map { row -> JSONValue in
            .object([("organ", .string(row.organ))] + zip(names, values(row)).map { ($0, .real($1)) })
        }
        return JSONValue.object([("organs", .array(objects))]).serialized(pretty: true) + "\n"
    }
}
