import XCTest
@testable import AimosPipeline
import AimosCore
import CNiftiBridge

/// A signal on its own grid: trilinear resampling through the two world matrices.
final class SignalResamplingTests: XCTestCase {
    /// A float32 image in memory with `affine` (row-major, RAS mm) and voxel values value(i, j, k).
    func image(_ dims: [Int], _ affine: [Double], _ value: (Double, Double, Double) -> Double) throws -> ScanImage {
        let made = try XCTUnwrap(nb_make_float(dims.map(Int64.init), affine, nil, 0))
        let data = nb_mutable_data(made).assumingMemoryBound(to: Float.self)
        for k in 0..<dims[2] { for j in 0..<dims[1] { for i in 0..<dims[0] {
            data[i + dims[0] * (j + dims[1] * k)] = Float(value(Double(i), Double(j), Double(k)))
        } } }
        return try ScanImage(image: made, path: "memory", dicom: nil)
    }

    func testLinearSignalIsReproducedInsideAndEdgeRulesHold() throws {
        // Scan: 1 mm voxels at the origin. Signal: 2 mm voxels, offset 1.5 mm in x, holding the
        // linear function 3x + 2y - z of world position (trilinear interpolation is exact on it).
        let scan = try image([8, 6, 5], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]) { _, _, _ in 0 }
        let signalAffine: [Double] = [2, 0, 0, 1.5, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]
        let world = { (i: Double, j: Double, k: Double) in (2 * i + 1.5, 2 * j, 2 * k) }
        let signal = try image([3, 3, 3], signalAffine) { i, j, k in
            let (x, y, z) = world(i, j, k)
            return 3 * x + 2 * y - z
        }
        let grid = try SignalOnScanGrid(signal: signal, scan: scan, signalPath: "pet")
        XCTAssertTrue(grid.resampled)
        func at(_ x: Int, _ y: Int, _ z: Int) -> Double { grid.value(at: x + 8 * (y + 6 * z)) }
        // Inside the signal's outer voxel centres (x 1.5...5.5, y and z 0...4): exact.
        XCTAssertEqual(at(2, 1, 3), 3 * 2 + 2 * 1 - 3, accuracy: 1e-9)
        XCTAssertEqual(at(5, 4, 0), 3 * 5 + 2 * 4, accuracy: 1e-9)
        // Within half a signal voxel beyond them: the edge value (x = 1 -> x = 1.5; y = 5 -> 4).
        XCTAssertEqual(at(1, 5, 2), 3 * 1.5 + 2 * 4 - 2, accuracy: 1e-9)
        // Beyond (x = 0 is 1.5 mm = 0.75 voxel before the first centre; x = 7 after the last + 1 voxel): no value.
        XCTAssertTrue(at(0, 2, 2).isNaN)
        XCTAssertTrue(at(7, 2, 2).isNaN)
    }

    func testSameGridIsReadVoxelForVoxelAndNoOverlapIsRefused() throws {
        let affine: [Double] = [0.5, 0, 0, 10, 0, 0.5, 0, -3, 0, 0, 0.5, 2, 0, 0, 0, 1]
        let scan = try image([4, 3, 2], affine) { i, _, _ in i }
        let same = try image([4, 3, 2], affine) { i, j, k in i + 10 * j + 100 * k }
        let grid = try SignalOnScanGrid(signal: same, scan: scan, signalPath: "same")
        XCTAssertFalse(grid.resampled)
        XCTAssertEqual(grid.value(at: 1 + 4 * (2 + 3 * 1)), 121)
        var far = affine
        far[11] += 500
        let distant = try image([4, 3, 2], far) { _, _, _ in 1 }
        XCTAssertThrowsError(try SignalOnScanGrid(signal: distant, scan: scan, signalPath: "far.nii")) { error in
            XCTAssertTrue((error as? AimosError)?.message.contains("does not overlap the scan") ?? false, "\(error)")
        }
    }

    func testAffineInverse() throws {
        let m: [Double] = [0, -0.12, 0.01, 10.5, 0.15, 0, 0, -4.25, 0, 0.02, 0.2, 7, 0, 0, 0, 1]
        let inv = try XCTUnwrap(SignalOnScanGrid.inverse(m))
        for r in 0..<4 { for c in 0..<4 {
            let product = (0..<4).reduce(0.0) { $0 + m[4 * r + $1] * inv[4 * $1 + c] }
            XCTAssertEqual(product, r == c ? 1 : 0, accuracy: 1e-12)
        } }
        XCTAssertNil(SignalOnScanGrid.inverse([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]))
    }
}
