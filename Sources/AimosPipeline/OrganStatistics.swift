import AimosCore

/// The organ table: per class its voxel count, volume in mm3 and mL, and the mean, SD (N - 1),
/// median and sum of the scan's intensity inside it; optionally the same statistics of a second,
/// co-registered signal (PET, SPECT, a fluorescence channel) read on the scan's voxels
/// (SignalOnScanGrid), which is what drug-delivery and nanoparticle-uptake studies measure.
package struct OrganStatistics {
    /// What the signal is, for the table's header: its file, and for DICOM what its values mean.
    package struct SignalSource {
        package var name: String
        package var modality = "", units = "", decayCorrection = ""
        /// "40 x 40 x 30 voxels of 0.8 x 0.8 x 0.8 mm" when resampled onto the scan's grid.
        package var resampledFrom: String?

        package init(name: String) { self.name = name }
    }

    package struct Summary: Equatable {
        package var mean = Double.nan, sd = Double.nan, median = Double.nan, sum = 0.0
    }

    package struct Row {
        /// 1-based animal number when the scan holds several animals, else nil.
        package let animal: Int?
        package let index: Int
        package let name: String
        package let voxels: Int
        package let volumeMM3: Double
        package var volumeML: Double { volumeMM3 / 1000 }
        package let intensity: Summary
        package let signal: Summary?
        /// The organ's voxels with a signal value (all of them unless the signal was resampled
        /// from a smaller field of view).
        package let signalVoxels: Int?
    }

    package let rows: [Row]
    package let voxelVolumeMM3: Double
    package let signalSource: SignalSource?
    package var signalName: String? { signalSource?.name }

    /// Computes the table from a label map (voxelCount labels in the scan's layout); without
    /// `intensity` (a label map alone) only the counts and volumes. A signal value that is NaN
    /// (outside the signal's field of view) is left out of its organ's statistics. With
    /// `animals` > 1, one block of rows per animal, `animalOf` giving each voxel's animal
    /// (0-based; nil: none).
    package init(labels: UnsafePointer<UInt8>, voxelCount: Int, classes: [String], spacing: [Double],
                intensity: ((Int) -> Double)?, signal: ((Int) -> Double)? = nil, signalSource: SignalSource? = nil,
                animals: Int = 1, animalOf: ((Int) -> Int?)? = nil) {
        voxelVolumeMM3 = spacing.reduce(1, *)
        self.signalSource = signal == nil ? nil : signalSource ?? SignalSource(name: "signal")
        let groups = max(1, animals)
        let n = classes.count
        var counts = [Int](repeating: 0, count: groups * n)
        var values = [[Double]](repeating: [], count: groups * n)
        var signals = [[Double]](repeating: [], count: groups * n)
        for i in 0..<voxelCount {
            let c = Int(labels[i])
            guard c < n else { continue }
            var g = 0
            if groups > 1 {
                guard let a = animalOf?(i), a >= 0, a < groups else { continue }
                g = a
            }
            counts[g * n + c] += 1
            if let intensity = intensity { values[g * n + c].append(intensity(i)) }
            if let signal = signal {
                let v = signal(i)
                if !v.isNaN { signals[g * n + c].append(v) }
            }
        }
        let volume = voxelVolumeMM3
        rows = (0..<groups).flatMap { g in
            classes.enumerated().map { c, name in
                let k = g * n + c
                return Row(animal: groups > 1 ? g + 1 : nil, index: c, name: name, voxels: counts[k], volumeMM3: Double(counts[k]) * volume,
                           intensity: intensity == nil ? OrganStatistics.unmeasured(voxels: counts[k]) : OrganStatistics.summarize(&values[k]),
                           signal: signal == nil ? nil : OrganStatistics.summarize(&signals[k]),
                           signalVoxels: signal == nil ? nil : signals[k].count)
            }
        }
    }

    /// The voxels that got a signal value, over every organ and the background.
    package var signalVoxelTotal: Int { rows.reduce(0) { $0 + ($1.signalVoxels ?? 0) } }

    /// Whether the rows carry an animal number.
    var hasAnimals: Bool { rows.first?.animal != nil }

    /// The statistics of an organ whose intensities are unknown: what summarize gives for that
    /// many NaN values (NaN throughout; an empty organ's sum 0 as ever).
    static func unmeasured(voxels: Int) -> Summary {
        voxels == 0 ? Summary() : Summary(mean: .nan, sd: .nan, median: .nan, sum: .nan)
    }

    /// Mean, sample SD, median (mean of the middle two for an even count) and sum.
    static func summarize(_ values: inout [Double]) -> Summary {
        guard !values.isEmpty else { return Summary() }
        let n = Double(values.count)
        let sum = values.reduce(0, +)
        let mean = sum / n
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        values.sort()
        let mid = values.count / 2
        let median = values.count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2
        return Summary(mean: mean, sd: values.count > 1 ? (squares / (n - 1)).squareRoot() : .nan, median: median, sum: sum)
    }

    static let statisticNames = ["mean", "sd", "median", "sum"]

    static func fields(_ s: Summary) -> [Double] { [s.mean, s.sd, s.median, s.sum] }

    /// CSV with a header line; empty statistics (an organ with no voxels) are left blank.
    package func csv() -> String {
        var header = (hasAnimals ? ["animal"] : []) + ["class_index", "class", "voxels", "volume_mm3", "volume_ml"]
        header += OrganStatistics.statisticNames.map { "intensity_\($0)" }
        if signalSource != nil { header += OrganStatistics.statisticNames.map { "signal_\($0)" } + ["signal_voxels"] }
        var lines = signalSource.map { ["# " + $0.summary] } ?? []
        lines.append(header.joined(separator: ","))
        for row in rows {
            var cells = row.animal.map { [String($0)] } ?? []
            cells += [String(row.index), csvQuoted(row.name), String(row.voxels), number(row.volumeMM3), number(row.volumeML)]
            cells += OrganStatistics.fields(row.intensity).map(number)
            if let s = row.signal { cells += OrganStatistics.fields(s).map(number) + [String(row.signalVoxels ?? 0)] }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    package func json(scan: String, model: String) -> String {
        func stats(_ s: Summary) -> JSONValue {
            .object(zip(OrganStatistics.statisticNames, OrganStatistics.fields(s)).map { ($0, .real($1)) })
        }
        let organs = rows.map { row -> JSONValue in
            var members: [(String, JSONValue)] = row.animal.map { [("animal", .int($0))] } ?? []
            members += [("class_index", .int(row.index)), ("class", .string(row.name)), ("voxels", .int(row.voxels)),
                        ("volume_mm3", .real(row.volumeMM3)), ("volume_ml", .real(row.volumeML)), ("intensity", stats(row.intensity))]
            if let s = row.signal { members.append(("signal", stats(s))); members.append(("signal_voxels", .int(row.signalVoxels ?? 0))) }
            return .object(members)
        }
        var top: [(String, JSONValue)] = [("generator", .string("aimos \(AimosInfo.version)")), ("scan", .string(scan)),
                                          ("model", .string(model)), ("voxel_volume_mm3", .real(voxelVolumeMM3))]
        if let s = signalSource {
            var about: [(String, JSONValue)] = [("path", .string(s.name))]
            for (key, value) in [("modality", s.modality), ("units", s.units), ("decay_correction", s.decayCorrection)] where !value.isEmpty {
                about.append((key, .string(value)))
            }
            if let from = s.resampledFrom { about.append(("resampled_from", .string(from))) }
            top.append(("signal", .object(about)))
        }
        top.append(("organs", .array(organs)))
        return JSONValue.object(top).serialized(pretty: true) + "\n"
    }

    /// The table as the file at `path` holds it: JSON for .json, else CSV.
    package func text(forFile path: String, scan: String, model: String) -> String {
        path.hasSuffix(".json") ? json(scan: scan, model: model) : csv()
    }

    /// A plain table for the terminal: class, voxels, mm3, mL.
    package func text() -> String {
        let width = max(5, rows.map(\.name.count).max() ?? 5)
        let animal = hasAnimals ? pad("animal", 6, left: true) + "  " : ""
        var lines = [animal + pad("class", width, left: true) + "  " + pad("voxels", 10) + "  " + pad("mm3", 12) + "  " + pad("mL", 10)]
        for row in rows where row.index > 0 {
            lines.append((row.animal.map { pad(String($0), 6, left: true) + "  " } ?? "") + pad(row.name.singleLine, width, left: true) + "  " + pad(String(row.voxels), 10) + "  "
                         + pad(fixed(row.volumeMM3, 2), 12) + "  " + pad(fixed(row.volumeML, 4), 10))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension OrganStatistics.SignalSource {
    /// One line for the CSV's comment header: "signal: pet/ (PT; units BQML; decay correction
    /// START; resampled trilinearly from ...)".
    var summary: String {
        var about = modality.isEmpty ? [] : [modality]
        if !units.isEmpty { about.append("units \(units)") }
        if !decayCorrection.isEmpty { about.append("decay correction \(decayCorrection)") }
        about.append(resampledFrom.map { "resampled trilinearly onto the scan's grid from \($0)" } ?? "on the scan's grid")
        return "signal: \(name.singleLine) (\(about.joined(separator: "; ")); values as stored, after the rescale slope/intercept)"
    }
}

/// `s` filled with spaces to `width` characters: on the right (left-aligned) or on the left.
func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return left ? s + fill : fill + s
}

func number(_ x: Double) -> String { x.isFinite ? String(x) : "" }

/// RFC 4180 quoting. `isNewline`, not `contains("\n")`: Swift sees "\r\n" as one character
/// that is not "\n".
func csvQuoted(_ s: String) -> String {
    s.contains { $0 == "," || $0 == "\"" || $0.isNewline } ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s
}

/// Fixed-point formatting without Foundation.
package func fixed(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "nan" }
    guard abs(x) < 1e15 else { return String(x) }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(x) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled - Double(whole) * scale)
    var f = String(fraction)
    f = String(repeating: "0", count: max(0, digits - f.count)) + f
    return (x < 0 && scaled != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + f : "")
}
