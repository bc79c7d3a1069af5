import AimosABI
import CAimosHeader
import Foundation
import XCTest

/// The C ABI under concurrent use, as a viewer with many threads uses it: 16 threads segment
/// with one shared model while others load and free models, read results, free handles twice and
/// free a model that segmentations are still using. Run in every `swift test`, and under the
/// AddressSanitizer and ThreadSanitizer builds (Tests/sanitizers/run.sh), where a data race, a
/// use after free or a leak fails it.
final class ABIStressTests: XCTestCase {
    static let modelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../AimosCoreTests/Fixtures/unet64_c3_s32_f32.safetensors").standardized.path
    static let dims = (Int64(36), Int64(28), Int64(6))
    static let voxels: [Float] = (0..<(36 * 28 * 6)).map { i in
        let x = i % 36, y = (i / 36) % 28, z = i / (36 * 28)
        return Float(sin(0.3 * Double(x)) * cos(0.2 * Double(y)) * 100 + Double(z) * 7)
    }

    func load() -> OpaquePointer? {
        var model: OpaquePointer?
        let status = aimos_load_model(Self.modelPath, &model)
        XCTAssertEqual(status, AIMOS_OK, String(cString: aimos_last_error()))
        return model
    }

    /// One segmentation of the test volume: the labels, or the status it failed with.
    static func segment(_ model: OpaquePointer?, threads: Int32) -> (labels: [UInt8]?, status: aimos_status) {
        voxels.withUnsafeBufferPointer { data in
            var volume = aimos_volume()
            aimos_volume_init_sized(&volume, UInt32(MemoryLayout<aimos_volume>.size))
            volume.data = UnsafeRawPointer(data.baseAddress)
            volume.dtype = Int32(AIMOS_DTYPE_FLOAT32.rawValue)
            volume.dims = dims
            volume.spacing_mm = (0.2, 0.2, 0.4)
            var options = aimos_options()
            aimos_options_init_sized(&options, UInt32(MemoryLayout<aimos_options>.size))
            options.orientation = Int32(AIMOS_ORIENTATION_NONE.rawValue)
            options.crop = Int32(AIMOS_CROP_NONE.rawValue)
            options.threads = threads
            var result: OpaquePointer?
            let status = aimos_segment(model, &volume, &options, &result)
            guard status == AIMOS_OK, let result = result else { return (nil, status) }
            defer { aimos_result_free(result) }
            let count = Int(dims.0 * dims.1 * dims.2)
            return (Array(UnsafeBufferPointer(start: aimos_result_labels(result), count: count)), status)
        }
    }

    /// Runs `body(index)` on `count` threads at once and waits for all.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread { body(index); group.leave() }
            thread.stackSize = 4 << 20
            thread.start()
        }
        group.wait()
    }

    func testSixteenSegmentingThreadsWhileOthersLoadAndFree() throws {
        let shared = try XCTUnwrap(load())
        let reference = try XCTUnwrap(Self.segment(shared, threads: 1).labels)
        let failures = Failures()
        let sharedBits = Int(bitPattern: UnsafeRawPointer(shared))
        Self.onThreads(22) { index in
            let shared = OpaquePointer(bitPattern: sharedBits)
            switch index {
            case 0..<16:  // segment with the shared model and read the result
                for round in 0..<3 {
                    let (labels, status) = Self.segment(shared, threads: index % 3 == 0 ? 2 : 1)
                    if labels != reference { failures.add("thread \(index) round \(round): \(status), labels differ") }
                }
            case 16..<19:  // load, query and free models of their own
                for _ in 0..<3 {
                    var model: OpaquePointer?
                    guard aimos_load_model(Self.modelPath, &model) == AIMOS_OK else { failures.add("load failed"); continue }
                    if aimos_model_class_count(model) != 3 || aimos_model_class_name(model, 1) == nil { failures.add("model getters") }
                    aimos_model_free(model)
                    aimos_model_free(model)  // a second free is a no-op
                    if aimos_model_class_count(model) != 0 { failures.add("a freed model still answers") }
                }
            case 19:  // a model freed while its own segmentations run: they finish or get MISUSE
                var model: OpaquePointer?
                guard aimos_load_model(Self.modelPath, &model) == AIMOS_OK else { failures.add("load failed"); return }
                let bits = Int(bitPattern: UnsafeRawPointer(model!))
                Self.onThreads(3) { inner in
                    let model = OpaquePointer(bitPattern: bits)
                    if inner == 0 { usleep(2000); aimos_model_free(model); return }
                    for _ in 0..<3 {
                        let (labels, status) = Self.segment(model, threads: 1)
                        if !(labels == reference || status == AIMOS_ERROR_MISUSE) { failures.add("freed mid-run: \(status)") }
                    }
                }
            default:  // stale and foreign handles: clean errors, never a crash
                for _ in 0..<50 {
                    var model: OpaquePointer? = OpaquePointer(bitPattern: 0x0A10_0000 + 16 * Int.random(in: 1...1000))
                    if aimos_result_labels(model) != nil && aimos_model_class_count(model) == 0 { failures.add("a foreign result") }
                    aimos_free(UnsafeMutableRawPointer(bitPattern: 0xdead_0000))
                    var dims: [Int64] = [0, 0, 0]
                    let status = aimos_result_dims(OpaquePointer(bitPattern: 0xdead_0010), &dims)
                    if status != AIMOS_ERROR_MISUSE { failures.add("foreign result dims: \(status)") }
                    model = nil
                }
            }
        }
        aimos_model_free(shared)
        XCTAssertEqual(failures.messages, [])
    }
}

/// Failures collected from many threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ message: String) { lock.lock(); list.append(message); lock.unlock() }
    var messages: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
