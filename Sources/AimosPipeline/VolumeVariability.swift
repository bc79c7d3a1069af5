/// The paper's volumetry variability per organ, from organ volumes by mouse, time point and
/// annotator:
/// - inter-subject: the standard deviation across mice of each mouse's mean volume;
/// - inter-annotator: the mean over scans (mouse, time point) of the standard deviation across
///   the annotators of that scan;
/// - intra-annotator: the mean over (mouse, annotator) of the standard deviation across that
///   mouse's scans by that annotator;
/// each also relative to the organ's mean volume (%). Standard deviations are sample ones
/// (n - 1); a quantity without any group of two is undefined and says so in `notes`, as does
/// an organ missing from some scan that other organs have.
package struct VolumeVariability {
    package struct Record {
        package let mouse: String, timepoint: String, annotator: String, organ: String
        package let volumeMM3: Double
        package init(mouse: String, timepoint: String, annotator: String, organ: String, volumeMM3: Double) {
            self.mouse = mouse; self.timepoint = timepoint; self.annotator = annotator; self.organ = organ; self.volumeMM3 = volumeMM3
        }
    }

    package struct Row {
        package let organ: String
        package let meanMM3: Double
        package let interSubject: Double?, interAnnotator: Double?, intraAnnotator: Double?
        package let mice: Int, scans: Int
        package let notes: [String]
    }

    package let rows: [Row]

    static func sampleSD(_ v: [Double]) -> Double? {
        guard v.count >= 2 else { return nil }
        let mean = v.reduce(0, +) / Double(v.count)
        return (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)).squareRoot()
    }

    package init(records: [Record]) {
        var organs: [String] = [], seenOrgans = Set<String>()
        for r in records where seenOrgans.insert(r.organ).inserted { organs.append(r.organ) }
        // Every (mouse, time point, annotator) that has any organ: an organ absent there is missing.
        var sessions: [String] = [], seenSessions = Set<String>()
        for r in records {
            let s = "\(r.mouse)/\(r.timepoint)/\(r.annotator)"
            if seenSessions.insert(s).inserted { sessions.append(s) }
        }
        func grouped(_ rs: [Record], _ key: (Record) -> String) -> [(String, [Record])] {
            var order: [String] = [], groups: [String: [Record]] = [:]
            for r in rs {
                let k = key(r)
                if groups[k] == nil { order.append(k) }
                groups[k, default: []].append(r)
            }
            return order.map { ($0, groups[$0]!) }
        }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
        rows = organs.map { organ in
            let rs = records.filter { $0.organ == organ }
            var notes: [String] = []
            let present = Set(rs.map { "\($0.mouse)/\($0.timepoint)/\($0.annotator)" })
            let missing = sessions.filter { !present.contains($0) }
            if !missing.isEmpty { notes.append("missing in \(missing.count) scan(s): \(missing.prefix(5).joined(separator: " "))") }
            let perMouse = grouped(rs) { $0.mouse }.map { mean($0.1.map(\.volumeMM3)) }
            let scans = grouped(rs) { "\($0.mouse)/\($0.timepoint)" }
            let perScan = scans.compactMap { Self.sampleSD($0.1.map(\.volumeMM3)) }
            let perAnnotator = grouped(rs) { "\($0.mouse)/\($0.annotator)" }.compactMap { Self.sampleSD($0.1.map(\.volumeMM3)) }
            let inter = Self.sampleSD(perMouse)
            if inter == nil { notes.append("inter-subject: fewer than two mice") }
            if perScan.isEmpty { notes.append("inter-annotator: no scan with two annotators") }
            if perAnnotator.isEmpty { notes.append("intra-annotator: no annotator with two scans of one mouse") }
            return Row(organ: organ, meanMM3: mean(rs.map(\.volumeMM3)), interSubject: inter,
                       interAnnotator: perScan.isEmpty ? nil : mean(perScan),
                       intraAnnotator: perAnnotator.isEmpty ? nil : mean(perAnnotator),
                       mice: perMouse.count, scans: scans.count, notes: notes)
        }
    }

    package func csv() -> String {
        let header = "organ,mean_mm3,inter_subject_sd_mm3,inter_subject_percent,inter_annotator_sd_mm3,inter_annotator_percent,"
            + "intra_annotator_sd_mm3,intra_annotator_percent,mice,scans,notes"
        func cells(_ sd: Double?, _ mean: Double) -> String {
            guard let sd = sd else { return "," }
            return "\(sd),\(100 * sd / mean)"
        }
        let lines = rows.map { r in
            "\(csvQuoted(r.organ)),\(r.meanMM3),\(cells(r.interSubject, r.meanMM3)),\(cells(r.interAnnotator, r.meanMM3)),"
                + "\(cells(r.intraAnnotator, r.meanMM3)),\(r.mice),\(r.scans),\(csvQuoted(r.notes.joined(separator: "; ")))"
        }
        return ([header] + lines).joined(separator: "\n") + "\n"
    }
}
