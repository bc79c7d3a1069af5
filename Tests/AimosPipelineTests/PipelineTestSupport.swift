import Foundation
import XCTest
@testable import AimosPipeline
import AimosCore

/// Paths and helpers shared by the pipeline tests.
enum Support {
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let models = repository.appendingPathComponent("Tests/AimosCoreTests/Fixtures")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }
    static func model(_ name: String) -> String { models.appendingPathComponent(name).path }

    /// The value tools/make_nifti_fixtures.py stores at (x, y, z).
    static func pattern(_ x: Int, _ y: Int, _ z: Int) -> Double { Double((x + 7 * y + 42 * z) % 100 - 20) }

    static let dims = [7, 6, 5]

    /// A fresh empty directory.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("aimos-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func files(in directory: URL) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()) ?? []
    }

    /// The `aimos` executable built next to the test bundle.
    static var executable: String {
        var url = Bundle.module.bundleURL.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: url.appendingPathComponent("aimos-cli").path) {
            url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        }
        return url.appendingPathComponent("aimos-cli").path
    }

    /// Runs the aimos command; returns exit status, stdout and stderr.
    static func run(_ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

/// Header fields of an uncompressed .nii file that aimos wrote (little-endian), read from its
/// bytes: the tests' own reader, so the shipped NIfTI bridge carries no test-only functions.
struct RawNiftiHeader {
    let isNifti2: Bool
    let intentCode: Int
    let calMax: Double
    let descrip: String

    init(path: String) throws {
        let b = try FileBytes.read(path: path)
        func int32(_ o: Int) -> Int { Int(Int32(bitPattern: UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24)) }
        func int16(_ o: Int) -> Int { Int(Int16(bitPattern: UInt16(b[o]) | UInt16(b[o + 1]) << 8)) }
        func text(_ o: Int, _ n: Int) -> String { String(decoding: b[o..<o + n].prefix { $0 != 0 }, as: UTF8.self) }
        isNifti2 = int32(0) == 540
        if isNifti2 {  // NIfTI-2: cal_max double at 192, descrip at 240, intent_code int32 at 504
            calMax = b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 192, as: Double.self) }
            descrip = text(240, 80)
            intentCode = int32(504)
        } else {  // NIfTI-1: intent_code int16 at 68, cal_max float at 124, descrip at 148
            calMax = Double(b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 124, as: Float.self) })
            descrip = text(148, 80)
            intentCode = int16(68)
        }
    }
}
