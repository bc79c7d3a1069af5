import XCTest
@testable import AimosPipeline
import AimosCore
import CNiftiBridge

/// Writing: the input's geometry bit for bit, the label-map header conventions, atomic outputs.
final class OutputTests: XCTestCase {
    struct Geometry: Equatable {
        var qform = [Double](repeating: 0, count: 16), sform = [Double](repeating: 0, count: 16)
        var qcode: Int32 = 0, scode: Int32 = 0
        var pixdim = [Double](repeating: 0, count: 8)
        var units: Int32 = 0
    }

    func geometry(_ scan: ScanImage) -> Geometry {
        var g = Geometry()
        nb_geometry(scan.image, &g.qform, &g.sform, &g.qcode, &g.scode, &g.pixdim)
        g.pixdim[0] = 0  // qfac, and pixdim[4...] may legitimately differ between 3D and 4D
        for i in 4..<8 { g.pixdim[i] = 0 }
        g.units = nb_xyz_units(scan.image)
        return g
    }

    func testLabelMapKeepsGeometryAndCarriesLabels() throws {
        let dir = try Support.scratch()
        for name in ["pattern_int16.nii.gz", "pattern_int16.nii", "pattern_pair.hdr", "pattern_nifti2.nii.gz", "pattern_analyze.hdr"] {
            let scan = try ScanImage(niftiPath: Support.fixture(name))
            var labels = [UInt8](repeating: 0, count: scan.voxelCount)
            for i in 0..<labels.count { labels[i] = UInt8(i % 3) }
            // Uncompressed, so RawNiftiHeader can read the header fields from the bytes.
            let out = dir.appendingPathComponent("labels-\(name).nii").path
            try labels.withUnsafeBufferPointer {
                try NiftiOutputWriter.writeLabels($0.baseAddress!, like: scan, to: out, classes: ["background", "Brain", "Heart"], architecture: "Unet64")
            }
            let back = try ScanImage(niftiPath: out)
            XCTAssertEqual(back.dims, scan.dims)
            XCTAssertEqual(geometry(back), geometry(scan), name)
            let header = try RawNiftiHeader(path: out)
            XCTAssertEqual(header.isNifti2, name.contains("nifti2"), "\(name): NIfTI version kept")
            XCTAssertEqual(back.datatypeName, "uint8")
            XCTAssertEqual(header.intentCode, 1002)
            XCTAssertEqual(header.calMax, 2)
            XCTAssertEqual(nb_scl_slope(back.image), 1)
            XCTAssertTrue(header.descrip.hasPrefix("aimos \(AimosInfo.version)"), header.descrip)
            XCTAssertEqual(back.labelNames(), ["background", "Brain", "Heart"])
            for i in 0..<labels.count { XCTAssertEqual(back.intensity(at: i), Double(labels[i])) }
        }
        try FileManager.default.removeItem(at: dir)
    }

    func testProbabilitiesAre4DInClassOrder() throws {
        let dir = try Support.scratch()
        let scan = try ScanImage(niftiPath: Support.fixture("pattern_float32.nii.gz"))
        let n = scan.voxelCount
        let maps = (0..<3).map { c -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            for i in 0..<n { p[i] = Float(c) * 0.25 + Float(i) / Float(4 * n) }
            return p
        }
        defer { maps.forEach { $0.deallocate() } }
        let out = dir.appendingPathComponent("p.nii.gz").path
        try NiftiOutputWriter.writeProbabilities(maps, like: scan, to: out, classes: ["a", "b", "c"])
        let image = nb_read(out, nil, 0)!
        defer { nb_free(image) }
        XCTAssertEqual((1...4).map { nb_dim(image, Int32($0)) }, [7, 6, 5, 3])
        XCTAssertEqual(nb_datatype(image), 16)
        let data = nb_data(image)!.assumingMemoryBound(to: Float.self)
        for c in 0..<3 { for i in stride(from: 0, to: n, by: 13) { XCTAssertEqual(data[c * n + i], maps[c][i]) } }
        try FileManager.default.removeItem(at: dir)
    }

    func testAtomicOutputsRefuseExistingAndLeaveNothingOnFailure() throws {
        let dir = try Support.scratch()
        let existing = dir.appendingPathComponent("existing.csv").path
        try "keep me".write(toFile: existing, atomically: true, encoding: .utf8)
        let outputs = AtomicOutputs(overwrite: false)
        XCTAssertThrowsError(try outputs.writeText("new", to: existing)) { XCTAssertTrue("\($0)".contains("--overwrite")) }
        XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "keep me")
        XCTAssertThrowsError(try outputs.check(dir.appendingPathComponent("no/such/dir/x.csv").path))
        // Written but never committed: discarded with the object, nothing left.
        do {
            let pending = AtomicOutputs(overwrite: false)
            try pending.writeText("draft", to: dir.appendingPathComponent("draft.csv").path)
            XCTAssertEqual(Support.files(in: dir).count, 2)
        }
        XCTAssertEqual(Support.files(in: dir), ["existing.csv"])
        // Overwrite replaces on commit.
        let replacing = AtomicOutputs(overwrite: true)
        try replacing.writeText("new", to: existing)
        try replacing.commit()
        XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "new")
        try FileManager.default.removeItem(at: dir)
    }

    func testJobOnBadInputLeavesNoOutput() throws {
        let dir = try Support.scratch()
        let model = try AimosModel(path: Support.model("unet64_c3_s32_f32.safetensors"))
        for (name, stage) in [("truncated.nii", JobError.Stage.input), ("not_nifti.nii", .input), ("pattern_4d_two.nii.gz", .input)] {
            var job = SegmentationJob(inputPath: Support.fixture(name), outputPath: dir.appendingPathComponent("labels.nii.gz").path)
            job.volumesPath = dir.appendingPathComponent("v.csv").path
            job.previewPath = dir.appendingPathComponent("p.jpg").path
            XCTAssertThrowsError(try job.run(model: model)) { error in
                XCTAssertEqual((error as? JobError)?.stage, stage, "\(name): \(error)")
            }
            XCTAssertEqual(Support.files(in: dir), [], "\(name) left files behind")
        }
        try FileManager.default.removeItem(at: dir)
    }

    /// A label map whose header extension is not aimos's own: names are not trusted, nothing traps.
    func testForeignLabelExtensionsAreIgnored() throws {
        let dir = try Support.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let scan = try ScanImage(niftiPath: Support.fixture("pattern_uint8.nii.gz"))
        let labels = [UInt8](repeating: 1, count: scan.voxelCount)
        for (k, text) in ["{\"labels\": {\"-1\": \"x\", \"1\": \"b\"}}", "{\"labels\": {\"9223372036854775807\": \"x\"}}",
                          "{\"labels\": {\"0\": \"a\", \"2\": \"c\"}}", "not json"].enumerated() {
            let path = dir.appendingPathComponent("l\(k).nii").path
            try labels.withUnsafeBytes {
                try NiftiOutputWriter.write(scan: scan, path: path, datatype: 2, dims: scan.dims, data: $0.baseAddress!,
                                            intent: 1002, calMin: 0, calMax: 1, descrip: "", extensionText: text)
            }
            XCTAssertNil(try ScanImage(niftiPath: path).labelNames(), text)
        }
    }

    func testHugeNumbersFormatWithoutTrapping() {
        XCTAssertEqual(fixed(1e300, 2), String(1e300))
        XCTAssertEqual(fixed(-.infinity, 2), "nan")
        let wide = PanelLayout(rows: 10, cols: 10, rowSpacing: 1, colSpacing: 1e10, flipRows: false, flipCols: false)
        XCTAssertEqual(wide.width, 1600)
        let infinite = PanelLayout(rows: 10, cols: 10, rowSpacing: 1e-300, colSpacing: 1e300, flipRows: false, flipCols: false)
        XCTAssertEqual(infinite.width, PreviewRenderer.panelHeight)
    }

    func testLabelDescriptionFiles() {
        let classes = ["background", "Brain", "Small intestine", "my \"organ\"", "two\nlines\r\nthree\tcols"]
        let itk = LabelDescriptionFiles.itkSnap(classes: classes).split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertEqual(itk.count, 5)
        let brain = itk[1].split(separator: " ", omittingEmptySubsequences: true)
        let color = OrganPalette.color(of: "Brain", index: 1)
        XCTAssertEqual(brain[0...6].map(String.init), ["1", "\(color.r)", "\(color.g)", "\(color.b)", "1", "1", "1"])
        XCTAssertTrue(itk[1].hasSuffix("\"Brain\""))
        XCTAssertTrue(itk[3].hasSuffix("\"my 'organ'\""))
        let slicer = LabelDescriptionFiles.slicerColorTable(classes: classes, fileName: "x.ctbl").split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertEqual(slicer[2], "2 Small_intestine \(OrganPalette.color(of: "Small intestine", index: 2).r) \(OrganPalette.color(of: "Small intestine", index: 2).g) \(OrganPalette.color(of: "Small intestine", index: 2).b) 255")
        XCTAssertEqual(slicer[0], "0 background 0 0 0 0")
        // A line break or tab in a class name must not break either file's lines or tokens.
        XCTAssertTrue(itk[4].hasSuffix("\"two lines three cols\""))
        XCTAssertEqual(slicer.count, 5)
        XCTAssertTrue(slicer[4].hasPrefix("4 two_lines_three_cols "))
        // The organ table quotes them: "\r\n" is one Swift character, not "\n".
        XCTAssertEqual(csvQuoted("Spleen\r\n"), "\"Spleen\r\n\"")
        XCTAssertEqual(csvQuoted("a \"b\""), "\"a \"\"b\"\"\"")
        XCTAssertEqual(csvQuoted("Liver"), "Liver")
        XCTAssertEqual("two\nlines\r\n".singleLine, "two lines ")
        // Distinct colours for the AIMOS organs.
        let organs = ["Brain", "Heart", "Lung", "Liver", "Kidney", "Spleen", "Bladder", "Stomach", "Intestine", "Bone"]
        let colors = OrganPalette.colors(for: organs)
        XCTAssertEqual(Set(colors.map { "\($0.r),\($0.g),\($0.b)" }).count, organs.count)
    }

    func testOrganStatistics() {
        let labels: [UInt8] = [0, 1, 1, 2, 2, 2, 1]
        let intensity: [Double] = [5, 1, 2, 10, 20, 60, 3]
        let signal: [Double] = [0, 4, 4, 1, 1, 1, .nan]   // the last voxel outside the signal's view
        let table = labels.withUnsafeBufferPointer {
            OrganStatistics(labels: $0.baseAddress!, voxelCount: 7, classes: ["background", "Brain", "Heart", "Lung"],
                            spacing: [0.5, 0.5, 2], intensity: { intensity[$0] }, signal: { signal[$0] }, signalSource: .init(name: "pet.nii"))
        }
        XCTAssertEqual(table.rows.map(\.voxels), [1, 3, 3, 0])
        XCTAssertEqual(table.rows[1].volumeMM3, 1.5)
        XCTAssertEqual(table.rows[1].volumeML, 0.0015)
        XCTAssertEqual(table.rows[2].intensity, OrganStatistics.Summary(mean: 30, sd: (1400.0 / 2).squareRoot(), median: 20, sum: 90))
        XCTAssertEqual(table.rows[1].intensity.median, 2)
        XCTAssertEqual(table.rows[1].signal?.mean, 4)
        XCTAssertEqual(table.rows.map(\.signalVoxels), [1, 2, 3, 0], "a NaN signal value is not counted")
        XCTAssertEqual(table.signalVoxelTotal, 6)
        XCTAssertTrue(table.rows[3].intensity.mean.isNaN)
        // A label map alone (no intensity) gives the table NaN intensities would, uncomputed.
        let classes = ["background", "Brain", "Heart", "Lung"]
        let countsOnly = labels.withUnsafeBufferPointer {
            OrganStatistics(labels: $0.baseAddress!, voxelCount: 7, classes: classes, spacing: [0.5, 0.5, 2], intensity: nil)
        }
        let nanIntensity = labels.withUnsafeBufferPointer {
            OrganStatistics(labels: $0.baseAddress!, voxelCount: 7, classes: classes, spacing: [0.5, 0.5, 2], intensity: { _ in .nan })
        }
        XCTAssertEqual(countsOnly.csv(), nanIntensity.csv())
        XCTAssertEqual(countsOnly.rows.map(\.voxels), [1, 3, 3, 0])
        let csv = table.csv().split(separator: "\n")
        XCTAssertEqual(csv[0], "# signal: pet.nii (on the scan's grid; values as stored, after the rescale slope/intercept)")
        XCTAssertEqual(csv[1], "class_index,class,voxels,volume_mm3,volume_ml,intensity_mean,intensity_sd,intensity_median,intensity_sum,signal_mean,signal_sd,signal_median,signal_sum,signal_voxels")
        XCTAssertEqual(csv[5], "3,Lung,0,0.0,0.0,,,,0.0,,,,0.0,0")
        // aimos's own CSV reader (aimos variability) skips the comment line.
        let read = try! CSVTable(text: table.csv(), origin: "table")
        XCTAssertEqual(read.header.last, "signal_voxels")
        XCTAssertEqual(read.rows.count, 4)
        let json = table.json(scan: "s.nii", model: "Unet64")
        let parsed = try! JSONValue.parse(Array(json.utf8))
        XCTAssertEqual(parsed["organs"]?.arrayValue?.count, 4)
        XCTAssertEqual(parsed["organs"]?.arrayValue?[2]["intensity"]?["sum"], .number(90, isInteger: false))
        XCTAssertEqual(fixed(1.23456, 3), "1.235")
        XCTAssertEqual(fixed(-0.5, 2), "-0.50")
    }
}
