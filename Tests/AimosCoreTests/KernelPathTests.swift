import XCTest
@testable import AimosCore
#if canImport(Glibc)
import Glibc
#endif

/// The own kernels against the reference backend (im2col + OpenBLAS) on sizes the golden
/// fixtures do not reach: sides that are not multiples of 4 (direct instead of Winograd),
/// levels narrower than a register tile, a slice split over several threads.
final class KernelPathTests: XCTestCase {
    static let ownPaths = CPUKernelPath.supported.filter { $0 != .reference }

    /// A smooth z-scored-looking input with some noise.
    static func input(size: Int) -> [Float] {
        (0..<(size * size)).map { i in
            let x = Float(i % size), y = Float(i / size)
            return sinf(x * 0.3) + cosf(y * 0.21) + 0.1 * sinf(Float(i) * 12.9898)
        }
    }

    static func forward(_ model: AimosModel, input: [Float], sigmoid: Bool, threads: Int = 1) throws -> [Float] {
        let network = model.networks[0]
        let size = model.metadata.values.inputSize
        let workspace = try network.makeWorkspace(threads: threads)
        var output = [Float](repeating: .nan, count: model.metadata.values.outputChannels * size * size)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                network.forward(input: x.baseAddress!, batch: 1, output: y.baseAddress!, sigmoid: sigmoid, workspace: workspace)
            }
        }
        return output
    }

    static func worstError(_ a: [Float], _ b: [Float], relative: Bool) -> Float {
        zip(a, b).reduce(0) { worst, pair in
            let e = abs(pair.0 - pair.1) / (relative ? max(1, abs(pair.1)) : 1)
            return e.isNaN ? .infinity : max(worst, e)
        }
    }

    func testOwnKernelsMatchTheReferenceAtUnusualSizes() throws {
        XCTAssertTrue(CPUKernelPath.supported.contains(.generic), "the generic path runs everywhere")
        // Unet256 at 112: Winograd at 112, 56, 28; direct at 14 and 7 (narrower than a register tile).
        // Unet128 at 36: Winograd at 36; direct at 18, 9 and 4. Unet64 at 40: 40, 20 and 10.
        for (name, size) in [("Unet256", 112), ("Unet128", 36), ("Unet64", 40)] {
            let architecture = UNetArchitecture.named(name)!
            let reference = try AimosModel(randomWeights: architecture, classes: 5, inputSize: size, kernels: .reference, seed: 7)
            let input = Self.input(size: size)
            let expected = try Self.forward(reference, input: input, sigmoid: false)
            let expectedProbabilities = try Self.forward(reference, input: input, sigmoid: true)
            for path in Self.ownPaths {
                let model = try AimosModel(randomWeights: architecture, classes: 5, inputSize: size, kernels: path, seed: 7)
                XCTAssertEqual(model.kernelPath, path)
                let logits = try Self.forward(model, input: input, sigmoid: false)
                XCTAssertLessThanOrEqual(Self.worstError(logits, expected, relative: true), 1e-4, "\(name) at \(size), \(path) logits")
                let probabilities = try Self.forward(model, input: input, sigmoid: true)
                XCTAssertLessThanOrEqual(Self.worstError(probabilities, expectedProbabilities, relative: false), 1e-5,
                                         "\(name) at \(size), \(path) sigmoid")
            }
        }
    }

    /// Splitting a slice over threads divides the work, not the arithmetic: the same bits.
    func testSplittingASliceOverThreadsGivesTheSameOutput() throws {
        for path in Self.ownPaths {
            let model = try AimosModel(randomWeights: UNetArchitecture.named("Unet128")!, classes: 4, inputSize: 64, kernels: path)
            let input = Self.input(size: 64)
            let one = try Self.forward(model, input: input, sigmoid: true, threads: 1)
            for threads in [2, 3] {
                XCTAssertEqual(try Self.forward(model, input: input, sigmoid: true, threads: threads), one, "\(path), \(threads) threads")
            }
        }
    }

    /// One slice with two threads goes through the split path of the segmenter.
    func testOneSliceOnTwoThreadsMatchesOneThread() throws {
        let model = try AimosModel(randomWeights: UNetArchitecture.named("Unet64")!, classes: 3, inputSize: 32)
        var voxels = Self.input(size: 32)
        try voxels.withUnsafeMutableBytes { raw in
            let volume = try VoxelVolume(data: raw.baseAddress, dtypeRaw: VoxelVolume.DType.float32.rawValue,
                                         dims: [32, 32, 1], spacing: [1, 1, 1])
            let a = try model.segment(volume, options: SegmentationOptions(sliceAxis: 2, threads: 1, keepProbabilities: true))
            let b = try model.segment(volume, options: SegmentationOptions(sliceAxis: 2, threads: 2, keepProbabilities: true))
            XCTAssertEqual(Array(UnsafeBufferPointer(start: a.labels, count: a.voxelCount)),
                           Array(UnsafeBufferPointer(start: b.labels, count: b.voxelCount)))
            XCTAssertEqual(Array(UnsafeBufferPointer(start: a.probabilities[1], count: a.voxelCount)),
                           Array(UnsafeBufferPointer(start: b.probabilities[1], count: b.voxelCount)))
        }
    }

    func testEnvironmentVariableChoosesOrRefusesAPath() throws {
        defer { unsetenv(CPUKernelPath.environmentVariable) }
        setenv(CPUKernelPath.environmentVariable, "generic", 1)
        XCTAssertEqual(try CPUKernelPath.fromEnvironment(), .generic)
        XCTAssertEqual(try AimosModel(randomWeights: UNetArchitecture.named("Unet64")!, classes: 3, inputSize: 32).kernelPath, .generic)
        setenv(CPUKernelPath.environmentVariable, "auto", 1)
        XCTAssertEqual(try CPUKernelPath.fromEnvironment(), CPUKernelPath.best)
        setenv(CPUKernelPath.environmentVariable, "sse9", 1)
        XCTAssertThrowsError(try CPUKernelPath.fromEnvironment()) { error in
            XCTAssertEqual((error as? AimosError)?.kind, .invalidArgument)
            XCTAssertTrue("\(error)".contains("AIMOS_CPU_KERNELS is 'sse9'"), "\(error)")
        }
        XCTAssertThrowsError(try AimosModel(randomWeights: UNetArchitecture.named("Unet64")!, classes: 3, inputSize: 32))
        for path in CPUKernelPath.allCases where !path.isSupported {
            setenv(CPUKernelPath.environmentVariable, path.rawValue, 1)
            XCTAssertThrowsError(try CPUKernelPath.fromEnvironment()) { error in
                XCTAssertEqual((error as? AimosError)?.kind, .unsupported)
                XCTAssertTrue("\(error)".contains("does not support"), "\(error)")
            }
        }
    }

    func testFeatureDetectionIsConsistent() {
        // AVX-512 kernels are compiled with AVX2 and FMA too: a CPU with one has the other.
        if CPUKernelPath.avx512.isSupported { XCTAssertTrue(CPUKernelPath.avx2.isSupported) }
        XCTAssertEqual(CPUKernelPath.best.isSupported, true)
        #if !arch(x86_64)
        XCTAssertEqual(CPUKernelPath.best, .generic)
        #endif
    }

    /// The operation count aimos bench divides by: the 11.7 GMAC for Unet768 at 256,
    /// and the published network's convolutions counted by hand for Unet64 at 256.
    func testMultiplyAccumulateCount() {
        let unet768 = UNetArchitecture.named("Unet768")!.multiplyAccumulates(inputSize: 256, outputChannels: 11)
        XCTAssertEqual(Double(unet768), 11.7e9, accuracy: 0.05e9)
        // Unet64: level 0 (256^2): 1*32 + 32*32 + 64*32 + 32*32 + 32*32; level 1 (128^2): 32*64 + 64*64
        // + 128*32 + 32*32 + 32*32; centre (64^2): 64*64; times 9; plus the 1x1 classifier.
        let byHand = 9 * (65536 * (32 + 1024 + 2048 + 1024 + 1024) + 16384 * (2048 + 4096 + 4096 + 1024 + 1024) + 4096 * 4096)
            + 65536 * 32 * 3
        XCTAssertEqual(UNetArchitecture.named("Unet64")!.multiplyAccumulates(inputSize: 256, outputChannels: 3), byHand)
    }
}
