import Foundation
import XCTest
@testable import AimosPipeline
import AimosCore
import CNiftiBridge

/// The `aimos` command end to end on a small scan with a tiny committed model.
final class CommandLineTests: XCTestCase {
    let scanPath = Support.fixture("pattern_int16.nii.gz")
    let modelPath = Support.model("unet64_c3_s32_f32_unc.safetensors")

    func testSegmentWritesEveryOutput() throws {
        let dir = try Support.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        func out(_ name: String) -> String { dir.appendingPathComponent(name).path }
        // The fixture is 7 x 6 x 5 voxels, no mouse: its voxel size is confirmed, and its voxel
        // axes are taken as the model's (the engine's default below).
        let spacing = try ScanImage(niftiPath: scanPath).spacing.map { String($0) }.joined(separator: ",")
        let (status, _, stderr) = try Support.run([
            "segment", "--model", modelPath, "--input", scanPath, "--output", out("labels.nii.gz"),
            "--orientation", "none", "--voxel-size", spacing,
            "--probabilities", out("probs.nii.gz"), "--uncertainty", out("unc.nii"), "--volumes", out("volumes.csv"),
            "--preview", out("preview.jpg"), "--itksnap-labels", out("labels.txt"), "--slicer-colors", out("labels.ctbl"),
            "--signal", scanPath, "--quiet"])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertEqual(Support.files(in: dir), ["labels.ctbl", "labels.nii.gz", "labels.txt", "preview.jpg", "probs.nii.gz", "unc.nii", "volumes.csv"])

        // The labels are the engine's answer for the same scan.
        let model = try AimosModel(path: modelPath)
        let scan = try ScanImage(niftiPath: scanPath)
        let expected = try scan.withVolume { try model.segment($0) }
        let written = try ScanImage(niftiPath: out("labels.nii.gz"))
        XCTAssertEqual(written.dims, scan.dims)
        var counts = [0, 0, 0]
        for i in 0..<written.voxelCount {
            XCTAssertEqual(written.intensity(at: i), Double(expected.labels[i]))
            counts[Int(written.intensity(at: i))] += 1
        }
        // Volumes against an independent count of the written file.
        // The signal's comment line, the header, then the rows.
        let lines = try String(contentsOfFile: out("volumes.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("# signal: "))
        let rows = lines.dropFirst(2)
        let voxelMM3 = scan.spacing.reduce(1, *)
        for (c, row) in rows.enumerated() {
            let cells = row.split(separator: ",", omittingEmptySubsequences: false)
            XCTAssertEqual(Int(cells[2]), counts[c])
            XCTAssertEqual(Double(cells[3])!, Double(counts[c]) * voxelMM3, accuracy: 1e-9)
            XCTAssertEqual(Double(cells[4])!, Double(counts[c]) * voxelMM3 / 1000, accuracy: 1e-12)
            XCTAssertEqual(cells.count, 14, "intensity and signal statistics, signal voxels")
            XCTAssertEqual(Int(cells[13]), counts[c], "the signal on the scan's grid: every voxel has a value")
        }
        XCTAssertEqual(rows.count, 3)
        // Probabilities: 4D, one volume per class; uncertainty: 3D; both within [0, 1].
        let probabilities = try ScanImage.header(out("probs.nii.gz"))
        XCTAssertEqual(probabilities, [7, 6, 5, 3])
        XCTAssertEqual(try ScanImage.header(out("unc.nii")), [7, 6, 5])
        // The preview decodes as a JPEG of the layout's size.
        let picture = try RGBImage.readJPEG(out("preview.jpg"))
        XCTAssertEqual(picture.height, 2 * PreviewRenderer.margin + 26 + PreviewRenderer.panelHeight)
        XCTAssertGreaterThan(picture.width, 2 * 40 + 4 * PreviewRenderer.margin)
        XCTAssertTrue(try String(contentsOfFile: out("labels.txt"), encoding: .utf8).contains("\"Brain\""))
        XCTAssertTrue(try String(contentsOfFile: out("labels.ctbl"), encoding: .utf8).contains("\n1 Brain "))

        // `aimos volumes` on the written label map gives the same counts, names from its header.
        let (vs, table, _) = try Support.run(["volumes", out("labels.nii.gz")])
        XCTAssertEqual(vs, 0)
        XCTAssertEqual(table.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1...2].joined(separator: ",") },
                       ["background,\(counts[0])", "Brain,\(counts[1])", "Heart,\(counts[2])"])

        // JSON table, and refusal to replace without --overwrite (the old file kept).
        let (again, _, message) = try Support.run(["segment", "--model", modelPath, "--input", scanPath, "--voxel-size", spacing,
                                                   "--output", out("labels.nii.gz"), "--volumes", out("v.json"), "--quiet"])
        XCTAssertEqual(again, 2)
        XCTAssertTrue(message.contains("exists"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out("v.json")))
        let (replaced, _, _) = try Support.run(["segment", "--model", modelPath, "--input", scanPath, "--output", out("labels.nii.gz"),
                                                "--orientation", "none", "--voxel-size", spacing,
                                                "--volumes", out("v.json"), "--quiet", "--overwrite"])
        XCTAssertEqual(replaced, 0)
        let json = try JSONValue.parse(Array(try String(contentsOfFile: out("v.json"), encoding: .utf8).utf8))
        XCTAssertEqual(json["organs"]?.arrayValue?.map { $0["voxels"]?.int64Value }, counts.map { Int64($0) })
    }

    func testExitCodesNameTheProblem() throws {
        let dir = try Support.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("l.nii.gz").path
        func check(_ arguments: [String], _ code: Int32, _ words: String) throws {
            let (status, _, stderr) = try Support.run(arguments)
            XCTAssertEqual(status, code, "\(arguments): \(stderr)")
            XCTAssertTrue(stderr.contains(words), "\(arguments): \(stderr)")
            XCTAssertEqual(Support.files(in: dir), [], "\(arguments) left files")
        }
        try check(["segment", "--model", modelPath, "--input", scanPath], 1, "--output")
        try check(["segment", "--model", modelPath, "--input", scanPath, "--output", output, "--slice-axis", "5"], 1, "slice-axis")
        try check(["segment", "--model", modelPath, "--input", dir.appendingPathComponent("none.nii").path, "--output", output], 2, "none.nii")
        try check(["segment", "--model", modelPath, "--input", Support.fixture("truncated.nii"), "--output", output], 2, "truncated.nii")
        try check(["segment", "--model", scanPath, "--input", scanPath, "--output", output], 3, "pattern_int16.nii.gz")
        try check(["segment", "--model", Support.model("unet64_c3_s32_f32.safetensors"), "--input", scanPath, "--output", output,
                   "--uncertainty", dir.appendingPathComponent("u.nii").path], 3, "uncertainty")
        try check(["segment", "--model", modelPath, "--input", scanPath, "--output", dir.appendingPathComponent("l.mha").path], 2, ".nii")
        try check(["segment", "--model", modelPath, "--input", scanPath, "--output", output,
                   "--report", dir.appendingPathComponent("r.csv").path], 2, "plausibility report")
    }

    /// --report writes the plausibility report (JSON or text) and prints what it flags;
    /// --model lightsheet names the bundled light-sheet model.
    func testReportAndBundledModelNames() throws {
        let dir = try Support.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        func out(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let spacing = try ScanImage(niftiPath: scanPath).spacing.map { String($0) }.joined(separator: ",")
        let (status, stdout, stderr) = try Support.run([
            "segment", "--model", modelPath, "--input", scanPath, "--output", out("labels.nii.gz"),
            "--orientation", "none", "--voxel-size", spacing, "--report", out("report.json")])
        XCTAssertEqual(status, 0, stderr)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out("report.json")))) as! [String: Any]
        let organs = report["organs"] as! [[String: Any]]
        XCTAssertEqual(organs.map { $0["organ"] as! String }, ["Brain", "Heart"])   // the fixture model's classes
        XCTAssertTrue((report["not_checked"] as! [String]).contains { $0.contains("head-to-tail order") })
        XCTAssertTrue(stdout.contains("plausibility: "), stdout)
        for organ in organs where !(organ["plausible"] as! Bool) {
            XCTAssertTrue(stdout.contains("  \(organ["organ"] as! String): "), "flagged organs are printed: \(stdout)")
        }

        let (infoStatus, info, infoErr) = try Support.run(["info", "lightsheet"])
        XCTAssertEqual(infoStatus, 0, infoErr)
        XCTAssertTrue(info.contains("aimos-lightsheet.safetensors") && info.contains("classes:      7"), info)
    }

    /// Ctrl-C during a long run: exit code 130, and no output (not even a temporary file) left.
    func testInterruptCancelsCleanly() throws {
        let dir = try Support.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A long scan: 4000 slices of 48 x 40 (written with the pattern file's geometry).
        let like = try ScanImage(niftiPath: scanPath)
        let dims = [48, 40, 4000]
        var voxels = [UInt8](repeating: 0, count: dims.reduce(1, *))
        for i in 0..<voxels.count { voxels[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
        let big = dir.appendingPathComponent("big.nii").path
        try voxels.withUnsafeBytes {
            try NiftiOutputWriter.write(scan: like, path: big, datatype: 2, dims: dims, data: $0.baseAddress!,
                                        intent: 0, calMin: 0, calMax: 255, descrip: "test", extensionText: nil)
        }
        let outputs = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Support.executable)
        process.arguments = ["segment", "--model", Support.model("unet64_c3_s32_f32.safetensors"), "--input", big,
                             "--output", outputs.appendingPathComponent("labels.nii.gz").path,
                             "--volumes", outputs.appendingPathComponent("v.csv").path, "--threads", "1",
                             "--orientation", "none", "--voxel-size", "0.2"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(1_500_000)
        XCTAssertTrue(process.isRunning, "the run ended before it could be interrupted")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(Support.files(in: outputs), [])
    }

    func testInfoDescribesTheModel() throws {
        let (status, text, _) = try Support.run(["info", modelPath])
        XCTAssertEqual(status, 0)
        let model = try AimosModel(path: modelPath)
        XCTAssertTrue(text.contains("architecture: Unet64"))
        XCTAssertTrue(text.contains("parameters:   \(model.metadata.parameterCount)"))
        XCTAssertTrue(text.contains("uncertainty:  yes"))
        XCTAssertTrue(text.contains("orientation:  TLD"), text)      // no orientation in the file: the published one
        XCTAssertTrue(text.contains("crop:         none"), text)
        XCTAssertTrue(text.contains("  2: Heart"))
    }
}

extension ScanImage {
    /// The dims of a file (any number of volumes), read through the same bridge.
    static func header(_ path: String) throws -> [Int] {
        guard let image = nb_read(path, nil, 0) else { throw AimosError(.format, "cannot read \(path)") }
        defer { nb_free(image) }
        return (1...Int(nb_ndim(image))).map { Int(nb_dim(image, Int32($0))) }
    }
}
