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
